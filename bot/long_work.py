"""The commands that take a while: `replay`, `migrate`, `train-ads` (and `copy-db`, bot/copy_db.py).

Each shows a progress bar on stderr when stderr is a terminal (bot/progress.py; nothing otherwise) and
ends with one summary line on stderr, e.g.
`replay: 6000 events read, 2 bad lines, 313 actions (send 310, kick 3), 4.2 s`.
replay's stdout (the actions, replay-format.md) is exactly what it was: the bar and the summary are
stderr's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.progress import LinesAbove, Progress, counted, many, print_summary

if TYPE_CHECKING:
    from bot.adapters.replay import ReplayStats
    from storage.store import Store


def _config(path: str | None):  # type: ignore[no-untyped-def]
    from bot.cli import _config_or_exit

    return _config_or_exit(path)


def cmd_replay(args: argparse.Namespace) -> int:
    from bot.adapters.replay import ReplayStats, replay

    config = _config(args.config)
    transcript = Path(args.transcript)
    if not transcript.is_file():
        print(f"没有这个对话记录文件：{transcript}", file=sys.stderr)
        return 2
    size = transcript.stat().st_size
    with Progress("replay", size, unit="B", unit_scale=True) as bar:
        errors = LinesAbove(bar)  # bad lines (`LINE: reason`) go above the bar, and are counted

        def on_read(stats: ReplayStats) -> None:
            bar.to(stats.position)
            bar.note(f"{stats.events} events")

        stats = ReplayStats(on_read=on_read)
        out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
        try:
            status = asyncio.run(replay(config, transcript, db_url=args.db, until=args.until, out=out,
                                        errors=errors, stats=stats, read_ahead=True))
        finally:
            errors.flush()
            if args.out:
                out.close()
    actions = sum(stats.actions.values())
    kinds = counted(stats.actions.items())
    print_summary("replay", [many(stats.events, "event") + " read", many(errors.lines, "bad line"),
                             many(actions, "action") + (f" ({kinds})" if kinds else "")], bar.seconds)
    return status


def cmd_migrate(args: argparse.Namespace) -> int:
    from storage import migrate
    from storage.dialect import make_engine

    config = _config(args.config)
    url = args.db or config.model.bot.database

    async def go(bar: Progress) -> tuple[str | None, list[str]]:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                current, pending = await conn.run_sync(migrate.pending_sync)
            bar.total(len(pending))
            done: list[str] = []

            def applied(revision: str) -> None:
                done.append(revision)
                bar.describe(f"migrate {revision}")
                bar.advance()

            await migrate.upgrade(engine, applied)
            return current, done
        finally:
            await engine.dispose()

    with Progress("migrate", unit="revision") as bar:
        current, done = asyncio.run(go(bar))
    print("database is at the newest schema")
    head = migrate.head_revision()
    if done:
        what = f"{current or 'empty'} → {head}, {many(len(done), 'revision')} applied"
    else:
        what = f"already at {head}, nothing to do"
    print_summary("migrate", [what], bar.seconds)
    return 0


def cmd_train_ads(args: argparse.Namespace) -> int:
    """Retrain the ad classifier: the corpus's DEV part plus the owners' /ad and /notad decisions."""
    from bot.cli import _with_store
    from handlers.ads.model import corpus_split
    from handlers.ads.repository import AdsRepository
    from handlers.ads.training import train_model, train_steps

    config = _config(args.config)
    corpus = Path(args.corpus)
    if not corpus.is_file():
        print(f"no corpus at {corpus}: the labelled corpus spam-zh.jsonl is not part of this repository; it "
              "comes with the project's shared data (shared/data/spam-zh.jsonl beside the checkout; its README "
              "gives the sources)", file=sys.stderr)
        return 2
    with Progress("train-ads", train_steps(), unit="step") as bar:
        with corpus.open(encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        dev = [(r["text"], r["label"]) for r in rows if corpus_split(r["text"]) == "dev"]

        async def samples(store: Store) -> list[tuple[str, str]]:
            return [(s["text"], s["label"]) for s in await store.repository(AdsRepository).ad_samples()]

        extra = asyncio.run(_with_store(args.db or config.model.bot.database, samples))
        out = Path(args.out or config.model.bot.ad_model)
        out.parent.mkdir(parents=True, exist_ok=True)
        model = train_model(dev, extra=extra, meta={"corpus": corpus.name, "owner_samples": len(extra)},
                            on_step=bar.advance)
        model.save(out)
    print(f"用语料 {len(dev)} 条和群主标注 {len(extra)} 条训练完成，已写入 {out}（机器人下次启动时生效）")
    print_summary("train-ads", [many(len(rows), "corpus line"), f"{len(dev)} used (DEV part)",
                                many(len(extra), "owner sample"), many(len(model.weights), "n-gram") + " kept"],
                  bar.seconds)
    return 0
