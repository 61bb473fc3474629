"""The config page: a group's effective settings with the layer that set each, and the config.yaml editor
(validate with check-config's messages, save with a backup, an atomic write and a reload)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from markupsafe import escape

from rules.check import check_file
from tests.web.conftest import Console

GROUP = "demo0@chatroom"  # named 运营深度精选-一班
LAYERED = """bot: {name: 小群管家, id: qunbot}
defaults:
  admins: [admin1]
  operators: [op1]
  checkin:
    base_points: 7
    streak_bonus: 2
groups:
  "*运营*":
    admins: [someone]
    welcome:
      text: 欢迎来到运营群
    checkin:
      streak_bonus: 3
  "demo0@chatroom":
    checkin:
      base_points: 9
"""
BROKEN = """defaults:
  checkin:
    base_points: many
  welcom:
    text: hi
"""


def _settings(page: str, table: str = "settings") -> dict[str, tuple[str, str]]:
    """path -> (value, layer) of a settings table of the page."""
    body = re.search(rf'<table id="{table}">(.*?)</table>', page, re.S)
    assert body is not None
    rows = re.findall(r'<tr[^>]*><td><code>([^<]+)</code></td><td class="val">(.*?)</td><td>(.*?)</td></tr>',
                      body.group(1), re.S)
    return {path: (html.unescape(value), html.unescape(layer)) for path, value, layer in rows}


def _textarea(page: str) -> str:
    found = re.search(r'<textarea name="text"[^>]*>\n(.*?)</textarea>', page, re.S)
    assert found is not None
    return html.unescape(found.group(1))


async def _post(web: Console, do: str, text: str, group: str = "") -> tuple[int, str]:
    csrf = await web.csrf("/config")
    response = await web.client.post(f"/config?group={group}", data={"csrf": csrf, "do": do, "text": text})
    return response.status, await response.text()


async def _layered(web: Console) -> None:
    web.config_path.write_text(LAYERED, encoding="utf-8")
    assert web.console.holder.reload()


async def test_effective_settings_name_the_layer_of_each_value(signed_in: Console) -> None:
    await _layered(signed_in)
    page = await (await signed_in.client.get(f"/config?group={GROUP}")).text()
    rows = _settings(page)
    assert rows["checkin.base_points"] == ("9", "groups「demo0@chatroom」（本群 id）")
    assert rows["checkin.streak_bonus"] == ("3", "groups「*运营*」（按群名匹配）")
    assert rows["welcome.text"] == ("欢迎来到运营群", "groups「*运营*」（按群名匹配）")
    assert rows["admins"] == ('["admin1"]', "config.yaml 的 defaults")  # a name-matched entry grants no admins
    assert rows["checkin.reply"][1] == "默认值（内置）"
    assert rows["rules"][1] == "默认值（内置）" and "友善交流" in rows["rules"][0]  # rules/defaults.yaml
    assert "其中的 admins 不生效" in page
    defaults = _settings(await (await signed_in.client.get("/config")).text())
    assert defaults["checkin.base_points"] == ("7", "config.yaml 的 defaults")
    assert defaults["checkin.streak_bonus"] == ("2", "config.yaml 的 defaults")
    assert defaults["welcome.text"][1] == "默认值（内置）"
    other = _settings(await (await signed_in.client.get("/config?group=demo2%40chatroom")).text())  # 读书会粉丝群
    assert other["checkin.base_points"] == ("7", "config.yaml 的 defaults")


async def test_secrets_are_never_shown(signed_in: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUNBOT_TEST_PUPPET_TOKEN", "puppet-secret-4711")
    monkeypatch.setenv("QUNBOT_TEST_DB_PASSWORD", "db-secret-0815")
    text = LAYERED.replace("bot: {name: 小群管家, id: qunbot}",
                           "bot: {name: 小群管家, id: qunbot, "
                           "database: 'postgresql+asyncpg://qunbot:${QUNBOT_TEST_DB_PASSWORD}@db/qunbot'}")
    signed_in.config_path.write_text(text + "wechaty: {token: '${QUNBOT_TEST_PUPPET_TOKEN}'}\n", encoding="utf-8")
    assert signed_in.console.holder.reload()
    assert signed_in.console.config.model.wechaty.token == "puppet-secret-4711"
    page = await (await signed_in.client.get(f"/config?group={GROUP}")).text()
    assert "puppet-secret-4711" not in page and "db-secret-0815" not in page
    rows = _settings(page, "global")
    assert rows["wechaty.token"] == ("（已设置，不显示）", "config.yaml")
    assert rows["bot.database"] == ("postgresql+asyncpg://qunbot:***@db/qunbot", "config.yaml")


async def test_validate_shows_every_error_with_line_and_column_as_check_config_does(signed_in: Console,
                                                                                   tmp_path: Path) -> None:
    before = signed_in.config_path.read_text(encoding="utf-8")
    status, page = await _post(signed_in, "validate", BROKEN)
    assert status == 200
    assert re.search(r"config\.yaml:3:\d+: defaults\.checkin\.base_points: ", page)
    assert re.search(r"config\.yaml:4:\d+: defaults\.welcom: unknown key", page)
    assert "共 2 处错误" in page
    other = tmp_path / "cli" / "config.yaml"
    other.parent.mkdir()
    other.write_text(BROKEN, encoding="utf-8")
    cli = check_file(other).lines()  # what `qunbot check-config` prints
    assert len(cli) == 3
    for line in cli:
        assert str(escape(line.replace(str(other), "config.yaml"))) in page
    assert _textarea(page) == BROKEN
    assert signed_in.config_path.read_text(encoding="utf-8") == before


async def test_validate_a_good_config_shows_its_warnings_and_summary(signed_in: Console) -> None:
    text = LAYERED.replace("  checkin:\n    base_points: 7", "  ads: {on_limit: kick, max_warnings: 1}\n  checkin:\n"
                                                              "    base_points: 7")
    status, page = await _post(signed_in, "validate", text)
    assert status == 200
    assert "警告：defaults：第一次发广告就移出群" in page
    assert "警告：groups「*运营*」按群名匹配" in page
    assert "config.yaml：没有错误（默认关键词规则 1 条，按群覆盖 2 项）" in page


async def test_save_writes_the_file_keeps_a_backup_and_reloads(signed_in: Console) -> None:
    original = signed_in.config_path.read_text(encoding="utf-8")
    status, page = await _post(signed_in, "save", LAYERED.replace("\n", "\r\n"), GROUP)
    assert status == 200, page
    assert "已保存，已重新加载" in page
    assert signed_in.config_path.read_text(encoding="utf-8") == LAYERED  # the browser's CRLF made LF
    backups = sorted(signed_in.config_path.parent.glob("config.yaml.bak-*"))
    assert [b.read_text(encoding="utf-8") for b in backups] == [original]
    assert re.fullmatch(r"config\.yaml\.bak-\d{8}-\d{6}", backups[0].name)
    assert signed_in.console.config.model.defaults.checkin.base_points == 7  # the config in force
    assert signed_in.console.config.group(GROUP, "运营深度精选-一班").settings.checkin.base_points == 9
    assert _settings(page)["checkin.base_points"] == ("9", "groups「demo0@chatroom」（本群 id）")
    assert not list(signed_in.config_path.parent.glob(".config.yaml.*"))  # no temp file left


async def test_at_most_ten_backups_are_kept(signed_in: Console) -> None:
    for n in range(12):
        status, page = await _post(signed_in, "save", LAYERED.replace("base_points: 7", f"base_points: {n + 10}"))
        assert status == 200 and "已保存，已重新加载" in page
    backups = list(signed_in.config_path.parent.glob("config.yaml.bak-*"))
    assert len(backups) == 10
    kept = {b.read_text(encoding="utf-8") for b in backups}
    assert LAYERED.replace("base_points: 7", "base_points: 20") in kept  # the newest backups stay
    assert LAYERED.replace("base_points: 7", "base_points: 10") not in kept
    assert signed_in.console.config.model.defaults.checkin.base_points == 21


async def test_an_invalid_save_is_refused_and_the_file_is_unchanged(signed_in: Console) -> None:
    before = signed_in.config_path.read_text(encoding="utf-8")
    config = signed_in.console.config
    status, page = await _post(signed_in, "save", BROKEN)
    assert status == 422
    assert "配置有错误，没有保存" in page and re.search(r"config\.yaml:3:\d+: ", page)
    assert _textarea(page) == BROKEN  # the operator's text stays to be fixed
    assert signed_in.config_path.read_text(encoding="utf-8") == before
    assert not list(signed_in.config_path.parent.glob("config.yaml.bak-*"))
    assert signed_in.console.config is config


async def test_without_a_config_file_saving_is_refused(signed_in: Console) -> None:
    signed_in.console.config_path = None
    page = await (await signed_in.client.get("/config")).text()
    assert "没有配置文件" in page and "友善交流" in _textarea(page)  # the embedded defaults, to validate
    status, page = await _post(signed_in, "save", LAYERED)
    assert status == 422 and "没有配置文件：机器人现在用的是内置默认值，网页上不能保存" in page
    status, page = await _post(signed_in, "validate", LAYERED)
    assert status == 200 and "没有错误" in page


async def test_markup_in_the_config_text_stays_text(signed_in: Console) -> None:
    text = LAYERED.replace("欢迎来到运营群", "'</textarea><script>alert(1)</script>'")
    status, page = await _post(signed_in, "save", text)
    assert status == 200
    assert "<script>alert(1)</script>" not in page and _textarea(page) == text


async def test_a_post_without_csrf_is_refused(signed_in: Console) -> None:
    before = signed_in.config_path.read_text(encoding="utf-8")
    response = await signed_in.client.post("/config", data={"do": "save", "text": LAYERED})
    assert response.status == 403
    response = await signed_in.client.post("/config", data={"csrf": "forged", "do": "save", "text": LAYERED})
    assert response.status == 403
    assert signed_in.config_path.read_text(encoding="utf-8") == before
