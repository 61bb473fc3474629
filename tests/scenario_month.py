"""A generated transcript of three weeks in one training-camp group, for the scheduled jobs' tests:
daily chat peaking at 20:00, check-ins, members who fell silent, a newcomer, a join raid."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import CST

GROUP = {"group": "camp1@chatroom", "group_name": "运营深度精选-一班"}
START = datetime(2026, 5, 1, 0, 0, tzinfo=CST)  # a Friday
DAYS = 21
RAID_DAY = 18  # 2026-05-19 14:10–14:13: twelve joins
ACTIVE = [f"act{n}" for n in range(8)]
FADED = ["faded1", "faded2", "faded3"]  # talked in the first days, then silent
SILENT = ["mute1", "mute2"]  # in the room from the start, never a word
NEWCOMER = "newbie"  # joins on day 17, silent: in grace
ADMIN = "admin1"
OPERATOR = "op1"

CONFIG = f"""
bot: {{name: 小管家, id: qunbot}}
defaults:
  admins: [{ADMIN}]
  operators: [{OPERATOR}]
  welcome: {{enabled: false}}
  announcements:
    - {{time: "09:00", texts: ["早上好☀️ {{weekday}}，记得签到", "新的一天，发「签到」领积分"]}}
    - {{time: "21:00", texts: ["晚上好🌙 今天有什么收获？"]}}
    - {{time: peak, texts: ["高峰时段到啦，来聊聊今天的作业"]}}
  purge: {{time: "21:30", inactive_days: 14, grace_days: 7}}
  stats: {{time: "22:00"}}
"""


def name(user: str) -> str:
    return {ADMIN: "班主任", NEWCOMER: "新同学"}.get(user, f"{user}-城市-岗位")


def rows(seed: int = 3) -> list[dict]:
    rnd = random.Random(seed)
    out: list[dict] = []

    def add(when: datetime, type_: str, user: str | None = None, **kw: object) -> None:
        row = {"id": f"s{len(out)}", "ts": when.isoformat(), "type": type_, **GROUP, **kw}
        if user is not None:
            row |= {"user": user, "user_name": name(user)}
        out.append(row)

    everyone = [*ACTIVE, *FADED, *SILENT, ADMIN]
    add(START + timedelta(minutes=1), "roster", members=[{"id": u, "name": name(u)} for u in everyone])
    for day in range(DAYS):
        base = START + timedelta(days=day)
        talkers = ACTIVE + (FADED if day < 3 else [])
        for user in talkers:
            add(base + timedelta(hours=7, minutes=rnd.randrange(60)), "text", user, text="签到")
        for _ in range(30):
            hour = rnd.choice([20] * 6 + [12, 13, 19, 21, 22, 10])
            user = rnd.choice(talkers)
            add(base + timedelta(hours=hour, minutes=rnd.randrange(60)), "text", user, text="今天的内容很有收获")
        if day == 16:
            add(base + timedelta(hours=11), "join", NEWCOMER)
        if day == RAID_DAY:
            for n in range(12):
                add(base + timedelta(hours=14, minutes=10, seconds=15 * n), "join", f"raid{n}")
    out.sort(key=lambda r: r["ts"])
    return out


def write(folder: Path) -> tuple[Path, Path]:
    transcript = folder / "month.jsonl"
    transcript.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows()), encoding="utf-8")
    config = folder / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    return transcript, config


UNTIL = (START + timedelta(days=DAYS - 1, hours=23)).isoformat()
