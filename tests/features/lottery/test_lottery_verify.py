"""A draw through the whole bot (every feature, the real router, the timer fired as replay fires it), then
`qunbot lottery-verify` recomputing its winners: from the stored draw (--event, which also catches a
tampered result) and from the published seed and a pool file (--seed --pool --winners); and a pending
draw that outlives a restart of the bot."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import start_runtime
from bot.cli import main
from bot.clock import DrivenClock
from bot.events import Action, Event
from handlers import FEATURES
from handlers.lottery.draw import seed_of, winners_of
from rules.config import Config
from rules.reload import ConfigHolder
from tests.conftest import BASIC_CONFIG, T0, EventFactory, FakePlatform, feed, fire_timers

MEMBERS = {f"m{n}": f"同学{n}" for n in range(1, 7)}


def winners_printed(out: str) -> list[str]:
    lines = out.strip().splitlines()
    header = next(n for n, line in enumerate(lines) if line.startswith("中奖 "))
    return lines[header + 1:]


async def through_the_bot(db: str) -> tuple[list[Event], list[Action]]:
    """Two draws in a group: one drawn by the third message after it, one by its timer (one message came)."""
    clock, platform, make_event = DrivenClock(T0), FakePlatform(), EventFactory()
    rt = await start_runtime(ConfigHolder(Config.from_text(BASIC_CONFIG)), db, clock, platform, FEATURES)
    try:
        chat = [make_event(text=f"早上好呀，我是{name}", user=user, user_name=name) for user, name in MEMBERS.items()]
        first = make_event(text="抽奖 2", user="admin1", user_name="班主任")
        after = [make_event(text="期待期待", user=u, user_name=MEMBERS[u]) for u in ("m1", "m2", "m3")]
        second = make_event(text="抽奖 1 3天", user="op1", user_name="运营", after=3600)
        lone = make_event(text="还有吗", user="m4", user_name=MEMBERS["m4"], after=30)
        await feed(rt, clock, *chat, first, *after, second, lone)
        await fire_timers(rt, clock, second.ts + timedelta(minutes=10))
        await rt.bot.commit()
        await rt.outbox.drain()
    finally:
        await rt.close()
    return [first, *after, second], platform.sent


def test_draws_through_the_bot_are_recomputed_by_lottery_verify(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    (first, *after, second), sent = asyncio.run(through_the_bot(db))
    draws = [a for a in sent if a.rule == "lottery"]
    assert [a.data["draw"] for a in draws] == [first.id, second.id]
    by_messages, by_timer = draws
    assert by_messages.data["event"] == after[-1].id and by_messages.data["pool"] == 6
    assert by_messages.data["seed"] == seed_of(first.id, [e.id for e in after])
    assert by_messages.data["winners"] == winners_of(by_messages.data["seed"], MEMBERS, 2)
    assert "event" not in by_timer.data and by_timer.data["seed_messages"] == 1
    assert by_timer.ts == second.ts + timedelta(minutes=10)
    assert [a.rule for a in sent if a.rule.startswith("lottery")] == [
        "lottery/started", "lottery", "lottery/started", "lottery"]

    for draw in draws:
        assert main(["lottery-verify", "--event", draw.data["draw"], "--db", db]) == 0
        out = capsys.readouterr().out
        assert "✗" not in out and out.count("✓") == 5
        assert winners_printed(out) == draw.data["winners"]

    pool = tmp_path / "pool.txt"
    pool.write_text("\n".join(reversed(MEMBERS)) + "\n\n", encoding="utf-8")  # any order, blank lines
    assert main(["lottery-verify", "--seed", by_messages.data["seed"], "--pool", str(pool), "--winners", "2"]) == 0
    out = capsys.readouterr().out
    assert winners_printed(out) == by_messages.data["winners"]
    assert f"名单 6 人，摘要 {by_messages.data['pool_digest']}" in out

    con = sqlite3.connect(tmp_path / "bot.db")
    con.execute("update lottery_draws set winners = ? where id = ?", ('["m6", "m5"]', first.id))
    con.commit()
    con.close()
    assert main(["lottery-verify", "--event", first.id, "--db", db]) == 1  # the stored winners were changed
    assert "✗ 中奖名单由种子和名单算出" in capsys.readouterr().out


def test_lottery_verify_refuses_what_it_cannot_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pool = tmp_path / "pool.txt"
    pool.write_text("a\nb\n", encoding="utf-8")
    assert main(["lottery-verify", "--seed", "not-hex", "--pool", str(pool), "--winners", "1"]) == 2
    assert main(["lottery-verify", "--seed", "0" * 64, "--pool", str(tmp_path / "none.txt"), "--winners", "1"]) == 2
    assert main(["lottery-verify", "--seed", "0" * 64]) == 2
    assert main(["lottery-verify", "--event", "x", "--db", str(tmp_path / "missing.db")]) == 2
    err = capsys.readouterr().err
    assert "64 位十六进制" in err and "读不了名单文件" in err and "用法" in err and "没有这个数据库文件" in err


async def test_a_pending_draw_keeps_its_pool_and_its_messages_across_a_restart(
        any_db_url: str, clock: DrivenClock, make_event: EventFactory) -> None:
    platform = FakePlatform()
    holder = ConfigHolder(Config.from_text(BASIC_CONFIG))
    rt = await start_runtime(holder, any_db_url, clock, platform, FEATURES)
    try:
        chat = [make_event(text=f"早上好呀，我是{name}", user=user, user_name=name) for user, name in MEMBERS.items()]
        command, before = make_event(text="抽奖 2", user="admin1"), make_event(text="第一条", user="m1")
        await feed(rt, clock, *chat, command, before)
    finally:
        await rt.close()
    rt = await start_runtime(holder, any_db_url, clock, platform, FEATURES)  # the same database, a new process
    try:
        joined = make_event("join", user="m9", user_name="新人")  # not a message: not part of the seed
        rest = [make_event(text="第二条", user="m9", user_name="新人"), make_event(text="第三条", user="m2")]
        await feed(rt, clock, joined, *rest)
    finally:
        await rt.close()
    [draw] = [a for a in platform.sent if a.rule == "lottery"]
    assert draw.data["seed_events"] == [command.id, before.id, *(e.id for e in rest)]
    assert draw.data["pool"] == 6 and "m9" not in draw.data["winners"]  # the pool was fixed at the command
    assert draw.data["winners"] == winners_of(seed_of(command.id, [before.id, *(e.id for e in rest)]), MEMBERS, 2)
