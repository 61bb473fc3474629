"""The shop handler: 积分商城 (the catalogue with what is left), 兑换 名称, 我的兑换, and the admins'
确认兑换 @成员 / 拒绝兑换 @成员."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.events import Event, Note, Outcome, reply
from bot.feature import Band, Handler
from handlers.shop.settings import ShopItem, ShopSettings
from rules.normalize import command_form, command_heads, command_words, head, split_command, starts_with_word

MAX_COMMAND_CHARS = 100  # longer messages are conversation, not a shop command
MAX_WORD_CHARS = 40  # 积分商城 and 我的兑换 are whole messages: longer ones are not compared (as for 签到)
RULE = "shop"


def _left(item: ShopItem, sold: dict[str, int]) -> int | None:
    return None if item.stock is None else max(0, item.stock - sold.get(item.name, 0))


def _facts(item: ShopItem | None, **extra: Any) -> dict[str, Any]:
    return {"item": item.name if item else None, "cost": item.cost if item else None, **extra}


async def catalogue(event: Event, ctx: Context) -> Outcome:
    assert event.group is not None
    shop: ShopSettings = ctx.settings.shop
    if not shop.items:
        return Outcome(actions=(reply(event, RULE, ctx.render(shop.list_empty), items=[]),), stop=True)
    sold = await ctx.repo.sold(event.group)
    lines = [ctx.render(shop.list_title)]
    for n, item in enumerate(shop.items, 1):
        left = _left(item, sold)
        lines.append(ctx.render(shop.list_line, index=n, item=item.name, cost=item.cost,
                                stock=shop.unlimited if left is None else left))
    return Outcome(actions=(reply(event, RULE, "\n".join(lines), items=[
        [i.name, i.cost, _left(i, sold)] for i in shop.items]),), stop=True)


async def redeem(event: Event, ctx: Context, wanted: str) -> Outcome:
    assert event.group is not None and event.user is not None
    shop: ShopSettings = ctx.settings.shop
    item = shop.item(wanted)
    if item is None:
        if not wanted:
            return await catalogue(event, ctx)
        text = ctx.render(shop.unknown_item_reply, item=wanted[:30])
        return Outcome(actions=(reply(event, RULE, text, mention=True, **_facts(None), error="unknown item"),),
                       stop=True)
    if item.per_member_limit is not None:
        taken = await ctx.repo.redeemed_count(event.group, event.user, item.name)
        if taken >= item.per_member_limit:
            text = ctx.render(shop.limit_reply, item=item.name, cost=item.cost, limit=item.per_member_limit)
            return Outcome(actions=(reply(event, RULE, text, mention=True, **_facts(item), error="limit"),),
                           stop=True)
    done = await ctx.repo.redeem(event.group, event.user, item.name, item.cost, item.stock, event.ts, event.id)
    facts = _facts(item, balance=done.balance, stock=done.stock_left)
    if done.status == "pending":
        text = ctx.render(shop.redeemed_reply, item=item.name, cost=item.cost, balance=done.balance,
                          stock=shop.unlimited if done.stock_left is None else done.stock_left)
        return Outcome(actions=(reply(event, RULE, text, mention=True, **facts, status="pending"),), stop=True)
    template = shop.not_enough_reply if done.status == "poor" else shop.sold_out_reply
    text = ctx.render(template, item=item.name, cost=item.cost, balance=done.balance)
    return Outcome(actions=(reply(event, RULE, text, mention=True, **facts, error=done.status),), stop=True)


async def mine(event: Event, ctx: Context) -> Outcome:
    assert event.group is not None and event.user is not None
    shop: ShopSettings = ctx.settings.shop
    rows = await ctx.repo.redemptions_of(event.group, event.user, shop.mine_size)
    if not rows:
        return Outcome(actions=(reply(event, RULE, ctx.render(shop.mine_empty), mention=True, entries=0),),
                       stop=True)
    lines = [ctx.render(shop.mine_title)]
    lines += [ctx.render(shop.mine_line, item=r["item"], cost=r["cost"],
                         at=r["ts"].astimezone(ctx.config.tz).strftime("%m-%d %H:%M"),
                         status=shop.status_names.get(r["status"], r["status"])) for r in rows]
    return Outcome(actions=(reply(event, RULE, "\n".join(lines), mention=True, entries=len(rows)),), stop=True)


async def decide(event: Event, ctx: Context, rest: str, status: str) -> Outcome:
    assert event.group is not None and event.user is not None
    shop: ShopSettings = ctx.settings.shop
    if not ctx.is_admin:
        return Outcome(notes=(Note(rule=RULE, reason=f"{status} asked by a member who is not an admin"),), stop=True)
    target, name, _left_text = await ctx.mentioned_member(rest)
    if target is None and name is not None:
        text = ctx.ambiguous_reply(name) or ctx.render(shop.unknown_member_reply, target_name=name)
        return Outcome(actions=(reply(event, RULE, text, error="unknown member"),), stop=True)
    if target is None:
        return Outcome(actions=(reply(event, RULE, ctx.render(shop.decide_usage_reply), error="usage"),), stop=True)
    done = await ctx.repo.decide(event.group, target, status, event.user, event.ts, event.id)
    if done is None:
        text = ctx.render(shop.nothing_pending_reply, target_name=name)
        return Outcome(actions=(reply(event, RULE, text, target=target, error="nothing pending"),), stop=True)
    item = shop.item(done.item)
    left = _left(item, await ctx.repo.sold(event.group)) if item else None
    template = shop.confirmed_reply if status == "confirmed" else shop.refused_reply
    text = ctx.render(template, item=done.item, cost=done.cost, target_name=name, balance=done.balance)
    return Outcome(actions=(reply(event, RULE, text, item=done.item, cost=done.cost, balance=done.balance,
                                  stock=left, status=status, target=target),), stop=True)


async def handle(event: Event, ctx: Context) -> Outcome | None:
    shop: ShopSettings = ctx.settings.shop
    form = command_form(event.text) if len(event.text) <= MAX_WORD_CHARS else ""
    for words, key, answer in ((shop.list_words, "shop/list", catalogue), (shop.mine_words, "shop/mine", mine)):
        if form in command_words(words):  # a member's command: repeated within a minute, answered once
            repeated = ctx.repeated(key)
            return Outcome(notes=(repeated,), stop=True) if repeated else await answer(event, ctx)
    for words, status in ((shop.confirm_words, "confirmed"), (shop.refuse_words, "refused")):
        rest = split_command(event.text, words)
        if rest is not None:
            return await decide(event, ctx, rest, status)
    rest = _redeem_rest(event.text, shop)
    if rest is not None:
        return await redeem(event, ctx, rest)
    return None


def _redeem_rest(text: str, shop: ShopSettings) -> str | None:
    """What follows 兑换: after a space ("兑换 电影票"), or an item's name written on ("兑换电影票")."""
    rest = split_command(text, shop.redeem_words)
    if rest is not None:
        return rest
    stripped = text.strip()
    for word in shop.redeem_words:
        if starts_with_word(stripped, word) and shop.item(stripped[len(word):]) is not None:
            return stripped[len(word):]
    return None


def _matches(event: Event, ctx: Context) -> bool:
    """Cheap on ordinary chat: most messages are turned away by their length or first character."""
    text = event.text if event.type == "text" else ""
    if not text or len(text) > MAX_COMMAND_CHARS or event.group is None or event.user is None or ctx.group is None:
        return False
    shop: ShopSettings = ctx.settings.shop
    if not shop.enabled or not shop.items:  # no catalogue, no shop: its words stay ordinary chat
        return False
    first = head(text)
    if len(text) <= MAX_WORD_CHARS and first in command_heads(shop.list_words, shop.mine_words):
        form = command_form(text)
        if form in command_words(shop.list_words) or form in command_words(shop.mine_words):
            return True
    if first not in command_heads(shop.redeem_words, shop.confirm_words, shop.refuse_words):
        return False
    return (_redeem_rest(text, shop) is not None
            or any(split_command(text, words) is not None for words in (shop.confirm_words, shop.refuse_words)))


HANDLER = Handler("shop", Band.COMMAND, handle, matches=_matches, order=40)
