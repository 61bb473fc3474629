"""The config schema: pydantic models with defaults, extra=forbid, frozen once loaded.

`BotConfig` is the whole file; `GroupSettings` is what one group runs with (the `defaults` section
with the matching `groups` entries merged on top). Sections of capabilities that later issues build
(ads, check-in, points, levels, announcements, purge, stats, anomaly) are validated here already.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import re2
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rules.templates import template

_STRICT = ConfigDict(extra="forbid", frozen=True)
MATCH_MODES = ("exact", "contains", "regex")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def compile_re2(pattern: str) -> Any:
    """Compile an owner's regex with re2 (linear time); a pattern re2 refuses is a ValueError."""
    options = re2.Options()
    options.max_mem = 8 << 20
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        raise ValueError(f"re2 cannot compile {pattern!r}: {exc}") from None


class Section(BaseModel):
    model_config = _STRICT


class KeywordRule(Section):
    """An auto-reply: when a message matches one of `patterns`, answer with `reply`."""

    name: str | None = None
    match: str = "contains"
    patterns: Annotated[tuple[str, ...], Field(min_length=1)]
    reply: template("text", "matched")  # type: ignore[valid-type]
    mention: bool = False
    cooldown_seconds: Annotated[float, Field(ge=0)] = 30.0

    @field_validator("match", mode="before")
    @classmethod
    def _known_mode(cls, value: Any) -> Any:
        if value not in MATCH_MODES:
            raise ValueError(f"unknown mode {value!r} ({', '.join(MATCH_MODES)})")
        return value

    @field_validator("patterns", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_patterns(self) -> KeywordRule:
        for pattern in self.patterns:
            if not pattern.strip():
                raise ValueError("an empty pattern would match everything")
            if self.match == "regex":
                compile_re2(pattern)
        return self

    @property
    def label(self) -> str:
        return self.name or self.patterns[0]


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


PolicyChoice = Literal["prompt", "allow", "admins_only"]


class QrCodeSettings(Section):
    """QR codes in images (decoded with zxing-cpp in worker threads)."""

    enabled: bool = True
    allow: tuple[str, ...] = ()  # QR contents allowed, by prefix (e.g. this group's own invitation link)
    allow_group_invite: bool = False  # allow every WeChat group-invitation QR (weixin.qq.com/g/…)
    max_bytes: Annotated[int, Field(gt=0)] = 10 * 1024 * 1024
    max_pixels: Annotated[int, Field(gt=0)] = 40_000_000


class AdsSettings(Section):
    """Ad policing: the red-packet prompt, warnings, removal; see handlers/ads.py."""

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
    qrcode: QrCodeSettings = QrCodeSettings()
    flood_messages_per_minute: Annotated[int, Field(gt=0)] = 15
    raid_new_members: Annotated[int, Field(ge=2)] = 3
    raid_window_minutes: Annotated[int, Field(gt=0)] = 10


_CHECKIN_RATE_FIELDS = ("rate", "count", "members", "yesterday_rate", "campaign")
_CHECKIN_FIELDS = ("rank", "streak", "points", "balance", *_CHECKIN_RATE_FIELDS)


class CheckinWindow(Section):
    start: str
    end: str
    outside_reply: template("start", "end") = (  # type: ignore[valid-type]
        "@{user_name} 现在不在打卡时间（{start}–{end}）哦"
    )

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"time {value!r} is not HH:MM")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> CheckinWindow:
        if self.start == self.end:
            raise ValueError(f"the window {self.start}–{self.end} is empty (start and end are the same)")
        return self


