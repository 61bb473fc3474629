"""The shop's tables: each group's units sold per item (stock is the config's, minus these), and every
redemption with its status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime


class ShopSold(Base):
    """Units of an item given out in a group (moved by SQL increments that never pass the stock)."""

    __tablename__ = "shop_sold"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    item: Mapped[str] = mapped_column(String(64), primary_key=True)
    sold: Mapped[int] = mapped_column(Integer)


class ShopRedemption(Base):
    """A member's redemption: pending until an admin confirms it (or refuses it, refunding the points)."""

    __tablename__ = "shop_redemptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    item: Mapped[str] = mapped_column(String(64))
    cost: Mapped[int] = mapped_column(Integer)
    took_unit: Mapped[int] = mapped_column(Integer)  # 1: a unit of stock was taken (a refusal gives it back)
    status: Mapped[str] = mapped_column(String(16))  # pending | confirmed | refused
    event_id: Mapped[str | None] = mapped_column(String(256))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_shop_redemptions_member_ts", "group_id", "user_id", "ts"),)


SHOP_SOLD = ShopSold.__table__
REDEMPTIONS = ShopRedemption.__table__
