"""The moderation queue: the world's ads with their checks' reasons, filters and pages, labelling a message
as /ad and /notad do, undoing a warning (with an audit note), and CSRF on its buttons."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from bot.web.moderation import PAGE, UNDONE
from handlers.ads.repository import AdsRepository
from storage.store import Store
from tests.web.conftest import Console

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def queue_ids(page: str) -> list[str]:
    return re.findall(r'<tr id="e-([^"]+)">', page)


async def queue(c: Console, query: str = "") -> str:
    response = await c.client.get(f"/moderation{query}")
    assert response.status == 200
    return await response.text()


async def add_offences(c: Console, n: int, kind: str, group: str = "demo0@chatroom") -> list[str]:
    """n more offences (no event behind them), newer than the world's."""
    ids = [f"extra{kind}{i}" for i in range(n)]
    now = c.console.now()

    def work(store: Store) -> list:
        for i, event_id in enumerate(ids):
            store.repository(AdsRepository).record_ad_offence(event_id, group, "g0u1", now + timedelta(seconds=i),
                                                              kind, kind, "https://spam.example/<b>x</b>")
        return []

    await c.console.write(work)
    return ids


async def test_the_queue_lists_the_worlds_ads_newest_first_with_their_reasons(signed_in: Console) -> None:
    page = await queue(signed_in)
    ads = signed_in.console.repo(AdsRepository)
    expected = await ads.offence_page(limit=PAGE)
    assert len(expected) == await ads.offence_count() > 10
    assert queue_ids(page) == [r["event_id"] for r in expected]
    assert [r["ts"] for r in expected] == sorted((r["ts"] for r in expected), reverse=True)
    assert f"共 {len(expected)} 条" in page
    assert "变形的微信/QQ 写法加账号" in page and "<b>1.5</b>" in page  # a check's reason and score
    assert "ads/contact" in page and "计入警告" in page
    assert "兼职刷单日结300" in page  # the message itself
    # markup members wrote (an ad, names, a group name) is shown as text
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


async def test_filters_by_group_and_kind_narrow_the_queue(signed_in: Console) -> None:
    everything = queue_ids(await queue(signed_in))
    one_group = await queue(signed_in, "?group=demo1%40chatroom")
    ids = queue_ids(one_group)
    assert 0 < len(ids) < len(everything) and set(ids) <= set(everything)
    assert "上海运营交流群" in one_group
    assert queue_ids(await queue(signed_in, "?kind=text")) == everything
    assert queue_ids(await queue(signed_in, "?kind=link")) == []
    links = await add_offences(signed_in, 2, "link")
    page = await queue(signed_in, "?kind=link")
    assert queue_ids(page) == links[::-1] and "链接" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert queue_ids(await queue(signed_in, "?kind=link&group=demo1%40chatroom")) == []
    assert queue_ids(await queue(signed_in, "?kind=nonsense")) == [*links[::-1], *everything][:PAGE]


async def test_the_queue_is_paged(signed_in: Console) -> None:
    world = await signed_in.console.repo(AdsRepository).offence_count()
    extra = await add_offences(signed_in, max(1, PAGE + 1 - world), "qrcode")
    first, second = await queue(signed_in), await queue(signed_in, "?page=2")
    assert len(queue_ids(first)) == PAGE and len(queue_ids(second)) == world + len(extra) - PAGE
    assert not set(queue_ids(first)) & set(queue_ids(second))
    assert queue_ids(first)[0] == extra[-1]  # newest first
    assert "第 2 / 2 页" in second
    assert 'href="/moderation?page=2"' in first and 'href="/moderation"' in second


