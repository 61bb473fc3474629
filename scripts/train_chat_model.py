"""Train the chat model shipped as handlers/ads/chat_model.json.gz (pure Python, deterministic).

    .venv/bin/python scripts/train_chat_model.py [--corpus PATH] [--out PATH]

The corpus model (scripts/train_ad_model.py) learnt ads from SMS; this one learns them from group chat:
the development chat sets of tests/data (CHAT_SETS: eight challenge sets, each by its own writer, and the two
hostile reviews' hard hams; the held-out set, HELD_OUT in bench/detection_eval.py, is never read here), the rows of
ALWAYS (the evasion list and chat_train_v1, _v2 and _v3, training sets written for this model by three more
writers), and the corpus's DEV ham.
Calibration is leave-one-set-out (handlers/ads/chat_training.py) over CHAT_SETS; the figures
it prints per set are those of a model that never saw the set. The same input gives the same file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.detection_eval import HELD_OUT  # noqa: E402
from handlers.ads.chat_training import train_chat_model  # noqa: E402
from handlers.ads.model import DEFAULT_CHAT_MODEL_PATH, corpus_split  # noqa: E402

DATA = ROOT / "tests" / "data"
CHAT_SETS = ("chat_challenge.jsonl", "chat_challenge_v2.jsonl", "chat_challenge_v3.jsonl", "chat_challenge_v4.jsonl",
             "chat_challenge_v5.jsonl", "chat_challenge_v6.jsonl", "chat_challenge_v7.jsonl", "chat_challenge_v8.jsonl",
             "chat_challenge_v9.jsonl", "chat_challenge_v10.jsonl", "hostile_review.jsonl", "hostile_review_v2.jsonl")
# Trained on in every fold, never left out nor scored: the evasion list (143 lines, too few to be a set) and the
# training sets written for this model (their writers ask that no score be measured on them, nor a threshold set).
ALWAYS = ("ad_evasions.jsonl", "chat_train_v1.jsonl", "chat_train_v2.jsonl", "chat_train_v3.jsonl")
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "spam-zh.jsonl"


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="spam-zh.jsonl (its DEV ham is trained on)")
    parser.add_argument("--out", default=str(DEFAULT_CHAT_MODEL_PATH))
    args = parser.parse_args(argv)
    corpus = Path(args.corpus)
    if not corpus.exists():
        raise SystemExit(f"corpus not found: {corpus} (pass --corpus)")
    held_out = {path.name for path in HELD_OUT.values()}
    if held_out & {*CHAT_SETS, *ALWAYS}:
        raise SystemExit(f"a held-out set is listed for training: {sorted(held_out & {*CHAT_SETS, *ALWAYS})}")
    sets = {name.removesuffix(".jsonl"): [(r["text"], r["label"]) for r in read_rows(DATA / name)]
            for name in CHAT_SETS}
    always = [(r["text"], r["label"]) for name in ALWAYS for r in read_rows(DATA / name)]
    ham = [r["text"] for r in read_rows(corpus) if r["label"] == "ham" and corpus_split(r["text"]) == "dev"]
    started = time.perf_counter()
    model = train_chat_model(sets, ham, always=always, meta={"corpus": corpus.name},
                             on_fold=lambda name: print(f"  left out {name}: {time.perf_counter() - started:.0f}s"))
    out = Path(args.out)
    model.save(out)
    print(f"trained on {sum(map(len, sets.values()))} chat lines + {len(always)} + {len(ham)} corpus ham in "
          f"{time.perf_counter() - started:.0f}s: {len(model)} features, z_low={model.z_low:.3f} "
          f"z_high={model.z_high:.3f}; wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
    print("leave-one-set-out, the model alone at z_high (ads flagged / hams flagged):")
    for name, f in model.meta["loso"].items():
        print(f"  {name:<22} {100 * f['recall']:5.1f}% of {f['ads']:>4} ads   "
              f"{100 * f['fpr']:5.2f}% of {f['hams']:>5} hams")
    return 0


if __name__ == "__main__":
    sys.exit(main())
