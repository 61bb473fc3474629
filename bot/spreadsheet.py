"""CSV files for operators' spreadsheets: UTF-8 with a BOM (Excel and WPS then read the Chinese names),
written whole and then moved into place, and text cells that a spreadsheet cannot take for formulas."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(text: str) -> str:
    """A text cell a spreadsheet shows as text: a leading = + - @ would make it a formula (names are
    chosen by members)."""
    return "'" + text if text[:1] in _FORMULA_STARTS else text


@contextmanager
def csv_file(path: Path, header: Sequence[str]) -> Iterator[Any]:
    """A csv writer whose rows go to `path` once the block ends without an error (a reader never sees
    half a file; a failed block leaves no file behind)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            yield writer
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
