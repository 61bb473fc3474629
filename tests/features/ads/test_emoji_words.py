"""Emoji that stand for a character by their Chinese name (🥚 蛋 -> 单, 🍐 梨 -> 利, 🪙 硬币 -> 币) are read as
that character only where it makes an ad word; emoji in ordinary chat change nothing."""

from __future__ import annotations

import pytest

from handlers.ads.detector import TRICK_PICTURES, TextDetector
from handlers.ads.model import load_default_model
from handlers.ads.pictures import emoji_words

THRESHOLD = 1.0


@pytest.fixture(scope="module")
def detector() -> TextDetector:
    return TextDetector({"刷单": 2.0, "返利": 1.0, "炒币": 1.0}, (), load_default_model())


def test_the_table_gives_the_word_of_an_emoji() -> None:
    assert emoji_words("🥚🍐🪙 abc") == {"🥚": "蛋", "🍐": "梨", "🪙": "硬币"}
    assert emoji_words("plain ascii") == {}


@pytest.mark.parametrize(("text", "word"), [
    ("刷🥚返🍐，做一单结一单，私我 mq_20731", "刷单"),
    ("炒🪙带你飞，私聊 17733025816", "炒币"),
])
def test_an_emoji_that_completes_an_ad_word_is_read(detector: TextDetector, text: str, word: str) -> None:
    t = detector.analyse(text)
    assert word in t.flat
    assert TRICK_PICTURES in t.tricks
    assert detector.score(text)[0] >= THRESHOLD


@pytest.mark.parametrize("text", ["早饭吃了🥚和🍐，好饱😂", "硬币🪙收藏群今天开会，别迟到", "🎉🎉生日快乐🎂"])
def test_emoji_in_chat_are_left_alone(detector: TextDetector, text: str) -> None:
    assert TRICK_PICTURES not in detector.analyse(text).tricks
    assert detector.score(text)[0] < THRESHOLD
