"""paused_gc: the collector stays off while any pause is open and comes back as it was; freeze_startup sets
start-up's objects aside once per process."""

from __future__ import annotations

import gc

import pytest

from storage import gcpause
from storage.gcpause import freeze_startup, paused_gc


def test_overlapping_pauses_keep_the_collector_off_until_the_last_ends() -> None:
    assert gc.isenabled()
    first, second = paused_gc(), paused_gc()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # tasks may end their pauses in any order
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_already_off_stays_off() -> None:
    gc.disable()
    try:
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_comes_back_after_an_error() -> None:
    try:
        with paused_gc():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()


def test_start_up_objects_are_set_aside_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcpause, "_frozen", False)
    kept = [object() for _ in range(3)]
    try:
        assert freeze_startup()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert not freeze_startup()  # a second runtime in the same process (tests, reloads) adds nothing
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    del kept
