"""Tables. Times are stored as naive UTC and read back as aware UTC (see UTCDateTime)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, MetaData, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC, so SQLite and PostgreSQL compare and sort alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class RawJSON(str):
    """A document already serialised to JSON text (the bulk path stores it as it is)."""


class JsonDoc(TypeDecorator[Any]):
    """JSON that may also be given as RawJSON text."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return json.loads(value) if isinstance(value, RawJSON) else value


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


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
    message_count: Mapped[int] = mapped_column(Integer, default=0)
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


class AdOffence(Base):
    """An ad the bot prompted about; it counts as a warning unless a red packet excused it."""

    __tablename__ = "ad_offences"

    event_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    check: Mapped[str] = mapped_column(String(64))
    evidence: Mapped[str] = mapped_column(Text)
    excused_by: Mapped[str | None] = mapped_column(String(256))  # the red packet's event id

    __table_args__ = (Index("ix_ad_offences_member_ts", "group_id", "user_id", "ts"),)


class AdSample(Base):
    """An owner's decision on a message (/ad or /notad), for retraining the text classifier."""

    __tablename__ = "ad_samples"

    event_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(8))  # ad | ham
    group_id: Mapped[str | None] = mapped_column(String(128))
    decided_by: Mapped[str | None] = mapped_column(String(128))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)


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
    top_level: Mapped[int] = mapped_column(Integer, default=0)  # the highest level announced (its place)

    __table_args__ = (Index("ix_points_balances_group_balance", "group_id", "balance"),
                      {"sqlite_with_rowid": False})
