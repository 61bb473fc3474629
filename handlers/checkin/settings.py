"""Settings of the daily check-in: trigger words, points, replies, boards and an optional window."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from rules.schema import Section, hhmm
from rules.templates import template

_CHECKIN_RATE_FIELDS = ("rate", "count", "members", "yesterday_rate", "campaign")
_CHECKIN_FIELDS = ("rank", "streak", "points", "balance", *_CHECKIN_RATE_FIELDS)


class CheckinWindow(Section):
    start: str
    end: str
    outside_reply: template("start", "end") = (  # type: ignore[valid-type]
        "@{user_name} 现在不在打卡时间（{start}–{end}）哦"
    )

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        return hhmm(value)

    @model_validator(mode="after")
    def _not_empty(self) -> CheckinWindow:
        if self.start == self.end:
            raise ValueError(f"the window {self.start}–{self.end} is empty (start and end are the same)")
        return self


class CheckinSettings(Section):
    """签到: the daily check-in, its replies and its boards."""

    enabled: bool = True
    # exact words after normalisation ("签到！", "签 到" count; "昨天忘了签到" does not)
    triggers: tuple[str, ...] = ("签到", "打卡", "早安打卡")
    base_points: Annotated[int, Field(ge=0)] = 5
    streak_bonus: Annotated[int, Field(ge=0)] = 1  # per day of streak after the first
    streak_bonus_cap: Annotated[int, Field(ge=0)] = 10
    reply: template(*_CHECKIN_FIELDS) = (  # type: ignore[valid-type]
        "@{user_name} 签到成功✅ 今日第 {rank} 名，连续 {streak} 天，+{points} 分，共 {balance} 分。今日签到率 {rate}"
    )
    already_reply: template("rank", "streak", "balance", "rate") = (  # type: ignore[valid-type]
        "@{user_name} 今天已经签过啦（第 {rank} 名），明天再来～"
    )
    window: CheckinWindow | None = None  # e.g. 早起打卡: only 05:00–10:00 counts
    # {campaign}: the other groups sharing a tag with this one, each as campaign_item, joined by "、"
    campaign_item: template("name", "rate") = "{name} {rate}"  # type: ignore[valid-type]
    board_words: tuple[str, ...] = ("签到榜",)
    board_title: template("count", "members", "rate") = (  # type: ignore[valid-type]
        "📋 今日签到榜 {date}（{count} 人，签到率 {rate}）"
    )
    board_line: template("rank", "name", "at", "streak") = "{rank}. {name} {at}"  # type: ignore[valid-type]
    board_empty: template() = "今天还没有人签到，发「签到」抢第一名！"  # type: ignore[valid-type]
    streak_words: tuple[str, ...] = ("连续签到榜",)
    streak_title: template() = "🔥 连续签到榜"  # type: ignore[valid-type]
    streak_line: template("place", "name", "streak") = "{place}. {name} 连续 {streak} 天"  # type: ignore[valid-type]
    streak_empty: template() = "最近还没有人连续签到～"  # type: ignore[valid-type]
    rate_words: tuple[str, ...] = ("签到率",)
    rate_reply: template(*_CHECKIN_RATE_FIELDS) = (  # type: ignore[valid-type]
        "今日签到 {count}/{members} 人，签到率 {rate}（昨天 {yesterday_rate}）"
    )
    rate_campaign_reply: template(*_CHECKIN_RATE_FIELDS) = (  # type: ignore[valid-type]
        "今日签到 {count}/{members} 人，签到率 {rate}（昨天 {yesterday_rate}）｜同期各群：{campaign}"
    )
    board_size: Annotated[int, Field(gt=0, le=50)] = 10

    @field_validator("triggers", "board_words", "streak_words", "rate_words", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value
