"""The ads feature's tables: offences (warnings until a red packet excuses them) and owners' samples."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime


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


AD_OFFENCES = AdOffence.__table__
AD_SAMPLES = AdSample.__table__
