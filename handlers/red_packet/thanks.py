"""The thank-you for red packets: the red packets of a group within `red_packet.thanks_window_seconds` of
the first one get one message that mentions each sender (at most `thanks_max_mentions`, the rest as
`thanks_more`, "等 N 人").

The handler runs in the AUTO_REPLY band, after the ads feature (MODERATION): a red packet that settled
an ad was thanked there (rule ads/<check>, `excused: true`), and the ads handler does not stop the
chain (the points award must still run), so this handler asks the ads offences whether this red packet
excused one and then leaves it out (a note says so). Any other red packet is queued (table
`red_packet_queue`, one row per red packet) and the timer "thanks:<group>" is set; when it fires the
queue is taken and thanked in one message (rule `red_packet`, data `members`, `events`).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from bot.context import Context
from bot.events import Action, Event, Note, Outcome, Timer, reply
from bot.feature import Band, Handler, JobContext
from handlers.red_packet.repository import Queued, RedPacketRepository
from handlers.red_packet.settings import RedPacketSettings
from rules.names import shown_name
from scheduler.common import fill

RULE = "red_packet"
TIMER = "thanks"
MAX_TAKEN = 500  # red packets one thank-you takes; more (a frenzy) wait for the next window


def thanks_timer(group: str, group_name: str | None, due: Any) -> Timer:
    """The timer that closes the group's window ("thanks:<group>"; a long id is hashed to fit the key)."""
    key = f"thanks:{group}"
    if len(key) > 128:
        key = "thanks:#" + hashlib.sha1(group.encode()).hexdigest()
    return Timer(name=TIMER, key=key, due=due, data={"group": group, "group_name": group_name})


async def handle(event: Event, ctx: Context) -> Outcome | None:
    assert event.group is not None and event.user is not None
    settings: RedPacketSettings = ctx.settings.red_packet
    if not settings.thanks:
        return Outcome(notes=(Note(rule=RULE, reason="红包感谢已关闭（red_packet.thanks 为空）"),))
    check = await ctx.repo.excused_ad(event.group, event.user, event.id)
    if check is not None:
        return Outcome(notes=(Note(rule=RULE, reason=f"这个红包抵了一次广告，ads/{check} 已经感谢过，不再重复感谢",
                                   data={"excused": f"ads/{check}"}),))
    window = settings.thanks_window_seconds
    if window == 0:
        text = ctx.render(settings.thanks, count=1, packets=1)
        return Outcome(actions=(reply(event, RULE, text, mention=True, members=[event.user], events=[event.id],
                                      more=0),))
    ctx.repo.queue(event.id, event.group, event.user, event.user_name, ctx.now)
    note = Note(rule=RULE, reason=f"红包感谢已排队：{window} 秒内的红包合并成一条感谢")
    due = ctx.now + timedelta(seconds=window)
    return Outcome(notes=(note,), timers=(thanks_timer(event.group, event.group_name, due),))


async def fire(ctx: JobContext, timer: Timer) -> list[Action]:
    """The window closed: one thank-you for the red packets queued in the group (or none)."""
    group, group_name = timer.data["group"], timer.data.get("group_name")
    repo: RedPacketRepository = ctx.repo
    taken = await repo.take(group, MAX_TAKEN)
    runtime = ctx.config.group(group, group_name)
    settings: RedPacketSettings = runtime.settings.red_packet
    if len(taken) == MAX_TAKEN:  # maybe more: the next window takes them
        ctx.timers.append(thanks_timer(group, group_name,
                                       ctx.clock.now() + timedelta(seconds=max(1, settings.thanks_window_seconds))))
    if not taken:
        return []
    if not settings.enabled or not settings.thanks:
        ctx.note(f"红包感谢已关闭：{len(taken)} 个排队的红包不再感谢")
        return []
    senders: dict[str, Queued] = {}
    for q in taken:
        senders.setdefault(q.user, q)
    known = await ctx.members.members_among(group, list(senders))
    hidden = runtime.settings.ad_name_placeholder
    names = []
    for user, q in senders.items():
        member = known.get(user)
        name = member.display_name if member is not None and member.display_name else q.user_name
        names.append(shown_name(name or user, hidden) or user)
    cap = settings.thanks_max_mentions
    mentioned = list(senders)[:cap]
    more = len(senders) - len(mentioned)
    who = " @".join(names[:cap])
    if more:
        who += " " + fill(ctx, settings.thanks_more, group_name or group, runtime.settings, count=more)
    text = fill(ctx, settings.thanks, group_name or group, runtime.settings, user_name=who, count=len(senders),
                packets=len(taken))
    facts = {"members": list(senders), "events": [q.event_id for q in taken], "more": more}
    return [Action(action="send", rule=RULE, group=group, text=text, mentions=tuple(mentioned), data=facts)]


def _matches(event: Event, ctx: Context) -> bool:
    return (event.type == "red_packet" and event.group is not None and event.user is not None
            and ctx.group is not None and ctx.settings.red_packet.enabled)


# after ads (MODERATION), before the points award: a red packet that settled an ad is known by then
HANDLER = Handler("red_packet", Band.AUTO_REPLY, handle, matches=_matches, order=20)
