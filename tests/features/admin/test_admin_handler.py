"""The admin handler alone: /why explains an event from the audit log; /ad and /notad store samples."""

from __future__ import annotations

import pytest

from bot.events import Note, Outcome, reply
from handlers import admin
from handlers.ads.repository import AdsRepository
from tests.conftest import EventFactory
from tests.features.conftest import OpenHarness
from tests.features.harness import texts


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_why_tells_an_admin_what_answered_an_event(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(admin.FEATURE)
    asked = make_event(text="群规")
    h.settle(asked, Outcome(actions=(reply(asked, "keywords/群规", "不发广告"),),
                            notes=(Note(rule="points/award", reason="+1"),)))
    outcome = await h.call(make_event(text=f"/why {asked.id}", user="admin1"))
    assert outcome is not None and outcome.stop and outcome.actions[0].rule == "admin/why"
    answer = texts(outcome)[0]
    assert asked.id in answer and "keywords/群规" in answer and "不发广告" in answer and "points/award" in answer


async def test_a_member_who_is_not_an_admin_gets_nothing(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(admin.FEATURE)
    outcome = await h.call(make_event(text="/why e1"))
    assert outcome is not None and outcome.stop and not outcome.actions and "not an admin" in outcome.notes[0].reason


async def test_an_owner_labels_a_message_as_an_ad_and_the_sample_is_stored(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(admin.FEATURE)
    pitch = make_event(text="兼职日结，私聊我")
    h.seen(pitch)
    outcome = await h.call(make_event(text=f"/ad {pitch.id}", user="admin1"))
    assert outcome is not None and outcome.actions[0].data == {"event": outcome.actions[0].data["event"],
                                                               "label": "ad", "sample": pitch.id}
    await h.store.commit()
    samples = await h.store.repository(AdsRepository).ad_samples()
    assert [(s["event_id"], s["text"], s["label"], s["decided_by"]) for s in samples] == [
        (pitch.id, "兼职日结，私聊我", "ad", "admin1")]
    missing = await h.call(make_event(text="/notad nope", user="admin1"))
    assert missing is not None and texts(missing) == ["没有找到文字消息 nope"]
