"""The 扣1 handler alone: an admin opens a roll call (a member cannot), members' 1s in every form count
once each, 扣1统计's facts, the window's end by direct message to the operators with the same facts,
and one roll call through the whole bot."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from bot.app import Runtime
from bot.clock import DrivenClock
from bot.events import Outcome, Timer
from handlers import roll_call
from tests.conftest import BASIC_CONFIG, T0, EventFactory, FakePlatform, feed
from tests.features.conftest import OpenHarness
from tests.features.harness import FeatureHarness, texts

CALL = "今晚 8 点开会，收到请扣1"
NAMES = {"u1": "小明", "u2": "小红", "u3": "小刚", "u4": "小李", "u5": "小王", "u6": "小张", "admin1": "群主"}


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """The tests through the whole bot run on SQLite and on PostgreSQL."""
    return any_db_url


async def say(h: FeatureHarness, ev: EventFactory, user: str, text: str, **kw: Any) -> Outcome | None:
    event = ev(text=text, user=user, user_name=NAMES.get(user, user), **kw)
    outcome = await h.call(event)
    h.settle(event, outcome)
    return outcome


async def roster(h: FeatureHarness, *users: str) -> None:
    await h.store.members.sync_roster("g1", "测试群", [(u, NAMES.get(u, u)) for u in users], T0, complete=True)


async def opened(h: FeatureHarness, ev: EventFactory, text: str = CALL) -> Timer:
    outcome = await say(h, ev, "admin1", text)
    assert outcome is not None and not outcome.actions and len(outcome.timers) == 1
    assert outcome.notes[0].rule == "roll_call/open" and "扣1开始" in outcome.notes[0].reason
    return outcome.timers[0]


async def stats(h: FeatureHarness, ev: EventFactory) -> dict[str, Any]:
    outcome = await say(h, ev, "admin1", "扣1统计")
    assert outcome is not None and len(outcome.actions) == 1 and outcome.actions[0].rule == "roll_call"
    action = outcome.actions[0]
    return {**action.data, "text": action.text, "mentions": list(action.mentions), "group": action.group}


async def test_an_admins_kou1_opens_a_roll_call_silently_until_the_window_ends(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(roll_call.FEATURE)
    timer = await opened(h, make_event)
    assert timer.name == "end" and timer.due == T0 + timedelta(seconds=1, minutes=120)
    assert timer.data["group"] == "g1" and len(timer.key) <= 128
    assert await say(h, make_event, "admin1", "违规扣10分") is None  # a digit after it: not 扣1


async def test_members_ones_count_once_each_in_every_form(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(roll_call.FEATURE)
    await opened(h, make_event)
    counted = {}
    for user, text in (("u1", "1"), ("u1", "１"), ("u2", "1️⃣"), ("u3", "+1"), ("u4", "扣1"), ("u5", "我有1个问题"),
                       ("u5", "11"), ("u6", "＋１")):
        outcome = await say(h, make_event, user, text)
        assert outcome is None or not outcome.actions  # the members' 1s get no reply
        counted[(user, text)] = outcome.notes[0].reason if outcome else None
    assert counted[("u1", "1")] == "扣1已记录" and counted[("u1", "１")] == "已经扣过1：只算一次"
    assert counted[("u5", "我有1个问题")] is None and counted[("u5", "11")] is None
    assert (await stats(h, make_event))["answered"] == ["u1", "u2", "u3", "u4", "u6"]


async def test_a_member_cannot_open_one_and_ones_outside_a_roll_call_are_chat(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(roll_call.FEATURE)
    member = await say(h, make_event, "u1", "大家收到请扣1")
    assert member is not None and not member.timers and not member.actions
    assert "只有管理员" in member.notes[0].reason
    assert await say(h, make_event, "u2", "1") is None
    none = await say(h, make_event, "admin1", "扣1统计")
    assert none is not None and none.actions[0].rule == "roll_call/none"


async def test_a_second_kou1_keeps_the_open_roll_call_and_an_admins_kou1_is_no_answer(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(roll_call.FEATURE)
    timer = await opened(h, make_event)
    await say(h, make_event, "u1", "1")
    again = await say(h, make_event, "admin1", "再说一遍：收到请扣1")
    assert again is not None and not again.timers and "不重新开始" in again.notes[0].reason
    facts = await stats(h, make_event)
    assert facts["answered"] == ["u1"] and facts["call"] == timer.data["call"] and facts["open"] is True
    await h.fire(timer)
    later = EventFactory(timer.due)
    later.n = itertools.count(100)  # ids go on
    new = await opened(h, later, "明天的会也请扣1")  # the old one ended: a new one opens
    assert new.data["call"] != timer.data["call"]
    assert (await stats(h, later))["answered"] == []


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_kou1_stats_answers_who_answered_and_who_present_has_not(harness: OpenHarness,
                                                                       make_event: EventFactory) -> None:
    config = BASIC_CONFIG + "  roll_call: {max_mentions: 2}\n"
    h = await harness(roll_call.FEATURE, config)
    await roster(h, "u1", "u2", "u3", "u4", "u5", "admin1", "op1", "bot", "u9")
    h.seen(make_event("leave", user="u9"))
    h.seen(make_event(text="你好", user="u7", user_name="新人"))
    await opened(h, make_event)
    for user in ("u4", "u2"):
        await say(h, make_event, user, "1")
    facts = await stats(h, make_event)
    assert facts["answered"] == ["u4", "u2"] and facts["missing"] == ["u1", "u3", "u5", "u7"]
    assert (facts["count"], facts["missing_count"], facts["mentions"], facts["group"]) == (2, 4, ["u1", "u3"], "g1")
    assert facts["text"] == "🙋 扣1统计（进行中，12:00 截止）：已有 2 人扣1，还有 4 人没扣：@小明 @小刚 等 2 人"
    member = await say(h, make_event, "u1", "扣1统计")
    assert member is not None and not member.actions and member.notes


async def test_the_window_end_tells_the_operators_the_same_facts(harness: OpenHarness,
                                                                 make_event: EventFactory) -> None:
    h = await harness(roll_call.FEATURE)
    await roster(h, "u1", "u2", "u3", "admin1")
    timer = await opened(h, make_event)
    await say(h, make_event, "u2", "1")
    before = await stats(h, make_event)
    actions, notes, _ = await h.fire(timer)
    [dm] = actions
    assert (dm.action, dm.rule, dm.user, dm.group) == ("send", "roll_call", "op1", None)
    assert (dm.data["answered"], dm.data["missing"]) == (before["answered"], before["missing"])
    assert (dm.data["answered"], dm.data["missing"]) == (["u2"], ["u1", "u3"])
    assert "event" not in dm.data and dm.data["group"] == "g1"
    assert dm.text == "【扣1结束】测试群（03-02 10:00 发起：今晚 8 点开会，收到请扣1）\n1 人扣了1；2 人没扣：小明、小刚"
    assert any("1 answered, 2 not" in n for n in notes)
    late = EventFactory(timer.due)
    late.n = itertools.count(100)  # ids go on
    assert await say(h, late, "u1", "1") is None  # the window closed
    after = await stats(h, late)
    assert after["open"] is False and after["answered"] == ["u2"] and "（已结束）" in after["text"]
    again, notes, _ = await h.fire(timer)
    assert again == [] and "closed already" in notes[0]


async def test_without_operators_the_admins_get_the_summary_and_without_either_nobody(
        harness: OpenHarness, make_event: EventFactory) -> None:
    admins_only = await harness(roll_call.FEATURE, BASIC_CONFIG.replace("  operators: [op1]\n", ""))
    [dm], _, _ = await admins_only.fire(await opened(admins_only, make_event))
    assert dm.user == "admin1" and "群里的成员都扣了" in (dm.text or "")
    nobody = await harness(roll_call.FEATURE, BASIC_CONFIG.replace("  operators: [op1]\n", "")
                           + "groups:\n  g1: {admins: [], roll_call: {open_words: 收到请扣1}}\n")
    timer = (await say(nobody, make_event, "u1", "收到请扣1"))
    assert timer is not None and not timer.timers  # nobody may open one there: it has no admins


async def test_a_roll_call_through_the_whole_bot(clock: DrivenClock, runtime: Runtime, platform: FakePlatform) -> None:
    ev = EventFactory(T0)
    events = [ev("roster", user=None, user_name=None, members=[{"id": u, "name": n} for u, n in NAMES.items()]),
              ev(text=CALL, user="admin1", user_name="群主"),
              *(ev(text=t, user=u, user_name=NAMES[u]) for u, t in (("u1", "1"), ("u2", "１"), ("u1", "+1"),
                                                                    ("u3", "我有1个问题"))),
              ev(text="扣1统计", user="admin1", user_name="群主")]
    await feed(runtime, clock, *events, ev("tick", after=3 * 3600))  # the window ends before the tick
    assert [a.rule for a in platform.sent] == ["roll_call", "roll_call"]
    answer, summary = platform.sent
    assert answer.group == "g1" and answer.reply_to == events[-1].id and summary.user == "op1"
    for action in (answer, summary):
        assert action.data["answered"] == ["u1", "u2"]
        assert action.data["missing"] == ["u3", "u4", "u5", "u6"]
    assert texts(Outcome(actions=(answer,)))[0].startswith("🙋 扣1统计（进行中")
