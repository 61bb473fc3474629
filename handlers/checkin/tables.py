"""The check-in feature's tables: one row per member and local day, and a counter per group and day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime


class Checkin(Base):
    """One member's check-in on one local day (the primary key makes it once a day)."""

    __tablename__ = "checkins"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    local_date: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD in the bot's time zone
    rank: Mapped[int] = mapped_column(Integer)
    streak: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    event_id: Mapped[str | None] = mapped_column(String(256))

    __table_args__ = (
        UniqueConstraint("group_id", "local_date", "rank", name="uq_checkins_group_day_rank"),
        Index("ix_checkins_group_ts_user", "group_id", "ts", "user_id"),  # the tiers count a time window
    )


class CheckinDay(Base):
    """How many members of a group checked in on a local day (ranks come from this counter)."""

    __tablename__ = "checkin_days"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    local_date: Mapped[str] = mapped_column(String(10), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


CHECKINS = Checkin.__table__
CHECKIN_DAYS = CheckinDay.__table__
