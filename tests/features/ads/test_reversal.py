"""The reversed view (handlers/ads/reversal.py): ads typed backwards get a view that reads forwards;
ordinary chat (short lines, poems, lists, code, mixed English, traditional characters) gets none."""

from __future__ import annotations

import zlib

import pytest

from handlers.ads.reversal import (
    DEFAULT_BIGRAMS_PATH,
    MAGIC,
    MIN_CJK,
    BigramModel,
    Reversal,
    base_table,
    decode_model,
    encode_model,
    load_bigrams,
    reversal_margin,
    reversal_score,
    reversed_view,
    token_form,
)

# Ads as an advertiser would write them forwards; the tests reverse them. (Written for this test: none is
# taken from the challenge set.)
FORWARD_ADS = [
    "招代理，零投资，微信ming696ab",
    "急用钱的私我，贷款当天下",
    "兼职刷单，日赚三百，加微信abc123",
    "无抵押贷款，当天放款，联系电话13812345678",
    "网上赚钱，宝妈学生均可，加V了解详情",
    "专业办理信用卡套现，秒到账，微信xyz888",
    "博彩平台注册就送彩金，加QQ123456789",
    "正规网贷平台，低息快速放款，详情请加微信",
    "抖音点赞员招聘，日结八十，在家可做",
    "高价回收二手手机，上门服务，电话联系",
    "手机兼职，一单一结，微信号lucky_88",
    "免费领取会员，扫码进群，名额有限",
    "办理各类证件，加微信详聊",
    "贷款找我，不看征信，当天到账",
    "招聘打字员，在家可做，日结工资",
]

ORDINARY_CHAT = [
    # short
    "收到", "好的", "+1", "哈哈哈哈", "谢谢大家", "明天见", "在吗？", "辛苦了辛苦了", "v我50", "好滴",
    # everyday chat
    "今天晚上七点在老地方集合，大家记得带伞",
    "有人知道小区门口那家面馆几点关门吗",
    "孩子发烧了，今天请一天假，麻烦老师帮忙跟进一下作业",
    "你吃饭了吗？我刚下班，累死了",
    "这家店的红烧肉真的很好吃，强烈推荐",
    "地铁二号线今天停运检修，大家注意换乘",
    "明天早上八点半，公司门口集合，不要迟到",
    "这个周末有没有人一起去爬山",
    "哈哈哈笑死我了😂😂这个视频太搞笑了",
    "恭喜发财，红包拿来🧧🧧🧧",
    "我加你微信了，通过一下",
    "电话多少？我到楼下了",
    # ad words in ordinary talk
    "我们公司在招前端，有兴趣的可以私聊我，内推",
    "贷款买房还是全款买房，大家怎么看",
    "今天股市大跌，我的基金又绿了",
    "比特币又涨了，早知道当初买一点",
    "群规：禁止发广告，禁止刷屏，违者移出",
    # lists and numbers
    "周六上午十点羽毛球，还差两个人，有空的接龙",
    "接龙：周日烧烤\n1. 张三 2人\n2. 李四 1人\n3. 王五 3人",
    "1. 买牛奶\n2. 取快递\n3. 交水电费\n4. 给妈妈打电话",
    "我的快递单号是SF1234567890，帮我查一下到哪了",
    "房间号是1302，门禁密码2580，到了直接上来",
    "航班CA1234延误了，预计晚上九点到",
    "一二三四五六七，七六五四三二一",
    # poems, sayings, palindromes, vertical text
    "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
    "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。",
    "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。",
    "海内存知己，天涯若比邻",
    "知之为知之，不知为不知，是知也",
    "上善若水，水善利万物而不争",
    "下雨天留客天留我不留",
    "上海自来水来自海上",
    "人人为我，我为人人",
    "新\n年\n快\n乐",
    "祝\n大\n家\n中\n秋\n快\n乐",
    "祝大家中秋快乐，阖家幸福！",
    # code and mixed English
    "git clone https://github.com/foo/bar.git 然后运行 make test 就行了",
    "def main():\n    print('你好世界')  # 打印问候\n    return 0",
    "SELECT * FROM users WHERE id = 3; -- 查询用户信息",
    "pip install -r requirements.txt 报错了，提示找不到这个包，有人遇到过吗",
    "今天的meeting改到下午3点，记得带laptop，PPT我已经发群里了",
    "这个bug我修好了，PR已经提了，麻烦帮忙review一下",
    "周末去 Costco 买东西，有人要带的吗？",
    "OK no problem, see you tomorrow",
    # traditional characters
    "謝謝大家的幫忙，我們下週再聚",
    "今天天氣很好，我們去公園散步吧",
]


@pytest.mark.parametrize("ad", FORWARD_ADS)
def test_a_reversed_ad_gets_a_view_that_reads_forwards(ad: str) -> None:
    backwards = ad[::-1]
    assert reversed_view(backwards) == ad
    assert reversal_margin(backwards) > 0


