"""Files the bot keeps: images under `bot.media_dir`, reports under `bot.reports_dir`. Every path is
resolved first and must stay inside its folder: a path from an event (a replay may name any file) or a
link out of the folder is never deleted.

Files are aged by their modification time against the wall clock (the time the file system keeps),
not the bot's clock, which replays and tests drive.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

log = logging.getLogger("qunbot.retention")

# reports are named "<kind>-<group>-<YYYY-MM-DD>.<ext>" (purge-…csv, stats-…png, trend-…png)
REPORT_NAME = re.compile(r"^[a-z]+-(?P<group>.+)-\d{4}-\d{2}-\d{2}\.[A-Za-z0-9]+$")
TEXT_SUFFIXES = (".csv", ".txt", ".json", ".jsonl")


def inside(path: str | Path, folder: str | Path) -> Path | None:
    """`path` resolved, when it is a file inside `folder` (resolved too); else None."""
    try:
        root = Path(folder).resolve()
        found = Path(path)
        if not found.is_absolute():
            found = Path.cwd() / found
        found = found.resolve()
    except (OSError, RuntimeError):
        return None
    if found == root or root not in found.parents:
        return None
    return found


def remove(path: str | Path, folder: str | Path) -> bool:
    """Delete `path` if it is a file inside `folder`; whether a file was deleted."""
    found = inside(path, folder)
    if found is None or not found.is_file():
        return False
    try:
        found.unlink()
    except OSError as exc:
        log.warning("could not delete %s: %s", found, exc)
        return False
    return True


def _files(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            yield path


def expire(folder: str | Path, days_of: Callable[[Path], float], now: float | None = None) -> int:
    """Delete the files under `folder` older than `days_of(file)` days; how many went."""
    now = time.time() if now is None else now
    root = Path(folder)
    gone = 0
    for path in list(_files(root)):
        try:
            age_days = (now - path.stat().st_mtime) / 86400
        except OSError:
            continue
        if age_days > days_of(path) and remove(path, root):
            gone += 1
    return gone


def report_group(path: Path) -> str | None:
    """The group part of a report's file name (the group's id made file-name-safe), if it has one."""
    m = REPORT_NAME.match(path.name)
    return m.group("group") if m else None


def reports_naming(folder: str | Path, member: str) -> list[Path]:
    """Text reports (CSV …) under `folder` that name `member` (their id as a whole field: "u1" is
    not in "u10")."""
    found = re.compile(rf"(?<![\w@.-]){re.escape(member)}(?![\w@.-])")
    out = []
    for path in _files(Path(folder)):
        if path.suffix.lower() not in TEXT_SUFFIXES:
            continue
        try:
            if found.search(path.read_text(encoding="utf-8-sig", errors="replace")):
                out.append(path)
        except OSError:
            continue
    return out
