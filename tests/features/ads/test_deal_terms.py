"""A personal contact next to the terms of a deal (a price or a pay rate, a return, a trade) is an offer,
whatever is on offer and whether or not the detector knows its words; a business's service notice and a
contact without terms are not."""

from __future__ import annotations

import pytest

from handlers.ads.detector import TextDetector
from handlers.ads.model import load_default_model

THRESHOLD = 1.0


@pytest.fixture(scope="module")
def detector() -> TextDetector:
    return TextDetector({}, (), load_default_model())


@pytest.mark.parametrize("text", [
    "手绘头像定制，一张八十，三天出图，qiaomu2047",
    "二手奢侈品高价回收，当天打款 15820473196",
    "宠物寄养包月六百，上门接送，找我 lanxi_3051",
    "帮你跑腿代买火车票，一次二十块，13760218845",
])
def test_a_contact_with_deal_terms_is_an_offer(detector: TextDetector, text: str) -> None:
    total, _kind, results = detector.score(text)
    assert total >= THRESHOLD
    assert "交易话术" in results[1].reason


@pytest.mark.parametrize("text", [
    "您的订单已发货，运费 12 元，快递员电话 13812345678",  # a notice
    "周六爬山的在南门集合，找不到人打我电话 13912345678",  # a contact, no terms
    "我换微信了，新的是 lanxi_3051，上次说的书我周末带给你",
    "这本书才 30 元，我在当当买的，挺值",  # terms, no contact
])
def test_a_notice_or_a_contact_without_terms_is_not(detector: TextDetector, text: str) -> None:
    assert detector.score(text)[0] < THRESHOLD
