"""Build handlers/ads/chat_bigrams.bin, the character-bigram model behind handlers/ads/reversal.py.

    .venv/bin/python scripts/build_bigrams.py [--corpus PATH] [--out PATH] [--holdout 23] [--measure]

Training text (forward, ordinary Chinese; the direction of reading is what matters, not spamminess):
  * the ham AND spam lines of the DEV split of shared/data/spam-zh.jsonl. A line is TEST when the last hex
    digit of sha1(text) is 0 or 1: TEST lines are skipped before anything else reads them. DEV lines whose
    last digit is in --holdout (default "23") are kept out of training too, so that the figures printed
    for that fold are out of sample; `--holdout ""` trains on all of DEV.
  * the words of jieba's dictionary (jieba 0.42.1, MIT licence, jieba/dict.txt): each word's inner
    bigrams count once (no boundaries: a word is not a clause), as extra evidence of reading order inside
    words. Skipped with a warning when jieba is not installed (the model then differs).
  * OpenCC's t2s conversion (opencc 1.4, Apache-2.0) of each single CJK character gives the
    traditional -> simplified table stored in the model; no OpenCC text is stored otherwise.

Model: interpolated Kneser-Ney bigrams over the token form of reversal.token_form (CJK characters, one
class for letter runs, one for digit runs, clause boundaries at punctuation/spaces/symbols and at both
ends). Pairs seen fewer than --min-count times, or whose cost is within --prune nats of the backoff
estimate, are dropped; costs are -ln P quantised to --step nats in one byte. The same input gives the
same file, byte for byte. `--measure` prints the figures (DEV of spam-zh, the challenge set's dev split
only: its heldout split is never read) and the timing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.ads.reversal import (  # noqa: E402
    BOUNDARY,
    DEFAULT_BIGRAMS_PATH,
    MIN_CJK,
    MIN_MARGIN,
    MIN_TOTAL,
    BigramModel,
    base_table,
    decode_model,
    encode_model,
    load_bigrams,
    token_form,
)

DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "spam-zh.jsonl"
CHALLENGE = ROOT / "tests" / "data" / "chat_challenge.jsonl"
CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))


def last_digit(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[-1]


def read_dev(corpus: Path) -> list[dict]:
    """DEV rows of spam-zh with their fold digit; TEST rows (digit 0 or 1) are dropped unread."""
    rows = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            digit = last_digit(row["text"])
            if digit in "01":
                continue
            rows.append({"text": row["text"], "label": row["label"], "source": row["source"], "fold": digit})
    return rows


def t2s_table() -> dict[str, str]:
    """Single-character traditional -> simplified pairs from OpenCC ({} without OpenCC)."""
    try:
        from rules.normalize import to_simplified
    except Exception:  # pragma: no cover
        return {}
    out = {}
    for lo, hi in CJK_RANGES:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            simp = to_simplified(ch)
            if len(simp) == 1 and simp != ch:
                out[ch] = simp
    return out


def jieba_words() -> list[str]:
    try:
        import jieba
    except ImportError:
        print("warning: jieba not installed; building without its dictionary", file=sys.stderr)
        return []
    words = []
    with (Path(jieba.__file__).parent / "dict.txt").open(encoding="utf-8") as fh:
        for line in fh:
            word = line.split(" ", 1)[0]
            if len(word) >= 2:
                words.append(word)
    return words


def count_pairs(texts: list[str], words: list[str], table: dict, word_weight: int = 1) -> Counter:
    counts: Counter = Counter()
    for text in texts:
        tokens = token_form(text, table)
        counts.update(tokens[i : i + 2] for i in range(len(tokens) - 1))
    for word in words:
        tokens = token_form(word, table)[1:-1]
        if BOUNDARY in tokens:  # a word with punctuation inside (AT&T): skip
            continue
        for i in range(len(tokens) - 1):
            counts[tokens[i : i + 2]] += word_weight
    return counts


def kneser_ney(counts: Counter, min_count: int, prune: float, step: float) -> tuple[dict, dict, dict, dict]:
    """Quantised costs (pairs, backoff, continuation) and the header numbers of an interpolated KN model."""
    n1 = sum(1 for c in counts.values() if c == 1)
    n2 = sum(1 for c in counts.values() if c == 2)
    discount = n1 / (n1 + 2 * n2) if n1 + n2 else 0.75
    left_total: Counter = Counter()
    left_types: Counter = Counter()
    right_types: Counter = Counter()
    for (v, w), c in ((k, c) for k, c in counts.items()):
        left_total[v] += c
        left_types[v] += 1
        right_types[w] += 1
    n_types = len(counts)

    def q(logp: float) -> int:
        return max(0, min(255, round(-logp / step)))

    cont_logp = {w: math.log(n / n_types) for w, n in right_types.items()}
    cont_unknown = math.log(0.5 / n_types)
    lam_logp = {v: math.log(discount * left_types[v] / left_total[v]) for v in left_total}
    pairs = {}
    for key, c in counts.items():
        if c < min_count:
            continue
        v, w = key
        p = (c - discount) / left_total[v] + math.exp(lam_logp[v] + cont_logp[w])
        backoff = lam_logp[v] + cont_logp[w]
        if abs(math.log(p) - backoff) >= prune:
            pairs[key] = q(math.log(p))
    backoff_q = {v: q(lp) for v, lp in lam_logp.items()}
    cont_q = {w: q(lp) for w, lp in cont_logp.items()}
    header = {"format": "qunbot-chat-bigrams", "version": 1, "step": step, "discount": round(discount, 4),
              "min_count": min_count, "prune": prune, "types": n_types,
              "backoff_unknown": 0, "continuation_unknown": q(cont_unknown)}
    return header, pairs, backoff_q, cont_q


def build(corpus: Path, holdout: str, min_count: int, prune: float, step: float,
          use_jieba: bool = True) -> bytes:
    rows = read_dev(corpus)
    t2s = t2s_table()
    table = base_table()
    table.update({ord(a): b for a, b in t2s.items()})
    texts = [r["text"] for r in rows if r["fold"] not in holdout]
    counts = count_pairs(texts, jieba_words() if use_jieba else [], table)
    header, pairs, backoff, cont = kneser_ney(counts, min_count, prune, step)
    header.update({"holdout_folds": holdout, "train_lines": len(texts), "jieba": use_jieba})
    return encode_model(header, pairs, backoff, cont, t2s)


# ------------------------------------------------------------------------------------------------
# Measurement
# ------------------------------------------------------------------------------------------------

CANDIDATES = ((0.3, 0.0), (0.4, 0.0), (0.55, 0.0), (0.3, 6.0), (0.4, 6.0), (0.55, 6.0), (0.4, 8.0), (0.7, 6.0),
              (1.0, 6.0))


def views(model: BigramModel, texts: list[str], margin: float, total: float) -> int:
    return sum(model.reversed_view(t, margin, total) is not None for t in texts)


def fmt(hits: int, n: int) -> str:
    return f"{hits}/{n} ({100 * hits / n:.2f}%)" if n else "0/0"


def windows(texts: list[str], seed: int = 1) -> list[str]:
    """One random cut of 6..20 characters from each line (short-message stand-ins, cut mid-word: harsh)."""
    rnd = random.Random(seed)
    out = []
    for length in (6, 7, 8, 9, 10, 12, 14, 17, 20):
        for text in texts:
            if len(text) >= length:
                i = rnd.randrange(len(text) - length + 1)
                out.append(text[i : i + length])
    return out


def margin_table(model: BigramModel, rows: list[dict], title: str, cuts: bool) -> None:
    ham = [r["text"] for r in rows if r["label"] == "ham"]
    spam = [r["text"] for r in rows if r["label"] == "spam"]
    rev = [t[::-1] for t in spam]
    print(f"{title}: {len(ham)} ham, {len(spam)} spam "
          f"({sum(model.score(t).cjk >= MIN_CJK for t in spam)} with >= {MIN_CJK} CJK)")
    cut = [w for w in windows([r["text"] for r in rows]) if model.score(w).cjk >= MIN_CJK] if cuts else []
    head = "  mean  total   ham fwd -> view    spam reversed -> view   spam fwd -> view"
    print(head + ("   cuts fwd -> view   cuts reversed -> view" if cuts else ""))
    for margin, total in CANDIDATES:
        line = (f"  {margin:4.2f}  {total:5.1f}  {fmt(views(model, ham, margin, total), len(ham)):>18}"
                f"  {fmt(views(model, rev, margin, total), len(rev)):>22}"
                f"  {fmt(views(model, spam, margin, total), len(spam)):>17}")
        if cuts:
            line += (f"  {fmt(views(model, cut, margin, total), len(cut)):>18}"
                     f"  {fmt(views(model, [w[::-1] for w in cut], margin, total), len(cut)):>21}")
        chosen = abs(margin - MIN_MARGIN) < 1e-9 and abs(total - MIN_TOTAL) < 1e-9
        print(line + (" <- chosen" if chosen else ""))
    by_source = sorted({r["source"] for r in rows})
    parts = []
    for source in by_source:
        h = [r["text"] for r in rows if r["source"] == source and r["label"] == "ham"]
        sp = [r["text"][::-1] for r in rows if r["source"] == source and r["label"] == "spam"]
        parts.append(f"{source}: ham {fmt(views(model, h, MIN_MARGIN, MIN_TOTAL), len(h))}, "
                     f"reversed spam {fmt(views(model, sp, MIN_MARGIN, MIN_TOTAL), len(sp))}")
    print("  at the chosen margin, by source: " + "; ".join(parts))
    worst = max((model.score(t) for t in ham if model.score(t).cjk >= MIN_CJK), key=lambda x: x.margin)
    print(f"  highest ham margin (>= {MIN_CJK} CJK): {worst.margin:+.3f} (total {worst.total:+.2f})")


def challenge_dev(model: BigramModel) -> None:
    rows = []
    with CHALLENGE.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row.get("split") == "dev":  # the heldout split is never looked at
                rows.append(row)
    rev = [r for r in rows if r["family"] == "reversed_text"]
    ham = [r for r in rows if r["label"] == "ham"]
    got = [r for r in rev if model.reversed_view(r["text"]) is not None]
    touched = [r for r in ham if model.reversed_view(r["text"]) is not None]
    print(f"challenge dev: reversed_text with a view {fmt(len(got), len(rev))}; ham with a view "
          f"{fmt(len(touched), len(ham))}")
    margins = sorted(model.score(r["text"]).margin for r in rev)
    print(f"  reversed_text margins: min {margins[0]:+.3f}, median {statistics.median(margins):+.3f}")
    for r in rev:
        if r not in got:
            print(f"  missed {model.score(r['text']).margin:+.3f} {r['text']!r}")
    for r in touched:
        print(f"  ham touched {model.score(r['text']).margin:+.3f} {r['family']} {r['text']!r}")
    others = [r for r in rows if r["label"] == "ad" and r["family"] != "reversed_text"
              and model.reversed_view(r["text"]) is not None]
    print(f"  other ad families with a view: {len(others)} " + " ".join(sorted({r['family'] for r in others})))


def timing(path: Path) -> None:
    t0 = time.perf_counter()
    load_bigrams.cache_clear()
    model = load_bigrams(str(path))
    print(f"load: {1000 * (time.perf_counter() - t0):.1f} ms; {len(model.pairs)} pairs; "
          f"file {path.stat().st_size / 1e6:.3f} MB")
    samples = ["ba696gnim信微，资投零，理代招，号信微加，结日职兼，做可家在",
               "今天晚上七点在老地方集合，大家记得带上身份证和雨伞哦",
               "兼职日结，微信ming696ab，在家就能做，每天两小时"]
    per_call = []
    for text in samples:
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(2000):
                model.reversed_view(text)
            per_call.append((time.perf_counter() - t0) / 2000 * 1000)
    print(f"reversed_view: median {statistics.median(per_call):.4f} ms per ~30-character message")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    ap.add_argument("--out", default=str(DEFAULT_BIGRAMS_PATH))
    ap.add_argument("--holdout", default="23", help="DEV fold digits kept out of training ('' for none)")
    ap.add_argument("--min-count", type=int, default=2)
    ap.add_argument("--prune", type=float, default=0.3)
    ap.add_argument("--step", type=float, default=0.1)
    ap.add_argument("--no-jieba", action="store_true")
    ap.add_argument("--measure", action="store_true", help="print the figures after building")
    ap.add_argument("--measure-only", action="store_true", help="measure the existing --out file")
    args = ap.parse_args(argv)
    if any(d in "01" for d in args.holdout):
        raise SystemExit("folds 0 and 1 are TEST: they are never read")
    out = Path(args.out)
    if not args.measure_only:
        data = build(Path(args.corpus), args.holdout, args.min_count, args.prune, args.step, not args.no_jieba)
        out.write_bytes(data)
        print(f"wrote {out} ({len(data) / 1e6:.3f} MB)")
    if args.measure or args.measure_only:
        model = decode_model(out.read_bytes())
        print(f"model: {json.dumps(model.header, sort_keys=True)}")
        rows = read_dev(Path(args.corpus))
        hold = model.header.get("holdout_folds", "")
        if hold:
            margin_table(model, [r for r in rows if r["fold"] in hold], f"DEV fold(s) {hold}, out of sample", True)
        margin_table(model, [r for r in rows if r["fold"] not in hold], "DEV training folds, in sample", False)
        challenge_dev(model)
        timing(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
