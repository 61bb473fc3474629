"""Disguise families read as a person reads them, each next to the hard hams that use the same words or
shapes in earnest: an offer (a job, a loan, a pitch) next to a contact or a way to take it private is an
ad; the same words, or a contact, on their own are not. The texts are written for these tests."""

from __future__ import annotations

import pytest

from handlers.ads.detector import TextDetector
from handlers.ads.folds import TRICK_SPACED, analyse_for_ads, normalize_for_ads
from handlers.ads.model import load_default_model
from handlers.ads.patterns import RE_INTENT, RE_OFFER, joined_ids
from handlers.ads.sounds import TRICK_HOMOPHONE, SoundDecoder, whole_words

# config.yaml's defaults.ads pitch words (a part of them: the families below do not lean on the rest)
PITCH = {"兼职": 1.0, "刷单": 2.0, "日结": 1.0, "贷款": 1.5, "返利": 1.0, "博彩": 2.0, "招代理": 1.5, "加V": 1.5,
         "炒币": 1.0, "带单": 1.5, "喊单": 1.5, "套现": 1.5, "荐股": 1.5, "引流": 1.0, "涨粉": 1.0, "刷粉": 1.5,
         "网贷": 1.5, "下款": 1.5, "百家乐": 2.0, "彩金": 2.0}
THRESHOLD = 1.0


@pytest.fixture(scope="module")
def detector() -> TextDetector:
    return TextDetector(PITCH, ("docs.qq.com",), load_default_model())


@pytest.fixture(scope="module")
def rules_only() -> TextDetector:
    return TextDetector(PITCH, ("docs.qq.com",), classifier=False)


def flagged(detector: TextDetector, text: str) -> bool:
    return detector.score(text)[0] >= THRESHOLD


FAMILIES = {
    "plain offer and contact": (
        ["招聘网络兼职，每天两小时，日结一百五，微信 kk_20881", "需要资金周转的，无抵押当天放款，电话 136 0011 2233",
         "代开各类发票，点数低，QQ 2938475612", "收购闲置游戏号，价格公道，微信号 gamebuy668"],
        ["我微信是 zhang_2024，加我一下方便对接", "周末团建集合，找小李 138 0013 8000",
         "我之前做过兼职，日结的那种，挺辛苦", "孩子学校通知：明天带单位证明，班主任电话 13600001111"]),
    "homophones": (
        ["兼只日洁，在家就能做，危信 mimi2233", "带款不看征信，秒批，V芯：qian6677", "宝麻们在家专钱啦，薇芯 bm520x"],
        ["宝马和奔驰哪个保值？", "新领导的威信还没立起来，电话 13700001111 找他也没用", "张薇，信息部的，分机 8021"]),
    "split characters": (
        ["日纟吉兼耳只，力口彳山攵亻言 job2233", "代贝款找我，王见金秒到，彳山攵イ言 loan8866"],
        ["老王见了我就笑，说今天的会开得好", "努力口语练习，下周考试"]),
    "reversed and right-to-left": (
        ["8876abc信微加，结日，职兼生学", "兼职日结，\u202e9955dd信微加\u202c"],
        ["上海自来水来自海上", "春眠不觉晓，处处闻啼鸟"]),
    "line breaks": (
        ["兼\n职\n日\n结\n加\n微\n信\nd\nd\n5\n5\n6\n6", "贷款秒批 加\nkk\n7788\nzz"],
        ["新\n年\n快\n乐", "买菜清单\n鸡蛋\n西红柿\n牛奶"]),
    "pinyin and initials": (
        ["jiān zhí rì jié，jiā wēi xìn：tt8866", "dk 秒下 不看征信 vx loan_336", "xyk tx 秒到 wx card_777"],
        ["jia you a ge wei", "今天 dk 了吗", "bm 了吗？明天截止"]),
    "traditional finance": (
        ["網貸秒下，不看徵信，微信 dai_6677", "帶單炒幣，穩賺不賠，加我 coin8899"],
        ["股票最近跌得好慘，還好我沒買太多", "請問現在房貸利率大概多少？"]),
    "emoji for characters": (
        ["🈶兼职🉑日结，➕✌ job_7788", "📞138 0000 1111 🈚抵押贷款", "在🏠就能赚💲，✔️ vip_5566"],
        ["🈶人去吃饭吗🍚", "✌️✌️合影", "🏠到家了，晚安"]),
    "symbols and strokes between characters": (
        ["兼/职/日/结 加/微/信 ab1234", "引丶流丶涨丶粉，私丶聊 yl_7788", "日·结 加 j·i·n·7·7·6·6"],
        ["A+B 两个方案都行", "今天是 2024·12·07"]),
    "look-alike letters and digits": (
        ["兼职日结，ｖｘ：ａｂ１２３４", "贷款秒批 微信 сс8866", "打字员ᴠx 𝗑𝗂𝖺𝗈𝗆𝗂𝟧𝟨𝟥",
         "刷单返利 ➊➌➑ ➋➋➌➍ ➎➎➏➏（微信同号）"],
        ["Ｖ领毛衣还是圆领的好看？", "第①组和第②组先上"]),
    "finance and growth jargon": (
        ["合约带单，胜率九成，跟单的私聊 bi_king88", "视频号涨粉，一千粉五十，微信 fans_2288",
         "交易所返佣五成，找我开户 yy13145"],
        ["比特币又跌了，炒币的都哭了", "涨粉慢就慢吧，内容做好最重要", "代理商大会联系人王经理 13700002222"]),
    "QQ, Telegram and e-mail": (
        ["兼职日结，QQ 88776655", "炒币带单，电报 @coin_teacher66", "想做兼职的简历发 job.2024@example.org"],
        ["我的 QQ 是 1234567，游戏里加我", "git clone git@github.com:foo/bar.git", "我的邮箱 zhangsan@company.com"]),
    "group invitations": (
        ["兼职日结群，群号 66778899，进群领任务", "想进撸毛群的私我，我拉你",
         "邀请好友进群奖励五元，上不封顶，加 yy9988"],
        ["读书会想进的扣1，我拉你", "你先加我微信，到时候我拉你进小区业主群", "群快满了，新同学请进二群"]),
    "an offer taken private, no contact": (
        ["想月入过万的来，私我", "网络赚钱项目，零基础，一部手机就能做，私聊我"],
        ["训练营期间如需请假，私信班委", "刚才那个是骗子吗？私聊我说日结兼职"]),
}


