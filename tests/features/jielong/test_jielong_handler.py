"""The 接龙 handler alone: copies kept per group and title with each line given to who added it, the
copies it refuses (and why), 取消接龙, several chains, 接龙统计's facts, 接龙导出's CSV, the ends of a
chain, and one story through the whole bot."""

from __future__ import annotations

import csv
import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Runtime
from bot.clock import DrivenClock
from bot.events import OTHERWISE, THEN, Outcome
from handlers import jielong
from handlers.jielong.tables import CHAINS, ENTRIES
from tests.conftest import BASIC_CONFIG, T0, EventFactory, FakePlatform, feed
from tests.features.conftest import OpenHarness
from tests.features.harness import FeatureHarness, texts

HEAD = "#接龙\n周六羽毛球\n例 张三 2人\n\n"
NAMES = {"u1": "小明", "u2": "小红", "u3": "小刚", "u4": "小李", "u5": "小王", "admin1": "群主"}


def config_for(tmp_path: Path, extra: str = "") -> str:
    return BASIC_CONFIG.replace("bot: {name: 小管家, id: bot}",
                                f"bot: {{name: 小管家, id: bot, reports_dir: '{tmp_path / 'reports'}'}}") + extra


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """The tests through the whole bot run on SQLite and on PostgreSQL."""
    return any_db_url


@pytest.fixture
def config_text(tmp_path: Path) -> str:
    return config_for(tmp_path)


def chain_text(*lines: str, head: str = HEAD, style: str = "{n}. {line}") -> str:
    return head + "\n".join(style.format(n=n, line=line) for n, line in enumerate(lines, 1))


async def post(h: FeatureHarness, ev: EventFactory, user: str, text: str, **kw: Any) -> Outcome | None:
    event = ev(text=text, user=user, user_name=NAMES.get(user, user), **kw)
    outcome = await h.call(event)
    h.settle(event, outcome)
    return outcome


async def stats(h: FeatureHarness, ev: EventFactory, title: str = "") -> dict[str, Any]:
    outcome = await post(h, ev, "admin1", f"接龙统计 {title}".strip())
    assert outcome is not None and len(outcome.actions) == 1
    action = outcome.actions[0]
    assert action.rule == "jielong" and action.group == "g1", action
    return {**action.data, "text": action.text, "mentions": list(action.mentions)}


def file_bytes(path: Path) -> bytes:
    return path.read_bytes()


def note_of(outcome: Outcome | None) -> dict[str, Any]:
    assert outcome is not None and outcome.stop and not outcome.actions and outcome.notes
    return {"reason": outcome.notes[-1].reason, **outcome.notes[-1].data}


async def roster(h: FeatureHarness, *users: str) -> None:
    await h.store.members.sync_roster("g1", "测试群", [(u, NAMES.get(u, u)) for u in users], T0, complete=True)


async def test_a_chain_of_several_copies_gives_each_line_to_the_member_who_added_it(
        harness: OpenHarness, config_text: str, make_event: EventFactory) -> None:
    h = await harness(jielong.FEATURE, config_text)
    first = await post(h, make_event, "u1", chain_text("小明"))
    assert note_of(first)["added"] == 1  # silent: members see the copy itself
    assert not (await post(h, make_event, "u2", chain_text("小明", "小红 2人"))).actions
    third = await post(h, make_event, "u3", chain_text("小明", "小红 2人", "小刚", style="{n}、{line}"))
    assert note_of(third)["count"] == 3 and note_of(third)["added"] == 1
    facts = await stats(h, make_event)
    assert (facts["title"], facts["count"], facts["members"]) == ("周六羽毛球", 3, ["u1", "u2", "u3"])


