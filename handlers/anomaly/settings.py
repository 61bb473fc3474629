"""Settings of the hourly anomaly alerts: baselines, thresholds and the alert texts."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from rules.schema import Section, hhmm
from rules.templates import template


class AnomalySettings(Section):
    """异常提醒, checked hourly against the group's own last `baseline_days` days."""

    enabled: bool = True
    baseline_days: Annotated[int, Field(gt=0, le=90)] = 14
    quiet_ratio: Annotated[float, Field(gt=0, lt=1)] = 0.3  # today so far < 30% of a usual day by this hour
    quiet_min_usual: Annotated[float, Field(ge=0)] = 20  # ... when a usual day has at least this many by now
    quiet_from: str = "12:00"  # not before (a morning says little)
    join_raid_count: Annotated[int, Field(gt=0)] = 10
    join_raid_minutes: Annotated[int, Field(gt=0)] = 5
    ad_spike_ratio: Annotated[float, Field(gt=1)] = 3.0
    ad_spike_min: Annotated[int, Field(gt=0)] = 5
    mass_leave_count: Annotated[int, Field(gt=0)] = 10
    mass_leave_minutes: Annotated[int, Field(gt=0)] = 60
    quiet_text: template("today", "usual", "hour") = (  # type: ignore[valid-type]
        "⚠️【异常】{group_name} 今天格外安静：到 {hour} 点只有 {today} 条消息，平时这个时候约 {usual} 条"
    )
    join_raid_text: template("count", "minutes", "usual", "first", "last") = (  # type: ignore[valid-type]
        "⚠️【异常】{group_name} {first}–{last} {minutes} 分钟内进群 {count} 人（平时每天约 {usual} 人），可能是拉人刷群"
    )
    ad_spike_text: template("today", "usual") = (  # type: ignore[valid-type]
        "⚠️【异常】{group_name} 最近 24 小时拦截广告 {today} 次，平时每天约 {usual} 次"
    )
    mass_leave_text: template("count", "minutes", "usual") = (  # type: ignore[valid-type]
        "⚠️【异常】{group_name} 最近 {minutes} 分钟有 {count} 人退群（平时每天约 {usual} 人）"
    )

    _time = field_validator("quiet_from")(classmethod(lambda cls, v: hhmm(v)))