# Hard hams the shipped detector flags (text -> which check): any other flagged ham fails, and so does one of
# these once it is no longer flagged, so that it leaves this list. 读书会想进的扣1，我拉你 is the chat model's: it
# flagged it after three more writers' chat, not after v9, and again after v10 (an invitation to a group with
# 扣1 is how many of v10's ads read; the rules do not flag it).
KNOWN_FALSE_POSITIVES: dict[str, str] = {"读书会想进的扣1，我拉你": "classifier"}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_each_family_is_caught_and_its_hard_hams_are_not(detector: TextDetector, family: str) -> None:
    ads, hams = FAMILIES[family]
    missed = [t for t in ads if not flagged(detector, t)]
    wrong = [t for t in hams if flagged(detector, t) != (t in KNOWN_FALSE_POSITIVES)]
    assert not missed and not wrong, {t: detector.checks(t) for t in missed + wrong}


# -- the readings behind the families -----------------------------------------------------------------

def test_an_ad_word_that_is_the_start_of_a_longer_word_is_not_that_ad_word() -> None:
    assert whole_words(RE_INTENT, "明天带单位介绍信") == []
    assert whole_words(RE_INTENT, "律师代理费多少") == []
    assert whole_words(RE_INTENT, "刷单日结") == ["刷单", "日结"]  # 单日 is a word, but both finds stand
    assert whole_words(RE_INTENT, "套现金额大") == ["套现"]  # 金额 takes the 金
    assert whole_words(RE_INTENT, "承接引流") == ["引流"]  # what comes before an ad word is not looked at


def test_offers_are_specific_about_money_and_time() -> None:
    assert whole_words(RE_OFFER, "一天能赚三百") and whole_words(RE_OFFER, "日薪300+")
    for text in ("每天30分钟打卡", "一天2000步", "工资到账了", "11月12日20点集合", "今晚撸串", "在家做饭"):
        assert whole_words(RE_OFFER, text) == [], text


def test_ids_broken_over_lines_or_spelt_out_are_joined() -> None:
    assert "tt6129qp" in joined_ids("加tt\n612\n9qp")
    assert "jin9988" in joined_ids("加 j·i·n·9·9·8·8")
    assert joined_ids("版本 v1.2.0，端口 8080") == "版本 v1.2.0，端口 8080"


def test_fillers_between_characters_are_dropped_and_named() -> None:
    t = analyse_for_ads("引丶流丶涨丶粉")
    assert t.flat == "引流涨粉" and TRICK_SPACED in t.tricks
    assert normalize_for_ads("兼❤️职❤️日❤️结") == "兼职日结"
    assert normalize_for_ads("我❤你") == "我心你"  # one heart is a heart


def test_accents_small_capitals_and_digit_forms_are_folded() -> None:
    assert normalize_for_ads("jiā wēi xìn lǜ") == "jiaweixinlv"
    assert normalize_for_ads("ᴠx") == "vx"
    assert normalize_for_ads("➀➁➂ ❹❺ 𝟔𝟕") == "1234567"


def test_a_letter_for_wei_and_a_character_read_xin_is_wechat() -> None:
    text, tricks, rewrites = SoundDecoder().decode("v芯 abc123")
    assert text == "v信 abc123" and tricks == (TRICK_HOMOPHONE,) and rewrites == (("v芯", "v信"),)
    assert SoundDecoder().decode("v我50")[2] == ()


def test_the_unsubscribe_line_of_a_bulk_message_is_pitch(rules_only: TextDetector) -> None:
    pitch = {r.check: r for r in rules_only.checks("新品上市全场五折 回复TD退订")}["pitch"]
    assert pitch.score > 0 and "退订" in pitch.reason
    assert {r.check: r for r in rules_only.checks("怎么退订这个会员？")}["pitch"].score == 0


def test_a_phone_number_with_a_name_is_not_an_ad_for_the_model_alone(detector: TextDetector) -> None:
    for text in ("羽毛球场地预订联系 13912345678（陈教练）", "物业：水管师傅下午到，电话 139 1234 5678"):
        assert not flagged(detector, text), detector.checks(text)


def test_the_reason_names_the_offer_and_the_contact(rules_only: TextDetector) -> None:
    contact = {r.check: r for r in rules_only.checks("交易所返佣五成，找我开户 yy13145")}["contact"]
    assert contact.score >= THRESHOLD and "返佣" in contact.reason and "yy13145" in contact.reason
