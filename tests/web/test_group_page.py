"""The group page: activity by hour, tiers, the boards and the purge list with real numbers from the demo
world; its CSV equal to `qunbot purge-list --csv`; a removal selected, confirmed and queued through the
outbox (only members still on the list); an unknown group and a POST without CSRF refused."""

from __future__ import annotations

import asyncio
import html
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main as qunbot
from bot.web.group_page import hourly_svg
from handlers.checkin.repository import CheckinRepository
from handlers.levels.ladder import tier_of, tier_since
from handlers.levels.repository import LevelsRepository
from handlers.points.repository import PointsRepository
from handlers.purge.listing import purge_list
from handlers.purge.repository import PurgeRepository
from storage.tables import ACTIONS, ACTIVITY_TYPES, MEMBERS
from tests.web.conftest import Console

GROUP = "demo0@chatroom"
URL = "/groups/demo0%40chatroom"


def section(page: str, name: str) -> str:
    found = re.search(rf'<section id="{name}">(.*?)</section>', page, re.S)
    assert found is not None, name
    return found.group(1)


def rows(part: str) -> list[list[str]]:
    """The body rows of the first table in `part`, as the cells' text."""
    body = re.search(r"<tbody>(.*?)</tbody>", part, re.S)
    assert body is not None
    cells = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells.findall(row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)]


def confirmation(page: str) -> str:
    """The member ids the confirmation page would post (a JSON list in one field)."""
    found = re.search(r'<input type="hidden" name="members" value="([^"]*)">', page)
    assert found is not None
    return html.unescape(found.group(1))


@pytest.fixture
async def purging(signed_in: Console) -> Console:
    """The console with a purge list that has names on it: 3 silent days (the 12-day world has no one
    silent for the default 14), for the console and for `qunbot purge-list` (the same config file)."""
    text = signed_in.config_path.read_text(encoding="utf-8")
    assert "inactive_days: 14, grace_days: 7" in text
    signed_in.config_path.write_text(text.replace("inactive_days: 14, grace_days: 7",
                                                  "inactive_days: 3, grace_days: 2"), encoding="utf-8")
    assert signed_in.console.holder.reload()
    return signed_in


async def listed(web: Console, group: str = GROUP) -> list[str]:
    console = web.console
    settings = console.config.group(group).settings
    found = await purge_list(console.repo(PurgeRepository), console.config, group, settings, console.now())
    return [c.user_id for c in found]


async def test_the_page_shows_the_group_with_numbers_from_the_world(signed_in: Console) -> None:
    response = await signed_in.client.get(URL)
    assert response.status == 200
    page = await response.text()
    console = signed_in.console
    now, tz = console.now(), console.config.tz
    local = now.astimezone(tz)
    day = local.date().isoformat()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)

    messages = await console.store.events.event_count(GROUP, ACTIVITY_TYPES, midnight, now)
    assert messages > 0 and f"到现在 {messages} 条" in section(page, "hourly")
    assert section(page, "hourly").count("<rect ") == 48

    board = await console.repo(CheckinRepository).checkin_board(GROUP, day, 50)
    assert board, "the world has check-ins this morning"
    shown = rows(section(page, "checkins"))
    assert [r[1] for r in shown] == [b["display_name"] or b["user_id"] for b in board]
    assert [int(r[0]) for r in shown] == list(range(1, len(board) + 1))
    assert f"共 {len(board)} 人" in section(page, "checkins")

    points = rows(section(page, "points"))
    values = [int(r[2]) for r in points]
    assert len(values) >= 5 and values == sorted(values, reverse=True)
    balances = await console.repo(PointsRepository).balances(GROUP)
    assert values[0] == max(balances.values())

    tiers = rows(section(page, "tiers"))
    assert [r[0].split("（")[0].strip() for r in tiers] == ["核心", "活跃", "普通", "沉默"]
    members = (await console.store.members.group_sizes([GROUP]))[GROUP][1]
    assert sum(int(r[1]) for r in tiers) == members and f"{members} 位成员" in page
    # as the levels feature tells each member their tier (one member at a time here)
    levels = console.config.group(GROUP).settings.levels
    present = await console.store.read(select(MEMBERS.c.user_id).where(
        (MEMBERS.c.group_id == GROUP) & MEMBERS.c.left_at.is_(None)))
    expected = dict.fromkeys(levels.tiers, 0)
    for (user,) in present:
        counts = await console.repo(LevelsRepository).member_activity(GROUP, tier_since(now, levels), user)
        expected[tier_of(counts.get(user, (0, 0, 0)), levels)] += 1
    assert {r[0].split("（")[0].strip(): int(r[1]) for r in tiers} == expected
    assert sum(1 for n in expected.values() if n) >= 2

    assert "导出 CSV" in page and 'id="purge-empty"' in page  # nobody silent for 14 days yet


async def test_the_purge_list_is_shown_with_a_checkbox_per_member_and_csrf(purging: Console) -> None:
    page = await (await purging.client.get(URL)).text()
    ids = await listed(purging)
    assert len(ids) >= 3
    boxes = re.findall(r'<input type="checkbox" name="member" value="([^"]+)"', page)
    assert boxes == [html.escape(i) for i in ids]
    form = section(page, "purge")
    assert f'action="{URL}/remove"' in form and 'name="csrf" value="' in form and "移除所选" in form
    assert f"{len(ids)} 人超过 3 天" in form


async def test_an_unknown_group_is_404(signed_in: Console) -> None:
    response = await signed_in.client.get("/groups/nobody%40chatroom")
    assert response.status == 404
    assert "没有这个群" in await response.text()
    assert (await signed_in.client.get("/groups/nobody%40chatroom/purge.csv")).status == 404
    csrf = await signed_in.csrf()
    response = await signed_in.client.post("/groups/nobody%40chatroom/remove", data={"csrf": csrf, "member": "x"})
    assert response.status == 404


