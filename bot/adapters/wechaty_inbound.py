"""Inbound translation for the Wechaty adapter: puppet-service events -> core events.

Message types are read as the raw numbers the Node server puts on the wire (the stub's enum names
are numbered differently): Attachment 1, Audio 2, Contact 3, ChatHistory 4, Emoticon 5, Image 6,
Text 7, Location 8, MiniProgram 9, GroupNote 10, Transfer 11, RedEnvelope 12, Recalled 13, Url 14,
Video 15, Post 16.

Display names in a room come from `room_member_payload` (the room alias, else the contact name),
cached per (room, member). A name seen to change — when a member speaks after the cache aged, or
when the service says a room's members are dirty — becomes a `rename` event.
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

from bot.clock import Clock
from bot.events import Event, parse_event
from rules.schema import WechatySettings

log = logging.getLogger("qunbot.wechaty")

EVENT = {"heartbeat": 1, "message": 2, "dong": 3, "error": 16, "friendship": 17, "room_invite": 18,
         "room_join": 19, "room_leave": 20, "room_topic": 21, "scan": 22, "ready": 23, "reset": 24,
         "login": 25, "logout": 26, "dirty": 27}
MSG = {"attachment": 1, "audio": 2, "contact": 3, "chat_history": 4, "emoticon": 5, "image": 6, "text": 7,
       "location": 8, "mini_program": 9, "group_note": 10, "transfer": 11, "red_envelope": 12, "recalled": 13,
       "url": 14, "video": 15, "post": 16}
MEDIA_KINDS = {v: k for k, v in MSG.items()}
IMAGE_TYPE_HD = 2
_SAFE = re.compile(r"[^A-Za-z0-9._@-]+")


def safe_name(text: str) -> str:
    """A file-name-safe version of an id."""
    return _SAFE.sub("_", text)[:120] or "x"


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
        self._refreshed: dict[str, float] = {}

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
            return await self._dirty(payload)
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
        path = self.media_dir / safe_name(where) / f"{safe_name(message_id)}{suffix}"
        await asyncio.to_thread(_write, path, b"".join(chunks))
        return str(path)

    async def _join(self, payload: dict[str, Any]) -> list[Event]:
        room = payload["roomId"]
        ts = self._ts(payload.get("timestamp"))
        inviter = payload.get("inviterId") or None
        out = []
        for member in payload.get("inviteeIdList") or []:
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
        out = []
        for member in payload.get("removeeIdList") or []:
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

    async def _dirty(self, payload: dict[str, Any]) -> list[Event]:
        """A room's payload or members changed: refresh what we cached and report renames."""
        room = payload.get("payloadId") or ""
        if room not in self._topics and not any(r == room for r, _m in self._names):
            return []
        if time.monotonic() - self._refreshed.get(room, -1e9) < 1.0:
            return []  # the service sends several dirty events for one change
        self._refreshed[room] = time.monotonic()
        self._topics.pop(room, None)
        await self.topic(room)
        out = []
        ts = self.clock.now()
        for (r, member) in [k for k in self._names if k[0] == room]:
            name, previous = await self.member_name(r, member, max_age=0)
            if previous is not None:
                out.append(self._rename(r, member, name, ts))
        return out


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
