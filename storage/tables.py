"""The tables every feature shares: groups, members (the roster), events, actions (the audit log and
the durable outbox), job runs and the timers handlers set."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JsonDoc, UTCDateTime


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(256))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_active_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Member(Base):
    __tablename__ = "members"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(256))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reminded_on: Mapped[str | None] = mapped_column(String(10))  # local date of the last rename reminder

    # SQLite keeps the rows in key order (a group's members together); see migration 0005
    __table_args__ = (Index("ix_members_group_last_active", "group_id", "last_active_at"),
                      {"sqlite_with_rowid": False})


class EventRow(Base):
    """Every event the bot handled; the primary key is the platform's event id (idempotency)."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    group_id: Mapped[str | None] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # type and user in the index: the reports count a group's messages by time, type and member
    # without reading the rows
    __table_args__ = (Index("ix_events_group_ts_type_user", "group_id", "ts", "type", "user_id"),)


class ActionRow(Base):
    """The audit log and the durable outbox: one row per action or note, with its delivery state."""

    __tablename__ = "actions"

    id: Mapped[str] = mapped_column(String(300), primary_key=True)  # "<event id>#<n>" or "job:...#<n>"
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    event_id: Mapped[str | None] = mapped_column(String(256), index=True)
    action: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(200))
    group_id: Mapped[str | None] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    body: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed | expired | note
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_actions_status", "status"),
        Index("ix_actions_group_rule_ts", "group_id", "rule", "ts"),
    )


class JobRun(Base):
    """A scheduled job that ran at one due instant (so a replay or restart does not run it twice)."""

    __tablename__ = "job_runs"

    job_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class TimerRow(Base):
    """A timer a handler or job set, pending until it fires (its row goes in the commit of its run), so a
    restart schedules it again. One per (feature, key): setting a pending key again keeps this one."""

    __tablename__ = "timers"

    feature: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GroupLease(Base):
    """Several accounts on one database (bot/fleet/): which account serves a group, until when. A
    lease is claimed when free, expired or already this account's, and renewed while the account runs."""

    __tablename__ = "group_leases"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobClaim(Base):
    """Several processes on one database: a scheduled job's instant claimed before it runs, for one
    group (`scope` = the group id) or as a whole (`scope` = ""), so it runs once across processes."""

    __tablename__ = "job_claims"

    job_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


GROUP_LEASES = GroupLease.__table__
JOB_CLAIMS = JobClaim.__table__
GROUPS = Group.__table__
MEMBERS = Member.__table__
EVENTS = EventRow.__table__
ACTIONS = ActionRow.__table__
JOB_RUNS = JobRun.__table__
TIMERS = TimerRow.__table__

# events that count as activity (a message in the broad sense): the reports and tiers count them
ACTIVITY_TYPES = frozenset({"text", "image", "link", "mini_program", "contact_card", "red_packet", "media"})
ROSTER_LEAVE = "roster-leave:"  # the id prefix of leaves found by a roster (see Members.sync_roster)