async def test_not_an_ad_records_a_ham_sample_as_notad_does(signed_in: Console) -> None:
    c = signed_in
    event_id = queue_ids(await queue(c, "?group=demo2%40chatroom"))[0]
    csrf = await c.csrf("/moderation")
    response = await c.client.post("/moderation/label", allow_redirects=False, data={
        "csrf": csrf, "event": event_id, "label": "ham", "group": "demo2@chatroom", "kind": "text"})
    assert response.status == 302
    back = urlsplit(response.headers["Location"])
    assert back.path == "/moderation" and back.fragment == f"e-{event_id}"
    assert parse_qs(back.query) == {"group": ["demo2@chatroom"], "kind": ["text"], "done": ["ham"]}
    samples = await c.console.repo(AdsRepository).ad_samples()  # what `qunbot train-ads` reads
    payload = await c.console.store.events.event_payload(event_id)
    assert payload is not None
    assert [(s["event_id"], s["label"], s["decided_by"], s["text"]) for s in samples] == [
        (event_id, "ham", "web console", payload["text"])]
    notes = await c.console.store.audit.audit_of_event(event_id)
    assert any(n["rule"] == "admin/web" and "by web console" in n["data"]["reason"] for n in notes)
    page = await (await c.client.get(response.headers["Location"])).text()
    assert "已记为不是广告" in page and "已标记：不是广告" in page
    # changing one's mind: the latest decision wins
    await c.client.post("/moderation/label", data={"csrf": csrf, "event": event_id, "label": "ad"})
    samples = await c.console.repo(AdsRepository).ad_samples()
    assert [(s["label"], s["decided_by"]) for s in samples] == [("ad", "web console")]


async def test_a_message_without_text_cannot_be_a_sample(signed_in: Console) -> None:
    (event_id,) = await add_offences(signed_in, 1, "card")
    csrf = await signed_in.csrf("/moderation")
    response = await signed_in.client.post("/moderation/label", allow_redirects=False,
                                           data={"csrf": csrf, "event": event_id, "label": "ad"})
    assert response.status == 302 and "done=no_text" in response.headers["Location"]
    assert await signed_in.console.repo(AdsRepository).ad_samples() == []


async def test_undoing_a_warning_drops_the_count_by_one_and_leaves_a_note(signed_in: Console) -> None:
    c = signed_in
    ads = c.console.repo(AdsRepository)
    event_id = queue_ids(await queue(c))[0]
    offence = await ads.ad_offence(event_id)
    assert offence is not None and offence["excused_by"] is None
    before = await ads.ad_warnings(offence["group_id"], offence["user_id"], EPOCH)
    csrf = await c.csrf("/moderation")
    response = await c.client.post("/moderation/undo", allow_redirects=False,
                                   data={"csrf": csrf, "event": event_id, "page": "1"})
    assert response.status == 302 and "done=undo" in response.headers["Location"]
    assert await ads.ad_warnings(offence["group_id"], offence["user_id"], EPOCH) == before - 1
    assert (await ads.ad_offence(event_id) or {})["excused_by"] == UNDONE
    notes = [n for n in await c.console.store.audit.audit_of_event(event_id) if n["rule"] == "admin/web"]
    assert len(notes) == 1 and notes[0]["status"] == "note" and notes[0]["data"]["by"] == "web console"
    assert "undone by web console" in notes[0]["data"]["reason"] and notes[0]["user_id"] == offence["user_id"]
    page = await (await c.client.get(response.headers["Location"])).text()
    assert "已撤销这次警告" in page and "已撤销（后台）" in page
    # once is enough: a second undo changes nothing
    response = await c.client.post("/moderation/undo", allow_redirects=False, data={"csrf": csrf, "event": event_id})
    assert "done=already" in response.headers["Location"]
    assert await ads.ad_warnings(offence["group_id"], offence["user_id"], EPOCH) == before - 1
    audit = await (await c.client.get("/audit?rule=admin%2Fweb")).text()
    assert "undone by web console" in audit and "web console" in audit


async def test_the_buttons_need_the_csrf_token(signed_in: Console) -> None:
    c = signed_in
    ads = c.console.repo(AdsRepository)
    event_id = queue_ids(await queue(c))[0]
    for path, data in (("/moderation/undo", {"event": event_id}), ("/moderation/label", {"event": event_id,
                                                                                         "label": "ham"})):
        assert (await c.client.post(path, data=data, allow_redirects=False)).status == 403
        forged = {**data, "csrf": "forged"}
        assert (await c.client.post(path, data=forged, allow_redirects=False)).status == 403
    assert (await ads.ad_offence(event_id) or {})["excused_by"] is None
    assert await ads.ad_samples() == []


async def test_every_page_has_its_buttons_with_the_token(signed_in: Console) -> None:
    page = await queue(signed_in)
    csrf = await signed_in.csrf("/moderation")
    forms = re.findall(r'<form method="post" action="/moderation/(label|undo)">\s*<input type="hidden" '
                       r'name="csrf" value="([^"]+)">', page)
    assert len(forms) == 3 * len(queue_ids(page)) and {token for _, token in forms} == {csrf}
    assert "是广告" in page and "不是广告" in page and "撤销警告" in page
