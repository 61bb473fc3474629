"""The report digest (`bot.report_digest_from`): a recipient of at least that many groups' purge lists
or stats reports from one job run gets one text and one CSV instead of a report per group (no charts);
recipients of fewer groups get each group's report as before; 0 turns the digest off."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import DrivenClock
from bot.events import Action
from bot.feature import Feature
from handlers import purge, stats
from handlers.stats import jobs as stats_jobs
from handlers.stats.draw import ChartWorker
from rules.config import Config
from rules.loader import ConfigError
from tests.conftest import CST, EventFactory
from tests.features.harness import FeatureHarness

PURGE_DUE = datetime(2026, 3, 20, 21, 30, tzinfo=CST)
STATS_DUE = datetime(2026, 3, 20, 22, 0, tzinfo=CST)  # a Friday: no weekly trend
MANY = [f"g{n:02d}@chatroom" for n in range(12)]  # the defaults' operator, op_many
FEW = ["few1@chatroom", "few2@chatroom"]  # op_few's, by their `groups` entries

Open = Callable[..., Awaitable[FeatureHarness]]


def config(folder: Path, digest_from: int | None = None, extra: str = "") -> str:
    setting = "" if digest_from is None else f", report_digest_from: {digest_from}"
    return f"""
bot: {{name: 小管家, id: bot, reports_dir: '{folder / "reports"}'{setting}}}
defaults:
  admins: [admin1]
  operators: [op_many]
{extra}
groups:
  "few1@chatroom": {{operators: [op_few]}}
  "few2@chatroom": {{operators: [op_few]}}
"""


def name_of(group: str) -> str:
    return "群" + group.split("@")[0]


@pytest.fixture
async def open_harness(tmp_path: Path, clock: DrivenClock) -> AsyncIterator[Open]:
    opened: list[FeatureHarness] = []

    async def open_one(feature: Feature, text: str) -> FeatureHarness:
        url = f"sqlite+aiosqlite:///{tmp_path / f'{feature.name}-{len(opened)}.db'}"
        opened.append(await FeatureHarness.open(feature, url, clock, text))
        return opened[-1]

    yield open_one
    for h in opened:
        await h.close()


def silent(h: FeatureHarness, group: str, count: int) -> None:
    """`count` members who joined the group 30 days before the purge job and never spoke."""
    event = EventFactory(PURGE_DUE - timedelta(days=30))
    for n in range(count):
        h.seen(event("join", after=0, group=group, group_name=name_of(group), user=f"{group[:4]}_m{n}",
                     user_name=f"潜水{n}"))


def seed_purge(h: FeatureHarness) -> dict[str, int]:
    """Each of the 12 groups with n % 4 silent members (so g00, g04, g08 have none), op_few's with 1 each."""
    proposed = {g: n % 4 for n, g in enumerate(MANY)}
    for g, count in proposed.items():
        silent(h, g, count)
        if not count:  # a group with nobody to propose still has to be known (someone active)
            h.seen(EventFactory(PURGE_DUE - timedelta(hours=1))(text="在", group=g, group_name=name_of(g), user="x"))
    for g in FEW:
        silent(h, g, 1)
    return proposed


def to(actions: list[Action], user: str) -> list[Action]:
    return [a for a in actions if a.user == user]


def read_csv(path: str | None) -> tuple[bytes, list[list[str]]]:
    raw = Path(path or "").read_bytes()
    with Path(path or "").open(encoding="utf-8-sig", newline="") as handle:
        return raw, list(csv.reader(handle))


async def test_a_recipient_of_twelve_groups_gets_one_digest_and_one_of_two_gets_each_groups_list(
        open_harness: Open, tmp_path: Path) -> None:
    h = await open_harness(purge.FEATURE, config(tmp_path))
    proposed = seed_purge(h)
    actions, _ = await h.run_job("purge:21:30", PURGE_DUE)
    text, attachment = to(actions, "op_many")
    assert (text.rule, text.action, attachment.rule, attachment.action) == (
        "purge_report/digest", "send", "purge_report/digest", "send_file")
    listed = {g: n for g, n in proposed.items() if n}  # the groups with nobody are counted, not listed
    assert text.data == {"groups": listed, "count": sum(listed.values())}
    assert "12 个群中，9 个群共 18 人超过 14 天" in (text.text or "") and "另有 3 个群没有" in (text.text or "")
    assert (text.text or "").count("（3 人）") == 3  # the biggest groups named first
    few = to(actions, "op_few")
    assert [(a.rule, a.action, a.data["group"]) for a in few] == [
        ("purge_report", "send", "few1@chatroom"), ("purge_report", "send_file", "few1@chatroom"),
        ("purge_report", "send", "few2@chatroom"), ("purge_report", "send_file", "few2@chatroom")]
    assert few[0].data["members"] == ["few1_m0"]  # the replay contract's facts, as before


