"""The ad classifier: a logistic regression over character 1-3-grams of the normalised text.

Trained by `scripts/train_ad_model.py` on the DEV part of the spam-zh corpus (the shipped model,
ad_model.json.gz beside this file) and retrainable with extra (text, label) rows such as the owners'
/ad and /notad decisions (`qunbot train-ads`).
"""

from __future__ import annotations

import gzip
import io
import json
import math
import random
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import ahocorasick

from handlers.ads.folds import analyse_for_ads
from handlers.ads.patterns import without_links

DEFAULT_MODEL_PATH = Path(__file__).with_name("ad_model.json.gz")
MODEL_FORMAT = "qunbot-ad-model"

# ------------------------------------------------------------------------------------------------
# The statistical classifier
# ------------------------------------------------------------------------------------------------

_DIGITS = str.maketrans("0123456789", "0000000000")


def ngrams(flat: str, n: int = 3) -> set[str]:
    """Character 1..n-grams of a normalised message, digits folded to 0, with ^/$ at the ends."""
    s = "^" + flat.translate(_DIGITS) + "$"
    grams = {s[i : i + k] for k in range(1, n + 1) for i in range(len(s) - k + 1)}
    grams.discard("^")
    grams.discard("$")
    return grams



_second = itemgetter(1)


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-35.0, min(35.0, z))))


