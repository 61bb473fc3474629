"""Settings of retention and erasure: how long message texts, images and report files are kept, when
the daily job runs, and the texts of the erasure command (删除数据 @成员)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from rules.schema import Section, hhmm
from rules.templates import template

_COUNTS = ("events", "media", "samples", "names", "notes", "actions", "files", "rosters", "evidence", "queue",
           "jielong", "roll_calls", "red_packets")


class RetentionSettings(Section):
    """保留期限: what is kept and for how long. `texts_days`, `media_days` and `reports_days` apply per
    group (a group's overrides may shorten or lengthen them); events and files of no known group
    (direct messages to the bot, files whose name names no group) follow `defaults`. `time` is when
    the daily job runs for the group (the shared folders are swept by the job at the defaults' time)."""

    enabled: bool = True  # the daily job; the erasure command works either way
    time: str = "04:00"
    texts_days: Annotated[int, Field(gt=0)] = 180  # texts and names in events, audit quotes, 接龙 lines, 扣1 quotes
    media_days: Annotated[int, Field(gt=0)] = 30  # images under bot.media_dir
    reports_days: Annotated[int, Field(gt=0)] = 90  # CSV and PNG files under bot.reports_dir
    # erasure: the command words (admins and operators of the group only)
    forget_words: tuple[str, ...] = ("删除数据", "/forget")
    # SQLite: rebuild the file after an erasure (VACUUM: no stale copy anywhere in it; it blocks the
    # bot for as long as it takes, about a second per 100 MB); false: secure_delete and a checkpoint only
    vacuum_after_forget: bool = True
    erased_name: str = "已删除成员"  # the display name an erased member is stored under
    forget_reply: template(*_COUNTS) = (  # type: ignore[valid-type]
        "已删除该成员在本群的数据：{events} 条消息的内容、{media} 个图片文件、{samples} 条广告样本、"
        "昵称和 {notes} 条积分备注。消息数、签到和积分总数作为匿名统计保留。"
    )
    forget_usage: template() = "用法：删除数据 @成员（群主和管理员可用）"  # type: ignore[valid-type]
    forget_unknown: template("target_name") = "没有找到成员 {target_name}"  # type: ignore[valid-type]
    forget_not_allowed: template() = (  # type: ignore[valid-type]
        "@{user_name} 删除数据需要由群主或管理员操作，请联系他们"
    )

    _time = field_validator("time")(classmethod(lambda cls, v: hhmm(v)))
