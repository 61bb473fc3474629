"""Inbound translation for the Wechaty adapter: puppet-service events -> core events.

Event and message types are read as the raw numbers the Node server puts on the wire (see
bot/adapters/wechaty_wire.py).

Display names in a room come from `room_member_payload` (the room alias, else the contact name),
cached per (room, member). A name seen to change — when a member speaks after the cache aged, or
when the service says a room's members are dirty — becomes a `rename` event.

Rosters (`sync_room`): the room's member list (`room_payload.member_ids`, else `room_member_list`)
with every member's name, fetched a few at a time; a name that cannot be fetched is None. Joins and
leaves translated while the list was being fetched are applied to it, so a roster never undoes a
newer join or leave (the platform emits the roster right after, before any later event). Without the
bot itself in the list (or with an empty one) the roster says `complete: false`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.adapters.wechaty_wire import EVENT, MSG, brief
from bot.clock import Clock
from bot.events import Event, parse_event
from bot.paths import inside, safe_name
from rules.schema import WechatySettings

log = logging.getLogger("qunbot.wechaty")

MEDIA_KINDS = {v: k for k, v in MSG.items()}
IMAGE_TYPE_HD = 2
DIRTY_ROOM_TYPES = {3, 4}  # a dirty signal's payloadType: Room, RoomMember (Contact is 2)
ROSTER_CONCURRENCY = 8  # member payloads fetched at once (over every room being synced)


class Inbound:
    """Turns one puppet event into zero or more core events (fetching payloads as needed)."""

    def __init__(self, rpc: Callable[[], Any], clock: Clock, media_dir: Path, settings: WechatySettings) -> None:
        self._rpc = rpc
        self.clock = clock
        self.media_dir = media_dir
        self.settings = settings
        self.self_id: str | None = None
        self._topics: dict[str, str] = {}
        self._names: dict[tuple[str, str], tuple[str, float]] = {}
        # rosters: members present as last known per room (the last roster, then joins and leaves),
        # joins and leaves by sequence number (to apply those newer than a fetched list), id times
        self._members: dict[str, set[str]] = {}
        self._changes: dict[str, dict[str, tuple[int, bool]]] = {}
        self._seq = 0
        self._roster_ms: dict[str, int] = {}
        self._fetching = asyncio.Semaphore(ROSTER_CONCURRENCY)
        # called with a room id when its members may have changed unseen (a dirty signal, the bot
        # joined): the platform schedules `sync_room` in the background
        self.room_changed: Callable[[str], None] = lambda room: None

    # -- helpers ------------------------------------------------------------------------------------

    def _ts(self, raw: Any) -> datetime:
        """The platform's timestamp (ms or s) when plausible, else the clock."""
        now = self.clock.now()
        try:
            value = float(raw or 0)
        except (TypeError, ValueError):
            return now
        if value > 1e12:
            value /= 1000
        if value <= 0:
            return now
        when = datetime.fromtimestamp(value, UTC)
        return when if abs(when - now) < timedelta(days=1) else now

    async def topic(self, room: str) -> str:
        if room not in self._topics:
            payload = await self._rpc().room_payload(id=room)
            self._topics[room] = payload.topic or room
        return self._topics[room]

    async def _fetch_name(self, room: str, member: str) -> str:
        payload = await self._rpc().room_member_payload(id=room, member_id=member)
        return payload.room_alias or payload.name or member

    async def member_name(self, room: str, member: str, *, max_age: float | None = None
                          ) -> tuple[str, str | None]:
        """(current name, previous name if it changed since last seen)."""
        cached = self._names.get((room, member))
        ttl = self.settings.member_name_ttl_seconds if max_age is None else max_age
        if cached is not None and time.monotonic() - cached[1] < ttl:
            return cached[0], None
        name = await self._fetch_name(room, member)
        cached = self._names.get((room, member))  # as it is now: a concurrent fetch may have seen the change
        self._names[(room, member)] = (name, time.monotonic())
        previous = cached[0] if cached is not None and cached[0] != name else None
        return name, previous

    def _rename(self, room: str, member: str, name: str, ts: datetime) -> Event:
        return parse_event({"id": f"rename:{room}:{member}:{int(ts.timestamp() * 1000)}", "ts": ts.isoformat(),
                            "type": "rename", "group": room, "group_name": self._topics.get(room, room),
                            "user": member, "user_name": name})

    # -- translation --------------------------------------------------------------------------------

    async def translate(self, kind: int, payload: dict[str, Any]) -> list[Event]:
        if kind == EVENT["login"]:
            self.self_id = payload.get("contactId")
            log.info("logged in as %s", self.self_id)
            return []
        if kind == EVENT["logout"]:
            log.warning("the account logged out (%s)", payload.get("data", ""))
            return []
        if kind == EVENT["message"]:
            return await self._message(str(payload["messageId"]))
        if kind == EVENT["room_join"]:
            return await self._join(payload)
        if kind == EVENT["room_leave"]:
            return self._leave(payload)
        if kind == EVENT["room_topic"]:
            return self._topic(payload)
        if kind == EVENT["dirty"]:
            self._dirty(payload)
            return []
        return []  # heartbeat, ready, dong, friendship …

    async def _message(self, message_id: str) -> list[Event]:
        stub = self._rpc()
        p = await stub.message_payload(id=message_id)
        sender = p.from_id
        if not sender or sender == self.self_id:
            return []
        mtype = int(p.type)
        room = p.room_id or None
        ts = self._ts(p.timestamp)
        out: list[Event] = []
        base: dict[str, Any] = {"id": message_id, "ts": ts.isoformat(), "user": sender}
        if room:
            name, previous = await self.member_name(room, sender)
            base.update(group=room, group_name=await self.topic(room), user_name=name)
            if previous is not None:
                out.append(self._rename(room, sender, name, ts))
        else:
            contact = await stub.contact_payload(id=sender)
            base["user_name"] = contact.name or sender
            if mtype != MSG["text"]:
                return out  # only text is read in a direct message (owner commands)
        if mtype == MSG["text"]:
            event = {**base, "type": "text", "text": p.text or "", "mentions": list(p.mention_ids or [])}
        elif mtype == MSG["image"]:
            event = {**base, "type": "image", "path": await self._save_image(message_id, room or sender)}
        elif mtype == MSG["url"]:
            link = json.loads((await stub.message_url(id=message_id)).url_link or "{}")
            event = {**base, "type": "link", "url": link.get("url") or "", "title": link.get("title"),
                     "description": link.get("description")}
        elif mtype == MSG["mini_program"]:
            mini = json.loads((await stub.message_mini_program(id=message_id)).mini_program or "{}")
            event = {**base, "type": "mini_program", "title": mini.get("title") or p.text or "",
                     "app": mini.get("appid") or mini.get("username") or mini.get("description")}
        elif mtype == MSG["contact"]:
            card_id = (await stub.message_contact(id=message_id)).id
            card_name = p.text or card_id
            if card_id:
                card_name = (await stub.contact_payload(id=card_id)).name or card_name
            event = {**base, "type": "contact_card", "card_name": card_name}
        elif mtype == MSG["red_envelope"]:
            event = {**base, "type": "red_packet"}
        elif mtype == MSG["recalled"]:
            event = {**base, "type": "recall", "message_id": (p.text or "").strip() or message_id}
        else:
            event = {**base, "type": "media", "kind": MEDIA_KINDS.get(mtype, f"type{mtype}")}
        out.append(parse_event(event))
        return out

    async def _save_image(self, message_id: str, where: str) -> str:
        """Fetch the image and keep it under media_dir (capped); returns its path, '' when skipped."""
        cap = self.settings.media_max_bytes
        name = ""
        chunks: list[bytes] = []
        size = 0
        async for part in self._rpc().message_image_stream(id=message_id, type=IMAGE_TYPE_HD):
            chunk = part.file_box_chunk
            if chunk.name:
                name = chunk.name
            elif chunk.data:
                size += len(chunk.data)
                if size > cap:
                    log.warning("image %s is over %d bytes; not kept (the event still counts)", message_id, cap)
                    return ""
                chunks.append(chunk.data)
        suffix = Path(name).suffix.lower() if name else ""
        if not re.fullmatch(r"\.[a-z0-9]{1,5}", suffix):
            suffix = ".img"
        try:
            path = inside(self.media_dir, where, f"{safe_name(message_id)}{suffix}")
        except ValueError as exc:
            log.warning("image %s not kept: %s", message_id, exc)
            return ""
        await asyncio.to_thread(_write, path, b"".join(chunks))
        return str(path)

    async def _join(self, payload: dict[str, Any]) -> list[Event]:
        room = payload["roomId"]
        ts = self._ts(payload.get("timestamp"))
        inviter = payload.get("inviterId") or None
        invitees = payload.get("inviteeIdList") or []
        self._membership(room, invitees, present=True)  # before any await: a roster being built sees it
        if self.self_id is not None and self.self_id in invitees:
            self.room_changed(room)  # the bot was added: the room's members are new to it
        out = []
        for member in invitees:
            if member == self.self_id:
                continue
            name, _ = await self.member_name(room, member, max_age=0)
            out.append(parse_event({
                "id": f"join:{room}:{member}:{payload.get('timestamp', '')}", "ts": ts.isoformat(), "type": "join",
                "group": room, "group_name": await self.topic(room), "user": member, "user_name": name,
                "inviter": inviter if inviter != member else None}))
        return out

    def _leave(self, payload: dict[str, Any]) -> list[Event]:
        room = payload["roomId"]
        ts = self._ts(payload.get("timestamp"))
        remover = payload.get("removerId") or None
        removees = payload.get("removeeIdList") or []
        self._membership(room, removees, present=False)
        out = []
        for member in removees:
            if member == self.self_id:
                continue
            cached = self._names.pop((room, member), None)
            out.append(parse_event({
                "id": f"leave:{room}:{member}:{payload.get('timestamp', '')}", "ts": ts.isoformat(), "type": "leave",
                "group": room, "group_name": self._topics.get(room, room), "user": member,
                "user_name": cached[0] if cached else None,
                "removed_by": remover if remover and remover != member else None}))
        return out

    def _topic(self, payload: dict[str, Any]) -> list[Event]:
        room = payload["roomId"]
        self._topics[room] = payload.get("newTopic") or room
        changer = payload.get("changerId") or ""
        if not changer or changer == self.self_id:
            return []
        ts = self._ts(payload.get("timestamp"))
        cached = self._names.get((room, changer))
        return [parse_event({
            "id": f"topic:{room}:{payload.get('timestamp', '')}", "ts": ts.isoformat(), "type": "topic",
            "group": room, "group_name": self._topics[room], "user": changer,
            "user_name": cached[0] if cached else None, "old_topic": payload.get("oldTopic")})]

    def _dirty(self, payload: dict[str, Any]) -> None:
        """A room's payload or members changed: renames, topic and members are refreshed in the
        background (`room_changed` -> `sync_room`), so a big room does not hold up the stream."""
        room = payload.get("payloadId") or ""
        try:
            kind = int(payload.get("payloadType") or 0)
        except (TypeError, ValueError):
            kind = 0
        if room and (kind in DIRTY_ROOM_TYPES or (kind == 0 and room in self._members)):
            self.room_changed(room)

    def _membership(self, room: str, members: list[str], *, present: bool) -> None:
        """Joins and leaves as they are translated (numbered, for rosters being fetched meanwhile)."""
        if self.self_id is not None and self.self_id in members and not present:
            self._members.pop(room, None)  # the bot left: nothing more to know about the room
            self._changes.pop(room, None)
            return
        known = self._members.get(room)
        changes = self._changes.setdefault(room, {})
        for member in members:
            if not member or member == self.self_id:
                continue
            self._seq += 1
            changes[member] = (self._seq, present)
            if known is not None:
                if present:
                    known.add(member)
                else:
                    known.discard(member)

    # -- rosters ------------------------------------------------------------------------------------

    async def room_ids(self) -> list[str]:
        """The rooms the bot is in."""
        return [r for r in (await self._rpc().room_list()).ids if r]

    async def _member_ids(self, room: str) -> tuple[list[str], bool]:
        """The room's member ids (without the bot) and whether the list looks whole."""
        rpc = self._rpc()
        payload = await rpc.room_payload(id=room)
        self._topics[room] = payload.topic or room
        ids = list(payload.member_ids or [])
        if not ids:
            try:
                ids = list((await rpc.room_member_list(id=room)).member_ids or [])
            except Exception as exc:  # the payload's (empty) list stands, as incomplete
                log.warning("room %s: no member list (%s)", room, brief(exc))
        complete = bool(ids) and (self.self_id is None or self.self_id in ids)
        members = []
        for member in dict.fromkeys(ids):
            if not member or member == self.self_id:
                continue
            if len(member) > 128:  # cannot be stored (as long as the database's id columns)
                log.warning("room %s: member id %.40s… is too long; left out of the roster", room, member)
                complete = False
                continue
            members.append(member)
        return members, complete

    async def _names_of(self, room: str, members: list[str], max_age: float | None
                        ) -> dict[str, tuple[str | None, str | None]]:
        """member -> (name or None when it could not be fetched, previous name if it changed)."""
        out: dict[str, tuple[str | None, str | None]] = {}
        failed: list[BaseException] = []
        pending = iter(members)

        async def worker() -> None:
            for member in pending:
                async with self._fetching:
                    try:
                        out[member] = await self.member_name(room, member, max_age=max_age)
                    except Exception as exc:  # one name must not cost the roster
                        failed.append(exc)
                        out[member] = (None, None)

        await asyncio.gather(*(worker() for _ in range(min(ROSTER_CONCURRENCY, len(members)))))
        if failed:
            log.warning("room %s: %d of %d member names could not be fetched (%s)", room, len(failed),
                        len(members), brief(failed[0]))
        return out

    async def sync_room(self, room: str, emit: Callable[[list[Event]], None], *, always: bool,
                        max_age: float | None = None) -> bool:
        """Fetch the room's members and names, then `emit` the renames seen and a `roster` event.

        `always`: a roster even when the list is what joins and leaves already told (at login, now
        and then); otherwise (a dirty signal) only when it differs. `max_age`: of a cached name (the
        setting's ttl by default). Raises when the member list cannot be fetched. Returns whether a
        roster was emitted."""
        seq = self._seq
        members, complete = await self._member_ids(room)
        names = await self._names_of(room, members, max_age)
        # joins and leaves translated meanwhile are newer than the list: apply them; older ones are in it
        present = dict.fromkeys(members)
        changes = self._changes.get(room, {})
        for member, (at, here) in list(changes.items()):
            if at > seq:
                if here:
                    present[member] = None
                else:
                    present.pop(member, None)
            else:
                del changes[member]
        ts = self.clock.now()
        out = [self._rename(room, member, name, ts) for member, (name, previous) in names.items()
               if name is not None and previous is not None and member in present]
        known = self._members.get(room)
        listed = set(present)
        changed = known is None or (listed != known if complete else not listed <= known)
        self._members[room] = listed if complete or known is None else known | listed
        if always or changed:
            ms = max(int(ts.timestamp() * 1000), self._roster_ms.get(room, 0) + 1)
            self._roster_ms[room] = ms
            out.append(parse_event({
                "id": f"roster:{room}:{ms}", "ts": ts.isoformat(), "type": "roster", "group": room,
                "group_name": self._topics.get(room, room), "complete": complete,
                "members": [{"id": m, "name": names[m][0] if m in names else self._cached_name(room, m)}
                            for m in present]}))
        emit(out)  # no await since the list was reconciled: nothing translated in between
        return always or changed

    def _cached_name(self, room: str, member: str) -> str | None:
        cached = self._names.get((room, member))
        return cached[0] if cached else None


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