class AdModel:
    """A logistic regression over binary character n-grams, scaled by 1/sqrt(number of n-grams).

    `z_low` and `z_high` calibrate the check: a logit at or below `z_low` scores 0, `z_high` scores
    1.0 (the classifier alone reaches the default threshold), linear in between, capped at `cap`.

    Held compactly (about 5 MB for the shipped 115k n-grams, against 24 MB as a dict of floats): a trie
    (pyahocorasick, integers stored in C) maps each n-gram to its place in an array of doubles, where
    place 0 is 0.0 for the n-grams the model does not know. `weights` is a read-only mapping view.
    """

    __slots__ = ("_grams", "_values", "bias", "cap", "meta", "n", "z_high", "z_low")

    def __init__(self, weights: Mapping[str, float] | Iterable[tuple[str, float]], bias: float, *, n: int = 3,
                 z_low: float = 0.0, z_high: float = 3.0, cap: float = 1.5,
                 meta: Mapping[str, Any] | None = None) -> None:
        if z_high <= z_low:
            raise ValueError("z_high must be above z_low")
        self._grams = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        self._values = array("d", [0.0])
        for gram, weight in weights.items() if isinstance(weights, Mapping) else weights:
            if not 0 < len(gram) <= n or gram in ("^", "$"):
                continue  # `ngrams` never makes it: it would never count, and `logit` finds every key it holds
            if self._grams.add_word(gram, len(self._values)):
                self._values.append(float(weight))
            else:  # the same n-gram again: the last weight counts, as in a dict
                self._values[self._grams.get(gram)] = float(weight)
        if len(self._grams):
            self._grams.make_automaton()  # `logit` finds a message's known n-grams in one pass
        self.bias = float(bias)
        self.n = int(n)
        self.z_low = float(z_low)
        self.z_high = float(z_high)
        self.cap = float(cap)
        self.meta = dict(meta or {})

    def __len__(self) -> int:
        return len(self._grams)

    @property
    def weights(self) -> Mapping[str, float]:
        """The n-gram weights (a view: building a dict of them costs what this class saves)."""
        return _Weights(self._grams, self._values)

    @property
    def nbytes(self) -> int:
        """Memory held by the weights (the trie's nodes and the array)."""
        return int(self._grams.get_stats()["total_size"]) + self._values.itemsize * len(self._values)

    def logit(self, flat: str) -> float:
        """The log-odds that a message is an ad; `flat` is its `without_links` form."""
        grams = ngrams(flat, self.n)
        if not grams or not len(self._grams):
            return self.bias
        # the known n-grams of the message: every key found in it, once (the trie holds only 1..n-grams)
        found = dict.fromkeys(map(_second, self._grams.iter("^" + flat.translate(_DIGITS) + "$")))
        return self.bias + sum(map(self._values.__getitem__, found)) / math.sqrt(len(grams))

    def probability(self, text: str) -> float:
        """P(ad) for a raw message."""
        return sigmoid(self.logit(without_links(analyse_for_ads(text))))

    def check_score(self, z: float) -> float:
        """The classifier check's score for a logit (see the class doc)."""
        return max(0.0, min(self.cap, (z - self.z_low) / (self.z_high - self.z_low)))

    def top_features(self, flat: str, k: int = 3) -> list[str]:
        """The `k` n-grams of `flat` that push hardest towards "ad" (the check's evidence)."""
        get, values = self._grams.get, self._values
        scored = sorted(((values[get(g, 0)], g) for g in ngrams(flat, self.n)), reverse=True)
        picked: list[str] = []
        for w, g in scored:
            if w <= 0 or len(picked) >= k:
                break
            if not any(g in p for p in picked):
                picked.append(g.replace("^", "").replace("$", ""))
        return picked

    def to_dict(self) -> dict[str, Any]:
        """The file's content (format version 2): the n-grams sorted, one a line, and their weights in that
        order (version 1 had a JSON object of n-gram -> weight; it still loads)."""
        grams = sorted(self._grams.keys())
        if any("\n" in g for g in grams):
            raise ValueError("an n-gram holds a line break")
        get, values = self._grams.get, self._values
        return {"format": MODEL_FORMAT, "version": 2, "n": self.n, "bias": round(self.bias, 6),
                "calibration": {"z_low": round(self.z_low, 6), "z_high": round(self.z_high, 6), "cap": self.cap},
                "meta": self.meta, "grams": "\n".join(grams), "weights": [values[get(g)] for g in grams]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AdModel:
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a {MODEL_FORMAT} file")
        cal = data["calibration"]
        if data.get("version", 1) >= 2:
            grams = (line.rstrip("\n") for line in io.StringIO(data["grams"])) if data["grams"] else iter(())
            weights: Any = zip(grams, data["weights"], strict=True)
        else:
            weights = data["weights"]
        return cls(weights, data["bias"], n=data["n"], z_low=cal["z_low"], z_high=cal["z_high"],
                   cap=cal.get("cap", 1.5), meta=data.get("meta"))

    def save(self, path: str | Path) -> None:
        """Write the model as JSON (gzip when the name ends in .gz; byte-for-byte deterministic)."""
        raw = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        path = Path(path)
        if path.suffix == ".gz":
            with path.open("wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0,
                                                       compresslevel=9) as gz:
                gz.write(raw)
        else:
            path.write_bytes(raw)

    @classmethod
    def load(cls, path: str | Path) -> AdModel:
        path = Path(path)
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return cls.from_dict(json.loads(raw))


class _Weights(Mapping[str, float]):
    """A read-only view of a model's weights."""

    def __init__(self, grams: Any, values: array) -> None:
        self._grams, self._values = grams, values

    def __getitem__(self, gram: str) -> float:
        i = self._grams.get(gram, 0) if isinstance(gram, str) else 0
        if not i:
            raise KeyError(gram)
        return self._values[i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._grams.keys())

    def __len__(self) -> int:
        return len(self._grams)


def corpus_split(text: str) -> str:
    """The spam-zh corpus split of a line: "test" when sha1's last hex digit is 0 or 1, else "dev"."""
    import hashlib

    return "test" if hashlib.sha1(text.encode("utf-8")).hexdigest()[-1] in "01" else "dev"


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> AdModel | None:
    """A retrained model at `path` when it exists (see `qunbot train-ads`), else the shipped one."""
    if path and Path(path).exists():
        return AdModel.load(path)
    return load_default_model()


@lru_cache(maxsize=1)
def load_default_model() -> AdModel | None:
    """The model shipped next to this module (handlers/ads/ad_model.json.gz), loaded once; None if missing."""
    if not DEFAULT_MODEL_PATH.exists():
        return None
    return AdModel.load(DEFAULT_MODEL_PATH)


Sample = tuple[str, "bool | str | int"]


def _is_ad(label: bool | str | int) -> bool:
    if isinstance(label, str):
        if label.lower() not in ("ad", "spam", "ham", "notad", "not_ad"):
            raise ValueError(f"unknown label {label!r} (ad/spam or ham/notad)")
        return label.lower() in ("ad", "spam")
    return bool(label)


def _fit(data: Sequence[tuple[list[str], bool, float]], *, epochs: int, l2: float, rate: float,
         seed: int, on_step: Callable[[], None] | None = None) -> tuple[dict[str, float], float]:
    """Logistic regression by AdaGrad SGD over (sorted n-grams, is_ad, sample weight) rows."""
    w: dict[str, float] = {}
    g2: dict[str, float] = {}
    bias, bias_g2 = 0.0, 1e-8
    order = list(range(len(data)))
    rnd = random.Random(seed)
    for _ in range(epochs):
        rnd.shuffle(order)
        for i in order:
            grams, y, sw = data[i]
            if not grams:
                continue
            v = 1.0 / math.sqrt(len(grams))
            z = bias + v * math.fsum(w.get(g, 0.0) for g in grams)
            err = (sigmoid(z) - y) * sw
            for g in grams:
                wg = w.get(g, 0.0)
                grad = err * v + l2 * wg
                acc = g2.get(g, 1e-8) + grad * grad
                g2[g] = acc
                w[g] = wg - rate * grad / math.sqrt(acc)
            bias_g2 += err * err
            bias -= rate * err / math.sqrt(bias_g2)
        if on_step is not None:
            on_step()
    return w, bias


def _features(samples: Iterable[tuple[str, bool, float]], n: int) -> list[tuple[list[str], bool, float]]:
    return [(sorted(ngrams(without_links(analyse_for_ads(text)), n)), y, sw) for text, y, sw in samples]


def _train_raw(rows: Sequence[tuple[list[str], bool, float]], *, n: int, epochs: int, l2: float, rate: float,
               min_df: int, seed: int, on_step: Callable[[], None] | None = None) -> tuple[dict[str, float], float]:
    df: dict[str, int] = {}
    for grams, _y, _sw in rows:
        for g in grams:
            df[g] = df.get(g, 0) + 1
    kept = [([g for g in grams if df[g] >= min_df], y, sw) for grams, y, sw in rows]
    return _fit(kept, epochs=epochs, l2=l2, rate=rate, seed=seed, on_step=on_step)


def _logit(w: Mapping[str, float], bias: float, grams: Sequence[str]) -> float:
    if not grams:
        return bias
    return bias + math.fsum(w.get(g, 0.0) for g in grams) / math.sqrt(len(grams))


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered))))]


