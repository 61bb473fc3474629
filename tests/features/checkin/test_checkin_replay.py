"""A replay across several days through `qunbot replay` with the shipped config.yaml: ranks, streaks
(a missed day resets them), balances, "already", level-ups, leaderboards, and a duplicate delivery."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import CST
from tests.test_replay import replay

GROUP = {"group": "r1@chatroom", "group_name": "运营深度精选-一班"}
NAMES = {"a": "阿青-杭州-运营", "b": "小北-上海-产品", "c": "老陈-北京-运营"}


def _line(n: int, when: datetime, user: str, text: str) -> dict:
    return {"id": f"x{n}", "ts": when.isoformat(), "type": "text", **GROUP, "user": user,
            "user_name": NAMES[user], "text": text}


def _transcript() -> list[dict]:
    lines: list[dict] = []
    day0 = datetime(2026, 5, 4, tzinfo=CST)  # a Monday
    n = 0

    def say(day: int, hh: int, mm: int, user: str, text: str) -> dict:
        nonlocal n
        n += 1
        lines.append(_line(n, day0 + timedelta(days=day, hours=hh, minutes=mm), user, text))
        return lines[-1]

    # day 0: a, b, c check in in that order; a again ("already")
    say(0, 7, 0, "a", "签到")
    say(0, 7, 5, "b", "打卡")
    say(0, 7, 9, "c", "签到")
    say(0, 8, 0, "a", "签到！")
    # day 1: c first, then a; b skips
    say(1, 6, 0, "c", "签到")
    dup = say(1, 6, 30, "a", "签到")
    lines.append(dict(dup))  # the platform delivers it twice
    # day 2: b comes back (streak resets), a, c
    say(2, 9, 0, "b", "签到")
    say(2, 9, 1, "a", "签到")
    say(2, 23, 59, "c", "签到")
    say(2, 23, 59, "a", "积分榜")
    say(2, 23, 59, "b", "签到榜")
    say(2, 23, 59, "c", "连续签到榜")
    # day 3..13: a checks in every day and climbs to 活跃 (100 points)
    for day in range(3, 14):
        say(day, 8, 0, "a", "签到")
    say(13, 8, 5, "a", "我的积分")
    return lines


def test_replay_across_days(tmp_path: Path) -> None:
    transcript = tmp_path / "days.jsonl"
    transcript.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in _transcript()) + "\n")
    proc = replay(str(transcript), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    actions = [json.loads(x) for x in proc.stdout.splitlines()]
    checkins = [a for a in actions if a["rule"] == "checkin"]
    got = [(a["mentions"][0], a["data"]["rank"], a["data"]["streak"], a["data"]["points"], a["data"]["balance"],
            a["data"]["already"]) for a in checkins]
    assert got[:9] == [
        ("a", 1, 1, 5, 5, False), ("b", 2, 1, 5, 5, False), ("c", 3, 1, 5, 5, False), ("a", 1, 1, 0, 5, True),
        ("c", 1, 2, 6, 11, False), ("a", 2, 2, 6, 11, False),                     # duplicate answered once
        ("b", 1, 1, 5, 10, False), ("a", 2, 3, 7, 18, False), ("c", 3, 3, 7, 18, False),
    ]
    a_later = got[9:]
    assert [s for _, _, s, _, _, _ in a_later] == list(range(4, 15))
    assert a_later[-1][4] == 18 + sum(5 + min(s - 1, 10) for s in range(4, 15))
    [level] = [a for a in actions if a["rule"] == "levels"]
    assert level["data"]["level"] == "活跃" and level["mentions"] == ["a"]
    crossed = next(c for c in checkins if c["mentions"] == ["a"] and c["data"]["balance"] >= 100)
    assert level["data"]["event"] == crossed["data"]["event"]
    board = next(a for a in actions if a["rule"] == "points/board-all")
    assert board["text"].splitlines()[1:4] == [f"1. {NAMES['a']} 18 分", f"1. {NAMES['c']} 18 分",
                                               f"3. {NAMES['b']} 10 分"]
    todays = next(a for a in actions if a["rule"] == "checkin/board")
    assert [ln.split()[1] for ln in todays["text"].splitlines()[1:]] == [NAMES["b"], NAMES["a"], NAMES["c"]]
    streaks = next(a for a in actions if a["rule"] == "checkin/streaks")
    assert streaks["text"].splitlines()[1:] == [f"1. {NAMES['a']} 连续 3 天", f"2. {NAMES['c']} 连续 3 天",
                                                f"3. {NAMES['b']} 连续 1 天"]
    mine = next(a for a in actions if a["rule"] == "points/mine")
    assert mine["data"]["balance"] == a_later[-1][4] and mine["data"]["level"] == "活跃"