async def test_the_csv_is_the_file_qunbot_purge_list_writes(purging: Console, tmp_path: Path) -> None:
    response = await purging.client.get(f"{URL}/purge.csv")
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.content_type == "text/csv"
    body = await response.read()
    out = tmp_path / "cli.csv"
    at = purging.console.now().isoformat()
    code = await asyncio.to_thread(qunbot, ["purge-list", "--group", GROUP, "--db", purging.db_url, "--config",
                                            str(purging.config_path), "--at", at, "--csv", str(out)])
    assert code == 0
    assert body == out.read_bytes()
    assert body.startswith(b"\xef\xbb\xbf") and len(body.decode("utf-8-sig").splitlines()) == \
        len(await listed(purging)) + 1


async def pending_kicks(web: Console) -> list[dict]:
    await web.console.store.refresh()
    result = await web.console.store.read(select(ACTIONS).where(ACTIONS.c.action == "kick"))
    return [dict(r._mapping) for r in result]


async def test_remove_confirm_queues_kicks_through_the_outbox(purging: Console) -> None:
    ids = await listed(purging)
    chosen = ids[:2]
    csrf = await purging.csrf(URL)
    form = [("csrf", csrf), *(("member", i) for i in chosen), ("member", "g0u_not_a_member"), ("member", "admin1")]
    response = await purging.client.post(f"{URL}/remove", data=form)
    assert response.status == 200
    page = await response.text()
    assert "确认移除 2 人" in page and "2 人不在当前清理名单上或已在等待移除，已忽略" in page
    assert f'action="{URL}/remove/confirm"' in page and f'name="csrf" value="{csrf}"' in page
    assert await pending_kicks(purging) == []  # nothing queued before the confirmation

    confirmed = confirmation(page)
    assert json.loads(confirmed) == chosen
    response = await purging.client.post(f"{URL}/remove/confirm", allow_redirects=False,
                                         data={"csrf": csrf, "members": confirmed, "member": "admin1"})
    assert response.status == 303
    assert response.headers["Location"].endswith("?queued=2&ignored=1")
    notice = await (await purging.client.get(response.headers["Location"])).text()
    assert "已提交移除 2 人，机器人发送后在审计日志可见" in notice and "已移除" not in notice

    kicks = await pending_kicks(purging)
    assert sorted(k["user_id"] for k in kicks) == sorted(chosen)
    for k in kicks:
        assert k["status"] == "pending" and k["rule"] == "purge_report/web" and k["group_id"] == GROUP
        assert k["id"].startswith("web:") and k["data"]["by"] == "web console"
        assert k["data"]["days_silent"] >= 3 and k["data"]["group_name"] == "运营深度精选-一班"
        assert "天未活跃" in k["body"]["reason"]
        told = k["data"]["otherwise"]
        assert [t["user"] for t in told] == ["op1"] and all(t["action"] == "send" for t in told)
        assert "未能移出" in told[0]["text"]

    # queued, not sent yet: shown as waiting, and not queued a second time
    page = await (await purging.client.get(URL)).text()
    boxes = re.findall(r'<input type="checkbox" name="member" value="([^"]+)"', page)
    assert boxes == [i for i in ids if i not in chosen] and page.count("（等待移除）") == 2
    response = await purging.client.post(f"{URL}/remove/confirm", allow_redirects=False,
                                         data={"csrf": csrf, "members": confirmed})
    assert response.headers["Location"].endswith("?queued=0&ignored=2")
    assert len(await pending_kicks(purging)) == 2


async def test_a_member_not_on_the_list_is_not_queued(purging: Console) -> None:
    csrf = await purging.csrf(URL)
    response = await purging.client.post(f"{URL}/remove/confirm", allow_redirects=False,
                                         data=[("csrf", csrf), ("member", "admin1"), ("member", "nobody")])
    assert response.status == 303 and response.headers["Location"].endswith("?queued=0&ignored=2")
    assert await pending_kicks(purging) == []
    page = await (await purging.client.get(response.headers["Location"])).text()
    assert "没有提交任何移除" in page


async def test_select_all_asks_to_confirm_the_whole_list(purging: Console) -> None:
    csrf = await purging.csrf(URL)
    page = await (await purging.client.post(f"{URL}/remove", data={"csrf": csrf, "all": "1"})).text()
    ids = await listed(purging)
    assert json.loads(confirmation(page)) == ids
    # `all` is not taken at the confirmation: only the members it names
    response = await purging.client.post(f"{URL}/remove/confirm", data={"csrf": csrf, "all": "1"},
                                         allow_redirects=False)
    assert response.headers["Location"].endswith("?queued=0&ignored=0")
    assert await pending_kicks(purging) == []


async def test_posts_without_csrf_are_refused(purging: Console) -> None:
    member = (await listed(purging))[0]
    for path in (f"{URL}/remove", f"{URL}/remove/confirm"):
        response = await purging.client.post(path, data={"member": member}, allow_redirects=False)
        assert response.status == 403
        response = await purging.client.post(path, data={"member": member, "csrf": "forged"}, allow_redirects=False)
        assert response.status == 403
    assert await pending_kicks(purging) == []


def test_the_chart_holds_numbers_only() -> None:
    svg = str(hourly_svg([0] * 8 + [3, 5] + [0] * 14, [1.5] * 24))
    assert svg.count("<rect ") == 48 and "<script" not in svg
    assert re.sub(r"[\d.\s]", "", "".join(re.findall(r"<title>([^<]*)</title>", svg))).replace("时今天", "") \
        .replace("时平均", "") == ""
