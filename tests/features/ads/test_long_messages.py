"""Long messages are read whole: an ad in the middle of a long text is seen, and the work stays bounded."""

from __future__ import annotations

from handlers.ads.detector import TextDetector
from handlers.ads.model import load_default_model
from handlers.ads.pieces import CHUNK_CHARS, CHUNK_OVERLAP, MAX_CHUNKS, chunks

FILLER = "今天的分享会大家都很积极，讨论了很多运营上的细节问题，下次继续。"
AD = "兼职刷单日结三百，加V：abc12345"


def test_an_ad_in_the_middle_of_a_long_message_is_seen() -> None:
    detector = TextDetector({"兼职": 1.0, "刷单": 2.0}, (), load_default_model())
    head = (FILLER * 40)[:1120]
    text = head + AD + (FILLER * 40)[: 1811 - len(head) - len(AD)]
    assert len(text) == 1811 and text.index(AD) == 1120
    assert detector.score(text)[0] >= 1.0
    assert detector.score(text.replace(AD, "大家辛苦了"))[0] < 1.0


def test_chunks_cover_every_character_with_overlap_and_stay_bounded() -> None:
    text = "".join(chr(0x4E00 + i % 2000) for i in range(5000))
    pieces = chunks(text)
    assert all(len(p) <= CHUNK_CHARS for p in pieces)
    covered = set()
    start = 0
    for piece in pieces:
        start = text.index(piece, max(0, start - CHUNK_CHARS))
        covered.update(range(start, start + len(piece)))
    assert covered == set(range(len(text)))
    huge = "字" * 200_000
    assert len(chunks(huge)) == MAX_CHUNKS and chunks(huge)[-1] == huge[-CHUNK_CHARS:]
    assert CHUNK_OVERLAP < CHUNK_CHARS
