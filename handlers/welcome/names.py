"""Whether a display name fits the group's format, and whether a rename reminder is due (shared by the
handler and the batched message)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from handlers.welcome.repository import Reminders
from handlers.welcome.settings import WelcomeSettings

MAX_CACHED_NAMES = 4_096  # a fullmatch of a name costs about a microsecond: the cache only spares repeats


def fits(pattern: Any, memory: dict[str, Any], name: str | None) -> bool:
    """Does `name` fit the compiled format `pattern` (None: the group asks for none)? Cached in `memory`."""
    if pattern is None:
        return True
    if name is None:
        return False
    cache: dict[tuple[str, str], bool] = memory.setdefault("fits", {})
    key = (pattern.pattern, name)
    found = cache.get(key)
    if found is None:
        if len(cache) > MAX_CACHED_NAMES:
            cache.clear()
        found = cache[key] = pattern.fullmatch(name) is not None
    return found


def quiet(settings: WelcomeSettings, before: Reminders | None) -> str | None:
    """Why no reminder is due now (None: the first one is). A member is reminded once, on join or on a
    message; the one follow-up, `rename_followup_days` days after, is the group's daily one (followup.py)."""
    if before is None:
        return None
    followup = settings.rename_followup_days
    if before.count >= 2 or followup <= 0 or not before.open:
        return f"reminded {before.count} time(s) already (last {before.last_on}): no more reminders"
    due = date.fromisoformat(before.first_on) + timedelta(days=followup)
    return (f"reminded on {before.first_on}; the one follow-up goes out with the group's daily reminder at "
            f"{settings.rename_followup_time} from {due.isoformat()}")
