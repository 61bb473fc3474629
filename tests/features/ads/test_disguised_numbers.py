"""Numbers written so that a filter cannot read them (pictures of counts, characters that sound like
digits, a number broken over lines) are read back, and a contact disguised that way counts as a lure;
ordinary text that happens to look similar is left alone."""

from __future__ import annotations

import pytest

from handlers.ads.detector import TextDetector
from handlers.ads.folds import TRICK_SOUND_DIGITS, analyse_for_ads
from handlers.ads.model import load_default_model
from handlers.ads.patterns import is_chain_list
from handlers.ads.sounds import SoundDecoder

THRESHOLD = 1.0


@pytest.fixture(scope="module")
def detector() -> TextDetector:
    return TextDetector({"兼职": 1.0, "贷款": 1.5}, (), load_default_model())


@pytest.mark.parametrize(("written", "digits"), [
    ("㈠㈢㈧㈡㈥", "13826"),  # parenthesised ideographs
    ("㊀㊂㊈㊄㊆", "13957"),  # circled ideographs
    ("🀇🀈🀉🀊🀋🀌🀍🀎🀏", "123456789"),  # mahjong tiles of characters
    ("⚀⚁⚂⚃⚄⚅", "123456"),  # die faces
    ("𝍠𝍡𝍢𝍣𝍤𝍥𝍦𝍧𝍨", "123456789"),  # counting rods
    ("🯱🯳🯸🯰🯲", "13802"),  # segmented digits
])
def test_pictures_of_counts_are_digits(written: str, digits: str) -> None:
    assert digits in analyse_for_ads(f"电话 {written}").flat


def test_characters_that_sound_like_digits_are_a_number() -> None:
    t = analyse_for_ads("联系 幺伞爸 尔漆酒思 舞溜铃幺")  # yao san ba / er qi jiu si / wu liu ling yao
    assert "13827945601" in t.flat
    assert TRICK_SOUND_DIGITS in t.tricks


@pytest.mark.parametrize("text", ["呜呜呜呜呜呜呜呜呜", "哈哈哈一起吧", "我们一起去吃饭吧", "衣衣依依一一"])
def test_ordinary_text_is_not_read_as_a_number(text: str) -> None:
    t = analyse_for_ads(text)
    assert TRICK_SOUND_DIGITS not in t.tricks
    assert not any(ch.isdigit() for ch in t.flat)


@pytest.mark.parametrize(("written", "digits"), [
    ("电话 eins fünf neun eins zwei acht eins vier vier zwei acht", "15912814428"),  # German
    ("电话 uno cinco seis cinco seis siete cero siete ocho uno uno", "15656707811"),  # Spanish: seis, not sei + s
    ("qq sei sette otto nove tre due uno", "6789321"),  # Italian
    ("电话 un trois huit deux quatre cinq six sept", "13824567"),  # French
    ("tel odin tri vosem dva chetyre pyat", "138245"),  # Russian in Latin letters
])
def test_a_number_read_aloud_in_another_language_is_digits(written: str, digits: str) -> None:
    assert digits in analyse_for_ads(written).flat


@pytest.mark.parametrize("text", ["un deux trois, nous irons au bois", "I want to go shi ni san yon",
                                  "wo shi ni ba ba de hao peng you"])
def test_a_few_number_words_in_a_sentence_are_words(text: str) -> None:
    assert not any(ch.isdigit() for ch in analyse_for_ads(text).flat)


def test_an_amount_in_chinese_numerals_is_not_glued_to_the_phone_after_it() -> None:
    assert "13602251478" in analyse_for_ads("一晚三百五\n13602251478").flat


def test_a_disguised_phone_number_next_to_an_offer_is_an_ad(detector: TextDetector) -> None:
    assert detector.score("急需用钱的来 ⚀⚂⚅⚀⚁⚃⚄⚂⚅⚀⚁")[0] >= THRESHOLD
    assert detector.score("足彩内部推荐 🀇🀉🀏🀋🀇🀉🀎🀍🀊🀌🀋")[0] >= THRESHOLD
    # written plainly, the same number is a phone number for the contact check and nothing more: the
    # disguise is what made it evidence (the chat model still reads the offer as an ad)
    contact = {r.check: r for r in detector.score("急需用钱的来 13614235613")[2]}["contact"]
    disguised = {r.check: r for r in detector.score("急需用钱的来 ⚀⚂⚅⚀⚁⚃⚄⚂⚅⚀⚁")[2]}["contact"]
    assert contact.score < THRESHOLD <= disguised.score


def test_an_id_broken_over_lines_counts_as_disguised(detector: TextDetector) -> None:
    text = "二手\n手机\n回收\n找我\nhuan\ngyu-\n5820"
    assert detector.score(text)[0] >= THRESHOLD
    assert "号码写得让人认不出" in " ".join(r.reason for r in detector.checks(text))


def test_a_word_by_sound_is_never_read_across_a_number() -> None:
    decoder = SoundDecoder(("借贷",))
    assert "借贷" in decoder.decode("姐袋 利息低 加我")[0]  # the same sounds side by side are read
    light, _tricks, _rewrites = decoder.decode("3栋陈姐 3袋 2栋王姐 1袋")
    assert "借" not in light and "贷" not in light


@pytest.mark.parametrize("text", [
    "接龙：周六包饺子 每人 20 元\n1. 王阿姨 2斤\n2. 小杜 1斤\n3. 5栋陈姐 3斤",
    "#接龙 团购橙子\n1. 张老师 2箱\n2. 周同学 1箱\n3. 李阿姨 2箱",
])
def test_a_jielong_list_is_not_an_ad(detector: TextDetector, text: str) -> None:
    assert is_chain_list(analyse_for_ads(text).light)
    assert detector.score(text)[0] < THRESHOLD


def test_an_ad_dressed_as_a_jielong_list_is_still_caught(detector: TextDetector) -> None:
    assert detector.score("#接龙\n1. 兼职日结 加V abc12345\n2. 兼职日结 加V abc12345")[0] >= THRESHOLD
