"""The 扣1 tables: each roll call (a group's window) and who answered it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime


class RollCall(Base):
    """A roll call an admin opened in a group, open until `ends_at` (its end is a timer)."""

    __tablename__ = "roll_calls"

    id: Mapped[str] = mapped_column(String(256), primary_key=True)  # the id of the event that opened it
    group_id: Mapped[str] = mapped_column(String(128))
    opened_by: Mapped[str] = mapped_column(String(128))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when its summary went
    text: Mapped[str] = mapped_column(String(100))  # the start of the admin's message (for the summary)

    __table_args__ = (Index("ix_roll_calls_group_opened", "group_id", "opened_at"),)


class RollCallAnswer(Base):
    """A member's answer to a roll call: one row per member, the first answer."""

    __tablename__ = "roll_call_answers"

    call_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_id: Mapped[str | None] = mapped_column(String(256))


ROLL_CALLS = RollCall.__table__
ANSWERS = RollCallAnswer.__table__
