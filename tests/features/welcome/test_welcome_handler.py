"""The welcome handler alone, answering each event at once (`batch_seconds: 0`, `rename_batch_minutes: 0`):
the welcome, the first rename reminder once (the follow-up is the daily job's), thanks once it fits."""

from __future__ import annotations

from handlers import welcome
from handlers.welcome.repository import WelcomeRepository
from tests.conftest import BASIC_CONFIG, EventFactory
from tests.features.conftest import OpenHarness
from tests.features.harness import texts

NAME_FORMAT = """
bot: {name: 小管家, id: bot}
defaults:
  rules: 不发广告
  welcome:
    text: "欢迎 @{user_name} 加入{group_name}！{rules}"
    name_format: {example: 名字-城市, pattern: '[^-]+-[^-]+'}
    batch_seconds: 0
    rename_batch_minutes: 0
"""


async def test_a_newcomer_is_welcomed_with_the_rules(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(welcome.FEATURE, BASIC_CONFIG.replace("  welcome:\n", "  welcome:\n    batch_seconds: 0\n"))
    outcome = await h.call(make_event("join", user_name="阿强"))
    assert outcome is not None and [a.rule for a in outcome.actions] == ["welcome"]
    assert texts(outcome) == ["欢迎 @阿强 加入测试群！不发广告"] and outcome.actions[0].data["rename_asked"] is False
    assert await h.call(make_event(text="大家好")) is None  # no name format: nothing to remind


async def test_a_name_that_does_not_fit_is_reminded_once_by_the_handler_and_thanked_when_it_fits(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(welcome.FEATURE, NAME_FORMAT)
    joined = await h.call(make_event("join", user_name="阿强"))
    assert joined is not None and joined.actions[0].data["rename_asked"] is True and "名字-城市" in texts(joined)[0]
    reminders = await h.store.repository(WelcomeRepository).reminders("g1", "u1")
    assert reminders is not None and (reminders.count, reminders.open) == (1, True)

    for days in (1, 2, 10):  # before and after the follow-up's day: a message never brings it
        quiet = await h.call(make_event(text="大家好", user_name="阿强", after=days * 86_400))
        assert quiet is not None and not quiet.actions and not quiet.timers
        assert "the one follow-up goes out with the group's daily reminder at 20:00" in quiet.notes[0].reason

    thanks = await h.call(make_event("rename", user_name="阿强-上海"))
    assert thanks is not None and [a.rule for a in thanks.actions] == ["welcome/rename-thanks"]
    assert await h.call(make_event("rename", user_name="阿强-北京")) is None  # thanked once
    assert await h.call(make_event(text="谢谢", user_name="阿强-上海")) is None


async def test_the_rules_text_names_the_format_its_group_asks_for(harness: OpenHarness,
                                                                  make_event: EventFactory) -> None:
    config = NAME_FORMAT.replace("  rules: 不发广告", "  rules: 群昵称格式：{name_format}") + """groups:
  "训练营-*":
    welcome: {name_format: {example: 名字-城市-岗位, pattern: '[^-]+-[^-]+-[^-]+'}}
"""
    h = await harness(welcome.FEATURE, config)
    plain = await h.call(make_event("join", user_name="阿强"))
    camp = await h.call(make_event("join", user="u2", user_name="阿珍", group="g2", group_name="训练营-一班"))
    assert plain is not None and "群昵称格式：名字-城市\n" in texts(plain)[0] + "\n"
    assert camp is not None and "群昵称格式：名字-城市-岗位" in texts(camp)[0]
