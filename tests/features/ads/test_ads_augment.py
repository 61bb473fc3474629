"""Generated disguises for training the ad classifier (handlers/ads/augment.py) and the pinyin view of the
model (handlers/ads/model.py): determinism, each family really disguises, the two substitute pools are
disjoint, the harmless transforms keep ordinary lines ordinary, and a model trained with them flags
held-back disguises (drawn from the other pool) better than one trained without."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from handlers.ads import augment, folds
from handlers.ads.augment import FAMILIES, HARMLESS, Augmenter, augment_rows, row_random
from handlers.ads.components import recompose
from handlers.ads.detector import TextDetector
from handlers.ads.folds import analyse_for_ads
from handlers.ads.model import clean_text, feature_count, features, load_default_model, pinyin_table, syllable_list
from handlers.ads.sounds import readings
from handlers.ads.training import train_model
from rules.normalize import to_simplified

ROOT = Path(__file__).resolve().parents[3]
AD = "兼职刷单日结，加微信 abc12345 详聊，佣金300元，名额有限"
HAMS = ["今天下午三点开会，大家记得带上电脑", "周末一起去爬山吗？天气预报说是晴天",
        "孩子的作业做完了，明天记得交给老师", "这家店的牛肉面真不错，下次带你来吃", "Lily 说她 7 点到，我们先点菜吧"]
PITCH = {"兼职": 1.0, "刷单": 2.0, "日结": 1.0, "贷款": 1.5, "返利": 1.0, "博彩": 2.0, "招代理": 1.5, "加V": 1.5}


def cjk(text: str) -> str:
    return "".join(re.findall(r"[\u4e00-\u9fff]", text))


def is_subsequence(short: str, long: str) -> bool:
    rest = iter(long)
    return all(ch in rest for ch in short)


def disguised_as(family: str, text: str, out: str) -> bool:
    """Does `out` carry the marks of `family`'s disguise of `text`?"""
    flat_same = analyse_for_ads(out).flat == analyse_for_ads(text).flat
    checks = {
        "homophone": lambda: len(cjk(out)) == len(cjk(text)) and any(
            a != b and readings(a) == readings(b) for a, b in zip(cjk(text), cjk(out), strict=True)),
        "split": lambda: len(out) > len(text) and recompose(out)[1] != [],
        "reversed": lambda: sorted(out) == sorted(text),
        "rtl": lambda: ("\u202e" in out or "\u2067" in out) and flat_same,
        "vertical": lambda: "\n" in out and out.replace("\n", "") == text,
        "pinyin": lambda: len(cjk(out)) < len(cjk(text)) and sum(c.isascii() and c.isalpha() for c in out)
        > sum(c.isascii() and c.isalpha() for c in text),
        "initials": lambda: len(cjk(out)) < len(cjk(text)),
        "traditional": lambda: to_simplified(out) == text,
        "emoji": lambda: any(unicodedata.category(c) == "So" for c in out) and is_subsequence(cjk(out), cjk(text)),
        "spacing": lambda: len(out) > len(text) and is_subsequence(text, out),
        "fullwidth": lambda: unicodedata.normalize("NFKC", out) == unicodedata.normalize("NFKC", text),
        "homoglyph": lambda: flat_same,
        "numbers": lambda: "12345" not in out and "12345" in analyse_for_ads(out).flat,
        "contact": lambda: is_subsequence(text, out) and re.search(r"\d{5,}|@[a-z]|[a-z0-9]{6,}", out[len(text) :]
                                                                   + out[: len(out) - len(text)]) is not None,
        "invite": lambda: is_subsequence(text, out) and ("群" in out or "裙" in out),
    }
    return checks[family]()


@pytest.mark.parametrize("pool", ["train", "eval"])
@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_really_disguises_an_ad(family: str, pool: str) -> None:
    augmenter = Augmenter(pool)
    outs = [augmenter.disguise(AD, family, row_random(AD, seed, family)) for seed in range(5)]
    changed = [out for out in outs if out != AD]
    assert len(changed) >= 4, outs
    for out in changed:
        assert disguised_as(family, AD, out), (family, out)


def test_the_generator_is_deterministic_and_each_row_depends_only_on_its_text() -> None:
    rows = [(AD, True), ("招代理，日赚500，扣扣 1234567", True), *((h, False) for h in HAMS)]
    first = augment_rows(rows, seed=3, ham_share=1.0)
    assert first == augment_rows(rows, seed=3, ham_share=1.0)
    assert first != augment_rows(rows, seed=4, ham_share=1.0)
    reordered = augment_rows(rows[::-1], seed=3, ham_share=1.0, words=augment.ad_words(rows))
    assert sorted(t for t, *_ in first) == sorted(t for t, *_ in reordered)
    assert {parent for _t, is_ad, parent, _f in first if is_ad} == {0, 1}
    assert all(not is_ad for _t, is_ad, parent, _f in first if parent >= 2)


