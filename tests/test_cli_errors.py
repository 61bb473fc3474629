"""The command line answers mistakes in one line with exit status 2 (no traceback), never creates a
database that a reading command was pointed at by mistake, and answers "as of" a replayed date."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli_args import db_url
from tests.conftest import ROOT


def qunbot(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def assert_one_line_error(out: subprocess.CompletedProcess[str], *words: str) -> None:
    assert out.returncode == 2, out
    assert "Traceback" not in out.stderr, out.stderr
    assert all(w in out.stderr for w in words), out.stderr


@pytest.mark.parametrize(("given", "url"), [
    ("data/x.db", "sqlite+aiosqlite:///data/x.db"),
    ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ("postgresql://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
    ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
])
def test_database_urls_are_taken_with_their_async_drivers(given: str, url: str) -> None:
    assert db_url(given) == url


def test_a_bad_url_a_missing_database_and_a_zero_count_are_one_line_errors(tmp_path: Path) -> None:
    assert_one_line_error(qunbot("why", "e1", "--db", "mysql://h/db"), "unsupported database")
    missing = tmp_path / "typo.db"
    assert_one_line_error(qunbot("why", "e1", "--db", str(missing)), "没有这个数据库文件")
    assert not missing.exists()
    assert_one_line_error(qunbot("stats", "--group", "g", "--png", str(tmp_path / "x.png"), "--days", "0"),
                          "must be at least 1")


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    out = qunbot("migrate", "--db", "postgresql+asyncpg://nobody@127.0.0.1:9/none")
    assert_one_line_error(out, "无法连接或打开数据库")


def test_purge_list_as_of_a_replayed_date(tmp_path: Path) -> None:
    events = [{"id": f"e{n}", "ts": f"2026-02-0{d}T10:00:00+08:00", "type": "text", "group": "g1",
               "group_name": "回放群", "user": u, "user_name": u, "text": "大家好呀今天也加油"}
              for n, (d, u) in enumerate([(1, "old"), (1, "quiet"), (9, "old")])]
    transcript = tmp_path / "t.jsonl"
    transcript.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    db = tmp_path / "r.db"
    assert qunbot("replay", "--config", str(ROOT / "config.yaml"), str(transcript), "--db", str(db),
                  "--out", str(tmp_path / "out.jsonl")).returncode == 0
    out = qunbot("purge-list", "--group", "g1", "--db", str(db), "--days", "5", "--at", "2026-02-10T12:00+08:00",
                 "--config", str(ROOT / "config.yaml"))
    assert out.returncode == 0, out.stderr
    assert "quiet" in out.stdout and "\nold\t" not in out.stdout and "9 天" in out.stdout
