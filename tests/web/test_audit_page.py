"""The audit log page: newest first, keyset pages, filters by rule prefix, group, member and local dates,
and what members wrote shown as text."""

from __future__ import annotations

import re
from datetime import datetime

from bot.web.audit_page import PAGE
from tests.web.conftest import Console


def rows(page: str) -> list[list[str]]:
    """The table's rows as lists of cell texts (markup stripped, whitespace folded)."""
    body = page.split('<table id="audit">', 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if len(cells) > 1:
            out.append([" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells])
    return out


def older_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)">更早 →</a>', page)
    return found.group(1).replace("&amp;", "&") if found else None


async def get(c: Console, path: str) -> str:
    response = await c.client.get(path)
    assert response.status == 200, path
    return await response.text()


def times(table: list[list[str]]) -> list[datetime]:
    return [datetime.strptime(r[0], "%Y-%m-%d %H:%M:%S") for r in table]


async def test_the_log_is_newest_first_and_paged_without_overlap(signed_in: Console) -> None:
    first = await get(signed_in, "/audit")
    table = rows(first)
    assert len(table) == PAGE
    assert times(table) == sorted(times(table), reverse=True)
    link = older_link(first)
    assert link is not None and link.startswith("/audit?before=")
    second = await get(signed_in, link)
    later = rows(second)
    assert len(later) == PAGE and times(later)[0] <= times(table)[-1]
    assert "回到最新" in second


async def test_a_rule_prefix_filters_and_pages_to_the_end(signed_in: Console) -> None:
    c = signed_in
    seen: list[list[str]] = []
    link: str | None = "/audit?rule=ads"
    while link is not None:
        page = await get(c, link)
        seen += rows(page)
        link = older_link(page)
        assert link is None or "rule=ads" in link
    assert len(seen) > PAGE and all(r[2].startswith("ads") for r in seen)
    assert times(seen) == sorted(times(seen), reverse=True)
    expected = await c.console.store.audit.search(rule="ads", limit=500)
    assert [r[6].split()[-1] for r in seen] == [r["event_id"] for r in expected]  # no row twice, none missed
    purge = rows(await get(c, "/audit?rule=purge_report"))
    assert purge and all(r[2] == "purge_report" for r in purge)
    assert rows(await get(c, "/audit?rule=purge%25report")) == []  # LIKE wildcards are plain characters
    assert rows(await get(c, "/audit?rule=purge_r_port")) == []


async def test_group_member_and_dates_filter(signed_in: Console) -> None:
    c = signed_in
    group = rows(await get(c, "/audit?group=demo1%40chatroom&rule=checkin"))
    assert group and all(r[3] == "上海运营交流群" and r[2] == "checkin" for r in group)
    member = rows(await get(c, "/audit?member=g1u12"))
    assert member and all("g1u12" in r[4] for r in member)
    everyone = {r[4] for r in rows(await get(c, "/audit"))}
    assert len(everyone) > 1
    day = rows(await get(c, "/audit?from=2026-11-05&to=2026-11-05"))
    assert day and all(r[0].startswith("2026-11-05") for r in day)
    span = rows(await get(c, "/audit?rule=purge_report&from=2026-11-03&to=2026-11-04"))
    assert span and {r[0][:10] for r in span} <= {"2026-11-03", "2026-11-04"}
    assert rows(await get(c, "/audit?to=2026-10-01")) == []
    page = await get(c, "/audit?from=yesterday")
    assert "日期看不懂" in page and len(rows(page)) == PAGE  # a wrong date is reported, not used


async def test_markup_from_members_is_shown_as_text(signed_in: Console) -> None:
    page = await get(signed_in, "/audit?group=demo3%40chatroom")
    assert "<script>" not in page and "&lt;script&gt;alert(" in page
    assert "<img src=x" not in page
    page = await get(signed_in, '/audit?rule=<script>"&member=<b>')
    assert "<script>" not in page and "&lt;script&gt;&#34;" in page and rows(page) == []


async def test_a_post_without_csrf_is_refused(signed_in: Console) -> None:
    response = await signed_in.client.post("/audit", data={}, allow_redirects=False)
    assert response.status == 403
