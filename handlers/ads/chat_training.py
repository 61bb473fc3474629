"""Training the chat model: a second `AdModel` (the same recipe as the corpus model, handlers/ads/training.py)
on group-chat messages, for the ads the SMS corpus has no words for (收藏品、带货、拉群、副业 written by
members, in pinyin, with an id at the end) and the hams group chat is full of.

Its rows are labelled chat sets (each written by a different writer; see tests/data/*.md), plus the corpus's
ham (SMS notices, forum fragments: what the chat sets lack) in every fold. Calibration is leave-one-set-out:
each set's lines are scored by a model trained without that set, and the corpus ham by one trained without
its fifth, so the thresholds come from lines of writers the model did not see:
`z_high` is the logit that at most `high_fpr` of those hams exceed, in the chat sets and in the corpus alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from handlers.ads.model import AdModel, clean_text
from handlers.ads.training import Sample, _is_ad, _quantile, train_model

FOLDS_OF_CORPUS_HAM = 5
RANGE = 1.5  # z_low = z_high - RANGE: the model adds part of a score below its flagging point


def _figures(logits: Sequence[float], labels: Sequence[bool], z: float) -> dict[str, float]:
    ads = [x for x, y in zip(logits, labels, strict=True) if y]
    hams = [x for x, y in zip(logits, labels, strict=True) if not y]
    return {"ads": len(ads), "hams": len(hams), "recall": round(sum(x >= z for x in ads) / max(1, len(ads)), 4),
            "fpr": round(sum(x >= z for x in hams) / max(1, len(hams)), 4)}


def train_chat_model(sets: Mapping[str, Sequence[Sample]], corpus_ham: Sequence[str], *, always: Sequence[Sample] = (),
                     high_fpr: float = 0.004, augment: int = 2, epochs: int = 15, seed: int = 0, latin: bool = True,
                     meta: Mapping[str, Any] | None = None, on_fold: Callable[[str], None] | None = None) -> AdModel:
    """The chat model trained on every set, `always` (rows that are never left out, e.g. a small evasion
    list) and `corpus_ham`; calibrated leave-one-set-out (see the module doc). meta["loso"] holds each
    set's out-of-set figures at the chosen `z_high`. `latin`: read Latin pinyin as syllables (chat is full of it)."""
    if len(sets) < 2:
        raise ValueError("leave-one-set-out calibration needs two sets or more")
    named = {name: [(t, _is_ad(y)) for t, y in rows] for name, rows in sets.items()}
    always_rows = [(t, _is_ad(y)) for t, y in always]
    hams = [(t, False) for t in corpus_ham]

    def fit(left_out: str | None, ham_fold: int | None) -> AdModel:
        rows = [r for name, rs in named.items() if name != left_out for r in rs] + always_rows
        more = [h for i, h in enumerate(hams) if ham_fold is None or i % FOLDS_OF_CORPUS_HAM != ham_fold]
        return train_model(rows, extra=more, extra_weight=1.0, augment=augment, folds=0, epochs=epochs, seed=seed,
                           latin=latin)

    out_of_set: dict[str, tuple[list[float], list[bool]]] = {}
    corpus_logits = [0.0] * len(hams)
    for k, name in enumerate(named):
        model = fit(name, k % FOLDS_OF_CORPUS_HAM if k < FOLDS_OF_CORPUS_HAM else None)
        out_of_set[name] = ([model.logit(clean_text(t)) for t, _y in named[name]], [y for _t, y in named[name]])
        if k < FOLDS_OF_CORPUS_HAM:
            for i in range(k, len(hams), FOLDS_OF_CORPUS_HAM):
                corpus_logits[i] = model.logit(clean_text(hams[i][0]))
        if on_fold is not None:
            on_fold(name)
    if len(named) < FOLDS_OF_CORPUS_HAM:  # the corpus ham's remaining fifths
        for fold in range(len(named), FOLDS_OF_CORPUS_HAM):
            model = fit(None, fold)
            for i in range(fold, len(hams), FOLDS_OF_CORPUS_HAM):
                corpus_logits[i] = model.logit(clean_text(hams[i][0]))
    chat_hams = [z for zs, ys in out_of_set.values() for z, y in zip(zs, ys, strict=True) if not y]
    z_high = max(_quantile(chat_hams, 1.0 - high_fpr), _quantile(corpus_logits, 1.0 - high_fpr) if hams else -99.0)
    final = fit(None, None)
    loso = {name: _figures(zs, ys, z_high) for name, (zs, ys) in out_of_set.items()}
    loso["corpus_ham"] = _figures(corpus_logits, [False] * len(corpus_logits), z_high)
    info = {**final.meta, "kind": "chat", "sets": {n: len(r) for n, r in named.items()}, "always": len(always_rows),
            "corpus_ham": len(hams), "high_fpr": high_fpr, "calibration": "leave-one-set-out", "loso": loso,
            **(meta or {})}
    return AdModel(final.weights.items(), final.bias, n=final.n, z_low=z_high - RANGE, z_high=z_high, meta=info,
                   syllables=final.syllables, latin=final.latin)

