"""Rows of the audit log (the actions table) for actions and notes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.events import Action, Note


def action_rows(ids: Sequence[str], actions: Sequence[Action], event_id: str | None) -> list[dict[str, Any]]:
    """One pending row per action, keyed by its id; `body` is the whole action for a later resend."""
    return [
        {"id": action_id, "ts": a.ts, "event_id": event_id, "action": a.action, "rule": a.rule,
         # a direct message about a group (a report to an operator) is filed under that group
         "group_id": a.group or a.data.get("group"), "user_id": a.user, "data": a.data,
         "body": a.model_dump(mode="json", exclude_none=True), "status": "pending", "sent_at": None}
        for action_id, a in zip(ids, actions, strict=True)
    ]


def observed_note(action: Action) -> Note:
    """What an action would have done, as a note (groups in `mode: observe` send nothing)."""
    target = action.group or action.user or ""
    what = action.text or action.path or action.reason or ""
    return Note(rule=action.rule, reason=f"observe mode: would {action.action} {target} {what}".strip()[:500],
                data={k: v for k, v in action.data.items() if k != "event"})


def note_rows(event_id: str, notes: Sequence[Note], ts: datetime, group: str | None) -> list[dict[str, Any]]:
    """Rows for notes: decisions that produced no action (cooldowns, crashes, checks that passed)."""
    return [
        {"id": f"{event_id}#note{n}", "ts": ts, "event_id": event_id, "action": "note", "rule": note.rule,
         "group_id": group, "user_id": None, "data": {"reason": note.reason, **note.data}, "body": {},
         "status": "note", "sent_at": None}
        for n, note in enumerate(notes)
    ]
