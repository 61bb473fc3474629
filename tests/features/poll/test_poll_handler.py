"""The poll handler alone: opening a poll (bounds, the deadline), votes (by number or text, a later one
replacing the earlier, one for a missing option), one open poll per group, the merged confirmations, the
result at the deadline or on an admin's 结束投票 (every option counted, a tie without a winner)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.events import Outcome, Timer
from handlers import poll
from handlers.poll.handler import parse_start
from handlers.poll.repository import PollRepository
from handlers.poll.settings import PollSettings
from tests.conftest import BASIC_CONFIG, CST, EventFactory
from tests.features.conftest import OpenHarness
from tests.features.harness import FeatureHarness, texts

IMMEDIATE = BASIC_CONFIG + """  poll:
    confirm_seconds: 0
"""
MEMBERS = {"u1": "小明", "u2": "小红", "u3": "阿强", "u4": "阿珍"}


def only_timer(outcome: Outcome | None, name: str) -> Timer:
    assert outcome is not None
    [timer] = [t for t in outcome.timers if t.name == name]
    return timer


async def open_poll(h: FeatureHarness, make_event: EventFactory, text: str = "投票 周末活动 爬山 看电影 唱歌"
                    ) -> Outcome:
    for user, name in MEMBERS.items():  # the roster knows them (names for the confirmations)
        h.seen(make_event(text="大家好", user=user, user_name=name, after=0.1))
    outcome = await h.call(make_event(text=text, user="admin1", user_name="班主任"))
    assert outcome is not None and outcome.actions[0].rule == "poll/started", texts(outcome)
    return outcome


async def vote(h: FeatureHarness, make_event: EventFactory, user: str, text: str) -> Outcome | None:
    event = make_event(text=text, user=user, user_name=MEMBERS.get(user, user))
    outcome = await h.call(event)
    h.settle(event, outcome)
    return outcome


async def test_an_admin_opens_a_poll_with_numbered_options_and_a_deadline_a_day_on(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(poll.FEATURE)
    started = await open_poll(h, make_event)
    [text] = texts(started)
    assert text.startswith("📊 投票：周末活动\n1. 爬山\n2. 看电影\n3. 唱歌\n回复「投1」")
    facts = started.actions[0].data
    assert facts["options"] == ["爬山", "看电影", "唱歌"] and facts["title"] == "周末活动"
    end = only_timer(started, "end")
    assert end.due == datetime.fromisoformat(facts["deadline"]) == make_event.t + timedelta(hours=24)
    assert "03-03 10:00" in text  # 24 hours on, local time


async def test_votes_by_number_or_text_and_a_later_vote_replaces_the_earlier(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(poll.FEATURE, IMMEDIATE)
    await open_poll(h, make_event)
    first = await vote(h, make_event, "u1", "投1")
    assert first is not None and first.stop and texts(first) == ["@小明 已记录你的投票：爬山"]
    assert first.actions[0].data["replaced"] is None
    again = await vote(h, make_event, "u1", "投 看电影")
    assert again is not None and again.actions[0].data["option"] == "看电影"
    assert again.actions[0].data["replaced"] == "爬山"
    await vote(h, make_event, "u2", "👉投２")  # after an emoji, a full-width digit
    await vote(h, make_event, "u3", "投 看 電影！")  # traditional characters, spaces and punctuation
    repo: PollRepository = h.repo
    current = await repo.open_poll("g1")
    assert current is not None and await repo.tally(current) == {2: 3}
    votes = await repo.votes_of(current.id)
    assert [(v["user_id"], v["option"], v["replaced_by"] is not None) for v in votes] == [
        ("u1", "爬山", True), ("u1", "看电影", False), ("u2", "看电影", False), ("u3", "看电影", False)]
    assert votes[0]["replaced_by"] == votes[1]["event_id"]  # which vote replaced it, for the audit


async def test_a_vote_for_a_missing_option_gets_one_short_correction_and_chat_is_left_alone(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(poll.FEATURE, IMMEDIATE)
    await open_poll(h, make_event)
    wrong = await vote(h, make_event, "u1", "投5")
    assert wrong is not None and wrong.actions[0].rule == "poll/unknown-option"
    assert texts(wrong) == ["@小明 没有这个选项：回复「投1」到「投3」或「投 选项名」"]
    twice = await vote(h, make_event, "u1", "投 游泳")  # within the member's cooldown: a note only
    assert twice is not None and twice.actions == () and twice.notes[0].rule == "poll/unknown-option"
    other = await vote(h, make_event, "u2", "投 游泳")  # another member is answered
    assert other is not None and other.actions[0].rule == "poll/unknown-option"
    assert await vote(h, make_event, "u3", "投资人说这个项目不错") is None  # conversation, not a vote
    assert await vote(h, make_event, "u3", "投诉") is None
    current = await h.repo.open_poll("g1")
    assert await h.repo.tally(current) == {}


async def test_a_second_poll_while_one_is_open_is_refused_with_a_reply_naming_it(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(poll.FEATURE)
    first = await open_poll(h, make_event)
    second = await h.call(make_event(text="投票 班长竞选 张三 李四", user="op1"))
    assert second is not None and second.actions[0].rule == "poll/busy" and second.timers == ()
    assert "「周末活动」" in texts(second)[0] and "03-03 10:00 截止" in texts(second)[0]
    assert second.actions[0].data["poll"] == first.actions[0].data["poll"]
    other_group = await h.call(make_event(text="投票 班长竞选 张三 李四", user="admin1", group="g2"))
    assert other_group is not None and other_group.actions[0].rule == "poll/started"  # one per group


async def test_the_deadline_timer_posts_the_result_with_every_option_counted(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(poll.FEATURE, IMMEDIATE)
    started = await open_poll(h, make_event)
    for user, text in (("u1", "投2"), ("u2", "投 看电影"), ("u3", "投1"), ("admin1", "投2")):  # admins vote too
        await vote(h, make_event, user, text)
    actions, _, _ = await h.fire(only_timer(started, "end"))
    [result] = actions
    assert result.rule == "poll" and result.group == "g1" and "event" not in result.data
    assert result.data["counts"] == {"爬山": 1, "看电影": 3, "唱歌": 0}  # every option, in order
    assert result.data["winner"] == "看电影" and result.data["voters"] == 4 and result.data["ended_by"] is None
    assert result.text == ("📊 投票结束：周末活动\n1. 爬山：1 票\n2. 看电影：3 票\n3. 唱歌：0 票\n"
                           "🏆 「看电影」胜出，3 票（共 4 人投票）")
    assert await h.repo.open_poll("g1") is None
    late = await vote(h, make_event, "u4", "投1")
    assert late is not None and late.actions == () and "no poll is open" in late.notes[0].reason
    stored = (await h.repo.stored([result.data["poll"]]))[result.data["poll"]]
    assert stored["status"] == "closed" and stored["counts"] == result.data["counts"] and stored["closed_by"] is None


async def test_an_admin_ends_the_poll_early_and_its_deadline_then_does_nothing(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(poll.FEATURE, IMMEDIATE)
    started = await open_poll(h, make_event)
    await vote(h, make_event, "u1", "投1")
    refused = await vote(h, make_event, "u2", "结束投票")
    assert refused is not None and refused.actions[0].rule == "poll/refused"
    assert texts(refused) == ["@小红 只有管理员可以发起或结束投票"]
    again = await vote(h, make_event, "u2", "结束投票！")  # told once, then silence
    assert again is not None and again.actions == () and "refused before" in again.notes[0].reason
    assert await h.repo.open_poll("g1") is not None
    ended = await h.call(make_event(text="結束投票", user="admin1"))  # traditional characters
    assert ended is not None and ended.actions[0].rule == "poll"
    facts = ended.actions[0].data
    assert facts["event"] == ended.actions[0].reply_to and facts["ended_by"] == "admin1"
    assert facts["counts"] == {"爬山": 1, "看电影": 0, "唱歌": 0} and facts["winner"] == "爬山"
    actions, notes, _ = await h.fire(only_timer(started, "end"))
    assert actions == [] and "ended before its deadline" in notes[0]
    none = await h.call(make_event(text="结束投票", user="admin1"))
    assert none is not None and texts(none) == ["现在没有进行中的投票"]


async def test_a_tie_has_no_winner_and_a_poll_nobody_voted_in_neither(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(poll.FEATURE, IMMEDIATE)
    await open_poll(h, make_event, "投票 班长竞选 张三 李四 王五")  # 班长竞选: the candidates are the options
    for user, text in (("u1", "投张三"), ("u2", "投 李四"), ("u3", "投3"), ("u4", "投 李四"), ("u1", "投王五")):
        await vote(h, make_event, user, text)
    ended = await h.call(make_event(text="结束投票", user="admin1"))
    assert ended is not None
    facts = ended.actions[0].data
    assert facts["counts"] == {"张三": 0, "李四": 2, "王五": 2} and facts["winner"] is None and facts["voters"] == 4
    assert "平票：「李四」、「王五」 各 2 票" in texts(ended)[0]
    await h.call(make_event(text="投票 聚餐 火锅 烧烤", user="admin1"))
    empty = await h.call(make_event(text="结束投票", user="admin1"))
    assert empty is not None and empty.actions[0].data["winner"] is None and empty.actions[0].data["voters"] == 0
    assert "没有人投票（共 0 人投票）" in texts(empty)[0]


async def test_votes_within_the_window_are_confirmed_in_one_message_mentioning_each_voter(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(poll.FEATURE, BASIC_CONFIG + "  poll: {max_mentions: 2}\n")
    await open_poll(h, make_event)
    outcomes = [await vote(h, make_event, u, t) for u, t in (("u1", "投1"), ("u2", "投2"), ("u1", "投3"),
                                                              ("u3", "投1"))]
    assert all(o is not None and o.actions == () and o.notes[0].rule == "poll/vote" for o in outcomes)
    timers = {(t.key, t.due) for o in outcomes for t in o.timers}  # the core keeps the first of the window
    first = only_timer(outcomes[0], "confirm")
    assert first.due == make_event.t - timedelta(seconds=3) + timedelta(seconds=60) and len(timers) == 4
    actions, _, more = await h.fire(first)
    [sent] = actions
    assert sent.rule == "poll/confirm" and sent.mentions == ("u1", "u2")
    assert sent.text == "🗳️ 已记录 @小明 @小红 等 1 人 的投票（可以改投，以最后一次为准）"
    assert sent.data["members"] == ["u1", "u2", "u3"] and len(sent.data["events"]) == 4 and more == []
    later = await vote(h, make_event, "u4", "投1")
    actions, _, _ = await h.fire(only_timer(later, "confirm"))
    assert [a.mentions for a in actions] == [("u4",)]  # only the votes since the last message
    actions, _, _ = await h.fire(only_timer(later, "confirm"))
    assert actions == []  # nothing left to confirm


async def test_confirmations_can_be_turned_off(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(poll.FEATURE, BASIC_CONFIG + "  poll: {confirm_votes: false}\n")
    await open_poll(h, make_event)
    quiet = await vote(h, make_event, "u1", "投1")
    assert quiet is not None and quiet.actions == () and quiet.timers == ()
    assert "confirmations are off" in quiet.notes[0].reason


async def test_non_admins_cannot_open_a_poll_and_a_bad_one_gets_the_usage(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(poll.FEATURE)
    member = await h.call(make_event(text="投票 午饭 面 饭"))
    assert member is not None and member.actions[0].rule == "poll/refused" and member.timers == ()
    assert await h.call(make_event(text="投票")) is None  # a word, not a command attempt
    bad = await h.call(make_event(text="投票 只有一个选项 A", user="admin1"))
    assert bad is not None and bad.actions[0].rule == "poll/usage" and bad.actions[0].data["error"] == "too few options"
    assert "2–20 个不重复的选项" in texts(bad)[0]
    assert await h.repo.open_poll("g1") is None
    long = await h.call(make_event(text="投票 " + "长" * 10_000, user="admin1"))  # a 10,000-character message
    assert long is None


def test_the_deadline_is_the_next_such_local_time_and_options_are_bounded() -> None:
    settings = PollSettings()
    now = datetime(2026, 3, 2, 22, 30, tzinfo=CST)
    parsed = parse_start("聚餐 火锅 烧烤 截止21:00", settings, now)
    assert parsed == ("聚餐", ["火锅", "烧烤"], datetime(2026, 3, 3, 13, 0, tzinfo=UTC))  # passed today: tomorrow
    assert parse_start("聚餐 火锅、烧烤，日料 截止 23：15", settings, now) == (
        "聚餐", ["火锅", "烧烤", "日料"], datetime(2026, 3, 2, 15, 15, tzinfo=UTC))  # full-width colon, later today
    assert parse_start("聚餐 火锅 烧烤 截止25:00", settings, now) == "bad deadline"
    assert parse_start("聚餐 " + " ".join(f"选项{n}" for n in range(21)), settings, now) == "too many options"
    assert parse_start("聚餐 火锅 " + "烤" * 31, settings, now) == "option too long"
    assert parse_start("题" * 61 + " 火锅 烧烤", settings, now) == "title too long"
    assert parse_start("聚餐 火锅 火锅！", settings, now) == "options repeat"  # the same once normalised
