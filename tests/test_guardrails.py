"""Risky settings (kick on the first ad, a purge of members quiet for days, auto-kick without a dry run)
are warned about by check-config and on reload, refused with strict: true, and told to operators."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.app import start_runtime, tell_operators_of_risks
from bot.clock import DrivenClock
from handlers import FEATURES
from rules.config import Config
from rules.guardrails import risks
from rules.reload import ConfigHolder
from tests.conftest import ROOT, FakePlatform

SAFE = "defaults:\n  operators: [op1]\n"
KICK_FIRST = SAFE + "  ads: {on_limit: kick, max_warnings: 1}\n"
PURGE = SAFE + "  purge: {{auto_kick: {mode}, inactive_days: {days}}}\n"


def codes(config: Config, before: Config | None = None) -> list[str]:
    return [f"{r.where}:{r.code}" for r in risks(config, before)]


def test_the_shipped_config_has_no_risky_setting() -> None:
    assert risks(Config.from_file(ROOT / "config.yaml")) == []


def test_each_risk_is_named_once_where_it_is_set() -> None:
    assert codes(Config.from_text(KICK_FIRST + 'groups:\n  "g@chatroom": {rules: x}\n')) == ["defaults:ads_kick_first"]
    assert codes(Config.from_text(PURGE.format(mode="on", days=3))) == ["defaults:purge_short",
                                                                         "defaults:purge_no_dry_run"]
    assert codes(Config.from_text(PURGE.format(mode="dry_run", days=3))) == []
    # from a dry run to on: the dry run happened
    before = Config.from_text(PURGE.format(mode="dry_run", days=14))
    assert codes(Config.from_text(PURGE.format(mode="on", days=14)), before) == []


def _check_config(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "bot.cli", "check-config", str(path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)


def test_check_config_warns_and_strict_refuses(tmp_path: Path) -> None:
    warned = _check_config(tmp_path, KICK_FIRST)
    assert warned.returncode == 0 and "警告：defaults：第一次发广告就移出群" in warned.stdout
    refused = _check_config(tmp_path, "strict: true\n" + KICK_FIRST)
    assert refused.returncode == 2 and "strict" in refused.stdout


def test_a_reload_that_turns_a_risk_on_is_reported_and_strict_keeps_the_old_config(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(SAFE, encoding="utf-8")
    holder = ConfigHolder(Config.from_file(path), path)
    told: list[list[str]] = []
    holder.risk_listeners.append(lambda found: told.append([r.code for r in found]))
    path.write_text(KICK_FIRST, encoding="utf-8")
    assert holder.reload() and told == [["ads_kick_first"]]
    path.write_text(KICK_FIRST + "  rules: 改了群规\n", encoding="utf-8")
    assert holder.reload() and len(told) == 1  # still on, not newly turned on: not said again
    strict = "strict: true\n" + SAFE
    path.write_text(strict, encoding="utf-8")
    assert holder.reload()
    path.write_text("strict: true\n" + KICK_FIRST, encoding="utf-8")
    assert not holder.reload() and holder.current.model.defaults.ads.max_warnings != 1


async def test_operators_are_told_by_direct_message(db_url: str, clock: DrivenClock) -> None:
    platform = FakePlatform()
    rt = await start_runtime(ConfigHolder(Config.from_text(KICK_FIRST)), db_url, clock, platform, FEATURES)
    try:
        found = risks(rt.bot.config)
        assert await tell_operators_of_risks(rt.bot, found)
        await rt.bot.commit()
        await rt.outbox.drain()
        sent = [a for a in platform.sent if a.rule == "config/risk"]
        assert [a.user for a in sent] == ["op1"] and "第一次发广告就移出群" in (sent[0].text or "")
    finally:
        await rt.close()