async def test_numbering_styles_full_width_forms_and_renumbered_lines_are_the_same_chain(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(jielong.FEATURE)
    await post(h, make_event, "u1", "#接龙\n周六羽毛球\n1.小明")
    await post(h, make_event, "u2", "＃接龍\n周六羽毛球！\n１．小明\n２．小红")  # full width, traditional marker
    await post(h, make_event, "u3", "#接龙\n周六羽毛球\n1 小明\n1 小红\n7 小刚")  # numbers do not matter
    # the title on the marker line
    await post(h, make_event, "u4", "#接龙 周六羽毛球\n3) 小明\n2： 小 红\n1；小刚\n4、小李")
    facts = await stats(h, make_event)
    assert facts["count"] == 4 and facts["members"] == ["u1", "u2", "u3", "u4"]


async def test_malformed_copies_are_noted_and_start_nothing(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(jielong.FEATURE)
    assert "no title" in note_of(await post(h, make_event, "u1", "#接龙\n1. 小明\n2. 小红"))["malformed"]
    no_lines = note_of(await post(h, make_event, "u1", "#接龙\n周六羽毛球\n例 张三\n大家快来"))
    assert "no numbered" in no_lines["malformed"]
    assert await h.call(make_event(text="接龙的规则是什么")) is None  # conversation
    assert await h.call(make_event(text="#接龙统计")) is None
    none = await post(h, make_event, "admin1", "接龙统计")
    assert none is not None and none.actions[0].rule == "jielong/none" and texts(none) == ["群里还没有进行中的接龙"]
    assert await h.store.count("jielong_chains") == 0


async def test_a_copy_that_drops_or_changes_another_members_line_is_ignored_whole(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(jielong.FEATURE)
    await post(h, make_event, "u1", chain_text("小明"))
    await post(h, make_event, "u2", chain_text("小明", "小红"))
    dropped = note_of(await post(h, make_event, "u3", chain_text("小明", "小刚")))
    assert dropped["refused"] == "dropped" and dropped["members"] == ["u2"] and "少了别人的行" in dropped["reason"]
    changed = note_of(await post(h, make_event, "u3", chain_text("小明", "小红红", "小刚")))
    assert changed["refused"] == "changed" and changed["members"] == ["u2"]
    facts = await stats(h, make_event)
    assert (facts["count"], facts["members"]) == (2, ["u1", "u2"])  # the stored chain stays
    # a member fixing their own line is fine, and so is the next copy built on it
    own = note_of(await post(h, make_event, "u2", chain_text("小明", "小红 带1人")))
    assert own["edited"] == 1 and own["count"] == 2
    await post(h, make_event, "u3", chain_text("小明", "小红 带1人", "小刚"))
    rows = [tuple(r) for r in await h.store.read(ENTRIES.select().with_only_columns(
        ENTRIES.c.user_id, ENTRIES.c.content, ENTRIES.c.status).order_by(ENTRIES.c.pos))]
    assert rows == [("u1", "小明", "ok"), ("u2", "小红 带1人", "ok"), ("u3", "小刚", "ok")]


async def test_the_rejected_reply_tells_the_member_when_the_owner_wants_it(
        harness: OpenHarness, config_text: str, make_event: EventFactory) -> None:
    extra = "  jielong:\n    rejected_reply: '@{user_name} 这份接龙没记上：{reason}，请复制最新的一份再接'\n"
    h = await harness(jielong.FEATURE, config_text + extra)
    await post(h, make_event, "u1", chain_text("小明"))
    await post(h, make_event, "u2", chain_text("小明", "小红"))
    told = await post(h, make_event, "u3", chain_text("小明", "小刚"))
    assert texts(told) == ["@小刚 这份接龙没记上：少了别人的行，请复制最新的一份再接"]
    assert told is not None and told.actions[0].rule == "jielong/copy" and told.actions[0].mentions == ("u3",)


async def test_several_new_lines_are_the_senders_and_a_repeated_line_counts_once(
        harness: OpenHarness, config_text: str, make_event: EventFactory) -> None:
    h = await harness(jielong.FEATURE)
    await post(h, make_event, "u1", chain_text("小明"))
    added = note_of(await post(h, make_event, "u2", chain_text("小明", "小红", "小红的妈妈", "小红的爸爸")))
    assert added["added"] == 3 and added["count"] == 4
    again = note_of(await post(h, make_event, "u2", chain_text("小明", "小红", "小红的妈妈", "小红的爸爸", "小红")))
    assert again["duplicates"] == 1 and again["count"] == 4
    # the repeated line stays in the chain: the next copy that shows it does not give it to its sender
    shown = ("小明", "小红", "小红的妈妈", "小红的爸爸", "小红", "小刚")
    later = note_of(await post(h, make_event, "u3", chain_text(*shown)))
    assert later["added"] == 1 and later["count"] == 5
    facts = await stats(h, make_event)
    assert facts["members"] == ["u1", "u2", "u3"] and facts["count"] == 5
    allowed = await harness(jielong.FEATURE, config_text + "  jielong: {allow_duplicates: true}\n")
    await post(allowed, make_event, "u1", chain_text("小明", "小明"))
    assert (await stats(allowed, make_event))["count"] == 2


async def test_a_ten_thousand_character_copy_and_five_hundred_lines_do_not_blow_up(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(jielong.FEATURE)
    long_line = note_of(await post(h, make_event, "u1", chain_text("字" * 10_000)))
    assert long_line["count"] == 1
    [content] = [r[0] for r in await h.store.read(ENTRIES.select().with_only_columns(ENTRIES.c.content))]
    assert content == "字" * 100  # kept (and compared) at max_line_chars
    assert "too long" in note_of(await post(h, make_event, "u2", chain_text("字" * 50_000)))["malformed"]
    many = [f"成员{n}" for n in range(500)]
    five_hundred = note_of(await post(h, make_event, "u3", chain_text(*many, head="#接龙\n年会\n")))
    assert five_hundred["count"] == 500
    over = note_of(await post(h, make_event, "u4", chain_text(*many, "多一个", head="#接龙\n年会\n")))
    assert "more than 500 numbered lines" in over["malformed"]
    assert (await stats(h, make_event, "年会"))["count"] == 500


async def test_cancelling_takes_out_only_the_senders_lines_and_answers_without_a_mention(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(jielong.FEATURE)
    await post(h, make_event, "u1", chain_text("小明"))
    await post(h, make_event, "u2", chain_text("小明", "小红", "小红的妈妈"))
    cancelled = await post(h, make_event, "u2", "取消接龙")
    assert cancelled is not None and cancelled.actions[0].rule == "jielong/cancel"
    assert texts(cancelled) == ["已取消你在接龙「周六羽毛球」里的 2 行"] and not cancelled.actions[0].mentions
    assert note_of(await post(h, make_event, "u2", "取消接龙"))["reason"].startswith("60 秒内重复的命令")
    nothing = await post(h, make_event, "u2", "取消接龙 周六羽毛球")
    assert texts(nothing) == ["你不在接龙「周六羽毛球」里"]
    # the next copy may still show the cancelled lines (or not): they are no one's
    await post(h, make_event, "u3", chain_text("小明", "小红", "小红的妈妈", "小刚"))
    await post(h, make_event, "u4", chain_text("小明", "小刚", "小李"))
    facts = await stats(h, make_event)
    assert facts["members"] == ["u1", "u3", "u4"] and facts["count"] == 3


async def test_two_chains_with_different_titles_are_kept_apart(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(jielong.FEATURE)
    await post(h, make_event, "u1", chain_text("小明"))
    await post(h, make_event, "u2", chain_text("小红", head="#接龙\n周日爬山\n"))
    await post(h, make_event, "u3", chain_text("小明", "小刚"))
    await post(h, make_event, "u4", chain_text("小红", "小李", head="#接龙\n周日爬山\n"))
    await post(h, make_event, "u5", chain_text("小红", "小李", "小王", head="#接龙\n周日爬山\n"))
    hiking = await stats(h, make_event)  # the latest chain
    assert (hiking["title"], hiking["members"]) == ("周日爬山", ["u2", "u4", "u5"])
    badminton = await stats(h, make_event, "周六羽毛球")
    assert (badminton["title"], badminton["members"]) == ("周六羽毛球", ["u1", "u3"])
    assert (await stats(h, make_event, "「周六羽毛球」"))["count"] == 2
    await post(h, make_event, "u3", "取消接龙 周日爬山")  # not there: the badminton line stays
    assert (await stats(h, make_event, "周六羽毛球"))["count"] == 2
    unknown = await post(h, make_event, "admin1", "接龙统计 周一开会")
    assert texts(unknown) == ["没有找到接龙「周一开会」"]


async def test_the_count_and_missing_members_follow_the_contract(harness: OpenHarness, config_text: str,
                                                                 make_event: EventFactory) -> None:
    h = await harness(jielong.FEATURE, config_text + "  jielong: {max_mentions: 2}\n")
    await roster(h, "u1", "u2", "u3", "u4", "u5", "admin1", "bot", "u9")
    h.seen(make_event("leave", user="u9"))  # left: not missing
    h.seen(make_event(text="大家好", user="u7", user_name="新来的"))  # known from activity only
    await post(h, make_event, "u3", chain_text("小刚"))
    await post(h, make_event, "u1", chain_text("小刚", "小明"))
    facts = await stats(h, make_event)
    assert facts["members"] == ["u3", "u1"] and facts["count"] == 2
    assert facts["missing"] == ["u2", "u4", "u5", "u7"]  # not the admins, operators, the bot or who left
    assert facts["missing_count"] == 4 and facts["mentions"] == ["u2", "u4"]
    assert facts["text"] == "📋 接龙「周六羽毛球」已有 2 人；还有 4 人没接：@小红 @小李 等 2 人"
    member = await post(h, make_event, "u2", "接龙统计")  # admins only
    assert member is not None and not member.actions and member.notes


async def test_the_export_sends_the_list_as_csv_to_the_asker(harness: OpenHarness, config_text: str,
                                                            make_event: EventFactory, tmp_path: Path) -> None:
    h = await harness(jielong.FEATURE, config_text)
    await roster(h, "u1", "u2", "u3")
    await post(h, make_event, "u1", chain_text("小明"))
    await post(h, make_event, "u2", chain_text("小明", "=HYPERLINK(1)", "小红 2人"))
    await post(h, make_event, "u1", "取消接龙")
    outcome = await post(h, make_event, "admin1", "接龙导出")
    assert outcome is not None
    [sent] = outcome.actions
    assert (sent.action, sent.rule, sent.user, sent.group) == ("send_file", "jielong/export", "admin1", None)
    assert sent.data["count"] == 2 and sent.data["title"] == "周六羽毛球"
    assert sent.data[THEN][0]["group"] == "g1"
    assert sent.data[THEN][0]["text"] == "@群主 接龙「周六羽毛球」的名单（2 人）已私信发给你"
    assert "加小管家为好友" in sent.data[OTHERWISE][0]["text"]
    path = Path(sent.path or "")
    assert (tmp_path / "reports") in path.parents and path.suffix == ".csv"
    raw = file_bytes(path)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["序号", "成员id", "群昵称", "内容", "时间"]
    assert [r[:4] for r in rows[1:]] == [["1", "u2", "小红", "'=HYPERLINK(1)"], ["2", "u2", "小红", "小红 2人"]]
    assert rows[1][4].startswith("2026-03-02 10:00")


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_a_chain_ends_on_an_admins_word_or_after_expire_days(harness: OpenHarness,
                                                                   make_event: EventFactory) -> None:
    h = await harness(jielong.FEATURE)
    await post(h, make_event, "u1", chain_text("小明"))
    await post(h, make_event, "u2", chain_text("小明", "小红"))
    assert not (await post(h, make_event, "u3", "结束接龙")).actions  # a member: noted only
    ended = await post(h, make_event, "admin1", "结束接龙")
    assert texts(ended) == ["接龙「周六羽毛球」已结束，共 2 人"] and ended is not None
    late = note_of(await post(h, make_event, "u3", chain_text("小明", "小红", "小刚")))
    assert "已结束" in late["reason"]
    facts = await stats(h, make_event)  # the latest chain, though it ended
    assert facts["open"] is False and facts["count"] == 2 and "（已结束）" in facts["text"]
    # the same title next week, with none of the old lines, is a new chain
    await post(h, make_event, "u3", chain_text("小刚"))
    assert (await stats(h, make_event))["members"] == ["u3"]
    later = EventFactory(T0 + timedelta(days=8))
    later.n = itertools.count(100)  # ids go on
    expired = await post(h, later, "u4", chain_text("小刚", "小李"))
    assert "已结束" in note_of(expired)["reason"]


async def test_at_most_max_open_chains_per_group_the_oldest_is_closed(harness: OpenHarness, config_text: str,
                                                                      make_event: EventFactory) -> None:
    h = await harness(jielong.FEATURE, config_text + "  jielong: {max_open: 3}\n")
    for n in range(4):
        await post(h, make_event, "u1", chain_text("小明", head=f"#接龙\n活动{n}\n"))
    closed = [tuple(r) for r in await h.store.read(CHAINS.select().with_only_columns(
        CHAINS.c.title, CHAINS.c.closed_by).where(CHAINS.c.closed_at.is_not(None)))]
    assert closed == [("活动0", "limit")]


async def test_a_chain_through_the_whole_bot(tmp_path: Path, clock: DrivenClock, runtime: Runtime,
                                            platform: FakePlatform) -> None:
    ev = EventFactory(T0)
    roster_event = ev("roster", user=None, user_name=None,
                      members=[{"id": u, "name": n} for u, n in NAMES.items()] + [{"id": "bot", "name": "小管家"}])
    copies = [ev(text=chain_text(*["小明", "小红", "小刚"][:n]), user=u, user_name=NAMES[u])
              for n, u in ((1, "u1"), (2, "u2"), (3, "u3"))]
    asks = [ev(text="接龙统计", user="admin1", user_name="群主"), ev(text="接龙导出", user="admin1", user_name="群主")]
    await feed(runtime, clock, roster_event, *copies, *asks)
    rules = [a.rule for a in platform.sent]
    assert rules == ["jielong", "jielong/export", "jielong/export"]  # the copies: silent
    answer, file, told = platform.sent
    assert {k: answer.data[k] for k in ("title", "count", "members", "missing")} == {
        "title": "周六羽毛球", "count": 3, "members": ["u1", "u2", "u3"], "missing": ["u4", "u5"]}
    assert answer.data["event"] == asks[0].id and answer.reply_to == asks[0].id
    assert (file.action, file.user, told.group, told.text) == (
        "send_file", "admin1", "g1", "@群主 接龙「周六羽毛球」的名单（3 人）已私信发给你")
    assert file_bytes(Path(file.path or "")).decode("utf-8-sig").count("\n") == 4


async def test_an_export_that_could_not_be_sent_says_so_in_the_group(clock: DrivenClock, runtime: Runtime,
                                                                     platform: FakePlatform) -> None:
    ev = EventFactory(T0)
    await feed(runtime, clock, ev(text=chain_text("小明"), user="u1", user_name="小明"))
    platform.fail_next = 5  # every try of the direct message fails (the asker is not the bot's friend)
    await feed(runtime, clock, ev(text="接龙导出", user="admin1", user_name="群主"))
    assert [(a.rule, a.group, a.text) for a in platform.sent] == [
        ("jielong/export", "g1", "@群主 名单没能私信给你，请先加小管家为好友再发「接龙导出」")]
