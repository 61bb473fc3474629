"""The poll's tables: each poll (its options, deadline and result) and every vote, replaced ones kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JsonDoc, UTCDateTime


class PollRow(Base):
    """A poll, keyed by the id of the event that opened it: open until its deadline or an admin's 结束投票."""

    __tablename__ = "polls"

    id: Mapped[str] = mapped_column(String(256), primary_key=True)  # the 投票 command's event id
    group_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(128))
    options: Mapped[list[str]] = mapped_column(JsonDoc)  # option texts, in order (option n is options[n-1])
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(8))  # open | closed
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(128))  # the admin; null: the deadline
    counts: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)  # option text -> votes, as published
    winner: Mapped[str | None] = mapped_column(String(128))  # null: a tie (or no votes)

    __table_args__ = (Index("ix_polls_group_status", "group_id", "status"),)


class PollVote(Base):
    """One vote, keyed by its event: a member's later vote in the same poll replaces it (`replaced_by`)."""

    __tablename__ = "poll_votes"

    event_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    poll_id: Mapped[str] = mapped_column(String(256))
    group_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    choice: Mapped[int] = mapped_column(Integer)  # 1-based option number
    option: Mapped[str] = mapped_column(String(128))  # its text, for the audit
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    replaced_by: Mapped[str | None] = mapped_column(String(256))  # the event of the member's next vote
    confirmed: Mapped[int] = mapped_column(Integer)  # 1: confirmed in the group (or needs no confirmation)

    __table_args__ = (Index("ix_poll_votes_poll_user", "poll_id", "user_id"),)


POLLS = PollRow.__table__
VOTES = PollVote.__table__