@pytest.mark.parametrize("ad", FORWARD_ADS)
def test_an_ad_written_forwards_gets_no_view(ad: str) -> None:
    assert reversed_view(ad) is None
    assert reversal_margin(ad) < 0


def test_the_examples_read_forwards() -> None:
    view = reversed_view("ba696gnim信微，资投零，理代招")
    assert view is not None and "微信ming696ab" in view and view.startswith("招代理")
    view = reversed_view("下天当款贷，我私的钱用急")
    assert view is not None and "贷款" in view and view.startswith("急用钱")


@pytest.mark.parametrize("text", ORDINARY_CHAT)
def test_ordinary_chat_gets_no_view(text: str) -> None:
    assert reversed_view(text) is None


def test_short_messages_are_not_judged() -> None:
    # Fewer than MIN_CJK Chinese characters: no view, whatever the margin.
    assert reversed_view("款贷找") is None
    assert reversal_score("款贷找").cjk < MIN_CJK


def test_a_palindrome_has_no_margin() -> None:
    assert reversal_margin("上海自来水来自海上") == 0.0
    assert reversal_margin("") == 0.0
    assert reversed_view("") is None


def test_score_explains_the_margin() -> None:
    score = reversal_score("下天当款贷，我私的钱用急")
    assert isinstance(score, Reversal)
    assert score.cjk == 11
    assert score.margin > 0 and score.total > score.margin
    assert reversal_margin("下天当款贷，我私的钱用急") == score.margin


def test_token_form_classes() -> None:
    table = base_table()
    assert token_form("微信ming696ab，好的", table) == "|微信a0a|好的|"
    assert token_form("  Hello, World!! 123 ", table) == "|a|a|0|"
    assert token_form("ＡＢＣ１２３", table) == "|a0|"  # full-width letters and digits
    assert token_form("加微\u200b信", table) == "|加微信|"  # invisible characters vanish
    assert token_form("电话幺三八零零一二三四五六", table) == "|电话0|"  # a number spelt out
    assert token_form("😂好😂", table) == "|好|"
    # the token form of the reversed text is the reversed token form
    text = "兼职日结，微信ming696ab，在家就能做！！"
    assert token_form(text[::-1], table) == token_form(text, table)[::-1]


def test_traditional_characters_fold_to_simplified() -> None:
    model = load_bigrams()
    assert model.tokens("謝謝幫忙") == "|谢谢帮忙|"
    ad = "貸款找我，不看徵信，當天到賬"
    assert reversed_view(ad[::-1]) == ad
    assert reversed_view(ad) is None


def test_the_model_file_round_trips() -> None:
    header = {"step": 0.1, "backoff_unknown": 0, "continuation_unknown": 120}
    pairs = {"|微": 20, "微信": 5, "信|": 10}
    model = decode_model(encode_model(header, pairs, {"|": 3, "微": 8}, {"微": 60, "信": 70, "|": 20},
                                      {"貸": "贷"}))
    assert isinstance(model, BigramModel)
    assert dict(model.pairs) == pairs and len(model.pairs) == 3 and model.pairs["微信"] == 5
    assert "信微" not in model.pairs and "微" not in model.pairs
    assert model.tokens("貸") == "|贷|"
    # "|微信|" costs 20 + 5 + 10; backwards "|信微|": (3 + 70) + (0 + 60) + (8 + 20)
    assert model.cost("|微信|") == 35
    assert model.cost("|信微|") == 161
    assert model.score("信微").total == pytest.approx(12.6)


def test_the_shipped_model_is_small_and_loads() -> None:
    assert DEFAULT_BIGRAMS_PATH.stat().st_size < 1_500_000
    model = load_bigrams()
    assert model.header["format"] == "qunbot-chat-bigrams"
    assert len(model.pairs) > 10_000


def test_the_loaded_model_charges_each_stored_pair_its_own_cost() -> None:
    model = load_bigrams()
    pairs = list(model.pairs.items())
    assert len(pairs) == len(model.pairs)
    for pair, cost in pairs[:: len(pairs) // 2000]:  # ~2,000 spread over the table
        assert model.cost(pair) == cost
    # a pair not stored costs the backoff of its first token plus the continuation of its second
    first, second = "微", "屌"
    assert first + second not in model.pairs
    assert model.cost(first + second) == model.backoff[first] + model.continuation[second]


def test_a_model_with_unsorted_pairs_is_refused() -> None:
    data = encode_model({"step": 0.1, "backoff_unknown": 0, "continuation_unknown": 1},
                        {"ab": 1, "ba": 2, "ac": 3}, {}, {}, {})
    raw = zlib.decompress(data[len(MAGIC):])
    assert b"abacba" in raw
    with pytest.raises(ValueError, match="sorted"):
        decode_model(MAGIC + zlib.compress(raw.replace(b"abacba", b"abbaac")))


def test_a_file_that_is_not_a_model_is_refused() -> None:
    with pytest.raises(ValueError):
        decode_model(b"not a model")
