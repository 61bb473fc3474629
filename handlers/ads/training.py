"""Training the ad classifier (`AdModel`, handlers/ads/model.py): a logistic regression fitted by AdaGrad in
pure Python, deterministic, on the cleaned text (`clean_text`) of the corpus rows, of generated disguises of
its ads and of harmless transforms of its ham (handlers/ads/augment.py), with the pinyin view's features.

`scripts/train_ad_model.py` trains the shipped model on the corpus's DEV part; `qunbot train-ads` adds the
owners' /ad and /notad decisions; bench/detection_eval.py's DEV_OOF uses `oof_logits`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from handlers.ads.model import AdModel, clean_text, feature_count, features, pinyin_table, sigmoid, syllable_list

Sample = tuple[str, "bool | str | int"]


def _is_ad(label: bool | str | int) -> bool:
    if isinstance(label, str):
        if label.lower() not in ("ad", "spam", "ham", "notad", "not_ad"):
            raise ValueError(f"unknown label {label!r} (ad/spam or ham/notad)")
        return label.lower() in ("ad", "spam")
    return bool(label)


def _fit(data: Sequence[tuple[list[str], bool, float, float]], *, epochs: int, l2: float, rate: float,
         seed: int, on_step: Callable[[], None] | None = None) -> tuple[dict[str, float], float]:
    """Logistic regression by AdaGrad SGD over (sorted features, is_ad, sample weight, scale) rows."""
    w: dict[str, float] = {}
    g2: dict[str, float] = {}
    bias, bias_g2 = 0.0, 1e-8
    get, get2, sqrt, fsum = w.get, g2.get, math.sqrt, math.fsum
    order = list(range(len(data)))
    rnd = random.Random(seed)
    for _ in range(epochs):
        rnd.shuffle(order)
        for i in order:
            grams, y, sw, v = data[i]
            if not grams:
                continue
            err = (sigmoid(bias + v * fsum(get(g, 0.0) for g in grams)) - y) * sw
            for g in grams:
                wg = get(g, 0.0)
                grad = err * v + l2 * wg
                acc = get2(g, 1e-8) + grad * grad
                g2[g] = acc
                w[g] = wg - rate * grad / sqrt(acc)
            bias_g2 += err * err
            bias -= rate * err / sqrt(bias_g2)
        if on_step is not None:
            on_step()
    return w, bias


Row = tuple[list[str], bool, float, int]  # sorted features, is_ad, sample weight, feature count (`_view`)


def _train_raw(rows: Sequence[Row], *, n: int, epochs: int, l2: float, rate: float,
               min_df: int, seed: int, prune: float = 0.0, max_features: int = 0,
               on_step: Callable[[], None] | None = None) -> tuple[dict[str, float], float]:
    """Fit on the features seen in `min_df` rows or more; keep the weights of |w| >= `prune`, at most the
    `max_features` strongest (0: all), rounded to 4 places: the model as shipped."""
    df: dict[str, int] = {}
    for grams, _y, _sw, _c in rows:
        for g in grams:
            df[g] = df.get(g, 0) + 1
    # the scale counts every feature of the row, as `AdModel.logit` does, not only the kept ones
    kept = [([g for g in grams if df[g] >= min_df], y, sw, 1.0 / math.sqrt(count)) for grams, y, sw, count in rows]
    w, bias = _fit(kept, epochs=epochs, l2=l2, rate=rate, seed=seed, on_step=on_step)
    chosen = sorted((-abs(v), g) for g, v in w.items() if abs(v) >= prune)[: max_features or None]
    return {g: round(w[g], 4) for _v, g in chosen}, bias


def _logit(w: Mapping[str, float], bias: float, grams: Sequence[str], count: int) -> float:
    return bias + math.fsum(w.get(g, 0.0) for g in grams) / math.sqrt(count)


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered))))]


def train_steps(folds: int = 5, epochs: int = 15) -> int:
    """How many times `train_model` calls `on_step`: the features, then each epoch of each fit."""
    return 1 + ((folds + 1) if folds > 1 else 1) * epochs


RECIPE = {"pinyin": True, "augment": 2, "augment_weight": 0.5, "ham_share": 0.5, "latin": False}


class _Rows:
    """The training rows of a recipe (`Row`s) with each row's fold group (its
    base row's index; -1 for rows every fold trains on), and the held-back "eval"-pool rows."""

    def __init__(self, base: Sequence[tuple[str, bool]], more: Sequence[tuple[str, bool]], *, n: int,
                 extra_weight: float, pinyin: bool, augment: int, augment_weight: float, ham_share: float,
                 seed: int, held: bool, latin: bool = False) -> None:
        from handlers.ads.augment import ad_words, augment_rows

        self.syllables = syllable_list() if pinyin else None
        table = pinyin_table(self.syllables) if self.syllables else None
        self.latin = latin and table is not None
        clean = [clean_text(t) for t, _y in base]
        words = ad_words(base) if augment or held else ()
        made = augment_rows(base, seed=seed, per_ad=augment, ham_share=ham_share, words=words) if augment else []
        made = [m for m in made if clean_text(m[0]) != clean[m[2]]]  # a no-op once cleaned teaches nothing
        rows = [(c, y, 1.0, i) for i, (c, (_t, y)) in enumerate(zip(clean, base, strict=True))]
        rows += [(clean_text(t), y, float(extra_weight), -1) for t, y in more]
        rows += [(clean_text(t), y, float(augment_weight), parent) for t, y, parent, _f in made]
        self.rows = [(sorted(features(c, n, table, self.latin)), y, w, feature_count(c, n, table, self.latin))
                     for c, y, w, _g in rows]
        self.groups = [g for _c, _y, _w, g in rows]
        self.nbase, self.augmented = len(base), len(made)
        self.held: list[tuple[list[str], bool, int, int]] = []  # features, is_ad, base row, count
        if held:  # disguises (and harmless transforms) from the other pool, for the out-of-fold figures
            for t, y, parent, _f in augment_rows(base, pool="eval", seed=seed + 1, per_ad=1, ham_share=0.5,
                                                 words=words):
                c = clean_text(t)
                self.held.append((sorted(features(c, n, table, self.latin)), y, parent,
                                  feature_count(c, n, table, self.latin)))


