"""Operations: `/healthz` and `/metrics` of a running bot, on the console's port and/or a port of their own.

- `/healthz` answers 200 with a small JSON when the bot is healthy, else 503 with the same JSON and
  the reasons in `problems`. Healthy means: the database answers a one-row question within
  `DB_TIMEOUT_SECONDS` (on a connection of its own; a closed store does not answer), the platform is
  connected (a platform that says so — Wechaty: a session with the puppet service is up; one without
  a `connected` attribute, such as the console, counts as connected while the bot runs) and no
  handled event has waited more than `COMMIT_LAG_LIMIT_SECONDS` for its commit. The age of the last
  event is reported, not judged: a quiet night is not an illness.
- `/metrics` is the Prometheus text format of a `CollectorRegistry` of this bot's own (never the
  library's global one, so several bots or tests in one process keep apart): the router's and the
  outbox's counters (bot/metrics.py) read at scrape time, gauges read from the live objects, and the
  library's process and Python collectors.
- Neither needs a session. `/healthz` tells nothing secret and is always open. `/metrics` needs
  `Authorization: Bearer $QUNBOT_WEB_TOKEN` (or a signed-in console session) on the console's port —
  that port is the one a reverse proxy may publish — and on the metrics port when it is public
  (`metrics.public`); on the metrics port bound to this machine (the default) it is open.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from bot.metrics import Histogram
from bot.web.keys import SESSION
from bot.web.security import TokenMissing, token_from_env, token_matches

if TYPE_CHECKING:
    from bot.app import Runtime
    from bot.core import Bot
    from bot.outbox import Outbox
    from bot.platform import Platform
    from rules.schema import MetricsSettings
    from storage.store import Store

log = logging.getLogger("qunbot.ops")
DB_TIMEOUT_SECONDS = 2.0
COMMIT_LAG_LIMIT_SECONDS = 60.0
LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
OPS: web.AppKey[Operations] = web.AppKey("operations")
METRICS_TOKEN: web.AppKey[str | None] = web.AppKey("metrics_token")  # None: /metrics is open on this site


def _version() -> str:
    try:
        return version("qunbot")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout that was never installed
        return "unknown"


class Operations:
    """One running bot's health and metrics (its registry, its collector, its health check)."""

    def __init__(self, bot: Bot, outbox: Outbox, platform: Platform, store: Store) -> None:
        self.bot, self.outbox, self.platform, self.store = bot, outbox, platform, store
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(BotCollector(self))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self._runner: web.AppRunner | None = None

    @classmethod
    def of(cls, runtime: Runtime, platform: Platform) -> Operations:
        return cls(runtime.bot, runtime.outbox, platform, runtime.store)

    def connected(self) -> bool:
        return bool(getattr(self.platform, "connected", True))

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, the JSON body): see the module doc for what healthy means."""
        problems: list[str] = []
        try:
            await asyncio.wait_for(self.store.ping(), DB_TIMEOUT_SECONDS)
            db_ok = True
        except Exception as exc:  # TimeoutError, a closed store, a database gone or locked …
            db_ok = False
            detail = str(exc).splitlines()[0][:200] if str(exc) else ""
            problems.append(f"database: {type(exc).__name__}{': ' + detail if detail else ''}")
        connected = self.connected()
        if not connected:
            problems.append("platform: disconnected")
        pending, lag = backlog(self.bot)
        if lag > COMMIT_LAG_LIMIT_SECONDS:
            problems.append(f"commits: the oldest of {pending} handled event(s) has waited {lag:.0f}s")
        age = self.bot.stats.last_event_age()
        body = {"status": "ok" if not problems else "unhealthy", "db_ok": db_ok, "platform_connected": connected,
                "last_event_age_seconds": None if age is None else round(age, 3),
                "commit_lag_seconds": round(lag, 3), "pending_events": pending,
                "queued_actions": self.outbox.lanes.queued, "problems": problems}
        return not problems, body

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def backlog(bot: Bot) -> tuple[int, float]:
    """Events handled but not committed, and the seconds the oldest of them has waited (the router's
    own bookkeeping, read as it stands: no method of the core's hot path exists for this)."""
    first = bot._first_pending
    return bot._pending_events, 0.0 if first is None else max(0.0, time.monotonic() - first)


def _held(fleet: Any) -> GaugeMetricFamily:
    held = GaugeMetricFamily("qunbot_fleet_groups_held", "Groups this account holds the lease of now.",
                             labels=["account"])
    held.add_metric([fleet.me], sum(1 for g in list(fleet.held) if fleet.holds(g)))
    return held


def _histogram(family: HistogramMetricFamily, labels: list[str], hist: Histogram) -> None:
    family.add_metric(labels, hist.cumulative(), hist.total)


class BotCollector:
    """Reads the bot's numbers at scrape time (the hot path only adds to plain counters)."""

    def __init__(self, ops: Operations) -> None:
        self.ops = ops

    def collect(self) -> Iterator[Metric]:
        bot, outbox, core, sent = self.ops.bot, self.ops.outbox, self.ops.bot.stats, self.ops.outbox.stats
        fleet = bot.fleet
        account = fleet.me if fleet is not None else ""
        info = GaugeMetricFamily("qunbot_info", "The bot's version, platform adapter and account (several "
                                 "accounts: join other series on this one's instance).",
                                 labels=["version", "platform", "account"])
        info.add_metric([_version(), type(self.ops.platform).__name__, account], 1)
        yield info
        if fleet is not None:
            yield _held(fleet)
            moves = CounterMetricFamily("qunbot_fleet_events", "Fleet bookkeeping by what happened (acquired, "
                                        "lost groups; events dropped as held_elsewhere or not_served; timers "
                                        "left to another account).", labels=["account", "what"])
            for what, n in sorted(fleet.counts.items()):
                moves.add_metric([account, what], n)
            yield moves
        events = CounterMetricFamily("qunbot_events_handled", "Events handled, by type.", labels=["type"])
        for kind, n in sorted(core.events.items()):
            events.add_metric([kind], n)
        yield events
        chain = HistogramMetricFamily("qunbot_event_handling_seconds", "One event through the handler chain.")
        _histogram(chain, [], core.event_seconds)
        yield chain
        handlers = HistogramMetricFamily("qunbot_handler_seconds", "Time in each handler that matched an event.",
                                         labels=["handler"])
        for name, hist in sorted(core.handler_seconds.items()):
            _histogram(handlers, [name], hist)
        yield handlers
        errors = CounterMetricFamily("qunbot_handler_errors", "Handlers that raised (logged and skipped).",
                                     labels=["handler"])
        for name, n in sorted(core.handler_errors.items()):
            errors.add_metric([name], n)
        yield errors
        commits = HistogramMetricFamily("qunbot_commit_seconds", "Commits: writing a batch until it is durable.")
        _histogram(commits, [], core.commit_seconds)
        yield commits
        yield CounterMetricFamily("qunbot_committed_events", "Events made durable.",
                                  value=core.committed_events)
        yield CounterMetricFamily("qunbot_commit_failures", "Commits that failed (and were retried).",
                                  value=core.commit_failures)
        pending, lag = backlog(bot)
        yield GaugeMetricFamily("qunbot_pending_events", "Handled events not committed yet.", value=pending)
        yield GaugeMetricFamily("qunbot_commit_lag_seconds", "How long the oldest uncommitted event has waited.",
                                value=lag)
        age = core.last_event_age()
        if age is not None:
            yield GaugeMetricFamily("qunbot_last_event_age_seconds", "Seconds since the bot took up its last event.",
                                    value=age)
        actions = CounterMetricFamily("qunbot_actions", "Actions that left the outbox, by kind and how "
                                      "(sent, failed, unsupported, dropped).", labels=["kind", "status"])
        for (kind, status), n in sorted(sent.actions.items()):
            actions.add_metric([kind, status], n)
        yield actions
        retries = CounterMetricFamily("qunbot_send_retries", "Failed sends tried again, by kind.", labels=["kind"])
        for kind, n in sorted(sent.retries.items()):
            retries.add_metric([kind], n)
        yield retries
        yield GaugeMetricFamily("qunbot_outbox_queued", "Actions waiting in the chats' queues.",
                                value=outbox.lanes.queued)
        waits = HistogramMetricFamily("qunbot_outbox_wait_seconds", "From ready to sent (pacing and queueing).")
        _histogram(waits, [], sent.wait_seconds)
        yield waits
        yield GaugeMetricFamily("qunbot_platform_connected", "1 while the platform is connected.",
                                value=1 if self.ops.connected() else 0)
        connects = getattr(self.ops.platform, "connects", None)
        if isinstance(connects, int):
            yield CounterMetricFamily("qunbot_platform_reconnects", "Sessions with the platform set up again "
                                      "after the first.", value=max(0, connects - 1))
        jobs = CounterMetricFamily("qunbot_job_runs", "Scheduled job and timer runs, by feature and result "
                                   "(ok, failed).", labels=["feature", "result"])
        for (feature, result), n in sorted(core.jobs.items()):
            jobs.add_metric([feature, result], n)
        yield jobs


# -- the routes -------------------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    healthy, body = await request.app[OPS].health()
    return web.Response(status=200 if healthy else 503, text=json.dumps(body, ensure_ascii=False),
                        content_type="application/json")


async def database_health(store: Store) -> tuple[bool, dict[str, Any]]:
    """`qunbot web` alone (no bot in the process): healthy when the database answers in time."""
    try:
        await asyncio.wait_for(store.ping(), DB_TIMEOUT_SECONDS)
    except Exception as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        return False, {"status": "unhealthy", "role": "console", "db_ok": False,
                       "problems": [f"database: {type(exc).__name__}{': ' + detail if detail else ''}"]}
    return True, {"status": "ok", "role": "console", "db_ok": True, "problems": []}


def _may_read_metrics(request: web.Request) -> bool:
    token = request.app[METRICS_TOKEN]
    if token is None:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given.strip() and token_matches(given.strip(), token):
        return True
    return request.get(SESSION) is not None  # a signed-in operator's browser, on the console's port


async def metrics(request: web.Request) -> web.Response:
    if not _may_read_metrics(request):
        return web.Response(status=401, text="/metrics needs Authorization: Bearer <QUNBOT_WEB_TOKEN>\n",
                            headers={"WWW-Authenticate": 'Bearer realm="qunbot"'})
    body = request.app[OPS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_routes(app: web.Application, ops: Operations, token: str | None) -> None:
    """/healthz and /metrics on `app`; `token`: what /metrics wants as a Bearer token (None: open)."""
    app[OPS] = ops
    app[METRICS_TOKEN] = token
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)


# -- the metrics port ---------------------------------------------------------------------------------


async def serve_alone(ops: Operations, settings: MetricsSettings) -> None:
    """Serve /healthz and /metrics on `metrics.host:metrics.port` (raises ValueError, TokenMissing, OSError)."""
    host, port = settings.host, settings.port
    assert port is not None
    local = host in LOCAL_HOSTS
    if not local and not settings.public:
        raise ValueError(f"metrics.host {host} is not this machine's own address: set metrics.public: true "
                         f"(then /metrics needs the QUNBOT_WEB_TOKEN bearer token)")
    token = None if local else token_from_env()
    app = web.Application()
    add_routes(app, ops, token)
    runner = web.AppRunner(app, access_log=None)  # scrapes every few seconds: not worth a log line each
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    ops._runner = runner
    where = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    log.info("health and metrics on %s/healthz and %s/metrics%s", where, where,
             "" if local else " (public: /metrics needs the bearer token)")


async def start_operations(runtime: Runtime, platform: Platform) -> Operations:
    """The bot's Operations; with `metrics: {port: …}` served on that port too (a failure to is logged, and
    the bot runs on). The console, when on, serves them on its own port (`start_console(ops=…)`)."""
    ops = Operations.of(runtime, platform)
    model = runtime.holder.current.model
    settings = model.metrics
    if settings.port is None:
        return ops
    if model.web.enabled and settings.port == model.web.port and settings.host == model.web.host:
        log.info("metrics.port is the console's port: the console serves /healthz and /metrics")
        return ops
    try:
        await serve_alone(ops, settings)
    except (OSError, ValueError, TokenMissing) as exc:
        log.error("health and metrics could not be served on port %s: %s", settings.port, exc)
    return ops

