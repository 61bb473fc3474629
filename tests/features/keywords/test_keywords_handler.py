"""The keywords handler alone: exact, contains and regex rules, first match in file order, cooldowns."""

from __future__ import annotations

from handlers import keywords
from tests.conftest import EventFactory
from tests.features.conftest import OpenHarness
from tests.features.harness import texts


async def test_each_mode_answers_with_its_reply(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(keywords.FEATURE)
    rules = await h.call(make_event(text="群 规！"))
    assert rules is not None and rules.stop and rules.actions[0].rule == "keywords/群规"
    assert texts(rules) == ["@小明 不发广告"] and rules.actions[0].mentions == ("u1",)
    signup = await h.call(make_event(text="请问怎么报名呀"))
    assert signup is not None and texts(signup) == ["私聊群主报名"] and signup.actions[0].data["mode"] == "contains"
    files = await h.call(make_event(text="资料在哪"))
    assert files is not None and texts(files) == ["资料见公告：资料在哪"]
    assert await h.call(make_event(text="今天天气不错")) is None


async def test_a_rule_answers_once_per_cooldown_in_a_group(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(keywords.FEATURE)
    first_event = make_event(text="群规")
    first = await h.call(first_event)
    h.settle(first_event, first)
    held = await h.call(make_event(text="群规", after=30))
    assert held is not None and held.stop and not held.actions and held.notes[0].reason.startswith("cooldown")
    other_group = await h.call(make_event(text="群规", group="g2", after=1))
    assert other_group is not None and texts(other_group) == ["@小明 不发广告"]
    again = await h.call(make_event(text="群规", after=60))
    assert again is not None and texts(again) == ["@小明 不发广告"]
