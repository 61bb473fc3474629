"""A 接龙 copy read from a message, and how it changes the stored chain.

A copy is one text message: a first line `#接龙` (or `#接龙 标题`), a title line, an optional example
line starting with `例`, then numbered lines in any of the styles members type (`1. `, `1.`, `1、`, `1 `,
full-width digits and dots: the text is NFKC-normalised first). Lines before the first numbered one
other than the title and the example are the description and are ignored, as are unnumbered lines
after it and numbered lines left empty.

Lines are compared by their folded form (rules.normalize.fold: no spacing or punctuation, case and
full-width folded), never by their numbers, so a renumbered copy is the same chain. A copy is aligned
with the stored chain (difflib, in list order): lines the chain lacks are new and are the sender's;
the sender may edit or drop their own lines; a copy that drops or changes another member's line is
refused whole (the stored chain stays). Lines taken out with 取消接龙 stay in the chain as `cancelled`
(so the next copy that still shows them does not give them to its sender); a member's repeated line
is kept as `dup` (not counted) unless duplicates are allowed. A line whose text was erased (a member's
erasure, handlers/retention: its text is "") stays counted in its place; it is no one's to check, it
stands for the line a copy shows in its place (that text is not taken again, nor given to the
sender), and a copy without it is not refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from difflib import SequenceMatcher

from rules.normalize import clean, command_form, command_words, fold, split_command

OK, DUP, CANCELLED = "ok", "dup", "cancelled"
# "12. 小明", "12.小明", "12、小明", "12 小明", "12)小明", "12：小明" (after NFKC); "3.5公里" is not numbered
NUMBERED = re.compile(r"^\s*(\d{1,4})(?:\s*(?:\.(?!\d)|[、,，)）:：;；])\s*|\s+)(.*)$")


@dataclass(frozen=True)
class Copy:
    """What a copy says: its title (and the form it is compared in), example and numbered lines."""

    title: str
    title_key: str
    example: str | None
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Malformed:
    """A message that starts like a copy but cannot be one: why (for the audit)."""

    reason: str


def key(text: str) -> str:
    """The form lines are compared in."""
    return fold(text) or text.strip()


def title_key(title: str) -> str:
    """The form titles are compared in ("周六羽毛球🏸！" and "周六羽毛球" are one chain)."""
    return (command_form(title) or key(title))[:64]


def starts_copy(first_line: str, start_words: tuple[str, ...]) -> str | None:
    """The title written on the marker line ("" when the marker is alone), or None: not a copy."""
    line = clean(first_line).strip()
    if command_form(line) in command_words(start_words):
        return ""
    rest = split_command(line, tuple(clean(w) for w in start_words))
    return rest if rest else None


def parse_copy(text: str, *, start_words: tuple[str, ...], example_prefixes: tuple[str, ...], max_chars: int,
               max_entries: int, max_line_chars: int, max_title_chars: int) -> Copy | Malformed | None:
    """Read a copy out of a message (None: the message is not a copy at all)."""
    head, _, _ = text[:200].lstrip().partition("\n")
    inline_title = starts_copy(head, start_words)
    if inline_title is None:
        return None
    if len(text) > max_chars:
        return Malformed(f"too long: {len(text)} characters (jielong.max_chars {max_chars})")
    if text.count("\n") > 2 * max_entries + 50:
        return Malformed(f"too many lines: {text.count(chr(10)) + 1} (jielong.max_entries {max_entries})")
    rows = [r.strip() for r in clean(text).splitlines()]
    rows = [r for r in rows if r][1:]  # the marker line is read already
    title = inline_title
    if not title:
        if not rows or NUMBERED.match(rows[0]):
            return Malformed("no title line after the marker")
        title, rows = rows[0], rows[1:]
    title = _cut(title, max_title_chars)
    if not title_key(title):
        return Malformed("the title is empty")
    example: str | None = None
    lines: list[str] = []
    for row in rows:
        m = NUMBERED.match(row)
        if m is None:
            if not lines and example is None and any(row.startswith(p) for p in example_prefixes):
                example = _cut(row, max_line_chars)
            continue
        content = _cut(m.group(2), max_line_chars)
        if content:
            lines.append(content)
            if len(lines) > max_entries:
                return Malformed(f"more than {max_entries} numbered lines (jielong.max_entries)")
    if not lines:
        return Malformed("no numbered lines")
    return Copy(title, title_key(title), example, tuple(lines))


def _cut(text: str, limit: int) -> str:
    """Trimmed and cut to `limit` characters, with no control characters."""
    text = "".join(ch for ch in text.strip()[:limit * 2] if unicodedata.category(ch) != "Cc")
    return text.strip()[:limit].strip()


@dataclass
class Entry:
    """One line of a chain: who added it, what it says, its place in the list, its status."""

    seq: int  # its id within the chain (never reused)
    pos: int  # its place in list order
    user: str
    user_name: str | None
    content: str
    status: str  # ok | dup | cancelled
    added_at: datetime
    event_id: str | None


@dataclass
class Merged:
    """A copy taken into the chain: the entries in their new order, and what changed."""

    entries: list[Entry]
    added: list[Entry]  # the sender's new lines (to insert)
    updated: list[Entry]  # stored entries whose place, text, name or status changed (to update)
    edited: int = 0  # the sender's own lines their copy changed
    removed: int = 0  # the sender's own lines their copy left out (now cancelled)


@dataclass(frozen=True)
class Refused:
    """A copy that cannot be taken: `reason` (dropped, changed, too_many) and the members whose lines it
    dropped or changed."""

    reason: str
    members: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()


def merge(entries: list[Entry], lines: tuple[str, ...], sender: str, sender_name: str | None, at: datetime,
          event_id: str, *, allow_duplicates: bool, max_entries: int) -> Merged | Refused:
    """The chain after the sender's copy (see the module doc), or why the copy is refused."""
    first_new = max((e.seq for e in entries), default=0) + 1
    order: list[Entry] = []
    others: list[Entry] = []
    changed = False
    edited = removed = 0
    old, new = [key(e.content) for e in entries], [key(line) for line in lines]
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        block, copied = entries[i1:i2], lines[j1:j2]
        if tag == "equal":
            for entry, line in zip(block, copied, strict=True):
                if entry.user == sender and entry.status != CANCELLED and entry.content != line:
                    entry = replace(entry, content=line)  # the same words, spaced or punctuated anew
                order.append(entry)
            continue
        blanks = [n for n, e in enumerate(block) if not e.content and e.user != sender]
        if blanks:  # lines whose text was erased: each stands for the line the copy shows in its place
            order += [block[n] for n in blanks]
            shown = {n for n in blanks if n < len(copied)}
            block = [e for n, e in enumerate(block) if n not in blanks]
            copied = tuple(line for n, line in enumerate(copied) if n not in shown)
        theirs = [e for e in block if e.user != sender and e.status != CANCELLED]
        if theirs:
            mine = {id(e) for e in theirs}  # each compared with the line in its place only (bounded work)
            pairs = zip(block, copied, strict=False)
            changed = changed or any(_edited(e.content, line) for e, line in pairs if id(e) in mine)
            others += theirs
            continue
        own = [e for e in block if e.user == sender and e.status != CANCELLED]
        for n, line in enumerate(copied):
            if n < len(own):
                edited += 1
                order.append(replace(own[n], content=line, user_name=sender_name or own[n].user_name))
            else:
                order.append(Entry(first_new + len(order), 0, sender, sender_name, line, OK, at, event_id))
        kept = {id(e) for e in own[:len(copied)]}
        for e in block:  # cancelled lines stay (in place); the sender's lines their copy left out are cancelled
            if id(e) not in kept:
                removed += e.status != CANCELLED
                order.append(replace(e, status=CANCELLED))
    if others:
        return Refused("changed" if changed else "dropped", tuple(dict.fromkeys(e.user for e in others)),
                       tuple(e.content for e in others[:5]))
    if sum(1 for e in order if e.status != CANCELLED) > max_entries:
        return Refused("too_many")
    if not allow_duplicates:
        _mark_duplicates(order, sender, first_new)
    final = [e if e.pos == pos else replace(e, pos=pos) for pos, e in enumerate(order)]
    stored = {e.seq: e for e in entries}
    return Merged(final, [e for e in final if e.seq >= first_new],
                  [e for e in final if e.seq < first_new and e != stored[e.seq]], edited, removed)


def _edited(was: str, now: str) -> bool:
    """Does `now` read as `was` edited (rather than another line in its place)?"""
    a, b = key(was), key(now)
    return a in b or b in a or SequenceMatcher(None, a, b, autojunk=False).ratio() > 0.6


def _mark_duplicates(order: list[Entry], sender: str, first_new: int) -> None:
    """The sender's new lines that repeat one of their lines (same folded text) are kept as `dup`."""
    seen = {key(e.content) for e in order if e.user == sender and e.status == OK and e.seq < first_new}
    for entry in order:
        if entry.seq < first_new:
            continue
        k = key(entry.content)
        if k in seen:
            entry.status = DUP
        seen.add(k)