def test_the_train_and_eval_pools_share_no_substitute_and_every_substitute_comes_from_its_table() -> None:
    homophones = {pool: augment._homophones(pool) for pool in ("train", "eval")}
    splits = {pool: augment._splits(pool) for pool in ("train", "eval")}
    lookalikes = {pool: augment._lookalikes(pool) for pool in ("train", "eval")}
    emoji = {p: t[0] for p, t in lookalikes.items()}
    letters = {p: t[1] for p, t in lookalikes.items()}
    for tables in (homophones, splits, emoji, letters):
        pairs = {pool: {(k, v) for k, vs in table.items() for v in vs} for pool, table in tables.items()}
        assert pairs["train"] and pairs["eval"] and not pairs["train"] & pairs["eval"]
    for char, subs in homophones["train"].items():
        assert all(readings(sub) == readings(char) != () and sub != char for sub in subs)
    for char, parts in splits["eval"].items():
        assert all(recompose(p + "我")[0].startswith(char) or recompose(p)[0] == char for p in parts
                   if len(p) > 1 and p[0] in "亻讠彳扌纟钅氵"), (char, parts)
    for letter, alikes in lookalikes["train"][1].items():
        assert all(analyse_for_ads(a).flat == letter or folds._HOMOGLYPHS.get(a) == letter for a in alikes), letter


@pytest.mark.parametrize("transform", HARMLESS)
def test_the_harmless_transforms_keep_ordinary_lines_ordinary(transform: str) -> None:
    detector = TextDetector(PITCH, (), load_default_model())
    for pool in ("train", "eval"):
        augmenter = Augmenter(pool)
        for text in HAMS:
            out = augmenter.harmless(text, transform, row_random(text, 0, transform))
            assert detector.score(out)[0] < 1.0, (transform, out)
            if transform in ("fullwidth", "spacing", "linebreaks"):
                assert clean_text(out).replace(" ", "") == clean_text(text).replace(" ", ""), out
            if transform == "traditional":
                assert to_simplified(out) == text


def test_the_pinyin_view_gives_homophones_the_same_features() -> None:
    table = pinyin_table(syllable_list())
    wei_xin = features("加微信领资料", 3, table) - features("加微信领资料", 3, None)
    assert len(wei_xin) == 5  # jia wei, wei xin, xin ling, ling zi, zi liao
    assert wei_xin == features("加薇芯领资料", 3, table) - features("加薇芯领资料", 3, None)
    assert not wei_xin & features("加薇芯领资料", 3, None)  # they never meet the character n-grams
    assert feature_count("加薇芯", 3, table) == feature_count("加薇芯", 3, None) + 3
    model = load_default_model()
    assert model is not None and model.syllables
    pinyin = [g for g in model.weights if g[0] >= "\ue000"]
    assert len(pinyin) > 10_000
    (bigram,) = wei_xin & features("微信", 3, table)
    assert model._shown(bigram) == "wei xin"
    strongest = max(pinyin, key=model.weights.__getitem__)
    assert model.weights[strongest] > 1.0 and len(model._shown(strongest).split()) == 2


def test_a_model_trained_with_disguises_flags_held_back_disguises_better() -> None:
    rows = [json.loads(line) for path in ("ad_evasions.jsonl", "chat_challenge.jsonl")
            for line in (ROOT / "tests" / "data" / path).read_text(encoding="utf-8").splitlines() if line.strip()]
    samples = [(r["text"], r["label"] == "ad") for r in rows]
    held = [s for i, s in enumerate(samples) if i % 5 == 0]
    train = [s for i, s in enumerate(samples) if i % 5]
    fit = {"epochs": 8, "folds": 0, "min_df": 1, "max_features": 0}
    before = train_model(train, pinyin=False, augment=0, **fit)
    after = train_model(train, **fit)
    made = augment_rows(held, pool="eval", seed=9, ham_share=1.0, words=augment.ad_words(train))
    ads = [t for t, is_ad, _p, _f in made if is_ad]
    hams = [t for t, is_ad, _p, _f in made if not is_ad]
    assert len(ads) > 50 and len(hams) > 50

    def flagged(model, texts: list[str], p: float) -> float:  # type: ignore[no-untyped-def]
        return sum(model.probability(t) > p for t in texts) / len(texts)

    # the ads of this set are easy (a model without disguises already gives most of them 0.5): the sure ones
    assert flagged(after, ads, 0.9) > flagged(before, ads, 0.9) + 0.03
    # and the harmless transforms of the hams are no longer taken for ads
    assert flagged(after, hams, 0.5) < flagged(before, hams, 0.5)