def train_steps(folds: int = 5, epochs: int = 15) -> int:
    """How many times `train_model` calls `on_step`: the features, then each epoch of each fit."""
    return 1 + ((folds + 1) if folds > 1 else 1) * epochs


def train_model(samples: Iterable[Sample], *, extra: Iterable[Sample] = (), extra_weight: float = 3.0,
                n: int = 3, epochs: int = 15, l2: float = 1e-5, rate: float = 0.5, min_df: int = 2,
                prune: float = 0.02, folds: int = 5, high_fpr: float = 0.004, low_fpr: float = 0.006,
                seed: int = 0, meta: Mapping[str, Any] | None = None,
                on_step: Callable[[], None] | None = None) -> AdModel:
    """Train an `AdModel` on (text, label) rows; deterministic for the same rows in the same order.

    `samples` is the base corpus, `extra` more rows (e.g. owners' /ad and /notad decisions) that weigh
    `extra_weight` times as much. A label is a bool (True = ad) or "ad"/"spam"/"ham"/"notad".
    With `folds` > 1 the calibration comes from out-of-fold logits of the base samples (each row
    scored by a model that did not see it): `z_high` is the logit that only `high_fpr` of the ham rows
    exceed (the classifier alone flags them), `z_low` the one `low_fpr` of them exceed (below it the
    check adds nothing). n-grams whose |weight| < `prune` are dropped from the shipped model.
    `on_step()` is called once the features are made and after each epoch of each fit:
    `train_steps(folds, epochs)` times in all (a progress bar's total).
    """
    base = [(text, _is_ad(label), 1.0) for text, label in samples]
    more = [(text, _is_ad(label), float(extra_weight)) for text, label in extra]
    rows = _features(base + more, n)
    if on_step is not None:
        on_step()
    if not any(y for _g, y, _w in rows) or all(y for _g, y, _w in rows):
        raise ValueError("training needs both ads and non-ads")
    fit = {"n": n, "epochs": epochs, "l2": l2, "rate": rate, "min_df": min_df, "seed": seed}
    oof: list[tuple[float, bool]] = []
    if folds > 1:
        nbase = len(base)
        for fold in range(folds):
            train_rows = [r for i, r in enumerate(rows) if i >= nbase or i % folds != fold]
            w, b = _train_raw(train_rows, **fit, on_step=on_step)
            oof.extend((_logit(w, b, rows[i][0]), rows[i][1]) for i in range(fold, nbase, folds))
    w, b = _train_raw(rows, **fit, on_step=on_step)
    weights = {g: round(v, 4) for g, v in w.items() if abs(v) >= prune}
    if not oof:  # no cross-validation: calibrate on the training rows themselves (optimistic)
        oof = [(_logit(weights, b, g), y) for g, y, _w in rows]
    ham = [z for z, y in oof if not y] or [0.0]
    z_high = _quantile(ham, 1.0 - high_fpr)
    z_low = min(_quantile(ham, 1.0 - low_fpr), z_high - 0.5)
    info = {"samples": len(base), "extra": len(more), "ads": sum(y for _g, y, _w in rows),
            "features": len(weights), "fit": fit, "prune": prune, "folds": folds,
            "high_fpr": high_fpr, "low_fpr": low_fpr, **(meta or {})}
    return AdModel(weights, b, n=n, z_low=z_low, z_high=z_high, meta=info)


# ------------------------------------------------------------------------------------------------
# Links
# ------------------------------------------------------------------------------------------------
