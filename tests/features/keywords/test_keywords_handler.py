"""The keywords handler alone: exact, contains and regex rules, first match in file order, cooldowns."""

from __future__ import annotations

import pytest

from handlers import keywords
from tests.conftest import BASIC_CONFIG, EventFactory
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


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
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


QUESTIONS = BASIC_CONFIG.replace(
    "{name: 群规, match: exact, patterns: [群规], reply: \"{rules}\", mention: true, cooldown_seconds: 60}",
    "{name: 群规, match: question, patterns: [群规], reply: \"{rules}\", mention: true, cooldown_seconds: 0}")


async def test_a_question_rule_answers_short_questions_not_long_messages_that_mention_the_word(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(keywords.FEATURE, QUESTIONS)
    for asked in ("请问群规是什么？", "群规在哪", "有群规吗", "群规"):
        outcome = await h.call(make_event(text=asked))
        assert outcome is not None and outcome.actions[0].rule == "keywords/群规", asked
    long = "我觉得咱们的群规写得挺好的吗，尤其是第二条关于广告的，大家一起遵守就能保持群里清爽"
    assert len(long) > 30 and await h.call(make_event(text=long)) is None
    assert await h.call(make_event(text="群规说不能发广告哦")) is None  # a remark, not a question


def test_a_capped_rule_lets_a_later_rule_of_the_same_word_answer_a_long_message() -> None:
    from handlers.keywords.matcher import KeywordMatcher
    from handlers.keywords.settings import KeywordRule

    matcher = KeywordMatcher([
        KeywordRule(name="问", match="question", patterns=("报名",), reply="问"),
        KeywordRule(name="提到", match="contains", patterns=("报名",), reply="提到", max_chars=200),
        KeywordRule(name="精确", match="exact", patterns=("报名",), reply="精确", max_chars=1),
    ])
    assert matcher.first_match("怎么报名？").rule.name == "问"  # type: ignore[union-attr]
    long = "上周我已经在官网上报名了，今天又收到一封确认邮件，想问问大家有没有同样的情况"
    assert matcher.first_match(long).rule.name == "提到"  # type: ignore[union-attr]