async def test_the_purge_digest_csv_has_a_bom_the_group_columns_first_and_a_row_per_member(
        open_harness: Open, tmp_path: Path) -> None:
    h = await open_harness(purge.FEATURE, config(tmp_path))
    proposed = seed_purge(h)
    actions, _ = await h.run_job("purge:21:30", PURGE_DUE)
    [attachment] = [a for a in to(actions, "op_many") if a.action == "send_file"]
    raw, rows = read_csv(attachment.path)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as the per-group list
    assert rows[0] == ["群ID", "群名", *h.config.model.defaults.purge.csv_header]
    assert Counter(r[0] for r in rows[1:]) == {g: n for g, n in proposed.items() if n}
    assert all(r[1] == name_of(r[0]) and r[3] == "潜水" + r[2].rsplit("_m", 1)[1] for r in rows[1:])
    assert {r[6] for r in rows[1:]} == {"30"}  # the per-group columns follow: days silent
    assert not set(r[0] for r in rows[1:]) & set(FEW)  # op_few's groups are not in op_many's digest
    assert attachment.data == {"count": len(rows) - 1}


async def test_a_digest_of_groups_with_nobody_to_propose_is_one_text(open_harness: Open, tmp_path: Path) -> None:
    h = await open_harness(purge.FEATURE, config(tmp_path))
    for g in MANY:
        h.seen(EventFactory(PURGE_DUE - timedelta(hours=1))(text="在", group=g, group_name=name_of(g), user="x"))
    actions, _ = await h.run_job("purge:21:30", PURGE_DUE)
    [text] = actions
    assert (text.rule, text.user, text.data) == ("purge_report/digest", "op_many", {"groups": {}, "count": 0})
    assert "12 个群都没有超过 14 天不活跃的成员" in (text.text or "")


@pytest.mark.parametrize(("digest_from", "digest"), [(0, False), (12, True), (13, False)])
async def test_the_threshold_counts_groups_per_recipient_and_zero_turns_the_digest_off(
        open_harness: Open, tmp_path: Path, digest_from: int, digest: bool) -> None:
    h = await open_harness(purge.FEATURE, config(tmp_path, digest_from))
    seed_purge(h)
    actions, _ = await h.run_job("purge:21:30", PURGE_DUE)
    rules = Counter(a.rule for a in to(actions, "op_many"))
    if digest:
        assert rules == {"purge_report/digest": 2}
    else:  # a text for each group, the CSV for those with someone to propose (the empty text for the rest)
        assert rules == {"purge_report": 12 + 9}
        assert {a.data["group"] for a in to(actions, "op_many")} == set(MANY)


async def test_auto_kick_stays_per_group_in_digest_mode(open_harness: Open, tmp_path: Path) -> None:
    h = await open_harness(purge.FEATURE, config(tmp_path, extra="  purge: {auto_kick: dry_run}"))
    seed_purge(h)
    actions, _ = await h.run_job("purge:21:30", PURGE_DUE)
    dry_runs = [a for a in to(actions, "op_many") if a.rule == "purge_report/auto_kick"]
    assert len(dry_runs) == 9 and all(a.data["dry_run"] for a in dry_runs)
    assert Counter(a.rule for a in to(actions, "op_many"))["purge_report/digest"] == 2


def seed_stats(h: FeatureHarness) -> None:
    """g01 busy today (30 messages) and never before; g02 quiet today (2) after 20 a day for a week; g00
    silent all day; every other group 5 messages; op_few's groups 3."""
    today = EventFactory(datetime(2026, 3, 20, 9, 0, tzinfo=CST))
    counts = {g: 5 for g in MANY} | {"g00@chatroom": 0, "g01@chatroom": 30, "g02@chatroom": 2} | dict.fromkeys(FEW, 3)
    for g, n in counts.items():
        h.seen(today("join", group=g, group_name=name_of(g), user=f"{g[:3]}_new", user_name="新人"))
        h.seen(*(today(text=f"消息{k}", group=g, group_name=name_of(g), user=f"{g[:3]}_u{k % 3}", after=30)
                 for k in range(n)))
    for day in range(1, 8):
        today.t = datetime(2026, 3, 20, 12, 0, tzinfo=CST) - timedelta(days=day)  # one factory: unique event ids
        h.seen(*(today(text="以前", group="g02@chatroom", group_name=name_of("g02@chatroom"), user="g02_old")
                 for _ in range(20)))


