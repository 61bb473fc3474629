"""The facts of a roll call (who answered, who present has not) and the summary the operators get by
direct message when its window closes (the timer "end")."""

from __future__ import annotations

import hashlib
from typing import Any

from bot.events import Action, Timer
from bot.feature import JobContext
from handlers.roll_call.repository import Call, RollCallRepository
from rules.names import shown_name
from rules.schema import GroupSettings
from scheduler.common import fill, to_operators

TIMER = "end"
RULE = "roll_call"
MAX_FACT_IDS = 10_000  # ids listed in one action's facts (a WeChat group has at most 500 members)


def end_timer(call: Call, group_name: str | None) -> Timer:
    """The timer that closes the roll call (its key names the call, so a new one after it has its own)."""
    return Timer(name=TIMER, key="end:" + hashlib.sha1(f"{call.group}\n{call.id}".encode()).hexdigest(),
                 due=call.ends_at, data={"group": call.group, "group_name": group_name, "call": call.id})


async def facts(repo: RollCallRepository, call: Call, settings: GroupSettings, bot_id: str
                ) -> tuple[list[str], list[tuple[str, str | None]]]:
    """(ids who answered, first first; (id, name) of the members present who have not — not the bot,
    the admins or the operators)."""
    answered = await repo.answered(call.id)
    skip = {*answered, *settings.admins, *settings.operators, bot_id}
    return answered, [(u, name) for u, name in await repo.members.roster(call.group) if u not in skip]


def fact_data(call: Call, answered: list[str], missing: list[tuple[str, str | None]], is_open: bool) -> dict[str, Any]:
    """The `data` of a roll call's answer and summary (the contract's `answered` and `missing`)."""
    return {"answered": answered[:MAX_FACT_IDS], "missing": [u for u, _ in missing[:MAX_FACT_IDS]],
            "count": len(answered), "missing_count": len(missing), "call": call.id, "open": is_open}


def names(missing: list[tuple[str, str | None]], limit: int, placeholder: str, sep: str, at: str = "") -> str:
    """The first `limit` names (an ad-like name as `placeholder`), `sep`-joined."""
    return sep.join(f"{at}{shown_name(name, placeholder) or u}" for u, name in missing[:limit])


async def end(ctx: JobContext, timer: Timer) -> list[Action]:
    """The window closed: the roll call ends and the operators (else the admins) get its summary."""
    repo: RollCallRepository = ctx.repo
    group, group_name = timer.data["group"], timer.data.get("group_name")
    call = await repo.call(timer.data["call"])
    if call is None or call.closed_at is not None:
        ctx.note(f"roll call {timer.data['call']} in {group}: gone or closed already; no summary")
        return []
    repo.close(call, ctx.clock.now())
    settings = ctx.config.group(group, group_name).settings
    s = settings.roll_call
    answered, missing = await facts(repo, call, settings, ctx.config.bot_id)
    ctx.note(f"roll call in {group} ended: {len(answered)} answered, {len(missing)} not")
    if not settings.report_to:
        ctx.note(f"group {group}: no operators or admins configured; roll call summary not sent")
        return []
    listed = names(missing, s.summary_max_names, settings.ad_name_placeholder, "、")
    if len(missing) > s.summary_max_names:
        listed += fill(ctx, s.more_members, group_name, settings, count=len(missing) - s.summary_max_names)
    opened = call.opened_at.astimezone(ctx.config.tz).strftime("%m-%d %H:%M")
    template = s.summary_text if missing else s.summary_all_text
    text = fill(ctx, template, group_name or group, settings, count=len(answered), missing_count=len(missing),
                missing=listed, state=s.ended_state, opened=opened, text=call.text[:40])
    return to_operators(settings, RULE, text=text, group=group, **fact_data(call, answered, missing, False))
