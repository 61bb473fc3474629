"""Files named from outside data (room ids, message ids) stay inside their folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.paths import inside, safe_name
from scheduler.common import safe_name as report_name


@pytest.mark.parametrize("given", ["..", ".", "../../etc/passwd", "/abs/path", "..\\..\\x", "a/../../b", "\x00", ""])
def test_hostile_ids_become_names_inside_the_folder(tmp_path: Path, given: str) -> None:
    path = inside(tmp_path, given, f"{safe_name(given)}.img")
    assert path.resolve().is_relative_to(tmp_path.resolve())
    assert path.parent.parent == tmp_path and not path.parent.name.startswith(".")
    assert "/" not in report_name(given) and not report_name(given).startswith(".")


def test_ordinary_ids_keep_their_form() -> None:
    assert safe_name("12345678@chatroom") == "12345678@chatroom"
    assert safe_name("运营群-1") == "运营群-1"


def test_a_link_that_leads_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    media = tmp_path / "media"
    media.mkdir()
    (media / "room").symlink_to(outside)
    with pytest.raises(ValueError, match="would leave"):
        inside(media, "room", "x.img")
