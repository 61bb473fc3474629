"""The chat model: a second classifier trained on group-chat sets, calibrated leave-one-set-out, and the
classifier check taking the stronger of it and the corpus model."""

from __future__ import annotations

import pytest

from bench.detection_eval import HELD_OUT
from handlers.ads.chat_training import RANGE, train_chat_model
from handlers.ads.detector import TextDetector
from handlers.ads.latin_pinyin import latin_syllables, split_syllables
from handlers.ads.model import (
    clean_text,
    features,
    load_default_chat_model,
    load_default_model,
    pinyin_table,
    syllable_list,
)
from rules.config import Config
from scripts.train_chat_model import ALWAYS, CHAT_SETS

PITCH = {"兼职": 1.0, "刷单": 2.0, "日结": 1.0, "贷款": 1.5}
HAMS = ["今天下午开会记得带电脑", "周末一起去爬山吗", "这家面馆真好吃，推荐", "孩子作业写完了没有", "明天降温了多穿点",
        "晚上八点直播回放在群文件", "刚下班，地铁好挤", "有人知道附近哪里修手机吗", "这本书我看完了可以借你",
        "下周三交报告，别忘了"]


def _set(offer: str, n: int) -> list[tuple[str, str]]:
    ads = [(f"{offer}，名额有限，要的私我 shop{n}{i:03d}", "ad") for i in range(12)]
    hams = [(f"{h}（{n}{i}）", "ham") for i, h in enumerate(HAMS)]
    return ads + hams


def test_calibration_scores_each_set_with_a_model_that_never_saw_it() -> None:
    sets = {"a": _set("翡翠手镯工厂价", 1), "b": _set("明前龙井茶山直发", 2), "c": _set("和田玉原石捡漏", 3)}
    model = train_chat_model(sets, [h for h in HAMS], epochs=4)
    assert model.meta["calibration"] == "leave-one-set-out"
    assert set(model.meta["loso"]) == {"a", "b", "c", "corpus_ham"}
    assert all(f["ads"] == 12 and f["hams"] == 10 for name, f in model.meta["loso"].items() if name != "corpus_ham")
    assert model.z_low == pytest.approx(model.z_high - RANGE)
    # the final model was trained on every set: a set's own ads score higher with it than out of set
    assert model.logit("明前龙井茶山直发，名额有限，要的私我 shop2000") > model.z_low


def test_calibration_needs_two_sets() -> None:
    with pytest.raises(ValueError, match="two sets"):
        train_chat_model({"a": _set("翡翠手镯工厂价", 1)}, HAMS)


def test_the_shipped_chat_model_never_saw_the_held_out_set() -> None:
    model = load_default_chat_model()
    assert model is not None
    trained = set(model.meta["sets"])
    assert trained == {name.removesuffix(".jsonl") for name in CHAT_SETS}
    for path in HELD_OUT.values():
        assert path.stem not in trained and path.name not in (*CHAT_SETS, *ALWAYS)
    assert set(model.meta["loso"]) == trained | {"corpus_ham"}


def test_a_chat_ad_the_corpus_model_misses_is_tipped_over_by_the_chat_model() -> None:
    detector = TextDetector(PITCH, (), load_default_model())
    total, _kind, results = detector.score("考研资料全套，押题准，需要的私 kaoyan886")
    checks = {r.check: r for r in results}
    assert total >= 1.0 and checks["contact"].score < 1.0
    assert checks["classifier"].reason.startswith("聊天模型：广告概率")
    for ham in ("周末去龙井村喝茶，有人一起吗", "我妈生日送了她一个玉手镯，她可喜欢了", "我的相机镜头进灰了，哪里能修"):
        assert detector.score(ham)[0] == 0


def test_without_the_classifier_there_is_no_chat_model() -> None:
    assert TextDetector(PITCH, (), classifier=False).chat_model is None


def test_a_short_chat_ad_is_not_held_back_when_the_chat_model_speaks() -> None:
    # shorter than CLASSIFIER_ALONE_MIN_CHARS: the corpus model alone is capped there (SMS openings read
    # like ads), the chat model learnt from short chat lines and is not
    detector = TextDetector(PITCH, (), load_default_model())
    total, _kind, results = detector.score("考研资料全套 押题准 kaoyan886")
    checks = {r.check: r for r in results}
    assert checks["classifier"].reason.startswith("聊天模型") and checks["contact"].score == 0
    assert total >= 1.0


def test_pinyin_in_latin_letters_reads_as_the_same_sounds_as_the_characters() -> None:
    table = pinyin_table(syllable_list())

    def sounds(text: str, latin: bool) -> set[str]:
        return {f for f in features(clean_text(text), 3, table, latin) if f[0] >= "\ue000"}

    assert sounds("zhao wo mai cha ye", latin=True) == sounds("找我卖茶叶", latin=False) != set()
    assert sounds("zhao wo mai cha ye", latin=False) == set()  # the corpus model reads letters as letters
    assert split_syllables("zhaowomaichaye") == ("zhao", "wo", "mai", "cha", "ye")
    assert latin_syllables("meetingroomatthree") == [] and latin_syllables("ranren64248") == []  # English, a name


def test_the_chat_model_reads_latin_pinyin_and_the_corpus_model_does_not() -> None:
    chat, corpus = load_default_chat_model(), load_default_model()
    assert chat is not None and corpus is not None
    assert chat.latin and not corpus.latin


def test_an_owner_can_turn_the_chat_model_off_for_a_group() -> None:
    config = Config.from_text("defaults:\n  ads:\n    chat_model: false\n")
    assert config.model.defaults.ads.chat_model is False
    assert TextDetector(PITCH, (), load_default_model(), chat=False).chat_model is None
    text = "考研资料全套 押题准 kaoyan886"  # the chat model's alone (see above)
    assert TextDetector(PITCH, (), load_default_model(), chat=False).score(text)[0] < 1.0
