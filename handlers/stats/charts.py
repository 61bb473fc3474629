"""PNG charts for the stats reports, sent to operators in a WeChat direct message (read on a phone).

    render_hourly(title, [("11-21 周六", [24 counts]), …], path, subtitle=None) -> path
    render_trend(title, ["11-15", …], {"消息": […], "活跃人数": […], "签到": […]}, path) -> path

Both draw on a `matplotlib.figure.Figure` with its own Agg canvas: no pyplot, no global figure list,
so they may run in worker threads (e.g. `asyncio.to_thread`) and a figure is freed when the call ends.
Images are 1080 px wide at 150 dpi with large type, written atomically (a temp file, then a rename).

Chinese needs a real CJK font: QUNBOT_CJK_FONT (a .ttf/.ttc/.otf file), else the first of FONT_PATHS
that exists (Debian's fonts-wqy-microhei, fonts-wqy-zenhei, fonts-noto-cjk, fonts-droid-fallback).
`make fonts` installs fonts-wqy-microhei. Without one the charts raise FontMissing rather than draw
tofu boxes. Characters that neither the CJK font nor DejaVu Sans has (emoji in a group name) are
left out of the text instead of being drawn as boxes.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, StrMethodFormatter
from PIL import Image

from handlers.stats.draw import FontMissing

ENV_FONT = "QUNBOT_CJK_FONT"
# Known places of a CJK font on Debian (keep in step with CJK_FONTS in the Makefile).
FONT_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei (what `make fonts` installs)
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # fonts-noto-cjk
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # fonts-droid-fallback
)
INSTALL_HINT = (
    "no CJK font for the report charts: run `make fonts` (as root it installs Debian's fonts-wqy-microhei), "
    f"or `sudo apt-get install fonts-wqy-microhei`, or set {ENV_FONT} to a .ttf/.ttc file with Chinese glyphs"
)
_FALLBACK = "DejaVu Sans"  # ships with matplotlib
_PROBE = "时段消息数签到活跃人数周六"  # a font that lacks these is not a CJK font

DPI = 150
WIDTH_IN = 7.2  # 1080 px
HOURLY_SIZE_IN = (WIDTH_IN, 5.6)  # 1080 x 840 px
TREND_PANEL_IN = 2.3  # per series
TREND_EXTRA_IN = 1.3  # title and date axis

_TITLE_PT = 17
_SUBTITLE_PT = 12
_LABEL_PT = 12.5
_TICK_PT = 11.5
_NOTE_PT = 11

_INK = "#1f2328"
_MUTED = "#6e7781"
_GRID = "#d8dee4"
_AVG_BAR = "#a9c4eb"
_LATEST = "#e8590c"
_SERIES_COLOURS = ("#3b7ddd", "#2ba471", "#f08c00", "#8e44ad", "#d6336c", "#0c8599")


@dataclass(frozen=True)
class CjkFont:
    path: str
    family: str
    covered: frozenset[int]  # code points the CJK font or the DejaVu Sans fallback can draw

    @property
    def families(self) -> list[str]:
        """What every text is drawn with: the CJK font, then matplotlib's own DejaVu Sans for the rest."""
        return [self.family, _FALLBACK]


_register_lock = threading.Lock()


def find_cjk_font() -> CjkFont:
    """The CJK font to draw with, registered with matplotlib (once per path); FontMissing if none."""
    env = os.environ.get(ENV_FONT, "").strip()
    if env:
        if not Path(env).is_file():
            raise FontMissing(f"{ENV_FONT}={env} is not a file; " + INSTALL_HINT)
        return _register(env)
    for candidate in FONT_PATHS:
        if Path(candidate).is_file():
            return _register(candidate)
    raise FontMissing(INSTALL_HINT)


@lru_cache(maxsize=8)
def _register(path: str) -> CjkFont:
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(path)
    except (OSError, RuntimeError, ValueError) as exc:
        raise FontMissing(f"cannot read the font {path}: {exc}; " + INSTALL_HINT) from exc
    charmap = set(font.get_charmap())
    missing = [c for c in _PROBE if ord(c) not in charmap]
    if missing:
        raise FontMissing(f"the font {path} has no Chinese glyphs ({''.join(missing)}); " + INSTALL_HINT)
    dejavu = FT2Font(font_manager.findfont(font_manager.FontProperties(family=_FALLBACK)))
    with _register_lock:
        font_manager.fontManager.addfont(path)
        # Counts are never negative, but an ASCII hyphen is in every font if a minus ever shows up.
        matplotlib.rcParams["axes.unicode_minus"] = False
    family = font_manager.FontProperties(fname=path).get_name()
    return CjkFont(path=path, family=family, covered=frozenset(charmap | set(dejavu.get_charmap())))


def _labels(given: Mapping[str, str] | None) -> dict[str, str]:
    """The chart's words: the config's `stats.labels` (handlers/stats/settings.py ChartLabels) or its defaults."""
    from handlers.stats.settings import ChartLabels

    return {**ChartLabels().model_dump(), **(given or {})}


