"""The welcome feature's table: each member's rename reminders in a group (how many, when)."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class RenameReminder(Base):
    """Rename reminders sent to a member in a group: at most one, and one follow-up after some days."""

    __tablename__ = "rename_reminders"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    first_on: Mapped[str] = mapped_column(String(10))  # local date of the first reminder
    last_on: Mapped[str] = mapped_column(String(10))
    count: Mapped[int] = mapped_column(Integer)
    open: Mapped[int] = mapped_column(Integer)  # 1: asked and not thanked yet (a fitting rename is thanked once)


RENAME_REMINDERS = RenameReminder.__table__
