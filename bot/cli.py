"""The `qunbot` command: run, web, replay, check-config, why, migrate, copy-db, train-ads, purge-list, stats,
forget-member. (The long ones' bodies, with progress and a summary line: bot/long_work.py, bot/copy_db.py.)"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.cli_args import db_url, existing_db, instant, one_line, positive_int
from rules.config import Config
from rules.guardrails import refuse_if_strict, risks
from rules.loader import ConfigError

if TYPE_CHECKING:
    from storage.store import Store

T = TypeVar("T")

log = logging.getLogger("qunbot")
DEFAULT_CONFIG = "config.yaml"


def _load_config(path: str | None) -> Config:
    """The config named, or ./config.yaml when present, or the embedded defaults."""
    if path is None:
        if Path(DEFAULT_CONFIG).exists():
            path = DEFAULT_CONFIG
        else:
            log.info("no config.yaml here: running on the embedded defaults")
            return Config.embedded()
    config = Config.from_file(path)
    refuse_if_strict(config)
    for risk in risks(config):
        log.warning("risky setting: %s", risk)
    return config


def _config_or_exit(path: str | None) -> Config:
    try:
        return _load_config(path)
    except ConfigError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        print(f"配置有 {len(exc.issues)} 处错误", file=sys.stderr)
        raise SystemExit(2) from None
    except OSError as exc:
        print(f"读不了配置文件：{exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _at(args: argparse.Namespace, config: Config) -> datetime:
    """--at (read in the bot's time zone when it has no offset), else now."""
    from datetime import UTC

    if args.at is None:
        return datetime.now(UTC)
    return args.at if args.at.tzinfo is not None else args.at.replace(tzinfo=config.tz)


def _iso(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a UTC offset, e.g. {value}+08:00")
    return when


def cmd_check_config(args: argparse.Namespace) -> int:
    from rules.check import check_file

    result = check_file(args.file)
    for line in result.lines():
        print(line)
    return 0 if result.ok else 2


def cmd_replay(args: argparse.Namespace) -> int:
    from bot.long_work import cmd_replay as replay_with_progress  # a bar on a terminal, a summary line

    return replay_with_progress(args)


async def _with_store(url: str, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open the store at `url` (migrating it), run `work(store)`, close it."""
    from bot.app import open_store

    store = open_store(url)
    await store.open()
    try:
        return await work(store)
    finally:
        await store.close()


def cmd_why(args: argparse.Namespace) -> int:
    from bot.explain import explain

    config = _config_or_exit(args.config)
    url = existing_db(args.db or config.model.bot.database)
    print(asyncio.run(_with_store(url, lambda store: explain(store.events, store.audit, args.event_id))))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from bot.long_work import cmd_migrate as migrate_with_progress  # SQLite or PostgreSQL; a summary line

    return migrate_with_progress(args)


def cmd_train_ads(args: argparse.Namespace) -> int:
    """Retrain the ad classifier: the corpus's DEV part plus the owners' /ad and /notad decisions."""
    from bot.long_work import cmd_train_ads as train_with_progress

    return train_with_progress(args)


async def _find_group(store: Store, wanted: str) -> tuple[str, str | None] | None:
    """A group by id or by its name (None, told on stderr, when there is no such group)."""
    named = await store.members.groups_named()
    if wanted in named:
        return wanted, named[wanted]
    matches = [(g, n) for g, n in named.items() if n == wanted]
    if len(matches) == 1:
        return matches[0]
    print(f"数据库里没有群「{wanted}」（写群 id 或完整群名）", file=sys.stderr)
    return None


def _for_group(args: argparse.Namespace, work: Callable[[Store, Config, str, str | None], Awaitable[int]]) -> int:
    """Run `work(store, config, group, name)` for the group named by --group (exit 2 when unknown)."""
    config = _config_or_exit(args.config)

    async def go(store: Store) -> int:
        found = await _find_group(store, args.group)
        if found is None:
            return 2
        return await work(store, config, *found)

    return asyncio.run(_with_store(existing_db(args.db or config.model.bot.database), go))


def cmd_purge_list(args: argparse.Namespace) -> int:
    """The purge list of one group as of now: printed, and as CSV with --csv."""

    from handlers.purge.listing import purge_list, write_csv
    from handlers.purge.repository import PurgeRepository

    async def work(store: Store, config: Config, group: str, name: str | None) -> int:
        settings = config.group(group, name).settings
        rows = await purge_list(store.repository(PurgeRepository), config, group, settings, _at(args, config),
                               days=args.days)
        print(f"{name or group}：{len(rows)} 人超过 {args.days or settings.purge.inactive_days} 天不活跃"
              f"（进群不满 {settings.purge.grace_days} 天的不算）")
        for c in rows:
            last = c.last_active_at.astimezone(config.tz).strftime("%Y-%m-%d") if c.last_active_at else "从未"
            print(f"{c.user_id}\t{c.display_name or ''}\t{c.days_silent} 天\t最后活跃 {last}\t{c.tier}")
        if args.csv:
            path = write_csv(rows, Path(args.csv), config.tz, header=settings.purge.csv_header,
                             never=settings.purge.csv_never)
            print(f"已写入 {path}")
        return 0

    return _for_group(args, work)


def cmd_stats(args: argparse.Namespace) -> int:
    """The activity-by-hour chart of one group over the last days, as a PNG."""

    from handlers.stats.repository import StatsRepository
    from handlers.stats.series import render_hourly_chart

    async def work(store: Store, config: Config, group: str, name: str | None) -> int:
        now = _at(args, config)
        path = await render_hourly_chart(store.repository(StatsRepository), config, group, name,
                                         now.astimezone(config.tz).date(), args.days, Path(args.png), until=now)
        print(f"已写入 {path}")
        return 0

    return _for_group(args, work)


def cmd_forget_member(args: argparse.Namespace) -> int:
    """Erase one member's data (in one group, or everywhere) and scrub the database."""
    from datetime import UTC

    from handlers.retention.forget import forget_from_cli

    config = _config_or_exit(args.config)

    async def go(store: Store) -> int:
        group = name = None
        if args.group:
            found = await _find_group(store, args.group)
            if found is None:
                return 2
            group, name = found
        return await forget_from_cli(store, config, args.user, group, name, datetime.now(UTC),
                                     vacuum=not args.no_vacuum, full=args.full)

    return asyncio.run(_with_store(existing_db(args.db or config.model.bot.database), go))


def cmd_web(args: argparse.Namespace) -> int:
    from bot.web.command import cmd_web as serve_console

    return serve_console(args)


def cmd_run(args: argparse.Namespace) -> int:
    from bot.fleet import CURRENT_ACCOUNT, choose_account, with_account
    from bot.runner import run_live

    config = _config_or_exit(args.config)
    CURRENT_ACCOUNT.set(choose_account(config, args.account).id)  # several accounts: bot/fleet/
    config = with_account(config, CURRENT_ACCOUNT.get() or "")
    if config.model.web.enabled:
        from bot.web.command import token_or_exit

        token_or_exit()
    config_path = args.config or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).exists() else None)
    try:
        return asyncio.run(run_live(config, config_path, args.adapter, args.db or config.model.bot.database,
                                    clock_start=args.clock_start))
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qunbot", description="A group-admin bot for WeChat groups.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug lines")
    parser.add_argument("--log-format", choices=["text", "json"], default="text",
                        help="log lines as text (default) or one JSON object a line (ts, level, logger, message …)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot live")
    run.add_argument("--adapter", choices=["console", "wechaty"], default="console")
    run.add_argument("--config", help="config file (default: ./config.yaml, else the embedded defaults)")
    run.add_argument("--db", type=db_url, help="SQLAlchemy async URL or a SQLite file (default: bot.database)")
    run.add_argument("--clock-start", type=_iso, help="for tests and demos: the bot's clock starts at this time "
                                                      "and runs on from there (scheduled jobs follow it)")
    run.add_argument("--account", help="run as this account of `accounts:` in config.yaml (several on one database)")
    run.set_defaults(func=cmd_run)

    wb = sub.add_parser("web", help="serve the operators' web console (needs QUNBOT_WEB_TOKEN)")
    wb.add_argument("--config")
    wb.add_argument("--db", type=db_url, help="the bot's database (default: bot.database)")
    wb.add_argument("--host", help="address to listen on (default: web.host, 127.0.0.1)")
    wb.add_argument("--port", type=positive_int, help="port (default: web.port, 8080)")
    wb.add_argument("--public", action="store_true", help="allow an address other than this machine's own")
    wb.set_defaults(func=cmd_web)

    pl = sub.add_parser("purge-list", help="members of a group inactive for N days (the daily purge list)")
    pl.add_argument("--group", required=True, help="group id or exact name")
    pl.add_argument("--days", type=positive_int, help="inactive for at least this many days (default: "
                                                     "purge.inactive_days)")
    pl.add_argument("--at", type=instant, help="as of this time (a replayed history): default now")
    pl.add_argument("--csv", help="also write the list as CSV (UTF-8 with BOM) to this file")
    pl.add_argument("--config")
    pl.add_argument("--db", type=db_url)
    pl.set_defaults(func=cmd_purge_list)

    st = sub.add_parser("stats", help="draw a group's activity by hour over the last days as a PNG")
    st.add_argument("--group", required=True, help="group id or exact name")
    st.add_argument("--days", type=positive_int, default=7)
    st.add_argument("--at", type=instant, help="the days up to this time (a replayed history): default now")
    st.add_argument("--png", required=True, help="where to write the chart")
    st.add_argument("--config")
    st.add_argument("--db", type=db_url)
    st.set_defaults(func=cmd_stats)

    fm = sub.add_parser("forget-member", help="erase a member's texts, images, samples, name and ledger notes")
    fm.add_argument("user", help="the member's id (or exact display name)")
    fm.add_argument("--group", help="only in this group, id or exact name (default: every group, direct messages too)")
    fm.add_argument("--no-vacuum", action="store_true", help="SQLite: secure_delete and a WAL checkpoint, no VACUUM")
    fm.add_argument("--full", action="store_true", help="PostgreSQL: VACUUM FULL the tables touched (locks them)")
    fm.add_argument("--config")
    fm.add_argument("--db", type=db_url)
    fm.set_defaults(func=cmd_forget_member)

    rp = sub.add_parser("replay", help="feed a JSONL transcript through the bot (replay-format.md)")
    rp.add_argument("transcript")
    rp.add_argument("--config")
    rp.add_argument("--db", type=db_url, help="keep state in this database (default: a fresh temporary file)")
    rp.add_argument("--until", type=_iso, help="after the last event, advance the clock to this time")
    rp.add_argument("--out", help="write actions here instead of stdout")
    rp.set_defaults(func=cmd_replay)

    cc = sub.add_parser("check-config", help="validate a config file and print every error")
    cc.add_argument("file")
    cc.set_defaults(func=cmd_check_config)

    why = sub.add_parser("why", help="which handlers and rules acted on an event, and why")
    why.add_argument("event_id")
    why.add_argument("--config")
    why.add_argument("--db", type=db_url)
    why.set_defaults(func=cmd_why)

    ta = sub.add_parser("train-ads", help="retrain the ad classifier with the owners' /ad and /notad decisions")
    ta.add_argument("--corpus", required=True, help="the labelled corpus (spam-zh.jsonl); its DEV part is used")
    ta.add_argument("--config")
    ta.add_argument("--db", type=db_url)
    ta.add_argument("--out", help="model file (default: bot.ad_model of the config)")
    ta.set_defaults(func=cmd_train_ads)

    mg = sub.add_parser("migrate", help="bring the database to the newest schema")
    mg.add_argument("--config")
    mg.add_argument("--db", type=db_url)
    mg.set_defaults(func=cmd_migrate)
    from bot.copy_db import add_parser as add_copy_db  # copy-db FROM_URL TO_URL (storage/copy.py)

    add_copy_db(sub)
    lv = sub.add_parser("lottery-verify", help="recompute a lottery draw's winners from its seed and pool")
    lv.add_argument("--seed", help="the seed published with the result (hex)")
    lv.add_argument("--pool", help="the pool: a file with one member id a line")
    lv.add_argument("--winners", type=positive_int, help="how many winners were drawn")
    lv.add_argument("--event", help="instead: check the stored draw of this 抽奖 command's event id")
    lv.add_argument("--config")
    lv.add_argument("--db", type=db_url)
    lv.set_defaults(func=cmd_lottery_verify)
    return parser


def cmd_lottery_verify(args: argparse.Namespace) -> int:
    from handlers.lottery.verify import verify

    url = existing_db(args.db or _config_or_exit(args.config).model.bot.database) if args.event else None
    return verify(args, url)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else getattr(logging, os.environ.get("QUNBOT_LOG", "INFO").upper(),
                                                       logging.INFO)
    from bot.logs import setup_logging

    setup_logging(level, args.log_format)
    for noisy in ("alembic", "aiosqlite", "apscheduler", "watchfiles"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with contextlib.suppress(BrokenPipeError):
        try:
            return int(args.func(args) or 0)
        except Exception as exc:
            message = one_line(exc)
            if message is None:
                raise
            print(f"qunbot: {message}", file=sys.stderr)
            return 2
    return 0



if __name__ == "__main__":
    sys.exit(main())
