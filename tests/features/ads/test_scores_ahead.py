"""Ad scores computed ahead in a worker process (handlers/ads/ahead.py): the same verdicts as in place, a
replay with the worker acts exactly as one without it, and a failing worker only costs time."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.adapters.replay import replay
from handlers.ads import ahead
from handlers.ads.ahead import ScoresAhead
from handlers.ads.detector import TextDetector
from handlers.ads.folds import normalize_for_ads
from handlers.ads.handler import _spec
from handlers.ads.model import load_model
from rules.config import Config
from tests.conftest import ROOT

TEXTS = ["大家早上好", "兼职刷单日结300，加V：abc12345", "薇芯 d k 8 8 8 8 6 低息秒批", "ba696gnim信微加",
         "周末一起去爬山吗？" * 3, "正常聊天，" * 400 + "加微信 abc12345 兼职日结", ""]


def wait_for(scores: ScoresAhead, spec: ahead.Spec, text: str) -> ahead.Scored:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = scores.take(spec, text)
        if found is not None:
            return found
        time.sleep(0.02)
    raise AssertionError("the worker gave no verdict within a minute")


def test_the_worker_gives_the_verdicts_scoring_in_place_gives() -> None:
    config = Config.from_file(ROOT / "config.yaml")
    spec = _spec(config, config.model.defaults.ads)
    here = TextDetector(dict(spec[0]), spec[1], load_model(spec[2]), chat=spec[3])
    scores = ScoresAhead()
    try:
        assert scores.take(spec, TEXTS[1]) is None  # nothing asked for yet
        scores.submit(spec, TEXTS)
        for text in TEXTS:
            total, kind, results, flat = wait_for(scores, spec, text)
            assert (total, kind, list(results)) == here.score(text)
            assert flat == normalize_for_ads(text)
            if text == TEXTS[1]:
                assert total >= config.model.defaults.ads.threshold  # the ad is one
        assert scores.take(spec, TEXTS[1]) is not None  # kept for a text repeated soon after
        in_flight = len(scores._in_flight)
        scores.submit(spec, [TEXTS[1], TEXTS[1]])
        assert len(scores._in_flight) == in_flight  # known verdicts are not asked for again
        scores.submit(spec, ["字" * (ahead.MAX_TEXT_CHARS + 1)])
        assert not scores._in_flight  # a very long text is scored in place
    finally:
        scores.close()


def test_a_worker_that_fails_is_logged_once_and_texts_are_scored_in_place(caplog: pytest.LogCaptureFixture) -> None:
    scores = ScoresAhead()
    broken_spec = (((1, 2, 3),), (), None, True)  # pitch words the worker cannot build a detector from
    with caplog.at_level(logging.WARNING, logger="qunbot.ads"):
        scores.submit(broken_spec, ["加V abc12345"])  # type: ignore[arg-type]
        deadline = time.monotonic() + 60
        while scores.usable and time.monotonic() < deadline:
            scores.take(broken_spec, "加V abc12345")  # type: ignore[arg-type]
            time.sleep(0.02)
    assert not scores.usable
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "scored in place" in caplog.records[0].message
    scores.submit(broken_spec, ["x"])  # type: ignore[arg-type]  # no new worker
    assert scores._pool is None


def test_the_worker_never_runs_ahead_without_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    config = Config.from_file(ROOT / "config.yaml")
    spec = _spec(config, config.model.defaults.ads)
    scores = ScoresAhead()
    monkeypatch.setattr(ahead, "MAX_READY", 50)
    try:
        for n in range(10):
            scores.submit(spec, [f"第{n}批的第{i}句话" for i in range(20)])
        assert len(scores._in_flight) <= ahead.MAX_IN_FLIGHT
        deadline = time.monotonic() + 60
        while scores._in_flight and time.monotonic() < deadline:
            scores.take(spec, "")
            time.sleep(0.02)
        assert len(scores._ready) <= 50
    finally:
        scores.close()


def transcript(path: Path, n: int) -> None:
    rng = random.Random(5)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    chat = ["大家好", "今天的课太有用了", "有人一起吃饭吗", "收到", "签到"]
    ads = ["兼职刷单日结300，加V：abc12345", "低息贷款秒批，联系微信 dk88886", "代里招募，躺赚佣金，私聊 qq 12345678"]
    lines = []
    for i in range(n):
        text = rng.choice(ads) if rng.random() < 0.1 else f"{rng.choice(chat)}{'' if rng.random() < 0.5 else i}"
        lines.append({"id": f"e{i}", "ts": (start + timedelta(seconds=20 * i)).isoformat(), "type": "text",
                      "group": f"g{i % 7}", "group_name": f"群{i % 7}", "user": f"u{rng.randrange(60)}",
                      "user_name": "小明", "text": text})
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")


def run_replay(tmp_path: Path, name: str, read_ahead: bool = True) -> list[dict]:
    config = Config.from_file(ROOT / "config.yaml")
    out = io.StringIO()
    status = asyncio.run(replay(config, tmp_path / "t.jsonl", db_url=f"sqlite+aiosqlite:///{tmp_path / name}",
                                until=None, out=out, read_ahead=read_ahead))
    assert status == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_replay_reading_ahead_acts_exactly_as_one_scoring_in_place(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    transcript(tmp_path / "t.jsonl", 1_600)  # more than one chunk: the later chunks are read ahead
    used: list[int] = []
    take = ScoresAhead.take

    def counted(self: ScoresAhead, spec: ahead.Spec, text: str) -> ahead.Scored | None:
        for future in list(self._in_flight):  # a slow machine: wait, so that the worker's verdicts are used
            future.result(timeout=60)
        found = take(self, spec, text)
        used.append(found is not None)
        return found

    monkeypatch.setattr(ScoresAhead, "take", counted)
    monkeypatch.setattr(ahead, "AHEAD", fresh := ScoresAhead())
    monkeypatch.setattr("handlers.ads.handler.AHEAD", fresh)
    if not fresh.usable:
        pytest.skip("one CPU: the worker is never used")
    try:
        with_worker = run_replay(tmp_path, "a.db")
    finally:
        fresh.close()
    assert sum(used) > 0  # the worker's verdicts were used
    assert used[0]  # the first chunk's too: the worker started on it while the store opened
    monkeypatch.setattr("handlers.ads.handler.AHEAD", empty := ScoresAhead())
    used.clear()
    in_place = run_replay(tmp_path, "b.db", read_ahead=False)
    assert not any(used) and empty._pool is None  # no worker: every text scored in place
    assert with_worker == in_place
    assert any(a["rule"].startswith("ads/") for a in in_place)  # the ads were caught both ways


def test_a_replay_of_one_chunk_starts_no_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    transcript(tmp_path / "t.jsonl", 300)  # one chunk: handled before a worker could help
    monkeypatch.setattr(ahead, "AHEAD", fresh := ScoresAhead())
    monkeypatch.setattr("handlers.ads.handler.AHEAD", fresh)
    assert run_replay(tmp_path, "a.db") and fresh._pool is None


WORKER_THEN_KILLED = """
import sys, time
from handlers.ads.ahead import ScoresAhead
from handlers.ads.handler import _spec
from rules.config import Config
if __name__ == "__main__":
    config = Config.from_file("config.yaml")
    spec = _spec(config, config.model.defaults.ads)
    scores = ScoresAhead()
    scores.submit(spec, ["大家好"])
    while scores._in_flight:
        scores.take(spec, "")
        time.sleep(0.05)
    print(*scores._pool._processes, flush=True)
    time.sleep(600)
"""


def test_the_worker_ends_when_the_bot_is_killed() -> None:
    bot = subprocess.Popen([sys.executable, "-c", WORKER_THEN_KILLED], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(pid) for pid in bot.stdout.readline().split()]  # type: ignore[union-attr]
        assert workers and all(Path(f"/proc/{pid}").exists() for pid in workers)
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers), "the worker outlived the bot"


def alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # not our child: raises; reaps nothing
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False
