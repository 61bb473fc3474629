"""The stats digest (rule `stats_report/digest`): who would get the reports of at least
`bot.report_digest_from` groups from one job run gets one text and one CSV (a row per group) instead,
and no charts: the totals, the groups furthest above and below their usual day (their messages a day
over the `chart_days` days before, one query for all of them), and how many had no message (counted,
not listed in the text)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.events import Action
from bot.feature import JobContext
from bot.spreadsheet import csv_file, text_cell
from handlers.checkin.rates import percent
from rules.schema import GroupSettings
from scheduler.common import day_start, fill, local_now, safe_name
from storage.tables import ACTIVITY_TYPES

RULE = "stats_report/digest"
FIGURES = ("members", "joins", "leaves", "messages", "active", "checkins", "checkin_rate", "red_packets", "ads")
TOTALS = ("members", "joins", "leaves", "messages", "active", "checkins", "red_packets", "ads")


class StatsDigest:
    """The digests of one stats job run, one per recipient in `recipients`."""

    def __init__(self, ctx: JobContext, recipients: frozenset[str]) -> None:
        self.ctx = ctx
        self.recipients = recipients
        self.rows: dict[str, tuple[str, tuple[Any, ...]]] = {}  # group -> (name, FIGURES): a few numbers a group
        self.groups: dict[str, list[str]] = {r: [] for r in recipients}  # recipient -> groups, in served order

    def add(self, group: str, name: str | None, settings: GroupSettings, figures: dict[str, Any]) -> None:
        """A group's day (`series.numbers`), for those of its recipients who get the digest."""
        mine = [r for r in settings.report_to if r in self.recipients]
        if not mine:
            return
        self.rows[group] = (name or group, tuple(figures[k] for k in FIGURES))
        for recipient in mine:
            self.groups[recipient].append(group)

    async def _usual(self, days: int) -> dict[str, float]:
        """Each group's messages a day over the `days` local days before today."""
        today = local_now(self.ctx).date()
        tz = self.ctx.config.tz
        bounds = [day_start(today - timedelta(days=n), tz) for n in range(days, -1, -1)]
        counts = await self.ctx.repo.events.daily_counts_by_group(sorted(self.rows), ACTIVITY_TYPES, bounds)
        return {g: sum(c) / days for g, c in counts.items()}

    async def actions(self) -> list[Action]:
        """Each recipient's text and CSV."""
        if not self.rows:
            return []
        ctx, defaults = self.ctx, self.ctx.config.model.defaults
        stats = defaults.stats
        usual = await self._usual(stats.chart_days)
        day = local_now(ctx).date()
        folder = Path(ctx.config.model.bot.reports_dir)
        messages = FIGURES.index("messages")
        out: list[Action] = []
        for recipient in sorted(self.recipients):
            groups = self.groups[recipient]
            path = self._write(folder / f"stats-digest-{safe_name(recipient)}-{day}.csv", groups, usual)
            totals = {k: sum(self.rows[g][1][FIGURES.index(k)] for g in groups) for k in TOTALS}
            rate = percent(totals["checkins"], max(totals["members"], totals["checkins"]))
            spoke = [g for g in groups if self.rows[g][1][messages]]  # a group without a message is only counted
            spoke.sort(key=lambda g: (usual.get(g, 0.0) - self.rows[g][1][messages], self.rows[g][0]))
            busiest = spoke[:stats.digest_top]
            quietest = [g for g in reversed(spoke) if g not in busiest][:stats.digest_top]

            def items(chosen: list[str]) -> str:
                return "、".join(fill(ctx, stats.digest_group_item, None, defaults, name=self.rows[g][0],
                                     messages=self.rows[g][1][messages], usual=round(usual.get(g, 0.0)))
                                for g in chosen) or "—"

            text = fill(ctx, stats.digest_text, None, defaults, **totals, groups=len(groups), checkin_rate=rate,
                        quiet=len(groups) - len(spoke), days=stats.chart_days, busiest=items(busiest),
                        quietest=items(quietest), csv=path.name)
            ctx.note(f"digest to {recipient}: {len(groups)} groups, {totals['messages']} messages")
            data = {"groups": {g: self.rows[g][1][messages] for g in groups}, **totals, "checkin_rate": rate,
                    "quiet": len(groups) - len(spoke)}
            out.append(Action(action="send", rule=RULE, user=recipient, text=text, data=data))
            out.append(Action(action="send_file", rule=RULE, user=recipient, path=str(path),
                              data={"count": len(groups)}))
        return out

    def _write(self, path: Path, groups: list[str], usual: dict[str, float]) -> Path:
        """The CSV, UTF-8 with a BOM (Excel and WPS then read the Chinese names)."""
        with csv_file(path, self.ctx.config.model.defaults.stats.digest_csv_header) as writer:
            for g in groups:
                name, figures = self.rows[g]
                writer.writerow((text_cell(g), text_cell(name), *figures, round(usual.get(g, 0.0), 1)))
        return path
