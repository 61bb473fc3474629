"""Settings of the lottery (抽奖): who may win, how the seed is fixed, and every text."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator

from rules.schema import Section
from rules.templates import template

_DRAW = ("count", "pool", "days", "messages", "minutes")


class LotterySettings(Section):
    """抽奖 N [D天]: an admin draws N winners among the members who spoke in the last D days."""

    enabled: bool = True
    words: tuple[str, ...] = ("抽奖",)
    day_word: Annotated[str, Field(min_length=1, max_length=4)] = "天"  # 抽奖 3 7天
    default_days: Annotated[int, Field(ge=1, le=365)] = 7
    max_days: Annotated[int, Field(ge=1, le=365)] = 90
    max_winners: Annotated[int, Field(ge=1, le=500)] = 100
    # the seed: the command's event id and the ids of the next seed_messages messages in the group; when
    # fewer come within max_wait_minutes, whatever arrived (the result says how many)
    seed_messages: Annotated[int, Field(ge=1, le=50)] = 3
    max_wait_minutes: Annotated[int, Field(ge=1, le=1440)] = 10
    max_mentions: Annotated[int, Field(ge=1, le=100)] = 20  # winners past it are named without an @
    started_text: template(*_DRAW) = (  # type: ignore[valid-type]
        "🎁 抽奖开始：最近 {days} 天发过言的 {pool} 位成员里抽 {count} 人（管理员不参加）。"
        "等接下来 {messages} 条消息（最多 {minutes} 分钟）后开奖：结果由这些消息决定，谁也没法提前知道"
    )
    result_text: template(*_DRAW, "winners", "all_win", "seed", "digest", "draw") = (  # type: ignore[valid-type]
        "🎉 开奖啦！{pool} 人里抽 {count} 人，恭喜 {winners}{all_win}\n"
        "种子 {seed}（由抽奖命令和之后 {messages} 条消息算出），名单摘要 {digest}，"
        "可用 qunbot lottery-verify --event {draw} 复核"
    )
    all_win_text: template("count", "pool") = "（符合条件的只有 {pool} 人，全部中奖）"  # type: ignore[valid-type]
    empty_reply: template("days") = (  # type: ignore[valid-type]
        "最近 {days} 天没有可以中奖的成员（管理员、运营和机器人不参加），这次不抽了"
    )
    busy_reply: template("count", "pool") = (  # type: ignore[valid-type]
        "上一轮抽奖（{pool} 人里抽 {count} 人）还在等开奖，开奖后再发起新的"
    )
    usage_reply: template("max_winners", "max_days", "days") = (  # type: ignore[valid-type]
        "用法：抽奖 人数 [天数天]，如「抽奖 3」或「抽奖 3 14天」：在最近几天（默认 {days} 天）发过言的成员里抽，"
        "最多 {max_winners} 人、{max_days} 天"
    )
    refused_reply: template() = "@{user_name} 只有管理员可以发起抽奖"  # type: ignore[valid-type]

    @field_validator("words", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value
