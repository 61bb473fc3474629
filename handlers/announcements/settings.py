"""Settings of scheduled announcements: when (a time, a crontab line or the peak hour), on which days, what."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator

from rules.schema import HHMM, Section, cron_days, crontab_trigger, hhmm
from rules.templates import template


class Announcement(Section):
    """A scheduled post: at `time` ("09:00", a five-field cron expression, or "peak": the group's
    busiest hour of the last `peak_days` days) on `days`, one of `texts` (rotating by day)."""

    time: str = "09:00"
    days: str = "*"
    texts: Annotated[tuple[template(), ...], Field(min_length=1)]  # type: ignore[valid-type]
    send_when_silent: bool = False
    silent_days: Annotated[int, Field(gt=0)] = 3  # a group with no event for this long gets nothing
    peak_days: Annotated[int, Field(gt=0, le=90)] = 14
    peak_min_messages: Annotated[int, Field(ge=0)] = 50  # fewer messages than this: peak_fallback
    peak_fallback: str = "21:00"

    @field_validator("texts", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        if value == "peak" or HHMM.match(value):
            return value
        if len(value.split()) == 5:
            try:
                crontab_trigger(value, "UTC")
            except ValueError as exc:
                raise ValueError(f"cron expression {value!r}: {exc}") from None
            return value
        raise ValueError(f"time {value!r} is not HH:MM, 'peak' or a five-field cron expression")

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger(day_of_week=cron_days(value), timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"days {value!r}: {exc} (use *, weekdays, weekends or a cron day field "
                             "such as mon-fri)") from None
        return value

    @field_validator("peak_fallback")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        return hhmm(value)
