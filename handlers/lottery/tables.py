"""The lottery's tables: each draw (its pool fixed at the command, its seed and winners once drawn) and the
messages whose ids made its seed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JsonDoc, UTCDateTime


class LotteryDraw(Base):
    """A draw, keyed by the id of the 抽奖 command's event: pending until its seed is fixed, then drawn."""

    __tablename__ = "lottery_draws"

    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    wanted: Mapped[int] = mapped_column(Integer)  # winners asked for
    days: Mapped[int] = mapped_column(Integer)
    pool: Mapped[list[str]] = mapped_column(JsonDoc)  # the member ids who could win, sorted
    pool_digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the ids joined by "\n"
    seed_messages: Mapped[int] = mapped_column(Integer)  # messages awaited
    status: Mapped[str] = mapped_column(String(8))  # pending | drawn
    seed: Mapped[str | None] = mapped_column(String(64))
    winners: Mapped[list[str] | None] = mapped_column(JsonDoc)  # in draw order
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_lottery_draws_group_status", "group_id", "status"),)


class LotterySeedEvent(Base):
    """A message that followed a draw's command: its id is part of the draw's seed."""

    __tablename__ = "lottery_seed_events"

    draw_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1, 2, … in the order they were handled
    event_id: Mapped[str] = mapped_column(String(256))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)


DRAWS = LotteryDraw.__table__
SEED_EVENTS = LotterySeedEvent.__table__
