"""Settings of the daily purge list: who counts as inactive, when it is sent, auto-kick, the texts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from rules.schema import Section, hhmm
from rules.templates import template


class PurgeSettings(Section):
    """清理名单: members silent for `inactive_days` days (no message, check-in or red packet) who
    joined at least `grace_days` ago, minus admins, operators and the whitelist."""

    enabled: bool = True
    time: str = "21:30"
    inactive_days: Annotated[int, Field(gt=0)] = 14
    grace_days: Annotated[int, Field(ge=0)] = 7
    whitelist: tuple[str, ...] = ()
    # off | dry_run (log and tell operators who would go) | on (remove up to the daily cap)
    auto_kick: Literal["off", "dry_run", "on"] = "off"
    auto_kick_daily_cap: Annotated[int, Field(ge=0)] = 20
    top: Annotated[int, Field(gt=0, le=50)] = 10
    report_text: template("count", "days", "members", "top", "csv") = (  # type: ignore[valid-type]
        "【清理名单】{group_name}（{date}）\n{count} 人超过 {days} 天没有发言、签到或发红包（群内共 {members} 人）。"
        "\n最久的：{top}\n完整名单见附件 {csv}"
    )
    top_item: template("name", "days_silent") = "{name}（{days_silent} 天）"  # type: ignore[valid-type]
    empty_text: template("days", "members") = (  # type: ignore[valid-type]
        "【清理名单】{group_name}（{date}）：没有超过 {days} 天不活跃的成员👍"
    )
    auto_kick_text: template("count", "names", "mode") = (  # type: ignore[valid-type]
        "【自动清理】{group_name}：{mode} {count} 人：{names}"
    )
    kick_reason: template("days_silent") = "超过 {days_silent} 天未活跃（自动清理）"  # type: ignore[valid-type]
    dry_run_mode: str = "试运行，将移出"
    kick_mode: str = "正在移出（未能移出的会另行通知）"  # said as the removals are asked, before the answers
    kick_failed_text: template("name") = (  # type: ignore[valid-type]
        "【自动清理】{group_name}：未能移出「{name}」（机器人不是群主或管理员），请手动处理")
    csv_header: Annotated[tuple[str, ...], Field(min_length=8, max_length=8)] = (
        "成员ID", "群昵称", "进群时间（或首次记录）", "最后活跃", "未活跃天数", "消息数", "积分", "活跃度")
    csv_never: str = "从未"  # the last-active cell of a member who never spoke
    # one digest for a recipient of many groups' lists (bot.report_digest_from; the texts of `defaults`):
    # {groups} the groups, {listed} those with someone proposed, {empty} those with nobody, {count} members in all
    digest_text: template("groups", "listed", "empty", "count", "days", "top", "csv") = (  # type: ignore[valid-type]
        "【清理名单汇总】{date}\n{groups} 个群中，{listed} 个群共 {count} 人超过 {days} 天没有发言、签到或发红包"
        "（另有 {empty} 个群没有）。\n人数最多的群：{top}\n完整名单（含群ID、群名）见附件 {csv}"
    )
    digest_top_item: template("name", "count") = "{name}（{count} 人）"  # type: ignore[valid-type]
    digest_empty_text: template("groups", "days") = (  # type: ignore[valid-type]
        "【清理名单汇总】{date}：{groups} 个群都没有超过 {days} 天不活跃的成员👍"
    )
    csv_group_header: Annotated[tuple[str, ...], Field(min_length=2, max_length=2)] = ("群ID", "群名")  # digest CSV

    @field_validator("auto_kick", mode="before")
    @classmethod
    def _bool_is_on_off(cls, value: Any) -> Any:
        return {True: "on", False: "off"}.get(value, value) if isinstance(value, bool) else value

    _time = field_validator("time")(classmethod(lambda cls, v: hhmm(v)))