class CheckinSettings(Section):
    """签到: the daily check-in, its replies and its boards."""

    enabled: bool = True
    # exact words after normalisation ("签到！", "签 到" count; "昨天忘了签到" does not)
    triggers: tuple[str, ...] = ("签到", "打卡", "早安打卡")
    base_points: Annotated[int, Field(ge=0)] = 5
    streak_bonus: Annotated[int, Field(ge=0)] = 1  # per day of streak after the first
    streak_bonus_cap: Annotated[int, Field(ge=0)] = 10
    reply: template(*_CHECKIN_FIELDS) = (  # type: ignore[valid-type]
        "@{user_name} 签到成功✅ 今日第 {rank} 名，连续 {streak} 天，+{points} 分，共 {balance} 分。今日签到率 {rate}"
    )
    already_reply: template("rank", "streak", "balance", "rate") = (  # type: ignore[valid-type]
        "@{user_name} 今天已经签过啦（第 {rank} 名），明天再来～"
    )
    window: CheckinWindow | None = None  # e.g. 早起打卡: only 05:00–10:00 counts
    # {campaign}: the other groups sharing a tag with this one, each as campaign_item, joined by "、"
    campaign_item: template("name", "rate") = "{name} {rate}"  # type: ignore[valid-type]
    board_words: tuple[str, ...] = ("签到榜",)
    board_title: template("count", "members", "rate") = (  # type: ignore[valid-type]
        "📋 今日签到榜 {date}（{count} 人，签到率 {rate}）"
    )
    board_line: template("rank", "name", "at", "streak") = "{rank}. {name} {at}"  # type: ignore[valid-type]
    board_empty: template() = "今天还没有人签到，发「签到」抢第一名！"  # type: ignore[valid-type]
    streak_words: tuple[str, ...] = ("连续签到榜",)
    streak_title: template() = "🔥 连续签到榜"  # type: ignore[valid-type]
    streak_line: template("place", "name", "streak") = "{place}. {name} 连续 {streak} 天"  # type: ignore[valid-type]
    streak_empty: template() = "最近还没有人连续签到～"  # type: ignore[valid-type]
    rate_words: tuple[str, ...] = ("签到率",)
    rate_reply: template(*_CHECKIN_RATE_FIELDS) = (  # type: ignore[valid-type]
        "今日签到 {count}/{members} 人，签到率 {rate}（昨天 {yesterday_rate}）"
    )
    rate_campaign_reply: template(*_CHECKIN_RATE_FIELDS) = (  # type: ignore[valid-type]
        "今日签到 {count}/{members} 人，签到率 {rate}（昨天 {yesterday_rate}）｜同期各群：{campaign}"
    )
    board_size: Annotated[int, Field(gt=0, le=50)] = 10

    @field_validator("triggers", "board_words", "streak_words", "rate_words", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class PointsSettings(Section):
    """积分: awards for messages and red packets, member boards and owners' grants."""

    enabled: bool = True
    message_points: Annotated[int, Field(ge=0)] = 1
    message_cooldown_seconds: Annotated[int, Field(ge=0)] = 60
    message_min_length: Annotated[int, Field(ge=0)] = 5  # letters, digits and CJK; emoji and "1" earn nothing
    message_daily_cap: Annotated[int, Field(ge=0)] = 20
    red_packet_points: Annotated[int, Field(ge=0)] = 10
    reasons: dict[str, str] = Field(default_factory=lambda: {
        "checkin": "签到", "message": "发言", "red_packet": "红包", "grant": "加分", "deduct": "扣分"})
    my_points_words: tuple[str, ...] = ("我的积分",)
    my_points_reply: template("balance", "today", "week", "place", "level") = (  # type: ignore[valid-type]
        "@{user_name} 你有 {balance} 分（今日 {today}，本周 {week}），群内第 {place} 名，等级「{level}」"
    )
    # board words -> period: today | week | all
    board_words: dict[str, Literal["today", "week", "all"]] = Field(default_factory=lambda: {
        "积分榜": "all", "总积分榜": "all", "今日积分榜": "today", "本周积分榜": "week"})
    period_names: dict[str, str] = Field(default_factory=lambda: {"today": "今日", "week": "本周", "all": "总"})
    board_title: template("period") = "🏆 {period}积分榜"  # type: ignore[valid-type]
    board_line: template("place", "name", "points") = "{place}. {name} {points} 分"  # type: ignore[valid-type]
    board_own: template("place", "points") = "@{user_name} 你排第 {place} 名（{points} 分）"  # type: ignore[valid-type]
    board_own_none: template() = "@{user_name} 你还没有得分，发「签到」试试～"  # type: ignore[valid-type]
    board_empty: template("period") = "{period}还没有人得分，发「签到」开始吧～"  # type: ignore[valid-type]
    board_size: Annotated[int, Field(gt=0, le=50)] = 10
    # owners' commands (admins and operators of the group): 加分 @某人 10 理由 / 扣分 @某人 5 理由 / 积分明细 @某人
    grant_words: tuple[str, ...] = ("加分",)
    deduct_words: tuple[str, ...] = ("扣分",)
    ledger_words: tuple[str, ...] = ("积分明细",)
    max_grant: Annotated[int, Field(gt=0)] = 10_000
    grant_reply: template("target_name", "delta", "reason", "balance") = (  # type: ignore[valid-type]
        "已给 {target_name} 加 {delta} 分（{reason}），现有 {balance} 分"
    )
    deduct_reply: template("target_name", "delta", "reason", "balance") = (  # type: ignore[valid-type]
        "已给 {target_name} 扣 {delta} 分（{reason}），现有 {balance} 分"
    )
    usage_reply: template() = (  # type: ignore[valid-type]
        "用法：加分 @某人 10 理由 ｜ 扣分 @某人 5 理由 ｜ 积分明细 @某人"
    )
    unknown_member_reply: template("target_name") = "群里没找到 {target_name}，请 @ 对方再试"  # type: ignore[valid-type]
    not_allowed_reply: template() = (  # type: ignore[valid-type]
        "@{user_name} 抱歉，只有群主和管理员可以加减积分哦"
    )
    ledger_title: template("target_name", "balance") = "{target_name} 的积分明细（共 {balance} 分）："  # type: ignore[valid-type]
    ledger_line: template("at", "delta", "reason", "note") = "{at} {delta} {reason}{note}"  # type: ignore[valid-type]
    ledger_note: template("note") = "（{note}）"  # type: ignore[valid-type]
    ledger_empty: template("target_name") = "{target_name} 还没有积分记录"  # type: ignore[valid-type]
    ledger_size: Annotated[int, Field(gt=0, le=50)] = 10

    @field_validator("my_points_words", "grant_words", "deduct_words", "ledger_words", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


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


_DOW = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_dow(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday, 1-5 = Monday to Friday) in APScheduler's terms,
    whose numbers start at Monday: numbers become day names, numeric ranges and steps are expanded."""
    if field == "*":
        return field
    out: list[str] = []
    for token in field.lower().split(","):
        part, _, step = token.partition("/")
        if not any(ch.isdigit() for ch in part) and not step:
            out.append(token)  # names (mon-fri, sat) mean the same to both
            continue
        if part == "*":
            lo, hi = 0, 6
        elif "-" in part:
            a, b = part.split("-", 1)
            lo, hi = int(a), int(b)
        else:
            lo = hi = int(part)
        if not (0 <= lo <= 7 and 0 <= hi <= 7 and lo <= hi):
            raise ValueError(f"day of week {token!r} is not within 0-7")
        days = range(lo, hi + 1, int(step) if step else 1) if step or lo != hi else [lo]
        out.extend(_DOW[d] for d in days)
    return ",".join(dict.fromkeys(out))


def _cron_fields(days: str) -> str:
    """`days` as a cron day-of-week field: * | weekdays | weekends | mon-fri | 1-5 | 0,6 …"""
    alias = {"weekdays": "mon-fri", "weekends": "sat,sun", "daily": "*", "每天": "*", "工作日": "mon-fri",
             "周末": "sat,sun"}.get(days)
    return alias or cron_dow(days)


def crontab_trigger(expr: str, tz: Any) -> Any:
    """An APScheduler trigger for a five-field crontab line, with crontab's day-of-week numbers."""
    from apscheduler.triggers.cron import CronTrigger

    minute, hour, day, month, dow = expr.split()
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=cron_dow(dow), timezone=tz)


class Announcement(Section):
    """A scheduled post: at `time` ("09:00", a five-field cron expression, or "peak": the group's
    busiest hour of the last `peak_days` days) on `days`, one of `texts` (rotating by day)."""

    time: str = "09:00"
    days: str = "*"
    texts: Annotated[tuple[template(), ...], Field(min_length=1)]  # type: ignore[valid-type]
    send_when_silent: bool = False
    silent_days: Annotated[int, Field(gt=0)] = 3  # a group with no event for this long gets nothing
    peak_days: Annotated[int, Field(gt=0, le=90)] = 14
    peak_min_messages: Annotated[int, Field(ge=0)] = 50  # fewer messages than this: peak_fallback
    peak_fallback: str = "21:00"

    @field_validator("texts", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        if value == "peak" or _HHMM.match(value):
            return value
        if len(value.split()) == 5:
            try:
                crontab_trigger(value, "UTC")
            except ValueError as exc:
                raise ValueError(f"cron expression {value!r}: {exc}") from None
            return value
        raise ValueError(f"time {value!r} is not HH:MM, 'peak' or a five-field cron expression")

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger(day_of_week=_cron_fields(value), timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"days {value!r}: {exc} (use *, weekdays, weekends or a cron day field "
                             "such as mon-fri)") from None
        return value

    @field_validator("peak_fallback")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"time {value!r} is not HH:MM")
        return value


def _hhmm_time(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError(f"time {value!r} is not HH:MM")
    return value


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
    kick_mode: str = "已移出"
    csv_header: Annotated[tuple[str, ...], Field(min_length=8, max_length=8)] = (
        "成员ID", "群昵称", "进群时间（或首次记录）", "最后活跃", "未活跃天数", "消息数", "积分", "活跃度")
    csv_never: str = "从未"  # the last-active cell of a member who never spoke

    @field_validator("auto_kick", mode="before")
    @classmethod
    def _bool_is_on_off(cls, value: Any) -> Any:
        return {True: "on", False: "off"}.get(value, value) if isinstance(value, bool) else value

    _time = field_validator("time")(classmethod(lambda cls, v: _hhmm_time(v)))


class ChartLabels(Section):
    """The words inside the report charts (scheduler/charts.py)."""

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
    weekdays: str = "一二三四五六日"  # day labels in the charts: "05-20 周三"
    weekday_prefix: str = "周"
    labels: ChartLabels = ChartLabels()

    _time = field_validator("time")(classmethod(lambda cls, v: _hhmm_time(v)))


class AnomalySettings(Section):
    """异常提醒, checked hourly against the group's own last `baseline_days` days."""

    enabled: bool = True
    baseline_days: Annotated[int, Field(gt=0, le=90)] = 14
    quiet_ratio: Annotated[float, Field(gt=0, lt=1)] = 0.3  # today so far < 30% of a usual day by this hour
    quiet_min_usual: Annotated[float, Field(ge=0)] = 20  # ... when a usual day has at least this many by now
    quiet_from: str = "12:00"  # not before (a morning says little)
    join_raid_count: Annotated[int, Field(gt=0)] = 10
    join_raid_minutes: Annotated[int, Field(gt=0)] = 5
    ad_spike_ratio: Annotated[float, Field(gt=1)] = 3.0
    ad_spike_min: Annotated[int, Field(gt=0)] = 5
    mass_leave_count: Annotated[int, Field(gt=0)] = 10
    mass_leave_minutes: Annotated[int, Field(gt=0)] = 60
    quiet_text: template("today", "usual", "hour") = (  # type: ignore[valid-type]
        "⚠️【异常】{group_name} 今天格外安静：到 {hour} 点只有 {today} 条消息，平时这个时候约 {usual} 条"
    )
    join_raid_text: template("count", "minutes", "usual", "first", "last") = (  # type: ignore[valid-type]
        "⚠️【异常】{group_name} {first}–{last} {minutes} 分钟内进群 {count} 人（平时每天约 {usual} 人），可能是拉人刷群"
    )
    ad_spike_text: template("today", "usual") = (  # type: ignore[valid-type]
        "⚠️【异常】{group_name} 最近 24 小时拦截广告 {today} 次，平时每天约 {usual} 次"
    )
    mass_leave_text: template("count", "minutes", "usual") = (  # type: ignore[valid-type]
        "⚠️【异常】{group_name} 最近 {minutes} 分钟有 {count} 人退群（平时每天约 {usual} 人）"
    )

    _time = field_validator("quiet_from")(classmethod(lambda cls, v: _hhmm_time(v)))


class GroupSettings(Section):
    """Everything one group runs with."""

    # observe: decide and log everything (see `qunbot why`), send nothing — a dry run on a live group
    mode: Literal["enforce", "observe"] = "enforce"
    rules: template() = ""  # type: ignore[valid-type]
    admins: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    welcome: WelcomeSettings = WelcomeSettings()
    keywords: tuple[KeywordRule, ...] = ()
    ads: AdsSettings = AdsSettings()
    checkin: CheckinSettings = CheckinSettings()
    points: PointsSettings = PointsSettings()
    levels: LevelsSettings = LevelsSettings()
    announcements: tuple[Announcement, ...] = ()
    purge: PurgeSettings = PurgeSettings()
    stats: StatsSettings = StatsSettings()
    anomaly: AnomalySettings = AnomalySettings()


class BotSettings(Section):
    name: str = "群管家"
    id: str = "qunbot"
    timezone: str = "Asia/Shanghai"
    database: str = "sqlite+aiosqlite:///data/qunbot.db"
    media_dir: str = "data/media"
    ad_model: str = "data/ad_model.json.gz"  # written by `qunbot train-ads`; the shipped model until then
    reports_dir: str = "data/reports"  # CSV purge lists and PNG charts sent to operators

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value


class OutboxSettings(Section):
    min_interval_seconds: Annotated[float, Field(ge=0)] = 1.0
    per_group_per_minute: Annotated[int, Field(gt=0)] = 20
    per_account_per_minute: Annotated[int, Field(gt=0)] = 40
    merge_texts: bool = True
    max_attempts: Annotated[int, Field(gt=0)] = 5
    resend_within_minutes: Annotated[int, Field(ge=0)] = 10


class WechatySettings(Section):
    """The puppet service. Empty endpoint/token fall back to WECHATY_PUPPET_SERVICE_ENDPOINT/_TOKEN."""

    endpoint: str | None = None
    token: str | None = None
    media_max_bytes: Annotated[int, Field(gt=0)] = 20 * 1024 * 1024
    heartbeat_timeout_seconds: Annotated[float, Field(gt=0)] = 90.0
    reconnect_max_seconds: Annotated[float, Field(gt=0)] = 30.0
    member_name_ttl_seconds: Annotated[float, Field(ge=0)] = 300.0
    roster_interval_seconds: Annotated[float, Field(gt=0)] = 6 * 3600.0  # every room's member list again


class BatchSettings(Section):
    """Group commit: how many events may share one commit and how long the first one may wait."""

    max_events: Annotated[int, Field(gt=0, le=10_000)] = 2000
    max_delay_ms: Annotated[float, Field(ge=0, le=1000)] = 10.0


SECRET_PATHS = (("wechaty", "token"),)


class BotConfig(Section):
    """The whole config.yaml."""

    bot: BotSettings = BotSettings()
    outbox: OutboxSettings = OutboxSettings()
    batch: BatchSettings = BatchSettings()
    wechaty: WechatySettings = WechatySettings()
    defaults: GroupSettings = GroupSettings()
    # Overrides keyed by a group id or a glob on the group name; validated after merging.
    groups: dict[str, dict[str, Any]] = Field(default_factory=dict)
