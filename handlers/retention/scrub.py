"""What is left of an event or an audit row once its texts go (pure functions, no I/O).

An event keeps what the counts, charts, purge lists and idempotency read — its columns (id, time,
group, member, type) and, in the payload, the facts that are not texts: ids, the media kind, a
recall's message id, an inviter or remover, a roster's member ids. Texts, names, urls, titles,
file paths and roster names go; `removed` says why ("retention" or "erasure").

An audit row (an action the bot took, or a note) keeps its rule, kind, target ids, status and the
facts in `data` that are numbers, flags or ids; what it said (`text`, `caption`, `reason`) and every
other string (an ad's evidence, a grant's reason, a note's reason quoting the message) goes.
"""

from __future__ import annotations

import json
from typing import Any

EVENT_KEEP = ("id", "ts", "type", "group", "user", "kind", "message_id", "inviter", "removed_by", "complete",
              "mentions", "via")
BODY_KEEP = ("action", "rule", "group", "user", "mentions", "reply_to", "message_id", "path", "ts")
# strings in `data` that are ids or fixed words, never a member's text
DATA_KEEP = frozenset({"event", "group", "kind", "check", "chart", "label", "sample", "asked", "status", "period",
                       "error", "target", "actor", "member", "fallback_for", "via", "day", "level", "item",
                       "by", "how"})
MAX_ID = 128


def trimmed_payload(payload: dict[str, Any], how: str) -> dict[str, Any]:
    """The payload without texts (`how`: "retention" or "erasure"). A roster keeps its member ids."""
    out = {k: payload[k] for k in EVENT_KEEP if k in payload}
    members = payload.get("members")
    if isinstance(members, list):
        out["members"] = [{"id": m["id"]} for m in members if isinstance(m, dict) and "id" in m]
    out["removed"] = how
    return out


def roster_without(payload: dict[str, Any], user: str) -> dict[str, Any] | None:
    """A roster payload with `user`'s name taken out (None: the roster does not name them)."""
    members = payload.get("members")
    if not isinstance(members, list):
        return None
    changed = False
    kept: list[Any] = []
    for m in members:
        if isinstance(m, dict) and m.get("id") == user and m.get("name") is not None:
            kept.append({"id": user})
            changed = True
        else:
            kept.append(m)
    return {**payload, "members": kept} if changed else None


def _is_id(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float)) or (
        isinstance(value, str) and len(value) <= MAX_ID and not any(ch.isspace() for ch in value))


def scrubbed_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """`data` with only numbers, flags, and ids or fixed words under known keys (and lists of those)."""
    out: dict[str, Any] = {}
    for key, value in (data or {}).items():
        if isinstance(value, (bool, int, float)) or value is None:
            out[key] = value
        elif isinstance(value, str):
            if key in DATA_KEEP and _is_id(value):
                out[key] = value
        elif isinstance(value, list) and key in DATA_KEEP | {"members", "events", "top", "asked_ids"}:
            if all(_is_id(v) or (isinstance(v, list) and all(_is_id(x) for x in v)) for v in value):
                out[key] = value
    return out


def scrubbed_action(body: dict[str, Any] | None, data: dict[str, Any] | None, how: str
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(body, data) of an audit row without what it said or quoted."""
    kept = {k: v for k, v in (body or {}).items() if k in BODY_KEEP}
    clean = scrubbed_data(data)
    if body:
        kept["data"] = clean
    kept["removed"] = how
    return kept, clean


def json_forms(text: str) -> tuple[str, ...]:
    """How `text` may appear inside stored JSON: as it is, and with non-ASCII characters escaped
    (json.dumps' default), so a LIKE on the stored text finds it either way."""
    escaped = json.dumps(text)[1:-1]
    return (text,) if escaped == text else (text, escaped)


def replace_names(value: Any, names: tuple[str, ...], placeholder: str) -> Any:
    """`value` (JSON: dicts, lists, strings) with every occurrence of `names` replaced."""
    if isinstance(value, str):
        for name in names:
            value = value.replace(name, placeholder)
        return value
    if isinstance(value, list):
        return [replace_names(v, names, placeholder) for v in value]
    if isinstance(value, dict):
        return {k: replace_names(v, names, placeholder) for k, v in value.items()}
    return value
