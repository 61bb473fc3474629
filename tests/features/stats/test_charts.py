"""The report charts (handlers/stats/charts.py): real PNGs drawn with a real CJK font, no tofu.

matplotlib's missing-glyph warning is an error in this module, so a character drawn as a box fails
the test. Without a CJK font the drawing tests skip locally (with the install hint) and fail under
CI=true; `make test` installs Debian's fonts-wqy-microhei as root (`make fonts`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageStat

from handlers.stats import charts
from handlers.stats.charts import FontMissing, find_cjk_font, render_hourly, render_trend, trend_size_in

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.filterwarnings(r"error:.*(Glyph .* missing from|missing from font)")

DAYS = ["11-15 周日", "11-16 周一", "11-17 周二", "11-18 周三", "11-19 周四", "11-20 周五", "11-21 周六"]
SHAPE = [2, 1, 0, 0, 0, 1, 3, 8, 20, 35, 40, 38, 30, 42, 45, 40, 36, 38, 50, 70, 95, 110, 80, 30]
HOURLY = [(day, [v * (8 + i) // 10 + (h * 7 + i) % 5 for h, v in enumerate(SHAPE)]) for i, day in enumerate(DAYS)]
TREND = {
    "消息": [675, 870, 996, 475, 1007, 565, 1162],
    "活跃人数": [57, 86, 54, 79, 64, 73, 57],
    "签到": [36, 46, 36, 12, 36, 19, 22],
}
LATEST_RGB = (0xE8, 0x59, 0x0C)  # the latest day's line in render_hourly


@pytest.fixture
def cjk_font() -> charts.CjkFont:
    """The CJK font, or a skip with the install hint (a failure under CI=true)."""
    try:
        return find_cjk_font()
    except FontMissing as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs a CJK font for the chart tests: {exc}", pytrace=False)
        pytest.skip(str(exc))


def check_png(path: Path, size: tuple[int, int]) -> Image.Image:
    """A valid PNG of that size that is not blank; returned as RGB."""
    assert path.is_file()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as im:
        im.verify()
    im = Image.open(path)
    assert im.format == "PNG"
    assert im.size == size
    rgb = im.convert("RGB")
    stddev = ImageStat.Stat(rgb.convert("L")).stddev[0]
    assert stddev > 15, f"the chart looks blank (pixel stddev {stddev:.1f})"
    return rgb


def count_near(im: Image.Image, rgb: tuple[int, int, int], tol: int = 24) -> int:
    """How many pixels are within tol of that colour on every channel."""
    pixels = np.asarray(im, dtype=np.int16)
    return int((np.abs(pixels - np.array(rgb, dtype=np.int16)) <= tol).all(axis=-1).sum())


def test_hourly_chart_is_a_readable_png(cjk_font, tmp_path):
    title = "运营深度精选-二班 · 昨日活跃时段"
    out = render_hourly(title, HOURLY, tmp_path / "hourly.png", subtitle="统计 11-15 ~ 11-21")
    assert out == tmp_path / "hourly.png"
    im = check_png(out, (1080, 840))
    assert count_near(im, LATEST_RGB) > 200, "the latest day's line is not drawn"
    assert list(tmp_path.iterdir()) == [out], "a temp file was left behind"


def test_hourly_single_day_and_a_silent_day(cjk_font, tmp_path):
    check_png(render_hourly("单日活跃", HOURLY[-1:], tmp_path / "one.png"), (1080, 840))
    silent = [(day, [0] * 24) for day in DAYS]
    check_png(render_hourly("静默群", silent, tmp_path / "zero.png", subtitle="当天没有消息"), (1080, 840))


def test_trend_chart_is_a_readable_png(cjk_font, tmp_path):
    out = render_trend("运营深度精选-二班 · 周报", DAYS, TREND, tmp_path / "trend.png")
    assert trend_size_in(3) == (7.2, 8.2)
    check_png(out, (1080, 1230))


def test_trend_of_a_month_and_of_one_series(cjk_font, tmp_path):
    days = [f"11-{d:02d}" for d in range(1, 31)]
    series = {"消息": [(d * 937) % 15000 for d in range(30)], "活跃人数": [(d * 31) % 90 for d in range(30)]}
    check_png(render_trend("月报", days, series, tmp_path / "month.png"), (1080, 885))
    check_png(render_trend("签到", DAYS[:1], {"签到": [0]}, tmp_path / "one.png"), (1080, 540))


def test_parent_folders_are_created_and_a_file_is_replaced(cjk_font, tmp_path):
    path = tmp_path / "reports" / "2026-11-21" / "hourly.png"
    render_hourly("日报", HOURLY, path)
    first = path.read_bytes()
    render_trend("周报", DAYS, TREND, path)
    assert path.read_bytes() != first
    check_png(path, (1080, 1230))


def test_characters_no_font_has_are_left_out_not_boxed(cjk_font, tmp_path):
    # An emoji group name: neither font has the glyph; the warning filter would turn a box into an error.
    render_hourly("🔥运营群🚀 日报", HOURLY, tmp_path / "emoji.png", subtitle="✨ 本周")
    # ₹ is in DejaVu Sans only: drawn through the fallback, not dropped and not boxed.
    assert "₹" in charts._Text(cjk_font)("₹ 与 ¥")
    render_trend("₹ 与 ¥", DAYS, {"消息": TREND["消息"]}, tmp_path / "fallback.png")


def test_a_long_title_stays_inside_the_image(cjk_font, tmp_path):
    title = "运营深度精选-二班 · 昨日活跃时段（一个很长很长的群名称，用来看标题会不会超出图片的宽度范围）"
    im = check_png(render_hourly(title, HOURLY, tmp_path / "long.png", subtitle=title), (1080, 840))
    band = np.asarray(im)[:120, -12:]  # title and subtitle rows, right edge
    assert (band > 235).all(), "the title runs off the right edge"


def test_bad_input_is_refused(cjk_font, tmp_path):
    with pytest.raises(ValueError, match="24"):
        render_hourly("x", [("11-21", [1] * 23)], tmp_path / "a.png")
    with pytest.raises(ValueError):
        render_hourly("x", [], tmp_path / "a.png")
    with pytest.raises(ValueError, match="negative"):
        render_hourly("x", [("11-21", [-1] + [0] * 23)], tmp_path / "a.png")
    with pytest.raises(ValueError, match="7 days"):
        render_trend("x", DAYS, {"消息": [1, 2]}, tmp_path / "b.png")
    with pytest.raises(ValueError):
        render_trend("x", [], {}, tmp_path / "b.png")
    assert not list(tmp_path.iterdir())


def test_concurrent_renders_in_threads_match_sequential_ones(cjk_font, tmp_path):
    render_hourly("并发", HOURLY, tmp_path / "ref-h.png")
    render_trend("并发", DAYS, TREND, tmp_path / "ref-t.png")
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            if i % 2:
                render_hourly("并发", HOURLY, tmp_path / f"h{i}.png")
            else:
                render_trend("并发", DAYS, TREND, tmp_path / f"t{i}.png")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in range(6):
        ref = Image.open(tmp_path / ("ref-h.png" if i % 2 else "ref-t.png")).convert("RGB")
        got = Image.open(tmp_path / (f"h{i}.png" if i % 2 else f"t{i}.png")).convert("RGB")
        assert ImageChops.difference(ref, got).getbbox() is None, f"render {i} differs"


def test_no_pyplot_and_no_glyph_warning_in_a_fresh_process(cjk_font, tmp_path):
    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('error')\n"
        "from pathlib import Path\n"
        "from handlers.stats.charts import render_hourly\n"
        f"render_hourly('日报', [('11-21 周六', [1] * 24)], Path({str(tmp_path / 'p.png')!r}))\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


def test_the_glyph_filter_catches_tofu():
    """The filter of this module really fails a chart drawn without Chinese glyphs."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1))
    FigureCanvasAgg(fig)
    fig.text(0.1, 0.5, "消息数", family="DejaVu Sans")
    with pytest.raises(UserWarning, match="missing from font"):
        fig.canvas.draw()


