"""The community tools end to end through the real protocol: one bot (Wechaty adapter) against the Node.js
puppet-service gateway on the mock puppet, one conversation in 运营测试群 — a 接龙 copied on and counted, a
班长 vote and its result, a 扣1 roll call counted, points granted and spent in the shop, the redemption
confirmed with a real @. What the members say goes in through the gateway; what is asserted is what the
bot sent to the room (the mock puppet's record) and what it stored. Skips locally without node."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gateway_harness import ROOM, Gateway, started_gateway
from tests.test_wechaty_e2e import CONFIG, ROOM1_MEMBERS, LiveBot

# the e2e config (admin Alice, operator 小红) with a shop of one item; without the group-nickname format (its
# reminders to members who speak would come, merged into the tools' answers, at times that vary); and with the
# account's pace raised (after 5 messages back to back the bot sends one every 1.5 s by default)
NAME_FORMAT = "    name_format: {example: 名字-城市, pattern: '[^-]+-[^-]+'}\n"
OUTBOX = "outbox: {min_interval_seconds: 0.05}"
assert NAME_FORMAT in CONFIG and OUTBOX in CONFIG
TOOLS_CONFIG = CONFIG.replace(NAME_FORMAT, "").replace(
    OUTBOX, "outbox: {min_interval_seconds: 0.05, per_account_per_minute: 600}") + """\
  shop:
    items:
      - {name: 电影票, cost: 300, stock: 5, per_member_limit: 1}
"""
# members beyond the gateway's world, in the room's list before the bot logs in (its roster reads them)
MORE = {"wxid_aqiang": "阿强", "wxid_azhen": "阿珍", "wxid_xiaoli": "小李", "wxid_xiaowang": "小王"}
MEMBERS = {**ROOM1_MEMBERS, **MORE}
ADMIN, BOB, DAVE = "wxid_alice", "wxid_bob", "wxid_dave"
NOT_ADMINS = {"wxid_bob": "老王", "wxid_dave": "Dave", **MORE}  # neither admins nor operators: who can be missing
AT = "\u2005"  # WeChat ends an @name with a four-per-em space


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from started_gateway(tmp_path_factory)


class Room:
    """运营测试群 as the members see it: say something, then read what the bot sent since."""

    def __init__(self, gateway: Gateway, bot: LiveBot) -> None:
        self.gateway, self.bot = gateway, bot
        self.seen = 0  # the bot's messages already read
        self.skipped: list[str] = []  # the bot's room messages before the last answer (since the one before)

    async def say(self, who: str, text: str, mentions: list[str] | None = None) -> str:
        body: dict[str, Any] = {"from": who, "room": ROOM, "text": text}
        if mentions:
            body["mentions"] = mentions
        return (await self.gateway.post("/say", body))["id"]

    async def answer(self, predicate: Callable[[dict[str, Any]], bool], within: float = 10.0) -> dict[str, Any]:
        """The first message the bot sent to the room since the last answer that satisfies `predicate`;
        every message before it (since the last answer) is returned by `skipped` for the test to check."""
        deadline = time.monotonic() + within
        while True:
            sent = [m for m in await self.gateway.get("/sent") if m["room"] == ROOM]
            for n, message in enumerate(sent[self.seen:], self.seen):
                if predicate(message):
                    self.skipped = [m["text"] for m in sent[self.seen:n]]
                    self.seen = n + 1
                    return message
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot sent nothing matching to the room within {within}s: "
                                     f"{[m['text'] for m in sent[self.seen:]]}")
            await asyncio.sleep(0.05)

    async def rows(self, sql: str, *params: object, until: Callable[[list[tuple]], bool] = bool,
                   within: float = 5.0) -> list[tuple]:
        """Rows of the bot's database, polled until `until` holds (writes may be batched)."""
        deadline = time.monotonic() + within
        while True:
            rows = self.bot.rows(sql, *params)
            if until(rows) or time.monotonic() > deadline:
                return rows
            await asyncio.sleep(0.05)


def mentioned(names: dict[str, str]) -> Callable[[str], bool]:
    """Does a text end with exactly these @names (in any order)?"""
    def check(tail: str) -> bool:
        return sorted(tail.split()) == sorted(f"@{name}" for name in names.values())
    return check


def copy(*lines: str) -> str:
    """A 接龙 copy as WeChat lays it out: the mark, the title, the example, the numbered lines."""
    return "\n".join(("#接龙", "周六羽毛球", "例 张三 2人", *lines))


