"""Settings of the poll (投票): the command words, the deadline, the merged confirmations and every text."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator

from rules.schema import Section
from rules.templates import template

# hard bounds on what an admin may open (members see every option in the group)
MIN_OPTIONS, MAX_OPTIONS = 2, 20
MAX_OPTION_CHARS, MAX_TITLE_CHARS = 30, 60


class PollSettings(Section):
    """投票: an admin opens a poll, members vote with 投1 / 投 选项名, the result at the deadline or on 结束投票."""

    enabled: bool = True
    start_words: tuple[str, ...] = ("投票",)
    vote_words: tuple[str, ...] = ("投",)
    end_words: tuple[str, ...] = ("结束投票",)
    deadline_word: Annotated[str, Field(min_length=1, max_length=8)] = "截止"  # 截止21:00 (local time)
    default_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24  # deadline when the admin gives none
    # votes within confirm_seconds of the first one are confirmed in one message that mentions each voter;
    # 0: each vote is answered at once; confirm_votes false: no confirmation at all (a note in the audit)
    confirm_votes: bool = True
    confirm_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    max_mentions: Annotated[int, Field(ge=1, le=100)] = 20
    started_text: template("title", "options", "deadline", "count") = (  # type: ignore[valid-type]
        "📊 投票：{title}\n{options}\n回复「投1」或「投 选项名」投票，可以改投（以最后一次为准），{deadline} 截止"
    )
    option_line: template("index", "option") = "{index}. {option}"  # type: ignore[valid-type]
    confirm_text: template("voters", "count") = (  # type: ignore[valid-type]
        "🗳️ 已记录 {voters} 的投票（可以改投，以最后一次为准）"
    )
    confirm_more: template("count") = "等 {count} 人"  # type: ignore[valid-type]
    confirm_reply: template("option") = "@{user_name} 已记录你的投票：{option}"  # type: ignore[valid-type]
    result_text: template("title", "lines", "outcome", "voters") = (  # type: ignore[valid-type]
        "📊 投票结束：{title}\n{lines}\n{outcome}（共 {voters} 人投票）"
    )
    result_line: template("index", "option", "votes") = "{index}. {option}：{votes} 票"  # type: ignore[valid-type]
    winner_text: template("option", "votes") = "🏆 「{option}」胜出，{votes} 票"  # type: ignore[valid-type]
    tie_text: template("options", "votes") = "平票：{options} 各 {votes} 票"  # type: ignore[valid-type]
    no_votes_text: template() = "没有人投票"  # type: ignore[valid-type]
    unknown_option_reply: template("count") = (  # type: ignore[valid-type]
        "@{user_name} 没有这个选项：回复「投1」到「投{count}」或「投 选项名」"
    )
    busy_reply: template("title", "deadline") = (  # type: ignore[valid-type]
        "已经有一个进行中的投票「{title}」（{deadline} 截止）：先发「结束投票」再发起新的"
    )
    none_open_reply: template() = "现在没有进行中的投票"  # type: ignore[valid-type]
    usage_reply: template("min", "max", "option_chars", "title_chars") = (  # type: ignore[valid-type]
        "用法：投票 标题 选项1 选项2 …（{min}–{max} 个不重复的选项，每个不超过 {option_chars} 字，"
        "标题不超过 {title_chars} 字），可以在最后加「截止21:00」"
    )
    refused_reply: template() = "@{user_name} 只有管理员可以发起或结束投票"  # type: ignore[valid-type]
    time_format: str = "%m-%d %H:%M"  # {deadline}

    @field_validator("start_words", "vote_words", "end_words", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value
