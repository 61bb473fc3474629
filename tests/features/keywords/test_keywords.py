"""keywords: exact / contains / regex after normalisation, templates, mentions, cooldown per group."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import DrivenClock
from handlers.keywords.matcher import KeywordMatcher
from handlers.keywords.settings import KeywordRule
from rules.config import Config
from tests.conftest import EventFactory, FakePlatform, feed


async def test_exact_rule_answers_with_the_rules_and_a_mention(runtime, clock: DrivenClock,
                                                               platform: FakePlatform,
                                                               make_event: EventFactory) -> None:
    await feed(runtime, clock, make_event(text="群规"))
    [sent] = platform.sent
    assert sent.rule == "keywords/群规" and sent.text == "@小明 不发广告" and sent.mentions == ("u1",)
    assert sent.group == "g1" and sent.data["matched"] == "群规"


async def test_exact_match_sees_through_spaces_punctuation_and_full_width(runtime, clock: DrivenClock,
                                                                           platform: FakePlatform,
                                                                           make_event: EventFactory) -> None:
    await feed(runtime, clock, make_event(text=" 群\u200b规！", group="ga"), make_event(text="看看群规吧", group="gb"))
    assert [a.group for a in platform.sent] == ["ga"]  # exact: the second is not the whole message


async def test_contains_and_regex_rules(runtime, clock: DrivenClock, platform: FakePlatform,
                                        make_event: EventFactory) -> None:
    await feed(runtime, clock, make_event(text="请问 怎么 报名？"), make_event(text="课程资料在哪呀"))
    assert platform.texts() == ["私聊群主报名", "资料见公告：资料在哪"]


async def test_cooldown_holds_back_a_repeat_in_the_same_group_only(runtime, clock: DrivenClock,
                                                                  platform: FakePlatform,
                                                                  make_event: EventFactory) -> None:
    first = make_event(text="群规")
    again = make_event(text="群规", after=10)
    other_group = make_event(text="群规", group="g2", after=1)
    later = make_event(text="群规", after=61)
    await feed(runtime, clock, first, again, other_group, later)
    assert [a.data["event"] for a in platform.sent] == [first.id, other_group.id, later.id]
    audit = await runtime.store.audit.audit_of_event(again.id)
    assert any(r["action"] == "note" and r["data"]["reason"].startswith("cooldown") for r in audit)


async def test_cooldown_survives_a_restart(db_url: str, clock: DrivenClock, make_event: EventFactory) -> None:
    from bot.app import start_runtime
    from handlers import FEATURES
    from rules.reload import ConfigHolder
    from tests.conftest import BASIC_CONFIG

    for n, expected in ((1, 1), (2, 0)):
        platform = FakePlatform()
        rt = await start_runtime(ConfigHolder(Config.from_text(BASIC_CONFIG)), db_url, clock, platform,
                                 FEATURES)
        await feed(rt, clock, make_event(text="群规", after=5))
        await rt.close()
        assert len(platform.sent) == expected, n


def test_first_rule_in_config_order_wins() -> None:
    rules = [KeywordRule(name="long", match="contains", patterns=["报名费"], reply="a"),
             KeywordRule(name="short", match="contains", patterns=["报名"], reply="b"),
             KeywordRule(name="re", match="regex", patterns=["报"], reply="c")]
    matcher = KeywordMatcher(rules)
    assert matcher.first_match("报名费多少").rule.name == "long"
    assert matcher.first_match("怎么报名").rule.name == "short"
    assert matcher.first_match("报告").rule.name == "re"
    assert matcher.first_match("你好") is None


def test_ten_thousand_rules_compile_and_match() -> None:
    rules = [KeywordRule(name=f"r{i}", match="contains", patterns=[f"关键词{i}号"], reply="x") for i in range(10_000)]
    matcher = KeywordMatcher(rules)
    assert matcher.first_match("我想问 关键词9999号 的事").rule.name == "r9999"


async def test_templates_fill_group_and_bot_names(db_url: str, clock: DrivenClock, make_event: EventFactory) -> None:
    from bot.app import start_runtime
    from handlers import FEATURES
    from rules.reload import ConfigHolder

    config = Config.from_text(
        "bot: {name: 小U}\ndefaults:\n  keywords:\n    - {patterns: [你好], "
        "reply: '{user_name} 你好，我是{group_name}的{bot_name}，现在{time}', cooldown_seconds: 0}\n")
    platform = FakePlatform()
    rt = await start_runtime(ConfigHolder(config), db_url, clock, platform, FEATURES)
    await feed(rt, clock, make_event(text="你好呀", after=timedelta(minutes=0).total_seconds()))
    await rt.close()
    assert platform.texts() == ["小明 你好，我是测试群的小U，现在10:00"]
