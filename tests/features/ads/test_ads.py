"""ads: the red-packet prompt for links, cards, mini-programs, QR posters and pitches; excused by a red
packet; warnings, then removal or a report; flood and raid; admins exempt; observe mode."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import start_runtime
from bot.clock import DrivenClock
from bot.platform import Capabilities
from handlers import FEATURES
from handlers.ads.repository import AdsRepository
from rules.config import Config
from rules.reload import ConfigHolder
from tests.conftest import EventFactory, FakePlatform, feed, reopened, until
from tests.qr_images import poster

ADS = """
bot: {name: 小管家, id: bot}
outbox: {min_interval_seconds: 0, per_group_per_minute: 1000, per_account_per_minute: 1000}
defaults:
  admins: [admin1]
  operators: [op1]
  welcome: {enabled: false}
  ads:
    allow_domains: [docs.qq.com]
    allow_members: [partner1]
    pitch_words: {兼职: 1.0, 刷单: 2.0, 日结: 1.0}
    qrcode: {allow_urls: ["https://weixin.qq.com/g/OURGROUP123"]}
    flood_messages_per_minute: 5
    raid_new_members: 3
"""


@pytest.fixture
def config_text() -> str:
    return ADS


def link(make: EventFactory, **kw):
    return make("link", url="https://spam.example.cn/x", title="赚钱", **kw)


async def test_a_link_card_gets_the_red_packet_prompt(runtime, clock: DrivenClock, platform: FakePlatform,
                                                      make_event: EventFactory) -> None:
    event = link(make_event)
    await feed(runtime, clock, event)
    [sent] = platform.sent
    assert sent.rule == "ads/link" and sent.mentions == ("u1",) and "发红包" in sent.text
    assert sent.data == {"event": event.id, "kind": "link", "warnings": 1, "score": 1.0}


async def test_allowed_domains_members_and_admins_are_never_prompted(runtime, clock: DrivenClock,
                                                                     platform: FakePlatform,
                                                                     make_event: EventFactory) -> None:
    await feed(runtime, clock,
               make_event("link", url="https://docs.qq.com/doc/abc", title="课表"),
               link(make_event, user="admin1"), link(make_event, user="partner1"),
               make_event("mini_program", title="拼团", user="admin1"))
    assert platform.sent == []


async def test_cards_and_mini_programs_follow_the_group_policy(db_url: str, clock: DrivenClock,
                                                               make_event: EventFactory) -> None:
    config = Config.from_text(ADS + 'groups:\n  "宽松群":\n    ads: {contact_cards: allow, mini_programs: allow}\n')
    platform = FakePlatform()
    rt = await start_runtime(ConfigHolder(config), db_url, clock, platform, FEATURES)
    await feed(rt, clock,
               make_event("contact_card", card_name="代理小王"), make_event("mini_program", title="砍一刀", user="u2"),
               make_event("contact_card", card_name="老王", group="g2", group_name="宽松群"),
               make_event("mini_program", title="拼团", group="g2", group_name="宽松群"))
    await rt.close()
    assert [(a.rule, a.data["kind"]) for a in platform.sent] == [("ads/card", "card"), ("ads/mini_program",
                                                                                       "mini_program")]


async def test_a_qr_poster_is_caught_and_the_groups_own_invitation_is_allowed(
        runtime, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory, tmp_path: Path) -> None:
    spam = poster(tmp_path / "spam.jpg", "https://u.wechat.com/EAbCdEfG")
    ours = poster(tmp_path / "ours.jpg", "https://weixin.qq.com/g/OURGROUP123")
    theirs = poster(tmp_path / "theirs.jpg", "https://weixin.qq.com/g/OTHERGROUP9")
    plain = poster(tmp_path / "plain.jpg")
    events = [make_event("image", path=str(spam)), make_event("image", path=str(ours), user="u2"),
              make_event("image", path=str(plain), user="u3"), make_event("image", path=str(theirs), user="u4")]
    await feed(runtime, clock, *events)
    assert [(a.rule, a.data["kind"], a.mentions) for a in platform.sent] == [
        ("ads/qrcode", "qrcode", ("u1",)), ("ads/qrcode", "qrcode", ("u4",))]
    kinds = [r["data"].get("qr_kind") for e in (events[0], events[3])
             for r in await runtime.store.audit.audit_of_event(e.id) if "qr_kind" in r["data"]]
    assert kinds == ["contact", "group_invite"]


def test_allowing_every_group_invitation_is_no_longer_possible() -> None:
    from rules.loader import ConfigError

    for old in ("allow_group_invite: true", "allow: [https://weixin.qq.com/g/]"):
        with pytest.raises(ConfigError, match=r"qrcode\.allow_urls"):
            Config.from_text(f"defaults:\n  ads:\n    qrcode: {{{old}}}\n")


async def test_bad_images_are_skipped_with_a_reason(runtime, clock: DrivenClock, platform: FakePlatform,
                                                    make_event: EventFactory, tmp_path: Path) -> None:
    (tmp_path / "text.jpg").write_text("not an image", encoding="utf-8")
    good = poster(tmp_path / "cut.jpg", "https://u.wechat.com/x")
    (tmp_path / "truncated.jpg").write_bytes(good.read_bytes()[:5000])
    events = [make_event("image", path=str(tmp_path / name)) for name in ("text.jpg", "truncated.jpg", "nope.png")]
    events.append(make_event("image", path=""))
    await feed(runtime, clock, *events)
    assert platform.sent == []
    audit = await runtime.store.audit.audit_of_event(events[0].id)
    assert any("image skipped" in r["data"].get("reason", "") for r in audit)


async def test_a_red_packet_within_the_window_excuses_the_ad(runtime, clock: DrivenClock, platform: FakePlatform,
                                                             make_event: EventFactory) -> None:
    ad = link(make_event)
    paid = make_event("red_packet", after=120)
    late_ad = link(make_event, after=60)
    too_late = make_event("red_packet", after=11 * 60)
    await feed(runtime, clock, ad, paid, late_ad, too_late)
    rules = [(a.rule, a.data.get("excused"), a.data.get("warnings")) for a in platform.sent]
    assert rules == [("ads/link", None, 1), ("ads/link", True, 0), ("ads/link", None, 1)]
    assert platform.sent[1].data["event"] == paid.id and platform.sent[1].data["offence"] == ad.id
    assert "红包" in platform.sent[1].text


async def test_the_third_unpaid_ad_removes_the_member_and_tells_the_operators(
        runtime, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory) -> None:
    ads = [link(make_event, after=600), make_event("contact_card", card_name="代理", after=600),
           make_event("mini_program", title="砍一刀", after=600)]
    await feed(runtime, clock, *ads)
    kinds = [(a.action, a.rule, a.user or a.group, a.data.get("warnings")) for a in platform.sent]
    assert kinds == [("send", "ads/link", "g1", 1), ("send", "ads/card", "g1", 2),
                     ("kick", "ads/mini_program", "u1", 3), ("send", "ads/mini_program", "g1", 3),
                     ("send", "ads/mini_program", "op1", 3)]
    assert "再发就要请你出群" in platform.sent[1].text
    assert "砍一刀" in platform.sent[4].text and "移出群" in platform.sent[4].text


async def test_where_kicking_is_not_wanted_the_operators_get_the_evidence(db_url: str, clock: DrivenClock,
                                                                           make_event: EventFactory) -> None:
    config = Config.from_text(ADS.replace("    raid_new_members: 3\n",
                                          "    raid_new_members: 3\n    on_limit: report\n"))
    platform = FakePlatform()
    rt = await start_runtime(ConfigHolder(config), db_url, clock, platform, FEATURES)
    await feed(rt, clock, *[link(make_event, after=60) for _ in range(3)])
    await rt.close()
    assert [a.action for a in platform.sent] == ["send", "send", "send"]
    assert platform.sent[2].user == "op1" and "请管理员处理" in platform.sent[2].text


async def test_a_pitch_in_text_is_caught_and_innocent_use_is_not(runtime, clock: DrivenClock,
                                                                  platform: FakePlatform,
                                                                  make_event: EventFactory) -> None:
    ad = make_event(text="招 兼 职 刷 单，日结 300，加 V：ａｂｃ１２３４５")
    await feed(runtime, clock, make_event(text="我以前做过兼职，挺累的", user="u2"), ad)
    [sent] = platform.sent
    assert sent.data["event"] == ad.id and sent.data["kind"] in ("text", "link") and sent.rule.startswith("ads/")


async def test_flooding_gets_one_warning_and_a_report(runtime, clock: DrivenClock, platform: FakePlatform,
                                                      make_event: EventFactory) -> None:
    await feed(runtime, clock, *[make_event(text=f"刷屏 {i}", after=2) for i in range(9)])
    rules = [(a.rule, a.group or a.user) for a in platform.sent]
    assert rules == [("ads/flood", "g1"), ("ads/flood", "op1")]
    assert platform.sent[0].data["count"] == 6


async def test_a_raid_of_new_members_posting_the_same_text(runtime, clock: DrivenClock, platform: FakePlatform,
                                                           make_event: EventFactory) -> None:
    joins = [make_event("join", user=f"n{i}", user_name=f"新人{i}") for i in range(3)]
    posts = [make_event(text="大家好，欢迎来我的直播间看看", user=f"n{i}", user_name=f"新人{i}") for i in range(3)]
    await feed(runtime, clock, *joins, *posts)
    assert [(a.rule, a.group or a.user) for a in platform.sent] == [("ads/raid", "g1"), ("ads/raid", "op1")]
    assert platform.sent[1].data["members"] == ["n0", "n1", "n2"]


async def test_observe_mode_decides_and_logs_but_sends_nothing(db_url: str, clock: DrivenClock,
                                                               make_event: EventFactory) -> None:
    config = Config.from_text(ADS + 'groups:\n  "试运行*":\n    mode: observe\n')
    platform = FakePlatform()
    rt = await start_runtime(ConfigHolder(config), db_url, clock, platform, FEATURES)
    event = link(make_event, group="g9", group_name="试运行群")
    await feed(rt, clock, event)
    audit = await rt.store.audit.audit_of_event(event.id)
    await rt.close()
    assert platform.sent == []
    assert any(r["rule"] == "ads/link" and r["data"]["reason"].startswith("observe mode: would send") for r in audit)


async def test_owners_label_messages_for_retraining(runtime, clock: DrivenClock, platform: FakePlatform,
                                                    make_event: EventFactory) -> None:
    msg = make_event(text="周末有空一起喝茶吗")
    await feed(runtime, clock, msg)
    await feed(runtime, clock, make_event(text=f"/notad {msg.id}", user="admin1"),
               make_event(text=f"/ad {msg.id}", user="u2"))
    samples = await runtime.store.repository(AdsRepository).ad_samples()
    assert [(s["event_id"], s["label"], s["decided_by"]) for s in samples] == [(msg.id, "ham", "admin1")]
    assert "已记下" in platform.texts()[-1]


def test_train_ads_retrains_with_the_owners_decisions(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from handlers.ads.model import AdModel
    from tests.conftest import ROOT

    rows = [json.loads(line) for line in (ROOT / "tests/data/ad_evasions.jsonl").read_text(encoding="utf-8")
            .splitlines() if line.strip()]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": r["text"], "label": "spam" if r["label"] == "ad" else "ham"},
                                         ensure_ascii=False) + "\n" for r in rows * 3), encoding="utf-8")
    db = tmp_path / "bot.db"
    transcript = tmp_path / "t.jsonl"
    base = {"group": "g", "group_name": "群", "user": "u", "user_name": "小明"}
    transcript.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in [
        {**base, "id": "m1", "ts": "2026-03-02T10:00:00+08:00", "type": "text", "text": "周末一起去爬山吗"},
        {**base, "id": "m2", "ts": "2026-03-02T10:01:00+08:00", "type": "text", "text": "/notad m1", "user": "boss"},
    ]) + "\n", encoding="utf-8")
    (tmp_path / "config.yaml").write_text("defaults: {admins: [boss]}\n", encoding="utf-8")
    qunbot = [sys.executable, "-m", "bot.cli"]
    url = f"sqlite+aiosqlite:///{db}"
    subprocess.run([*qunbot, "replay", str(transcript), "--db", url], cwd=tmp_path, check=True, capture_output=True)
    out = tmp_path / "model.json.gz"
    result = subprocess.run([*qunbot, "train-ads", "--corpus", str(corpus), "--db", url, "--out", str(out)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "群主标注 1 条" in result.stdout
    assert len(AdModel.load(out)) > 0
    import re  # the summary line, last on stderr (no progress bar: stderr is not a terminal)

    lines = len(corpus.read_text(encoding="utf-8").splitlines())
    assert re.fullmatch(rf"train-ads: {lines} corpus lines, \d+ used \(DEV part\), 1 owner sample, "
                        rf"{len(AdModel.load(out))} n-grams kept, \d+\.\d s", result.stderr.splitlines()[-1])
    assert "\r" not in result.stderr


async def test_newcomers_greeting_alike_are_not_a_raid(runtime, clock: DrivenClock, platform: FakePlatform,
                                                       make_event: EventFactory) -> None:
    joins = [make_event("join", user=f"n{i}", user_name=f"新人{i}") for i in range(3)]
    posts = [make_event(text="大家好，很高兴认识大家", user=f"n{i}", user_name=f"新人{i}") for i in range(3)]
    await feed(runtime, clock, *joins, *posts)
    assert not [a for a in platform.sent if a.rule == "ads/raid"]


async def test_where_the_bot_cannot_remove_nobody_is_told_it_did(db_url: str, clock: DrivenClock,
                                                                 make_event: EventFactory) -> None:
    platform = FakePlatform(Capabilities(kick=False))  # the bot is not the owner or an admin
    rt = await start_runtime(ConfigHolder(Config.from_text(ADS)), db_url, clock, platform, FEATURES)
    try:
        await feed(rt, clock, *[link(make_event, after=600) for _ in range(3)])
    finally:
        await rt.close()
    after_kick = platform.sent[2:]
    assert [a.group or a.user for a in after_kick] == ["g1", "op1"]
    assert all("已请出群" not in (a.text or "") and "已移出" not in (a.text or "") for a in after_kick)
    assert "未能移出，已通知管理员手动处理" in after_kick[0].text and "请手动移出" in after_kick[1].text
    assert "小明" in after_kick[1].text  # names, not raw ids


def _count_questions(store) -> list:  # type: ignore[no-untyped-def]
    """The statements the store is asked from now on."""
    asked = []
    real = store.read

    async def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(args[0])
        return await real(*args, **kwargs)

    store.read = counted
    return asked


async def test_offences_are_asked_once_and_then_known_from_memory_also_after_a_restart(any_db_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.app import open_store

    t0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    since = t0 - timedelta(days=1)
    for run in range(2):
        store = open_store(any_db_url)
        await store.open()
        repo = store.repository(AdsRepository)
        asked = _count_questions(store)
        try:
            if run == 0:
                assert await repo.ad_warnings("g1", "u1", since) == 0  # loads the (empty) set of offenders
                repo.record_ad_offence("e1", "g1", "u1", t0, "link", "link", "https://x.example")
                store.events.record_event("e1", t0, "g1", "u1", "link", {"url": "https://x.example"}, t0)
                assert await repo.open_ad_offence("g2", "u9", since) is None  # nobody's offence: no question
                assert await repo.ad_warnings("g1", "u1", since) == 1  # an offender's count is asked
                assert len(asked) == 2
                await store.commit()
            else:  # a new process: the offenders are loaded once from the table
                assert await repo.ad_warnings("g1", "u2", since) == 0
                assert (await repo.open_ad_offence("g1", "u1", since) or {}).get("event_id") == "e1"
                assert await repo.ad_warnings("g1", "u3", since) == 0
                assert len(asked) == 2
        finally:
            await store.close()


async def test_offences_recorded_while_the_offenders_load_or_between_two_loads_are_kept(any_db_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    since = t0 - timedelta(days=1)
    store = await reopened(any_db_url)
    ads = store.repository(AdsRepository)
    try:
        loading = asyncio.create_task(ads.ad_warnings("g", "u9", since))
        await asyncio.sleep(0)  # the offenders are being loaded
        ads.record_ad_offence("e1", "g", "u1", t0, "text", "contact", "加我微信 abc12345")
        await loading
        assert await ads.ad_warnings("g", "u1", since) == 1
        ads.forget()  # as after a failed commit: loaded again, by two groups' first ads at once
        first = asyncio.create_task(ads.ad_warnings("g", "u9", since))
        second = asyncio.create_task(ads.ad_warnings("h", "u8", since))
        await until(lambda: ads._offenders is not None)  # the first load came back...
        await until(store._lock.locked)  # ...while the second is on its way
        assert await ads.ad_warnings("k", "u2", since) == 0
        ads.record_ad_offence("e2", "k", "u2", t0, "text", "contact", "加我微信 abc12345")
        await first
        await second
        assert await ads.ad_warnings("k", "u2", since) == 1
    finally:
        await store.close()
