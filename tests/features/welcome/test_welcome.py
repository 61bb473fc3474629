"""welcome through the bot, answering each event at once (`batch_seconds: 0`, `rename_batch_minutes: 0`):
greeting with the rules on join, the first rename reminder once, thanks on a fit. Batched answers:
test_welcome_batch.py; the daily follow-up: test_welcome_followup.py."""

from __future__ import annotations

import pytest

from bot.app import start_runtime
from bot.clock import DrivenClock
from handlers import FEATURES
from rules.config import Config
from rules.reload import ConfigHolder
from tests.conftest import BASIC_CONFIG, EventFactory, FakePlatform, feed

FORMAT = BASIC_CONFIG + """
  welcome:
    text: "欢迎 @{user_name} 加入{group_name}！{rules}"
    name_format: {example: 名字-城市, pattern: '[^-]+-[^-]+'}
    rename_reminder: "@{user_name} 请改成「{name_format}」"
    rename_thanks: "谢谢 @{user_name}"
    batch_seconds: 0
    rename_batch_minutes: 0
"""


@pytest.fixture
def config_text() -> str:
    return FORMAT.replace('  welcome:\n    text: "欢迎 @{user_name} 加入{group_name}！{rules}"\n', "", 1)


async def test_join_gets_a_welcome_with_the_rules_and_a_mention(runtime, clock: DrivenClock,
                                                                platform: FakePlatform,
                                                                make_event: EventFactory) -> None:
    await feed(runtime, clock, make_event("join", user="u7", user_name="阿强-北京", inviter="u1"))
    [sent] = platform.sent
    assert sent.rule == "welcome" and sent.mentions == ("u7",)
    assert sent.text == "欢迎 @阿强-北京 加入测试群！不发广告" and sent.data["rename_asked"] is False


async def test_a_name_off_format_is_asked_on_join_and_no_message_asks_again(
        runtime, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory) -> None:
    join = make_event("join", user="u7", user_name="阿强")
    same_day = [make_event(text="大家好", user="u7", user_name="阿强", after=600) for _ in range(3)]
    third_day = make_event(text="早上好", user="u7", user_name="阿强", after=3 * 86_400)
    later = make_event(text="在吗", user="u7", user_name="阿强", after=86_400 * 5)
    await feed(runtime, clock, join, *same_day, third_day, later)
    # the follow-up is the group's daily one (a job), never an answer to a message
    assert [a.rule for a in platform.sent] == ["welcome"] and "请改成「名字-城市」" in platform.sent[0].text
    audit = await runtime.store.audit.audit_of_event(third_day.id)
    assert any("daily reminder at 20:00 from 2026-03-05" in r["data"].get("reason", "") for r in audit)


async def test_a_red_packet_is_not_answered_with_a_rename_reminder(
        runtime, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory) -> None:
    packet = make_event("red_packet", user="u8", user_name="老王")
    message = make_event(text="大家好", user="u8", user_name="老王", after=60)
    await feed(runtime, clock, packet, message)
    [reminder] = [a for a in platform.sent if a.rule.startswith("welcome")]
    assert reminder.rule == "welcome/rename-reminder" and reminder.data["event"] == message.id
    audit = await runtime.store.audit.audit_of_event(packet.id)
    assert any("a red packet is a gift" in r["data"].get("reason", "") for r in audit)


async def test_rename_to_a_fitting_name_is_thanked_once(runtime, clock: DrivenClock, platform: FakePlatform,
                                                         make_event: EventFactory) -> None:
    await feed(runtime, clock,
               make_event("join", user="u7", user_name="阿强"),
               make_event("rename", user="u7", user_name="阿强-上海"),
               make_event("rename", user="u7", user_name="阿强-北京"))
    assert [a.rule for a in platform.sent] == ["welcome", "welcome/rename-thanks"]
    assert platform.sent[1].text == "谢谢 @阿强-上海"


async def test_rename_to_another_bad_name_is_reminded(runtime, clock: DrivenClock, platform: FakePlatform,
                                                       make_event: EventFactory) -> None:
    await feed(runtime, clock, make_event("rename", user="u8", user_name="bob"))
    assert [a.rule for a in platform.sent] == ["welcome/rename-reminder"]


async def test_welcome_can_be_switched_off_per_group(db_url: str, clock: DrivenClock,
                                                     make_event: EventFactory) -> None:
    config = Config.from_text(BASIC_CONFIG + 'groups:\n  "安静群*":\n    welcome: {enabled: false}\n')
    platform = FakePlatform()
    rt = await start_runtime(ConfigHolder(config), db_url, clock, platform, FEATURES)
    await feed(rt, clock, make_event("join", group_name="安静群1"), make_event("join", group="g2", group_name="热闹群"),
               make_event("tick", after=120))  # after the batch window
    await rt.close()
    assert [a.group for a in platform.sent] == ["g2"]
