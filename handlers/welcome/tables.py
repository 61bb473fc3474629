"""The welcome feature's tables: each member's rename reminders in a group (how many, when), and the
members queued for the group's next batched welcome or reminder."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime


class RenameReminder(Base):
    """Rename reminders sent to a member in a group: at most one, and one follow-up after some days."""

    __tablename__ = "rename_reminders"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    first_on: Mapped[str] = mapped_column(String(10))  # local date of the first reminder
    last_on: Mapped[str] = mapped_column(String(10))
    count: Mapped[int] = mapped_column(Integer)
    # 1: asked, not thanked yet (a fitting rename is thanked once), the follow-up still to come; 0: thanked,
    # or the follow-up closed (the member renamed unseen or left)
    open: Mapped[int] = mapped_column(Integer)


RENAME_REMINDERS = RenameReminder.__table__


class WelcomeQueued(Base):
    """A member to welcome (a newcomer) or to remind to rename in the group's next batched message;
    one row per member, deleted when that message goes out (so a restart loses none)."""

    __tablename__ = "welcome_queue"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_name: Mapped[str | None] = mapped_column(String(256))
    welcome: Mapped[int] = mapped_column(Integer)  # 1: a newcomer to welcome
    remind: Mapped[int] = mapped_column(Integer)  # 1: a rename reminder is due
    inviter: Mapped[str | None] = mapped_column(String(128))
    event_id: Mapped[str] = mapped_column(String(256))  # the event that queued the member first
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)


WELCOME_QUEUE = WelcomeQueued.__table__
