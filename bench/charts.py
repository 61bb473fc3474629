"""Render time and memory of the report charts (handlers/stats/charts.py).

    .venv/bin/python bench/charts.py [--n 30] [--leak 200] [--keep DIR]

Prints the first call (font registration, matplotlib's caches), then the median and p95 of --n renders
of render_hourly (7 days x 24 hours) and render_trend (7 days x 3 series), then the resident memory
(RSS) before and after --leak more renders of each and the growth; then one line of JSON.
Needs a CJK font (`make fonts`).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import peak_rss_mb, rss_mb  # noqa: E402
from handlers.stats.charts import FontMissing, find_cjk_font, render_hourly, render_trend  # noqa: E402

DAYS = ["11-15 周日", "11-16 周一", "11-17 周二", "11-18 周三", "11-19 周四", "11-20 周五", "11-21 周六"]
SHAPE = [2, 1, 0, 0, 0, 1, 3, 8, 20, 35, 40, 38, 30, 42, 45, 40, 36, 38, 50, 70, 95, 110, 80, 30]


def data(i: int) -> tuple[list[tuple[str, list[int]]], dict[str, list[int]]]:
    """Slightly different figures each call, as real reports are."""
    hourly = [
        (day, [v * (8 + d) // 10 + (h * 7 + d + i) % 9 for h, v in enumerate(SHAPE)]) for d, day in enumerate(DAYS)
    ]
    trend = {
        "消息": [400 + (d * 131 + i * 17) % 900 for d in range(7)],
        "活跃人数": [30 + (d * 13 + i) % 60 for d in range(7)],
        "签到": [10 + (d * 7 + i) % 40 for d in range(7)],
    }
    return hourly, trend


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30, help="timed renders of each chart")
    ap.add_argument("--leak", type=int, default=200, help="renders of each chart for the memory check")
    ap.add_argument("--keep", type=Path, help="keep the PNGs in this folder")
    args = ap.parse_args()
    try:
        font = find_cjk_font()
    except FontMissing as exc:
        print(exc, file=sys.stderr)
        return 2
    out = args.keep or Path(tempfile.mkdtemp(prefix="qunbot-charts-"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"font: {font.family} ({Path(font.path).name})")

    hourly, trend = data(0)
    t = time.perf_counter()
    render_hourly("运营深度精选-二班 · 昨日活跃时段", hourly, out / "hourly.png", subtitle="统计 11-15 ~ 11-21")
    first_hourly = time.perf_counter() - t
    t = time.perf_counter()
    render_trend("运营深度精选-二班 · 周报", DAYS, trend, out / "trend.png")
    first_trend = time.perf_counter() - t
    print(f"first call: render_hourly {first_hourly * 1000:.0f} ms, render_trend {first_trend * 1000:.0f} ms")

    times: dict[str, list[float]] = {"hourly": [], "trend": []}
    for i in range(args.n):
        hourly, trend = data(i)
        t = time.perf_counter()
        render_hourly("运营深度精选-二班 · 昨日活跃时段", hourly, out / "hourly.png", subtitle="统计 11-15 ~ 11-21")
        times["hourly"].append(time.perf_counter() - t)
        t = time.perf_counter()
        render_trend("运营深度精选-二班 · 周报", DAYS, trend, out / "trend.png")
        times["trend"].append(time.perf_counter() - t)
    result: dict[str, object] = {"font": font.family, "n": args.n}
    for name, xs in times.items():
        med, p95 = statistics.median(xs), pct(xs, 0.95)
        print(f"render_{name}: median {med * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms over {args.n} renders")
        result[f"{name}_median_ms"] = round(med * 1000, 1)
        result[f"{name}_p95_ms"] = round(p95 * 1000, 1)

    gc.collect()
    before = (rss_mb() or peak_rss_mb())
    t = time.perf_counter()
    for i in range(args.leak):
        hourly, trend = data(i)
        render_hourly(f"第{i}个群 · 昨日活跃时段", hourly, out / "leak-hourly.png")
        render_trend(f"第{i}个群 · 周报", DAYS, trend, out / "leak-trend.png")
        if i == args.leak // 2 - 1:
            gc.collect()
            middle = (rss_mb() or peak_rss_mb())
    gc.collect()
    after = (rss_mb() or peak_rss_mb())
    spent = time.perf_counter() - t
    print(
        f"RSS over {args.leak} renders of each: {before:.1f} MB -> {middle:.1f} MB (half way) -> {after:.1f} MB, "
        f"growth {after - before:+.1f} MB ({(after - middle) * 1024 / max(1, args.leak // 2) / 2:+.1f} KB a render "
        f"in the second half); {spent:.1f} s"
    )
    result.update(rss_before_mb=round(before, 1), rss_after_mb=round(after, 1), rss_growth_mb=round(after - before, 1),
                  leak_renders=args.leak * 2)
    if args.keep:
        print(f"PNGs kept in {out}")
    else:
        for p in out.iterdir():
            p.unlink()
        out.rmdir()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
