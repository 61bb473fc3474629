"""storage/member_map.py: the (group, member) caches' map, bounded, without a tuple per entry."""

from __future__ import annotations

from storage.member_map import MemberMap


def test_a_member_map_answers_by_group_and_member_and_counts_its_entries() -> None:
    m: MemberMap[int] = MemberMap(limit=10)
    assert not m.set("g1", "u1", 1) and not m.set("g1", "u2", 2) and not m.set("g2", "u1", 3)
    m.set("g1", "u1", 4)  # a new value for a member already kept: no new entry
    assert (m.get("g1", "u1"), m.get("g2", "u1"), m.get("g2", "u2", -1), m.get("g9", "u1")) == (4, 3, -1, None)
    assert ("g1", "u2") in m and ("g2", "u2") not in m and ("g9", "u1") not in m
    assert len(m) == 3 and sorted(m.values()) == [2, 3, 4]


def test_a_full_member_map_starts_again_and_says_so() -> None:
    m: MemberMap[int] = MemberMap(limit=3)
    assert [m.set("g", f"u{i}", i) for i in range(3)] == [False, False, False]
    assert m.set("g", "u0", 9) is False  # an update never empties it
    assert m.set("g", "u3", 3) is True  # the fourth member: emptied first, then kept
    assert len(m) == 1 and m.get("g", "u3") == 3 and m.get("g", "u0") is None
    m.clear()
    assert len(m) == 0 and list(m.values()) == []
