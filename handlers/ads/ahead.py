"""Scoring texts ahead of need in a worker process, for a replay (which reads its transcript ahead).

The detector's verdict on a text is a pure function of the text and the detector's settings, and it
is most of a replay's work on chat. A replay hands the texts of the events it will handle next to
`ScoresAhead.submit`; one worker process (spawned on first use, with its own detectors) scores them
while the bot handles the events before them, and `take` gives a verdict back when it is ready. A
verdict that is not ready is computed in place as usual: the worker only ever saves time, and a
worker that dies is logged once and no longer used. The worker ends with the bot's process, however
that ends (a kill -9 included). Verdicts are kept for the texts of the last few chunks (a text repeated
soon after is answered again) and for texts of ordinary length only. A live bot never reads ahead, so it has no worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.ads.detector import CheckResult, TextDetector

log = logging.getLogger("qunbot.ads")

# pitch words, allowed domains, model path, whether the chat model speaks
Spec = tuple[tuple[tuple[str, float], ...], tuple[str, ...], str | None, bool]
Scored = tuple[float, "str | None", "tuple[CheckResult, ...]", str]  # total, kind, results, normal form
MAX_READY = 4_000  # verdicts kept, the oldest out first (a replay chunk is 500 events)
MAX_IN_FLIGHT = 3  # batches submitted and not yet collected
MAX_TEXT_CHARS = 4_000  # longer texts (a long 接龙 copy) are scored in place: the kept verdicts stay small


def cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


# -- in the worker process ---------------------------------------------------------------------------

_DETECTORS: dict[Spec, TextDetector] = {}


def die_with_parent(parent: int) -> None:
    """The worker's initializer: end when the bot's process ends (Linux tells at once through
    PR_SET_PDEATHSIG; a watcher thread notices within a second anywhere)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except Exception:  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # the parent went before the signal was asked for
        os._exit(0)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _detector(spec: Spec) -> TextDetector:
    from handlers.ads.detector import TextDetector
    from handlers.ads.model import load_model

    found = _DETECTORS.get(spec)
    if found is None:
        pitch, allow, model_path, chat = spec
        found = _DETECTORS[spec] = TextDetector(dict(pitch), allow, load_model(model_path), chat=chat)
    return found


def score_batch(spec: Spec, texts: Sequence[str]) -> list[tuple[str, Scored]]:
    """(text, verdict) for each text, by the detector of `spec` (runs in the worker)."""
    from handlers.ads.folds import normalize_for_ads

    detector = _detector(spec)
    out = []
    for text in texts:
        total, kind, results = detector.score(text)
        out.append((text, (total, kind, tuple(results), normalize_for_ads(text))))
    return out


# -- in the bot's process ------------------------------------------------------------------------------

class ScoresAhead:
    """Verdicts on texts computed by a worker before they are needed (see the module doc)."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._broken = False
        self._in_flight: deque[Future[list[tuple[str, Scored]]]] = deque()
        self._ready: OrderedDict[tuple[Spec, str], Scored] = OrderedDict()

    @property
    def usable(self) -> bool:
        return not self._broken and cpus() >= 2  # on one CPU the worker would only take turns with the bot

    def submit(self, spec: Spec, texts: Sequence[str]) -> None:
        """Have the worker score `texts` (a batch at most MAX_IN_FLIGHT ahead; further batches wait)."""
        texts = [t for t in dict.fromkeys(texts) if len(t) <= MAX_TEXT_CHARS and (spec, t) not in self._ready]
        if not texts or not self.usable:
            return
        self._collect()
        if len(self._in_flight) >= MAX_IN_FLIGHT:
            return  # the worker is behind: these are scored in place when their turn comes
        try:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=die_with_parent, initargs=(os.getpid(),))
            future = self._pool.submit(score_batch, spec, texts)
        except Exception as exc:  # a pool that cannot start or has broken
            self._give_up(exc)
            return
        future.spec = spec  # type: ignore[attr-defined]
        self._in_flight.append(future)

    def take(self, spec: Spec, text: str) -> Scored | None:
        """The worker's verdict on `text`, if it is ready (else None: score it in place)."""
        if self._in_flight:
            self._collect()
        return self._ready.get((spec, text))

    def _collect(self) -> None:
        while self._in_flight and self._in_flight[0].done():
            future = self._in_flight.popleft()
            try:
                batch = future.result()
            except Exception as exc:
                self._give_up(exc)
                return
            spec = future.spec  # type: ignore[attr-defined]
            for text, scored in batch:
                self._ready[(spec, text)] = scored
            while len(self._ready) > MAX_READY:
                self._ready.popitem(last=False)

    def _give_up(self, exc: BaseException) -> None:
        log.warning("the ad-scoring worker failed (%s: %s); texts are scored in place from now on",
                     type(exc).__name__, exc)
        self._broken = True
        self._in_flight.clear()
        self.close(wait=False)  # a broken pool has nothing to finish

    def close(self, wait: bool = True) -> None:
        """Stop the worker and drop what it was asked and gave (a replay's end). With `wait`, until the worker
        has stopped: an executor left running races the interpreter's exit (its threads write to closed
        pipes: "OSError: [Errno 9] Bad file descriptor" after the replay's summary)."""
        pool, self._pool = self._pool, None
        self._in_flight.clear()
        self._ready.clear()
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)


AHEAD = ScoresAhead()  # one worker for the process: a replay at a time reads ahead

