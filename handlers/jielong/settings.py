"""Settings of 接龙: the words that mark a copy and name the commands, the bounds on what members
send, and every reply."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator

from rules.schema import Section
from rules.templates import template

_CHAIN = ("title", "count", "state")  # fields of every answer about one chain
CSV_COLUMNS = ("序号", "成员id", "群昵称", "内容", "时间")


class JielongSettings(Section):
    """接龙: members' copies of WeChat's 接龙 text kept per group and title; admins count and export."""

    enabled: bool = True
    # a copy's first line (after normalisation: "＃接龍" is "#接龙"); "#接龙 标题" on one line works too
    start_words: tuple[str, ...] = ("#接龙",)
    example_prefixes: tuple[str, ...] = ("例",)  # the example line before the numbered lines
    stats_words: tuple[str, ...] = ("接龙统计",)  # admins: 接龙统计 [标题]
    export_words: tuple[str, ...] = ("接龙导出",)  # admins: the list as CSV by direct message
    end_words: tuple[str, ...] = ("结束接龙",)  # admins: 结束接龙 [标题]
    cancel_words: tuple[str, ...] = ("取消接龙",)  # members: 取消接龙 [标题] removes their own lines
    expire_days: Annotated[int, Field(gt=0, le=365)] = 7  # a chain ends this many days after it started
    max_open: Annotated[int, Field(gt=0, le=100)] = 20  # open chains per group; the oldest is closed
    max_entries: Annotated[int, Field(gt=0, le=2000)] = 500  # numbered lines in one chain
    max_chars: Annotated[int, Field(gt=0, le=200_000)] = 40_000  # a longer copy is ignored
    max_line_chars: Annotated[int, Field(ge=10, le=500)] = 100  # a line is kept (and compared) this long
    max_title_chars: Annotated[int, Field(ge=4, le=100)] = 40
    allow_duplicates: bool = False  # a member's repeated line (same text) counts once unless true
    max_mentions: Annotated[int, Field(ge=0, le=50)] = 20  # @ in one 接龙统计 answer; the rest "等 N 人"
    more_members: template("count") = "等 {count} 人"  # type: ignore[valid-type]
    ended_state: str = "（已结束）"  # {state} of a chain that ended ("" while it is open)
    stats_reply: template(*_CHAIN, "missing_count", "missing") = (  # type: ignore[valid-type]
        "📋 接龙「{title}」{state}已有 {count} 人；还有 {missing_count} 人没接：{missing}"
    )
    stats_all_reply: template(*_CHAIN) = "📋 接龙「{title}」{state}已有 {count} 人，群里的成员都接了👍"  # type: ignore[valid-type]
    none_reply: template() = "群里还没有进行中的接龙"  # type: ignore[valid-type]
    unknown_title_reply: template("title") = "没有找到接龙「{title}」"  # type: ignore[valid-type]
    export_sent_reply: template(*_CHAIN) = "@{user_name} 接龙「{title}」的名单（{count} 人）已私信发给你"  # type: ignore[valid-type]
    # said when the direct message could not go (WeChat lets a bot message its friends only)
    export_failed_reply: template(*_CHAIN) = (  # type: ignore[valid-type]
        "@{user_name} 名单没能私信给你，请先加{bot_name}为好友再发「接龙导出」"
    )
    end_reply: template(*_CHAIN) = "接龙「{title}」已结束，共 {count} 人"  # type: ignore[valid-type]
    already_ended_reply: template(*_CHAIN) = "接龙「{title}」已经结束了（共 {count} 人）"  # type: ignore[valid-type]
    cancel_reply: template(*_CHAIN, "lines") = "已取消你在接龙「{title}」里的 {lines} 行"  # type: ignore[valid-type]
    cancel_none_reply: template(*_CHAIN) = "你不在接龙「{title}」里"  # type: ignore[valid-type]
    # to the member whose copy was not recorded (it dropped or changed others' lines, …); "": silent
    rejected_reply: template("title", "reason") = ""  # type: ignore[valid-type]
    # to the member who copied a chain that has ended; "": silent
    closed_reply: template("title") = ""  # type: ignore[valid-type]
    reasons: dict[str, str] = Field(default_factory=lambda: {
        "dropped": "少了别人的行", "changed": "改了别人的行", "too_many": "行数超过上限"})
    csv_header: tuple[str, str, str, str, str] = CSV_COLUMNS

    @field_validator("start_words", "example_prefixes", "stats_words", "export_words", "end_words", "cancel_words",
                     mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("start_words", "stats_words", "export_words", "end_words", "cancel_words")
    @classmethod
    def _not_empty(cls, words: tuple[str, ...]) -> tuple[str, ...]:
        if any(not w.strip() for w in words):
            raise ValueError("a command word may not be empty")
        return words
