"""The commands that take a while: a progress bar on stderr only when it is a terminal, a summary line
always, stdout untouched; `qunbot migrate` on SQLite and on PostgreSQL, from an older revision."""

from __future__ import annotations

import asyncio
import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import bindparam, text

from bot.progress import LinesAbove, Progress
from storage.base import UTCDateTime
from storage.dialect import make_engine
from storage.migrate import _alembic_config, head_revision
from tests.conftest import ROOT
from tests.test_replay import make_transcript

QUNBOT = [sys.executable, "-m", "bot.cli"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_is_drawn_only_on_a_terminal_and_lines_go_above_it() -> None:
    plain = io.StringIO()
    with Progress("work", 10, stream=plain) as bar:
        lines = LinesAbove(bar)
        bar.advance(4)
        print("7: not JSON", file=lines)
    assert plain.getvalue() == "7: not JSON\n" and lines.lines == 1 and not bar.shown

    terminal = Terminal()
    with Progress("work", 10, stream=terminal) as bar:
        lines = LinesAbove(bar)
        assert bar.shown
        bar.advance(4)
        bar.to(6)
        print("7: not JSON", file=lines)
    drawn = terminal.getvalue()
    assert "work" in drawn and "6/10" in drawn and "7: not JSON\n" in drawn and "\r" in drawn
    assert not bar.shown  # closed: the bar is cleared, the summary line comes next


def test_replay_on_a_terminal_draws_a_bar_on_stderr_and_writes_the_same_actions(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    make_transcript(transcript, 150)
    command = [*QUNBOT, "replay", "--config", str(ROOT / "config.yaml"), str(transcript)]
    piped = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr.splitlines() == [piped.stderr.splitlines()[-1]]  # the summary line and nothing else
    assert piped.stderr.startswith("replay: 150 events read, 0 bad lines, ")

    master, child = pty.openpty()  # stderr on a terminal (100 columns), stdout on a pipe
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=child, cwd=tmp_path)
    os.close(child)
    drawn = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not chunk:
                return
            drawn.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    stdout, _ = proc.communicate(timeout=300)
    reader.join(timeout=30)
    os.close(master)
    assert proc.returncode == 0
    assert stdout.decode("utf-8") == piped.stdout  # the actions, exactly as without a terminal
    shown = drawn.decode("utf-8", errors="replace")
    assert "\r" in shown and re.search(r"replay: +\d+%\|", shown), shown[:500]  # a bar was drawn...
    last = shown.replace("\r\n", "\n").rstrip("\n").split("\n")[-1]
    assert last.rsplit("\r", 1)[-1].startswith("replay: 150 events read, 0 bad lines, ")  # ...then the summary


async def _at_revision_0004_with_rows(url: str) -> None:
    from alembic import command

    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: command.upgrade(_alembic_config(sync), "0004"))
            at = bindparam("at", type_=UTCDateTime())
            await conn.execute(text("insert into members (group_id, user_id, display_name, first_seen_at, "
                                    "message_count) values ('g', 'u1', '老成员', :at, 7)").bindparams(at),
                               {"at": datetime(2026, 3, 1, tzinfo=UTC)})
            await conn.execute(text("insert into points_balances (group_id, user_id, balance, message_points, "
                                    "updated_at) values ('g', 'u1', 42, 0, :at)").bindparams(at),
                               {"at": datetime(2026, 3, 1, tzinfo=UTC)})
    finally:
        await engine.dispose()


async def _rows(url: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(
                "select m.user_id, m.display_name, m.message_count, p.balance from members m "
                "join points_balances p on p.group_id = m.group_id and p.user_id = m.user_id"))).all()]
    finally:
        await engine.dispose()


def test_migrate_brings_an_older_database_to_the_newest_schema_on_either_backend(
        any_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    asyncio.run(_at_revision_0004_with_rows(any_db_url))
    head = head_revision()
    command = ["migrate", "--config", str(ROOT / "config.yaml"), "--db", any_db_url]
    assert main(command) == 0
    first = capsys.readouterr()
    assert first.out == "database is at the newest schema\n"
    applied = int(head) - 4
    summary = rf"migrate: 0004 → {head}, {applied} revisions applied, \d+\.\d s\n"
    assert re.fullmatch(summary, first.err), first.err
    assert main(command) == 0
    again = capsys.readouterr().err
    assert re.fullmatch(rf"migrate: already at {head}, nothing to do, \d+\.\d s\n", again), again
    assert asyncio.run(_rows(any_db_url)) == [("u1", "老成员", 7, 42)]
