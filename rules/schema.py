"""The config schema: pydantic models with defaults, extra=forbid, frozen once loaded.

`BotConfig` is the whole file; `GroupSettings` is what one group runs with (the `defaults` section
with the matching `groups` entries merged on top). The sections here are the bot's own (bot, outbox,
batch, wechaty) and the settings every feature shares (mode, rules, admins, operators, tags); each
feature adds its own section from its package (handlers/<feature>/settings.py), and
`group_settings_model()` / `config_model()` assemble the whole schema from the feature list.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import re2
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from rules.templates import template

_STRICT = ConfigDict(extra="forbid", frozen=True)
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def compile_re2(pattern: str) -> Any:
    """Compile an owner's regex with re2 (linear time); a pattern re2 refuses is a ValueError."""
    options = re2.Options()
    options.max_mem = 8 << 20
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):  # re2 reports in bytes
            detail = detail.decode("utf-8", "replace")
        raise ValueError(f"re2 cannot compile {pattern!r}: {detail}") from None


class Section(BaseModel):
    model_config = _STRICT


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


def cron_days(days: str) -> str:
    """`days` as a cron day-of-week field: * | weekdays | weekends | mon-fri | 1-5 | 0,6 …"""
    alias = {"weekdays": "mon-fri", "weekends": "sat,sun", "daily": "*", "每天": "*", "工作日": "mon-fri",
             "周末": "sat,sun"}.get(days)
    return alias or cron_dow(days)


def crontab_trigger(expr: str, tz: Any) -> Any:
    """An APScheduler trigger for a five-field crontab line, with crontab's day-of-week numbers."""
    from apscheduler.triggers.cron import CronTrigger

    minute, hour, day, month, dow = expr.split()
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=cron_dow(dow), timezone=tz)


def hhmm(value: str) -> str:
    """An "HH:MM" time of day (a ValueError otherwise)."""
    if not HHMM.match(value):
        raise ValueError(f"time {value!r} is not HH:MM")
    return value


class GroupSettings(Section):
    """What one group runs with: the shared settings here, each feature's section added to them by
    `group_settings_model()` (so `settings.checkin`, `settings.ads` … exist on the assembled model)."""

    # observe: decide and log everything (see `qunbot why`), send nothing — a dry run on a live group
    mode: Literal["enforce", "observe"] = "enforce"
    rules: template() = ""  # type: ignore[valid-type]
    admins: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    # a `groups` entry matched by the group's *name* (which members can change) grants its admins and
    # operators only when it says so here; an entry matched by the group's id always does
    trust_name_match: bool = False
    # said instead of a display name that is an ad (兼职日结加V…): the bot never repeats such a name
    ad_name_placeholder: str = "新朋友"
    # a command that names a member by a name several present members have (加分 张三 …)
    ambiguous_member_reply: template("target_name", "count") = (  # type: ignore[valid-type]
        "群里有 {count} 位以上叫「{target_name}」的成员，请直接 @ 对方")
    # a member command (签到榜, 我的积分, 我的等级 …) the same member repeats within this many seconds is
    # answered once (0: every time); keyword replies have their own per-group cooldown
    command_cooldown_seconds: Annotated[int, Field(ge=0)] = 60

    @property
    def report_to(self) -> tuple[str, ...]:
        """Who gets the group's reports (purge lists, daily stats, alerts) by direct message: its
        operators, else its admins; empty when it has neither (the reports are then not sent)."""
        return self.operators or self.admins

    if TYPE_CHECKING:
        def __getattr__(self, name: str) -> Any: ...  # the features' sections


class BotSettings(Section):
    name: str = "群管家"
    id: str = "qunbot"
    timezone: str = "Asia/Shanghai"
    database: str = "sqlite+aiosqlite:///data/qunbot.db"
    media_dir: str = "data/media"
    ad_model: str = "data/ad_model.json.gz"  # written by `qunbot train-ads`; the shipped model until then
    reports_dir: str = "data/reports"  # CSV purge lists and PNG charts sent to operators
    # a recipient of one job run's reports for at least this many groups gets one digest instead (0: never)
    report_digest_from: Annotated[int, Field(ge=0)] = 10
    # to the operators when a reload turns on a risky setting (rules/guardrails.py); {risks}: one a line
    risk_notice: template("risks") = (  # type: ignore[valid-type]
        "【配置提醒】刚重新加载的配置打开了有风险的设置：\n{risks}\n如果不是有意的，请改回 config.yaml。")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value


class OutboxSettings(Section):
    """Sending (bot/lanes.py, bot/outbox.py): a queue per chat; the account's slots go round the chats
    with something to send and are taken when a message goes, not when it is queued."""

    min_interval_seconds: Annotated[float, Field(ge=0)] = 1.0  # between two messages to one chat
    per_group_per_minute: Annotated[int, Field(gt=0)] = 20
    per_account_per_minute: Annotated[int, Field(gt=0)] = 40  # also the pace: one message every 60/N seconds
    burst: Annotated[int, Field(gt=0)] = 5  # messages the account may send back to back before the pace applies
    # a chat's queue; past it the oldest low-priority action is dropped (then the oldest normal one), never
    # a high-priority one (warnings, kicks, reports to operators)
    queue_per_group: Annotated[int, Field(gt=0)] = 20
    priority: dict[str, Literal["high", "normal", "low"]] = Field(default_factory=dict)  # rule glob -> priority
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


