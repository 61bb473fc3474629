"""The ads handler alone: a pitch is prompted with its check's reason, a red packet settles it, admins
are exempt, shared cards follow the group's policy, and warnings count up to the removal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers import ads
from handlers.ads.repository import AdsRepository
from tests.conftest import EventFactory
from tests.features.conftest import OpenHarness

PITCH = "兼职刷单，日结300，加V：abc12345"


async def test_a_pitch_gets_the_red_packet_prompt_with_each_check_explained(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(ads.FEATURE)
    outcome = await h.call(make_event(text=PITCH))
    assert outcome is not None and outcome.stop and len(outcome.actions) == 1
    prompt = outcome.actions[0]
    assert prompt.rule.startswith("ads/") and prompt.data["kind"] == "text" and prompt.data["warnings"] == 1
    assert "发红包" in (prompt.text or "") and prompt.mentions == ("u1",)
    explained = {n.rule for n in outcome.notes}
    scored = [n for n in outcome.notes if n.rule == "ads/contact" and "score" in n.data]
    assert "ads/contact" in explained and scored and scored[0].data["score"] > 0 and scored[0].reason


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_a_red_packet_in_the_window_excuses_the_ad(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(ads.FEATURE)
    await h.call(make_event(text=PITCH))
    thanks = await h.call(make_event("red_packet", after=60))
    assert thanks is not None and thanks.actions[0].data["excused"] is True and thanks.actions[0].data["warnings"] == 0
    since = h.clock.now() - timedelta(days=30)
    assert await h.store.repository(AdsRepository).ad_warnings("g1", "u1", since) == 0
    assert await h.call(make_event("red_packet", after=60)) is None  # nothing left to excuse


async def test_admins_are_exempt_and_ordinary_chat_passes(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(ads.FEATURE)
    assert await h.call(make_event(text=PITCH, user="admin1")) is None
    chat = await h.call(make_event(text="今晚八点线上分享，记得来"))
    assert chat is not None and not chat.actions and not chat.stop


async def test_cards_links_and_mini_programs_are_prompted_by_default(harness: OpenHarness,
                                                                     make_event: EventFactory) -> None:
    h = await harness(ads.FEATURE)
    kinds = []
    for event in (make_event("link", url="https://shop.example.com/x", title="特价"),
                  make_event("mini_program", title="拼团"), make_event("contact_card", card_name="代购小王")):
        outcome = await h.call(event, "ads")
        assert outcome is not None and outcome.stop
        kinds.append(outcome.actions[0].data["kind"])
    assert kinds == ["link", "mini_program", "card"]


async def test_the_third_unexcused_ad_removes_the_member_and_tells_the_operators(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(ads.FEATURE)
    await h.call(make_event(text=PITCH))
    await h.call(make_event(text=PITCH, after=60))
    third = await h.call(make_event(text=PITCH, after=60))
    assert third is not None
    [kick] = third.actions  # the notice and the report wait for the platform's answer to the removal
    assert kick.action == "kick" and kick.user == "u1" and kick.data["warnings"] == 3
    then = [(a["group"] if "group" in a else a["user"], a["text"]) for a in kick.data["then"]]
    otherwise = [(a["group"] if "group" in a else a["user"], a["text"]) for a in kick.data["otherwise"]]
    assert [w for w, _ in then] == ["g1", "op1"] and "已请出群" in then[0][1] and "已移出群" in then[1][1]
    assert [w for w, _ in otherwise] == ["g1", "op1"] and all("未能移出" in t for _, t in otherwise)


async def test_the_same_text_pasted_into_several_groups_within_minutes_tips_it_over(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(ads.FEATURE)
    # a lure alone (引流话术) is below the threshold in one group...
    text = "有想一起做点事情的朋友可以私聊我"
    first = await h.call(make_event(text=text, group="g1", user="u9"))
    assert first is not None and not first.actions
    # ...and the same text in a third group within ten minutes is not
    await h.call(make_event(text=text, group="g2", user="u9", after=60))
    third = await h.call(make_event(text=text, group="g3", user="u9", after=60))
    assert third is not None and third.stop and third.actions[0].data["kind"] == "text"
    assert any(n.rule == "ads/cross_group" and n.data["groups"] == 2 for n in third.notes)


async def test_a_long_harmless_text_in_several_groups_is_not_an_ad(harness: OpenHarness,
                                                                  make_event: EventFactory) -> None:
    h = await harness(ads.FEATURE)
    text = "明天上午九点到十二点小区停水，大家提前接好水，转发给邻居们"
    for n, group in enumerate(("g1", "g2", "g3", "g4")):
        outcome = await h.call(make_event(text=text, group=group, user="u9", after=30 * n))
        assert outcome is None or not outcome.actions, outcome
