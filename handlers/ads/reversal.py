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
from functools import lru_cache
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


class BigramModel:
    """A pruned, quantised, interpolated Kneser-Ney character-bigram model.

    Costs are non-negative ints in units of `step` nats (-log P / step). A stored pair (key "xy") has its own
    cost; any other pair costs backoff[x] + continuation[y]; unknown tokens take the `*_unknown` costs.
    """

    def __init__(self, header: dict, pairs: dict[str, int], backoff: dict[str, int],
                 continuation: dict[str, int], table: dict[int, str | None]) -> None:
        self.header = header
        self.step = float(header["step"])
        self.pairs = pairs
        self.backoff = backoff
        self.continuation = continuation
        self.backoff_unknown = int(header["backoff_unknown"])
        self.continuation_unknown = int(header["continuation_unknown"])
        self.table = table

    def tokens(self, text: str) -> str:
        return token_form(text, self.table)

    def cost(self, tokens: str) -> int:
        """Total quantised cost of the token string, read left to right."""
        pairs, backoff, cont = self.pairs, self.backoff, self.continuation
        bu, cu = self.backoff_unknown, self.continuation_unknown
        total = 0
        codes = [ord(t) for t in tokens]
        for i in range(len(tokens) - 1):
            c = pairs.get((codes[i] << 21) | codes[i + 1])
            if c is None:
                c = backoff.get(tokens[i], bu) + cont.get(tokens[i + 1], cu)
            total += c
        return total

    def score(self, text: str) -> Reversal:
        """How much better ordinary chat reads `text` backwards than forwards (see `Reversal`)."""
        tokens = self.tokens(text)
        n = len(tokens) - 1
        total = (self.cost(tokens) - self.cost(tokens[::-1])) * self.step
        return Reversal(total / n if n > 0 else 0.0, total, cjk_count(tokens))

    def reversed_view(self, text: str, min_margin: float = MIN_MARGIN, min_total: float = MIN_TOTAL,
                      min_cjk: int = MIN_CJK) -> str | None:
        score = self.score(text)
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


def pair_key(pair: str) -> int:
    """How the loaded model keys a two-token pair ("微信" -> an int)."""
    return (ord(pair[0]) << 21) | ord(pair[1])


def decode_model(data: bytes) -> BigramModel:
    if not data.startswith(MAGIC):
        raise ValueError("not a qunbot bigram model")
    raw = zlib.decompress(data[len(MAGIC):])
    sections, pos = [], 0
    while pos < len(raw):
        (size,) = struct.unpack_from("<I", raw, pos)
        sections.append(raw[pos + 4 : pos + 4 + size])
        pos += 4 + size
    header = json.loads(sections[0])
    keys = sections[1].decode()
    # keyed by pair_key (an int: a third of the memory of 146k two-character strings)
    pairs = {(ord(a) << 21) | ord(b): c for a, b, c in zip(keys[::2], keys[1::2], sections[2], strict=True)}
    backoff = dict(zip(sections[3].decode(), sections[4], strict=True))
    continuation = dict(zip(sections[5].decode(), sections[6], strict=True))
    t2s = sections[7].decode()
    table = base_table()
    table.update({ord(a): b for a, b in zip(t2s[::2], t2s[1::2], strict=True)})
    return BigramModel(header, pairs, backoff, continuation, table)


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
