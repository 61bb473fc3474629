"""A display name that is an ad is never repeated by the bot (a neutral 新朋友 instead) and counts as an
ad signal."""

from __future__ import annotations

import pytest

from bot.clock import DrivenClock
from rules.names import ad_like_name
from tests.conftest import BASIC_CONFIG, EventFactory, FakePlatform, feed

AD_NAME = "兼职日结加V：abc12345"


@pytest.fixture
def config_text() -> str:
    return BASIC_CONFIG.replace('    text: "欢迎 @{user_name} 加入{group_name}！{rules}"',
                                '    text: "欢迎 @{user_name} 加入！"\n    batch_seconds: 0') \
        + "  checkin: {reply: \"@{user_name} 签到成功 第 {rank} 名\"}\n"


@pytest.mark.parametrize(("name", "ad"), [(AD_NAME, True), ("ｖｘ：ab123456", True), ("宝妈日结", True),
                                           ("小王-公司-运营-北京", False), ("Amy2024", False), ("阿强", False)])
def test_names_that_carry_a_contact_or_an_ad_word(name: str, ad: bool) -> None:
    assert ad_like_name(name) is ad


async def test_the_bot_never_repeats_an_ad_name(runtime, clock: DrivenClock, platform: FakePlatform,
                                                make_event: EventFactory) -> None:
    await feed(runtime, clock, make_event("join", user="spam", user_name=AD_NAME),
               make_event(text="签到", user="spam", user_name=AD_NAME),
               make_event(text="签到", user="u2", user_name="阿强"))
    texts = platform.texts()
    assert texts and all("abc12345" not in t and "兼职" not in t for t in texts), texts
    assert any("欢迎 @新朋友" in t for t in texts) and any("@阿强 签到成功" in t for t in texts)
