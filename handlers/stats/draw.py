"""Who draws the report charts: a child process for the bot, this process for one-off commands.

    async with ChartWorker() as draw:    # the stats job: one child for the run's batch of charts
        await draw.hourly(title, series, path, subtitle=…, labels=…)
        await draw.trend(title, days, series, path, labels=…)
    await IN_THREAD.hourly(…)            # `qunbot stats`, benches: charts.py in a worker thread here

matplotlib, numpy and Pillow cost a process about 100 MB that it never gives back, for a job that
runs once a day; the bot never imports them. `ChartWorker` starts a Python child on its first chart
and ends it when the batch is done. The child (`serve`) reads one JSON request a line on stdin, draws
it with handlers/stats/charts.py (the same PNGs, the same refusal to draw tofu) and answers one JSON
line: the path, or the error's type and message. The parent raises `FontMissing` as itself and
anything else as `ChartFailed` ("ValueError: …"); a child that dies or hangs fails that chart only
(the next one starts a new child). This module imports nothing heavy.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("qunbot.stats")
ROOT = Path(__file__).resolve().parents[2]  # where the `handlers` package lives (the child's import path)
CHART_TIMEOUT_S = 120.0  # one chart; matplotlib draws one in well under a second
START_TIMEOUT_S = 60.0  # the child's imports (matplotlib) and the font
EXIT_TIMEOUT_S = 10.0
CHARTS_PER_CHILD = 200  # then a fresh child: matplotlib's caches grow with each new title (140 -> 185 MB at 1,000)
# The child imports charts.py past the packages' __init__ files (handlers/__init__.py imports every
# feature: 80 MB and two seconds for a process that only draws).
CHILD = """import os, sys, types
for name in ("handlers", "handlers.stats"):
    package = types.ModuleType(name)
    package.__path__ = [os.path.join({folder!r}, *name.split("."))]
    sys.modules[name] = package
from handlers.stats.draw import serve
serve()
"""


class FontMissing(RuntimeError):
    """No usable CJK font: the message says how to install one (re-exported by charts.py)."""


class ChartFailed(RuntimeError):
    """A chart the child could not draw: str() is "ErrorType: message", as a note shows it."""


class Drawer(Protocol):
    async def hourly(self, title: str, series: Sequence[tuple[str, Sequence[int]]], path: Path, *,
                     subtitle: str | None = None, labels: Mapping[str, str] | None = None) -> Path: ...

    async def trend(self, title: str, days: Sequence[str], series: Mapping[str, Sequence[int]], path: Path, *,
                    labels: Mapping[str, str] | None = None) -> Path: ...


class InThread:
    """Draws in this process (a worker thread): for commands that exit after one chart."""

    async def hourly(self, title: str, series: Sequence[tuple[str, Sequence[int]]], path: Path, *,
                     subtitle: str | None = None, labels: Mapping[str, str] | None = None) -> Path:
        from handlers.stats import charts

        return await asyncio.to_thread(charts.render_hourly, title, [(d, list(c)) for d, c in series], path,
                                       subtitle=subtitle, labels=labels)

    async def trend(self, title: str, days: Sequence[str], series: Mapping[str, Sequence[int]], path: Path, *,
                    labels: Mapping[str, str] | None = None) -> Path:
        from handlers.stats import charts

        return await asyncio.to_thread(charts.render_trend, title, list(days),
                                       {k: list(v) for k, v in series.items()}, path, labels=labels)


IN_THREAD = InThread()


class ChartWorker:
    """A child process that draws charts, started on the first one; `close()` (or the `async with`)
    ends it. Requests go one at a time."""

    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self._fresh = False  # the child has not answered yet (its imports count against the first chart)
        self._drawn = 0  # charts the current child drew
        self.started = 0  # children started (a failure costs one)

    async def __aenter__(self) -> ChartWorker:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def hourly(self, title: str, series: Sequence[tuple[str, Sequence[int]]], path: Path, *,
                     subtitle: str | None = None, labels: Mapping[str, str] | None = None) -> Path:
        return await self._draw(path, {"kind": "hourly", "title": title, "series": [[d, list(c)] for d, c in series],
                                       "subtitle": subtitle, "labels": dict(labels or {})})

    async def trend(self, title: str, days: Sequence[str], series: Mapping[str, Sequence[int]], path: Path, *,
                    labels: Mapping[str, str] | None = None) -> Path:
        return await self._draw(path, {"kind": "trend", "title": title, "days": list(days),
                                       "series": {k: list(v) for k, v in series.items()},
                                       "labels": dict(labels or {})})

    async def _draw(self, path: Path, request: dict[str, Any]) -> Path:
        request["path"] = str(path)  # the child has this process's working folder
        line = json.dumps(request, ensure_ascii=False).encode() + b"\n"
        async with self._lock:
            proc = await self._start()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(line)
                await proc.stdin.drain()
                timeout = CHART_TIMEOUT_S + (START_TIMEOUT_S if self._fresh else 0.0)
                answer = await asyncio.wait_for(proc.stdout.readline(), timeout)
            except (OSError, TimeoutError) as exc:
                await self._kill()
                raise ChartFailed(f"{type(exc).__name__}: the chart process did not answer ({exc})") from None
            self._fresh = False
            self._drawn += 1
            if not answer:
                code = await self._kill()
                raise ChartFailed(f"ChildProcessError: the chart process ended (exit status {code})")
        reply = json.loads(answer)
        if "error" in reply:
            if reply["error"] == "FontMissing":
                raise FontMissing(reply["message"])
            raise ChartFailed(f"{reply['error']}: {reply['message']}")
        return Path(path)

    async def _start(self) -> asyncio.subprocess.Process:
        if self._proc is not None and self._proc.returncode is None:
            if self._drawn < CHARTS_PER_CHILD:
                return self._proc
            await self._end()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD.format(folder=str(ROOT)), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, env=env)
        self._fresh, self._drawn = True, 0
        self.started += 1
        return self._proc

    async def _kill(self) -> int | None:
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.returncode is None:
            proc.kill()
        return await proc.wait()

    async def close(self) -> None:
        """End the child (it exits when its stdin closes; killed if it does not)."""
        async with self._lock:
            await self._end()

    async def _end(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), EXIT_TIMEOUT_S)
        except TimeoutError:
            log.warning("the chart process did not exit; killed")
            proc.kill()
            await proc.wait()


def serve() -> None:
    """The child: one JSON request a line on stdin, one JSON answer a line on the real stdout (anything
    else written to stdout goes to stderr, so it cannot break the protocol)."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    from handlers.stats import charts

    for line in sys.stdin:
        try:
            req = json.loads(line)
            path = Path(req["path"])
            if req["kind"] == "hourly":
                charts.render_hourly(req["title"], [(d, c) for d, c in req["series"]], path,
                                     subtitle=req["subtitle"], labels=req["labels"])
            else:
                charts.render_trend(req["title"], req["days"], req["series"], path, labels=req["labels"])
            answer: dict[str, str] = {"path": str(path)}
        except Exception as exc:  # the parent decides what a failed chart means
            answer = {"error": type(exc).__name__, "message": str(exc)}
        out.write(json.dumps(answer, ensure_ascii=False) + "\n")
        out.flush()

