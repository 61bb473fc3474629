"""Disguised chat ads, family by family, each next to the hard hams it must leave alone: ad words written
by sound (homophones, pinyin, initials), split characters, reversed text, contacts next to intent,
group-invite lures, emoji that stand for words; and the v1 chat challenge set (development data, both
halves) as a guard. The v2 set is held out: no test reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handlers.ads.detector import TRICK_REVERSED, TRICK_SPLIT, TextDetector
from handlers.ads.model import load_default_model
from handlers.ads.sounds import TRICK_HOMOPHONE, TRICK_INITIALS, TRICK_PINYIN, SoundDecoder, is_word

ROOT = Path(__file__).resolve().parents[3]
PITCH = {"兼职": 1.0, "刷单": 2.0, "日结": 1.0, "贷款": 1.5, "返利": 1.0, "博彩": 2.0, "代购": 0.8, "招代理": 1.5,
         "加V": 1.5, "炒币": 1.0, "带单": 1.5, "喊单": 1.5, "跟单": 1.0, "套现": 1.5, "荐股": 1.5, "引流": 1.0,
         "涨粉": 1.0, "刷粉": 1.5}
THRESHOLD = 1.0


@pytest.fixture(scope="module")
def detector() -> TextDetector:
    return TextDetector(PITCH, ("docs.qq.com", "mp.weixin.qq.com"), load_default_model())


def flagged(detector: TextDetector, text: str) -> bool:
    return detector.score(text)[0] >= THRESHOLD


# -- sounds ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("light", "read"), [
    ("有想专钱的宝妈吗?薇芯找我 tt7788", "赚钱"),
    ("带款找我 13922764410", "贷款"),
    ("招代里,赚钱快 q123456", "招代理"),
    ("jian zhi ri jie,jia wei xin ming2690wd", "加微信"),
    ("抖音 zhang fen,加我 tian_285", "涨粉"),
])
def test_ad_words_written_by_sound_are_read_back(light: str, read: str) -> None:
    text, tricks, rewrites = SoundDecoder().decode(light)
    assert read in text, (text, rewrites)
    assert tricks and set(tricks) <= {TRICK_HOMOPHONE, TRICK_PINYIN}


@pytest.mark.parametrize("light", [
    "他在部门里很有威信,大家都服他",          # 威信 is a word
    "宝马三系和奥迪a4选哪个?赚钱了再说",       # 宝马 is a word
    "她叫李薇,信息部的,工资不高",            # 薇信 would cut through 信息
    "刚才打错字了,“带款”是“贷款”,房贷的事",   # the ad word itself is there: talk about the word
    "ni hao, qing wen hui yi zai ji lou?",
    "mp.weixin.qq.com/s/abc",                # pinyin inside a domain stays
    "daili_6688",                            # or inside an id
])
def test_real_words_and_ids_are_not_rewritten(light: str) -> None:
    assert SoundDecoder().decode(light)[2] == ()


def test_initials_are_read_only_next_to_an_account() -> None:
    assert SoundDecoder().decode("今天 dk 了吗")[2] == ()
    text, tricks, _ = SoundDecoder().decode("dk 不看征信,电话187 9059 7455")
    assert "贷款" in text and tricks == (TRICK_INITIALS,)


def test_word_list_knows_the_words_that_veto() -> None:
    assert is_word("威信") and is_word("宝马") and is_word("信息")
    assert not is_word("薇芯") and not is_word("带款")


def test_readings_cover_the_main_block_and_the_extensions() -> None:
    from handlers.ads.sounds import readings

    assert readings("一") == ("yi",) and readings("龙") == ("long",)
    assert readings("𠀀") == ("he",) and readings("𪀈") == ("yuan",) and readings("𱍐") == ("qi",)  # ext B, C, G
    assert readings("a") == () and readings("\U000323ff") == ()


# -- the families, ad next to ham -------------------------------------------------------------------

@pytest.mark.parametrize(("ad", "ham"), [
    ("有想专钱的宝马吗？薇信找我 tt7788", "老师在班里威信很高，孩子们都怕她"),
    ("jz rj，vx：wen9029b", "今天 dk 了吗"),
    ("shua dan jian zhi，jia wei xin：tt8866", "bu hao yi si lai wan le"),
    ("兼职日纟吉，力口彳山攵亻言 nana666f", "老王见了我就笑，说今天的会开得好"),
    ("ba696gnim信微，资投零，理代招", "上海自来水来自海上"),
    ("贷款找我 139 2276 4410", "明天上午九点在地铁口集合，找不到人打我电话 19172037726"),
    ("加QQ45554944领任务", "会议 ID 738 492 156，密码 2468"),
    ("扣扣：65647741 带你赚钱", "工号 20237737，报销单填这个"),
    ("股票交流群，老师每天免费荐股，进群加cai3836bn", "你先加我微信，到时候我拉你进小区业主群"),
    ("🈶贷款需求的 📞178 8786 3793", "💰发工资啦🥳🥳今晚吃顿好的"),
    ("➕✌ 领任务，一单🉑赚5💰 dd912bx", "拍毕业照啦✌️✌️"),
    ("抖音刷粉刷赞，秒到不掉，需要的私聊", "抖音上那个刷粉的新闻你们看了吗"),
])
def test_each_family_is_caught_and_its_hard_ham_is_not(detector: TextDetector, ad: str, ham: str) -> None:
    assert flagged(detector, ad), detector.checks(ad)
    assert not flagged(detector, ham), detector.checks(ham)


def test_the_reason_names_the_trick(detector: TextDetector) -> None:
    results = detector.checks("力口彳山攵亻言fafa888f，王见纟吉")
    assert any(TRICK_SPLIT in r.reason for r in results)
    results = detector.checks("结日职兼，8899nil信微加")
    assert any(TRICK_REVERSED in r.reason for r in results)


def test_a_contact_alone_or_add_me_without_an_id_is_not_an_ad(detector: TextDetector) -> None:
    assert not flagged(detector, "我的微信号是 zhangsan_1990，加一下方便对接工作")
    assert not flagged(detector, "会后加我微信聊，细节当面说不清")
    assert not flagged(detector, "失物招领：黑色双肩包，在签到台，联系 151 7579 0020")


# -- the v1 chat challenge set, development data in full: a guard against losing ground

def _challenge_v1() -> dict[tuple[str, str], list[str]]:
    families: dict[tuple[str, str], list[str]] = {}
    for line in (ROOT / "tests" / "data" / "chat_challenge.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        families.setdefault((row["label"], row["family"]), []).append(row["text"])
    return families


def test_challenge_v1_per_family(detector: TextDetector) -> None:
    weak = []
    for (label, family), texts in sorted(_challenge_v1().items()):
        hits = sum(flagged(detector, t) for t in texts)
        if (label == "ad" and hits < len(texts) - 1) or (label == "ham" and hits > 1):
            weak.append(f"{label} {family}: {hits}/{len(texts)} flagged")
    assert not weak, weak


def test_a_phone_number_with_the_country_code_is_a_phone_number(detector: TextDetector) -> None:
    assert flagged(detector, "贷款找我 +86 138 1234 5678")
    assert flagged(detector, "网贷秒下，电话0086-138-1234-5678")
    assert not flagged(detector, "我们车在 B2 层 C 区，停好了打 +86 159 8974 6857")
