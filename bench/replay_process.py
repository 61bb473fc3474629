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
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.replay_throughput import events_ddl, run_raw  # noqa: E402

CST = timezone(timedelta(hours=8))
GROUPS, MEMBERS = 50, 2_000
TARGET = 5_000
CORPUS = ROOT.parent / "shared" / "data" / "spam-zh.jsonl"
FIXED_CHAT = ["大家早上好", "今天的分享太有收获了", "有人一起去听周六的线下活动吗", "哈哈哈哈", "收到，谢谢老师",
              "这个问题我也遇到过，后来是重启解决的", "周末愉快", "晚安各位", "我觉得第二个方案更好一些", "👍👍"]
FIXED_ADS = ["兼职刷单日结300，加V：abc12345", "低息贷款秒批，联系微信 dk88886",
             "代理招募，躺赚佣金，私聊我 qq 12345678"]
CITIES = ["北京", "上海", "深圳", "杭州", "成都"]


def texts(chat: str) -> tuple[list[str], list[str], str]:
    """(chat texts, ad texts, where they come from)."""
    if chat == "corpus" and CORPUS.exists():
        ham, spam = [], []
        for line in CORPUS.open(encoding="utf-8"):
            row = json.loads(line)
            (spam if row["label"] == "spam" else ham).append(row["text"])
        return ham, spam, f"corpus ({len(ham)} ham, {len(spam)} spam lines)"
    return FIXED_CHAT, FIXED_ADS, "fixed sentences"


def transcript(events: int, days: int, seed: int, chat: list[str], ads: list[str]) -> list[dict[str, Any]]:
    rng = random.Random(seed)

    def name(n: int) -> str:
        if rng.random() < 1 / 3:
            return rng.choice(["小王", "Amy", "快乐每一天", "🌸"])
        return f"成员{n}-公司{n % 97}-运营-{rng.choice(CITIES)}"

    names = {f"u{n}": name(n) for n in range(MEMBERS)}
    home = {u: f"g{rng.randrange(GROUPS)}@chatroom" for u in names}
    users = list(names)
    start = datetime(2026, 3, 2, 8, 0, tzinfo=CST)
    out = []
    for n, offset in enumerate(sorted(rng.uniform(0, days * 86_400) for _ in range(events))):
        ts = start + timedelta(seconds=offset)
        if not 8 <= ts.hour < 23:
            ts = ts.replace(hour=8 + ts.hour % 15)
        user = rng.choice(users)
        base = {"id": f"e{n}", "ts": ts.isoformat(), "group": home[user], "group_name": f"城市群{home[user][1:3]}",
                "user": user, "user_name": names[user]}
        roll = rng.random()
        if roll < 0.80:
            out.append({**base, "type": "text", "text": rng.choice(chat)})
        elif roll < 0.92:
            out.append({**base, "type": "text", "text": "签到"})
        elif roll < 0.95:
            out.append({**base, "type": "join", "user": f"n{n}", "user_name": name(MEMBERS + n)})
        elif roll < 0.98:
            out.append({**base, "type": "red_packet"})
        else:
            out.append({**base, "type": "text", "text": rng.choice(ads)})
    out.sort(key=lambda e: e["ts"])
    return out


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
