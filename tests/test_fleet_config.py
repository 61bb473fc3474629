"""`accounts:` and `fleet:` in config.yaml, `qunbot run --account`, and one bot process per SQLite file
(a second `qunbot run` on the same file is refused in one line)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli_args import UsageError
from bot.fleet import choose_account, with_account
from bot.fleet.accounts import serves, settings_of
from rules.config import Config
from rules.loader import ConfigError
from rules.schema import SECRET_PATHS
from tests.conftest import ROOT

TWO = """
wechaty: {endpoint: "gw:1", token: "${TOKEN_MAIN:-}"}
accounts:
  - id: a
    endpoint: "gw-a:8788"
    token: "${TOKEN_A:-}"
    groups: all
  - id: wxid_b
    groups: ["12345@chatroom", "读书会-*"]
fleet: {lease_seconds: 30}
"""


def issues(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        Config.from_text(text, "c.yaml")
    return [str(i) for i in caught.value.issues]


def test_accounts_are_read_with_their_groups_and_the_lease() -> None:
    config = Config.from_text(TWO)
    a, b = config.model.accounts
    assert (a.id, a.endpoint, a.groups) == ("a", "gw-a:8788", "all")
    assert (b.id, b.endpoint, b.token, b.groups) == ("wxid_b", None, None, ("12345@chatroom", "读书会-*"))
    assert config.model.fleet.lease_seconds == 30
    assert Config.from_text("bot: {id: x}").model.accounts == ()
    assert Config.from_text("bot: {id: x}").model.fleet.lease_seconds == 60


def test_account_mistakes_are_reported_with_their_line() -> None:
    found = issues("accounts:\n  - {id: a, token: plain-secret}\n  - {id: 'b c', groups: 5}\n"
                   "  - {id: d, groups: []}\n  - {id: e, colour: red}\nfleet: {lease_seconds: 0}\n")
    assert found == [
        "c.yaml:2:13: accounts[0].token: secrets come from the environment: write ${AN_ENVIRONMENT_VARIABLE}",
        "c.yaml:3:6: accounts[1].id: account id 'b c': letters, digits and _ . @ - only (at most 64)",
        'c.yaml:3:17: accounts[1].groups: "all", or a list of group ids (…@chatroom) and name globs',
        'c.yaml:4:13: accounts[2].groups: "all", or a list of group ids (…@chatroom) and name globs',
        "c.yaml:5:13: accounts[3].colour: unknown key 'colour'",
        "c.yaml:6:9: fleet.lease_seconds: Input should be greater than or equal to 1",
    ]
    assert issues("accounts:\n  - {id: a}\n  - {id: a}\n") == [
        "c.yaml:1:1: accounts: account ids must differ: a is given more than once"]
    assert issues("accounts:\n  - {id: a, groups: some}\n") == [
        'c.yaml:2:13: accounts[0].groups: "all", or a list of group ids (…@chatroom) and name globs']


def test_account_tokens_are_secrets() -> None:
    assert ("accounts", 3, "token") in SECRET_PATHS and ("accounts", "0", "token") in SECRET_PATHS
    assert ("wechaty", "token") in SECRET_PATHS and ("accounts", 0, "endpoint") not in SECRET_PATHS


def test_the_account_to_run_as(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_A", "tok-a")
    config = Config.from_text(TWO)
    assert choose_account(config, "a").id == "a" and choose_account(config, "wxid_b").several
    with pytest.raises(UsageError, match=r"lists 2 accounts \(a, wxid_b\): choose one with --account ID"):
        choose_account(config, None)
    with pytest.raises(UsageError, match=r"no account 'c' in config\.yaml"):
        choose_account(config, "c")
    single = Config.from_text("bot: {id: robot}")
    assert choose_account(single, None) == choose_account(single, "robot")
    assert not choose_account(single, None).several
    with pytest.raises(UsageError, match="no accounts: list"):
        choose_account(single, "other")
    assert choose_account(Config.from_text("accounts: [{id: only}]"), None).id == "only"
    # the account's endpoint and token win over wechaty:'s; an account without them keeps wechaty:'s
    assert (with_account(config, "a").model.wechaty.endpoint, with_account(config, "a").model.wechaty.token) == (
        "gw-a:8788", "tok-a")
    assert with_account(config, "wxid_b").model.wechaty.endpoint == "gw:1"


def test_the_groups_an_account_serves() -> None:
    config = Config.from_text(TWO)
    a, b = settings_of(config, "a"), settings_of(config, "wxid_b")
    assert serves(a, "999@chatroom", "随便")
    assert serves(b, "12345@chatroom", None) and serves(b, "777@chatroom", "读书会-北京")
    assert not serves(b, "777@chatroom", "跑步群") and not serves(b, "777@chatroom", None)
    assert not serves(b, "other", "12345@chatroom")  # a key with "@" is an id, never a name


def test_qunbot_run_with_an_unknown_account_says_so_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("accounts: [{id: a}, {id: b}]\n", encoding="utf-8")
    for extra, expected in ((["--account", "zz"], "no account 'zz' in config.yaml (accounts: a, b)"),
                            ([], "choose one with --account ID")):
        done = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--config", str(config), "--db",
                               str(tmp_path / "x.db"), *extra], capture_output=True, text=True, timeout=60, cwd=ROOT,
                              stdin=subprocess.DEVNULL)
        assert done.returncode == 2 and expected in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_second_bot_process_on_one_sqlite_file_is_refused_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("bot: {id: bot}\n", encoding="utf-8")
    db = tmp_path / "bot.db"
    command = [sys.executable, "-m", "bot.cli", "run", "--config", str(config), "--db", str(db)]
    env = {**os.environ, "QUNBOT_LOG": "WARNING"}
    first = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        lock = tmp_path / "bot.db.lock"
        deadline = time.monotonic() + 30
        while not (lock.exists() and lock.read_text().strip() == str(first.pid)):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first bot did not take its lock"
            time.sleep(0.1)
        second = subprocess.run(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=60)
        assert second.returncode == 2
        assert second.stderr.strip().splitlines() == [
            f"qunbot: {db} is in use by another qunbot run (pid {first.pid}): SQLite serves one bot process; "
            f"several accounts need PostgreSQL (README: Several accounts on one PostgreSQL)"]
    finally:
        _out, err = first.communicate(input="", timeout=30)  # end of input: the console closes, the bot stops
    assert first.returncode == 0, err
    again = subprocess.run(command, cwd=ROOT, env=env, input="", capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr  # the lock went with the first process


def test_the_console_shows_the_accounts_but_never_their_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.web.config_page import global_settings

    monkeypatch.setenv("TOKEN_A", "supersecret-a")
    shown = {s.path: s.value for s in global_settings(Config.from_text(TWO))}
    assert shown["accounts.0.id"] == "a" and shown["accounts.0.endpoint"] == "gw-a:8788"
    assert shown["accounts.0.token"] == "（已设置，不显示）" and shown["accounts.1.token"] == "（未设置）"
    assert "supersecret-a" not in str(shown)
