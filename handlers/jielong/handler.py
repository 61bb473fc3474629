"""The 接龙 handler: members' copies (kept per group and title, silent but for a Note) and the
commands 接龙统计 / 接龙导出 / 结束接龙 (admins) and 取消接龙 (members); see commands.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.context import Context
from bot.events import Event, Note, Outcome, reply
from bot.feature import Band, Handler
from handlers.jielong import commands
from handlers.jielong.chain import OK, Copy, Malformed, Merged, Refused, key, merge, parse_copy, starts_copy
from handlers.jielong.repository import Chain, JielongRepository
from handlers.jielong.settings import JielongSettings
from rules.normalize import command_heads, head

RULE = "jielong/copy"  # the notes on copies (the 接龙统计 answer alone is rule `jielong`)


def _note(reason: str, **data: Any) -> Outcome:
    return Outcome(notes=(Note(rule=RULE, reason=reason, data=data),), stop=True)


async def take_copy(event: Event, ctx: Context, copy: Copy) -> Outcome:
    """Take a parsed copy into its chain (a new chain for a title with none open)."""
    assert event.group is not None and event.user is not None
    s: JielongSettings = ctx.settings.jielong
    repo: JielongRepository = ctx.repo
    found = await repo.chains(event.group, copy.title_key, limit=1)
    chain = found[0] if found else None
    if chain is not None and not chain.ended(ctx.now, s.expire_days):
        return await _into(event, ctx, chain, copy)
    if chain is not None and await _copy_of_ended(repo, chain, copy, event.user):
        text = ctx.render(s.closed_reply, title=chain.title) if s.closed_reply else ""
        outcome = _note(f"接龙「{chain.title}」已结束：这份复制不再记录", chain=chain.id, title=chain.title)
        return outcome.model_copy(update={"actions": (reply(event, RULE, text, chain=chain.id),)} if text else {})
    return await _start(event, ctx, copy)


async def _copy_of_ended(repo: JielongRepository, chain: Chain, copy: Copy, sender: str) -> bool:
    """Does the copy carry another member's line of this ended chain (a late copy, not a new chain)?"""
    theirs = {key(e.content) for e in await repo.entries(chain.id) if e.user != sender and e.status == OK}
    return any(key(line) in theirs for line in copy.lines)


async def _start(event: Event, ctx: Context, copy: Copy) -> Outcome:
    assert event.group is not None and event.user is not None
    s: JielongSettings = ctx.settings.jielong
    repo: JielongRepository = ctx.repo
    notes: list[Note] = []
    open_now = await repo.chains(event.group, open_since=ctx.now - timedelta(days=s.expire_days), limit=500)
    for old in sorted(open_now, key=lambda c: (c.updated_at, c.started_at))[:max(0, len(open_now) - s.max_open + 1)]:
        repo.close(old.id, ctx.now, "limit")
        notes.append(Note(rule=RULE, reason=f"群里进行中的接龙超过 {s.max_open} 个：最早的「{old.title}」已结束",
                          data={"chain": old.id, "title": old.title}))
    done = merge([], copy.lines, event.user, event.user_name, ctx.now, event.id,
                 allow_duplicates=s.allow_duplicates, max_entries=s.max_entries)
    assert isinstance(done, Merged)  # a new chain has no one else's lines to drop
    repo.start(event.id, event.group, copy.title, copy.title_key, copy.example, event.user, ctx.now)
    repo.save(event.id, done.added, (), ctx.now)
    count = sum(1 for e in done.entries if e.status == OK)
    notes.append(Note(rule=RULE, reason=f"新接龙「{copy.title}」：{len(done.added)} 行，记在发起的成员名下",
                      data={"chain": event.id, "title": copy.title, "added": len(done.added), "count": count}))
    return Outcome(notes=tuple(notes), stop=True)


async def _into(event: Event, ctx: Context, chain: Chain, copy: Copy) -> Outcome:
    assert event.user is not None
    s: JielongSettings = ctx.settings.jielong
    repo: JielongRepository = ctx.repo
    done = merge(await repo.entries(chain.id), copy.lines, event.user, event.user_name, ctx.now, event.id,
                 allow_duplicates=s.allow_duplicates, max_entries=s.max_entries)
    facts: dict[str, Any] = {"chain": chain.id, "title": chain.title}
    if isinstance(done, Refused):
        why = s.reasons.get(done.reason, done.reason)
        outcome = _note(f"这份接龙没有记录：{why}（{'、'.join(done.members) or '—'}），接龙保持原样",
                        **facts, refused=done.reason, members=list(done.members), lines=list(done.lines))
        if not s.rejected_reply:
            return outcome
        text = ctx.render(s.rejected_reply, title=chain.title, reason=why)
        return outcome.model_copy(update={"actions": (reply(event, RULE, text, mention=True, **facts,
                                                            refused=done.reason),)})
    if not done.added and not done.updated:
        return _note(f"接龙「{chain.title}」没有变化（重复的复制）", **facts)
    repo.save(chain.id, done.added, done.updated, ctx.now)
    count = sum(1 for e in done.entries if e.status == OK)
    dups = sum(1 for e in done.added if e.status != OK)
    return _note(f"接龙「{chain.title}」：新增 {len(done.added)} 行（重复 {dups}），改 {done.edited} 行，"
                 f"去掉自己的 {done.removed} 行；共 {count} 行", **facts, added=len(done.added), duplicates=dups,
                 edited=done.edited, removed=done.removed, count=count)


async def handle(event: Event, ctx: Context) -> Outcome | None:
    s: JielongSettings = ctx.settings.jielong
    text = event.text
    if len(text) <= commands.MAX_COMMAND_CHARS:
        found = commands.parse_command(text, s)
        if found is not None:
            return await commands.run(event, ctx, *found)
    copy = parse_copy(text, start_words=s.start_words, example_prefixes=s.example_prefixes, max_chars=s.max_chars,
                      max_entries=s.max_entries, max_line_chars=s.max_line_chars, max_title_chars=s.max_title_chars)
    if copy is None:
        return None
    if isinstance(copy, Malformed):
        return _note(f"不是一份完整的接龙：{copy.reason}", malformed=copy.reason)
    return await take_copy(event, ctx, copy)


def _matches(event: Event, ctx: Context) -> bool:
    """Cheap on ordinary chat: a message must start with the first character of a copy or a command."""
    text = event.text if event.type == "text" else ""
    if not text or event.group is None or event.user is None or ctx.group is None:
        return False
    s: JielongSettings = ctx.settings.jielong
    if not s.enabled or head(text) not in command_heads(s.start_words, s.stats_words, s.export_words,
                                                          s.end_words, s.cancel_words):
        return False
    if len(text) <= commands.MAX_COMMAND_CHARS and commands.parse_command(text, s) is not None:
        return True
    return starts_copy(text[:200].lstrip().partition("\n")[0], s.start_words) is not None


HANDLER = Handler("jielong", Band.COMMAND, handle, matches=_matches, order=50)