def _cross(data: _Rows, folds: int, fit: Mapping[str, Any],
           on_step: Callable[[], None] | None) -> tuple[list[float], list[float]]:
    """Out-of-fold logits of the base rows and of the held rows: each scored by a model trained without
    its base row's fold (nor the rows made from them)."""
    oof = [0.0] * data.nbase
    held = [0.0] * len(data.held)
    for fold in range(folds):
        train = [r for r, g in zip(data.rows, data.groups, strict=True) if g < 0 or g % folds != fold]
        w, b = _train_raw(train, **fit, on_step=on_step)
        for i in range(fold, data.nbase, folds):
            oof[i] = _logit(w, b, data.rows[i][0], data.rows[i][3])
        for k, (grams, _y, parent, count) in enumerate(data.held):
            if parent % folds == fold:
                held[k] = _logit(w, b, grams, count)
    return oof, held


def oof_logits(samples: Iterable[Sample], meta: Mapping[str, Any]) -> list[float]:
    """Each sample's logit from a model of `meta`'s recipe (a trained model's meta) trained without its
    fold: what bench/detection_eval.py reports as DEV_OOF."""
    base = [(text, _is_ad(label)) for text, label in samples]
    recipe = {**RECIPE, **{k: v for k, v in meta.get("recipe", {"pinyin": False, "augment": 0}).items()}}
    data = _Rows(base, (), n=meta["fit"]["n"], extra_weight=1.0, seed=meta["fit"]["seed"], held=False, **recipe)
    return _cross(data, int(meta.get("folds") or 5), meta["fit"], None)[0]


def _rates(oof: Sequence[float], ys: Sequence[bool], z: float) -> tuple[float, float]:
    ads = [x for x, y in zip(oof, ys, strict=True) if y]
    hams = [x for x, y in zip(oof, ys, strict=True) if not y]
    return sum(x >= z for x in ads) / max(1, len(ads)), sum(x >= z for x in hams) / max(1, len(hams))


