"""The ad classifier: a logistic regression over the character 1-3-grams of the cleaned text (`clean_text`:
what the detector's classifier check reads) and the syllable bigrams of its pinyin view (薇芯 and 微信
share "wei xin").

Trained (handlers/ads/training.py) by `scripts/train_ad_model.py` on the DEV part of the spam-zh corpus
plus generated disguises (the shipped model, ad_model.json.gz beside this file), and retrainable with
extra (text, label) rows such as the owners' /ad and /notad decisions (`qunbot train-ads`).
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import re
import sys
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from itertools import chain, compress, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

import ahocorasick

from handlers.ads.folds import AdsText, analyse_for_ads
from handlers.ads.latin_pinyin import latin_syllables
from handlers.ads.patterns import without_badges, without_links

DEFAULT_MODEL_PATH = Path(__file__).with_name("ad_model.json.gz")
DEFAULT_CHAT_MODEL_PATH = Path(__file__).with_name("chat_model.json.gz")  # scripts/train_chat_model.py
MODEL_FORMAT = "qunbot-ad-model"

# ------------------------------------------------------------------------------------------------
# The statistical classifier
# ------------------------------------------------------------------------------------------------

_DIGITS = re.compile("[1-9]")  # folded to 0 (a regex: translate with a dict is slow on Chinese text)
# The pinyin view writes each Chinese character as one private-use character that stands for its toneless
# syllable (U+E001 + the syllable's place in the model's list), anything else as _MARK: its grams can never
# meet the character grams (the folds drop private-use characters from a message).
_MARK = "\ue000"
_SYLLABLE_0 = 0xE001
_READ_END = "\ua000"  # the pinyin table covers U+0000..U+9FFF


def syllable_list() -> tuple[str, ...]:
    """Every toneless syllable of the reading table (handlers/ads/readings.txt.gz), sorted."""
    from handlers.ads.sounds import reading_table

    get = reading_table().get
    return tuple(sorted({s for s in map(get, map(chr, range(0x3400, 0xA000))) if s}))


class PinyinTable(str):
    """A `str.translate` table for U+0000..U+9FFF (see `pinyin_table`) that also knows each syllable's
    stand-in (`codes`), for pinyin written in Latin letters."""

    codes: dict[str, str]


@lru_cache(maxsize=2)
def pinyin_table(syllables: tuple[str, ...]) -> PinyinTable:
    """A `str.translate` table for U+0000..U+9FFF: a character with a reading in `syllables` -> its
    private-use stand-in, anything else -> _MARK (80 KB; translating is a C loop, ~1 µs a message)."""
    from handlers.ads.sounds import reading_table

    get = reading_table().get
    code = {s: chr(_SYLLABLE_0 + i) for i, s in enumerate(syllables)}
    table = PinyinTable(_MARK * 0x3400 + "".join(code.get(get(chr(cp)) or "", _MARK) for cp in range(0x3400, 0xA000)))
    table.codes = code
    return table


def pinyin_view(flat: str, table: PinyinTable, latin: bool = False) -> str:
    """The toneless syllables of `flat`'s Chinese characters, _MARK for anything else and at both ends; with
    `latin`, then those of its Latin pinyin (`handlers.ads.latin_pinyin`), each run between _MARKs."""
    view = ""
    if not flat.isascii():
        if max(flat) >= _READ_END:
            flat = "".join(c if c < _READ_END else " " for c in flat)
        view = _MARK + flat.translate(table) + _MARK
    for run in latin_syllables(flat) if latin else ():
        view += ("" if view else _MARK) + "".join(table.codes.get(s, _MARK) for s in run) + _MARK
    return view


def features(flat: str, n: int = 3, table: PinyinTable | None = None, latin: bool = False) -> set[str]:
    """The model's binary features of a normalised message: its character 1..n-grams (digits folded to 0,
    ^ and $ at the ends) and, with a pinyin `table`, the bigrams of adjacent syllables of its pinyin view
    (syllable unigrams, found in every message, would cost a third of the scoring time and add nothing
    measurable; bigrams with _MARK, "a syllable next to a digit or a letter", were noise)."""
    s, p, _count = _view(flat, n, table, latin)
    grams = {s[i : i + k] for k in range(1, n + 1) for i in range(len(s) - k + 1)}
    grams.discard("^")
    grams.discard("$")
    if p:
        grams.update(g for g in (p[i : i + 2] for i in range(len(p) - 1)) if _MARK not in g)
    return grams


_VIEWS: dict[tuple[str, int, PinyinTable | None, bool], tuple[str, str, int]] = {}
_VIEWS_KEPT = 8  # both models read the same text, then one of them again for its evidence


def _view(flat: str, n: int, table: PinyinTable | None, latin: bool = False) -> tuple[str, str, int]:
    """(the strings the model's tries search for the features of `flat`: its characters, its pinyin view
    ("" without); the count that scales the features, from the lengths alone: the n-gram places of the
    first and one for each syllable of the second, so scoring builds no set). The last few are kept."""
    key = (flat, n, table, latin)
    found = _VIEWS.get(key)
    if found is None:
        if len(_VIEWS) >= _VIEWS_KEPT:
            _VIEWS.clear()
        found = _VIEWS[key] = _make_view(flat, n, table, latin)
    return found


def _make_view(flat: str, n: int, table: PinyinTable | None, latin: bool) -> tuple[str, str, int]:
    s = "^" + _DIGITS.sub("0", flat) + "$"
    m = min(n, len(s))
    count = m * (len(s) + 1) - m * (m + 1) // 2 - 2  # the k-gram places of s, k = 1..n
    p = pinyin_view(flat, table, latin) if table is not None else ""
    if p:
        count += len(p) - p.count(_MARK)
    return s, p, count


def feature_count(flat: str, n: int = 3, table: PinyinTable | None = None, latin: bool = False) -> int:
    """The count that scales the features of `flat` (see `_view`): the model's logit is the bias plus the
    sum of the weights of its features over the square root of this."""
    return _view(flat, n, table, latin)[2]


def clean_text(text: str) -> str:
    """What the model reads of a raw message: the folds' flat form (handlers/ads/folds.py: look-alikes,
    emoji, traditional characters, spacing ... undone) without links, and without 加V认证 (a badge) as the
    detector drops it. Split characters and sound spellings are not read back: as written, they are
    themselves a sign the model learns from generated disguises (see `AdModel.reads`)."""
    return without_badges(without_links(analyse_for_ads(text)))


@lru_cache(maxsize=1)
def _decoding_tricks() -> frozenset[str]:
    from handlers.ads.detector import TRICK_REVERSED, TRICK_SPLIT
    from handlers.ads.sounds import TRICK_HOMOPHONE, TRICK_INITIALS, TRICK_PINYIN

    return frozenset((TRICK_REVERSED, TRICK_SPLIT, TRICK_HOMOPHONE, TRICK_INITIALS, TRICK_PINYIN))


_first, _second = itemgetter(0), itemgetter(1)


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-35.0, min(35.0, z))))


class AdModel:
    """A logistic regression over binary features, scaled by 1/sqrt(`feature_count`): character n-grams
    and, when the model has a syllable list, the syllable bigrams of the pinyin view (`features`).

    `z_low` and `z_high` calibrate the check: a logit at or below `z_low` scores 0, `z_high` scores
    1.0 (the classifier alone reaches the default threshold), linear in between, capped at `cap`.

    Held compactly (about 45 bytes a feature, against ~200 in a dict of floats): two tries (pyahocorasick,
    integers stored in C; one for the character n-grams, one for the syllable bigrams: searching the
    pinyin view in one trie with the characters' thousands of first letters costs 4 times as much) map
    each feature to its place in an array of single-precision floats (weights have 4 decimal places, as
    training rounds them), where place 0 is 0.0 for the features the model does not know. `weights` is
    a read-only mapping view.
    """

    __slots__ = ("_last", "_lengths", "_pinyin", "_tries", "_values", "bias", "cap", "latin", "meta", "n", "syllables",
                 "z_high", "z_low")

    def __init__(self, weights: Mapping[str, float] | Iterable[tuple[str, float]], bias: float, *, n: int = 3,
                 z_low: float = 0.0, z_high: float = 3.0, cap: float = 1.5,
                 meta: Mapping[str, Any] | None = None, syllables: Sequence[str] | None = None,
                 latin: bool = False) -> None:
        if z_high <= z_low:
            raise ValueError("z_high must be above z_low")
        self._tries = (ahocorasick.Automaton(ahocorasick.STORE_INTS), ahocorasick.Automaton(ahocorasick.STORE_INTS))
        self._values = array("f", [0.0])  # 4-place weights: single precision holds them
        self._last: tuple[str, Any, int] | None = None  # `_found`'s last: `top_features` reads what `logit` read
        self._lengths = array("B", [0])  # each feature's length: cut out where it ends (a trie lookup takes 1.5 µs)
        for gram, weight in weights.items() if isinstance(weights, Mapping) else weights:
            if not 0 < len(gram) <= n or gram in ("^", "$"):
                continue  # `features` never makes it: it would never count, and `logit` finds every key it holds
            trie = self._tries[gram[0] >= _MARK]
            if trie.add_word(gram, len(self._values)):
                self._values.append(float(weight))
                self._lengths.append(len(gram))
            else:  # the same feature again: the last weight counts, as in a dict
                self._values[trie.get(gram)] = float(weight)
        for trie in self._tries:
            if len(trie):
                trie.make_automaton()  # `logit` finds a message's known features in one pass
        self.bias = float(bias)
        self.n = int(n)
        self.z_low = float(z_low)
        self.z_high = float(z_high)
        self.cap = float(cap)
        self.meta = dict(meta or {})
        self.syllables = tuple(syllables) if syllables else None
        self.latin = bool(latin) and self.syllables is not None  # Latin pinyin in the pinyin view too
        self._pinyin = pinyin_table(self.syllables) if self.syllables else None

    def __len__(self) -> int:
        return len(self._values) - 1

    @property
    def weights(self) -> Mapping[str, float]:
        """The feature weights (a view: building a dict of them costs what this class saves)."""
        return _Weights(self._tries, self._values)

    @property
    def nbytes(self) -> int:
        """Memory held by the weights (the tries' nodes and the array)."""
        return sum(int(t.get_stats()["total_size"]) for t in self._tries) + self._values.itemsize * len(self._values)

    def _found(self, flat: str) -> tuple[list[tuple[str, list[tuple[int, int]]]], int]:
        """([(searched string, its matches (end, place))], the feature count) for `flat` (the last kept)."""
        last = self._last
        if last is not None and last[0] == flat:
            return last[1], last[2]
        s, p, count = _view(flat, self.n, self._pinyin, self.latin)
        chars, sounds = self._tries
        out = [(s, list(chars.iter(s)))] if len(chars) else []
        if p and len(sounds):
            out.append((p, list(sounds.iter(p))))
        self._last = (flat, out, count)
        return out, count

    def logit(self, flat: str) -> float:
        """The log-odds that a message is an ad; `flat` is what the classifier check reads (`clean_text`)."""
        searched, count = self._found(flat)
        # the known features of the message: every key found in it, once (the tries hold only features);
        # chained and mapped in C (a generator here was a fifth of the detector's time)
        found = dict.fromkeys(map(_second, chain.from_iterable(matches for _s, matches in searched)))
        return self.bias + sum(map(self._values.__getitem__, found)) / math.sqrt(count)

    def reads(self, t: AdsText, plain: str) -> str:
        """The text the model reads of a message the detector prepared (`t`, `plain` its checks' text):
        `plain`, unless the detector decoded it (split characters, sounds) or read it backwards; then
        `clean_text` of the message as written, the form the model was trained on."""
        return plain if _decoding_tricks().isdisjoint(t.tricks) else clean_text(t.original)

    def probability(self, text: str) -> float:
        """P(ad) for a raw message."""
        return sigmoid(self.logit(clean_text(text)))

    def check_score(self, z: float) -> float:
        """The classifier check's score for a logit (see the class doc)."""
        return max(0.0, min(self.cap, (z - self.z_low) / (self.z_high - self.z_low)))

    def top_features(self, flat: str, k: int = 3) -> list[str]:
        """The `k` features of `flat` that push hardest towards "ad" (the check's evidence; pinyin ones
        written as syllables: "wei xin"), none inside another one picked."""
        values, lengths = self._values, self._lengths
        ends: dict[int, tuple[str, int]] = {}  # where each one ends
        for s, found in self._found(flat)[0]:
            ends.update(zip(map(_second, found), zip(repeat(s), map(_first, found)), strict=True))
        positive = compress(ends, map((0.0).__lt__, map(values.__getitem__, ends)))
        scored = []
        for i in sorted(positive, key=values.__getitem__, reverse=True)[: 4 * k]:  # a few spare for the overlaps
            s, end = ends[i]
            scored.append((values[i], s[end + 1 - lengths[i] : end + 1]))
        picked: list[str] = []
        for _w, g in sorted(scored, reverse=True):
            if len(picked) < k and not any(g in p for p in picked):
                picked.append(g)
        return [self._shown(g) for g in picked]

    def _shown(self, gram: str) -> str:
        if gram[0] < _MARK or not self.syllables:
            return gram.replace("^", "").replace("$", "")
        return " ".join(self.syllables[ord(c) - _SYLLABLE_0] for c in gram if c != _MARK)

    def to_dict(self) -> dict[str, Any]:
        """The file's content (format version 3): the features sorted, one a line; their weights in that
        order as little-endian single-precision floats, base64 (no list of 145k floats to parse on load);
        the pinyin view's syllable list ("pinyin", space-separated); "latin_pinyin": true when the model reads
        Latin pinyin into that view (absent: it does not). Versions 2 (weights a JSON list, no pinyin view) and 1
        (a JSON object of n-gram -> weight) still load."""
        view = self.weights
        grams = sorted(view)
        if any("\n" in g for g in grams):
            raise ValueError("a feature holds a line break")
        weights = array("f", map(view.held, grams))
        if sys.byteorder == "big":  # pragma: no cover
            weights.byteswap()
        return {"format": MODEL_FORMAT, "version": 3, "n": self.n, "bias": round(self.bias, 6),
                "calibration": {"z_low": round(self.z_low, 6), "z_high": round(self.z_high, 6), "cap": self.cap},
                "meta": self.meta, "grams": "\n".join(grams), "weights": base64.b64encode(weights.tobytes()).decode(),
                "pinyin": " ".join(self.syllables or ()), **({"latin_pinyin": True} if self.latin else {})}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AdModel:
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a {MODEL_FORMAT} file")
        cal = data["calibration"]
        version = data.get("version", 1)
        if version >= 3 and isinstance(data["weights"], str):
            values = array("f", base64.b64decode(data["weights"]))
            if sys.byteorder == "big":  # pragma: no cover
                values.byteswap()
            weights: Any = zip(_lines(data["grams"]), values, strict=True)
        elif version >= 2:
            weights = zip(_lines(data["grams"]), data["weights"], strict=True)
        else:
            weights = data["weights"]
        return cls(weights, data["bias"], n=data["n"], z_low=cal["z_low"], z_high=cal["z_high"],
                   cap=cal.get("cap", 1.5), meta=data.get("meta"), syllables=(data.get("pinyin") or "").split(),
                   latin=bool(data.get("latin_pinyin")))

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


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, one at a time (a model's 145k features: no list of them, no copy of the text)."""
    start, end = 0, len(text)
    while start < end:
        stop = text.find("\n", start)
        stop = end if stop < 0 else stop
        yield text[start:stop]
        start = stop + 1


class _Weights(Mapping[str, float]):
    """A read-only view of a model's weights."""

    def __init__(self, tries: tuple[Any, Any], values: array) -> None:
        self._tries, self._values = tries, values

    def held(self, gram: str) -> float:
        """The weight as held (single precision)."""
        i = self._tries[gram[:1] >= _MARK].get(gram, 0) if isinstance(gram, str) else 0
        if not i:
            raise KeyError(gram)
        return self._values[i]

    def __getitem__(self, gram: str) -> float:
        return round(self.held(gram), 4)

    def __iter__(self) -> Iterator[str]:
        for trie in self._tries:
            yield from trie.keys()

    def __len__(self) -> int:
        return len(self._values) - 1


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
    return _shipped(DEFAULT_MODEL_PATH)


@lru_cache(maxsize=1)
def load_default_chat_model() -> AdModel | None:
    """The chat model shipped next to this module (handlers/ads/chat_model.json.gz), loaded once; None if missing."""
    return _shipped(DEFAULT_CHAT_MODEL_PATH)


def _shipped(path: Path) -> AdModel | None:
    return AdModel.load(path) if path.exists() else None
