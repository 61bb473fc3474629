"""The browser harness end to end: a real chromium fills and posts a form on a local aiohttp page."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp.web
import pytest

from tests.browser_harness import open_browser, require_browser

FORM = """<!doctype html><html><head><meta charset="utf-8"><title>echo</title></head><body>
<form method="post" action="/"><input type="text" name="text" id="text">
<button type="submit" id="send">Send</button></form>
{posted}</body></html>"""


async def page(request: aiohttp.web.Request) -> aiohttp.web.Response:
    posted = ""
    if request.method == "POST":
        text = str((await request.post()).get("text", ""))
        posted = f'<p id="posted">{html.escape(text)}</p>'
    return aiohttp.web.Response(text=FORM.format(posted=posted), content_type="text/html")


@pytest.fixture
async def site_url() -> AsyncIterator[str]:
    """The form page served on 127.0.0.1 at a free port."""
    app = aiohttp.web.Application()
    app.router.add_route("*", "/", page)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    await aiohttp.web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/"
    finally:
        await runner.cleanup()


async def test_fill_post_and_screenshot(site_url: str, tmp_path: Path) -> None:
    require_browser()
    async with open_browser() as browser:
        tab = await browser.new_page()
        await tab.goto(site_url)
        await tab.fill("#text", "你好 <qunbot>")
        async with tab.expect_navigation():
            await tab.click("#send")
        assert await tab.text_content("#posted") == "你好 <qunbot>"
        shot = tmp_path / "page.png"
        await tab.screenshot(path=str(shot))
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 8