def train_model(samples: Iterable[Sample], *, extra: Iterable[Sample] = (), extra_weight: float = 3.0,
                pinyin: bool = True, latin: bool = False, augment: int = 2, augment_weight: float = 0.5,
                ham_share: float = 0.5,
                n: int = 3, epochs: int = 15, l2: float = 1e-5, rate: float = 0.5, min_df: int = 3,
                prune: float = 0.02, max_features: int = 130_000, folds: int = 5,
                high_fpr: float = 0.004, low_fpr: float = 0.006, seed: int = 0, meta: Mapping[str, Any] | None = None,
                on_step: Callable[[], None] | None = None) -> AdModel:
    """Train an `AdModel` on (text, label) rows; deterministic for the same rows in the same order.

    Each row is read as the classifier check reads it (`clean_text`). `samples` is the base corpus, `extra`
    more rows (e.g. owners' /ad and /notad decisions) that weigh `extra_weight` times as much. A label is
    a bool (True = ad) or "ad"/"spam"/"ham"/"notad". `pinyin` adds the pinyin view's features (`latin`: with
    Latin pinyin read into it); `augment` adds that many generated disguises of each ad and harmless transforms
    of `ham_share` of the ham (handlers/ads/augment.py, the "train" pool), each weighing `augment_weight`.
    With `folds` > 1 the calibration comes from out-of-fold logits of the base samples (each row
    scored by a model that saw neither it nor the rows made from it): `z_high` is the logit that only
    `high_fpr` of the ham rows exceed (the classifier alone flags them), `z_low` the one `low_fpr` of them
    exceed (below it the check adds nothing); meta["oof"] holds the out-of-fold figures, with those on
    held-back disguises from the "eval" pool. Features whose |weight| < `prune` are dropped, and all but
    the `max_features` strongest (the loaded model's memory: ~45 bytes a feature), in every fold too.
    `on_step()` is called once the features are made and after each epoch of each fit:
    `train_steps(folds, epochs)` times in all (a progress bar's total).
    """
    base = [(text, _is_ad(label)) for text, label in samples]
    more = [(text, _is_ad(label)) for text, label in extra]
    if len({y for _t, y in base + more}) < 2:
        raise ValueError("training needs both ads and non-ads")
    recipe = {"pinyin": pinyin, "augment": augment, "augment_weight": augment_weight, "ham_share": ham_share,
              **({"latin": True} if latin else {})}
    data = _Rows(base, more, n=n, extra_weight=extra_weight, seed=seed, held=folds > 1, **recipe)
    if on_step is not None:
        on_step()
    fit = {"n": n, "epochs": epochs, "l2": l2, "rate": rate, "min_df": min_df, "seed": seed, "prune": prune,
           "max_features": max_features}
    oof: list[tuple[float, bool]] = []
    figures: dict[str, float] = {}
    if folds > 1:
        logits, held = _cross(data, folds, fit, on_step)
        oof = [(z, y) for z, (_t, y) in zip(logits, base, strict=True)]
    weights, b = _train_raw(data.rows, **fit, on_step=on_step)
    if not oof:  # no cross-validation: calibrate on the training rows themselves (optimistic)
        oof = [(_logit(weights, b, g, c), y) for g, y, _w, c in data.rows]
    ham = [z for z, y in oof if not y] or [0.0]
    z_high = _quantile(ham, 1.0 - high_fpr)
    z_low = min(_quantile(ham, 1.0 - low_fpr), z_high - 0.5)
    if folds > 1:
        ys = [y for _z, y in oof]
        recall, fpr = _rates(logits, ys, z_high)
        held_recall, held_fpr = _rates(held, [y for _g, y, _p, _c in data.held], z_high)
        figures = {"recall": recall, "fpr": fpr, "recall_at_0.5%_fpr": _rates(logits, ys, _quantile(ham, 0.995))[0],
                   "held_disguises_flagged": held_recall, "held_harmless_flagged": held_fpr}
    info = {"samples": len(base), "extra": len(more), "augmented": data.augmented,
            "ads": sum(y for _g, y, _w, _c in data.rows), "features": len(weights), "fit": fit, "recipe": recipe,
            "folds": folds, "high_fpr": high_fpr, "low_fpr": low_fpr,
            "oof": {k: round(v, 4) for k, v in figures.items()}, **(meta or {})}
    return AdModel(weights, b, n=n, z_low=z_low, z_high=z_high, meta=info, syllables=data.syllables, latin=data.latin)