class FakeDrawer(ChartWorker):
    """Draws nothing: records the charts asked for (the worker's own child is tested elsewhere)."""

    drawn: list[str] = []

    async def hourly(self, title: str, series: Any, path: Path, *, subtitle: str | None = None,
                     labels: Any = None) -> Path:
        FakeDrawer.drawn.append(title)
        return Path(path)


async def test_the_stats_digest_is_a_text_and_a_csv_without_charts_while_a_few_groups_keep_theirs(
        open_harness: Open, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats_jobs, "ChartWorker", FakeDrawer)
    FakeDrawer.drawn = []
    h = await open_harness(stats.FEATURE, config(tmp_path))
    seed_stats(h)
    actions, _ = await h.run_job("stats:22:00", STATS_DUE)
    text, attachment = to(actions, "op_many")
    assert (text.rule, text.action, attachment.action) == ("stats_report/digest", "send", "send_file")
    assert (text.data["messages"], text.data["quiet"], len(text.data["groups"])) == (30 + 2 + 5 * 9, 1, 12)
    body = text.text or ""
    assert "12 个群" in body and "消息 77 条" in body and "1 个群今天没有消息" in body
    busiest, quietest = body.split("比平时热闹")[1].split("比平时冷清")
    assert "群g01 30 条（平时 0）" in busiest and "群g02 2 条（平时 20）" in quietest.split("\n")[0]
    assert "群g00" not in body  # no message: counted, not listed
    assert "qunbot stats --group" in body and "网页后台" in body
    raw, rows = read_csv(attachment.path)
    assert raw.startswith(b"\xef\xbb\xbf") and rows[0] == list(h.config.model.defaults.stats.digest_csv_header)
    by_group = {r[0]: r for r in rows[1:]}
    assert list(by_group) == MANY  # a row per group, in name order
    assert (by_group["g02@chatroom"][1], by_group["g02@chatroom"][5], by_group["g02@chatroom"][-1]) == (
        "群g02", "2", "20.0")
    assert by_group["g00@chatroom"][5] == "0" and by_group["g01@chatroom"][3] == "1"  # messages; joins
    few = to(actions, "op_few")  # below the threshold: each group's text and chart, as before
    assert [(a.rule, a.action) for a in few] == [("stats_report", "send"), ("stats_report", "send_image")] * 2
    assert len(FakeDrawer.drawn) == 2 and not any(a.action == "send_image" for a in to(actions, "op_many"))


async def test_when_every_recipient_gets_a_digest_no_chart_process_starts(
        open_harness: Open, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def must_not_start(self: ChartWorker) -> None:
        raise AssertionError("the chart process was started")

    monkeypatch.setattr(ChartWorker, "_start", must_not_start)
    h = await open_harness(stats.FEATURE, config(tmp_path).split("groups:")[0])  # no op_few: all 14 to op_many
    seed_stats(h)
    actions, notes = await h.run_job("stats:22:00", STATS_DUE)
    assert [(a.rule, a.action, a.user) for a in actions] == [("stats_report/digest", "send", "op_many"),
                                                             ("stats_report/digest", "send_file", "op_many")]
    assert actions[0].data["groups"].keys() == {*MANY, *FEW} and not any("chart not drawn" in n for n in notes)


def test_the_digest_templates_and_setting_are_checked_when_the_config_loads(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown placeholder"):
        Config.from_text(config(tmp_path, extra="  purge: {digest_text: '{groups} {nope}'}"))
    with pytest.raises(ConfigError, match="unknown placeholder"):
        Config.from_text(config(tmp_path, extra="  stats: {digest_group_item: '{name} {talkers}'}"))
    with pytest.raises(ConfigError, match="report_digest_from"):
        Config.from_text(config(tmp_path, -1))
    assert Config.from_text(config(tmp_path)).model.bot.report_digest_from == 10
