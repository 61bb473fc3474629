"""The purge digest (rule `purge_report/digest`): who would get the lists of at least
`bot.report_digest_from` groups from one job run gets one text and one CSV for all of them instead
(scheduler.common.digest_recipients). Each recipient's CSV is written as the groups' lists come, so
only the counts stay in memory; a group with nobody to propose is counted, not listed."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any

from bot.events import Action
from bot.feature import JobContext
from handlers.purge.listing import Candidate, csv_rows
from rules.schema import GroupSettings
from scheduler.common import fill, local_now, safe_name

RULE = "purge_report/digest"


class PurgeDigest:
    """The digests of one purge job run, one per recipient in `recipients`."""

    def __init__(self, ctx: JobContext, recipients: frozenset[str]) -> None:
        self.ctx = ctx
        self.recipients = recipients
        self.counts: dict[str, dict[str, int]] = {r: {} for r in recipients}  # recipient -> group -> proposed
        self.names: dict[str, str] = {}  # of the groups with someone proposed (the text names the biggest)
        self.days: set[int] = set()
        self._files: dict[str, tuple[IO[str], Any]] = {}  # recipient -> (the open .tmp file, its csv writer)
        self._folder = Path(ctx.config.model.bot.reports_dir)
        self._day = local_now(ctx).date()

    def add(self, group: str, name: str | None, settings: GroupSettings, candidates: list[Candidate]) -> None:
        """A group's list, for those of its recipients who get the digest."""
        mine = [r for r in settings.report_to if r in self.recipients]
        if not mine:
            return
        self.days.add(settings.purge.inactive_days)
        if candidates:
            self.names[group] = name or group
        for recipient in mine:
            self.counts[recipient][group] = len(candidates)
            if candidates:
                self._writer(recipient).writerows(csv_rows(candidates, self.ctx.config.tz, settings.purge.csv_never,
                                                           group, name or group))

    def _path(self, recipient: str) -> Path:
        return self._folder / f"purge-digest-{safe_name(recipient)}-{self._day}.csv"

    def _writer(self, recipient: str) -> Any:
        if recipient not in self._files:
            purge = self.ctx.config.model.defaults.purge
            path = self._path(recipient)
            path.parent.mkdir(parents=True, exist_ok=True)
            # UTF-8 with a BOM, as the per-group list: Excel and WPS then read the Chinese names
            handle = path.with_suffix(".csv.tmp").open("w", encoding="utf-8-sig", newline="")
            writer = csv.writer(handle)
            writer.writerow((*purge.csv_group_header, *purge.csv_header))
            self._files[recipient] = (handle, writer)
        return self._files[recipient][1]

    def actions(self) -> list[Action]:
        """Each recipient's text, and the CSV when someone is proposed (the files are complete after this)."""
        ctx, defaults = self.ctx, self.ctx.config.model.defaults
        purge = defaults.purge
        days = "、".join(str(d) for d in sorted(self.days))
        out: list[Action] = []
        for recipient in sorted(self.recipients):
            counts = self.counts[recipient]
            listed = {g: n for g, n in counts.items() if n}
            total = sum(listed.values())
            ctx.note(f"digest to {recipient}: {len(counts)} groups, {total} proposed in {len(listed)}")
            if not listed:
                text = fill(ctx, purge.digest_empty_text, None, defaults, groups=len(counts), days=days)
                out.append(Action(action="send", rule=RULE, user=recipient, text=text, data={"groups": {}, "count": 0}))
                continue
            handle, _ = self._files.pop(recipient)
            handle.close()
            path = self._path(recipient)
            path.with_suffix(".csv.tmp").replace(path)  # a reader never sees half a file
            biggest = sorted(listed.items(), key=lambda kv: (-kv[1], self.names[kv[0]]))[:purge.top]
            top = "、".join(fill(ctx, purge.digest_top_item, None, defaults, name=self.names[g], count=n)
                           for g, n in biggest)
            text = fill(ctx, purge.digest_text, None, defaults, groups=len(counts), listed=len(listed),
                        empty=len(counts) - len(listed), count=total, days=days, top=top, csv=path.name)
            out.append(Action(action="send", rule=RULE, user=recipient, text=text,
                              data={"groups": listed, "count": total}))
            out.append(Action(action="send_file", rule=RULE, user=recipient, path=str(path), data={"count": total}))
        return out

    def close(self) -> None:
        """Close and remove what a failed run left half written."""
        for handle, _ in self._files.values():
            handle.close()
            Path(handle.name).unlink(missing_ok=True)
        self._files.clear()
