"""A flood bench: one member floods a group while 50 other groups talk as usual. Do the others wait?

    .venv/bin/python bench/flood.py [--flood N] [--groups G] [--minutes M] [--seed S] [--config FILE]

The transcript (seeded): from 10:00, G ordinary groups of 40 members each talk for M minutes (a
message every 40 s per group on average: 15% 签到, 4% 群规, 3% 我的积分, 2% 签到榜, the rest chat); at
10:01 one member of another group sends N messages within a minute. Three runs through `qunbot
replay` (the real chain on config.yaml with one operator added, on a temporary SQLite file): without
the flood (the baseline); with N 签到 (what the bot does: one check-in, one "already", one flood
warning, then silence); and with N 签到榜 that the flood group answers every time (its flood guard and
member cooldown turned off: what the outbox alone does — round-robin and the queue cap). The clock is
driven, so a delay is the instant an answer was sent (its `ts`, as the outbox paced it) minus the
instant of the message it answers. It prints, for the ordinary groups, the p50/p99/max answer delay
against the baseline, the target (p99 < 10 s) and the bound the outbox promises (the pace, 60 s /
per_account_per_minute, times the groups with something to send); for the flood group, the messages
sent per flooding message and what its full queue dropped; the account's busiest minute against its
budget. Then one line of JSON. Not a timed test: the figures are counts and driven-clock seconds, the
same on any machine.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import sqlite3
import sys
import tempfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.adapters.replay import replay  # noqa: E402
from rules.config import Config  # noqa: E402

CST = timezone(timedelta(hours=8))
START = datetime(2026, 3, 2, 10, 0, tzinfo=CST)
MEMBERS_PER_GROUP = 40
TARGET_P99 = 10.0
CHAT = ["大家好", "今天的分享太有收获了", "有人一起去听周六的线下活动吗", "哈哈哈哈", "收到，谢谢老师",
        "这个问题我也遇到过，后来是重启解决的", "我觉得第二个方案更好一些", "👍👍", "作业交了", "明天见"]
ASKS = [("签到", 0.15), ("群规", 0.04), ("我的积分", 0.03), ("签到榜", 0.02)]  # the rest is chat


def name(g: int, m: int) -> str:
    return f"成员{m}-公司{g}-运营-上海"  # fits the shipped name format: no rename reminders


def transcript(flood: int, groups: int, minutes: int, seed: int, word: str = "签到") -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for g in range(1, groups + 1):
        group = f"g{g}@chatroom"
        t = START + timedelta(seconds=rng.uniform(0, 40))
        while t < START + timedelta(minutes=minutes):
            m = rng.randrange(MEMBERS_PER_GROUP)
            roll = rng.random()
            text = next((w for w, p in ASKS if (roll := roll - p) < 0), None) or rng.choice(CHAT)
            rows.append({"ts": t, "type": "text", "group": group, "group_name": f"城市群{g}", "user": f"u{g}-{m}",
                         "user_name": name(g, m), "text": text})
            t += timedelta(seconds=rng.expovariate(1 / 40))
    flood_start = START + timedelta(minutes=1)
    for i in range(flood):
        rows.append({"ts": flood_start + timedelta(seconds=60 * i / max(flood, 1)), "type": "text",
                     "group": "flood@chatroom", "group_name": "刷屏群", "user": "flooder",
                     "user_name": name(0, 0), "text": word})
    rows.sort(key=lambda r: r["ts"])
    for n, row in enumerate(rows):
        row["id"] = f"e{n}"
        row["ts"] = row["ts"].isoformat()
    return rows


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# the flood group answers every message: no flood guard, no member cooldown (what the outbox alone does)
UNGUARDED = """groups:
  "flood@chatroom":
    command_cooldown_seconds: 0
    ads: {flood_messages_per_minute: 1000000}
