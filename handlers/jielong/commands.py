"""The 接龙 commands: 接龙统计, 接龙导出 and 结束接龙 (admins), 取消接龙 (any member), each for the latest
chain of the group or the one named after the word (`接龙统计 周六羽毛球`, `取消接龙「周六羽毛球」`)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.context import Context
from bot.events import OTHERWISE, THEN, Action, Event, Note, Outcome, reply
from bot.spreadsheet import csv_file, text_cell
from handlers.jielong.chain import CANCELLED, OK, Entry, title_key
from handlers.jielong.repository import Chain, JielongRepository
from handlers.jielong.settings import JielongSettings
from rules.names import shown_name
from rules.normalize import split_command, starts_with_word
from scheduler.common import safe_name

MAX_COMMAND_CHARS = 120  # longer messages are conversation, not a command
MAX_FACT_IDS = 10_000  # ids listed in one action's facts (a WeChat group has at most 500 members)
RULE = "jielong"  # the 接龙统计 answer (its facts are the contract's)
BRACKETS = "「」『』《》【】\"“”'‘’()（）[]"


def parse_command(text: str, s: JielongSettings) -> tuple[str, str] | None:
    """(command, title or "") for a command message, else None."""
    for kind, words in (("stats", s.stats_words), ("export", s.export_words), ("end", s.end_words),
                        ("cancel", s.cancel_words)):
        rest = split_command(text, words)
        if rest is None:
            rest = _bracketed(text, words)
        if rest is not None:
            return kind, rest.strip(BRACKETS + " \u3000").strip()
    return None


def _bracketed(text: str, words: tuple[str, ...]) -> str | None:
    """"接龙统计「周六羽毛球」": the title written on in brackets."""
    stripped = text.strip()
    for word in words:
        if starts_with_word(stripped, word) and stripped[len(word):][:1] in BRACKETS:
            return stripped[len(word):]
    return None


async def run(event: Event, ctx: Context, kind: str, title: str) -> Outcome:
    """Answer one command."""
    assert event.group is not None and event.user is not None
    if kind != "cancel" and not ctx.is_admin:
        note = Note(rule=f"{RULE}/{kind}", reason=f"{kind}: asked by a member who is not an admin; not answered")
        return Outcome(notes=(note,), stop=True)
    if kind == "cancel":  # a member's command: repeated within the cooldown, answered once
        repeated = ctx.repeated(f"{RULE}/cancel" + (f":{title_key(title)}" if title else ""))
        if repeated:
            return Outcome(notes=(repeated,), stop=True)
    s: JielongSettings = ctx.settings.jielong
    chain = await find_chain(ctx, event.group, title, kind)
    if chain is None:
        text = ctx.render(s.unknown_title_reply, title=title) if title else ctx.render(s.none_reply)
        return Outcome(actions=(reply(event, f"{RULE}/none", text, title=title or None),), stop=True)
    repo: JielongRepository = ctx.repo
    entries = await repo.entries(chain.id)
    ended = chain.ended(ctx.now, s.expire_days)
    base = {"title": chain.title, "state": s.ended_state if ended else ""}
    if kind == "stats":
        return Outcome(actions=(await stats_answer(event, ctx, chain, entries, ended),), stop=True)
    if kind == "export":
        return Outcome(actions=(await export(event, ctx, chain, entries, base),), stop=True)
    count = sum(1 for e in entries if e.status == OK)
    if kind == "end":
        if ended:
            text = ctx.render(s.already_ended_reply, **base, count=count)
            return Outcome(actions=(reply(event, f"{RULE}/end", text, chain=chain.id, title=chain.title,
                                          count=count, already=True),), stop=True)
        repo.close(chain.id, ctx.now, event.user)
        text = ctx.render(s.end_reply, **base, count=count)
        return Outcome(actions=(reply(event, f"{RULE}/end", text, chain=chain.id, title=chain.title, count=count),),
                       stop=True)
    return cancel(event, ctx, chain, entries, ended, base)


async def find_chain(ctx: Context, group: str, title: str, kind: str) -> Chain | None:
    """The named chain (the latest with that title), else the group's latest open chain (for 取消接龙 the
    latest open one holding the sender's lines); 统计 and 导出 fall back on the latest ended one."""
    s: JielongSettings = ctx.settings.jielong
    repo: JielongRepository = ctx.repo
    if title:
        found = await repo.chains(group, title_key(title), limit=1)
        return found[0] if found else None
    open_now = await repo.chains(group, open_since=ctx.now - timedelta(days=s.expire_days), limit=s.max_open + 5)
    if kind == "cancel":
        for chain in open_now:
            if any(e.user == ctx.event.user and e.status != CANCELLED for e in await repo.entries(chain.id)):
                return chain
        return open_now[0] if open_now else None
    if open_now or kind == "end":
        return open_now[0] if open_now else None
    latest = await repo.chains(group, limit=1)
    return latest[0] if latest else None


