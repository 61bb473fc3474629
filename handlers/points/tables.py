"""The points feature's tables: the ledger and the balances (its sums, moved with each row)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime


class PointsEntry(Base):
    """The points ledger: one row per award or deduction; balances are its sums."""

    __tablename__ = "points_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))  # checkin | message | red_packet | grant | deduct
    note: Mapped[str | None] = mapped_column(Text)  # an admin's stated reason
    event_id: Mapped[str | None] = mapped_column(String(256))
    actor: Mapped[str | None] = mapped_column(String(128))  # who granted or deducted
    ts: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_points_ledger_member_ts", "group_id", "user_id", "ts"),
        Index("ix_points_ledger_group_ts", "group_id", "ts"),
    )


class PointsBalance(Base):
    """A member's balance (the ledger's sum, moved by SQL increments with each ledger row) and the
    state of the per-message award: when it last paid and how much it paid on that local day."""

    __tablename__ = "points_balances"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    balance: Mapped[int] = mapped_column(Integer)
    message_day: Mapped[str | None] = mapped_column(String(10))
    message_points: Mapped[int] = mapped_column(Integer, default=0)
    last_message_award_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    top_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # highest level announced (place)

    __table_args__ = (Index("ix_points_balances_group_balance", "group_id", "balance"),
                      {"sqlite_with_rowid": False})


LEDGER = PointsEntry.__table__
BALANCES = PointsBalance.__table__
