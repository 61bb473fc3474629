"""The report charts drawn in a child process (handlers/stats/draw.py ChartWorker): the same PNGs as
drawn here, errors as the job notes them, a dead child replaced, and a bot that never loads matplotlib."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from handlers.stats import charts
from handlers.stats import draw as draw_module
from handlers.stats.draw import ChartFailed, ChartWorker, FontMissing
from tests.features.stats.test_charts import DAYS, HOURLY, TREND, check_png

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def cjk_font() -> charts.CjkFont:
    try:
        return charts.find_cjk_font()
    except FontMissing as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs a CJK font for the chart tests: {exc}", pytrace=False)
        pytest.skip(str(exc))


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def same_pixels(a: Path, b: Path) -> bool:
    with Image.open(a) as x, Image.open(b) as y:
        return ImageChops.difference(x.convert("RGB"), y.convert("RGB")).getbbox() is None


async def test_the_child_draws_the_same_charts_as_this_process(cjk_font, tmp_path: Path) -> None:
    charts.render_hourly("运营群 · 日报", HOURLY, tmp_path / "here-h.png", subtitle="统计 11-15 ~ 11-21")
    charts.render_trend("运营群 · 周报", DAYS, TREND, tmp_path / "here-t.png")
    async with ChartWorker() as draw:
        hourly = await draw.hourly("运营群 · 日报", HOURLY, tmp_path / "child-h.png", subtitle="统计 11-15 ~ 11-21")
        trend = await draw.trend("运营群 · 周报", DAYS, TREND, tmp_path / "child-t.png")
        assert draw.started == 1  # one child for the batch
    assert hourly == tmp_path / "child-h.png" and trend == tmp_path / "child-t.png"
    check_png(hourly, (1080, 840))
    check_png(trend, (1080, 1230))
    assert same_pixels(hourly, tmp_path / "here-h.png") and same_pixels(trend, tmp_path / "here-t.png")


async def test_errors_come_back_as_the_job_notes_them(cjk_font, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    async with ChartWorker() as draw:
        with pytest.raises(ChartFailed, match=r"^ValueError: render_hourly: '11-21' has 23 counts"):
            await draw.hourly("x", [("11-21", [1] * 23)], tmp_path / "bad.png")
        check_png(await draw.hourly("日报", HOURLY, tmp_path / "after.png"), (1080, 840))  # the child goes on
        assert draw.started == 1
    monkeypatch.setenv(charts.ENV_FONT, str(tmp_path / "none.ttf"))
    async with ChartWorker() as draw:
        with pytest.raises(FontMissing, match=r"none\.ttf is not a file"):  # as itself: `qunbot` explains it
            await draw.hourly("日报", HOURLY, tmp_path / "h.png")
    assert names(tmp_path) == ["after.png"]


async def test_a_child_that_dies_costs_one_chart_and_is_replaced(cjk_font, tmp_path: Path) -> None:
    draw = ChartWorker()
    try:
        await draw.hourly("日报", HOURLY, tmp_path / "a.png")
        assert draw._proc is not None
        draw._proc.kill()  # killed by the OOM killer, say, while the next chart is asked for
        with pytest.raises(ChartFailed, match="the chart process"):
            await draw.hourly("日报", HOURLY, tmp_path / "b.png")
        check_png(await draw.hourly("日报", HOURLY, tmp_path / "c.png"), (1080, 840))
        assert draw.started == 2
    finally:
        await draw.close()
    assert draw._proc is None


async def test_a_long_batch_is_drawn_by_fresh_children_in_turn(cjk_font, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(draw_module, "CHARTS_PER_CHILD", 2)  # matplotlib's caches grow with each title
    async with ChartWorker() as draw:
        for n in range(5):
            check_png(await draw.hourly(f"第{n}群", HOURLY, tmp_path / f"{n}.png"), (1080, 840))
        assert draw.started == 3


async def test_no_chart_no_child() -> None:
    async with ChartWorker() as draw:
        pass
    assert draw.started == 0


def test_the_bot_draws_a_chart_without_loading_matplotlib(cjk_font, tmp_path: Path) -> None:
    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "import handlers\n"
        "from handlers.stats.draw import ChartWorker\n"
        "async def main():\n"
        "    async with ChartWorker() as draw:\n"
        f"        await draw.hourly('日报', [('11-21 周六', [1] * 24)], Path({str(tmp_path / 'p.png')!r}))\n"
        "asyncio.run(main())\n"
        "loaded = sorted(m for m in ('matplotlib', 'numpy', 'PIL', 'handlers.stats.charts') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    check_png(tmp_path / "p.png", (1080, 840))