async def stats_answer(event: Event, ctx: Context, chain: Chain, entries: list[Entry], ended: bool) -> Action:
    """The count, the members who signed (list order) and those present who have not, @ the first few."""
    s: JielongSettings = ctx.settings.jielong
    signed = [e for e in entries if e.status == OK]
    members = list(dict.fromkeys(e.user for e in signed))
    skip = {*members, *ctx.settings.admins, *ctx.settings.operators, ctx.config.bot_id}
    present = await ctx.repo.members.roster(chain.group)
    missing = [(u, name) for u, name in present if u not in skip]
    facts: dict[str, Any] = {"title": chain.title, "count": len(signed), "members": members[:MAX_FACT_IDS],
                             "missing": [u for u, _ in missing[:MAX_FACT_IDS]], "missing_count": len(missing),
                             "chain": chain.id, "open": not ended}
    state = s.ended_state if ended else ""
    if not missing:
        text = ctx.render(s.stats_all_reply, title=chain.title, count=len(signed), state=state)
        return reply(event, RULE, text, **facts)
    shown = missing[:s.max_mentions]
    names = " ".join(f"@{shown_name(name, ctx.settings.ad_name_placeholder) or u}" for u, name in shown)
    if len(missing) > len(shown):
        names = f"{names} {ctx.render(s.more_members, count=len(missing) - len(shown))}".strip()
    text = ctx.render(s.stats_reply, title=chain.title, count=len(signed), state=state,
                      missing_count=len(missing), missing=names)
    return reply(event, RULE, text, **facts).model_copy(update={"mentions": tuple(u for u, _ in shown)})


async def export(event: Event, ctx: Context, chain: Chain, entries: list[Entry], base: dict[str, Any]) -> Action:
    """The list as CSV to the asker by direct message; the group hears of it once it went (or did not)."""
    assert event.user is not None
    s: JielongSettings = ctx.settings.jielong
    signed = [e for e in entries if e.status == OK]
    names = dict(await ctx.repo.members.roster(chain.group))
    local = ctx.local_now
    folder = Path(ctx.config.model.bot.reports_dir) / f"jielong-{hashlib.sha1(chain.id.encode()).hexdigest()[:12]}"
    path = write_csv(folder / f"jielong-{safe_name(chain.group)}-{local:%Y-%m-%d}.csv", signed, names, ctx.config.tz,
                     s.csv_header)
    facts = {"chain": chain.id, "title": chain.title, "count": len(signed)}
    sent = reply(event, f"{RULE}/export", ctx.render(s.export_sent_reply, **base, count=len(signed)), **facts)
    failed = reply(event, f"{RULE}/export", ctx.render(s.export_failed_reply, **base, count=len(signed)), **facts,
                   sent=False)
    return Action(action="send_file", rule=f"{RULE}/export", user=event.user, path=str(path),
                  data={"event": event.id, **facts, THEN: [sent.model_dump(mode="json", exclude_none=True)],
                        OTHERWISE: [failed.model_dump(mode="json", exclude_none=True)]})


def write_csv(path: Path, signed: list[Entry], names: dict[str, str | None], tz: Any,
              header: tuple[str, ...]) -> Path:
    """序号, 成员id, 群昵称 (now, else when they signed), 内容, 时间 (local) in UTF-8 with a BOM, so Excel and
    WPS read the Chinese; written whole, then moved into place."""
    def when(t: datetime) -> str:
        return t.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    with csv_file(path, header) as writer:
        for n, e in enumerate(signed, 1):
            writer.writerow((n, text_cell(e.user), text_cell(names.get(e.user) or e.user_name or ""),
                             text_cell(e.content), when(e.added_at)))
    return path


def cancel(event: Event, ctx: Context, chain: Chain, entries: list[Entry], ended: bool,
           base: dict[str, Any]) -> Outcome:
    """The sender's own lines are taken out (kept as cancelled, so later copies that still show them do
    not give them to anyone); a short answer without @."""
    s: JielongSettings = ctx.settings.jielong
    own = [e for e in entries if e.user == event.user and e.status != CANCELLED]
    count = sum(1 for e in entries if e.status == OK)
    facts = {"chain": chain.id, "title": chain.title}
    if ended:
        text = ctx.render(s.already_ended_reply, **base, count=count)
        return Outcome(actions=(reply(event, f"{RULE}/cancel", text, **facts, lines=0, ended=True),), stop=True)
    if not own:
        text = ctx.render(s.cancel_none_reply, **base, count=count)
        return Outcome(actions=(reply(event, f"{RULE}/cancel", text, **facts, lines=0),), stop=True)
    gone = [Entry(e.seq, e.pos, e.user, e.user_name, e.content, CANCELLED, e.added_at, e.event_id) for e in own]
    ctx.repo.save(chain.id, (), gone, ctx.now)
    left = count - sum(1 for e in own if e.status == OK)
    text = ctx.render(s.cancel_reply, **base, count=left, lines=len(own))
    return Outcome(actions=(reply(event, f"{RULE}/cancel", text, **facts, lines=len(own), count=left),), stop=True)
