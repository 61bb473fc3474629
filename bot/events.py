"""Events (what happened in a group) and actions (what the bot does), as in replay-format.md.

Both are frozen pydantic models with extra=forbid. An event is parsed from one JSON object with
`parse_event`; an action is serialised with `Action.to_json()` for the replay output and audit log.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from rules.names import ad_like_name

_FROZEN = ConfigDict(frozen=True, extra="forbid")
# Group and member ids are interned: the maps keyed by them (points, check-ins, names …) then share one
# string per id instead of holding the copy of whichever event created their entry.
_Interned = AfterValidator(sys.intern)
_Id = Annotated[str, Field(min_length=1, max_length=128), _Interned]  # as long as the database's id columns


class _EventBase(BaseModel):
    model_config = _FROZEN

    id: Annotated[str, Field(min_length=1, max_length=256)]
    ts: AwareDatetime
    group: Annotated[str, Field(max_length=128), _Interned] | None = None
    group_name: str | None = None
    user: Annotated[str, Field(max_length=128), _Interned] | None = None
    user_name: str | None = None

    @model_validator(mode="after")
    def _encodable(self) -> _EventBase:
        """Refuse text that cannot be stored as UTF-8 (a lone surrogate from a JSON "\\ud800" escape)."""
        for name, value in self.__dict__.items():
            if isinstance(value, str):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise ValueError(f"{name}: not valid Unicode (a lone surrogate)") from None
        return self


class _MemberEvent(_EventBase):
    """An event that concerns one member of one group: both are required."""

    group: _Id
    user: _Id


class TextEvent(_MemberEvent):
    """A text message; without `group` it is a direct message to the bot."""

    type: Literal["text"] = "text"
    group: _Id | None = None  # type: ignore[assignment]
    text: str
    mentions: tuple[str, ...] = ()


class ImageEvent(_MemberEvent):
    type: Literal["image"] = "image"
    path: str


class LinkEvent(_MemberEvent):
    type: Literal["link"] = "link"
    url: str
    title: str | None = None
    description: str | None = None


class MiniProgramEvent(_MemberEvent):
    type: Literal["mini_program"] = "mini_program"
    title: str
    app: str | None = None


class ContactCardEvent(_MemberEvent):
    type: Literal["contact_card"] = "contact_card"
    card_name: str


class RedPacketEvent(_MemberEvent):
    type: Literal["red_packet"] = "red_packet"


class JoinEvent(_MemberEvent):
    type: Literal["join"] = "join"
    inviter: str | None = None


class LeaveEvent(_MemberEvent):
    type: Literal["leave"] = "leave"
    removed_by: str | None = None


class RenameEvent(_MemberEvent):
    type: Literal["rename"] = "rename"


class MediaEvent(_MemberEvent):
    """A message of a kind no handler reads (voice, video, sticker, file, location …): still activity."""

    type: Literal["media"] = "media"
    kind: str


class RecallEvent(_MemberEvent):
    """The member recalled (撤回) one of their messages."""

    type: Literal["recall"] = "recall"
    message_id: str


class TopicEvent(_MemberEvent):
    """The group was renamed (the member is who changed it); `group_name` is the new name."""

    type: Literal["topic"] = "topic"
    old_topic: str | None = None


class RosterMember(BaseModel):
    model_config = _FROZEN

    id: _Id
    name: str | None = None


class RosterEvent(_EventBase):
    """The group's member list as the platform reports it (at start and now and then): members who
    never spoke are known too (check-in rates, purge lists). With `complete`, members missing from
    the list have left."""

    type: Literal["roster"] = "roster"
    group: _Id
    members: tuple[RosterMember, ...]
    complete: bool = True


class TickEvent(_EventBase):
    type: Literal["tick"] = "tick"


Event = Annotated[
    TextEvent | ImageEvent | LinkEvent | MiniProgramEvent | ContactCardEvent | RedPacketEvent
    | JoinEvent | LeaveEvent | RenameEvent | MediaEvent | RecallEvent | TopicEvent | RosterEvent | TickEvent,
    Field(discriminator="type"),
]
EVENT_TYPES = ("text", "image", "link", "mini_program", "contact_card", "red_packet",
               "join", "leave", "rename", "tick", "media", "recall", "topic", "roster")
MESSAGE_TYPES = frozenset({"text", "image", "link", "mini_program", "contact_card", "red_packet", "media"})

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(obj: Any) -> Event:
    """Validate one decoded JSON object as an event (raises pydantic.ValidationError)."""
    return _EVENT_ADAPTER.validate_python(obj)


def parse_event_json(line: str | bytes) -> Event:
    """Validate one JSON line as an event (raises pydantic.ValidationError)."""
    return _EVENT_ADAPTER.validate_json(line)


ActionKind = Literal["send", "send_image", "send_file", "kick", "recall", "notify_admins"]


class Action(BaseModel):
    """One thing the bot does. `rule` names the handler (and rule) that produced it; `data` holds facts.

    Exactly one of `group` / `user` is the destination of a send (a `user` alone is a direct
    message); a `kick` names both. `ts` is filled by the outbox with the instant it went out.
    """

    model_config = _FROZEN

    action: ActionKind
    rule: Annotated[str, Field(min_length=1)]
    data: dict[str, Any] = Field(default_factory=dict)
    group: str | None = None
    user: str | None = None
    text: str | None = None
    mentions: tuple[str, ...] = ()
    reply_to: str | None = None
    path: str | None = None
    caption: str | None = None
    reason: str | None = None
    message_id: str | None = None  # for recall
    ts: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The replay-format object: common keys first, then the keys of this action kind."""
        out: dict[str, Any] = {
            "ts": self.ts.isoformat() if self.ts else None,
            "action": self.action,
            "rule": self.rule,
            "data": self.data,
        }
        for key in ("group", "user", "text", "path", "caption", "reason", "reply_to", "message_id"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.mentions:
            out["mentions"] = list(self.mentions)
        return out


# An action may carry the actions that follow it, by the platform's answer: `data[THEN]` once it was done,
# `data[OTHERWISE]` when it could not be (a kick the bot has no right to make). The outbox sends them.
THEN, OTHERWISE = "then", "otherwise"


def reply(event: Event, rule: str, text: str, *, mention: bool = False, **data: Any) -> Action:
    """A `send` into the event's group that answers the event (names it in data.event and reply_to).

    With `mention`, the sender is @mentioned (and "@name " is put in front when the text lacks it, unless
    the name is an ad: rules.names — the bot never repeats one).
    """
    if mention and event.group and event.user_name and f"@{event.user_name}" not in text \
            and not ad_like_name(event.user_name):
        text = f"@{event.user_name} {text}"
    return Action(
        action="send",
        rule=rule,
        group=event.group,
        user=None if event.group else event.user,
        text=text,
        mentions=(event.user,) if mention and event.user and event.group else (),
        reply_to=event.id,
        data={"event": event.id, **data},
    )


class Note(BaseModel):
    """A decision a handler made without acting (e.g. a reply held back by a cooldown), for `why`."""

    model_config = _FROZEN

    rule: str
    reason: str
    data: dict[str, Any] = Field(default_factory=dict)


class Timer(BaseModel):
    """A timer a handler (or a job) sets: at `due`, its feature's `timers[name]` function runs with it,
    as a job of its own (id "timer:<feature>:<key>", recorded per due instant like any job run).

    `key` is unique within the feature ("batch:<group>"): setting a timer whose key is still pending
    keeps the pending one (its due time and data), so the first event of a window opens it and later
    ones join it. `data` holds small JSON facts for the function. `feature` is filled in by the core
    (the feature of the handler or job that set it)."""

    model_config = _FROZEN

    name: Annotated[str, Field(min_length=1, max_length=64)]
    key: Annotated[str, Field(min_length=1, max_length=128)]
    due: AwareDatetime
    data: dict[str, Any] = Field(default_factory=dict)
    feature: Annotated[str, Field(max_length=64)] = ""

    @property
    def job_id(self) -> str:
        return f"timer:{self.feature}:{self.key}"


class Outcome(BaseModel):
    """What a handler returns: actions to take, notes for the audit, timers to set, and whether to stop
    the chain."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    actions: tuple[Action, ...] = ()
    notes: tuple[Note, ...] = ()
    timers: tuple[Timer, ...] = ()
    stop: bool = False
