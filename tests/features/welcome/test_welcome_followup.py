"""The daily follow-up (`rename_followup_time`, 20:00): the second and last rename reminder goes out at the
group's daily time, `rename_followup_days` (3) after the first, as one message per group that mentions
every member due; members who renamed or left meanwhile are left out, and there is never a third."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.events import Action, Event
from bot.feature import JobContext
from handlers import welcome
from handlers.welcome.repository import WelcomeRepository
from rules.config import Config
from tests.conftest import CST, T0, EventFactory
from tests.features.conftest import OpenHarness
from tests.features.harness import FeatureHarness

AT_ONCE = """
bot: {name: 小管家, id: bot}
defaults:
  rules: 不发广告
  welcome:
    text: "欢迎 @{user_name} 加入{group_name}！"
    name_format: {example: 名字-城市, pattern: '[^-]+-[^-]+'}
    rename_reminder: "@{user_name} 请改成「{name_format}」"
    rename_followup: "@{user_name} 再提醒一次：请改成「{name_format}」"
    rename_thanks: "谢谢 @{user_name}"
    batch_seconds: 0
    rename_batch_minutes: 0
"""
JOB = "rename-followup:20:00"
NIGHT_OWLS = 'groups:\n  "夜猫子-*":\n    welcome: {rename_followup_time: "22:30"}\n'


def evening(days: int) -> datetime:
    """20:00 local, `days` after T0's day (Monday 2026-03-02)."""
    return T0.replace(hour=20) + timedelta(days=days)


async def call_all(h: FeatureHarness, *events: Event) -> None:
    """Each event through the handler, recorded as the core would (so the roster knows its member)."""
    for event in events:
        h.settle(event, await h.call(event))


async def remind(h: FeatureHarness, make_event: EventFactory, *members: tuple[str, str], group: str = "g1"
                 ) -> None:
    """A first message from each member (names that do not fit): each reminded once, at once."""
    await call_all(h, *(make_event(text="大家好", user=u, user_name=n, group=group, group_name=f"群{group}", after=60)
                        for u, n in members))


