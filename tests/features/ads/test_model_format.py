"""The ad model held compactly (handlers/ads/model.py): the same logits as the plain sum over a dict of
weights, the file format (version 3, and versions 2 and 1 still read), and the memory it takes."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest

from handlers.ads.model import (
    DEFAULT_MODEL_PATH,
    AdModel,
    clean_text,
    feature_count,
    features,
    load_default_model,
    pinyin_table,
)
from handlers.ads.training import train_model

ROOT = Path(__file__).resolve().parents[3]
TOY = [("兼职日结加我", "ad"), ("刷单返利日结", "ad"), ("全场五折欢迎光临", "ad"), ("博彩注册送彩金", "ad"),
       ("明天开会", "ham"), ("今天天气不错", "ham"), ("晚上一起吃饭吗", "ham"), ("作业交了吗", "ham")] * 3


def plain_logit(weights: dict[str, float], bias: float, flat: str, syllables: tuple[str, ...] | None = None) -> float:
    """The classifier as a dict of floats computes it."""
    table = pinyin_table(syllables) if syllables else None
    grams = features(flat, 3, table)
    return bias + sum(weights.get(g, 0.0) for g in grams) / math.sqrt(feature_count(flat, 3, table))


def texts() -> list[str]:
    lines = (ROOT / "tests" / "data" / "chat_challenge.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()] + [
        "兼职刷单日结300元，加V：abc123", "", "$", "^^", "签到", "a$b^c 123 456", "🔥🔥🔥 加我 vx 888"]


def test_the_shipped_model_scores_as_the_dict_of_its_weights_does() -> None:
    model = load_default_model()
    assert model is not None
    raw = json.loads(gzip.decompress(DEFAULT_MODEL_PATH.read_bytes()))
    assert raw["version"] == 3 and raw["pinyin"].split() == list(model.syllables or ())
    weights = dict(model.weights)
    assert len(weights) == len(model) == len(raw["grams"].split("\n")) > 100_000
    for text in texts():
        flat = clean_text(text)
        expected = plain_logit(weights, model.bias, flat, model.syllables)
        assert model.logit(flat) == pytest.approx(expected, abs=1e-5), text


def test_the_shipped_model_is_small_on_disk_and_in_memory() -> None:
    model = load_default_model()
    assert model is not None
    assert DEFAULT_MODEL_PATH.stat().st_size < 10 * 1024 * 1024
    assert model.nbytes < 7_000_000  # a dict of the same weights: about 26 MB


def test_version_1_and_2_files_load_with_the_same_scores_and_are_written_as_version_3(tmp_path: Path) -> None:
    model = train_model(TOY, epochs=5, folds=0, min_df=1, prune=0.0, pinyin=False, augment=0)
    v3 = model.to_dict()
    grams = v3["grams"].split("\n")
    v2 = {**{k: v for k, v in v3.items() if k != "pinyin"}, "version": 2, "weights": [model.weights[g] for g in grams]}
    v1 = {**{k: v for k, v in v2.items() if k != "grams"}, "version": 1, "weights": dict(model.weights)}
    for old in (v1, v2):
        path = tmp_path / f"v{old['version']}.json"
        path.write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
        loaded = AdModel.load(path)
        assert loaded.to_dict() == v3 and dict(loaded.weights) == v1["weights"] and loaded.syllables is None
        for text in ("兼职日结", "明天开会", "博彩注册送彩金，日结"):
            flat = clean_text(text)
            assert loaded.logit(flat) == pytest.approx(plain_logit(v1["weights"], loaded.bias, flat), abs=1e-6)
    model.save(tmp_path / "new.json.gz")
    assert json.loads(gzip.decompress((tmp_path / "new.json.gz").read_bytes()))["version"] == 3


def test_the_weights_view_reads_like_a_dict() -> None:
    model = AdModel({"兼职": 2.5, "日结": 1.25, "开会": -1.0}, -0.5, meta={"x": 1})
    assert dict(model.weights) == {"兼职": 2.5, "日结": 1.25, "开会": -1.0}
    assert model.weights["日结"] == 1.25 and "开会" in model.weights and len(model.weights) == 3
    with pytest.raises(KeyError):
        model.weights["签到"]
    assert model.top_features("兼职日结", k=2) == ["兼职", "日结"]
    empty = AdModel({}, 0.25)
    assert empty.logit("兼职") == 0.25 and len(empty) == 0 and AdModel.from_dict(empty.to_dict()).bias == 0.25