"""


def run(flood: int, groups: int, minutes: int, seed: int, config_path: Path, *, word: str = "签到",
        unguarded: bool = False) -> dict[str, Any]:
    rows = transcript(flood, groups, minutes, seed, word)
    text = config_path.read_text(encoding="utf-8").replace("  operators: []", "  operators: [wxid_operator]", 1)
    if unguarded:
        text = text.replace("groups:\n", UNGUARDED, 1)
    config = Config.from_text(text)
    events = {r["id"]: r for r in rows}
    with tempfile.TemporaryDirectory(prefix="qunbot-flood-") as tmp:
        path = Path(tmp) / "flood.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        out = io.StringIO()
        db = Path(tmp) / "r.db"
        asyncio.run(replay(config, path, db_url=f"sqlite+aiosqlite:///{db}", until=None, out=out,
                           errors=io.StringIO()))
        with sqlite3.connect(db) as con:
            dropped = Counter(dict(con.execute(
                "select rule, count(*) from actions where status = 'dropped' group by rule").fetchall()))
    actions = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    delays: list[float] = []
    flood_sends = 0
    for a in actions:
        if a.get("group") == "flood@chatroom":
            flood_sends += 1
        event = events.get(a.get("data", {}).get("event"))
        if event is None or event["group"] == "flood@chatroom" or not a.get("group"):
            continue
        delays.append((datetime.fromisoformat(a["ts"]) - datetime.fromisoformat(event["ts"])).total_seconds())
    instants = sorted(datetime.fromisoformat(a["ts"]) for a in actions if a["action"] != "kick")
    busiest, lo = 0, 0
    for hi, t in enumerate(instants):  # the most sends in any 60-second window
        while instants[lo] <= t - timedelta(minutes=1):
            lo += 1
        busiest = max(busiest, hi - lo + 1)
    outbox = config.model.outbox
    pace = 60 / outbox.per_account_per_minute
    return {"events": len(rows), "flood": flood, "groups": groups, "minutes": minutes,
            "answers": len(delays), "p50": percentile(delays, 0.5), "p99": percentile(delays, 0.99),
            "max": max(delays, default=0.0), "flood_sends": flood_sends,
            "flood_dm": sum(1 for a in actions if a.get("user") == "wxid_operator"),
            "busiest_minute": busiest, "budget": outbox.per_account_per_minute, "pace": pace,
            "bound": pace * (groups + 1), "dropped": dict(dropped), "sends": len(actions),
            "answers_by_rule": Counter(a["rule"] for a in actions if a.get("group") not in (None, "flood@chatroom"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--minutes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--config", default=str(ROOT / "config.yaml"))
    args = parser.parse_args(argv)
    config = Path(args.config)
    base = run(0, args.groups, args.minutes, args.seed, config)
    f = run(args.flood, args.groups, args.minutes, args.seed, config)
    u = run(args.flood, args.groups, args.minutes, args.seed, config, word="签到榜", unguarded=True)
    print(f"{f['events']} events: {f['flood']} messages from one member within a minute, and {args.groups} groups "
          f"talking for {args.minutes} minutes ({f['answers']} answers there); driven clock")
    print(f"{'':44}{'p50':>7}{'p99':>8}{'max':>8}  p99/base  p99/bound  flood group sent  dropped")
    for label, r in (("no flood (baseline)", base), ("10,000 签到 (flood guard, cooldowns)", f),
                     ("10,000 签到榜 answered (the outbox alone)", u)):
        print(f"  {label:<42}{r['p50']:6.1f}s{r['p99']:7.1f}s{r['max']:7.1f}s"
              f"{r['p99'] / base['p99'] if base['p99'] else 1:9.2f}{r['p99'] / r['bound']:10.3f}"
              f"{r['flood_sends']:>11} ({r['flood_sends'] / max(r['flood'], 1):.4f}){sum(r['dropped'].values()):>8}")
    worst = max(f["p99"], u["p99"])
    print(f"other groups' p99 answer delay: {worst:.1f} s at worst; target < {TARGET_P99:.0f} s: "
          f"{'ok' if worst < TARGET_P99 else 'MISSED'} (bound: pace {f['pace']:.1f} s x {f['groups'] + 1} groups "
          f"= {f['bound']:.1f} s)")
    print(f"the flood of 签到: {f['flood_sends']} messages in the group ({f['flood_sends'] / max(f['flood'], 1):.4f} "
          f"a flooding message), {f['flood_dm']} report to the operator")
    print(f"the answered flood: {u['flood_sends']} answers sent in the flood group, {sum(u['dropped'].values())} "
          f"dropped by its full queue ({', '.join(f'{k} {v}' for k, v in u['dropped'].items()) or '-'}; audit "
          f"status dropped, an outbox/dropped note each)")
    for label, r in (("flood", f), ("answered flood", u)):
        print(f"account's busiest minute ({label}): {r['busiest_minute']} sends of {r['budget']} allowed "
              f"({r['busiest_minute'] / r['budget']:.2f})")
    print(json.dumps({"baseline": base, "flood": f, "answered_flood": u}, ensure_ascii=False, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
