"""A real browser for the web-console tests: Debian's chromium (`make browser`) driven by Python Playwright.

`playwright install` cannot download its own build here, so Playwright launches the system chromium through
`executable_path`. Tests call `require_browser()` first (skip when there is no browser, fail under CI=true), then
`async with open_browser() as browser: ...`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import Browser

# Keep in step with the browser target in the Makefile.
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")

# Headless, no sandbox (we run as root in a container), and none of Chromium's own network traffic
# (component updates, sync, field trials…): this network refuses it, noisily.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def find_chromium() -> str | None:
    """The chromium executable to launch: QUNBOT_CHROMIUM when set, else the first of CHROMIUM_PATHS present."""
    override = os.environ.get("QUNBOT_CHROMIUM")
    if override:
        return override if os.access(override, os.X_OK) else None
    return next((path for path in CHROMIUM_PATHS if os.access(path, os.X_OK)), None)


def browser_missing() -> str | None:
    """Why no browser test can run here (None when one can)."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing: run `make test` (it installs .[dev])"
    if find_chromium() is None:
        where = os.environ.get("QUNBOT_CHROMIUM") or " or ".join(CHROMIUM_PATHS)
        return f"chromium not found at {where}: run `make browser` (apt-get install chromium)"
    return None


def require_browser() -> str:
    """The chromium to launch; skips the test when there is none, except under CI=true, where that is a
    failure (CI must run every test)."""
    import pytest

    missing = browser_missing()
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs a real browser: {missing}", pytrace=False)
        pytest.skip(missing)
    chromium = find_chromium()
    assert chromium is not None
    return chromium


@contextlib.asynccontextmanager
async def open_browser() -> AsyncIterator[Browser]:
    """A headless chromium under Playwright's async API, closed (with Playwright) on exit."""
    from playwright.async_api import async_playwright

    executable = require_browser()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()
