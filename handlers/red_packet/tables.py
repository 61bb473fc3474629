"""The red-packet feature's table: red packets waiting for the group's merged thank-you."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime


class RedPacketQueued(Base):
    """A red packet to thank in the group's next thanks message; deleted when that message is made
    (so a restart loses none and none is thanked twice)."""

    __tablename__ = "red_packet_queue"

    event_id: Mapped[str] = mapped_column(String(256), primary_key=True)  # the red packet's event
    group_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    user_name: Mapped[str | None] = mapped_column(String(256))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_red_packet_queue_group_queued", "group_id", "queued_at"),)


RED_PACKET_QUEUE = RedPacketQueued.__table__
