"""The daily retention job: old texts go while counts, charts and purge lists stay; old images and
reports are deleted, inside their folders only; per-group days; the WAL holds no old copy after it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import select

from bot.clock import DrivenClock
from bot.events import Event, Outcome, reply
from handlers import jielong, retention
from handlers.ads.repository import AdsRepository
from handlers.ads.tables import AD_OFFENCES
from handlers.jielong.tables import CHAINS, ENTRIES
from handlers.points.repository import PointsRepository
from handlers.points.tables import LEDGER
from handlers.purge.repository import PurgeRepository
from handlers.red_packet.repository import RedPacketRepository
from handlers.red_packet.tables import RED_PACKET_QUEUE
from handlers.roll_call.repository import Call, RollCallRepository
from handlers.roll_call.tables import ROLL_CALLS
from scheduler.common import safe_name
from storage.tables import ACTIONS, EVENTS
from tests.conftest import BASIC_CONFIG, CST, EventFactory
from tests.features.conftest import OpenHarness
from tests.features.harness import FeatureHarness
from tests.features.retention.filebytes import file_holds

DUE = datetime(2026, 9, 1, 4, 0, tzinfo=CST)
MARK = "MARK-旧消息-8842"


def at(days_ago: float) -> Callable[..., Event]:
    return partial(EventFactory(DUE - timedelta(days=days_ago)), after=0)


def config_for(tmp_path: Path, extra: str = "") -> str:
    return BASIC_CONFIG.replace(
        "bot: {name: 小管家, id: bot}",
        f"bot: {{name: 小管家, id: bot, media_dir: '{tmp_path / 'media'}', reports_dir: '{tmp_path / 'reports'}'}}",
    ) + extra


async def payloads(h: object) -> dict[str, dict]:
    result = await h.store.read(select(EVENTS.c.id, EVENTS.c.payload))  # type: ignore[attr-defined]
    return {i: p for i, p in result}


def aged(path: Path, days: float, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    then = time.time() - days * 86400
    os.utime(path, (then, then))
    return path


async def test_old_texts_go_and_counts_stay(harness: OpenHarness, tmp_path: Path) -> None:
    h = await harness(retention.FEATURE, config_for(tmp_path))
    old = at(200)(text=f"很久以前 {MARK}", id="old1", user="u1", user_name="阿强")
    old_card = at(190)("contact_card", id="old2", card_name="某人的名片")
    recent = at(10)(text="最近的消息", id="new1")
    dm = at(200)(text="私聊很久以前", id="dm1", group=None, group_name=None)
    roster = at(200)("roster", id="r1", members=[{"id": "u1", "name": "阿强"}, {"id": "u2", "name": "阿珍"}],
                     user=None, user_name=None)
    h.clock.set(old.ts)
    h.settle(old, Outcome(actions=(reply(old, "keywords/群规", f"回复引用 {MARK}"),)))
    h.seen(old_card, recent, dm, roster)
    events = h.store.events
    before = (await events.event_count("g1", ["text", "contact_card"], DUE - timedelta(days=400), DUE),
              await events.hourly_activity("g1", DUE - timedelta(days=400), DUE),
              await events.talkers("g1", DUE - timedelta(days=400), DUE, 10))
    await h.store.commit()
    assert file_holds(h.store, MARK)  # the test can see it before

    _, notes = await h.run_job("retention:04:00", DUE)
    await h.store.commit()
    got = await payloads(h)
    assert got["old1"] == {"id": "old1", "ts": got["old1"]["ts"], "type": "text", "group": "g1", "user": "u1",
                           "mentions": [], "removed": "retention"}
    assert "card_name" not in got["old2"] and got["old2"]["removed"] == "retention"
    assert got["new1"]["text"] == "最近的消息"  # younger than texts_days
    assert "text" not in got["dm1"]  # direct messages follow the defaults
    assert got["r1"]["members"] == [{"id": "u1"}, {"id": "u2"}]
    after = (await events.event_count("g1", ["text", "contact_card"], DUE - timedelta(days=400), DUE),
             await events.hourly_activity("g1", DUE - timedelta(days=400), DUE),
             await events.talkers("g1", DUE - timedelta(days=400), DUE, 10))
    assert after == before  # the reports read columns, not texts
    assert await events.seen_events(["old1"]) == {"old1"}  # idempotency keeps its ids
    [(body, data)] = (await h.store.read(select(ACTIONS.c.body, ACTIONS.c.data).where(ACTIONS.c.event_id == "old1")))
    assert "text" not in body and body["rule"] == "keywords/群规" and data == {"event": "old1"}
    assert any("events 4" in n for n in notes)  # old1, old2, dm1, r1
    assert not file_holds(h.store, MARK)  # secure_delete, and the WAL checkpointed and truncated
    assert "WAL checkpointed and truncated" in h.store.scrubbed

    # the next day: nothing left to do
    _, notes = await h.run_job("retention:04:00", DUE + timedelta(days=1))
    assert any("events 0, actions 0" in n for n in notes)


async def test_purge_lists_are_the_same_after_the_texts_went(harness: OpenHarness, tmp_path: Path) -> None:
    h = await harness(retention.FEATURE, config_for(tmp_path))
    h.seen(at(300)("join", user="u_old", user_name="老潜水"), at(200)(text="说过一句", user="u_old"),
           at(250)("join", user="u_new"), at(5)(text="在的", user="u_new"))
    purge = h.store.repository(PurgeRepository)
    listed = await purge.inactive_members("g1", DUE - timedelta(days=14), DUE - timedelta(days=7))
    await h.run_job("retention:04:00", DUE)
    await h.store.commit()
    assert await purge.inactive_members("g1", DUE - timedelta(days=14), DUE - timedelta(days=7)) == listed
    assert [m.user_id for m in listed] == ["u_old"]


async def test_each_group_keeps_texts_for_its_own_days(harness: OpenHarness, tmp_path: Path) -> None:
    h = await harness(retention.FEATURE, config_for(tmp_path, '''
groups:
  "g2@chatroom": {retention: {texts_days: 30}}
'''))
    h.seen(at(60)(text="一班两个月前", id="a"), at(60)(text="二班两个月前", id="b", group="g2@chatroom"),
           at(10)(text="二班十天前", id="c", group="g2@chatroom"))
    await h.run_job("retention:04:00", DUE)
    got = await payloads(h)
    assert "text" in got["a"] and "text" not in got["b"] and "text" in got["c"]


async def test_old_ad_evidence_and_ledger_notes_are_blanked_amounts_stay(harness: OpenHarness,
                                                                         tmp_path: Path) -> None:
    h = await harness(retention.FEATURE, config_for(tmp_path))
    ads, points = h.store.repository(AdsRepository), h.store.repository(PointsRepository)
    h.seen(at(300)("join"))
    ads.record_ad_offence("ad-old", "g1", "u1", DUE - timedelta(days=200), "text", "contact", "加我微信 abc123")
    ads.record_ad_offence("ad-new", "g1", "u1", DUE - timedelta(days=2), "text", "contact", "加V xyz")
    await points.award_points("g1", "u1", 10, "grant", DUE - timedelta(days=200), actor="admin1", note="帮忙组织活动")
    await points.award_points("g1", "u1", 5, "grant", DUE - timedelta(days=1), actor="admin1", note="最近的理由")
    await h.run_job("retention:04:00", DUE)
    assert await ads.open_ad_offence("g1", "u1", DUE - timedelta(days=400)) is not None
    evidence = {i: e for i, e in await h.store.read(select(AD_OFFENCES.c.event_id, AD_OFFENCES.c.evidence))}
    assert evidence == {"ad-old": "", "ad-new": "加V xyz"}
    ledger = [(d, n) for d, n in await h.store.read(select(LEDGER.c.delta, LEDGER.c.note).order_by(LEDGER.c.ts))]
    assert ledger == [(10, None), (5, "最近的理由")]
    assert await points.balance("g1", "u1") == 15


async def test_old_images_and_reports_are_deleted_inside_their_folders_only(harness: OpenHarness,
                                                                            tmp_path: Path) -> None:
    h = await harness(retention.FEATURE, config_for(tmp_path, '''
groups:
  "g2@chatroom": {retention: {reports_days: 5}}
'''))
    media, reports = tmp_path / "media", tmp_path / "reports"
    old_image = aged(media / "g1" / "m1.jpg", 0)  # the event's time decides for an image with an event
    new_image = aged(media / "g1" / "m2.jpg", 0)
    outside = aged(tmp_path / "fixtures" / "poster.jpg", 0)  # a replay's image: not the bot's file
    orphan_old, orphan_new = aged(media / "x" / "lost.img", 40), aged(media / "x" / "fresh.img", 3)
    os.symlink(outside, media / "g1" / "link.jpg")
    h.seen(at(40)("image", id="i1", path=str(old_image)), at(3)("image", id="i2", path=str(new_image)),
           at(40)("image", id="i3", path=str(outside)), at(40)("image", id="i4", path=str(media / "g1" / "link.jpg")),
           at(40)("image", id="i5", path=str(media / ".." / "fixtures" / "poster.jpg")),
           at(1)(text="二班", group="g2@chatroom"))
    old_csv, new_csv = aged(reports / "purge-g1-2026-05-01.csv", 100), aged(reports / "purge-g1-2026-08-01.csv", 30)
    g2_csv = aged(reports / f"purge-{safe_name('g2@chatroom')}-2026-08-25.csv", 7)  # g2 keeps reports 5 days
    other = aged(reports / "notes.txt", 95)  # no group in its name: the defaults' 90 days

    _, notes = await h.run_job("retention:04:00", DUE)
    assert not old_image.exists() and new_image.exists()
    assert outside.exists() and (media / "g1" / "link.jpg").is_symlink()
    assert not orphan_old.exists() and orphan_new.exists()
    assert not old_csv.exists() and new_csv.exists() and not g2_csv.exists() and not other.exists()
    got = await payloads(h)
    assert got["i1"]["path"] == "" and got["i1"]["media_removed"] == "retention" and got["i2"]["path"]
    assert any("media 1" in n and "files 4" in n for n in notes)


async def test_a_group_that_keeps_its_data_is_left_alone(harness: OpenHarness, tmp_path: Path) -> None:
    h = await harness(retention.FEATURE, config_for(tmp_path, '''
groups:
  "g2@chatroom": {retention: {enabled: false}}
'''))
    kept = aged(tmp_path / "media" / "g2" / "old.img", 400)
    h.seen(at(400)(text="二班很久以前", id="b", group="g2@chatroom"), at(400)(text="一班", id="a"))
    _, notes = await h.run_job("retention:04:00", DUE)
    got = await payloads(h)
    assert "text" in got["b"] and "text" not in got["a"] and kept.exists()
    assert any("images no event names are kept" in n for n in notes)


async def test_a_backlog_is_done_over_several_runs(harness: OpenHarness, tmp_path: Path, monkeypatch) -> None:
    from handlers.retention import jobs, repository

    monkeypatch.setattr(jobs, "MAX_ROWS", 5)
    monkeypatch.setattr(repository, "PAGE", 2)
    h = await harness(retention.FEATURE, config_for(tmp_path))
    h.seen(*(at(300 - n)(text=f"旧{n}", id=f"o{n}") for n in range(8)))
    _, notes = await h.run_job("retention:04:00", DUE)
    assert any("rest goes in the next runs" in n for n in notes)
    assert sum("text" in p for p in (await payloads(h)).values()) == 2  # 6 of 8 done (pages of 2, 5 rows)
    await h.run_job("retention:04:00", DUE + timedelta(days=1))
    assert sum("text" in p for p in (await payloads(h)).values()) == 0


async def test_the_job_on_postgresql(pg_url: str, clock: DrivenClock, tmp_path: Path) -> None:
    h = await FeatureHarness.open(retention.FEATURE, pg_url, clock, config_for(tmp_path))
    try:
        old = at(200)(text=f"很久以前 {MARK}", id="old1")
        h.clock.set(old.ts)
        h.settle(old, Outcome(actions=(reply(old, "keywords/群规", f"回复引用 {MARK}"),)))
        h.seen(at(10)(text="最近的消息", id="new1"), at(100)("image", id="i1", path=str(tmp_path / "media" / "x.jpg")))
        aged(tmp_path / "media" / "x.jpg", 0)
        _, notes = await h.run_job("retention:04:00", DUE)
        await h.store.commit()
        got = await payloads(h)
        assert "text" not in got["old1"] and got["new1"]["text"] == "最近的消息"
        assert got["i1"]["path"] == "" and not (tmp_path / "media" / "x.jpg").exists()
        [(body,)] = await h.store.read(select(ACTIONS.c.body).where(ACTIONS.c.event_id == "old1"))
        assert "text" not in body and body["removed"] == "retention"
        assert any("events 1, actions 1" in n for n in notes) and h.store.scrubbed == ["left to autovacuum"]
    finally:
        await h.close()


async def test_old_jielong_lines_and_roll_call_quotes_go_the_count_stays(harness: OpenHarness, tmp_path: Path) -> None:
    h = await harness(retention.FEATURE, config_for(tmp_path))
    # 接龙 on the same database, its clock from before the first copy (a driven clock never goes back)
    jl = FeatureHarness(jielong.FEATURE, h.store, h.config, DrivenClock(DUE - timedelta(days=365)))

    async def post(days_ago: float, id_: str, user: str, text: str) -> Outcome | None:
        event = at(days_ago)(text=text, id=id_, user=user, user_name={"admin1": "群主"}.get(user, f"成员{user}"))
        outcome = await jl.call(event)
        jl.settle(event, outcome)
        return outcome

    def copy(title: str, *lines: str) -> str:
        return f"#接龙\n{title}\n例 张三 2人\n" + "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))

    await post(200, "a1", "u1", copy("旧活动", f"小明 {MARK}"))  # ended (expire_days 7) 193 days ago
    await post(199, "a2", "u2", copy("旧活动", f"小明 {MARK}", "小红"))
    await post(185, "c1", "u1", copy("刚结束", "小明"))  # ended 178 days ago: younger than texts_days
    await post(183, "b1", "u3", copy("关闭的", "小刚"))
    await post(182, "b2", "admin1", "结束接龙 关闭的")  # closed 182 days ago
    await post(3, "d1", "u1", copy("新活动", "小明"))
    calls, packets = h.store.repository(RollCallRepository), h.store.repository(RedPacketRepository)
    for key, days in (("k-old", 200), ("k-new", 1)):
        opened = DUE - timedelta(days=days)
        calls.open(Call(key, "g1", "admin1", opened, opened + timedelta(hours=2), opened + timedelta(hours=2),
                        f"开会 {key}，收到请扣1"))
    packets.queue("p-old", "g1", "u1", "小明", DUE - timedelta(days=200))
    packets.queue("p-new", "g1", "u2", "小红", DUE - timedelta(days=1))
    await h.store.commit()
    assert file_holds(h.store, MARK)

    _, notes = await h.run_job("retention:04:00", DUE)
    await h.store.commit()
    assert any("details 1, jielong 5, roll_calls 1" in n for n in notes), notes  # 2 + 1 lines, 2 examples
    lines = {(c, u): (name, content, status) for c, u, name, content, status in await h.store.read(
        select(ENTRIES.c.chain_id, ENTRIES.c.user_id, ENTRIES.c.user_name, ENTRIES.c.content, ENTRIES.c.status))}
    assert lines == {("a1", "u1"): (None, "", "ok"), ("a1", "u2"): (None, "", "ok"), ("b1", "u3"): (None, "", "ok"),
                     ("c1", "u1"): ("成员u1", "小明", "ok"), ("d1", "u1"): ("成员u1", "小明", "ok")}
    chains = {i: (t, e) for i, t, e in await h.store.read(select(CHAINS.c.id, CHAINS.c.title, CHAINS.c.example))}
    assert chains == {"a1": ("旧活动", None), "b1": ("关闭的", None), "c1": ("刚结束", "例 张三 2人"),
                      "d1": ("新活动", "例 张三 2人")}
    quotes = {i: t for i, t in await h.store.read(select(ROLL_CALLS.c.id, ROLL_CALLS.c.text))}
    assert quotes == {"k-old": "", "k-new": "开会 k-new，收到请扣1"}
    names = {i: n for i, n in await h.store.read(select(RED_PACKET_QUEUE.c.event_id, RED_PACKET_QUEUE.c.user_name))}
    assert names == {"p-old": None, "p-new": "小红"}
    assert not file_holds(h.store, MARK)

    # 接龙统计 of the old chain: its title, count and members as before
    asked = await post(0, "s1", "admin1", "接龙统计 旧活动")
    assert asked is not None
    [answer] = asked.actions
    assert (answer.data["title"], answer.data["count"], answer.data["members"]) == ("旧活动", 2, ["u1", "u2"])

    _, notes = await h.run_job("retention:04:00", DUE + timedelta(days=1))
    assert any("jielong 0, roll_calls 0" in n for n in notes)
