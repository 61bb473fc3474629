"""Settings of levels (by points) and activity tiers (by recent activity)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from rules.schema import Section
from rules.templates import template


class LevelsSettings(Section):
    """等级 by points (thresholds) and activity tiers by the last `tier_days` days."""

    enabled: bool = True
    thresholds: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=lambda: {"新手": 0, "活跃": 100, "专家": 500, "忠诚": 2000}
    )
    announce: template("level") = "恭喜 @{user_name} 升级为「{level}」🎉"  # type: ignore[valid-type]
    tier_days: Annotated[int, Field(gt=0)] = 30
    # activity score = messages*message + check-ins*checkin + red packets*red_packet (check-ins are
    # messages too); the tier is the first whose minimum the score reaches, highest first
    tier_weights: dict[Literal["message", "checkin", "red_packet"], Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {"message": 1.0, "checkin": 2.0, "red_packet": 5.0})
    tiers: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {"核心": 60, "活跃": 15, "普通": 1, "沉默": 0})
    my_level_words: tuple[str, ...] = ("我的等级",)
    my_level_reply: template("level", "balance", "next_level", "to_next", "tier", "days") = (  # type: ignore[valid-type]
        "@{user_name} 你的等级「{level}」（{balance} 分），再得 {to_next} 分升为「{next_level}」；"
        "近 {days} 天活跃度：{tier}"
    )
    top_level_reply: template("level", "balance", "tier", "days") = (  # type: ignore[valid-type]
        "@{user_name} 你的等级「{level}」（{balance} 分），已是最高等级👑；近 {days} 天活跃度：{tier}"
    )

    @field_validator("thresholds", "tiers")
    @classmethod
    def _has_floor(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("needs at least one entry")
        if min(value.values()) != 0:
            raise ValueError("the lowest entry must start at 0 (every member has a level)")
        return value

    @field_validator("my_level_words", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value
