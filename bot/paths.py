"""File names built from outside data (room ids, message ids, group ids) that stay inside their folder."""

from __future__ import annotations

import re
from pathlib import Path

_UNSAFE = re.compile(r"[^\w.@-]+")


def safe_name(text: str, limit: int = 120) -> str:
    """A file-name-safe form of an id: letters, digits, _ . @ - kept, the rest "_"; no leading dots
    (so never "." or ".." nor a hidden file); "x" when nothing is left."""
    return _UNSAFE.sub("_", text)[:limit].lstrip(".") or "x"


def inside(base: Path, *parts: str) -> Path:
    """base / each part made safe, checked (after resolving links) to stay inside `base`."""
    path = base.joinpath(*(safe_name(p) for p in parts))
    root = base.resolve()
    if not path.resolve().is_relative_to(root):
        raise ValueError(f"{path} would leave {root}")
    return path
