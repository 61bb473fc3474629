"""A pause of Python's cyclic garbage collector while a long list of tuples is built, and the start-up's
objects set aside from its full collections.

Building 10^5 rows allocates enough containers to start several collections, each walking every
object the bot holds; none of these rows forms a cycle, so the walks find nothing and only cost time
(measured: a purge list of 59k members took 50 to 200 ms more, at random). Reference counting still
frees everything at once; collections resume when the pause ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_depth = 0  # pauses open now (tasks may overlap theirs across awaits)
_resume = False  # whether the collector was on when the first of them began
_frozen = False  # start-up's objects set aside (freeze_startup) in this process


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector for the block; it comes back when the last overlapping pause
    ends, if it was on when the first began."""
    global _depth, _resume
    if _depth == 0:
        _resume = gc.isenabled()
        gc.disable()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _resume:
            gc.enable()


def freeze_startup() -> bool:
    """Move every object alive now (modules, tables, compiled patterns, the store's state after start-up)
    out of the collector's reach, once per process: a full collection walks every tracked object, and
    with start-up's among them each took up to ~90 ms at random moments (a command's answer held back that
    long); with them set aside, ~30-45 ms. They are freed by reference counting as before; only cycles
    among them would stay, and start-up makes none that it drops. True when this call froze them."""
    global _frozen
    if _frozen:
        return False
    _frozen = True
    gc.collect()
    gc.freeze()
    return True