async def test_community_tools_in_one_conversation_through_the_gateway(gateway: Gateway, tmp_path: Path) -> None:
    await gateway.post("/reset")
    await gateway.post("/members", {"room": ROOM, "dirty": False, "members": [
        *ROOM1_MEMBERS, *({"id": uid, "name": name} for uid, name in MORE.items())]})
    started = time.monotonic()
    async with LiveBot(gateway, tmp_path, config=TOOLS_CONFIG) as bot:
        await bot.wait_members(ROOM, MEMBERS)
        room = Room(gateway, bot)
        scenes = {"login and roster": time.monotonic() - started}

        # -- 接龙: 阿强 starts the chain, 阿珍 copies it with her line; the copies get no answer ---------------
        scene = time.monotonic()
        await room.say("wxid_aqiang", copy("1. 阿强"))
        await room.say("wxid_azhen", copy("1. 阿强", "2. 阿珍 +1"))
        await room.say(ADMIN, "接龙统计")
        stats = await room.answer(lambda m: "接龙「周六羽毛球」" in (m["text"] or ""))
        assert room.skipped == []  # nothing before it: the copies themselves were not answered
        head, _, tail = stats["text"].partition("：")
        assert head == "📋 接龙「周六羽毛球」已有 2 人；还有 4 人没接", stats["text"]
        missing = {uid: name for uid, name in NOT_ADMINS.items() if uid not in ("wxid_aqiang", "wxid_azhen")}
        assert mentioned(missing)(tail), stats["text"]
        assert sorted(stats["mentions"]) == sorted(missing)  # real @s: the missing members are notified
        assert await room.rows("select user_id, content from jielong_entries order by pos", until=lambda r: len(r) == 2
                               ) == [("wxid_aqiang", "阿强"), ("wxid_azhen", "阿珍 +1")]
        scenes["接龙"] = time.monotonic() - scene

        # -- 投票: the admin opens a 班长 election, three members vote, the admin ends it ----------------------
        scene = time.monotonic()
        await room.say(ADMIN, "投票 班长竞选 张三 李四")
        opened = await room.answer(lambda m: (m["text"] or "").startswith("📊 投票：班长竞选"))
        assert opened["text"].split("\n")[1:3] == ["1. 张三", "2. 李四"]
        await room.say(BOB, "投1")
        await room.say(DAVE, "投2")
        await room.say("wxid_xiaoli", "投1")
        await room.say(ADMIN, "结束投票")
        result = await room.answer(lambda m: (m["text"] or "").startswith("📊 投票结束"))
        assert result["text"] == ("📊 投票结束：班长竞选\n1. 张三：2 票\n2. 李四：1 票\n"
                                  "🏆 「张三」胜出，2 票（共 3 人投票）")
        assert room.skipped == []  # the votes' confirmations are merged a minute later: nothing before the result
        assert await room.rows("select title, status, winner, closed_by from polls") == [
            ("班长竞选", "closed", "张三", ADMIN)]
        assert await room.rows("select user_id, choice from poll_votes order by user_id") == [
            (BOB, 1), (DAVE, 2), ("wxid_xiaoli", 1)]
        scenes["投票"] = time.monotonic() - scene

        # -- 扣1: the admin's notice opens it, two members answer (1 and a full-width １), one only chats --------
        scene = time.monotonic()
        await room.say(ADMIN, "今晚 8 点开会，收到请扣1")
        await room.say(BOB, "1")
        await room.say("wxid_azhen", "１")
        await room.say("wxid_aqiang", "我有1个问题")  # contains a 1: not an answer
        await room.say(ADMIN, "扣1统计")
        counted = await room.answer(lambda m: (m["text"] or "").startswith("🙋 扣1统计"))
        assert room.skipped == []  # the notice and the answers were not answered
        head, _, tail = counted["text"].partition("：")
        assert head.startswith("🙋 扣1统计（进行中，") and head.endswith(" 截止）"), counted["text"]
        missing = {uid: name for uid, name in NOT_ADMINS.items() if uid not in (BOB, "wxid_azhen")}
        assert tail.startswith("已有 2 人扣1，还有 4 人没扣："), counted["text"]
        assert mentioned(missing)(tail.partition("没扣：")[2]), counted["text"]
        assert sorted(counted["mentions"]) == sorted(missing)
        assert await room.rows("select user_id from roll_call_answers order by answered_at") == [
            (BOB,), ("wxid_azhen",)]
        scenes["扣1"] = time.monotonic() - scene

        # -- the shop: the admin grants 阿珍 points (a real @), she redeems, the admin confirms (a real @) -------
        scene = time.monotonic()
        await room.say(ADMIN, f"加分 @阿珍{AT}400 活动奖励", mentions=["wxid_azhen"])
        granted = await room.answer(lambda m: (m["text"] or "").startswith("已给 阿珍 加 400 分（活动奖励）"))
        first, *more = granted["text"].split("\n")  # a level-up may follow in the same message
        before = int(first.rpartition("现有 ")[2].removesuffix(" 分"))
        assert before >= 400 and all("阿珍" in line for line in more), granted["text"]  # and what she earned
        await room.say("wxid_azhen", "兑换 电影票")
        redeemed = await room.answer(lambda m: "已兑换「电影票」" in (m["text"] or ""))
        assert redeemed["text"] == f"@阿珍 已兑换「电影票」，扣 300 分，还剩 {before - 300} 分，等管理员确认发放～"
        assert redeemed["mentions"] == ["wxid_azhen"]
        await room.say(ADMIN, f"确认兑换 @阿珍{AT}", mentions=["wxid_azhen"])
        confirmed = await room.answer(lambda m: "已确认发放" in (m["text"] or ""))
        assert confirmed["text"] == "已确认发放 阿珍 兑换的「电影票」"
        assert await room.rows("select user_id, item, cost, status, decided_by from shop_redemptions",
                               until=lambda r: r and r[0][3] == "confirmed") == [
            ("wxid_azhen", "电影票", 300, "confirmed", ADMIN)]
        assert await room.rows("select balance from points_balances where group_id = ? and user_id = ?",
                               ROOM, "wxid_azhen", until=lambda r: r == [(before - 300,)]) == [(before - 300,)]
        scenes["积分商城"] = time.monotonic() - scene
    print("community tools through the gateway: " + ", ".join(f"{k} {v:.2f}s" for k, v in scenes.items()))