class WebSettings(Section):
    """The operators' web console (bot/web). The sign-in token comes from QUNBOT_WEB_TOKEN, never from here."""

    enabled: bool = False  # `qunbot run` serves it too (`qunbot web` serves it alone)
    host: str = "127.0.0.1"
    port: Annotated[int, Field(gt=0, lt=65536)] = 8080
    public: bool = False  # needed to bind another address than 127.0.0.1 / ::1 / localhost
    session_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 12.0
    secure_cookie: bool = False  # set behind a TLS reverse proxy: the cookie then travels over HTTPS only


class MetricsSettings(Section):
    """/healthz and /metrics on a port of their own (bot/web/operations.py); without a port, only the console
    serves them (when it is on). /metrics needs the QUNBOT_WEB_TOKEN bearer token when `public`."""

    port: Annotated[int, Field(gt=0, lt=65536)] | None = None
    host: str = "127.0.0.1"
    public: bool = False  # needed to bind another address than 127.0.0.1 / ::1 / localhost


class AccountSettings(Section):
    """One WeChat account of several (`accounts:`, README "Several accounts on one PostgreSQL"): its own
    puppet service, and the groups it serves ("all": every room it is in; else ids and name globs)."""

    id: str
    endpoint: str | None = None  # overrides wechaty.endpoint for this account
    token: str | None = None  # overrides wechaty.token; a ${ENV} reference only (SECRET_PATHS)
    groups: Any = "all"  # "all" | tuple of group ids and name globs (see `_groups`)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}", value):
            raise ValueError(f"account id {value!r}: letters, digits and _ . @ - only (at most 64)")
        return value

    @field_validator("groups", mode="before")
    @classmethod
    def _groups(cls, value: Any) -> str | tuple[str, ...]:
        if value == "all":
            return "all"
        if isinstance(value, list | tuple) and value and all(isinstance(g, str) and g.strip() for g in value):
            return tuple(value)
        raise ValueError('"all", or a list of group ids (…@chatroom) and name globs')


class FleetSettings(Section):
    """Several processes on one database (bot/fleet/): a group's lease lasts this long unless renewed
    (every third of it); the groups of an account that went silent are taken over once it ran out."""

    lease_seconds: Annotated[float, Field(ge=1, le=3600)] = 60.0


class _SecretPaths(tuple):  # type: ignore[type-arg]
    """Config paths that hold secrets; "*" in a path stands for any key or list index."""

    def __contains__(self, path: object) -> bool:
        return isinstance(path, tuple) and any(
            len(p) == len(path) and all(a == "*" or a == b for a, b in zip(p, path, strict=True)) for p in self)


SECRET_PATHS = _SecretPaths((("wechaty", "token"), ("accounts", "*", "token")))


class BotConfig(Section):
    """The whole config.yaml."""

    bot: BotSettings = BotSettings()
    # refuse settings that can hurt a community (rules/guardrails.py) instead of only warning
    strict: bool = False
    outbox: OutboxSettings = OutboxSettings()
    batch: BatchSettings = BatchSettings()
    wechaty: WechatySettings = WechatySettings()
    web: WebSettings = WebSettings()
    metrics: MetricsSettings = MetricsSettings()
    # several WeChat accounts, one process each (`qunbot run --account ID`); none: one account, bot.id
    accounts: tuple[AccountSettings, ...] = ()
    fleet: FleetSettings = FleetSettings()
    # Overrides keyed by a group id or a glob on the group name; validated after merging.
    groups: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("accounts")
    @classmethod
    def _unique_accounts(cls, value: tuple[AccountSettings, ...]) -> tuple[AccountSettings, ...]:
        ids = [a.id for a in value]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"account ids must differ: {', '.join(twice)} is given more than once")
        return value

    if TYPE_CHECKING:
        defaults: GroupSettings  # added by config_model()


@cache
def group_settings_model() -> type[GroupSettings]:
    """GroupSettings with every feature's section (handlers.FEATURES), built once."""
    from handlers import FEATURES
    from rules.templates import COMMON_FIELDS, SHARED_FIELDS

    fields: dict[str, Any] = {}
    for feature in FEATURES:
        for name, spec in feature.settings.items():
            if name in fields or name in GroupSettings.model_fields:
                raise ValueError(f"feature {feature.name!r}: the setting {name!r} is taken")
            fields[name] = spec
        for placeholder in feature.fields:
            if placeholder in COMMON_FIELDS or placeholder in SHARED_FIELDS:
                raise ValueError(f"feature {feature.name!r}: the placeholder {{{placeholder}}} is taken")
            SHARED_FIELDS.add(placeholder)
    return create_model("GroupSettings", __base__=GroupSettings, __module__=__name__, **fields)


@cache
def _field_makers() -> tuple[tuple[str, Any], ...]:
    from handlers import FEATURES

    return tuple((name, make) for feature in FEATURES for name, make in feature.fields.items())


def shared_fields(settings: GroupSettings) -> dict[str, str]:
    """The values of the placeholders features offer every template, for a group's settings."""
    return {name: make(settings) for name, make in _field_makers()}


@cache
def config_model() -> type[BotConfig]:
    """BotConfig with `defaults` of the assembled GroupSettings, built once."""
    group = group_settings_model()
    return create_model("BotConfig", __base__=BotConfig, __module__=__name__, defaults=(group, group()))
