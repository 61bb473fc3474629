"""A reversed view of a message, offered when ordinary chat reads better backwards.

Advertisers type an ad backwards to dodge keyword filters: "ba696gnim信微，资投零，理代招" is
"招代理，零投资，微信ming696ab" reversed. `reversed_view(text)` returns `text[::-1]` when a character-bigram
model of ordinary Chinese (chat_bigrams.bin beside this file, built by scripts/build_bigrams.py) prefers
the reversed reading by a clear margin and the message has enough Chinese characters to judge; else None.
The view is something for the other checks to read, not a verdict. `reversal_margin(text)` gives the
margin (mean log-probability per bigram, nats, reversed minus forward) for explanations.

The model reads a token form of the text: traditional characters folded to simplified (one character at a
time), every run of ASCII/full-width letters one token `a`, every run of digits (or of five or more
Chinese numerals) one token `0`, and punctuation, spaces, emoji and other symbols clause boundaries `|`
(also added at both ends). The token form of the reversed text is the reversed token form, so one pass
gives both directions.

`python -m handlers.ads.reversal "text" ...` prints the margin and the view of each argument.
"""

from __future__ import annotations

import json
import re
import struct
import sys
import zlib
from collections.abc import Iterator, Mapping
from functools import lru_cache
from itertools import groupby, islice, pairwise
from pathlib import Path
from typing import NamedTuple

DEFAULT_BIGRAMS_PATH = Path(__file__).with_name("chat_bigrams.bin")
MAGIC = b"QBIGRAM1"

# The reversed reading must beat the forward one by this many nats per bigram on average ...
MIN_MARGIN = 0.4
# ... and by this many nats in all, so that a short message needs a larger mean margin ...
MIN_TOTAL = 6.0
# ... and the message needs this many Chinese characters for the comparison to mean anything.
# (Chosen on spam-zh DEV, out-of-fold: see scripts/build_bigrams.py --measure.)
MIN_CJK = 6

LETTER, DIGIT, BOUNDARY = "a", "0", "|"

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# Everything that is not Chinese or an already mapped class becomes a boundary.
_OTHER = re.compile(f"[^{_CJK}a0|]+")
_RUNS = re.compile(r"([a0|])\1+")
# A run of five or more Chinese numerals is a number spelt out (幺三八…): one digit token, like digits.
_NUMERALS = re.compile("[零〇一幺二两三四五六七八九十]{5,}")
# Zero-width, bidi-control and variation-selector characters vanish (they are not clause breaks).
_INVISIBLE = [0x00AD, 0x034F, 0x061C, 0x180E, 0xFEFF, *range(0x200B, 0x2010), *range(0x202A, 0x202F),
              *range(0x2060, 0x2070), *range(0xFE00, 0xFE10)]


def base_table() -> dict[int, str | None]:
    """The character classes shared by the builder and the scorer (the model adds traditional -> simplified)."""
    table: dict[int, str | None] = dict.fromkeys(_INVISIBLE)
    for lo, hi, cls in (("A", "Z", LETTER), ("a", "z", LETTER), ("0", "9", DIGIT),
                        ("Ａ", "Ｚ", LETTER), ("ａ", "ｚ", LETTER), ("０", "９", DIGIT)):
        for cp in range(ord(lo), ord(hi) + 1):
            table[cp] = cls
    return table


def token_form(text: str, table: dict[int, str | None]) -> str:
    """`text` as model tokens with a boundary at each end (see module doc)."""
    s = _RUNS.sub(r"\1", _OTHER.sub(BOUNDARY, _NUMERALS.sub(DIGIT, text.translate(table))))
    return BOUNDARY + s.strip(BOUNDARY) + BOUNDARY


def cjk_count(tokens: str) -> int:
    return len(tokens) - tokens.count(LETTER) - tokens.count(DIGIT) - tokens.count(BOUNDARY)


class Reversal(NamedTuple):
    margin: float  # mean log-probability per bigram, reversed minus forward (nats; > 0: reads better backwards)
    total: float  # the same summed over the message's bigrams
    cjk: int  # Chinese characters in the message


# A row of the pair table: the tokens that follow one token (a str, each once) and their costs, in step.
Row = tuple[str, bytes]


class PairCosts(Mapping[str, int]):
    """The stored pairs ("xy" -> cost) as a read-only mapping over the model's rows (for tools and tests)."""

    def __init__(self, rows: dict[str, Row]) -> None:
        self.rows = rows

    def __getitem__(self, pair: str) -> int:
        seconds, costs = self.rows.get(pair[:1], ("", b""))
        j = seconds.find(pair[1:]) if len(pair) == 2 else -1
        if j < 0:
            raise KeyError(pair)
        return costs[j]

    def __iter__(self) -> Iterator[str]:
        return (a + b for a, (seconds, _) in self.rows.items() for b in seconds)

    def __len__(self) -> int:
        return sum(len(seconds) for seconds, _ in self.rows.values())


