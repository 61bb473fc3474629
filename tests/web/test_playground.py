"""The playground: a message tried as a member shows the handlers that ran, the actions with their texts and
every check's reason — and nothing is stored (row counts unchanged, a second try sees no trace of the first)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from aiohttp import FormData

from bot.app import open_store
from storage.base import Base
from tests.qr_images import poster
from tests.web.conftest import Console

GROUP = "demo0@chatroom"


async def _counts(web: Console) -> dict[str, int]:
    """Rows of every table, as a fresh look at the database sees them."""
    store = web.console.store
    await store.refresh()
    return {table: await store.count(table) for table in sorted(Base.metadata.tables)}


async def _try(web: Console, *, csrf: str | None = None, **fields: str) -> tuple[int, str]:
    data = {"csrf": csrf or await web.csrf("/playground"), "group": GROUP, **fields}
    response = await web.client.post("/playground", data=data)
    return response.status, await response.text()


def _actions(page: str) -> str:
    found = re.search(r'<table id="actions">(.*?)</table>', page, re.S)
    return found.group(1) if found else ""


def _notes(page: str) -> str:
    found = re.search(r'<ul class="ran" id="notes">(.*?)</ul>', page, re.S)
    return found.group(1) if found else ""


async def test_the_page_lists_groups_and_the_roster(signed_in: Console) -> None:
    page = await (await signed_in.client.get("/playground")).text()
    assert "运营深度精选-一班" in page and 'name="member"' not in page  # the roster once a group is picked
    page = await (await signed_in.client.get(f"/playground?group={GROUP}")).text()
    assert 'name="member"' in page and 'value="g0u1"' in page and 'enctype="multipart/form-data"' in page


async def test_checkin_shows_the_reply_and_nothing_is_stored(signed_in: Console) -> None:
    before = await _counts(signed_in)
    status, page = await _try(signed_in, who="tester1", text="签到")
    assert status == 200
    assert "<code>checkin</code>" in page and "后面的处理器不再处理" in page
    reply = re.search(r"签到成功✅ 今日第 (\d+) 名", _actions(page))
    assert reply is not None, page
    assert await _counts(signed_in) == before
    _status, again = await _try(signed_in, who="tester1", text="签到")  # the first try left no check-in behind
    assert f"签到成功✅ 今日第 {reply.group(1)} 名" in _actions(again)
    assert await _counts(signed_in) == before


async def test_a_member_from_the_roster_speaks_with_their_name(signed_in: Console) -> None:
    before = await _counts(signed_in)
    _status, page = await _try(signed_in, member="g0u1", text="请问群规是什么？")
    assert "<code>keywords/群规</code>" in _actions(page) and "友善交流" in _actions(page)
    name = re.search(r'<option value="g0u1"[^>]*>([^<（]+)', await (await signed_in.client.get(
        f"/playground?group={GROUP}")).text())
    assert name is not None and f"@{name.group(1)} " in _actions(page)
    assert await _counts(signed_in) == before


async def test_an_ad_shows_the_prompt_and_every_reason(signed_in: Console) -> None:
    before = await _counts(signed_in)
    status, page = await _try(signed_in, who="tester2", text="兼职刷单日结300，加V：abc12345")
    assert status == 200
    actions, notes = _actions(page), _notes(page)
    assert "ads/" in actions and "发广告要发红包" in actions
    assert "<code>ads/contact</code>" in notes and "联系方式" in notes and "score=" in notes
    assert await _counts(signed_in) == before


async def test_member_text_is_shown_as_text(signed_in: Console) -> None:
    status, page = await _try(signed_in, who="tester3", name='<script>alert("x")</script>',
                              text="<img src=x onerror=alert(1)> 加微信 xyz77665 领福利")
    assert status == 200
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


async def test_an_image_with_a_qr_code_is_read_and_removed_after(signed_in: Console, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    image = poster(tmp_path / "poster.png", "https://weixin.qq.com/g/AbCdEf", size=(600, 900), fmt="PNG")
    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(runs))
    before = await _counts(signed_in)
    form = FormData({"csrf": await signed_in.csrf("/playground"), "group": GROUP, "who": "tester4", "text": ""})
    form.add_field("image", image.read_bytes(), filename="poster.png", content_type="image/png")
    response = await signed_in.client.post("/playground", data=form)
    page = await response.text()
    assert response.status == 200, page
    assert "<code>ads/qrcode</code>" in page and "群邀请二维码" in _notes(page)
    assert not list(runs.glob("qunbot-playground-*"))  # the upload lived for the run only
    assert await _counts(signed_in) == before


async def test_uploads_that_are_not_images_or_too_big_are_refused(signed_in: Console) -> None:
    csrf = await signed_in.csrf("/playground")
    form = FormData({"csrf": csrf, "group": GROUP, "who": "tester5"})
    form.add_field("image", b"#!/bin/sh\necho hi\n", filename="run.sh", content_type="image/png")
    response = await signed_in.client.post("/playground", data=form)
    assert response.status == 400 and "只能上传 JPG、PNG、GIF、WEBP 或 BMP 图片" in await response.text()
    form = FormData({"csrf": csrf, "group": GROUP, "who": "tester5"})
    form.add_field("image", b"\x89PNG\r\n\x1a\n" + b"0" * (3 * 1024 * 1024), filename="big.png",
                   content_type="image/png")
    response = await signed_in.client.post("/playground", data=form)
    assert response.status == 413 and "超过 2 MB 的上限" in await response.text()


async def test_a_trial_needs_a_group_a_member_and_a_message(signed_in: Console) -> None:
    status, page = await _try(signed_in, who="tester6", text="  ")
    assert status == 400 and "请输入一条消息" in page
    status, page = await _try(signed_in, text="你好")
    assert status == 400 and "请选一位成员" in page
    status, page = await _try(signed_in, group="nope@chatroom", who="tester6", text="你好")
    assert status == 400 and "请先选一个群" in page


async def test_a_post_without_csrf_is_refused(signed_in: Console) -> None:
    response = await signed_in.client.post("/playground", data={"group": GROUP, "who": "x", "text": "签到"})
    assert response.status == 403


async def test_discard_drops_every_pending_write_and_the_store_goes_on(signed_in: Console) -> None:
    from handlers.points.repository import PointsRepository

    store = open_store(signed_in.db_url)
    await store.open()
    try:
        before = {t: await store.count(t) for t in ("events", "actions", "points_balances", "points_ledger")}
        now = signed_in.console.now()
        store.events.record_event("trial:1", now, GROUP, "g0u1", "text", {"text": "x"}, now)
        await store.repository(PointsRepository).award_points(GROUP, "g0u1", 3, "test", now)  # run at once
        assert await store.count("events") == before["events"] + 1  # a question sees the pending writes
        await store.discard()
        assert not store.dirty and not store.is_pending("trial:1")
        await store.commit()
        assert {t: await store.count(t) for t in before} == before
        store.events.record_event("real:1", now, GROUP, "g0u1", "text", {"text": "y"}, now)
        await store.commit()
        assert await store.count("events") == before["events"] + 1
    finally:
        await store.close()
