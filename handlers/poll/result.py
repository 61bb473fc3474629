"""The end of a poll (the result, at the deadline or on an admin's 结束投票) and the merged confirmations.

Both run from timers as well as from the handler, so texts are made with a `Fill` (ctx.render in a
handler, scheduler.common.fill in a timer). Timers: "end" (key "end:<hash of the poll>", due at the
deadline: closes the poll if it is still open) and "confirm" (key "confirm:<group>", due
`confirm_seconds` after the first unconfirmed vote: one message mentioning the voters since).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.events import Action, Timer
from bot.feature import JobContext
from handlers.poll.repository import Poll, PollRepository
from handlers.poll.settings import PollSettings
from rules.names import shown_name
from scheduler.common import fill

RULE = "poll"  # the result (replay-format.md: data counts, winner, voters)
END, CONFIRM = "end", "confirm"
Fill = Callable[..., str]


def _key(prefix: str, value: str) -> str:
    key = f"{prefix}:{value}"
    return key if len(key) <= 128 else f"{prefix}:#" + hashlib.sha1(value.encode()).hexdigest()


def end_timer(poll: Poll, group_name: str | None) -> Timer:
    """The timer that ends `poll` at its deadline."""
    return Timer(name=END, key=_key("end", hashlib.sha1(poll.id.encode()).hexdigest()), due=poll.deadline,
                 data={"group": poll.group, "group_name": group_name, "poll": poll.id})


def confirm_timer(group: str, group_name: str | None, due: datetime) -> Timer:
    """The timer that closes the group's confirmation window (a pending one is kept: the window's first vote)."""
    return Timer(name=CONFIRM, key=_key("confirm", group), due=due, data={"group": group, "group_name": group_name})


def when(at: datetime, tz: Any, settings: PollSettings) -> str:
    return at.astimezone(tz).strftime(settings.time_format)


async def close(repo: PollRepository, poll: Poll, at: datetime, by: str | None, settings: PollSettings,
                render: Fill) -> tuple[str, dict[str, Any]] | None:
    """Close the poll (None: it was closed meanwhile): the result's text and facts. Every option is
    counted (0 when nobody chose it); the winner is the option with the most votes, None on a tie at the
    top (or when nobody voted); `voters` is how many members' votes count (each member's last vote)."""
    if await repo.take_open(poll.id) is None:
        return None
    tally = await repo.tally(poll)
    counts = {option: tally.get(n, 0) for n, option in enumerate(poll.options, 1)}
    top = max(counts.values())
    leaders = [o for o, v in counts.items() if v == top]
    winner = leaders[0] if top > 0 and len(leaders) == 1 else None
    voters = sum(counts.values())
    repo.closed(poll, at, by, counts, winner)
    lines = "\n".join(render(settings.result_line, index=n, option=o, votes=v)
                      for n, (o, v) in enumerate(counts.items(), 1))
    if voters == 0:
        outcome = render(settings.no_votes_text)
    elif winner is not None:
        outcome = render(settings.winner_text, option=winner, votes=top)
    else:
        outcome = render(settings.tie_text, options="、".join(f"「{o}」" for o in leaders), votes=top)
    text = render(settings.result_text, title=poll.title, lines=lines, outcome=outcome, voters=voters)
    facts = {"poll": poll.id, "title": poll.title, "counts": counts, "winner": winner, "voters": voters,
             "ended_by": by}
    return text, facts


async def end(ctx: JobContext, timer: Timer) -> list[Action]:
    """The deadline: the result, unless an admin ended the poll before."""
    group, group_name = timer.data["group"], timer.data.get("group_name")
    repo: PollRepository = ctx.repo
    poll = await repo.open_by_id(timer.data["poll"])
    if poll is None:
        ctx.note(f"poll {timer.data['poll']} was ended before its deadline: nothing to do")
        return []
    settings = ctx.config.group(group, group_name).settings

    def render(template: str, **extra: Any) -> str:
        return fill(ctx, template, group_name or group, settings, **extra)

    done = await close(repo, poll, ctx.clock.now(), None, settings.poll, render)
    if done is None:
        ctx.note(f"poll {poll.id} was ended meanwhile")
        return []
    text, facts = done
    return [Action(action="send", rule=RULE, group=group, text=text, data=facts)]


def mention_line(names: list[tuple[str, str]], cap: int, more: Fill, hidden: str) -> tuple[str, list[str]]:
    """"@A @B 等 N 人" for (id, name) pairs: at most `cap` mentioned; the ids mentioned."""
    shown = names[:cap]
    text = " ".join(f"@{shown_name(name, hidden)}" for _, name in shown)
    if len(names) > cap:
        text += " " + more(count=len(names) - cap)
    return text, [user for user, _ in shown]


async def confirm(ctx: JobContext, timer: Timer) -> list[Action]:
    """The window closed: one message confirming the votes of the group's open poll since the last one."""
    group, group_name = timer.data["group"], timer.data.get("group_name")
    repo: PollRepository = ctx.repo
    settings = ctx.config.group(group, group_name).settings
    poll = await repo.open_poll(group)
    if poll is None:
        ctx.note("no poll open any more: its result stood for the confirmations")
        return []
    taken = await repo.take_unconfirmed(poll)
    actions: list[Action] = []
    voters = list(dict.fromkeys(v.user for v in taken))
    if voters:
        known = await ctx.members.members_among(group, voters)
        names = [(u, (known[u].display_name if u in known else None) or u) for u in voters]

        def render(template: str, **extra: Any) -> str:
            return fill(ctx, template, group_name or group, settings, **extra)

        who, mentioned = mention_line(names, settings.poll.max_mentions,
                                      lambda **kw: render(settings.poll.confirm_more, **kw),
                                      settings.ad_name_placeholder)
        text = render(settings.poll.confirm_text, voters=who, count=len(voters))
        actions.append(Action(action="send", rule=f"{RULE}/confirm", group=group, text=text,
                              mentions=tuple(mentioned), data={"poll": poll.id, "members": voters,
                                                               "events": [v.event_id for v in taken]}))
    if repo.voted_since_take(group):  # votes made while this was written: the next window takes them
        due = ctx.clock.now() + timedelta(seconds=max(1, settings.poll.confirm_seconds))
        ctx.timers.append(confirm_timer(group, group_name, due))
    return actions
