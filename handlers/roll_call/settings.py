"""Settings of 扣1 (roll call): the words that open it, answer it and count it, its window and replies."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator

from rules.normalize import command_form
from rules.schema import Section
from rules.templates import template

_FACTS = ("count", "missing_count", "missing", "state", "opened", "text")


class RollCallSettings(Section):
    """扣1: an admin's message containing 扣1 opens a roll call; members answer 1; admins count them."""

    enabled: bool = True
    # an admin's message containing one of these (after normalisation: 扣１, 扣 1) opens a roll call;
    # a digit right after it does not (扣10分)
    open_words: tuple[str, ...] = ("扣1",)
    # a member's whole message that is one of these after normalisation answers (１, 1️⃣, +1, 扣1)
    answer_words: tuple[str, ...] = ("1", "+1", "扣1")
    stats_words: tuple[str, ...] = ("扣1统计",)  # admins
    window_minutes: Annotated[int, Field(gt=0, le=7 * 24 * 60)] = 120
    max_open_chars: Annotated[int, Field(gt=0, le=20_000)] = 2000  # longer admin messages are not read for 扣1
    max_mentions: Annotated[int, Field(ge=0, le=50)] = 20  # @ in one 扣1统计 answer; the rest "等 N 人"
    summary_max_names: Annotated[int, Field(ge=0, le=500)] = 100  # names in the operators' summary
    more_members: template("count") = "等 {count} 人"  # type: ignore[valid-type]
    open_state: template("ends") = "（进行中，{ends} 截止）"  # type: ignore[valid-type]
    ended_state: str = "（已结束）"
    stats_reply: template(*_FACTS) = (  # type: ignore[valid-type]
        "🙋 扣1统计{state}：已有 {count} 人扣1，还有 {missing_count} 人没扣：{missing}"
    )
    stats_all_reply: template(*_FACTS) = "🙋 扣1统计{state}：已有 {count} 人扣1，大家都扣了👍"  # type: ignore[valid-type]
    none_reply: template() = "群里还没有扣1（管理员发含「扣1」的消息即开始统计）"  # type: ignore[valid-type]
    # to the operators (else the admins) by direct message when the window closes
    summary_text: template(*_FACTS) = (  # type: ignore[valid-type]
        "【扣1结束】{group_name}（{opened} 发起：{text}）\n{count} 人扣了1；{missing_count} 人没扣：{missing}"
    )
    summary_all_text: template(*_FACTS) = (  # type: ignore[valid-type]
        "【扣1结束】{group_name}（{opened} 发起：{text}）\n{count} 人扣了1，群里的成员都扣了👍"
    )

    @field_validator("open_words", "answer_words", "stats_words", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("open_words", "answer_words", "stats_words")
    @classmethod
    def _not_empty(cls, words: tuple[str, ...]) -> tuple[str, ...]:
        if not words or any(not command_form(w) for w in words):
            raise ValueError("each word must have a letter or digit (an emoji or punctuation alone is never matched)")
        return words
