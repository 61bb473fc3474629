"""Contacts in the shapes offers post them: digits in any script or in symbols that stand for them, an
account shown only once a disguise is undone, QQ and 私聊 written by sound, an invitation to another group
aimed at the reader for a bait; and the hams that share each shape (an account after plain phrases, codes,
Thai and Arabic text with their own digits, swearing typed with shift, decorations between characters,
talk about groups, warnings). Texts are written for these tests, the hams partly by a hostile review."""

from __future__ import annotations

import pytest

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
    # an account after a string of phrases is how people share their own: never an ad for its shape alone
    "王者五排缺一个，今晚九点开，拉我 tianyu2008",
    "PR 已经提了，改了登录那块，麻烦帮忙看看，github: zhangwei1024",
    "新买的耳机 音质不错 降噪也好 wh1000xm5",
    "晚饭吃啥 火锅 烤肉 都行 你定 xiaoyu1998",
    "订单号 SF1234567890123 还没到",
    "考研加油 每天六小时 坚持住 kaoyan_2025",  # a schedule, not a pay rate
    "我们班的打卡小程序 每天九点前 签到码 qd20240415",
    "测试环境 密钥换了 a3f9c2d81be07744",
])
def test_an_account_after_plain_phrases_is_not_an_ad(rules: TextDetector, text: str) -> None:
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
    "代缴社保 电话 幺伞巴尔丝舞溜期八救铃",  # 伞 3, 尔 2, 丝 4 …
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
    "想进VIP群领资料的，评论区扣1",
    "带你进群领红包，名额有限",
])
def test_an_invitation_aimed_at_the_reader_for_a_bait_counts_against_a_newcomer_and_with_a_contact(
        rules: TextDetector, text: str) -> None:
    assert rules.score(text)[0] >= 0.6, rules.checks(text)  # a newcomer's is an ad
    assert flagged(rules, f"{text} 加我 qiuyue5521"), rules.checks(text)


@pytest.mark.parametrize("text", [
    "群满了，新同学请进二群，入口找管理员",  # the group's own business
    "千万别理那个说进群领红包的，是骗子",  # a warning
    "我表姐被人拉进一个点赞群，交了押金才发现",  # a story
    "我朋友被一个“刷单返佣”的骗了两千，大家小心",
    "红包接龙开始了！刚进群的新朋友也来抢",  # talk about this group
    "我进群晚了，红包都被抢完了",
    "新生群已经开了 入群请备注 专业+姓名",
    "刚拉你进了项目群，资料在群公告",
    "班主任说下午拉大家进家长群，作业资料都在里面",  # ordinary invitations (a second review)
    "加你进群了，领队是阿杰，有事问他",
    "想进羽毛球群的扣1，我统计下人数，场地费AA，名额16个",
    "本群满了开了二群，我拉大家进二群，红包照发",
    "送你进我们公司老乡群吧，中秋有福利",  # a community's group
])
def test_talk_about_groups_the_groups_own_notice_and_a_warning_are_not(rules: TextDetector, text: str) -> None:
    assert rules.score(text)[0] < 0.6, rules.checks(text)  # not even a newcomer's


@pytest.mark.parametrize("text", [
    "在家做 手机 1\u20de3\u20de9\u20de1\u20de2\u20de3\u20de4\u20de5\u20de6\u20de7\u20de8\u20de",  # marks on digits
    "收二手书 vx ⲗⲓⲛⲅⲩⲉ8841",  # Coptic letters for Latin ones
    "招打字员 ᒪᑌO7729",  # Canadian syllabics
    "装修报价 联系 ɱaɲʂeɲ2208",  # Latin letters with hooks and strokes no language here writes
    "接▲单▲打▲字 每天结 w▲e▲n▲y▲u▲8▲8▲3▲1",  # an account shown only once the symbols are taken out
])
def test_an_account_dressed_up_to_pass_a_filter_is_an_ad(rules: TextDetector, text: str) -> None:
    assert flagged(rules, text), rules.checks(text)


