"""Settings of topic hours: when the group keeps to its topic, the off-topic words, the reminder."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from rules.schema import Section, hhmm
from rules.templates import template

WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)  # ISO: Monday = 1 … Sunday = 7


def minutes(hh_mm: str) -> int:
    hour, minute = hh_mm.split(":")
    return int(hour) * 60 + int(minute)


class TopicPeriod(Section):
    """Days (ISO weekdays) and local times [from, to) when the group keeps to its topic. A period whose
    `to` is before its `from` runs past midnight (22:00–02:00) and belongs to the day it starts on."""

    model_config = ConfigDict(extra="forbid", frozen=True, serialize_by_alias=True)

    days: tuple[int, ...] = (1, 2, 3, 4, 5)
    from_: str = Field("10:00", alias="from")
    to: str = "18:00"

    @field_validator("days")
    @classmethod
    def _weekdays(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        wrong = [d for d in value if d not in WEEKDAYS]
        if wrong or not value:
            raise ValueError(f"days are ISO weekdays 1 (Monday) to 7 (Sunday), at least one; got {list(value)}")
        return tuple(sorted(set(value)))

    @field_validator("from_", "to")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        return hhmm(value)

    @model_validator(mode="after")
    def _not_empty(self) -> TopicPeriod:
        if self.from_ == self.to:
            raise ValueError(f"the period {self.from_}–{self.to} is empty (from and to are the same)")
        return self

    def contains(self, weekday: int, minute: int) -> bool:
        """Is the local (ISO weekday, minute of the day) inside this period?"""
        start, end = minutes(self.from_), minutes(self.to)
        if start < end:
            return weekday in self.days and start <= minute < end
        yesterday = 7 if weekday == 1 else weekday - 1
        return (weekday in self.days and minute >= start) or (yesterday in self.days and minute < end)

    def facts(self) -> dict[str, Any]:
        return {"days": list(self.days), "from": self.from_, "to": self.to}


class TopicHoursSettings(TopicPeriod):
    """话题时段: inside the hours, an off-topic message gets a light reminder, at most once per cooldown
    per group; `days` / `from` / `to` are the period, or `periods` (a list of them) replaces it."""

    enabled: bool = False  # off unless an owner turns it on (the shipped config.yaml does)
    periods: tuple[TopicPeriod, ...] = ()
    words: tuple[Annotated[str, Field(min_length=1, max_length=40)], ...] = ("约饭", "约球", "八卦")
    # {word}: the word as configured; {from} / {to}: the period's times
    reminder: template("word", "from", "to") = (  # type: ignore[valid-type]
        "小提醒：{from}–{to} 群里先聊正事，「{word}」之类的话题可以私聊或下班后再约哦～"
    )
    mention: bool = False  # true: the reminder @mentions the sender
    cooldown_minutes: Annotated[int, Field(ge=0, le=10_080)] = 60  # at most one reminder per group within it
    max_chars: Annotated[int, Field(gt=0, le=10_000)] = 500  # only the start of a long message is read

    @field_validator("words", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def active_periods(self) -> tuple[TopicPeriod, ...]:
        return self.periods or (self,)

    def period_at(self, weekday: int, minute: int) -> TopicPeriod | None:
        """The period the local (ISO weekday, minute of the day) falls in, or None (outside the hours)."""
        return next((p for p in self.active_periods() if p.contains(weekday, minute)), None)
