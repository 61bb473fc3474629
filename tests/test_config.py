"""Config: defaults + overrides, errors with FILE:LINE:COL, env secrets, re2 regexes, check-config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rules.config import Config
from rules.loader import ConfigError
from tests.conftest import ROOT


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        Config.from_text(text)
    return [str(i) for i in info.value.issues]


def test_unknown_match_mode_is_reported_at_its_line_and_column() -> None:
    text = """defaults:
  keywords:
    - patterns: [a]
      reply: x
    - patterns: [b]
      match: contians
      reply: y
"""
    assert errors_of(text) == [
        "config.yaml:6:7: defaults.keywords[1].match: unknown mode 'contians' (exact, contains, question, regex)"]


def test_every_error_is_listed_not_only_the_first() -> None:
    text = """bot:
  timezone: Mars/Base
  colour: red
defaults:
  welcome:
    text: "hi {user_nmae}"
"""
    errs = errors_of(text)
    assert len(errs) == 3
    assert errs[0].startswith("config.yaml:2:3: bot.timezone: unknown time zone 'Mars/Base'")
    assert errs[1] == "config.yaml:3:3: bot.colour: unknown key 'colour'"
    assert errs[2].startswith("config.yaml:6:5: defaults.welcome.text: unknown placeholder {user_nmae}")


def test_yaml_syntax_error_names_the_place() -> None:
    errs = errors_of("defaults:\n  rules: [unclosed\n")
    assert len(errs) == 1 and errs[0].startswith("config.yaml:3:1: YAML:")


def test_duplicate_keys_are_errors() -> None:
    assert errors_of("bot:\n  name: a\n  name: b\n") == ["config.yaml:3:3: bot.name: duplicate key 'name'"]


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=lookahead)", r"(?<=x)y"])
def test_a_regex_re2_cannot_compile_is_a_config_error(pattern: str) -> None:
    text = f"defaults:\n  keywords:\n    - {{match: regex, patterns: ['{pattern}'], reply: x}}\n"
    errs = errors_of(text)
    assert len(errs) == 1 and "re2 cannot compile" in errs[0] and errs[0].startswith("config.yaml:3:")
    assert "b'" not in errs[0]  # the reason as text, not Python bytes


def test_an_evil_regex_compiles_and_runs_in_linear_time() -> None:
    config = Config.from_text("defaults:\n  keywords:\n    - {match: regex, patterns: ['(a+)+$'], reply: x}\n")
    matcher = config.group("g").compiled["keywords"]
    assert matcher.first_match("a" * 50_000 + "!") is None  # a backtracking engine would never return


def test_group_overrides_merge_by_glob_then_id() -> None:
    config = Config.from_text("""
defaults:
  rules: 默认群规
  welcome: {text: "默认欢迎", rename_thanks: "谢谢"}
  keywords: [{name: a, patterns: [a], reply: A}]
groups:
  "训练营-*":
    rules: 训练营群规
    welcome: {text: "训练营欢迎"}
  "g42":
    keywords: [{name: b, patterns: [b], reply: B}]
""")
    plain = config.group("g1", "闲聊群").settings
    camp = config.group("g2", "训练营-3期").settings
    both = config.group("g42", "训练营-9期")
    assert plain.rules == "默认群规" and [k.name for k in plain.keywords] == ["a"]
    assert camp.rules == "训练营群规" and camp.welcome.text == "训练营欢迎"
    assert camp.welcome.rename_thanks == "谢谢"  # mappings merge key by key
    assert both.overrides == ("训练营-*", "g42")
    assert both.settings.rules == "训练营群规" and [k.name for k in both.settings.keywords] == ["b"]


def test_an_error_inside_an_override_points_into_the_override() -> None:
    text = """defaults:
  rules: ok
groups:
  "g1":
    checkin: {base_points: -3}
