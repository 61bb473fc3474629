"""Settings of the welcome: its text, the display-name format a group asks for, the reminders."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from rules.schema import Section, compile_re2, hhmm
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
    # and once more this many days after (0: never again), in the group's daily follow-up
    rename_followup_days: Annotated[int, Field(ge=0)] = 3
    # the follow-ups go out once a day at this local time: one message per group mentioning every member
    # whose follow-up is due (those who renamed or left meanwhile are left out)
    rename_followup_time: str = "20:00"
    rename_followup: template("name_format") = (  # type: ignore[valid-type]
        "@{user_name} 再提醒一次：请按「{name_format}」的格式修改群昵称，方便大家认识你～"
    )
    # joins (and the reminders due with them) within this many seconds of the first one in a group are
    # answered in one message that mentions each member (0: each join answered at once)
    batch_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    # the first reminders of members already in the group (on their first message) within this many
    # minutes of the first one go out as one message: a reminder may wait up to this long (0: at once)
    rename_batch_minutes: Annotated[int, Field(ge=0, le=720)] = 30
    # at most this many members mentioned in one message; more newcomers: `batch_more`, more members
    # due a follow-up: `rename_more` (they are mentioned in the next day's follow-up)
    batch_max_mentions: Annotated[int, Field(ge=1, le=100)] = 20
    batch_more: template("count") = "等 {count} 位新朋友"  # type: ignore[valid-type]
    rename_more: template("count") = "等 {count} 人"  # type: ignore[valid-type]

    _time = field_validator("rename_followup_time")(classmethod(lambda cls, v: hhmm(v)))
