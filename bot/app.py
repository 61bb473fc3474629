"""Assembly: config + store + bot + outbox for a platform; start-up and shutdown in one place."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.clock import Clock
from bot.core import Bot
from bot.events import Action
from bot.feature import Feature, Handler, JobContext, JobSpec, as_features
from bot.heap import give_back_large_blocks
from bot.outbox import Outbox
from bot.platform import Platform
from rules.guardrails import Risk, risk_notice
from rules.reload import ConfigHolder
from storage.gcpause import freeze_startup
from storage.store import Store

log = logging.getLogger("qunbot.app")


@dataclass
class Runtime:
    """A running bot: the pieces wired together."""

    holder: ConfigHolder
    store: Store
    bot: Bot
    outbox: Outbox
    # run by close() before the store closes (bot/fleet/: leases given up, the process lock released)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def close(self) -> None:
        await self.bot.commit()
        await self.outbox.drain()
        await self.outbox.close()
        for closer in self.closers:
            await closer()
        await self.store.close()


def open_store(db_url: str, features: Iterable[Feature] | None = None, *, inline: bool = False) -> Store:
    """A store on `db_url` with the repositories of `features` (default: every feature); call `open()`.
    `inline`: SQLite statements on the event loop's thread (a replay; storage/sqlite_onehop.py)."""
    if features is None:
        from handlers import FEATURES

        features = FEATURES
    store = Store.from_url(db_url, inline=inline)
    for feature in features:
        feature.build_repository(store)
    return store


def operator_fallback(holder: ConfigHolder) -> callable:  # type: ignore[valid-type]
    """When the platform cannot do an action (e.g. kick), tell the group's operators by direct message."""

    def fallback(action: Action, why: str) -> list[Action]:
        config = holder.current
        settings = config.group(action.group).settings if action.group else config.model.defaults
        operators = settings.report_to or config.model.defaults.operators
        if not operators:
            log.warning("no operators configured to tell that %s could not be done", action.action)
            return []
        who = action.data.get("user_name") or action.user
        where = action.data.get("group_name") or action.group
        what = {"kick": f"请手动将「{who}」移出群「{where}」（原因：{action.reason or '-'}）",
                "recall": f"请手动撤回群「{where}」的一条消息（{action.message_id}）"}.get(
            action.action, f"机器人无法完成「{action.action}」（{where or who}）")
        return [Action(action="send", rule=action.rule, user=op, text=f"{what}。机器人做不到：{why}",
                       data={**action.data, "fallback_for": action.action}) for op in operators]

    return fallback


async def start_runtime(holder: ConfigHolder, db_url: str, clock: Clock, platform: Platform,
                        features: Iterable[Feature | Handler], *, resend_all: bool = False,
                        resend_only: Callable[[dict[str, Any]], bool] | None = None,
                        inline_sqlite: bool = False) -> Runtime:
    """Open the database (migrating it), wire bot and outbox, and resend what a crash left undelivered.

    Undelivered actions younger than `outbox.resend_within_minutes` are sent again (older ones are
    marked expired); with `resend_all` (replay) every one is. `resend_only` (several accounts on one
    database, bot/fleet/): only the rows it accepts are this process's to resend or expire.
    `inline_sqlite` (replay): SQLite statements run on the event loop's thread.
    """
    features = as_features(features)
    store = open_store(db_url, features, inline=inline_sqlite)
    await store.open()
    settings = holder.current.model.outbox
    outbox = Outbox(platform, clock, settings, store, fallback=operator_fallback(holder))
    bot = Bot(holder, store, clock, features, release=outbox.submit)
    runtime = Runtime(holder, store, bot, outbox)
    undelivered = [r for r in await store.audit.undelivered_actions() if resend_only is None or resend_only(r)]
    if undelivered:
        horizon = clock.now() - timedelta(minutes=settings.resend_within_minutes)
        fresh = [r for r in undelivered if resend_all or r["ts"] >= horizon]
        stale = [r["id"] for r in undelivered if r not in fresh]
        if stale:
            log.warning("%d undelivered action(s) are too old to send now; marked expired", len(stale))
            store.audit.mark_delivered(stale, "expired", clock.now())
        if fresh:
            log.info("sending %d action(s) left undelivered by the last run", len(fresh))
            await outbox.submit([(r["id"], Action.model_validate(r["body"]).model_copy(update={"ts": r["ts"]}))
                                 for r in fresh])
        await store.commit()
    freeze_startup()
    give_back_large_blocks()
    return runtime


async def unreported_groups(runtime: Runtime) -> list[str]:
    """The groups whose reports (purge lists, daily stats, alerts) would go nowhere — no operators and no
    admins — as "name (id)"; logged once at start. A database that knows no group yet is judged by the
    defaults ("all groups")."""
    config = runtime.holder.current
    named = await runtime.store.members.groups_named()
    if not named:
        missing = [] if config.model.defaults.report_to else ["all groups (the defaults have neither)"]
    else:
        missing = [f"{name or group} ({group})" for group, name in sorted(named.items(), key=lambda kv: kv[1] or kv[0])
                   if not config.group(group, name).settings.report_to]
    if missing:
        log.warning("no operators or admins to send reports to (purge lists, daily stats, alerts are not sent) "
                    "for %d group(s): %s; set operators or admins in config.yaml", len(missing),
                    "、".join(missing[:20]) + (" …" if len(missing) > 20 else ""))
    return missing


async def tell_operators_of_risks(bot: Bot, found: list[Risk]) -> bool:
    """A reload turned on risky settings (rules/guardrails.py): tell every operator of the config once,
    as a one-off job (recorded in the audit like any job run). False when there is nobody to tell."""
    config = bot.config
    operators = sorted({op for settings in config.variants() for op in settings.operators})
    if not operators:
        log.warning("a reload turned on risky settings and the config has no operators to tell: %s",
                    "; ".join(map(str, found)))
        return False
    text = risk_notice(config, found)
    codes = [f"{r.where}:{r.code}" for r in found]

    async def run(_ctx: JobContext) -> list[Action]:
        return [Action(action="send", rule="config/risk", user=op, text=text, data={"risks": codes})
                for op in operators]

    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
    return await bot.run_job(JobSpec(f"config-risk:{digest}", None, run), bot.clock.now())