def test_no_font_raises_font_missing_not_tofu(monkeypatch, tmp_path):
    monkeypatch.delenv(charts.ENV_FONT, raising=False)
    monkeypatch.setattr(charts, "FONT_PATHS", (str(tmp_path / "none.ttc"),))
    with pytest.raises(FontMissing, match="fonts-wqy-microhei"):
        find_cjk_font()
    with pytest.raises(FontMissing, match="make fonts"):
        render_hourly("日报", HOURLY, tmp_path / "h.png")
    with pytest.raises(FontMissing):
        render_trend("周报", DAYS, TREND, tmp_path / "t.png")
    assert not (tmp_path / "h.png").exists() and not (tmp_path / "t.png").exists()


def test_env_var_must_name_a_cjk_font(monkeypatch, tmp_path):
    monkeypatch.setenv(charts.ENV_FONT, str(tmp_path / "missing.ttf"))
    with pytest.raises(FontMissing, match="is not a file"):
        find_cjk_font()
    (tmp_path / "junk.ttf").write_bytes(b"not a font")
    monkeypatch.setenv(charts.ENV_FONT, str(tmp_path / "junk.ttf"))
    with pytest.raises(FontMissing, match="cannot read"):
        find_cjk_font()
    from matplotlib import font_manager

    monkeypatch.setenv(charts.ENV_FONT, font_manager.findfont("DejaVu Sans"))  # Latin only
    with pytest.raises(FontMissing, match="no Chinese glyphs"):
        find_cjk_font()


def test_env_var_points_at_the_font(cjk_font, monkeypatch, tmp_path):
    monkeypatch.setattr(charts, "FONT_PATHS", ())
    monkeypatch.setenv(charts.ENV_FONT, cjk_font.path)
    assert find_cjk_font().family == cjk_font.family
    check_png(render_hourly("环境变量字体", HOURLY, tmp_path / "env.png"), (1080, 840))


def test_a_dollar_in_a_group_name_is_text_not_tex(cjk_font, tmp_path):
    # "$x^{2$" is broken TeX: drawn as mathtext it raises and the daily chart is lost
    title = "省钱$群$x^{2$ 日报"
    check_png(render_hourly(title, HOURLY, tmp_path / "dollar.png", subtitle="$100 红包"), (1080, 840))
    check_png(render_trend(title, DAYS, TREND, tmp_path / "dollar-trend.png"), (1080, 1230))
    assert charts._Text(cjk_font)("a$b$") == r"a\$b\$"
