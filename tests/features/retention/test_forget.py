"""Erasing one member: the chat command (删除数据 @成员) and `qunbot forget-member`. Their texts, images,
samples, name and ledger notes go, totals stay, an audit note says how much went, and no byte of what
went is left in the SQLite file or its WAL (nor, after VACUUM FULL, in PostgreSQL's table files)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.app import Runtime, open_store
from bot.audit import action_rows
from bot.cli import main
from bot.clock import DrivenClock
from bot.events import Action, Outcome, reply
from handlers import retention
from handlers.ads.repository import AdsRepository
from handlers.ads.tables import AD_OFFENCES, AD_SAMPLES
from handlers.jielong.tables import CHAINS, ENTRIES
from handlers.points.repository import PointsRepository
from handlers.points.tables import LEDGER
from handlers.red_packet.repository import RedPacketRepository
from handlers.red_packet.tables import RED_PACKET_QUEUE
from handlers.retention.forget import forget_member
from handlers.retention.repository import RetentionRepository
from handlers.roll_call.repository import Call, RollCallRepository
from handlers.roll_call.tables import ROLL_CALLS
from rules.config import Config
from storage.store import Store
from storage.tables import ACTIONS, EVENTS, MEMBERS
from tests.conftest import BASIC_CONFIG, T0, EventFactory, FakePlatform, feed, fire_timers
from tests.features.conftest import OpenHarness
from tests.features.retention.filebytes import file_holds

MARK = "MARK-秘密-4711"  # what the member wrote
NAME = "阿强MK"  # the member's display name
LINE = "阿强 带娃两人 LN-4711"  # the member's 接龙 line
EXAMPLE = "例 阿强 EX-4711"  # the example line of the chain they started


def config_for(tmp_path: Path) -> str:
    return BASIC_CONFIG.replace(
        "bot: {name: 小管家, id: bot}",
        f"bot: {{name: 小管家, id: bot, media_dir: '{tmp_path / 'media'}', reports_dir: '{tmp_path / 'reports'}'}}")


@pytest.fixture
def config_text(tmp_path: Path) -> str:
    return config_for(tmp_path)


def image(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "media" / "g1" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG fake " + MARK.encode())
    return path


async def member_story(rt: Runtime, clock: DrivenClock, tmp_path: Path) -> None:
    """u1 (NAME) joins, writes MARK, sends an image and a card; u2 chats; the owners label, warn, grant."""
    ev = EventFactory(T0)
    join = ev("join", id="j1", user="u1", user_name=NAME)
    said = ev(text=f"大家好 {MARK}", id="t1", user="u1", user_name=NAME, after=120)
    await feed(rt, clock, join, ev(text="你好呀", id="t2", user="u2", user_name="阿珍"), said,
               ev("image", id="i1", user="u1", user_name=NAME, path=str(image(tmp_path, "i1.jpg"))),
               ev("contact_card", id="c1", user="u1", user_name=NAME, card_name=f"{NAME}的朋友"),
               ev("roster", id="r1", user=None, user_name=None,
                  members=[{"id": "u1", "name": NAME}, {"id": "u2", "name": "阿珍"}]))
    store = rt.store
    store.repository(AdsRepository).record_ad_sample("t1", said.text, "ham", "g1", "admin1", clock.now())
    store.repository(AdsRepository).record_ad_sample("t2", "你好呀", "ham", "g1", "admin1", clock.now())
    store.repository(AdsRepository).record_ad_offence("t1", "g1", "u1", clock.now(), "text", "contact", MARK)
    await store.repository(PointsRepository).award_points("g1", "u1", 7, "grant", clock.now(), actor="admin1",
                                                         note=f"奖励 {MARK}")
    quoted = reply(said, "keywords/资料", f"你说的是「{MARK}」吗")
    report = Action(action="send", rule="stats_report", user="op1", text=f"最活跃：{NAME} 3 条、阿珍 1 条",
                    data={"group": "g1", "top": [["u1", 3], ["u2", 1]]})
    store.audit.record_actions(action_rows(["t1#9"], [quoted.model_copy(update={"ts": clock.now()})], "t1"))
    store.audit.record_actions(action_rows(["job:stats#0"], [report.model_copy(update={"ts": clock.now()})], None))
    (tmp_path / "reports").mkdir(exist_ok=True)
    (tmp_path / "reports" / "purge-g1-2026-03-01.csv").write_text(f"成员ID,群昵称\nu1,{NAME}\n", encoding="utf-8")
    (tmp_path / "reports" / "purge-g1-2026-02-01.csv").write_text("成员ID,群昵称\nu10,别人\n", encoding="utf-8")
    await store.commit()


async def rows(store: Store, stmt: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await store.read(stmt)]


async def test_the_admin_command_erases_the_member_for_real(runtime: Runtime, clock: DrivenClock,
                                                            platform: FakePlatform, tmp_path: Path) -> None:
    rt = runtime
    await member_story(rt, clock, tmp_path)
    balance = await rt.store.repository(PointsRepository).balance("g1", "u1")
    kinds, window = ["text", "image", "contact_card"], (T0, T0 + timedelta(minutes=20))
    texts = await rt.store.events.event_count("g1", kinds, *window)
    assert file_holds(rt.store, MARK) and file_holds(rt.store, NAME)

    command = EventFactory(T0 + timedelta(minutes=30))(text=f"删除数据 @{NAME}", id="cmd", user="admin1",
                                                       user_name="群主", mentions=["u1"])
    await feed(rt, clock, command)
    await fire_timers(rt, clock, command.ts)
    await rt.bot.drain()
    [answer] = [a for a in platform.sent if a.rule == "retention/forget"]
    assert answer.group == "g1" and NAME not in (answer.text or "") and "4 条消息" in (answer.text or "")
    assert (answer.data["events"], answer.data["media"], answer.data["samples"], answer.data["notes"]) == (4, 1, 1, 1)

    store = rt.store
    payloads = dict(await rows(store, select(EVENTS.c.id, EVENTS.c.payload)))
    for erased in ("j1", "t1", "i1", "c1", "cmd"):
        assert payloads[erased]["removed"] == "erasure" and "text" not in payloads[erased]
        assert "user_name" not in payloads[erased]
    assert payloads["t2"]["text"] == "你好呀"  # another member's message stays
    assert payloads["r1"]["members"] == [{"id": "u1"}, {"id": "u2", "name": "阿珍"}]
    assert not (tmp_path / "media" / "g1" / "i1.jpg").exists()
    assert await rows(store, select(AD_SAMPLES.c.event_id)) == [("t2",)]
    assert set(await rows(store, select(AD_OFFENCES.c.evidence))) == {("",)}  # the card was an ad too
    assert await rows(store, select(LEDGER.c.note).where(LEDGER.c.user_id == "u1")) == [(None,)] * len(
        await rows(store, select(LEDGER.c.id).where(LEDGER.c.user_id == "u1")))
    assert await rows(store, select(MEMBERS.c.display_name).where(MEMBERS.c.user_id == "u1")) == [("已删除成员",)]
    # totals stay: the balance, the counts of messages
    assert await store.repository(PointsRepository).balance("g1", "u1") == balance
    assert await store.events.event_count("g1", kinds, *window) == texts
    bodies = dict(await rows(store, select(ACTIONS.c.id, ACTIONS.c.body)))
    assert "text" not in bodies["t1#9"]  # the bot's answer to their message
    assert bodies["job:stats#0"]["text"] == "最活跃：已删除成员 3 条、阿珍 1 条"  # a report naming them
    assert not (tmp_path / "reports" / "purge-g1-2026-03-01.csv").exists()
    assert (tmp_path / "reports" / "purge-g1-2026-02-01.csv").exists()
    [note] = await rows(store, select(ACTIONS.c.data).where(ACTIONS.c.rule == "retention/forget",
                                                            ACTIONS.c.id.startswith("forget:")))
    assert note[0]["member"] == "u1" and note[0]["by"] == "admin1" and note[0]["events"] == 4
    # nothing of it left anywhere in the file, its free pages or its WAL
    assert not file_holds(store, MARK) and not file_holds(store, NAME)
    assert "VACUUM" in store.scrubbed and "WAL checkpointed and truncated" in store.scrubbed


async def test_members_are_refused_once_and_unknown_names_are_told(harness: OpenHarness, tmp_path: Path) -> None:
    h = await harness(retention.FEATURE, config_for(tmp_path))
    ev = EventFactory()
    asked = ev(text="删除数据 @阿珍", user="u5", user_name="小五")
    outcome = await h.call(asked)
    assert outcome is not None and outcome.stop and outcome.actions[0].rule == "retention/refused"
    h.settle(asked, outcome)
    again = await h.call(ev(text="删除数据 @阿珍", user="u5", user_name="小五"))
    assert again is not None and not again.actions and again.notes[0].rule == "retention/refused"
    unknown = await h.call(ev(text="删除数据 @没这个人", user="admin1"))
    assert unknown is not None and unknown.actions[0].text == "没有找到成员 没这个人"
    usage = await h.call(ev(text="/forget", user="op1"))
    assert usage is not None and "用法" in (usage.actions[0].text or "")
    assert await h.call(ev(text="删除数据库是什么意思", user="admin1")) is None


async def test_the_command_sets_a_timer_that_erases_and_answers(harness: OpenHarness, tmp_path: Path) -> None:
    h = await harness(retention.FEATURE, config_for(tmp_path))
    ev = EventFactory()
    h.seen(ev(text=f"我的话 {MARK}", id="m1", user="u1", user_name=NAME))
    outcome = await h.call(ev(text=f"/forget @{NAME}", id="cmd", user="admin1", mentions=["u1"]))
    assert outcome is not None and outcome.stop and not outcome.actions
    [timer] = outcome.timers
    assert timer.name == "forget" and timer.data["user"] == "u1" and timer.due == h.clock.now()
    h.settle(ev(text=f"/forget @{NAME}", id="cmd", user="admin1", mentions=["u1"]), Outcome())
    actions, notes, _ = await h.fire(timer)
    assert actions[0].rule == "retention/forget" and actions[0].data["events"] == 1 and "erased" in notes[0]
    await h.store.commit()
    assert not file_holds(h.store, MARK)


async def test_forget_member_on_the_command_line(runtime: Runtime, clock: DrivenClock, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    await member_story(runtime, clock, tmp_path)
    url = str(runtime.store.engine.url)
    await runtime.close()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(config_for(tmp_path), encoding="utf-8")
    assert await asyncio.to_thread(main, ["forget-member", "nobody", "--db", url, "--config", str(cfg)]) == 2
    assert "no member 'nobody'" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["forget-member", NAME, "--group", "测试群", "--db", url,
                                          "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "erased member u1 in g1: events 4, media 1, samples 1" in out and "VACUUM" in out
    store = open_store(url)
    await store.open()
    try:
        assert not file_holds(store, MARK) and not file_holds(store, NAME)
        assert await rows(store, select(MEMBERS.c.display_name).where(MEMBERS.c.user_id == "u2")) == [("阿珍",)]
    finally:
        await store.close()


async def test_a_copy_left_by_older_writes_goes_with_the_vacuum(tmp_path: Path) -> None:
    """A database written before secure_delete was on keeps what it deleted in its free pages: a
    checkpoint does not reach that, the erasure's VACUUM (the default) rebuilds the file without it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    store = open_store(url)
    await store.open()
    store.events.record_event("e1", T0, "g1", "u1", "text", {"text": f"旧的 {MARK}", "user_name": NAME}, T0)
    for n in range(100):  # other members' messages: e1 shares its page with them, not with e2
        store.events.record_event(f"f{n}", T0, "g1", "u9", "text", {"text": f"别人的话 {n} " * 10}, T0)
    store.events.record_event("e2", T0, "g1", "u1", "text", {"text": "还在的一句"}, T0)
    await store.close()
    raw = sqlite3.connect(tmp_path / "old.db")
    raw.execute("PRAGMA secure_delete=OFF")
    raw.execute("DELETE FROM events WHERE id = 'e1'")  # as an older version might have: the bytes stay
    raw.commit()
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    store = open_store(url)
    await store.open()
    try:
        config = Config.from_text(config_for(tmp_path))
        repo = store.repository(RetentionRepository)
        assert file_holds(store, MARK)
        erased = await forget_member(repo, config, "u1", None, T0, by="test", placeholder="已删除成员", vacuum=False)
        await store.commit()
        assert erased.events == 1 and file_holds(store, MARK)  # secure_delete and a checkpoint: not enough here
        await forget_member(repo, config, "u1", None, T0, by="test", placeholder="已删除成员", vacuum=True)
        await store.commit()
        assert not file_holds(store, MARK) and "VACUUM" in store.scrubbed
    finally:
        await store.close()


