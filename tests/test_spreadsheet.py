"""CSV files for operators: BOM, whole files only, no formulas from member-chosen text."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.spreadsheet import csv_file, text_cell


def test_text_cell_quotes_what_a_spreadsheet_would_read_as_a_formula() -> None:
    assert text_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert text_cell("@阿强") == "'@阿强"
    assert text_cell("-1") == "'-1"
    assert text_cell("阿强") == "阿强"
    assert text_cell("") == ""


def test_csv_file_writes_a_bom_header_and_rows(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "list.csv"
    with csv_file(path, ("成员", "天数")) as writer:
        writer.writerow(("阿强", 14))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").splitlines() == ["成员,天数", "阿强,14"]
    assert not path.with_suffix(".csv.tmp").exists()


def test_csv_file_leaves_nothing_when_the_block_fails(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), csv_file(path, ("a",)) as writer:
        writer.writerow(("half",))
        raise RuntimeError("crash mid-write")
    assert path.read_text(encoding="utf-8") == "old"
    assert list(tmp_path.iterdir()) == [path]
