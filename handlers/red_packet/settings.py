"""Settings of the red-packet feature: the merged thanks and the 红包榜 / 红包周榜 boards."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from rules.schema import Section
from rules.templates import template

Period = Literal["today", "week"]


class RedPacketSettings(Section):
    """红包: a thank-you for red packets (several within a window, one message) and the boards."""

    enabled: bool = True  # false: no thanks and no boards (their words stay ordinary chat)
    # {user_name}: the senders' names joined by " @" (so "@{user_name}" mentions each), then `thanks_more`
    # past the cap; {count}: how many members sent, {packets}: how many red packets. "" turns thanks off.
    thanks: template("count", "packets") = "谢谢 @{user_name} 的红包🧧"  # type: ignore[valid-type]
    # red packets within this many seconds of the first one get one thanks (0: each thanked at once)
    thanks_window_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    thanks_max_mentions: Annotated[int, Field(ge=1, le=100)] = 20
    thanks_more: template("count") = "等 {count} 人"  # type: ignore[valid-type]
    # board words -> period: today (the local day) | week (the last 7 local days, today included)
    board_words: dict[str, Period] = Field(default_factory=lambda: {
        "红包榜": "today", "今日红包榜": "today", "红包周榜": "week", "本周红包榜": "week"})
    period_names: dict[str, str] = Field(default_factory=lambda: {"today": "今日", "week": "近 7 天"})
    board_title: template("period") = "🧧 {period}红包榜"  # type: ignore[valid-type]
    board_line: template("place", "name", "count") = "{place}. {name} {count} 个"  # type: ignore[valid-type]
    board_own: template("place", "count", "period") = (  # type: ignore[valid-type]
        "@{user_name} 你排第 {place} 名（{count} 个）"
    )
    board_own_none: template("period") = "@{user_name} 你{period}还没有发红包～"  # type: ignore[valid-type]
    board_empty: template("period") = "{period}还没有人发红包，来发第一个吧🧧"  # type: ignore[valid-type]
    board_size: Annotated[int, Field(gt=0, le=50)] = 10
