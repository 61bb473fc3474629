"""Settings of the points shop: the catalogue, the command words and every reply."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator

from rules.normalize import command_form
from rules.schema import Section
from rules.templates import template

_ITEM = ("item", "cost")  # fields of every reply about one item


class ShopItem(Section):
    """One thing members can redeem: its price in points, its stock in each group (None: unlimited)
    and how many one member may redeem (None: no limit; refused redemptions do not count)."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    cost: Annotated[int, Field(gt=0)]
    stock: Annotated[int, Field(ge=0)] | None = None
    per_member_limit: Annotated[int, Field(gt=0)] | None = None


class ShopSettings(Section):
    """积分商城: members redeem points for items; admins confirm (or refuse and refund) each redemption."""

    enabled: bool = True
    items: tuple[ShopItem, ...] = ()
    list_words: tuple[str, ...] = ("积分商城",)
    redeem_words: tuple[str, ...] = ("兑换",)
    mine_words: tuple[str, ...] = ("我的兑换",)
    confirm_words: tuple[str, ...] = ("确认兑换",)
    refuse_words: tuple[str, ...] = ("拒绝兑换",)
    list_title: template() = "🎁 积分商城（发「兑换 名称」兑换）"  # type: ignore[valid-type]
    list_line: template("index", "item", "cost", "stock") = "{index}. {item} {cost} 分（剩 {stock}）"  # type: ignore[valid-type]
    list_empty: template() = "积分商城还没有上架商品"  # type: ignore[valid-type]
    unlimited: str = "不限"  # {stock} of an item without a stock
    redeemed_reply: template(*_ITEM, "balance", "stock") = (  # type: ignore[valid-type]
        "@{user_name} 已兑换「{item}」，扣 {cost} 分，还剩 {balance} 分，等管理员确认发放～"
    )
    not_enough_reply: template(*_ITEM, "balance") = (  # type: ignore[valid-type]
        "@{user_name} 积分不够：「{item}」要 {cost} 分，你有 {balance} 分"
    )
    sold_out_reply: template(*_ITEM) = "@{user_name} 「{item}」已经兑完了"  # type: ignore[valid-type]
    limit_reply: template(*_ITEM, "limit") = "@{user_name} 「{item}」每人限兑 {limit} 次"  # type: ignore[valid-type]
    unknown_item_reply: template("item") = (  # type: ignore[valid-type]
        "@{user_name} 没有「{item}」，发「积分商城」看看有什么"
    )
    confirmed_reply: template(*_ITEM, "target_name") = (  # type: ignore[valid-type]
        "已确认发放 {target_name} 兑换的「{item}」"
    )
    refused_reply: template(*_ITEM, "target_name", "balance") = (  # type: ignore[valid-type]
        "已拒绝 {target_name} 兑换的「{item}」，退回 {cost} 分（现有 {balance} 分）"
    )
    nothing_pending_reply: template("target_name") = "{target_name} 没有待确认的兑换"  # type: ignore[valid-type]
    decide_usage_reply: template() = "用法：确认兑换 @某人 ｜ 拒绝兑换 @某人"  # type: ignore[valid-type]
    unknown_member_reply: template("target_name") = "群里没找到 {target_name}，请 @ 对方再试"  # type: ignore[valid-type]
    mine_title: template() = "@{user_name} 你的兑换："  # type: ignore[valid-type]
    mine_line: template(*_ITEM, "at", "status") = "{at} {item} {cost} 分 {status}"  # type: ignore[valid-type]
    mine_empty: template() = "@{user_name} 你还没有兑换过，发「积分商城」看看～"  # type: ignore[valid-type]
    mine_size: Annotated[int, Field(gt=0, le=50)] = 10
    status_names: dict[str, str] = Field(default_factory=lambda: {
        "pending": "待发放", "confirmed": "已发放", "refused": "已拒绝（已退分）"})

    @field_validator("list_words", "redeem_words", "mine_words", "confirm_words", "refuse_words", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("items")
    @classmethod
    def _unique_names(cls, items: tuple[ShopItem, ...]) -> tuple[ShopItem, ...]:
        names = [command_form(i.name) or i.name.strip() for i in items]  # as members' words are compared
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"item names must be unique: {', '.join(dup)} appears more than once")
        return items

    def item(self, name: str) -> ShopItem | None:
        """The item called `name`, compared as commands are ("电影票！" and "電影票" find 电影票)."""
        wanted = command_form(name)
        return next((i for i in self.items if command_form(i.name) == wanted), None) if wanted else None
