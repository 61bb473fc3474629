"""Settings of the daily stats report and its charts."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from rules.schema import Section, hhmm
from rules.templates import template


class ChartLabels(Section):
    """The words inside the report charts (handlers/stats/charts.py)."""

    hourly_average: template("days", "per_day") = "近{days}天平均（日均 {per_day} 条）"  # type: ignore[valid-type]
    hourly_latest: template("day", "total") = "{day}（共 {total} 条）"  # type: ignore[valid-type]
    hourly_x: template() = "时段（点）"  # type: ignore[valid-type]
    hourly_y: template() = "消息数"  # type: ignore[valid-type]
    hourly_peak: template("hour", "count") = "高峰 {hour} 点 · {count} 条"  # type: ignore[valid-type]
    hourly_empty: template() = "当天没有消息"  # type: ignore[valid-type]
    trend_subtitle: template("first", "last", "days") = "{first} ~ {last}，共 {days} 天"  # type: ignore[valid-type]
    trend_panel: template("mean", "max", "day") = "日均 {mean}　最高 {max}（{day}）"  # type: ignore[valid-type]


class StatsSettings(Section):
    """日报 to operators: the day's numbers and a chart of activity by hour over `chart_days` days."""

    enabled: bool = True
    time: str = "22:00"
    weekly_chart: bool = True  # Mondays: also the daily trend of the last 28 days
    chart_days: Annotated[int, Field(gt=0, le=31)] = 7
    top_talkers: Annotated[int, Field(ge=0, le=20)] = 5
    report_text: template(  # type: ignore[valid-type]
        "members", "joins", "leaves", "messages", "active", "checkins", "checkin_rate", "red_packets", "ads",
        "talkers") = (
        "【日报】{group_name} {date}\n成员 {members} 人（+{joins} / -{leaves}）\n"
        "消息 {messages} 条，{active} 人发言\n签到 {checkins} 人，签到率 {checkin_rate}\n"
        "红包 {red_packets} 个，拦截广告 {ads} 次\n话痨榜：{talkers}"
    )
    talker_item: template("name", "count") = "{name} {count}"  # type: ignore[valid-type]
    chart_title: template("days") = "{group_name} 近 {days} 天各时段消息数"  # type: ignore[valid-type]
    chart_subtitle: template("first", "last", "total") = "{first} – {last}，共 {total} 条"  # type: ignore[valid-type]
    trend_title: template("days") = "{group_name} 近 {days} 天趋势"  # type: ignore[valid-type]
    trend_series: dict[Literal["messages", "speakers", "checkins"], str] = Field(default_factory=lambda: {
        "messages": "消息", "speakers": "发言人数", "checkins": "签到"})
    # one digest for a recipient of many groups' reports (bot.report_digest_from; the texts of `defaults`):
    # totals, {quiet} groups without a message, the `digest_top` groups furthest above and below their usual
    # day ({days}: the `chart_days` days before), a CSV of one row per group; no charts
    digest_text: template(  # type: ignore[valid-type]
        "groups", "members", "joins", "leaves", "messages", "active", "checkins", "checkin_rate", "red_packets",
        "ads", "quiet", "days", "busiest", "quietest", "csv") = (
        "【日报汇总】{date}\n{groups} 个群：成员 {members} 人（+{joins} / -{leaves}），消息 {messages} 条，"
        "{active} 人次发言\n签到 {checkins} 人，签到率 {checkin_rate}；红包 {red_packets} 个，拦截广告 {ads} 次\n"
        "比平时热闹（平时 = 前 {days} 天日均）：{busiest}\n比平时冷清：{quietest}\n{quiet} 个群今天没有消息。\n"
        "各群数字见附件 {csv}。图表不再逐群发送：用 qunbot stats --group 群ID --png 文件名，或在网页后台查看。"
    )
    digest_group_item: template("name", "messages", "usual") = "{name} {messages} 条（平时 {usual}）"  # type: ignore[valid-type]
    digest_top: Annotated[int, Field(ge=0, le=20)] = 3
    digest_csv_header: Annotated[tuple[str, ...], Field(min_length=12, max_length=12)] = (
        "群ID", "群名", "成员", "进群", "退群", "消息", "发言人数", "签到", "签到率", "红包", "拦截广告",
        "平时日均消息")
    weekdays: str = "一二三四五六日"  # day labels in the charts: "05-20 周三"
    weekday_prefix: str = "周"
    labels: ChartLabels = ChartLabels()

    _time = field_validator("time")(classmethod(lambda cls, v: hhmm(v)))