class BigramModel:
    """A pruned, quantised, interpolated Kneser-Ney character-bigram model.

    Costs are non-negative ints in units of `step` nats (-log P / step). A stored pair "xy" has its own
    cost; any other pair costs backoff[x] + continuation[y]; unknown tokens take the `*_unknown` costs.
    The stored pairs are kept as one row per first token (the tokens that follow as a str, their costs as
    bytes), looked up with str.find: ~1.5 MB where a dict of 146k pairs took 15 MB, and no slower.
    """

    def __init__(self, header: dict, rows: dict[str, Row], backoff: dict[str, int],
                 continuation: dict[str, int], table: dict[int, str | None]) -> None:
        self.header = header
        self.step = float(header["step"])
        self.rows = rows
        self.pairs = PairCosts(rows)
        self.backoff = backoff
        self.continuation = continuation
        self.backoff_unknown = int(header["backoff_unknown"])
        self.continuation_unknown = int(header["continuation_unknown"])
        self.table = table

    def tokens(self, text: str) -> str:
        return token_form(text, self.table)

    def cost(self, tokens: str) -> int:
        """Total quantised cost of the token string, read left to right."""
        rows, backoff, cont = self.rows, self.backoff, self.continuation
        bu, cu = self.backoff_unknown, self.continuation_unknown
        total = 0
        for a, b in pairwise(tokens):
            row = rows.get(a)
            j = row[0].find(b) if row is not None else -1
            total += row[1][j] if j >= 0 else backoff.get(a, bu) + cont.get(b, cu)
        return total

    def score(self, text: str) -> Reversal:
        """How much better ordinary chat reads `text` backwards than forwards (see `Reversal`)."""
        return self._score_tokens(self.tokens(text))

    def _score_tokens(self, tokens: str) -> Reversal:
        n = len(tokens) - 1
        total = (self.cost(tokens) - self.cost(tokens[::-1])) * self.step
        return Reversal(total / n if n > 0 else 0.0, total, cjk_count(tokens))

    def reversed_view(self, text: str, min_margin: float = MIN_MARGIN, min_total: float = MIN_TOTAL,
                      min_cjk: int = MIN_CJK) -> str | None:
        tokens = self.tokens(text)
        if cjk_count(tokens) < min_cjk:
            return None  # too few Chinese characters to judge: no need to read it either way
        score = self._score_tokens(tokens)
        if score.cjk >= min_cjk and score.margin >= min_margin and score.total >= min_total:
            return text[::-1]
        return None


def encode_model(header: dict, pairs: dict[str, int], backoff: dict[str, int],
                 continuation: dict[str, int], t2s: dict[str, str]) -> bytes:
    """The file format: MAGIC, then zlib of [4-byte length + section] for: JSON header, pair keys
    (UTF-8, sorted, 2 characters each), pair costs (1 byte each), backoff and continuation tokens (UTF-8)
    with their costs (1 byte each), and the traditional -> simplified pairs (UTF-8, 2 characters each)."""
    keys = sorted(pairs)
    if any(len(k) != 2 for k in keys) or any(not 0 <= v <= 255 for v in [*pairs.values(), *backoff.values(),
                                                                            *continuation.values()]):
        raise ValueError("pair keys must be 2 characters and costs must fit a byte")
    b_keys, c_keys = sorted(backoff), sorted(continuation)
    sections = [
        json.dumps(header, sort_keys=True).encode(),
        "".join(keys).encode(), bytes(pairs[k] for k in keys),
        "".join(b_keys).encode(), bytes(backoff[k] for k in b_keys),
        "".join(c_keys).encode(), bytes(continuation[k] for k in c_keys),
        "".join(a + b for a, b in sorted(t2s.items())).encode(),
    ]
    raw = b"".join(struct.pack("<I", len(s)) + s for s in sections)
    return MAGIC + zlib.compress(raw, 9)


def decode_model(data: bytes) -> BigramModel:
    if not data.startswith(MAGIC):
        raise ValueError("not a qunbot bigram model")
    # memoryview slices: the sections are read in place, not copied (a lower peak while loading)
    raw = memoryview(zlib.decompress(memoryview(data)[len(MAGIC):]))
    sections, pos = [], 0
    while pos < len(raw):
        (size,) = struct.unpack_from("<I", raw, pos)
        sections.append(raw[pos + 4 : pos + 4 + size])
        pos += 4 + size
    header = json.loads(bytes(sections[0]))
    keys, costs = str(sections[1], "utf-8"), sections[2]
    if len(keys) != 2 * len(costs):
        raise ValueError("pair keys and costs differ in number")
    shared: dict[str, str] = {}  # one str object per token for all the tables that hold it
    rows: dict[str, Row] = {}
    start = 0
    for a, group in groupby(islice(keys, 0, None, 2)):  # the keys are sorted: a first token's pairs are one run
        end = start + sum(1 for _ in group)
        if a in rows:
            raise ValueError("pair keys are not sorted")
        rows[shared.setdefault(a, a)] = (keys[2 * start + 1 : 2 * end : 2], bytes(costs[start:end]))
        start = end
    backoff, continuation = (
        {shared.setdefault(t, t): c for t, c in zip(str(sections[i], "utf-8"), sections[i + 1], strict=True)}
        for i in (3, 5))
    t2s = str(sections[7], "utf-8")
    table = base_table()
    table.update({ord(a): shared.get(b, b) for a, b in zip(t2s[::2], t2s[1::2], strict=True)})
    return BigramModel(header, rows, backoff, continuation, table)


@lru_cache(maxsize=4)
def load_bigrams(path: str | None = None) -> BigramModel:
    """The model in `path` (default: the shipped chat_bigrams.bin), read once."""
    return decode_model(Path(path or DEFAULT_BIGRAMS_PATH).read_bytes())


def reversal_margin(text: str) -> float:
    """How much better (nats per bigram) ordinary chat reads `text` backwards than forwards."""
    return load_bigrams().score(text).margin


def reversal_score(text: str) -> Reversal:
    """`reversal_margin` with the summed margin and the Chinese character count, for explanations."""
    return load_bigrams().score(text)


def reversed_view(text: str) -> str | None:
    """`text[::-1]` when the reversed reading is clearly the ordinary one (see module doc), else None."""
    return load_bigrams().reversed_view(text)


def main(argv: list[str]) -> int:
    model = load_bigrams()
    for text in argv:
        score = model.score(text)
        print(f"margin {score.margin:+.3f} total {score.total:+.2f} cjk {score.cjk} {text!r} -> "
              f"{model.reversed_view(text)!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
