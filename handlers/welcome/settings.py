"""Settings of the welcome: its text, the display-name format a group asks for, the reminders."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from rules.schema import Section, compile_re2
from rules.templates import template


class NameFormat(Section):
    """The display-name format a group asks for, e.g. 名字-公司-岗位-城市."""

    example: str
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        compile_re2(value)
        return value


class WelcomeSettings(Section):
    enabled: bool = True
    text: template("inviter", "name_format") = (  # type: ignore[valid-type]
        "欢迎 @{user_name} 加入{group_name}！\n{rules}"
    )
    name_format: NameFormat | None = None
    rename_reminder: template("name_format") = (  # type: ignore[valid-type]
        "@{user_name} 请按「{name_format}」的格式修改群昵称，方便大家认识你～"
    )
    rename_thanks: template("name_format") = "谢谢 @{user_name} 改好了群昵称！"  # type: ignore[valid-type]
    # a member whose name does not fit is reminded once (with the welcome, or on their first message),
    # and once more this many days after (0: never again)
    rename_followup_days: Annotated[int, Field(ge=0)] = 3
    # joins and due rename reminders within this many seconds of the first one in a group are answered
    # in one message that mentions each member (0: each join and reminder answered at once)
    batch_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    # at most this many members mentioned in one batched message; more newcomers: `batch_more`
    batch_max_mentions: Annotated[int, Field(ge=1, le=100)] = 20
    batch_more: template("count") = "等 {count} 位新朋友"  # type: ignore[valid-type]