def render_hourly(
    title: str, series: list[tuple[str, list[int]]], path: Path, *, subtitle: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """Messages by hour of day (0..23) over several days, `series` oldest first.

    Bars: the average per hour over all the days given; line: the latest day, its peak hour marked.
    With a single day, its bars alone.
    """
    if not series:
        raise ValueError("render_hourly: no days to draw")
    for label, counts in series:
        if len(counts) != 24:
            raise ValueError(f"render_hourly: {label!r} has {len(counts)} counts, not 24")
        if any(c < 0 for c in counts):
            raise ValueError(f"render_hourly: {label!r} has a negative count")
    words = _labels(labels)
    font = find_cjk_font()
    text = _Text(font)

    fig, body = _frame(HOURLY_SIZE_IN, font, text, title, subtitle)
    ax = body.add_subplot()
    _style_axes(ax, font)

    hours = list(range(24))
    latest_label, latest = series[-1]
    latest_total = sum(latest)
    avg = [0.0] * 24
    if len(series) > 1:
        n = len(series)
        avg = [sum(counts[h] for _, counts in series) / n for h in hours]
        avg_daily = sum(avg)
        ax.bar(hours, avg, width=0.78, color=_AVG_BAR, zorder=2,
               label=text(words["hourly_average"].format(days=n, per_day=f"{avg_daily:,.0f}")))
        ax.plot(hours, latest, color=_LATEST, linewidth=2.6, marker="o", markersize=4.5, zorder=3,
                label=text(words["hourly_latest"].format(day=latest_label, total=f"{latest_total:,}")))
        top = max(max(avg), max(latest))
    else:
        ax.bar(hours, latest, width=0.78, color=_LATEST, zorder=2,
               label=text(words["hourly_latest"].format(day=latest_label, total=f"{latest_total:,}")))
        top = max(latest)

    ax.set_xlim(-0.7, 23.7)
    ax.set_xticks(hours)
    ax.set_xticklabels([str(h) if h % 2 == 0 else "" for h in hours])
    ax.set_ylim(0, _headroom(top))
    ax.set_xlabel(text(words["hourly_x"]), fontsize=_LABEL_PT, color=_INK, family=font.families)
    ax.set_ylabel(text(words["hourly_y"]), fontsize=_LABEL_PT, color=_INK, family=font.families)

    if latest_total > 0:
        peak = max(hours, key=lambda h: (latest[h], -h))
        # Right- or left-aligned near the edges; lifted above everything drawn under the note.
        ha, span = ("right", range(peak - 5, peak + 1)) if peak >= 19 else \
            ("left", range(peak, peak + 6)) if peak <= 4 else ("center", range(peak - 2, peak + 3))
        lift = max(max(latest[h], avg[h]) for h in span if 0 <= h < 24)
        ax.annotate(
            text(words["hourly_peak"].format(hour=peak, count=f"{latest[peak]:,}")),
            xy=(peak, lift),
            xytext=(0, 12),
            textcoords="offset points",
            ha=ha,
            va="bottom",
            fontsize=_NOTE_PT,
            color=_LATEST,
            family=font.families,
            zorder=4,
        )
    else:
        ax.text(0.5, 0.5, text(words["hourly_empty"]), transform=ax.transAxes, ha="center", va="center",
                fontsize=_LABEL_PT, color=_MUTED, family=font.families)

    # Above the plot, so it never hides a bar or the peak note.
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2,
              prop={"family": font.families, "size": _NOTE_PT}, frameon=False, handlelength=1.6,
              borderaxespad=0.3, columnspacing=1.6)
    return _save(fig, path)


def render_trend(title: str, days: list[str], series: dict[str, list[int]], path: Path, *,
                 labels: Mapping[str, str] | None = None) -> Path:
    """Daily figures over `days` (oldest first), one panel per series with its own scale.

    The latest day's bar is the strong one; values are written on the bars while they fit.
    """
    if not days:
        raise ValueError("render_trend: no days to draw")
    if not series:
        raise ValueError("render_trend: no series to draw")
    for name, values in series.items():
        if len(values) != len(days):
            raise ValueError(f"render_trend: {name!r} has {len(values)} values for {len(days)} days")
        if any(v < 0 for v in values):
            raise ValueError(f"render_trend: {name!r} has a negative value")
    words = _labels(labels)
    font = find_cjk_font()
    text = _Text(font)

    k = len(series)
    fig, body = _frame(trend_size_in(k), font, text, title,
                       words["trend_subtitle"].format(first=days[0], last=days[-1], days=len(days)))
    axes = body.subplots(k, 1, sharex=True, squeeze=False)[:, 0]

    n = len(days)
    xs = list(range(n))
    # Values on the bars while they fit side by side (about 70 characters across the width).
    longest = max(len(f"{v:,}") for values in series.values() for v in values)
    show_values = n * longest <= 70
    step = max(1, math.ceil(n / 8))
    shown = {i for i in xs if (n - 1 - i) % step == 0}  # always the latest day
    tick_labels = [text(d).replace(" ", "\n") if i in shown else "" for i, d in enumerate(days)]

    for idx, (ax, (name, values)) in enumerate(zip(axes, series.items(), strict=True)):
        colour = _SERIES_COLOURS[idx % len(_SERIES_COLOURS)]
        _style_axes(ax, font)
        bars = ax.bar(xs, values, width=0.66, color=colour, zorder=2)
        for bar in bars[:-1]:
            bar.set_alpha(0.45)
        top = max(values)
        ax.set_ylim(0, _headroom(top, values_on_top=show_values))
        if show_values:
            ax.bar_label(bars, labels=[f"{v:,}" for v in values], padding=2, fontsize=_TICK_PT - 1,
                         color=_INK, family=font.families)
        mean = sum(values) / n
        best = max(xs, key=lambda i: (values[i], i))
        ax.set_title(text(name), loc="left", fontsize=_LABEL_PT + 1, color=colour,
                     family=font.families)
        ax.set_title(text(words["trend_panel"].format(mean=f"{mean:,.0f}", max=f"{values[best]:,}",
                                                      day=days[best])), loc="right",
                     fontsize=_NOTE_PT, color=_MUTED, family=font.families)
    last = axes[-1]
    last.set_xticks(xs)
    last.set_xticklabels(tick_labels)
    last.set_xlim(-0.6, n - 0.4)
    return _save(fig, path)


