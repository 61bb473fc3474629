"""What the retention job holds in memory until its commit stays small: the journal keeps every statement a
job executes and every row it rewrites (to run them again if the commit fails), so each daily trim is one
statement built once (about 2 KB a group; 54 KB when each group built its own), and a run rewrites at most
BATCH_ROWS rows, the groups it does not finish going on in runs of their own."""

from __future__ import annotations

import gc
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest

from bot.feature import JobContext
from handlers import retention
from handlers.retention import jobs, repository
from handlers.retention.repository import RetentionRepository
from tests.features.conftest import OpenHarness
from tests.features.retention.test_retention_job import DUE, at, config_for, payloads

GROUPS = 300


async def test_the_trims_of_a_thousand_groups_wait_for_their_commit_in_little_memory(
        harness: OpenHarness, tmp_path: Path) -> None:
    h = await harness(retention.FEATURE, config_for(tmp_path))
    repo = h.store.repository(RetentionRepository)
    before = DUE - timedelta(days=30)
    await repo.trim_details("warm-up", before)  # the statements' compiled forms are cached once
    await repo.trim_tools("warm-up", before, 7)
    gc.collect()
    tracemalloc.start()
    try:
        start, _peak = tracemalloc.get_traced_memory()
        for n in range(GROUPS):
            assert await repo.trim_details(f"g{n}", before) == 0
            assert await repo.trim_tools(f"g{n}", before, 7) == {"jielong": 0, "roll_calls": 0, "red_packets": 0}
        gc.collect()
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (held - start) / GROUPS < 5_000, f"{(held - start) / GROUPS:.0f} bytes a group until the commit"
    await h.store.commit()


async def test_a_full_batch_goes_on_group_by_group_in_runs_of_their_own(
        harness: OpenHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "BATCH_ROWS", 3)
    monkeypatch.setattr(repository, "PAGE", 2)
    h = await harness(retention.FEATURE, config_for(tmp_path))
    h.seen(*(at(300 - n)(text=f"旧{n}", id=f"a{n}", group="g1") for n in range(5)),
           *(at(300 - n)(text=f"旧{n}", id=f"b{n}", group="g2") for n in range(3)),
           at(1)(text="新的", id="c0", group="g3"))
    ctx = JobContext(h.config, h.clock, DUE, h.store.members, h.repo, h.memory)
    h.clock.set(DUE)
    await jobs.run("04:00", ctx)
    assert any("events 4," in n and "4 group(s) go on in runs of their own" in n for n in ctx.notes), ctx.notes
    pending = list(ctx.timers)
    assert sorted(t.key for t in pending) == ["more:", "more:g1", "more:g2", "more:g3"]
    assert all(t.name == "more" and t.due == DUE + jobs.AGAIN_AFTER for t in pending)
    runs = []
    while pending:  # each run is a job of its own: the core commits it before the next
        _actions, notes, again = await h.fire(pending.pop(0))
        runs += notes
        pending += again
    assert sorted(runs) == [  # g2's 3 rows fill a batch: one more run finds the table done
        "retention of direct messages: events 0, actions 0, media 0",
        "retention of g1: events 1, actions 0, media 0",
        "retention of g2: events 0, actions 0, media 0",
        "retention of g2: events 3, actions 0, media 0; 1 group(s) go on in runs of their own",
        "retention of g3: events 0, actions 0, media 0"]
    await h.store.commit()
    got = await payloads(h)
    assert all("text" not in got[i] for i in (*(f"a{n}" for n in range(5)), "b0", "b1", "b2"))
    assert got["c0"]["text"] == "新的"
