"""`qunbot --log-format json`: one JSON object a line with ts, level, logger, message, extra fields and the
event being handled; tokens masked."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.app import start_runtime
from bot.clock import DrivenClock
from bot.events import Outcome
from bot.feature import Band, Handler
from bot.logs import EVENT_ID, JsonFormatter, TextFormatter
from rules.config import Config
from rules.reload import ConfigHolder
from tests.conftest import BASIC_CONFIG, ROOT, EventFactory, FakePlatform, feed

SECRET = "s3cret-token-0123456789abcdef"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The `qunbot` loggers' records as JSON lines in a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter((SECRET,)))
    root = logging.getLogger("qunbot")
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(level)


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_line_carries_ts_level_logger_message_and_extra_fields(captured: io.StringIO) -> None:
    log = logging.getLogger("qunbot.test")
    log.info("hello %s", "世界", extra={"job_id": "announce:1", "count": 3})
    token = EVENT_ID.set("e42")
    try:
        log.warning("inside an event")
    finally:
        EVENT_ID.reset(token)
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed with token %s", SECRET)
    first, second, third = lines(captured)
    assert set(first) == {"ts", "level", "logger", "message", "job_id", "count"}
    assert first["level"] == "INFO" and first["logger"] == "qunbot.test" and first["message"] == "hello 世界"
    assert first["job_id"] == "announce:1" and first["count"] == 3
    assert datetime.fromisoformat(first["ts"].replace("Z", "+00:00")).utcoffset().total_seconds() == 0
    assert "event_id" not in first
    assert second["event_id"] == "e42" and second["level"] == "WARNING"
    assert third["level"] == "ERROR" and "ValueError: boom" in third["exc"]
    assert SECRET not in captured.getvalue() and third["message"] == "failed with token ***"


def test_the_text_format_masks_the_token_too() -> None:
    record = logging.LogRecord("qunbot.x", logging.INFO, __file__, 1, "token=%s", (SECRET,), None)
    line = TextFormatter((SECRET,)).format(record)
    assert line.endswith("INFO qunbot.x: token=***") and SECRET not in line


async def test_a_failing_handler_logs_the_event_id(tmp_path: Path, captured: io.StringIO) -> None:
    async def broken(_event: object, _ctx: object) -> Outcome:
        raise RuntimeError("handler bug")

    clock = DrivenClock(datetime.fromisoformat("2026-03-02T02:00:00+00:00"))
    rt = await start_runtime(ConfigHolder(Config.from_text(BASIC_CONFIG)), f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
                             clock, FakePlatform(), [Handler("broken", Band.COMMAND, broken)])
    try:
        event = EventFactory()(text="你好")
        await feed(rt, clock, event)
    finally:
        await rt.close()
    [line] = [entry for entry in lines(captured) if entry["logger"] == "qunbot.core"]
    assert line["event_id"] == event.id and line["level"] == "ERROR"
    assert line["message"] == f"handler broken failed on event {event.id}; skipped"
    assert "RuntimeError: handler bug" in line["exc"]
    assert rt.bot.stats.handler_errors == {"broken": 1}


def test_qunbot_log_format_json_writes_json_lines_without_the_token(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(json.dumps({"id": "m1", "ts": "2026-03-02T10:00:00+08:00", "type": "text", "group": "g1",
                                      "user": "u1", "user_name": "小明", "text": "你好"}) + "\n", encoding="utf-8")
    env = {**os.environ, "QUNBOT_WEB_TOKEN": SECRET, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "--log-format", "json", "replay", str(transcript)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # log records are JSON objects; what the command itself prints on stderr (replay's summary) is not a record
    lines = done.stderr.splitlines()
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    assert not [line for line in lines if re.match(r"\d{4}-\d\d-\d\d \S+ (DEBUG|INFO|WARNING|ERROR) ", line)]
    assert logged, "replay without a config.yaml says it runs on the embedded defaults"
    assert all({"ts", "level", "logger", "message"} <= set(entry) for entry in logged)
    assert any(e["logger"] == "qunbot" and "embedded defaults" in e["message"] for e in logged)
    assert SECRET not in done.stderr and SECRET not in done.stdout
