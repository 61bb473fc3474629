"""Settings of ad policing: the prompts, warnings, removal, checks and thresholds, QR codes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from rules.schema import Section
from rules.templates import template

PolicyChoice = Literal["prompt", "allow", "admins_only"]


class QrCodeSettings(Section):
    """QR codes in images (decoded with zxing-cpp in worker threads). Every QR code is an ad — group
    invitations, personal contacts, payment and mini-program codes included — except the exact
    contents listed in `allow_urls` (this group's own invitation, say). Never all invitations."""

    enabled: bool = True
    allow_urls: tuple[str, ...] = ()
    max_bytes: Annotated[int, Field(gt=0)] = 10 * 1024 * 1024
    max_pixels: Annotated[int, Field(gt=0)] = 40_000_000

    @model_validator(mode="before")
    @classmethod
    def _removed_keys(cls, value: Any) -> Any:
        if isinstance(value, dict) and ("allow_group_invite" in value or "allow" in value):
            raise ValueError("qrcode.allow and qrcode.allow_group_invite were removed (they let other groups' "
                             "invitations through): list this group's own QR contents in qrcode.allow_urls")
        return value

    @field_validator("allow_urls", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def allows(self, content: str) -> bool:
        """Whether a decoded QR content is one the owner listed (compared without surrounding spaces)."""
        return content.strip() in {u.strip() for u in self.allow_urls}


class AdsSettings(Section):
    """Ad policing: the red-packet prompt, warnings, removal; see handlers/ads/."""

    enabled: bool = True
    prompt: template("kind", "warnings", "max_warnings") = (  # type: ignore[valid-type]
        "@{user_name} 发广告要发红包哦～ 群规：广告先发红包，否则会被请出群"
    )
    final_warning: template("kind", "warnings", "max_warnings") = (  # type: ignore[valid-type]
        "@{user_name} 发广告要发红包哦～ 这是第 {warnings} 次广告提醒了，再发就要请你出群了"
    )
    thanks: template() = "谢谢 @{user_name} 的红包🧧 这次的广告就算啦～"  # type: ignore[valid-type]
    removal_notice: template("warnings") = (  # type: ignore[valid-type]
        "{user_name} 多次发广告（{warnings} 次），已请出群"
    )
    # said in the group when the platform refused the removal (the bot is not the owner or an admin)
    removal_failed_notice: template("warnings") = (  # type: ignore[valid-type]
        "{user_name} 多次发广告（{warnings} 次），机器人未能移出，已通知管理员手动处理"
    )
    removed_action: str = "已移出群"  # {action} of the operators' report, after the platform said yes
    removal_failed_action: str = "未能移出（机器人不是群主或管理员），请手动移出"  # ... and when it said no
    report: template("kind", "warnings", "evidence", "action") = (  # type: ignore[valid-type]
        "【广告】群「{group_name}」的 {user_name} 第 {warnings} 次发广告（{kind}）：{evidence}\n处理：{action}"
    )
    flood_warning: template("count") = "@{user_name} 一分钟内发了 {count} 条消息，请不要刷屏哦"  # type: ignore[valid-type]
    flood_report: template("count", "evidence") = (  # type: ignore[valid-type]
        "【刷屏】群「{group_name}」的 {user_name} 一分钟内发了 {count} 条消息：{evidence}"
    )
    raid_warning: template("count") = "⚠️ {count} 位新成员发了同样的内容，已通知管理员"  # type: ignore[valid-type]
    raid_report: template("count", "evidence", "members") = (  # type: ignore[valid-type]
        "【疑似拉群广告】群「{group_name}」{count} 位新成员发了同样的内容：{evidence}\n成员：{members}"
    )
    red_packet_window_minutes: Annotated[int, Field(gt=0)] = 10
    max_warnings: Annotated[int, Field(gt=0)] = 3
    warning_days: Annotated[int, Field(gt=0)] = 30
    on_limit: Literal["kick", "report"] = "kick"
    allow_domains: tuple[str, ...] = ()
    allow_members: tuple[str, ...] = ()
    links: PolicyChoice = "prompt"
    mini_programs: PolicyChoice = "prompt"
    contact_cards: PolicyChoice = "prompt"
    pitch_words: dict[str, float] = Field(default_factory=dict)
    threshold: Annotated[float, Field(gt=0)] = 1.0
    new_member_minutes: Annotated[int, Field(ge=0)] = 30
    new_member_threshold: Annotated[float, Field(gt=0)] = 0.6
    chat_model: bool = True  # the classifier check also asks the chat model (handlers/ads/chat_training.py)
    cross_group_minutes: Annotated[int, Field(ge=0)] = 10  # the same text in other groups within: 0 = off
    cross_group_weight: Annotated[float, Field(ge=0)] = 0.4  # added per other group (at most twice)
    ad_name_weight: Annotated[float, Field(ge=0)] = 0.4  # added when the sender's display name is an ad
    qrcode: QrCodeSettings = QrCodeSettings()
    flood_messages_per_minute: Annotated[int, Field(gt=0)] = 15
    raid_new_members: Annotated[int, Field(ge=2)] = 3
    raid_window_minutes: Annotated[int, Field(gt=0)] = 10