async def test_erasure_on_postgresql_vacuums_the_tables(pg_url: str, pg_server: Any, tmp_path: Path) -> None:
    store = open_store(pg_url)
    await store.open()
    try:
        ev = EventFactory()
        first = ev(text=f"说过 {MARK}", user="u1", user_name=NAME)
        for event in (first, ev(text="别人的话", user="u2", user_name="阿珍")):
            store.members.note_activity("g1", "测试群", event.user, event.user_name, event.ts, message=True)
            store.events.record_event(event.id, event.ts, event.group, event.user, event.type,
                                      event.model_dump(mode="json", exclude_none=True), event.ts)
        store.repository(AdsRepository).record_ad_sample(first.id, first.text, "ham", "g1", "admin1", first.ts)
        await store.commit()
        node = (await store.read(text("SELECT pg_relation_filenode('events')"))).scalar()
        config = Config.from_text(config_for(tmp_path))
        erased = await forget_member(store.repository(RetentionRepository), config, "u1", "g1", T0, by="test",
                                     placeholder="已删除成员", vacuum=True, full=True)
        await store.commit()
        assert (erased.events, erased.samples, erased.names) == (1, 1, 1)
        payloads = dict(await rows(store, select(EVENTS.c.id, EVENTS.c.payload)))
        assert "text" not in payloads[first.id] and payloads["e2"]["text"] == "别人的话"
        assert any(line.startswith("VACUUM (FULL, ANALYZE)") for line in store.scrubbed)
        # VACUUM FULL wrote the table anew: the file that held the old row is gone, the new one lacks it
        assert (await store.read(text("SELECT pg_relation_filenode('events')"))).scalar() != node
        relpath = (await store.read(text("SELECT pg_relation_filepath('events')"))).scalar()
        heap = Path(pg_server.datadir) / relpath
        try:
            data = heap.read_bytes()
        except OSError:
            pytest.skip("the server's files are not readable by this user")
        assert MARK.encode() not in data and b"MARK-" not in data
        # the chat command's way: a plain VACUUM of the tables touched
        await forget_member(store.repository(RetentionRepository), config, "u2", "g1", T0, by="test",
                            placeholder="已删除成员", vacuum=True)
        await store.commit()
        assert store.scrubbed == ["VACUUM (ANALYZE) actions, ad_offences, ad_samples, events, jielong_chains, "
                                  "jielong_entries, members, points_ledger, red_packet_queue, roll_calls, "
                                  "welcome_queue"]
        assert "text" not in dict(await rows(store, select(EVENTS.c.id, EVENTS.c.payload)))["e2"]
    finally:
        await store.close()


