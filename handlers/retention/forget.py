"""Erasing one member (PIPL: a member may ask for their data to be deleted), for the chat command and
`qunbot forget-member`.

What goes, in the group (or everywhere): the texts of their events (payloads trimmed, see scrub.py),
the images they sent (inside `bot.media_dir`), the owners' ad samples of their messages, the evidence
of their ad warnings, the owners' notes on their points, their display name (stored as `erased_name`
from then on; a member still in the group brings their name back with their next message or roster),
their name in member lists, in the welcome queue and in the red-packet queue, the text and name of
their 接龙 lines and the example line of the chains they started (the chain's title stays: it names the
group's activity, every member who signed copied it, and 接龙统计 finds the chain by it), the quote
kept of the 扣1 roll calls they opened, what the bot's audit rows said about them (rows about their
messages or addressed to them lose their texts; other rows have their names, and the texts of their
接龙 lines, replaced), and text reports (CSV, 接龙导出's too) that list them. What stays, anonymous:
their id on counting rows (events' id, time and type, check-ins, ledger amounts, balance, 接龙 lines'
place and status, 扣1 answers, votes), so counts, ranks, streaks and totals (接龙统计's count) stay
right. Polls keep their titles and options (the admin's words, the published result) and lottery
draws keep ids only. An audit note (rule `retention/forget`) says who asked and how much went, never
what.

After the commit the database is scrubbed (storage/journal.py `Scrub`): SQLite runs with secure_delete,
VACUUMs the file (`retention.vacuum_after_forget`) and truncates the WAL; PostgreSQL VACUUMs the
tables touched (VACUUM FULL with `qunbot forget-member --full`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from handlers.retention import files
from handlers.retention.repository import After, RetentionRepository
from handlers.retention.scrub import json_forms, replace_names, roster_without, scrubbed_action, trimmed_payload
from rules.config import Config

if TYPE_CHECKING:
    from storage.store import Store

MIN_NAME = 2  # shorter names are not searched for in other rows' texts (a single character is everywhere)


@dataclass
class Erased:
    """How much went (the numbers the reply and the audit note give)."""

    events: int = 0  # events whose texts went
    media: int = 0  # image files deleted
    samples: int = 0  # owners' ad samples deleted
    names: int = 0  # display names replaced (one per group)
    notes: int = 0  # owners' notes on points blanked
    actions: int = 0  # audit rows scrubbed
    files: int = 0  # text reports deleted
    rosters: int = 0  # member lists the name was taken out of
    evidence: int = 0  # ad warnings whose evidence was blanked
    queue: int = 0  # welcome-queue entries whose name was blanked
    jielong: int = 0  # 接龙 lines blanked (text and name) and example lines of their chains blanked
    roll_calls: int = 0  # 扣1 roll calls they opened whose quote was blanked
    red_packets: int = 0  # red packets waiting for thanks whose name was blanked


async def _each(page: Any) -> Any:
    """Every row of a paged read (pages by (time, id): the row's second and first fields)."""
    after: After = None
    while True:
        rows = await page(after)
        if not rows:
            return
        for row in rows:
            yield row
        after = (rows[-1][1], rows[-1][0])


async def forget_member(repo: RetentionRepository, config: Config, user: str, group: str | None, now: datetime, *,
                        by: str, placeholder: str, vacuum: bool, full: bool = False,
                        extra_events: Sequence[str] = ()) -> Erased:
    """Erase the member's data in `group` (None: everywhere, direct messages too); `extra_events`
    (the command that asked) lose their texts as well. The scrub runs after the next commit."""
    bot = config.model.bot
    erased = Erased()
    rows = await repo.member_rows(user, group)
    # where their events are: the group, or every group they were seen in and direct messages
    scopes: list[str | None] = [group] if group is not None else list(dict.fromkeys(
        [g for g, _n in rows] + await repo.event_groups(user) + [None]))
    names = {n for _g, n in rows if n and n != placeholder}
    for scope in scopes:
        async for event_id, _ts, payload in _each(lambda after, g=scope: repo.member_events(user, g, after)):
            if payload.get("user_name"):
                names.add(payload["user_name"])
            if payload.get("type") == "image" and payload.get("path"):
                erased.media += files.remove(payload["path"], bot.media_dir)
            repo.set_payload(event_id, trimmed_payload(payload, "erasure"))
            erased.events += 1
        if scope is None:
            continue
        async for event_id, _ts, payload in _each(lambda after, g=scope: repo.rosters(g, after)):
            changed = roster_without(payload, user)
            if changed is not None:
                names.update(m.get("name") for m in payload["members"] if isinstance(m, dict)
                             and m.get("id") == user and m.get("name"))
                repo.set_payload(event_id, changed)
                erased.rosters += 1
    for event_id in extra_events:
        payload = await repo.events.event_payload(event_id)
        if payload is not None:
            repo.set_payload(event_id, trimmed_payload(payload, "erasure"))
    for g, _name in rows:
        repo.rename_member(g, user, placeholder)
        erased.names += 1
    lines = await repo.jielong_lines(user, group)
    names.update(n for _line, n in lines if n and n != placeholder)
    details = await repo.erase_details(user, group, scopes)
    erased.samples, erased.evidence = details["samples"], details["evidence"]
    erased.notes, erased.queue = details["notes"], details["queue"]
    erased.jielong, erased.roll_calls = details["jielong"], details["roll_calls"]
    erased.red_packets = details["red_packets"]
    searched = tuple(sorted((n for n in names if len(n) >= MIN_NAME), key=len, reverse=True))
    needles = [user] + [form for n in searched for form in json_forms(n)]
    # the rows found (about them, or naming them) lose the texts of their 接龙 lines too: a note on
    # another member's refused copy quotes the lines it dropped or changed
    texts = names | {line for line, _n in lines}
    replaced = tuple(sorted((t for t in texts if len(t) >= MIN_NAME), key=len, reverse=True))
    after: str | None = None
    while page := await repo.actions_about(user, group, scopes, needles, after):
        for action_id, body, data, theirs in page:
            if theirs:
                repo.set_action(action_id, *scrubbed_action(body, data, "erasure"))
            else:
                repo.set_action(action_id, replace_names(body, replaced, placeholder),
                                replace_names(data, replaced, placeholder))
            erased.actions += 1
        after = page[-1][0]
    for path in files.reports_naming(bot.reports_dir, user):
        erased.files += files.remove(path, bot.reports_dir)
    repo.audit.record_actions([{
        "id": f"forget:{user}:{group or '*'}:{now.isoformat()}", "ts": now, "event_id": None, "action": "note",
        "rule": "retention/forget", "group_id": group, "user_id": None, "body": {}, "status": "note", "sent_at": None,
        "data": {"member": user, "group": group or "*", "by": by, **asdict(erased)}}])
    repo.scrub_after_commit(vacuum=vacuum, full=full)
    return erased


async def forget_from_cli(store: Store, config: Config, wanted: str, group: str | None, group_name: str | None,
                          now: datetime, *, vacuum: bool, full: bool) -> int:
    """`qunbot forget-member`: erase, commit, scrub; print what went and what the database did. Exit
    code 2 when no (or more than one) member is meant, 3 when the scrub did not finish."""
    repo = store.repository(RetentionRepository)
    ids = await repo.member_ids(wanted, group)
    if len(ids) != 1:
        where = f" in group {group}" if group else ""
        print(f"no member {wanted!r}{where} (give the member's id or exact display name)" if not ids else
              f"{wanted!r} is the name of {len(ids)} members{where}: {', '.join(ids)}; give the id", file=sys.stderr)
        return 2
    settings = (config.group(group, group_name).settings if group else config.model.defaults).retention
    erased = await forget_member(repo, config, ids[0], group, now, by="cli", placeholder=settings.erased_name,
                                 vacuum=vacuum, full=full)
    await store.commit()
    print(f"erased member {ids[0]} in {group or 'every group and direct messages'}: "
          + ", ".join(f"{k} {v}" for k, v in asdict(erased).items()))
    print("database: " + "; ".join(store.scrubbed))
    if any("failed" in line or "NOT" in line for line in store.scrubbed):
        print("the database was not scrubbed to the end: stop the bot (or use 删除数据 in the chat) and run "
              "this again", file=sys.stderr)
        return 3
    return 0
