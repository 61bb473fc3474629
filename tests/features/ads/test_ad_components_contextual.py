"""ads: splits made of ordinary characters only (贝才 = 财, 言十 = 计, 女子 = 好) are rebuilt where they complete an
ad word with their neighbours, and nowhere else. Texts are written for these tests."""

from __future__ import annotations

import json

import pytest

from handlers.ads.components import DATA_PATH, recompose
from handlers.ads.detector import TRICK_SPLIT, TextDetector


@pytest.fixture(scope="module")
def rules() -> TextDetector:
    return TextDetector({"兼职": 1.0, "刷单": 2.0}, (), classifier=False)


@pytest.mark.parametrize(("text", "expected"), [
    ("专业理贝才，稳赚不赔", "专业理财，稳赚不赔"),              # 贝才 = 财 in 理财
    ("手工活言十件，当天结", "手工活计件，当天结"),              # 言十 = 计 in 计件
    ("衣卜单返现 每单十元", "补单返现 每单十元"),                 # 衣卜 = 补 in 补单
    ("帮你上执火门，刷金肖量", "帮你上热门，刷销量"),             # 执火 = 热, 金肖 = 销
    ("今天水张停的票", "今天涨停的票"),                         # 水张 = 涨 in 涨停
    ("招言式玩员", "招试玩员"),
    ("兼耳只贝兼钱", "兼职赚钱"),                              # context entries with literal neighbours
    ("真人米分 三元一百个", "真人粉 三元一百个"),                 # a context entry in a longer vocabulary word
    ("力口女子友 abc123", "加好友 abc123"),                     # two splits make one word between them
    ("快来 加 女子 友", "快来 加 好 友"),                       # spaces between the characters are skipped
])
def test_a_free_split_is_rebuilt_where_it_completes_an_ad_word(text: str, expected: str) -> None:
    assert recompose(text)[0] == expected


def test_a_split_of_two_readings_takes_the_one_the_word_needs() -> None:
    assert recompose("有事手戈我") == ("有事找我", [("手戈", "找")])
    assert recompose("加手戈 kk2024x") == ("加我 kk2024x", [("手戈", "我")])


@pytest.mark.parametrize("text", [
    "弓长老师明天来上课",
    "这孩子米青神不错",
    "女子的比赛几点开始",
    "周末参加女子友谊赛",              # 女子友 would be 好友, but 参加 and 友谊 are words across its edges
    "这才是现实啊",                    # 才是 (提) + 现 would be 提现, but 现实 runs past it
    "不要在群里发表私人言论",            # 人言 (信) after 私 would be 私信, but 私人 is a word
    "大米青菜都买好了",
    "木工活做完了，他发言十分钟",
])
def test_a_free_split_is_left_alone_in_ordinary_chat(text: str) -> None:
    assert recompose(text) == (text, [])


def test_the_detector_reads_the_rebuilt_word_and_names_the_trick(rules: TextDetector) -> None:
    ad = rules.analyse("手工活言十件 日结 私我 qq 12345678")
    assert "计件" in ad.flat and TRICK_SPLIT in ad.tricks
    chat = rules.analyse("周末参加女子友谊赛，弓长老师带队")
    assert TRICK_SPLIT not in chat.tricks and "女子友谊" in chat.flat


def test_free_entries_are_generated_from_ordinary_characters_for_vocabulary_words() -> None:
    data = json.loads(DATA_PATH.read_text("utf-8"))
    bound, free, words = set(data["bound"]), data["free"], data["words"]
    assert 100 < len(free) < 400 and DATA_PATH.stat().st_size < 32_000  # a small table
    assert not set(free) & set(data["compositions"]) and not set(free) & set(data["context"])
    vocabulary = "".join(words)
    for key, (chars, kind) in free.items():
        assert 2 <= len(key) <= 3 and not bound & set(key) and "一" not in key, key
        assert chars and all(c in vocabulary for c in chars), key
        assert kind in ("", "chat", "word"), key
    assert free["女子"] == ["好", "word"] and free["贝才"][0] == "财" and "手戈" in free