def jielong_copy(*lines: str) -> str:
    return f"#接龙\n周六羽毛球\n{EXAMPLE}\n" + "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))


async def jielong_story(rt: Runtime, clock: DrivenClock) -> EventFactory:
    """u1 (NAME) starts 周六羽毛球 (with an example line) and signs, 阿珍 (u2) signs after them, 小刚 (u3)
    sends a copy without u1's line (refused: the note quotes the line it dropped)."""
    ev = EventFactory(T0)
    await feed(rt, clock, ev("roster", id="r1", user=None, user_name=None, members=[
        {"id": "u1", "name": NAME}, {"id": "u2", "name": "阿珍"}, {"id": "u3", "name": "小刚"}]),
        ev(text=jielong_copy(LINE), id="j1", user="u1", user_name=NAME),
        ev(text=jielong_copy(LINE, "阿珍"), id="j2", user="u2", user_name="阿珍"),
        ev(text=jielong_copy("阿珍", "小刚"), id="j3", user="u3", user_name="小刚"))
    return ev


async def lines_of(store: Store) -> list[tuple[Any, ...]]:
    return await rows(store, select(ENTRIES.c.user_id, ENTRIES.c.user_name, ENTRIES.c.content, ENTRIES.c.status)
                      .order_by(ENTRIES.c.pos))


