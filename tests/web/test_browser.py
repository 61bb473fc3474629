"""The console in a real browser (Debian's chromium driven by Playwright): sign in, read the overview,
open a group, export its purge list and compare it with `qunbot purge-list`, mark a message not an ad,
validate a broken config and see line:col, ask the playground — with a screenshot of each page.

Screenshots go to the test's temp folder, or to QUNBOT_SCREENSHOTS when set (docs/screenshots holds the
ones the README shows: `QUNBOT_SCREENSHOTS=docs/screenshots make test` renews them).
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from bot.cli import main as qunbot
from handlers.ads.repository import AdsRepository
from tests.browser_harness import open_browser, require_browser
from tests.web.conftest import TOKEN, Console

WIDTH, HEIGHT = 1280, 900


def shots_folder(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("QUNBOT_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_an_operator_works_through_every_page_in_chromium(web: Console, tmp_path: Path) -> None:
    require_browser()
    # names on the purge list: members silent for 3 days (the world is 12 days long)
    text = web.config_path.read_text(encoding="utf-8")
    web.config_path.write_text(text.replace("inactive_days: 14, grace_days: 7", "inactive_days: 3, grace_days: 2"),
                               encoding="utf-8")
    web.console.holder.reload()
    base = str(web.client.make_url("/")).rstrip("/")
    shots = shots_folder(tmp_path)
    async with open_browser() as browser:
        context = await browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, accept_downloads=True,
                                            locale="zh-CN")
        page = await context.new_page()
        problems: list[str] = []
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)

        # sign in: a wrong token first, then the right one
        await page.goto(f"{base}/")
        assert page.url.startswith(f"{base}/login")
        await page.screenshot(path=shots / "login.png")
        await page.fill("input[name=token]", "not-the-token-at-all")
        await page.click("button[type=submit]")
        assert "口令不对" in await page.inner_text("main")
        await page.fill("input[name=token]", TOKEN)
        await page.click("button[type=submit]")
        assert page.url == f"{base}/"
        problems.clear()  # the refused sign-in above answered 401, as it should

        # the overview: every group, markup in a group name shown as text
        table = await page.inner_text("#groups")
        assert "运营深度精选-一班" in table and "上海运营交流群" in table
        assert '<script>alert("群")</script>' in table
        assert await page.locator("#groups tbody tr").count() == 4
        await page.screenshot(path=shots / "overview.png", full_page=True)
        await page.fill("input[name=q]", "上海")
        await page.click("form[role=search] button")
        assert await page.locator("#groups tbody tr").count() == 1

        # a group: its sections, the purge list's CSV equals `qunbot purge-list --csv`
        await page.click("text=上海运营交流群")
        assert "/groups/demo1%40chatroom" in page.url
        for section in ("#hourly", "#tiers", "#points", "#checkins", "#purge"):
            assert await page.locator(section).count() == 1, section
        assert await page.locator("#purge-list tbody tr").count() > 0
        await page.screenshot(path=shots / "group.png", full_page=True)
        async with page.expect_download() as info:
            await page.click("text=导出 CSV")
        download = await info.value
        got = tmp_path / "console.csv"
        await download.save_as(got)
        expected = tmp_path / "cli.csv"
        args = ["purge-list", "--group", "demo1@chatroom", "--csv", str(expected), "--config", str(web.config_path),
                "--db", web.db_url, "--at", web.console.now().isoformat()]
        assert await asyncio.to_thread(qunbot, args) == 0
        assert got.read_bytes() == expected.read_bytes()

        # moderation: mark the newest flagged message not an ad
        await page.click("header nav >> text=广告审核")
        first = page.locator("#queue tbody tr").first
        event_id = (await first.get_attribute("id") or "")[2:]
        await page.screenshot(path=shots / "moderation.png")
        await first.locator("button", has_text="不是广告").click()
        samples = await web.console.repo(AdsRepository).ad_samples()
        assert any(s["event_id"] == event_id and s["label"] == "ham" for s in samples)

        # config: a broken file is refused with line:col, the file is unchanged
        before = web.config_path.read_text(encoding="utf-8")
        await page.click("header nav >> text=配置")
        await page.fill("textarea[name=text]", "defaults:\n  checkin:\n    points: 很多\n  keywords: [\n")
        await page.click("button[value=validate]")
        check = await page.inner_text("#check")
        assert re.search(r"config\.yaml:\d+:\d+: ", check), check
        await page.screenshot(path=shots / "config.png")
        assert web.config_path.read_text(encoding="utf-8") == before

        # the playground: 签到 from a member → the check-in answer, nothing stored
        events_before = await web.console.store.count("events")
        await page.click("header nav >> text=规则试验")
        await page.select_option("select[name=group]", "demo1@chatroom")
        await page.click("form[action='/playground'] >> text=选择")
        await page.select_option("#member", "g1u1")
        await page.fill("#text", "签到")
        await page.click("form.trial button[type=submit]")
        result = await page.inner_text("#result")
        assert "checkin" in result
        await page.screenshot(path=shots / "playground.png", full_page=True)
        await web.console.store.refresh()
        assert await web.console.store.count("events") == events_before

        # the audit log shows the label written above, by the web console
        await page.click("header nav >> text=审计日志")
        await page.screenshot(path=shots / "audit.png")
        assert "web console" in await page.inner_text("main")

        # a phone-sized screen: the overview still reads
        phone = await browser.new_context(viewport={"width": 390, "height": 844},
                                          storage_state=await context.storage_state())
        small = await phone.new_page()
        await small.goto(f"{base}/")
        assert await small.locator("#groups tbody tr").count() == 4
        await small.screenshot(path=shots / "overview-phone.png", full_page=True)
        await phone.close()
        await context.close()
        assert not problems, problems
