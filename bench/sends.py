"""Outbound volume: how many messages the bot sends per 1,000 events of a realistic group mix.

    .venv/bin/python bench/sends.py [--events N] [--days D] [--seed S] [--config FILE]

The mix (seeded): 50 groups, 2,000 members (a third of them with a display name that does not fit
the shipped config's name format), over D local days, 08:00-23:00: 80% chat, 12% check-ins (签到, a
few twice a day), 3% joins, 3% red packets, 2% ads (pitches with a contact id). It runs through
`qunbot replay` (the real chain on config.yaml, scheduled jobs included, in a temporary database)
and prints the sends per 1,000 events (actions that post: send, send_image, send_file; direct
messages to operators counted apart), the top rules, the rename reminders split into first ones and
the daily follow-ups, and one line of JSON. Sending too much is the first reason a bot's WeChat account
gets restricted; the target is at most 150 per 1,000 events. Nobody renames in the mix: every member
whose name does not fit gets both reminders within the week (the first on join or first message, the
follow-up at `welcome.rename_followup_time` three days on).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
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
GROUPS, MEMBERS = 50, 2_000
TARGET = 150
CHAT = ["大家早上好", "今天的分享太有收获了", "有人一起去听周六的线下活动吗", "哈哈哈哈", "收到，谢谢老师",
        "这个问题我也遇到过，后来是重启解决的", "周末愉快", "晚安各位", "我觉得第二个方案更好一些", "👍👍"]
ADS = ["兼职刷单日结300，加V：abc12345", "低息贷款秒批，联系微信 dk88886", "代理招募，躺赚佣金，私聊我 qq 12345678"]
CITIES = ["北京", "上海", "深圳", "杭州", "成都"]


def member_name(rng: random.Random, n: int) -> str:
    if rng.random() < 1 / 3:
        return rng.choice(["小王", "Amy", "快乐每一天", "🌸"])  # does not fit 名字-公司-岗位-城市
    return f"成员{n}-公司{n % 97}-运营-{rng.choice(CITIES)}"


def transcript(events: int, days: int, seed: int, chat: list[str] = CHAT, ads: list[str] = ADS
               ) -> list[dict[str, Any]]:
    """The realistic mix (seeded); `chat` and `ads`: the texts its chat and its ads are drawn from."""
    rng = random.Random(seed)
    names = {f"u{n}": member_name(rng, n) for n in range(MEMBERS)}
    home = {u: f"g{rng.randrange(GROUPS)}@chatroom" for u in names}
    start = datetime(2026, 3, 2, 8, 0, tzinfo=CST)
    span = days * 24 * 3600
    times = sorted(rng.uniform(0, span) for _ in range(events))
    out = []
    for n, offset in enumerate(times):
        ts = start + timedelta(seconds=offset)
        if not 8 <= ts.hour < 23:
            ts = ts.replace(hour=8 + ts.hour % 15)
        user = rng.choice(list(names))
        roll = rng.random()
        base = {"id": f"s{n}", "ts": ts.isoformat(), "group": home[user], "group_name": f"城市群{home[user][1:3]}",
                "user": user, "user_name": names[user]}
        if roll < 0.80:
            out.append({**base, "type": "text", "text": rng.choice(chat)})
        elif roll < 0.92:
            out.append({**base, "type": "text", "text": "签到"})
        elif roll < 0.95:
            newcomer = f"n{n}"
            out.append({**base, "type": "join", "user": newcomer, "user_name": member_name(rng, MEMBERS + n)})
        elif roll < 0.98:
            out.append({**base, "type": "red_packet"})
        else:
            out.append({**base, "type": "text", "text": rng.choice(ads)})
    out.sort(key=lambda e: e["ts"])
    return out


def measure(events: int, days: int, seed: int, config_path: Path) -> dict[str, Any]:
    rows = transcript(events, days, seed)
    with tempfile.TemporaryDirectory(prefix="qunbot-sends-") as tmp:
        path = Path(tmp) / "mix.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        out = io.StringIO()
        asyncio.run(replay(Config.from_file(config_path), path, db_url=f"sqlite+aiosqlite:///{Path(tmp) / 'r.db'}",
                           until=None, out=out, errors=io.StringIO()))
    actions = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    posts = [a for a in actions if a["action"] in ("send", "send_image", "send_file")]
    in_groups = [a for a in posts if a.get("group")]
    by_rule = Counter(a["rule"] for a in in_groups)
    reminders = [a for a in in_groups if a["rule"] == "welcome/rename-reminder"]
    followups = [a for a in reminders if a["data"].get("followup")]
    return {"events": len(rows), "days": days, "sends": len(in_groups), "direct": len(posts) - len(in_groups),
            "per_1000": round(1000 * len(in_groups) / len(rows), 1),
            "direct_per_1000": round(1000 * (len(posts) - len(in_groups)) / len(rows), 1),
            "top": by_rule.most_common(8),
            "rename_reminders": {"first": len(reminders) - len(followups), "followup": len(followups),
                                 "mentions": sum(len(a.get("mentions") or ()) for a in reminders)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--config", default=str(ROOT / "config.yaml"))
    args = parser.parse_args(argv)
    f = measure(args.events, args.days, args.seed, Path(args.config))
    verdict = "ok" if f["per_1000"] <= TARGET else "MISSED"
    print(f"sends to groups per 1,000 events   {f['per_1000']:>7}  target <= {TARGET}: {verdict} "
          f"({f['sends']} for {f['events']} events over {f['days']} days)")
    print(f"direct messages per 1,000 events   {f['direct_per_1000']:>7}  (reports and alerts to operators)")
    for rule, n in f["top"]:
        print(f"  {rule:<32} {n:>6}  {1000 * n / f['events']:.1f} per 1,000")
    r = f["rename_reminders"]
    print(f"rename reminders (rule welcome/rename-reminder): {r['first']} first, {r['followup']} daily follow-ups, "
          f"{r['mentions']} mentions in all")
    print(json.dumps(f, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
