"""Contacts in the shapes offers post them, whatever the offer's words: a personal handle after a string of
short phrases, digits in any script or in symbols that stand for them, QQ written by sound, 私聊 written
by sound, an invitation to another group for a bait; and the hams that share each shape (codes, model
names, a game id, a flight, a warning about such invitations). Texts are written for these tests."""

from __future__ import annotations

import pytest

from handlers.ads.contacts import trailing_handle
from handlers.ads.detector import TextDetector
from handlers.ads.digits import symbol_digits
from handlers.ads.folds import TRICK_STYLED, analyse_for_ads

PITCH = {"兼职": 1.0, "刷单": 2.0, "日结": 1.0, "贷款": 1.5}


@pytest.fixture(scope="module")
def rules() -> TextDetector:
    return TextDetector(PITCH, (), classifier=False)


def flagged(detector: TextDetector, text: str) -> bool:
    return detector.score(text)[0] >= 1.0


@pytest.mark.parametrize("text", [
    "零基础学剪辑 接单变现 每周结算 haoyun_2290",
    "二手奢侈品鉴定回收 全国上门 Qinglan7731",
    "kuai di dai qu, mei dan wu kuai, xiaomo8843",
    "考研真题资料全套 低价出 beiyou5521 备注资料",
    "线上客服 在家办公 简历发 qingmu3382@mail.ru",  # an e-mail address ends it the same way
])
def test_a_handle_after_a_string_of_phrases_is_an_offer(rules: TextDetector, text: str) -> None:
    assert trailing_handle(text)
    assert flagged(rules, text), rules.checks(text)


@pytest.mark.parametrize("text", [
    "订单号 SF1234567890123 还没到",  # a code of capitals
    "我的工号 B20931，请假条写这个",
    "新买的手机 到手了 mate60",  # a model's name, two digits
    "我的游戏 id 是 lanfeng2023，晚上一起开黑",  # a member telling their own id
    "你们谁有空 帮我看看这个 wangwei2001?",  # a question
    "测试环境 密钥换了 a3f9c2d81be07744",  # hex
    "招聘的事 简历请发 hr@company.com",  # a company's address, no digits
    "明天坐 G1234 去上海",  # a train
])
def test_codes_models_and_chat_are_not_handles(rules: TextDetector, text: str) -> None:
    assert trailing_handle(text) is None
    assert not flagged(rules, text), rules.checks(text)


@pytest.mark.parametrize(("written", "digits"), [
    ("๑๓๘๐๐๑๓๘๐๐๐", "13800138000"),  # Thai digits
    ("໑໓໘໒໔໖໘", "1382468"),  # Lao digits
    ("일삼팔 이사육 칠구공", "138246790"),  # Korean numerals, spaced
    ("⠁⠉⠓⠃⠙⠋⠓⠛⠊⠚", "1382468790"),  # braille digit cells
    ("🕐🕒🕗🕑🕓🕕🕗", "1382468"),  # clock faces
    ("!#*@$^*&(", "138246879"),  # the number row with shift
])
def test_digits_in_any_script_or_symbols_for_digits_are_read(written: str, digits: str) -> None:
    t = analyse_for_ads(f"电话 {written}")
    assert digits in t.flat
    assert TRICK_STYLED in t.tricks


@pytest.mark.parametrize("text", ["哈哈哈哈哈哈哈哈", "卧槽 #$%@ 气死我了", "일일일일일일일", "!!!!!!!!", "⠁⠁⠁⠁⠁⠁⠁"])
def test_a_run_needs_three_different_digit_symbols(text: str) -> None:
    assert symbol_digits(text) == text


@pytest.mark.parametrize("text", [
    "刷单返现 抠抠 2839475610",  # QQ written by sound
    "代缴社保 电话 一山巴鹅丝舞溜期八救圈",  # near sounds: 山 3, 鹅 2, 圈 0
    "想多赚点的私寥我，名额不多",  # 私聊 by sound, with its first character
    "在家就能做 手机操作 私僚我",
    "带你炒币赚钱，有兴趣丝聊",  # 私聊 with its second character kept
])
def test_contacts_written_by_sound_are_read(rules: TextDetector, text: str) -> None:
    assert flagged(rules, text), rules.checks(text)


@pytest.mark.parametrize("text", ["他这人私心太重了", "我们私下开了个联席会议", "抠抠搜搜的，一分钱都不给"])
def test_real_words_that_sound_alike_are_left_alone(rules: TextDetector, text: str) -> None:
    assert not flagged(rules, text), rules.checks(text)


@pytest.mark.parametrize("text", [
    "点赞这条的朋友，晚上统一拉你们进福利群",
    "VIP群今天开放名额，转发截图给我就能进",
    "新群领红包入口在我朋友圈，先到先得",
])
def test_an_invitation_to_another_group_for_a_bait_is_an_ad(rules: TextDetector, text: str) -> None:
    assert flagged(rules, text), rules.checks(text)


@pytest.mark.parametrize("text", [
    "群满了，新同学请进二群，入口找管理员",  # the group's own business
    "千万别理那个说进群领红包的，是骗子",  # a warning
    "我表姐被人拉进一个点赞群，交了押金才发现",  # a story
    "我朋友被一个“刷单返佣”的骗了两千，大家小心",
])
def test_the_groups_own_notice_and_a_warning_are_not(rules: TextDetector, text: str) -> None:
    assert not flagged(rules, text), rules.checks(text)


@pytest.mark.parametrize("text", [
    "代☯办☯签☯证，联系 13912345678",  # a symbol no sentence puts between characters
    "在家做 手机 1\u20de3\u20de9\u20de1\u20de2\u20de3\u20de4\u20de5\u20de6\u20de7\u20de8\u20de",  # marks on digits
    "收二手书 vx ⲗⲓⲛⲅⲩⲉ8841",  # Coptic letters for Latin ones
    "招打字员 ᒪᑌO7729",  # Canadian syllabics
    "接▲单▲打▲字 每天结 w▲e▲n▲y▲u▲8▲8▲3▲1",  # an account spelt out in a text that hides its words
])
def test_a_contact_in_a_text_dressed_up_to_pass_a_filter_is_an_ad(rules: TextDetector, text: str) -> None:
    assert flagged(rules, text), rules.checks(text)


@pytest.mark.parametrize("text", [
    "今天好开心，晚上一起吃饭，我电话 13912345678",
    "暑假去了趟 Москва2024 玩，拍了好多照片",  # a Russian word and a year
    "好，好，好，都听你的，电话 13812345678",  # ordinary punctuation
])
def test_a_contact_in_plain_text_alone_is_not(rules: TextDetector, text: str) -> None:
    assert not flagged(rules, text), rules.checks(text)


@pytest.mark.parametrize("text", [
    "兼职日结 手机就能做 进 telegram.me/joinchat/AbCd1234",
    "刷单返佣 一单一结 蝙蝠聊天 ID 5823301947",
])
def test_other_messengers_next_to_an_offer_are_contacts(rules: TextDetector, text: str) -> None:
    assert flagged(rules, text), rules.checks(text)