def trend_size_in(k: int) -> tuple[float, float]:
    """Figure size in inches of render_trend with k series (1080 px wide; 345 px a panel + 195)."""
    return (WIDTH_IN, TREND_EXTRA_IN + TREND_PANEL_IN * k)


class _Text:
    """Drops the characters no font can draw (emoji in group names) so nothing renders as a box, and
    escapes "$" (a group name is text, never TeX: "$" pairs would start matplotlib's mathtext)."""

    def __init__(self, font: CjkFont) -> None:
        self.covered = font.covered

    def __call__(self, s: str) -> str:
        kept = "".join(c for c in s if ord(c) in self.covered or c == "\n")
        kept = kept if kept == s else re.sub(r"  +", " ", kept).strip()
        return kept.replace("$", r"\$")


def _frame(size_in: tuple[float, float], font: CjkFont, text: _Text, title: str, subtitle: str | None):
    """A figure on its own Agg canvas with the title (and a grey subtitle) left-aligned at the top;
    returns (figure, the subfigure to draw the axes in). Constrained layout places every label."""
    fig = Figure(figsize=size_in, dpi=DPI, layout="constrained", facecolor="white")
    FigureCanvasAgg(fig)
    fig.get_layout_engine().set(w_pad=0.12, h_pad=0.08)
    heading = fig.suptitle(text(title), x=0.015, ha="left", fontsize=_TITLE_PT, color=_INK,
                           family=font.families)
    _fit_width(fig, heading, _TITLE_PT)
    body = fig.subfigures(1, 1)
    if subtitle:
        sub = body.suptitle(text(subtitle), x=0.015, ha="left", fontsize=_SUBTITLE_PT, color=_MUTED,
                            family=font.families)
        _fit_width(fig, sub, _SUBTITLE_PT)
    return fig, body


def _fit_width(fig: Figure, label, size: float) -> None:
    """Keep a long title (a long group name) inside the image: smaller type, down to 70 %, then '…'."""
    renderer = fig.canvas.get_renderer()
    room = fig.bbox.width * 0.965

    def width() -> float:
        return label.get_window_extent(renderer).width

    over = width() / room
    if over <= 1:
        return
    label.set_fontsize(max(size * 0.7, size / over))
    words = label.get_text()
    while width() > room and len(words) > 1:
        words = words[: max(1, int(len(words) * room / width()) - 1)]
        label.set_text(words.rstrip() + "…")


def _style_axes(ax, font: CjkFont) -> None:
    ax.tick_params(labelsize=_TICK_PT, labelcolor=_INK, labelfontfamily=font.families, length=0, pad=5)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.grid(axis="y", color=_GRID, linewidth=0.9, zorder=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(_MUTED)


def _headroom(top: float, *, values_on_top: bool = True) -> float:
    """Upper y limit: room above the highest bar for its label (and at least 1 when all is zero)."""
    if top <= 0:
        return 1.0
    return top * (1.22 if values_on_top else 1.08)


def _save(fig: Figure, path: Path) -> Path:
    """One draw (constrained layout included), then the RGB pixels to PNG with Pillow.

    `savefig` would lay the figure out twice (a dry-run draw, then the real one) and write RGBA.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        canvas = fig.canvas
        canvas.draw()
        width, height = canvas.get_width_height(physical=True)
        image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        image.convert("RGB").save(tmp, format="PNG", dpi=(DPI, DPI), compress_level=6)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        fig.clear()  # break the figure's reference cycles now rather than at the next gc
    return path


__all__ = ["FONT_PATHS", "INSTALL_HINT", "CjkFont", "FontMissing", "find_cjk_font", "render_hourly", "render_trend"]