async def test_the_admin_command_blanks_the_members_jielong_lines_the_count_stays(
        runtime: Runtime, clock: DrivenClock, platform: FakePlatform, tmp_path: Path) -> None:
    rt = runtime
    ev = await jielong_story(rt, clock)
    refused = await rows(rt.store, select(ACTIONS.c.data).where(ACTIONS.c.event_id == "j3"))
    assert any(LINE in (d.get("lines") or []) for (d,) in refused)  # the test can see the quote before

    command = ev(text=f"删除数据 @{NAME}", id="cmd", user="admin1", user_name="群主", mentions=["u1"])
    await feed(rt, clock, command)
    await fire_timers(rt, clock, command.ts)
    await rt.bot.drain()
    [answer] = [a for a in platform.sent if a.rule == "retention/forget"]
    assert answer.data["jielong"] == 2  # their line and the example line of the chain they started
    assert (answer.data["roll_calls"], answer.data["red_packets"]) == (0, 0)

    store = rt.store
    assert await lines_of(store) == [("u1", None, "", "ok"), ("u2", "阿珍", "阿珍", "ok")]
    assert await rows(store, select(CHAINS.c.title, CHAINS.c.example, CHAINS.c.started_by)) == [
        ("周六羽毛球", None, "u1")]  # the title names the group's activity: it stays
    for (data,) in await rows(store, select(ACTIONS.c.data).where(ACTIONS.c.event_id == "j3")):
        assert LINE not in json.dumps(data, ensure_ascii=False)  # another member's note quoted their line
    [note] = await rows(store, select(ACTIONS.c.data).where(ACTIONS.c.id.startswith("forget:u1:")))
    assert note[0]["jielong"] == 2

    # 接龙统计 still counts their line (anonymous); the next copy that still shows it is taken, and
    # neither takes the erased text back nor gives that line to its sender
    ask = ev(text="接龙统计", id="s1", user="admin1", user_name="群主")
    later = ev(text=jielong_copy(LINE, "阿珍", "小刚"), id="j4", user="u3", user_name="小刚")
    again = ev(text="接龙统计", id="s2", user="admin1", user_name="群主")
    await feed(rt, clock, ask, later, again)
    first, second = [a for a in platform.sent if a.rule == "jielong"]
    assert (first.data["count"], first.data["members"]) == (2, ["u1", "u2"])
    assert (second.data["count"], second.data["members"]) == (3, ["u1", "u2", "u3"])
    assert await lines_of(store) == [("u1", None, "", "ok"), ("u2", "阿珍", "阿珍", "ok"), ("u3", "小刚", "小刚", "ok")]


