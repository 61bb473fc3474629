"""The lottery alone: who can win (members who spoke in the last days, never admins, operators or the bot),
the pool fixed at the command, the seed fixed by the messages after it (so the winners change with their
ids and nobody can know them before), the timer that draws with fewer messages, fewer members than
winners, nobody to draw, one pending draw per group, and who may ask."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.events import Event, Outcome
from handlers import lottery
from handlers.lottery.draw import pool_digest, seed_of, winners_of
from tests.conftest import BASIC_CONFIG, T0, EventFactory
from tests.features.conftest import OpenHarness
from tests.features.harness import FeatureHarness, texts

MEMBERS = {f"u{n}": f"成员{n}" for n in range(1, 9)}


def seen_lately(h: FeatureHarness, make_event: EventFactory, members: dict[str, str] = MEMBERS) -> None:
    """These members (and the admin, the operator and the bot) spoke in the group today."""
    for user, name in {**members, "admin1": "群主", "op1": "运营", "bot": "小管家"}.items():
        h.seen(make_event(text="大家好", user=user, user_name=name, after=0.1))


async def command(h: FeatureHarness, make_event: EventFactory, text: str, user: str = "admin1",
                  **kw: str) -> Outcome | None:
    event = make_event(text=text, user=user, user_name="群主", **kw)
    outcome = await h.call(event, "lottery")
    h.settle(event, outcome)
    return outcome


async def message(h: FeatureHarness, make_event: EventFactory, user: str = "u1", **kw: str
                  ) -> tuple[Event, Outcome | None]:
    event = make_event(text="来了来了", user=user, user_name=MEMBERS.get(user, user), **kw)
    outcome = await h.call(event, "lottery_seed")
    h.settle(event, outcome)
    return event, outcome


async def test_the_pool_is_the_members_who_spoke_lately_never_admins_operators_or_the_bot(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(lottery.FEATURE)
    seen_lately(h, make_event)
    h.seen(make_event(text="好久不见", user="old", user_name="老朋友", ts=(T0 - timedelta(days=10)).isoformat()))
    h.seen(make_event("leave", user="u8", user_name="成员8"))  # left: cannot win
    started = await command(h, make_event, "抽奖 2")
    assert started is not None and started.stop and started.actions[0].rule == "lottery/started"
    draw = await h.repo.pending("g1")
    assert draw is not None and list(draw.pool) == [f"u{n}" for n in range(1, 8)]  # sorted ids
    facts = started.actions[0].data
    assert facts["pool"] == 7 and facts["count"] == 2 and facts["days"] == 7 and facts["seed_messages"] == 3
    assert facts["pool_digest"] == pool_digest(draw.pool)
    assert texts(started)[0].startswith("🎁 抽奖开始：最近 7 天发过言的 7 位成员里抽 2 人")
    h2 = await harness(lottery.FEATURE)
    seen_lately(h2, make_event)
    h2.seen(make_event(text="好久不见", user="old", user_name="老朋友", ts=(T0 - timedelta(days=10)).isoformat()))
    wider = await command(h2, make_event, "抽奖 2 14天")
    assert wider is not None and wider.actions[0].data["pool"] == 9  # 老朋友 spoke 10 days ago; 成员8 is here


async def test_the_next_messages_fix_the_seed_and_the_last_one_draws(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(lottery.FEATURE)
    seen_lately(h, make_event)
    started = await command(h, make_event, "🎁抽奖3人")  # after an emoji, written on
    assert started is not None
    cmd_id = started.actions[0].data["draw"]
    first, noted = await message(h, make_event, "u1")
    assert noted is not None and noted.actions == () and noted.notes[0].rule == "lottery/seed"
    second, _ = await message(h, make_event, "admin1")  # anyone but the bot: the admin too
    third, drawn = await message(h, make_event, "u5")
    assert drawn is not None
    [result] = drawn.actions
    seed = seed_of(cmd_id, [first.id, second.id, third.id])
    pool = [f"u{n}" for n in range(1, 9)]
    assert result.rule == "lottery" and result.data["event"] == third.id and result.reply_to is None
    assert result.data["seed"] == seed and result.data["pool"] == 8
    assert result.data["winners"] == winners_of(seed, pool, 3) and len(result.data["winners"]) == 3
    assert result.data["seed_events"] == [cmd_id, first.id, second.id, third.id]
    assert result.mentions == tuple(result.data["winners"])
    assert seed in (result.text or "") and pool_digest(pool)[:16] in (result.text or "")
    for winner in result.data["winners"]:
        assert f"@{MEMBERS[winner]}" in (result.text or "")
    assert await h.repo.pending("g1") is None
    _, nothing = await message(h, make_event, "u2")  # drawn: later messages change nothing
    assert nothing is None
    stored = await h.repo.stored(cmd_id)
    assert stored is not None and stored["status"] == "drawn" and stored["seed"] == seed
    assert stored["seeds"] == [first.id, second.id, third.id] and stored["winners"] == result.data["winners"]


async def test_the_winners_change_with_the_ids_of_the_messages_after_the_command(
        harness: OpenHarness, make_event: EventFactory) -> None:
    """The admin fixes the pool and the command, not the ids the platform gives the next messages: the
    same command over the same pool draws other winners when those ids differ."""
    drawn = []
    for run in range(5):
        h = await harness(lottery.FEATURE)
        seen_lately(h, make_event)
        start = make_event(text="抽奖 2", user="admin1", id="draw-1")
        assert await h.call(start, "lottery") is not None
        outcome = None
        for n in range(3):
            _, outcome = await message(h, make_event, "u1", id=f"msg-{run}-{n}")
        assert outcome is not None
        winners = outcome.actions[0].data["winners"]
        assert winners == winners_of(seed_of("draw-1", [f"msg-{run}-{n}" for n in range(3)]), MEMBERS, 2)
        drawn.append(tuple(winners))
    assert len(set(drawn)) > 1, drawn


async def test_the_timer_draws_with_the_messages_that_came_and_is_idle_after_a_draw(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(lottery.FEATURE)
    seen_lately(h, make_event)
    started = await command(h, make_event, "抽奖 1")
    assert started is not None
    [timer] = started.timers
    assert timer.name == "draw" and timer.due == make_event.t + timedelta(minutes=10)
    only, _ = await message(h, make_event, "u3")
    actions, notes, _ = await h.fire(timer)
    [result] = actions
    seed = seed_of(started.actions[0].data["draw"], [only.id])
    assert result.rule == "lottery" and "event" not in result.data and result.data["seed_messages"] == 1
    assert result.data["seed"] == seed and result.data["winners"] == winners_of(seed, MEMBERS, 1)
    assert "之后 1 条消息" in (result.text or "") and "1 of the 3 awaited messages" in notes[0]
    _, later = await message(h, make_event, "u4")
    assert later is None
    h2 = await harness(lottery.FEATURE)
    seen_lately(h2, make_event)
    again = await command(h2, make_event, "抽奖 1")
    assert again is not None
    for user in ("u1", "u2", "u3"):
        await message(h2, make_event, user)
    actions, notes, _ = await h2.fire(again.timers[0])
    assert actions == [] and "drawn before its timer" in notes[0]


async def test_fewer_members_than_winners_all_win_and_nobody_to_draw_is_said(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(lottery.FEATURE)
    seen_lately(h, make_event, {"u1": "小明", "u2": "小红"})
    started = await command(h, make_event, "抽奖 5")
    assert started is not None and started.actions[0].data["pool"] == 2
    for _ in range(3):
        _, outcome = await message(h, make_event, "op1")
    assert outcome is not None
    [result] = outcome.actions
    assert sorted(result.data["winners"]) == ["u1", "u2"] and result.data["all_win"] is True
    assert "（符合条件的只有 2 人，全部中奖）" in (result.text or "")
    h2 = await harness(lottery.FEATURE)
    seen_lately(h2, make_event, {})  # only the admin, the operator and the bot spoke
    empty = await command(h2, make_event, "抽奖 1")
    assert empty is not None and empty.actions[0].rule == "lottery/empty" and empty.timers == ()
    assert texts(empty) == ["最近 7 天没有可以中奖的成员（管理员、运营和机器人不参加），这次不抽了"]
    assert await h2.repo.pending("g1") is None


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_one_pending_draw_per_group_and_only_admins_may_ask(harness: OpenHarness,
                                                                 make_event: EventFactory) -> None:
    h = await harness(lottery.FEATURE, BASIC_CONFIG + "  lottery: {max_winners: 10}\n")
    seen_lately(h, make_event)
    assert await command(h, make_event, "抽奖 2") is not None
    busy = await command(h, make_event, "抽奖 1", user="op1")
    assert busy is not None and busy.actions[0].rule == "lottery/busy" and busy.timers == ()
    assert "8 人里抽 2 人" in texts(busy)[0]
    refused = await command(h, make_event, "抽奖 1", user="u1")
    assert refused is not None and refused.actions[0].rule == "lottery/refused"
    again = await command(h, make_event, "抽奖 1", user="u1")
    assert again is not None and again.actions == () and "refused before" in again.notes[0].reason
    assert await command(h, make_event, "抽奖什么时候开始？", user="u2") is None  # conversation
    assert await command(h, make_event, "抽奖", user="u2") is None
    for bad in ("抽奖 0", "抽奖 11", "抽奖 3 400天", "抽奖 3 个 什么"):
        usage = await command(h, make_event, bad, group="g2")
        assert usage is not None and usage.actions[0].rule == "lottery/usage", bad


async def test_the_result_mentions_at_most_max_mentions_winners_and_names_the_others(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(lottery.FEATURE, BASIC_CONFIG + "  lottery: {max_mentions: 2, seed_messages: 1}\n")
    seen_lately(h, make_event)
    await command(h, make_event, "抽奖 4")
    _, drawn = await message(h, make_event, "u1")
    assert drawn is not None
    [result] = drawn.actions
    winners = result.data["winners"]
    assert len(winners) == 4 and result.mentions == tuple(winners[:2])
    names = [MEMBERS[w] for w in winners]
    assert f"恭喜 @{names[0]} @{names[1]}、{names[2]}、{names[3]}\n" in (result.text or "")
