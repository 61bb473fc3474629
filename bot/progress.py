"""Progress for the commands that take a while (replay, train-ads, copy-db, migrate) and their summary line.

A tqdm bar on stderr, only when stderr is a terminal: nothing at all otherwise (pipes, log files, CI,
tests). While the bar shows, log records and other stderr lines (replay's bad lines) are written above
it. The bar is gone when the work ends; the one-line summary (`summary_line`) is printed on stderr
whether or not it is a terminal. stdout is never touched: replay's actions go there.

tqdm rather than rich: one small pure-Python package without dependencies, and a bar is all we draw.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO


def is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Progress:
    """A bar (when `stream` is a terminal) or nothing: the same calls either way."""

    def __init__(self, desc: str, total: float | None = None, *, unit: str = "it", unit_scale: bool = False,
                 stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self._bar: Any = None
        self._logging: Any = None
        if is_terminal(self.stream):
            from tqdm import tqdm
            from tqdm.contrib.logging import logging_redirect_tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=unit_scale, file=self.stream,
                             leave=False, dynamic_ncols=True, mininterval=0.2)
            self._logging = logging_redirect_tqdm()
            self._logging.__enter__()

    @property
    def shown(self) -> bool:
        return self._bar is not None

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def total(self, total: float) -> None:
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def describe(self, desc: str) -> None:
        if self._bar is not None:
            self._bar.set_description_str(desc, refresh=False)

    def note(self, text: str) -> None:
        """A few words after the bar (e.g. how many events so far)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def advance(self, n: float = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def to(self, position: float) -> None:
        """Move the bar to `position` (of `total`)."""
        if self._bar is not None and position > self._bar.n:
            self._bar.update(position - self._bar.n)

    def write(self, line: str) -> None:
        """A line on the stream, above the bar when it shows."""
        if self._bar is not None:
            self._bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._logging is not None:
            self._logging.__exit__(None, None, None)
            self._logging = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class LinesAbove:
    """A text stream whose lines go above a progress bar (for `errors=` of replay: its bad lines), counted."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.lines = 0
        self._partial = ""

    def write(self, text: str) -> int:
        *whole, self._partial = (self._partial + text).split("\n")
        for line in whole:
            self.lines += 1
            self.progress.write(line)
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self.write("\n")


def many(n: int, noun: str) -> str:
    """`1 event`, `2 events`; `1 bad line`, `6 bad lines` (a noun whose plural takes an s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def counted(counts: Iterable[tuple[str, int]]) -> str:
    """`send 310, kick 3`: the non-zero counts, biggest first."""
    return ", ".join(f"{name} {n}" for name, n in sorted(counts, key=lambda kv: (-kv[1], kv[0])) if n)


def summary_line(command: str, parts: Iterable[str], seconds: float) -> str:
    """`replay: 6000 events read, 2 bad lines, 313 actions (send 310, kick 3), 4.2 s`."""
    return f"{command}: {', '.join(p for p in parts if p)}, {seconds:.1f} s"


def print_summary(command: str, parts: Iterable[str], seconds: float, stream: TextIO | None = None) -> None:
    print(summary_line(command, parts, seconds), file=stream if stream is not None else sys.stderr, flush=True)
