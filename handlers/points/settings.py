"""Settings of points: awards, the members' and owners' commands and their replies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from rules.schema import Section
from rules.templates import template


class PointsSettings(Section):
    """积分: awards for messages and red packets, member boards and owners' grants."""

    enabled: bool = True
    message_points: Annotated[int, Field(ge=0)] = 1
    message_cooldown_seconds: Annotated[int, Field(ge=0)] = 60
    message_min_length: Annotated[int, Field(ge=0)] = 5  # letters, digits and CJK; emoji and "1" earn nothing
    message_daily_cap: Annotated[int, Field(ge=0)] = 20
    red_packet_points: Annotated[int, Field(ge=0)] = 10
    reasons: dict[str, str] = Field(default_factory=lambda: {
        "checkin": "签到", "message": "发言", "red_packet": "红包", "grant": "加分", "deduct": "扣分",
        "shop": "兑换", "shop_refund": "兑换退回"})
    my_points_words: tuple[str, ...] = ("我的积分",)
    my_points_reply: template("balance", "today", "week", "place", "level") = (  # type: ignore[valid-type]
        "@{user_name} 你有 {balance} 分（今日 {today}，本周 {week}），群内第 {place} 名，等级「{level}」"
    )
    # board words -> period: today | week | all
    board_words: dict[str, Literal["today", "week", "all"]] = Field(default_factory=lambda: {
        "积分榜": "all", "总积分榜": "all", "今日积分榜": "today", "本周积分榜": "week"})
    period_names: dict[str, str] = Field(default_factory=lambda: {"today": "今日", "week": "本周", "all": "总"})
    board_title: template("period") = "🏆 {period}积分榜"  # type: ignore[valid-type]
    board_line: template("place", "name", "points") = "{place}. {name} {points} 分"  # type: ignore[valid-type]
    board_own: template("place", "points") = "@{user_name} 你排第 {place} 名（{points} 分）"  # type: ignore[valid-type]
    board_own_none: template() = "@{user_name} 你还没有得分，发「签到」试试～"  # type: ignore[valid-type]
    board_empty: template("period") = "{period}还没有人得分，发「签到」开始吧～"  # type: ignore[valid-type]
    board_size: Annotated[int, Field(gt=0, le=50)] = 10
    # owners' commands (admins and operators of the group): 加分 @某人 10 理由 / 扣分 @某人 5 理由 / 积分明细 @某人
    grant_words: tuple[str, ...] = ("加分",)
    deduct_words: tuple[str, ...] = ("扣分",)
    ledger_words: tuple[str, ...] = ("积分明细",)
    max_grant: Annotated[int, Field(gt=0)] = 10_000
    grant_reply: template("target_name", "delta", "reason", "balance") = (  # type: ignore[valid-type]
        "已给 {target_name} 加 {delta} 分（{reason}），现有 {balance} 分"
    )
    deduct_reply: template("target_name", "delta", "reason", "balance") = (  # type: ignore[valid-type]
        "已给 {target_name} 扣 {delta} 分（{reason}），现有 {balance} 分"
    )
    usage_reply: template() = (  # type: ignore[valid-type]
        "用法：加分 @某人 10 理由 ｜ 扣分 @某人 5 理由 ｜ 积分明细 @某人"
    )
    unknown_member_reply: template("target_name") = "群里没找到 {target_name}，请 @ 对方再试"  # type: ignore[valid-type]
    not_allowed_reply: template() = (  # type: ignore[valid-type]
        "@{user_name} 抱歉，只有群主和管理员可以加减积分哦"
    )
    ledger_title: template("target_name", "balance") = "{target_name} 的积分明细（共 {balance} 分）："  # type: ignore[valid-type]
    ledger_line: template("at", "delta", "reason", "note") = "{at} {delta} {reason}{note}"  # type: ignore[valid-type]
    ledger_note: template("note") = "（{note}）"  # type: ignore[valid-type]
    ledger_empty: template("target_name") = "{target_name} 还没有积分记录"  # type: ignore[valid-type]
    ledger_size: Annotated[int, Field(gt=0, le=50)] = 10

    @field_validator("my_points_words", "grant_words", "deduct_words", "ledger_words", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value