async def test_follow_ups_go_out_once_at_the_daily_time_as_one_message_per_group(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(welcome.FEATURE, AT_ONCE)
    await remind(h, make_event, ("m1", "老王"), ("m2", "小李"), ("m3", "Amy"))
    await remind(h, make_event, ("m4", "阿珍"), group="g2")
    for days in (1, 2):  # not due yet
        assert (await h.run_job(JOB, evening(days)))[0] == []
    # a message on the follow-up's day brings nothing: the follow-up is the daily one
    await call_all(h, make_event(text="早", user="m1", user_name="老王", after=3 * 86_400 - 4 * 3600))

    actions, _ = await h.run_job(JOB, evening(3))
    assert [(a.group, a.mentions) for a in actions] == [("g1", ("m1", "m2", "m3")), ("g2", ("m4",))]
    first = actions[0]
    assert first.rule == "welcome/rename-reminder" and first.action == "send" and first.ts == evening(3)
    assert first.text == "@老王 @小李 @Amy 再提醒一次：请改成「名字-城市」"
    assert first.data == {"members": ["m1", "m2", "m3"], "reminder": {"m1": 2, "m2": 2, "m3": 2},
                          "followup": True, "more": 0}
    repo = h.store.repository(WelcomeRepository)
    assert [(await repo.reminders("g1", u)).count for u in ("m1", "m2", "m3")] == [2, 2, 2]  # type: ignore[union-attr]

    for days in (4, 5, 12):  # never a third: not by the job ...
        assert (await h.run_job(JOB, evening(days)))[0] == []
    later = make_event(text="在吗", user="m1", user_name="老王", after=10 * 86_400)  # ... nor by a message
    outcome = await h.call(later)
    assert outcome is not None and not outcome.actions and not outcome.timers
    assert "reminded 2 time(s) already" in outcome.notes[0].reason


async def test_members_who_renamed_or_left_meanwhile_are_not_mentioned(harness: OpenHarness,
                                                                       make_event: EventFactory) -> None:
    h = await harness(welcome.FEATURE, AT_ONCE)
    await remind(h, make_event, ("m1", "老王"), ("m2", "小李"), ("m3", "Amy"), ("m4", "阿珍"))
    await call_all(h,
                   make_event("rename", user="m1", user_name="老王-杭州", after=86_400),  # thanked
                   make_event("leave", user="m2", user_name="小李", after=60),
                   make_event(text="早", user="m3", user_name="Amy-上海", after=60))  # renamed unseen
    actions, notes = await h.run_job(JOB, evening(3))
    [sent] = actions
    assert sent.mentions == ("m4",) and sent.text == "@阿珍 再提醒一次：请改成「名字-城市」"
    assert any("m2 left: no follow-up" in n for n in notes)
    assert any("m3 renamed to a fitting name (Amy-上海): no follow-up" in n for n in notes)
    assert not any("m1" in n for n in notes)  # thanked: their follow-up was closed then
    # closed once: the next day neither mentions them nor notes them again
    assert await h.run_job(JOB, evening(4)) == ([], [])


async def test_follow_ups_past_the_mention_cap_are_counted_and_mentioned_the_next_day(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(welcome.FEATURE, AT_ONCE + "    batch_max_mentions: 2\n")
    await remind(h, make_event, *[(f"m{i}", f"成员{i}") for i in range(5)])
    [today], notes = await h.run_job(JOB, evening(3))
    assert today.mentions == ("m0", "m1") and today.data["more"] == 3
    assert today.text == "@成员0 @成员1 等 3 人 再提醒一次：请改成「名字-城市」"
    assert any("3 follow-up(s) past the mention cap (2)" in n for n in notes)
    [tomorrow], _ = await h.run_job(JOB, evening(4))
    assert tomorrow.mentions == ("m2", "m3") and tomorrow.data["more"] == 1
    [last], _ = await h.run_job(JOB, evening(5))
    assert last.mentions == ("m4",) and "等" not in (last.text or "")
    assert (await h.run_job(JOB, evening(6)))[0] == []


async def test_the_follow_up_day_is_the_local_day_of_the_first_reminder(harness: OpenHarness) -> None:
    h = await harness(welcome.FEATURE, AT_ONCE)
    after_midnight = EventFactory(datetime(2026, 3, 3, 0, 0, 0, tzinfo=CST))  # 03-02 16:00 in UTC
    await call_all(h, after_midnight(text="早", user="m1", user_name="老王", after=30))
    assert (await h.run_job(JOB, datetime(2026, 3, 5, 20, 0, tzinfo=CST)))[0] == []  # UTC would say due
    [sent], _ = await h.run_job(JOB, datetime(2026, 3, 6, 20, 0, tzinfo=CST))
    assert sent.mentions == ("m1",)


async def test_with_several_accounts_only_the_groups_claimed_for_this_instant_are_served(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(welcome.FEATURE, AT_ONCE)
    await remind(h, make_event, ("m1", "老王"))
    await remind(h, make_event, ("m2", "阿珍"), group="g2")
    asked: list[list[str]] = []

    async def serve(groups: list[str]) -> set[str]:  # as bot/fleet does: this process holds g2 only
        asked.append(groups)
        return {"g2"}

    [job] = [j for j in welcome.FEATURE.jobs(h.config) if j.id == JOB]  # type: ignore[misc]
    h.clock.set(evening(3))
    ctx = JobContext(h.config, h.clock, evening(3), h.store.members, h.repo, h.memory, serve=serve)
    actions: list[Action] = await job.run(ctx)
    assert asked == [["g1", "g2"]] and [a.group for a in actions] == ["g2"]
    assert (await h.store.repository(WelcomeRepository).reminders("g1", "m1")).count == 1  # type: ignore[union-attr]


def test_one_job_per_follow_up_time_and_none_without_a_name_format_or_follow_up() -> None:
    def ids(text: str) -> list[str]:
        return sorted(j.id for j in welcome.FEATURE.jobs(Config.from_text(text)))  # type: ignore[misc]

    assert ids(AT_ONCE) == [JOB]
    assert ids(AT_ONCE + NIGHT_OWLS) == [JOB, "rename-followup:22:30"]
    assert ids(AT_ONCE + "    rename_followup_days: 0\n") == []
    assert ids(AT_ONCE.replace("    name_format: {example: 名字-城市, pattern: '[^-]+-[^-]+'}\n", "")) == []
    with pytest.raises(Exception, match="HH:MM"):
        Config.from_text(AT_ONCE + '    rename_followup_time: "8:00"\n')


async def test_a_group_whose_follow_up_time_differs_is_served_by_its_own_job(harness: OpenHarness,
                                                                             make_event: EventFactory) -> None:
    h = await harness(welcome.FEATURE, AT_ONCE + NIGHT_OWLS)
    await remind(h, make_event, ("m1", "老王"))
    await call_all(h, make_event(text="大家好", user="m2", user_name="阿珍", group="g2", group_name="夜猫子-1"))
    [at_eight], _ = await h.run_job(JOB, evening(3))
    [late], _ = await h.run_job("rename-followup:22:30", evening(3).replace(hour=22, minute=30))
    assert (at_eight.group, late.group) == ("g1", "g2")
