"""The Wechaty adapter: qunbot speaks the puppet-service gRPC protocol (wechaty-grpc stubs + grpclib).

Optional extra: `pip install 'qunbot[wechat]'`. The core never imports this module.

- Session: connect (the token travels as the HTTP/2 :authority), `start()`, read the `event()` stream.
  Heartbeats keep a watchdog fed; a dropped stream, a silent one or a restarted gateway reconnects
  with capped exponential backoff and jitter. A wrong token, or an endpoint that cannot be reached on
  the first try, ends the run with one clear line (`WechatyError`).
- Inbound: messages, joins, leaves, topic changes and display-name changes become core events (see
  bot/adapters/wechaty_inbound.py). The bot's own messages are dropped here.
- Rosters: after each login, then every `roster_interval_seconds`, a `roster` event for every room
  (its member list with names); a dirty signal for a room (or the bot added to one) refreshes that
  room's names and, when its members are not what joins and leaves told, sends a roster too. All of
  it runs in background tasks of the session; their events join the stream between two puppet
  events, so a roster is never older than an event handled before it.
- Outbound: text with @mentions, images and files (as base64 file boxes), kicks (`room_del`) and
  recalls. A kick in a room where the bot is neither owner nor admin raises Unsupported, and the core
  tells the operators instead.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import random
from collections import deque
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

from grpclib.client import Channel
from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError
from wechaty_grpc.wechaty import PuppetStub

from bot.adapters.wechaty_inbound import Inbound
from bot.adapters.wechaty_wire import EVENT, brief
from bot.clock import Clock
from bot.events import Action, Event
from bot.platform import Capabilities, PlatformFatal, Unsupported
from rules.config import Config
from rules.schema import WechatySettings

log = logging.getLogger("qunbot.wechaty")
GRPC_MAX_FILE_BYTES = 3 * 1024 * 1024  # a gRPC message is capped at 4 MB; base64 adds a third
DIRTY_SETTLE_SECONDS = 0.5  # a room change comes as several dirty signals: refresh once they settle


class WechatyError(PlatformFatal):
    """A problem no retry will fix (wrong token, wrong endpoint): reported in one line."""


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """'host:port' (or 'grpc://host:port') -> (host, port)."""
    text = endpoint.strip().removeprefix("grpc://").removeprefix("http://").rstrip("/")
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise WechatyError(f"WECHATY_PUPPET_SERVICE_ENDPOINT must be host:port, not {endpoint!r}")
    return host.strip("[]"), int(port)


class WechatyPlatform:
    """A Platform backed by a Wechaty puppet service."""

    capabilities = Capabilities(kick=True, recall=True, send_image=True, send_file=True, merge_texts=True)

    def __init__(self, endpoint: str, token: str, settings: WechatySettings, media_dir: Path,
                 clock: Clock) -> None:
        self.host, self.port = parse_endpoint(endpoint)
        self.endpoint = f"{self.host}:{self.port}"
        self.token = token
        self.settings = settings
        self.clock = clock
        self._channel: Channel | None = None
        self._stub: PuppetStub | None = None
        self._closed = asyncio.Event()
        self.inbound = Inbound(self._rpc, clock, media_dir, settings)
        self.inbound.room_changed = self._room_changed
        self.connects = 0  # sessions started (reconnects: the ones after the first; /metrics)
        self.connected = False  # a session with the puppet service is up (/healthz)
        # events from background tasks (rosters, renames), yielded between two puppet events
        self._side: deque[Event] = deque()
        self._side_ready = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._roster_loop: asyncio.Task[Any] | None = None
        self._settling: set[str] = set()
        self._room_locks: dict[str, asyncio.Lock] = {}
        self.rosters = 0  # roster events sent (tests, logs)

    @classmethod
    def from_config(cls, config: Config, clock: Clock) -> WechatyPlatform:
        """Endpoint and token from config (`${...}`), else from the conventional environment variables."""
        settings = config.model.wechaty
        endpoint = settings.endpoint or os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT", "")
        token = settings.token or os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN", "")
        if not endpoint:
            raise WechatyError("no puppet service: set WECHATY_PUPPET_SERVICE_ENDPOINT=host:port "
                               "(and WECHATY_PUPPET_SERVICE_TOKEN)")
        if not token:
            raise WechatyError("no token: set WECHATY_PUPPET_SERVICE_TOKEN")
        return cls(endpoint, token, settings, Path(config.model.bot.media_dir), clock)

    @property
    def self_id(self) -> str | None:
        return self.inbound.self_id

    # -- the session ----------------------------------------------------------------------------

    def _rpc(self) -> PuppetStub:
        if self._stub is None:
            raise ConnectionError("not connected to the puppet service")
        return self._stub

    async def _connect(self) -> None:
        channel = Channel(self.host, self.port)
        channel._authority = self.token  # puppet-service reads the token from :authority
        self._channel = channel
        self._stub = PuppetStub(channel)
        await asyncio.wait_for(self._stub.version(), timeout=10)

    def _disconnect(self) -> None:
        if self._channel is not None:
            self._channel.close()
        self._channel = None
        self._stub = None

    async def events(self) -> AsyncIterator[Event]:
        """Core events until `close()`; reconnects on its own (see the module doc)."""
        attempt = 0
        connected_once = False
        while not self._closed.is_set():
            try:
                await self._connect()
                if connected_once:
                    log.info("reconnected to the puppet service at %s", self.endpoint)
                else:
                    log.info("connected to the puppet service at %s", self.endpoint)
                connected_once = True
                attempt = 0
                async for event in self._stream():
                    yield event
                if self._closed.is_set():
                    return
                log.warning("the puppet service closed the event stream; reconnecting")
            except GRPCError as exc:
                if exc.status == Status.UNAUTHENTICATED:
                    raise WechatyError(f"the puppet service at {self.endpoint} refused the token "
                                       f"(WECHATY_PUPPET_SERVICE_TOKEN): {exc.message}") from None
                log.warning("puppet service error %s: %s", exc.status.name, (exc.message or "").splitlines()[:1])
            except (OSError, ConnectionError, StreamTerminatedError, TimeoutError) as exc:
                if not connected_once:
                    raise WechatyError(f"cannot reach the Wechaty puppet service at {self.endpoint}: "
                                       f"{type(exc).__name__}: {exc}") from None
                log.warning("lost the puppet service (%s: %s)", type(exc).__name__, exc)
            finally:
                if not self._closed.is_set():
                    self._disconnect()  # when stopping, the channel stays open for the last sends
            if self._closed.is_set():
                return
            attempt += 1
            delay = min(self.settings.reconnect_max_seconds, 0.5 * 2 ** attempt) * random.uniform(0.5, 1.0)
            log.info("reconnecting in %.1fs (attempt %d)", delay, attempt)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), timeout=delay)

    async def _stream(self) -> AsyncIterator[Event]:
        stub = self._rpc()
        stream = stub.event().__aiter__()
        timeout = self.settings.heartbeat_timeout_seconds
        loop = asyncio.get_running_loop()
        closed = asyncio.ensure_future(self._closed.wait())
        side: asyncio.Future[Any] | None = None
        # subscribe first, then start the puppet, so nothing said right after the start is missed
        nxt: asyncio.Future[Any] | None = asyncio.ensure_future(stream.__anext__())
        nxt.add_done_callback(_retrieve)
        try:
            await asyncio.sleep(0)
            await asyncio.wait_for(stub.start(), timeout=30)
            self.connects += 1
            self.connected = True
            deadline = loop.time() + timeout
            while True:
                while self._side:  # background events first: they were built before the next puppet event
                    yield self._side.popleft()
                self._side_ready.clear()
                if nxt is None:
                    nxt = asyncio.ensure_future(stream.__anext__())
                    nxt.add_done_callback(_retrieve)
                if side is None:
                    side = asyncio.ensure_future(self._side_ready.wait())
                done, _ = await asyncio.wait({nxt, side, closed}, timeout=max(0.0, deadline - loop.time()),
                                             return_when=asyncio.FIRST_COMPLETED)
                if closed in done:
                    nxt.cancel()
                    return
                if side in done:
                    side = None
                if nxt not in done:
                    if not done:
                        nxt.cancel()
                        raise TimeoutError(f"no event or heartbeat for {timeout:.0f}s")
                    continue
                while self._side:  # and right before translating the puppet event (no await in between)
                    yield self._side.popleft()
                try:
                    response = nxt.result()
                except StopAsyncIteration:
                    return
                nxt = None
                deadline = loop.time() + timeout
                kind = int(response.type)
                try:
                    payload = json.loads(response.payload or "{}")
                except json.JSONDecodeError:
                    log.warning("event %d with a payload that is not JSON; skipped", kind)
                    continue
                if kind == EVENT["scan"]:
                    self._show_scan(payload)
                    continue
                try:
                    events = await self.inbound.translate(kind, payload)
                except (GRPCError, OSError, ValueError, KeyError, TypeError) as exc:
                    if isinstance(exc, GRPCError) and exc.status == Status.UNAUTHENTICATED:
                        raise
                    log.warning("event %d could not be translated (%s: %s); skipped", kind,
                                type(exc).__name__, exc)
                    continue
                if kind == EVENT["login"] and self.inbound.self_id:
                    self._start_rosters()
                elif kind == EVENT["logout"] and self._roster_loop is not None:
                    self._roster_loop.cancel()
                    self._roster_loop = None
                for event in events:
                    yield event
        finally:
            self.connected = False
            closed.cancel()
            if side is not None:
                side.cancel()
            if nxt is not None:
                nxt.cancel()
            self._stop_background()  # a new session logs in again and starts its own

    def _show_scan(self, payload: dict[str, Any]) -> None:
        qrcode = payload.get("qrcode") or ""
        status = payload.get("status")
        if not qrcode:
            log.info("scan status %s", status)
            return
        url = f"https://wechaty.js.org/qrcode/{qrcode}"
        log.warning("scan this QR code with WeChat to log in (status %s): %s", status, url)
        try:
            import segno

            segno.make(qrcode, error="l").terminal(compact=True)
        except ImportError:
            log.info("install segno to see the QR code in the terminal")

    def stop(self) -> None:
        """Stop reading events; sending still works until `close()`."""
        self._closed.set()

    async def close(self) -> None:
        """Disconnect (the puppet stays logged in for the next run)."""
        self._closed.set()
        self._stop_background()
        self._disconnect()

    # -- rosters (background tasks of the session) -------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    def _stop_background(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()
        self._settling.clear()
        self._roster_loop = None

    def _emit(self, events: list[Event]) -> None:
        """Events built in the background: the stream yields them before the next puppet event.
        (Kept across a reconnect: they are still news, and older than what the new session brings.)"""
        if events:
            self._side.extend(events)
            self.rosters += sum(e.type == "roster" for e in events)
            self._side_ready.set()

    def _start_rosters(self) -> None:
        """Logged in: every room's roster now, then every `roster_interval_seconds`."""
        if self._roster_loop is not None:
            self._roster_loop.cancel()
        self._roster_loop = self._spawn(self._rosters(), "wechaty-rosters")

    async def _rosters(self) -> None:
        while True:
            try:
                rooms = await self.inbound.room_ids()
            except Exception as exc:  # the next round tries again
                log.warning("the room list could not be fetched (%s); no rosters this round", brief(exc))
                rooms = []
            sent = 0
            for room in rooms:
                sent += await self._sync(room, always=True)
            if rooms:
                log.info("rosters of %d of %d rooms sent", sent, len(rooms))
            await asyncio.sleep(self.settings.roster_interval_seconds)

    async def _sync(self, room: str, *, always: bool, max_age: float | None = None) -> bool:
        """One room's roster (one sync of a room at a time); False when its member list failed."""
        lock = self._room_locks.setdefault(room, asyncio.Lock())
        async with lock:
            try:
                return await self.inbound.sync_room(room, self._emit, always=always, max_age=max_age)
            except Exception as exc:  # the next login, dirty signal or round tries again
                log.warning("the member list of %s could not be fetched (%s); no roster this time", room,
                            brief(exc))
                return False

    def _room_changed(self, room: str) -> None:
        """A dirty signal (or the bot added to the room): refresh it once the signals settle."""
        if self.inbound.self_id is None or room in self._settling:
            return  # before the login: its rosters cover the room
        self._settling.add(room)

        async def settle() -> None:
            await asyncio.sleep(DIRTY_SETTLE_SECONDS)
            self._settling.discard(room)
            await self._sync(room, always=False, max_age=0)  # max_age=0: see who was renamed

        self._spawn(settle(), f"wechaty-refresh:{room}")

    # -- outbound --------------------------------------------------------------------------------

    async def send(self, action: Action) -> None:
        stub = self._rpc()
        conversation = action.group or action.user
        if action.action == "send":
            if not conversation:
                raise ValueError("a send needs a group or a user")
            await stub.message_send_text(conversation_id=conversation, text=action.text or "",
                                         mentonal_ids=list(action.mentions))
        elif action.action in ("send_image", "send_file"):
            if not conversation or not action.path:
                raise ValueError(f"{action.action} needs a destination and a path")
            filebox = await asyncio.to_thread(_filebox, Path(action.path))
            await stub.message_send_file(conversation_id=conversation, filebox=filebox)
            if action.caption:
                await stub.message_send_text(conversation_id=conversation, text=action.caption)
        elif action.action == "kick":
            if not action.group or not action.user:
                raise ValueError("a kick needs a group and a user")
            room = await stub.room_payload(id=action.group)
            me = self.self_id
            if me is not None and me != room.owner_id and me not in list(room.admin_ids or []):
                raise Unsupported(f"the bot is neither owner nor admin of {room.topic or action.group}")
            try:
                await stub.room_del(id=action.group, contact_id=action.user)
            except GRPCError as exc:
                if "owner" in (exc.message or "") or "admin" in (exc.message or ""):
                    raise Unsupported((exc.message or "").splitlines()[0]) from None
                raise
        elif action.action == "recall":
            if not action.message_id:
                raise ValueError("a recall needs message_id")
            result = await stub.message_recall(id=action.message_id)
            if not getattr(result, "success", True):
                raise Unsupported("the platform refused the recall (too late, or not the bot's message)")
        else:
            raise Unsupported(f"the Wechaty adapter cannot {action.action}")


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a cancelled read's late exception as seen (it is handled by the reconnect)."""
    if not future.cancelled():
        future.exception()


def _filebox(path: Path) -> str:
    data = path.read_bytes()
    if len(data) > GRPC_MAX_FILE_BYTES:
        raise Unsupported(f"{path.name} is {len(data)} bytes; the puppet service takes files up to "
                          f"{GRPC_MAX_FILE_BYTES} bytes")
    return json.dumps({"type": 1, "boxType": 1, "name": path.name, "size": len(data),
                       "base64": base64.b64encode(data).decode("ascii"), "metadata": {}})