@pytest.mark.parametrize("text", [
    "今天好开心，晚上一起吃饭，我电话 13912345678",
    "暑假去了趟 Москва2024 玩，拍了好多照片",  # a Russian word and a year
    "Привет123 это мой ник",
    "好，好，好，都听你的，电话 13812345678",  # ordinary punctuation
    "生✿日✿快✿乐 小美 礼物寄出了 单号 SF1234567890",  # a decoration elsewhere, the code as written
    "快递单号 SF1234567890，周一/三/五 派送",
    "ห้อง305 นะคะ เจอกันตอนเย็น",  # Thai with a room number
    "ราคา ๓๕๐ บาท ส่งฟรี โทร ๐๘๑๒๓๔๕๖๗๘",  # Thai digits in Thai text
    "已知 αx+βy=100，求 α+β",  # maths
    "Em ở phòng 302, số điện thoại của em là 0912345678 nhé",  # Vietnamese
    "lǎo shī hǎo，zuò yè tí jiāo le，xué hào s2023105",  # pinyin with tones
    "投票：1⃣火锅 2⃣烧烤 3⃣日料，我的号 tiger2024",  # keycaps
    "我靠 @#$%&*! 又掉线了，我id是 tiger2024",  # swearing typed with shift
    "收到!!!(^_^) 周五见，航班 mu5137",
    "其实就是要一起玩，王者id lucky888",  # 是 is not read as 4
    "晚上就要一起骑一圈吧，想去的私我",  # 一圈 is a lap
    "周末就要一起骑山路吧，要去的私我",  # 山 is not read as 3, nor 路 as 6
    "我游戏名改成 𝐓𝐢𝐠𝐞𝐫𝟐𝟎𝟐𝟒 了，明晚开黑",  # a nickname's font
    "微信 @#$%^&*! 又崩了，发不出消息",  # a mash after naming the app
    "阿拉伯数字以前是 ٠١٢٣٤٥٦٧٨٩ 这样写的",  # the digits listed, not a number
    "阿联酋的朋友写的房间号 ٣٠٢，他邮箱 ahmed.k@gmail.com",  # the address is as written
    "爸的医保今年我帮忙代缴了，社区王阿姨电话13705718821，有问题你直接问她",  # (a third review)
    "楼下团购达人王姐说今晚八点到货，没拿到荔枝的打她电话 138 1234 5678",
    "QQ !@#$%^&* 又登不上了",  # the keyboard row itself
    "เพิ่งซื้อiPhone15มาราคา32900บาท",  # Thai writes no spaces
    "Wi-Fi пароль: дача2024home",  # a Russian word in an id
    "我的id是ｔｉｇｅｒ２０２４，加我好友",  # full-width input
    "晚安ʕ•ᴥ•ʔbear1991",  # a kaomoji's sound letters are not a disguise
    "Spotkajmy się w Łodzi, mój numer to 601234567",  # Polish
    "Z̷a̷l̷g̷o̷ 文字好吓人哈哈，我微信号 lee_1999 你加我",  # marks on a word, not on the id
    "跟小斯聊了，他说副业一个月多赚三千",  # a name before 聊
])
def test_a_contact_in_plain_or_foreign_text_alone_is_not(rules: TextDetector, text: str) -> None:
    assert not flagged(rules, text), rules.checks(text)


@pytest.mark.parametrize("text", [
    "兼职日结 手机就能做 进 telegram.me/joinchat/AbCd1234",
    "刷单返佣 一单一结 蝙蝠聊天 ID 5823301947",
])
def test_other_messengers_next_to_an_offer_are_contacts(rules: TextDetector, text: str) -> None:
    assert flagged(rules, text), rules.checks(text)


@pytest.mark.parametrize("text", [
    "我每天三顿饭都在食堂，饭卡充值找老王 13812340000",
    "每周五下午三点开会，有事打我电话 13812345678",
    "每月一号交房租，房东电话 13912345678 别忘了",
    "孩子每周三节网课，老师电话 13611113333 有问题直接找",
])
def test_a_schedule_or_a_count_next_to_a_contact_is_no_pay_rate(rules: TextDetector, text: str) -> None:
    assert not flagged(rules, text), rules.checks(text)


def test_a_pay_rate_next_to_a_contact_is_still_an_offer(rules: TextDetector) -> None:
    assert flagged(rules, "手绘头像定制，一张八十，三天出图，qiaomu2047")
    assert flagged(rules, "录音员 一条五十 每单5元 结算快 13812345678")
