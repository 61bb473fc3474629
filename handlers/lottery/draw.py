"""The draw itself, with no state and no random generator, so anyone can recompute it:

    seed    = SHA-256( command event id + "\\n" + id of message 1 + "\\n" + … + id of message k )   (hex)
    winners = the first N of the pool sorted by SHA-256( seed + "\\n" + member id )              (hex)
    digest  = SHA-256( the pool's member ids, sorted, joined by "\\n" )                             (hex)

The pool is fixed (and stored) when the admin sends 抽奖; the message ids come after it and are given by
the platform, so nobody — the admin included — knows the winners before the last of them arrives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seed_of(command_id: str, message_ids: Sequence[str]) -> str:
    """The seed: the command's event id and the ids of the messages after it."""
    return _sha256("\n".join([command_id, *message_ids]))


def sorted_pool(members: Iterable[str]) -> list[str]:
    """The pool as it is stored and hashed: each id once, in code-point order (the same on every database)."""
    return sorted(set(members))


def pool_digest(pool: Iterable[str]) -> str:
    return _sha256("\n".join(sorted_pool(pool)))


def winners_of(seed: str, pool: Iterable[str], count: int) -> list[str]:
    """The first `count` members of the pool in the order of SHA-256(seed + "\\n" + id) (all of them when
    the pool is smaller)."""
    return sorted(sorted_pool(pool), key=lambda member: (_sha256(f"{seed}\n{member}"), member))[:max(0, count)]
