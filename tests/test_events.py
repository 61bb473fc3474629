"""Events and actions: the shapes of replay-format.md, frozen, unknown keys refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.events import Action, parse_event, parse_event_json, reply

BASE = {"id": "e1", "ts": "2026-03-02T10:00:00+08:00", "group": "g", "group_name": "群", "user": "u",
        "user_name": "小明"}


@pytest.mark.parametrize("extra", [
    {"type": "text", "text": "hi", "mentions": ["u2"]},
    {"type": "image", "path": "a.png"},
    {"type": "link", "url": "https://x.cn", "title": "t"},
    {"type": "mini_program", "title": "t", "app": "a"},
    {"type": "contact_card", "card_name": "老王"},
    {"type": "red_packet"},
    {"type": "join", "inviter": "u2"},
    {"type": "leave", "removed_by": "u2"},
    {"type": "rename"},
])
def test_every_event_type_of_the_contract_parses(extra: dict) -> None:
    event = parse_event({**BASE, **extra})
    assert event.type == extra["type"]


def test_tick_needs_no_group_or_user() -> None:
    assert parse_event({"id": "t", "ts": "2026-03-02T10:00:00+08:00", "type": "tick"}).type == "tick"


@pytest.mark.parametrize("bad", [
    {**BASE, "type": "text"},                                   # no text
    {**BASE, "type": "text", "text": "x", "colour": "red"},     # unknown key
    {**BASE, "type": "nope"},                                   # unknown type
    {**BASE, "type": "text", "text": "x", "ts": "2026-03-02T10:00:00"},  # no offset
    {"id": "e", "ts": "2026-03-02T10:00:00+08:00", "type": "text", "text": "x"},  # no group/user
])
def test_malformed_events_are_refused(bad: dict) -> None:
    with pytest.raises(ValidationError):
        parse_event(bad)


def test_events_are_frozen() -> None:
    event = parse_event({**BASE, "type": "text", "text": "hi"})
    with pytest.raises(ValidationError):
        event.text = "changed"  # type: ignore[misc]


def test_huge_and_odd_text_is_accepted() -> None:
    text = "广告" * 500_000 + "\x00" + "😀" + "\u202e" + "abc"
    event = parse_event_json(__import__("json").dumps({**BASE, "type": "text", "text": text}))
    assert event.text == text


def test_reply_names_its_event_and_mentions_the_sender() -> None:
    event = parse_event({**BASE, "type": "text", "text": "群规"})
    action = reply(event, "keywords/群规", "不发广告", mention=True)
    out = action.to_json()
    assert out["data"]["event"] == "e1" and out["reply_to"] == "e1"
    assert out["mentions"] == ["u"] and out["text"].startswith("@小明 ")
    assert set(out) >= {"ts", "action", "rule", "data", "group", "text"}


def test_action_refuses_unknown_kind() -> None:
    with pytest.raises(ValidationError):
        Action(action="explode", rule="x")  # type: ignore[arg-type]
