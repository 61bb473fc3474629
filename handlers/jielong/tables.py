"""The 接龙 tables: each chain (a group's 接龙 under one title) and its lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime


class JielongChain(Base):
    """A group's 接龙 under one title, from the first copy the bot saw until it ends (expire_days after it
    started, or an admin's 结束接龙, or when too many are open in the group)."""

    __tablename__ = "jielong_chains"

    id: Mapped[str] = mapped_column(String(256), primary_key=True)  # the id of the event of its first copy
    group_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(100))
    title_key: Mapped[str] = mapped_column(String(64))  # the title as compared (rules.normalize.command_form)
    example: Mapped[str | None] = mapped_column(String(500))
    started_by: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(128))  # an admin's id, or "limit"

    __table_args__ = (Index("ix_jielong_chains_group_title", "group_id", "title_key"),)


class JielongEntry(Base):
    """One line of a chain: the member it is attributed to, its text, its place in the list, its status
    (ok: counted; dup: a member's repeated line; cancelled: taken out with 取消接龙 or by its member)."""

    __tablename__ = "jielong_entries"

    chain_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)  # its id within the chain
    pos: Mapped[int] = mapped_column(Integer)  # its place in list order
    user_id: Mapped[str] = mapped_column(String(128))
    user_name: Mapped[str | None] = mapped_column(String(256))
    content: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_id: Mapped[str | None] = mapped_column(String(256))


CHAINS = JielongChain.__table__
ENTRIES = JielongEntry.__table__
