"""Train the ad classifier shipped as handlers/ads/ad_model.json.gz (pure Python, deterministic).

    .venv/bin/python scripts/train_ad_model.py [--corpus PATH] [--extra rows.jsonl] [--out PATH]

Reads the labelled corpus (shared/data/spam-zh.jsonl: {"text", "label": "spam"|"ham", "source"}) and
trains on its DEV part only: a line is TEST when the last hex digit of sha1(text) is 0 or 1 (see the
corpus README); test lines are never read into the model. The recipe (handlers/ads/training.py): the
cleaned text's character 1-3-grams plus its pinyin view's syllable bigrams, and generated disguises
of the DEV ads plus harmless transforms of some DEV ham (handlers/ads/augment.py, "train" pool; each
weighs half a corpus line). `--extra` adds more (text, label) rows, one
JSON object a line with "text" and "label" ("ad"/"spam" or "ham"/"notad"), e.g. owners' /ad and
/notad decisions; they weigh `--extra-weight` times a corpus line. Calibration (the logit at which
the classifier alone flags a message, and the one below which it adds nothing) comes from 5-fold
out-of-fold logits on DEV. The same input gives the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.ads.model import DEFAULT_MODEL_PATH, corpus_split  # noqa: E402
from handlers.ads.training import train_model  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "spam-zh.jsonl"


split_of = corpus_split


def find_corpus(path: str | None) -> Path:
    candidates = [Path(path)] if path else [DEFAULT_CORPUS, ROOT / "shared" / "data" / "spam-zh.jsonl"]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise SystemExit(f"corpus not found (tried {', '.join(map(str, candidates))}); pass --corpus")


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", help="spam-zh.jsonl (default: shared/data/spam-zh.jsonl)")
    parser.add_argument("--extra", action="append", default=[], help="extra (text, label) rows, JSON lines")
    parser.add_argument("--extra-weight", type=float, default=3.0)
    parser.add_argument("--out", default=str(DEFAULT_MODEL_PATH))
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--folds", type=int, default=5, help="folds for the out-of-fold calibration (0: none)")
    parser.add_argument("--augment", type=int, default=2, help="generated disguises per DEV ad (0: none)")
    parser.add_argument("--no-pinyin", action="store_true", help="character n-grams only (no pinyin view)")
    args = parser.parse_args(argv)

    corpus = find_corpus(args.corpus)
    dev = [r for r in read_rows(corpus) if split_of(r["text"]) == "dev"]
    extra: list[tuple[str, str]] = []
    for path in args.extra:
        extra.extend((r["text"], r["label"]) for r in read_rows(Path(path)))
    started = time.perf_counter()
    model = train_model([(r["text"], r["label"]) for r in dev], extra=extra, extra_weight=args.extra_weight,
                        epochs=args.epochs, folds=args.folds, augment=args.augment, pinyin=not args.no_pinyin,
                        meta={"corpus": corpus.name, "split": "dev (sha1 last hex digit not 0/1)"})
    out = Path(args.out)
    model.save(out)
    print(f"trained on {len(dev)} dev lines + {len(extra)} extra in {time.perf_counter() - started:.1f}s: "
          f"{len(model)} features ({model.meta['augmented']} generated rows), z_low={model.z_low:.3f} "
          f"z_high={model.z_high:.3f}; wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
    if model.meta.get("oof"):
        figures = ", ".join(f"{k} {100 * v:.2f}%" for k, v in model.meta["oof"].items())
        print(f"out of fold (classifier alone): {figures}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
