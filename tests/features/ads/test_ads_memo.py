"""The memo of short-text verdicts: same answers as without it, bounded, long texts never kept."""

from __future__ import annotations

from handlers.ads.detector import TextDetector
from handlers.ads.memo import ShortTextMemo


def test_a_remembered_verdict_is_the_verdict_and_its_results_can_be_changed_by_the_caller_safely() -> None:
    detector = TextDetector({"兼职": 1.0, "日结": 1.0})
    fresh = TextDetector({"兼职": 1.0, "日结": 1.0})
    for text in ["兼职日结加V：abc12345", "收到", "兼职日结加V：abc12345", "签到"]:
        assert detector.score(text) == fresh._score_text(text)
    first = detector.score("兼职日结加V：abc12345")
    first[2].clear()  # a caller's list is its own
    assert detector.score("兼职日结加V：abc12345")[2]


def test_the_memo_is_bounded_and_keeps_only_short_texts() -> None:
    calls: list[str] = []

    def compute(text: str) -> int:
        calls.append(text)
        return len(text)

    memo: ShortTextMemo[int] = ShortTextMemo(size=3, chars=5)
    for text in ["a", "b", "a", "c", "d", "e", "a", "toolongtext", "toolongtext"]:
        memo.get(text, compute)
    assert len(memo._kept) == 3
    assert calls == ["a", "b", "c", "d", "e", "a", "toolongtext", "toolongtext"]
