"""The keywords handler: the first rule that matches answers, once per cooldown per group."""

from __future__ import annotations

from bot.context import Context
from bot.events import Event, Note, Outcome, reply
from bot.feature import Band, Handler


async def handle(event: Event, ctx: Context) -> Outcome | None:
    assert ctx.group is not None and event.type == "text" and event.group is not None
    hit = ctx.group.compiled["keywords"].first_match(event.text)
    if hit is None:
        return None
    rule_name = f"keywords/{hit.rule.label}"
    if hit.rule.cooldown_seconds > 0:
        last = await ctx.repo.last_rule_use(event.group, rule_name)
        if last is not None and (ctx.now - last).total_seconds() < hit.rule.cooldown_seconds:
            left = hit.rule.cooldown_seconds - (ctx.now - last).total_seconds()
            return Outcome(notes=(Note(rule=rule_name, reason=f"cooldown: answered {last.isoformat()}, "
                                                               f"{left:.0f}s left"),), stop=True)
    text = ctx.render(hit.rule.reply, text=event.text, matched=hit.matched)
    action = reply(event, rule_name, text, mention=hit.rule.mention, matched=hit.matched, mode=hit.rule.match)
    return Outcome(actions=(action,), stop=True)


def _matches(event: Event, ctx: Context) -> bool:
    return event.type == "text" and ctx.group is not None and len(ctx.group.compiled["keywords"]) > 0


HANDLER = Handler("keywords", Band.AUTO_REPLY, handle, matches=_matches, order=10)
