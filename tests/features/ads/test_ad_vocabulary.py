"""The general readings behind the ad checks: the vocabulary of chat ads (read as written, in pinyin and in
initials), the ways to reach the sender (other messengers, ids after 加, pinyin-name ids), digits written
in any script or spelt out, group invitations, and the hams that share each shape. Texts are written for
these tests."""

from __future__ import annotations

import pytest

from handlers.ads.components import recompose
from handlers.ads.detector import TextDetector
from handlers.ads.folds import TRICK_SPELT, analyse_for_ads, flat_breaks, flatten, normalize_for_ads
from handlers.ads.patterns import CONTACT_WORDS, OFFER_WORDS, RE_INTENT, RE_OFFER
from handlers.ads.sounds import TRICK_INITIALS, TRICK_PINYIN, SoundDecoder, pinyin_letters, whole_words

PITCH = {"兼职": 1.0, "刷单": 2.0, "日结": 1.0, "贷款": 1.5, "带单": 1.5, "喊单": 1.5, "炒币": 1.0}


@pytest.fixture(scope="module")
def rules() -> TextDetector:
    return TextDetector(PITCH, (), classifier=False)


@pytest.fixture(scope="module")
def sounds() -> SoundDecoder:
    return SoundDecoder(PITCH, lexicon=OFFER_WORDS, contacts=CONTACT_WORDS)


def flagged(detector: TextDetector, text: str) -> bool:
    return detector.score(text)[0] >= 1.0


@pytest.mark.parametrize("text", [
    "新股申购内部名额 中签率高 tianyu52",  # finance jargon + an id of a pinyin name and two digits
    "网络水军 控评刷榜 价格优惠 加 shuijun88",  # growth jargon + an id after 加
    "出租银行卡 一月三千 私聊 kaer99",
    "游戏代练 上分快 秋秋 88776655",
    "海外高薪 包住 WhatsApp +60 1234 5678",
    "接推广单 Signal 联系 lucky_fox_21",
    "t.me/easy_money_club 进群领福利",
    "U商承兑 汇率高 @usdt_boss77",
    "亏损的股民 带你回本 mimi2233",
])
def test_an_offer_next_to_a_way_to_reach_the_sender_is_an_ad(rules: TextDetector, text: str) -> None:
    assert flagged(rules, text), rules.checks(text)


@pytest.mark.parametrize("text", [
    "新股中签了，我的 qq 12345678 有空聊",  # a topic word, not an offer
    "下周分红大会 联系财务 13912345678",
    "我在家上班，有事打我电话 13912345678",
    "我在期货公司上班，工号 qh2024",
    "我的游戏 id 是 dragon88，今晚开黑",
    "公司年会抽奖 一等奖 iphone15",
    "房子出租 3号楼 两室一厅 电话 13912345678",
    "出租车司机电话 13912345678，落东西了找他",
    "招商银行的信用卡额度怎么提",
])
def test_the_same_words_or_a_contact_alone_are_not(rules: TextDetector, text: str) -> None:
    assert not flagged(rules, text), rules.checks(text)


def test_an_id_of_two_digits_counts_only_when_its_letters_are_pinyin() -> None:
    assert pinyin_letters("liuyu") and pinyin_letters("xin-qiu")
    assert not pinyin_letters("win") and not pinyin_letters("iphone") and not pinyin_letters("windows")


def test_the_vocabulary_is_one_trie_and_an_ad_word_before_a_new_clause_is_whole() -> None:
    assert whole_words(RE_OFFER, "内部名额，原始股认购") == ["内部名额", "原始股", "认购"]
    light = "快手作品上热门 点赞评论"  # 门点 is a word of the list, but a space stands between 门 and 点
    flat = flatten(light)
    assert whole_words(RE_INTENT, flat) == []
    assert whole_words(RE_INTENT, flat, lambda: flat_breaks(light)) == ["上热门"]


@pytest.mark.parametrize(("written", "digits"), [
    ("〡〩〡〣〇〧〡〧〣〇〣", "19130717303"),  # Suzhou numerals
    ("幺三八洞洞拐勾两五四幺", "13800792541"),  # the radio reading of digits
    ("one three eight zero zero seven nine two five four one", "13800792541"),
    ("yao san ba ling ling qi jiu er wu si yao", "13800792541"),
    ("⒈⒊⒏🄀", "1380"),
])
def test_digits_written_in_any_script_or_spelt_out_are_digits(written: str, digits: str) -> None:
    assert digits in normalize_for_ads(written)


def test_digit_words_need_a_run_of_five() -> None:
    assert normalize_for_ads("one two three") == "onetwothree"
    assert TRICK_SPELT in analyse_for_ads("call one three eight zero zero").tricks


def test_pinyin_of_any_ad_word_is_read_by_whole_tokens(sounds: SoundDecoder) -> None:
    text, tricks, _ = sounds.decode("ti e dai huan, lian xi wo")
    assert text == "提额 代还, 联系我" and tricks == (TRICK_PINYIN,)
    assert sounds.decode("shougonghuo waifa")[0] == "手工活 外发"  # CamelCase arrives lower-cased
    assert sounds.decode("a tie and a dai")[2] == ()  # tie is one syllable, not ti e
    assert sounds.decode("ni hao, jia you a ge wei")[2] == ()


def test_initials_of_ad_words_need_two_of_them_and_a_personal_account(sounds: SoundDecoder) -> None:
    text, tricks, _ = sounds.decode("wd yq 都能做 13912345678")
    assert "网贷" in text and "逾期" in text and tricks == (TRICK_INITIALS,)
    assert sounds.decode("yq 了 13912345678")[2] == ()  # one abbreviation that chat may mean otherwise
    assert sounds.decode("回复hs查询第7930235期 回复hd取消")[2] == ()  # service codes and a bare number
    assert sounds.decode("hr 小周 ok 13912345678")[2] == ()


def test_a_group_invitation_with_money_is_an_ad_and_one_for_a_reading_club_is_not(rules: TextDetector) -> None:
    assert flagged(rules, "想进副业群的扣1，我拉你")
    assert flagged(rules, "撸毛群 群号 123456789")
    assert flagged(rules, "新群已建，进群先加我 xiaomei2024")
    assert not flagged(rules, "读书会想进的扣1，我拉你")
    assert not flagged(rules, "学习群 群号 123456789 欢迎同学加入")


def test_pictures_that_stand_for_characters_are_read() -> None:
    assert normalize_for_ads("☀️结💰") == "日结钱"
    assert normalize_for_ads("🐧 12345678") == "企鹅12345678"
    assert normalize_for_ads("贷+款+秒+批") == "贷款秒批"  # + between every character is a filler...
    assert normalize_for_ads("+V abc123") == "加vabc123"  # ...one + before a letter is 加


def test_a_one_or_a_stroke_before_the_right_part_stands_for_the_person_radical() -> None:
    assert recompose("v1言 abc123")[0] == "v信 abc123"
    assert recompose("丨言 abc123")[0] == "信 abc123"
    assert recompose("11言")[1] == [] and recompose("第1用户")[1] == []
