"""A demo world for the web console: a few groups and a month of generated events, replayed through the
real bot into a database (`make demo-web`, and the console's tests).

    .venv/bin/python scripts/demo_world.py DB_FILE [--groups N] [--days D] [--seed S]

The groups: a training camp, a city group and a fan group, plus one whose name a member set to markup
(`<script>…`), as members can. Each day: chat peaking in the evening, check-ins in the morning, now and
then a join, a leave, a red packet and an ad (some disguised, one with markup in it); a few members fall
silent after the first week (the purge list has names on it).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.adapters.replay import replay  # noqa: E402
from rules.config import Config  # noqa: E402

CST = timezone(timedelta(hours=8))
START = datetime(2026, 11, 1, 0, 0, tzinfo=CST)
HOSTILE_GROUP = '<script>alert("群")</script>"><img src=x onerror=alert(1)>'
GROUP_NAMES = ["运营深度精选-一班", "上海运营交流群", "读书会粉丝群", HOSTILE_GROUP, "杭州同城群", "成都同城群"]
CHAT = ["大家早上好", "今天的分享太有收获了", "有人一起去听周六的线下活动吗", "哈哈哈哈", "收到，谢谢老师",
        "这个问题我也遇到过，后来是重启解决的", "周末愉快", "晚安各位", "我觉得第二个方案更好一些", "👍👍",
        "请问群规是什么？", "作业已经交了", "<b>加粗</b>不会生效吧"]
ADS = ["兼职刷单日结300，加V：abc12345", "低息贷款秒批，联系微信 dk88886", "代理招募，躺赚佣金，私聊我 qq 12345678",
       "薇芯 abc99887 带你炒币", '<img src=x onerror=alert(1)> 加微信 xyz77665 领福利']
ADMIN, OPERATOR = "admin1", "op1"

CONFIG = f"""
bot: {{name: 小群管家, id: qunbot}}
defaults:
  admins: [{ADMIN}]
  operators: [{OPERATOR}]
  purge: {{time: "21:30", inactive_days: 14, grace_days: 7}}
"""


def member_name(rng: random.Random, user: str) -> str:
    if rng.random() < 0.1:
        return rng.choice(["小王", "Amy", "🌸", '"><script>x</script>'])
    return f"{user}-{rng.choice(['北京', '上海', '杭州'])}-运营"


def transcript(groups: int = 4, days: int = 30, members: int = 40, seed: int = 7, start: datetime = START
               ) -> list[dict[str, Any]]:
    """The events from local midnight `start` on, in time order (see the module doc)."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    n = 0
    for g in range(groups):
        gid, gname = f"demo{g}@chatroom", GROUP_NAMES[g % len(GROUP_NAMES)] + ("" if g < len(GROUP_NAMES) else f"-{g}")
        users = [f"g{g}u{i}" for i in range(members)] + [ADMIN]
        names = {u: member_name(rng, u) for u in users}
        names[ADMIN] = "班主任"
        faded = set(rng.sample(users[:-1], k=max(1, members // 5)))
        for day in range(days):
            base_day = start + timedelta(days=day)
            talkers = [u for u in users if day < 7 or u not in faded]
            for _ in range(rng.randint(20, 60)):
                hour = rng.choices(range(8, 24), weights=[2, 3, 3, 2, 2, 3, 2, 2, 2, 2, 3, 4, 6, 8, 6, 3])[0]
                ts = base_day + timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))
                user = rng.choice(talkers)
                roll = rng.random()
                event: dict[str, Any] = {"id": f"d{n}", "ts": ts.isoformat(), "group": gid, "group_name": gname,
                                         "user": user, "user_name": names[user]}
                n += 1
                if roll < 0.03:
                    event.update(type="text", text=rng.choice(ADS))
                elif roll < 0.06:
                    event.update(type="red_packet")
                else:
                    event.update(type="text", text=rng.choice(CHAT))
                out.append(event)
            for user in rng.sample(talkers, k=len(talkers) // 3):  # morning check-ins
                ts = base_day + timedelta(hours=7, minutes=rng.randrange(120))
                out.append({"id": f"d{n}", "ts": ts.isoformat(), "group": gid, "group_name": gname, "user": user,
                            "user_name": names[user], "type": "text", "text": "签到"})
                n += 1
            if rng.random() < 0.3:
                user = f"g{g}new{day}"
                names[user] = member_name(rng, user)
                users.append(user)
                ts = base_day + timedelta(hours=rng.randint(9, 22))
                out.append({"id": f"d{n}", "ts": ts.isoformat(), "group": gid, "group_name": gname, "user": user,
                            "user_name": names[user], "type": "join"})
                n += 1
    out.sort(key=lambda e: e["ts"])
    return out


async def build(db: Path, groups: int = 4, days: int = 30, seed: int = 7, reports: Path | None = None,
                start: datetime = START, until: datetime | None = None) -> datetime:
    """Replay the world into the SQLite file `db` up to `until` (default: the midnight after the last
    day); returns that instant."""
    until = until or start + timedelta(days=days)
    rows = [r for r in transcript(groups, days, seed=seed, start=start) if datetime.fromisoformat(r["ts"]) < until]
    path = db.with_suffix(".jsonl")
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    config = Config.from_text(CONFIG)
    if reports is not None:
        config = config.with_bot(reports_dir=str(reports), media_dir=str(reports / "media"))
    await replay(config, path, db_url=f"sqlite+aiosqlite:///{db}", until=until, out=io.StringIO(),
                 errors=io.StringIO())
    path.unlink()
    return until


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--groups", type=int, default=4)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    db = Path(args.db)
    db.parent.mkdir(parents=True, exist_ok=True)
    if db.exists():
        db.unlink()
    # the month up to today, so that "today" on the console has numbers (the rest of today is empty)
    today = datetime.now(CST).replace(hour=0, minute=0, second=0, microsecond=0)
    until = asyncio.run(build(db, args.groups, args.days, args.seed, reports=db.parent / "reports",
                              start=today - timedelta(days=args.days - 1), until=datetime.now(CST)))
    print(f"demo database {db}: {args.groups} groups, {args.days} days, up to {until.isoformat()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