async def test_forget_member_on_the_command_line_blanks_jielong_lines(
        runtime: Runtime, clock: DrivenClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    await jielong_story(runtime, clock)
    url = str(runtime.store.engine.url)
    await runtime.close()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(config_for(tmp_path), encoding="utf-8")
    assert await asyncio.to_thread(main, ["forget-member", "u1", "--db", url, "--config", str(cfg)]) == 0
    assert "jielong 2, roll_calls 0, red_packets 0" in capsys.readouterr().out
    store = open_store(url)
    await store.open()
    try:
        assert await lines_of(store) == [("u1", None, "", "ok"), ("u2", "阿珍", "阿珍", "ok")]
        assert await rows(store, select(CHAINS.c.example)) == [(None,)]
        payloads = dict(await rows(store, select(EVENTS.c.id, EVENTS.c.payload)))
        assert "text" not in payloads["j1"] and LINE in payloads["j2"]["text"]  # another member's copy stays
    finally:
        await store.close()


async def test_erasure_blanks_roll_call_quotes_and_queued_red_packet_names(harness: OpenHarness,
                                                                           tmp_path: Path) -> None:
    h = await harness(retention.FEATURE, config_for(tmp_path))
    ev = EventFactory()
    h.seen(ev(text="今晚 8 点开会 CALL-4711，收到请扣1", id="k1", user="admin1", user_name="群主"),
           ev("red_packet", id="p1", user="u1", user_name=NAME), ev("red_packet", id="p2", user="u2", user_name="阿珍"))
    calls, packets = h.store.repository(RollCallRepository), h.store.repository(RedPacketRepository)
    now = h.clock.now()
    calls.open(Call("k1", "g1", "admin1", now, now + timedelta(hours=2), None, "今晚 8 点开会 CALL-4711，收到请扣1"))
    calls.answer("k1", "u1", now, "a1")
    packets.queue("p1", "g1", "u1", NAME, now)
    packets.queue("p2", "g1", "u2", "阿珍", now)
    await h.store.commit()
    assert (await calls.open_call("g1", now)).text.startswith("今晚")  # type: ignore[union-attr]
    config = Config.from_text(config_for(tmp_path))
    repo = h.store.repository(RetentionRepository)
    member = await forget_member(repo, config, "u1", "g1", now, by="test", placeholder="已删除成员", vacuum=True)
    admin = await forget_member(repo, config, "admin1", "g1", now, by="test", placeholder="已删除成员", vacuum=True)
    await h.store.commit()
    assert (member.red_packets, member.roll_calls, admin.roll_calls, admin.red_packets) == (1, 0, 1, 0)
    assert await rows(h.store, select(RED_PACKET_QUEUE.c.event_id, RED_PACKET_QUEUE.c.user_name)
                      .order_by(RED_PACKET_QUEUE.c.event_id)) == [("p1", None), ("p2", "阿珍")]
    assert await rows(h.store, select(ROLL_CALLS.c.text)) == [("",)]
    still = await calls.open_call("g1", now)  # the cached open roll call is read again, without its quote
    assert still is not None and still.text == "" and await calls.answered("k1") == ["u1"]
    assert not file_holds(h.store, "CALL-4711")
