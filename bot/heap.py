"""The C heap of a long-running bot: large blocks go back to the system when they are freed.

glibc's malloc serves blocks of 128 KiB and more with their own mappings, given back when freed, but
it raises that threshold each time such a block is freed (up to 32 MiB): after a few (the ad models'
JSON parsed at the first text, a job's list of 1,000 groups) large blocks come from the heap, and
their pages stay with the process once freed. Measured by bench/soak.py (1,000 groups, a day): the
heap held 13.9 MB free at the end of the day; with the threshold fixed, 2.2 MB. Elsewhere (not glibc)
nothing is changed.
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger("qunbot.heap")

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
LARGE_BLOCK = 128 * 1024  # glibc's own starting value, kept from then on


def give_back_large_blocks() -> bool:
    """Fix glibc's mmap and trim thresholds at 128 KiB for this process; False when malloc is not
    glibc's (or refuses)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    done = mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK) == 1 and mallopt(M_TRIM_THRESHOLD, LARGE_BLOCK) == 1
    log.debug("malloc thresholds fixed at %d bytes: %s", LARGE_BLOCK, done)
    return done