"""
    errs = errors_of(text)
    assert len(errs) == 1 and errs[0].startswith("config.yaml:5:") and "groups.g1.checkin.base_points" in errs[0]


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    errs = errors_of("wechaty:\n  token: abc123\n")
    assert errs == ["config.yaml:2:3: wechaty.token: secrets come from the environment: "
                    "write ${WECHATY_PUPPET_SERVICE_TOKEN}"]
    monkeypatch.setenv("QB_TOKEN", "s3cret")
    assert Config.from_text("wechaty:\n  token: ${QB_TOKEN}\n").model.wechaty.token == "s3cret"
    monkeypatch.delenv("QB_TOKEN")
    assert "QB_TOKEN is not set" in errors_of("wechaty:\n  token: ${QB_TOKEN}\n")[0]
    assert Config.from_text("wechaty:\n  token: ${QB_TOKEN:-}\n").model.wechaty.token == ""


def test_shipped_and_embedded_configs_validate() -> None:
    shipped = Config.from_file(ROOT / "config.yaml")
    assert len(shipped.model.defaults.keywords) >= 4
    assert shipped.model.defaults.announcements and shipped.model.defaults.purge.enabled
    camp = shipped.group("x@chatroom", "运营深度精选-3期")
    assert camp.settings.tags == ("camp-2026",)
    assert Config.embedded().group("g").compiled["keywords"].first_match("群规") is not None


def test_check_config_prints_every_error_and_exits_nonzero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("defaults:\n  keywords:\n    - {match: contians, patterns: [a], reply: x}\nbot: {zone: x}\n",
                   encoding="utf-8")
    cli = [sys.executable, "-m", "bot.cli", "check-config"]
    result = subprocess.run([*cli, str(bad)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert "bad.yaml:3:8: defaults.keywords[0].match: unknown mode 'contians'" in result.stdout
    assert "bad.yaml:4:7: bot.zone: unknown key 'zone'" in result.stdout
    good = subprocess.run([*cli, str(ROOT / "config.yaml")], capture_output=True, text=True, cwd=ROOT)
    assert good.returncode == 0 and "没有错误" in good.stdout


KEYS = """
defaults:
  admins: [boss]
groups:
  "12345@chatroom":
    admins: [camp_admin]
    rules: 训练营群规
  "训练营-*":
    admins: [glob_admin]
    rules: 训练营通用群规
  "城市群-*":
    trust_name_match: true
    operators: [city_op]
"""


def test_an_id_key_matches_that_id_only_and_never_a_name() -> None:
    config = Config.from_text(KEYS)
    own = config.group("12345@chatroom", "训练营-一班").settings
    assert own.admins == ("camp_admin",) and own.rules == "训练营群规"
    renamed = config.group("99999@chatroom", "12345@chatroom").settings  # a member renamed their group
    assert renamed.admins == ("boss",) and renamed.rules == ""


def test_a_name_match_grants_no_admins_or_operators_unless_trusted() -> None:
    config = Config.from_text(KEYS)
    glob = config.group("777@chatroom", "训练营-二班").settings
    assert glob.rules == "训练营通用群规" and glob.admins == ("boss",)  # settings apply, the grant does not
    trusted = config.group("888@chatroom", "城市群-杭州").settings
    assert trusted.operators == ("city_op",)
    assert config.name_matched_grants() == ["训练营-*"]


def test_check_config_warns_about_name_matched_grants(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(KEYS, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "bot.cli", "check-config", str(path)], capture_output=True,
                         text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and "训练营-*" in out.stdout and "trust_name_match" in out.stdout


def test_a_config_file_is_laid_over_the_embedded_defaults(tmp_path: Path) -> None:
    path = tmp_path / "only-observe.yaml"
    path.write_text("defaults:\n  mode: observe\n", encoding="utf-8")
    settings = Config.from_file(path).group("g1", "某群").settings
    embedded = Config.embedded().model.defaults
    assert settings.mode == "observe"
    assert [k.name for k in settings.keywords] == [k.name for k in embedded.keywords]
    assert settings.rules == embedded.rules
    # what the file says wins: a list replaces the embedded one
    path.write_text("defaults:\n  keywords: []\n", encoding="utf-8")
    assert Config.from_file(path).model.defaults.keywords == ()
