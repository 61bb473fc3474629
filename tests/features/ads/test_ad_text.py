"""Ad text detection: normalisation tricks, each check's verdict and reason, the allowlist, the model,
and the evasion set (tests/data/ad_evasions.jsonl: every ad flagged at threshold 1.0, no ham flagged)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handlers.ads.detector import CHECKS, CheckResult, TextDetector
from handlers.ads.folds import (
    TRICK_EMOJI,
    TRICK_HOMOGLYPH,
    TRICK_INVISIBLE,
    TRICK_NUMERALS,
    TRICK_SPACED,
    TRICK_STYLED,
    analyse_for_ads,
    normalize_for_ads,
)
from handlers.ads.model import AdModel, load_default_model
from handlers.ads.training import train_model
from rules.normalize import clean, fold, to_simplified

ROOT = Path(__file__).resolve().parents[3]
EVASIONS = [json.loads(line) for line in (ROOT / "tests" / "data" / "ad_evasions.jsonl").read_text("utf-8").splitlines()
            if line.strip()]
# config.yaml's defaults.ads
PITCH = {"兼职": 1.0, "刷单": 2.0, "日结": 1.0, "贷款": 1.5, "返利": 1.0, "博彩": 2.0, "代购": 0.8, "招代理": 1.5,
         "加V": 1.5}
ALLOW = ("docs.qq.com", "feishu.cn", "mp.weixin.qq.com")
THRESHOLD = 1.0


@pytest.fixture(scope="module")
def detector() -> TextDetector:
    return TextDetector(PITCH, ALLOW, load_default_model())


@pytest.fixture(scope="module")
def rules_only() -> TextDetector:
    return TextDetector(PITCH, ALLOW, classifier=False)


def by_check(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.check: r for r in results}


# -- the evasion set ------------------------------------------------------------------------------


def test_evasion_set_size() -> None:
    assert sum(r["label"] == "ad" for r in EVASIONS) >= 60
    assert sum(r["label"] == "ham" for r in EVASIONS) >= 60
    assert {r["label"] for r in EVASIONS} == {"ad", "ham"}


@pytest.mark.parametrize("row", [r for r in EVASIONS if r["label"] == "ad"], ids=lambda r: r["text"][:24])
def test_every_evasion_ad_is_flagged(detector: TextDetector, row: dict) -> None:
    total, kind, results = detector.score(row["text"])
    assert total >= THRESHOLD, (row, results)
    assert kind in ("link", "text")


@pytest.mark.parametrize("row", [r for r in EVASIONS if r["label"] == "ham"], ids=lambda r: r["text"][:24])
def test_no_evasion_ham_is_flagged(detector: TextDetector, row: dict) -> None:
    total, _kind, results = detector.score(row["text"])
    assert total < THRESHOLD, (row, results)


# -- normalisation --------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "flat"), [
    ("ｖｘ：ａｂｃ１２３", "vxabc123"),  # full-width -> half-width (NFKC), lower case, colon dropped
    ("加\u200b微\u200c信\u2060号\ufeff", "加微信号"),  # zero-width characters
    ("兼職刷單，日結", "兼职刷单日结"),  # traditional -> simplified (OpenCC)
    ("刷単", "刷单"),  # a shinjitai variant OpenCC leaves alone
    ("加vх：аbс123", "加vxabc123"),  # Cyrillic х а с
    ("ναbc", "vabc"),  # Greek nu and alpha
    ("138OO138OOO", "13800138000"),  # O for 0 inside a number
    ("1〇086", "10086"),  # 〇 inside a number
    ("①③⑧", "138"),  # circled digits
    ("⒈⒉", "12"),  # digits with a full stop
    ("❶❸❽", "138"),  # dingbat digits
    ("➊➋", "12"),
    ("𝟏𝟑𝟖", "138"),  # mathematical digits
    ("1\ufe0f\u20e32\ufe0f\u20e3", "12"),  # keycap emoji
    ("壹叁捌", "138"),  # financial numerals
    ("一三八零零一三八零零零", "13800138000"),  # a contact in Chinese numerals
    ("幺三八 零零幺三 八零零零", "13800138000"),
    ("加.微.信", "加微信"),  # symbols between characters
    ("兼 职 刷 单", "兼职刷单"),  # spaces between characters
    ("‼️兼职‼️刷单", "兼职刷单"),  # emoji between words
    ("➕V", "加v"),  # emoji standing for a word
    ("+v abc", "加vabc"),
    ("威❤", "威心"),
    ("🅥🅧", "vx"),  # negative circled letters
    ("ⓥⓧ", "vx"),  # circled letters
    ("加√", "加v"),
    ("www．abc．com", "www.abc.com"),  # the dots of a domain stay
])
def test_normalize_for_ads(raw: str, flat: str) -> None:
    assert normalize_for_ads(raw) == flat


def test_normalisation_leaves_ordinary_text_alone() -> None:
    assert normalize_for_ads("大陆一二三四") == "大陆一二三四"  # fewer than five numerals: not a number
    assert normalize_for_ads("二〇二四年") == "二〇二四年"
    assert normalize_for_ads("hello2024") == "hello2024"
    assert normalize_for_ads("1+1=2") == "112"
    assert normalize_for_ads("我爱你") == "我爱你"
    assert analyse_for_ads("加 V：abc").light == "加 v:abc"  # the light form keeps spacing and punctuation


@pytest.mark.parametrize(("raw", "trick"), [
    ("加\u200b微\u200b信", TRICK_INVISIBLE),
    ("加vх：аbс123", TRICK_HOMOGLYPH),
    ("❶❸❽❷", TRICK_STYLED),
    ("幺三八零零幺三八零零零", TRICK_NUMERALS),
    ("加.微.信", TRICK_SPACED),
    ("兼 职 刷 单", TRICK_SPACED),
    ("➕V", TRICK_EMOJI),
    ("威❤", TRICK_EMOJI),
])
def test_tricks_are_reported(raw: str, trick: str) -> None:
    assert trick in analyse_for_ads(raw).tricks


def test_no_tricks_in_ordinary_text() -> None:
    for text in ("晴 转 多云", "我爱你❤", "好的，好的", "兼職", "ｖｓｃｏｄｅ"):
        assert analyse_for_ads(text).tricks == (), text


def test_original_is_kept_and_fold_clean_unchanged() -> None:
    text = "加\u200bV：ａｂｃ"
    assert analyse_for_ads(text).original == text
    assert fold("群 规！") == fold("群规") == "群规"
    assert fold("ＡＢＣ 1") == "abc1"
    assert clean("ａ\u200bｂ， c") == "ab, c"
    assert to_simplified("號碼") == "号码"


# -- the checks -----------------------------------------------------------------------------------


def test_all_checks_report_even_when_nothing_is_found(detector: TextDetector) -> None:
    results = detector.checks("今天天气不错")
    assert [r.check for r in results] == list(CHECKS)
    assert all(r.score == 0 and r.reason for r in results)
    assert detector.score("今天天气不错") == (0.0, None, results)


@pytest.mark.parametrize(("text", "score", "reason"), [
    ("看看 https://www.zhihu.com/question/1", 0.5, "链接"),
    ("点 t.cn/A6abcXYZ 领取", 0.7, "短链接"),
    ("注册 abc888.top 送彩金", 0.7, "链接（.top 域名）"),
    ("下载 http://45.77.12.34/app.apk", 0.8, "APK 下载链接"),
    ("网址 abc888点com", 1.0, "变形域名（躲避链接过滤）"),
    ("网址 abc888 dot com", 1.0, "变形域名（躲避链接过滤）"),
    ("网址 abc888(.)com", 1.0, "变形域名（躲避链接过滤）"),
    ("www。abc888。com", 1.0, "变形域名（躲避链接过滤）"),
    ("www．abc888．com", 1.0, "全角字符写的域名（躲避链接过滤）"),
    ("w w w . b c 8 8 8 . c o m", 1.0, "拆开写的域名（躲避链接过滤）"),
])
def test_link_check(rules_only: TextDetector, text: str, score: float, reason: str) -> None:
    link = by_check(rules_only.checks(text))["link"]
    assert (link.score, link.reason) == (score, reason)
    assert link.evidence


@pytest.mark.parametrize("text", ["上海点com大会", "I did it. Me too, thanks", "版本 1.5.2 发布了", "run.sh 报错"])
def test_link_check_ignores_lookalikes(rules_only: TextDetector, text: str) -> None:
    assert by_check(rules_only.checks(text))["link"].score == 0


def test_allowlist(rules_only: TextDetector) -> None:
    for text in ("https://docs.qq.com/doc/abc", "见 https://abc.feishu.cn/docx/1", "mp.weixin.qq.com/s/xyz",
                 "https://www.feishu.cn/x"):
        link = by_check(rules_only.checks(text))["link"]
        assert (link.score, link.reason) == (0.0, "白名单域名（放行）"), text
    # not the allowed domain: a lookalike suffix, a prefix, or the allowed name inside another domain
    for text in ("https://xdocs.qq.com/a", "https://docs.qq.com.evil.top/a", "https://feishu.cn.abc.com/"):
        assert by_check(rules_only.checks(text))["link"].score > 0, text
    both = by_check(rules_only.checks("https://docs.qq.com/a 和 https://abc.com/b"))["link"]
    assert both.score == 0.5 and "白名单放行：docs.qq.com" in both.reason
    # the allowlist accepts URLs, upper case and wildcards; without it the same link counts
    assert TextDetector({}, ["HTTPS://Docs.QQ.com/", "*.feishu.cn"], classifier=False).allow_domains == (
        "docs.qq.com", "feishu.cn")
    assert by_check(TextDetector({}, classifier=False).checks("https://docs.qq.com/doc/abc"))["link"].score == 0.5


@pytest.mark.parametrize(("text", "reason"), [
    ("加V：abc12345", "变形的微信/QQ 写法加账号"),
    ("薇信 abc12345", "变形的微信/QQ 写法加账号"),
    ("有需要的加薇", "变形的微信/QQ 写法"),
    ("我的微信号 zhangsan_1990", "微信/QQ 号"),
    ("加我微信 abc12345 详聊", "微信/QQ 号加引流话术"),
    ("有事加我微信", "让人加微信/QQ"),
    ("进群领券，群号 123456789", "群号引流"),
    ("我手机 13812345678", "电话号码（没有推销话术）"),
    ("咨询热线 13812345678", "电话号码加推销话术"),
    ("有意者私聊", "引流话术"),
])
def test_contact_check_reasons(rules_only: TextDetector, text: str, reason: str) -> None:
    contact = by_check(rules_only.checks(text))["contact"]
    assert contact.score > 0 and contact.reason.startswith(reason), contact


def test_contact_check_reports_tricks_and_discussion(rules_only: TextDetector) -> None:
    plain = by_check(rules_only.checks("加微信abc12345"))["contact"]
    tricked = by_check(rules_only.checks("加.微.信abc12345"))["contact"]
    assert tricked.score > plain.score and "用了字间插符号" in tricked.reason
    assert by_check(rules_only.checks("他在公司很有威信"))["contact"].score == 0
    assert by_check(rules_only.checks("微信支付还是支付宝"))["contact"].score == 0
    talk = by_check(rules_only.checks("他说加V就送红包，是不是骗子"))["contact"]
    assert by_check(rules_only.checks("他的微博加V认证了"))["contact"].score == 0  # a badge, not a contact
    assert 0 < talk.score < 0.6 and "像在讨论/提醒" in talk.reason


def test_pitch_check_weights(rules_only: TextDetector) -> None:
    one = by_check(rules_only.checks("我以前做过兼职"))["pitch"]
    assert (one.score, one.reason, one.evidence) == (0.5, "只有一个推销词 兼职", "兼职")
    two = by_check(rules_only.checks("兼职日结"))["pitch"]
    assert two.reason == "推销词 兼职、日结" and two.score == pytest.approx(0.9)
    three = by_check(rules_only.checks("刷单兼职日结"))["pitch"]
    assert three.score >= THRESHOLD
    # the configured spelling matches its disguises: traditional, spaced out, upper/lower case
    assert by_check(rules_only.checks("兼 職"))["pitch"].evidence == "兼职"
    assert by_check(rules_only.checks("加v"))["pitch"].evidence == "加V"
    talk = by_check(rules_only.checks("这个返利活动是骗局吗大家注意"))["pitch"]
    assert talk.score < 0.5 * 1.0 and "像在讨论/提醒" in talk.reason
    assert by_check(TextDetector({}, classifier=False).checks("兼职"))["pitch"].reason == "没有配置推销词"


def test_one_pitch_word_is_not_an_ad(detector: TextDetector) -> None:
    for text in ("我以前做过兼职", "今天日结工资了吗", "贷款买房的利率现在是多少", "上个月代购的奶粉到了"):
        assert detector.score(text)[0] < THRESHOLD, text


def test_classifier_check(detector: TextDetector, rules_only: TextDetector) -> None:
    ad = by_check(detector.checks("本店全场五折优惠，买一送一，欢迎新老顾客光临选购，详询店内"))["classifier"]
    assert ad.score >= THRESHOLD and ad.reason.startswith("模型：广告概率") and ad.evidence
    ham = by_check(detector.checks("明天早上九点在公司楼下集合"))["classifier"]
    assert ham.score == 0 and ham.reason.startswith("模型：像普通消息")
    assert by_check(rules_only.checks("任何消息"))["classifier"] == CheckResult("classifier", 0.0, "没有模型")


def test_kind_is_link_when_the_link_decides(detector: TextDetector) -> None:
    total, kind, _ = detector.score("网址 abc888点com")
    assert total >= THRESHOLD and kind == "link"
    total, kind, _ = detector.score("兼职刷单日结，加V：abc12345")
    assert total >= THRESHOLD and kind == "text"


def test_weak_evidence_alone_is_not_an_ad(rules_only: TextDetector) -> None:
    # a plain link and a hotline with nothing that reads like a pitch: a notice
    total, _kind, results = rules_only.score("航班已出票，客服热线 020-31446564，详情 lv.example.com")
    assert results[0].score == 0.5 and results[1].score == 0.5 and total < THRESHOLD


# -- the model ------------------------------------------------------------------------------------


def test_default_model_is_shipped_small_and_cached() -> None:
    model = load_default_model()
    assert model is not None and model is load_default_model()
    assert (ROOT / "handlers" / "ads" / "ad_model.json.gz").stat().st_size < 2 * 1024 * 1024
    assert model.z_low < model.z_high
    assert model.meta["split"].startswith("dev")


TOY = [("兼职日结加我", "ad"), ("刷单返利日结", "ad"), ("全场五折欢迎光临", "ad"), ("博彩注册送彩金", "ad"),
       ("明天开会", "ham"), ("今天天气不错", "ham"), ("晚上一起吃饭吗", "ham"), ("作业交了吗", "ham")] * 3


def test_train_model_is_deterministic_and_takes_extra_samples(tmp_path: Path) -> None:
    first = train_model(TOY, epochs=5, folds=0, min_df=1, prune=0.0)
    second = train_model(TOY, epochs=5, folds=0, min_df=1, prune=0.0)
    a, b = tmp_path / "a.json.gz", tmp_path / "b.json.gz"
    first.save(a)
    second.save(b)
    assert a.read_bytes() == b.read_bytes()
    assert first.probability("兼职日结") > 0.5 > first.probability("明天开会")
    # an owner's /notad on a message the model calls an ad pulls it down
    extra = [("兼职日结的工资发了", "notad")] * 3
    retrained = train_model(TOY, extra=extra, epochs=5, folds=0, min_df=1, prune=0.0)
    assert retrained.meta["extra"] == 3
    assert retrained.probability("兼职日结的工资发了") < first.probability("兼职日结的工资发了")
    loaded = AdModel.load(a)
    assert loaded.to_dict() == first.to_dict()
    plain = tmp_path / "m.json"
    first.save(plain)
    assert AdModel.load(plain).weights == first.weights
    with pytest.raises(ValueError):
        train_model([("x", "ad")], folds=0)
    with pytest.raises(ValueError):
        train_model([("x", "maybe"), ("y", "ham")], folds=0)


def test_train_model_cross_validated_calibration() -> None:
    model = train_model(TOY, epochs=3, folds=2, min_df=1, prune=0.0)
    assert model.meta["folds"] == 2 and model.z_low < model.z_high


def test_a_right_to_left_override_is_read_as_it_is_shown_and_named_as_a_trick() -> None:
    from handlers.ads.folds import TRICK_BIDI

    shown_reversed = "大额贷款，秒批秒到，\u202e8899iuh加\u202c"  # readers see 加hui9988
    t = analyse_for_ads(shown_reversed)
    assert t.flat.endswith("加hui9988") and TRICK_BIDI in t.tricks
    to_line_end = analyse_for_ads("兼职日结 \u202e123zj信微\n下一行照常")  # the override ends with its line
    assert "微信jz321" in to_line_end.flat and to_line_end.flat.endswith("下一行照常")
    assert TRICK_BIDI not in analyse_for_ads("普通的一句话").tricks
    detector = TextDetector({"贷款": 1.5, "兼职": 1.0, "日结": 1.0}, (), None, classifier=False)
    total, _kind, results = detector.score("兼职日结 \u202ea7123zj信微\u202c")  # shown: 微信jz3217a
    contact = next(r for r in results if r.check == "contact")
    assert total >= 1.0 and contact.score > 0 and "反向排版" in contact.reason
