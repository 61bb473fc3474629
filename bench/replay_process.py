"""The replay of a realistic group mix as a whole process, start-up included (issue 16's speed figure).

    .venv/bin/python bench/replay_process.py [--events 100000] [--days 7] [--seed S] [--chat corpus|fixed]
        [--postgres] [--config config.yaml] [--keep DIR]

The mix (seeded): 50 groups, 2,000 members, over `--days` local days 08:00-23:00: 80% chat, 12% check-ins
(签到), 3% joins, 3% red packets, 2% ads (pitches with a contact). Chat is drawn from the ham lines of
the labelled corpus (shared/data/spam-zh.jsonl beside the checkout: thousands of distinct texts of every
length, so the ad detector's memo of short texts does not flatter the figure) and the ads from its spam
lines; `--chat fixed` (or no corpus) uses a few fixed sentences instead, as bench/sends.py does.

It runs `qunbot replay --config CONFIG MIX --db URL --out /dev/null` in a fresh process and times it from
spawn to exit: imports, migrations on an empty database, the handlers, the scheduled jobs the replay
fires over the days (announcements, purge lists, reports with their charts when operators are set,
anomaly checks, retention, timers), every commit, the outbox. On SQLite (a file in a temporary folder,
WAL, synchronous=FULL) and, with `--postgres`, on a throwaway PostgreSQL cluster (tests/pg_harness.py:
fsync off, so its figure is the database's work without the disk's). Beside it, the raw limit of the
same machine and moment: sqlite3 executemany of the same event rows into the bot's own `events` table
in one transaction (bench/replay_throughput.py's `run_raw`), and the ratio. Target: >= 5,000 events/s on
SQLite. Prints one line per run, then one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.replay_throughput import events_ddl, run_raw  # noqa: E402
from bench.sends import ADS, CHAT, transcript  # noqa: E402  (the realistic mix, with pools of our choosing)

TARGET = 5_000
CORPUS = ROOT.parent / "shared" / "data" / "spam-zh.jsonl"


def texts(chat: str) -> tuple[list[str], list[str], str]:
    """(chat texts, ad texts, where they come from)."""
    if chat == "corpus" and CORPUS.exists():
        ham, spam = [], []
        for line in CORPUS.open(encoding="utf-8"):
            row = json.loads(line)
            (spam if row["label"] == "spam" else ham).append(row["text"])
        return ham, spam, f"corpus ({len(ham)} ham, {len(spam)} spam lines)"
    return CHAT, ADS, "fixed sentences"


def run_replay(config: Path, mix: Path, db_url: str) -> dict[str, Any]:
    """`qunbot replay` in a fresh process, timed from spawn to exit."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bot.cli", "replay", "--config", str(config), str(mix),
                           "--db", db_url, "--out", "/dev/null"], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"replay failed ({done.returncode}):\n{done.stderr[-2000:]}")
    summary = next((line for line in reversed(done.stderr.splitlines()) if line.startswith("replay:")), "")
    return {"seconds": round(seconds, 2), "summary": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--chat", choices=("corpus", "fixed"), default="corpus")
    parser.add_argument("--config", default=str(ROOT / "config.yaml"))
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway PostgreSQL cluster")
    parser.add_argument("--keep", help="write the transcript and databases here (default: a temporary folder)")
    args = parser.parse_args(argv)
    chat, ads, source = texts(args.chat)
    with tempfile.TemporaryDirectory(prefix="qunbot-replay-process-") as tmp_name:
        tmp = Path(args.keep or tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)
        mix = tmp / "mix.jsonl"
        rows = transcript(args.events, args.days, args.seed, chat, ads)
        mix.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        db = tmp / "replay.db"
        db.unlink(missing_ok=True)
        figures: dict[str, Any] = {"events": len(rows), "days": args.days, "chat": source}
        sqlite_run = run_replay(Path(args.config), mix, f"sqlite+aiosqlite:///{db}")
        with sqlite3.connect(db) as con:
            stored = con.execute("SELECT count(*) FROM events").fetchone()[0]
        raw = run_raw(events_ddl(db), mix, tmp / "raw.db")
        (tmp / "raw.db").unlink(missing_ok=True)
        figures["sqlite"] = {**sqlite_run, "events_per_s": round(len(rows) / sqlite_run["seconds"]),
                             "stored": stored}
        figures["raw_rows_per_s"] = round(raw["rows_per_s"])
        figures["ratio_to_raw"] = round(len(rows) / sqlite_run["seconds"] / raw["rows_per_s"], 4)
        if args.postgres:
            from tests.pg_harness import running_server

            with running_server() as server:
                pg_run = run_replay(Path(args.config), mix, server.url())
            figures["postgres"] = {**pg_run, "events_per_s": round(len(rows) / pg_run["seconds"])}
    s = figures["sqlite"]
    verdict = "ok" if s["events_per_s"] >= TARGET else "MISSED"
    print(f"mix: {len(rows):,} events over {args.days} days, 50 groups, 2,000 members; chat from {source}")
    print(f"SQLite     {s['events_per_s']:>7,} events/s  ({s['seconds']} s, start-up included; target >= "
          f"{TARGET:,}: {verdict}); all {stored:,} events stored")
    if "postgres" in figures:
        p = figures["postgres"]
        print(f"PostgreSQL {p['events_per_s']:>7,} events/s  ({p['seconds']} s; throwaway cluster, fsync off)")
    print(f"raw limit  {figures['raw_rows_per_s']:>7,} rows/s    (sqlite3 executemany of the same event rows, one "
          f"transaction); the bot runs at {figures['ratio_to_raw']:.2%} of it")
    print(json.dumps(figures, ensure_ascii=False))
    return 0 if stored == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
