"""The Wechaty adapter: qunbot speaks the puppet-service gRPC protocol (wechaty-grpc stubs + grpclib).

Optional extra: `pip install 'qunbot[wechat]'`. The core never imports this module.

- Session: connect (the token travels as the HTTP/2 :authority), `start()`, read the `event()` stream.
  Heartbeats keep a watchdog fed; a dropped stream, a silent one or a restarted gateway reconnects
  with capped exponential backoff and jitter. A wrong token, or an endpoint that cannot be reached on
  the first try, ends the run with one clear line (`WechatyError`).
- Inbound: messages, joins, leaves, topic changes and display-name changes become core events (see
  bot/adapters/wechaty_inbound.py). The bot's own messages are dropped here.
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
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from grpclib.client import Channel
from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError
from wechaty_grpc.wechaty import PuppetStub

from bot.adapters.wechaty_inbound import EVENT, Inbound
from bot.clock import Clock
from bot.events import Action, Event
from bot.platform import Capabilities, PlatformFatal, Unsupported
from rules.config import Config
from rules.schema import WechatySettings

log = logging.getLogger("qunbot.wechaty")
GRPC_MAX_FILE_BYTES = 3 * 1024 * 1024  # a gRPC message is capped at 4 MB; base64 adds a third


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
        self.connects = 0

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
        closed = asyncio.ensure_future(self._closed.wait())
        # subscribe first, then start the puppet, so nothing said right after the start is missed
        nxt: asyncio.Future[Any] | None = asyncio.ensure_future(stream.__anext__())
        nxt.add_done_callback(_retrieve)
        try:
            await asyncio.sleep(0)
            await asyncio.wait_for(stub.start(), timeout=30)
            self.connects += 1
            while True:
                if nxt is None:
                    nxt = asyncio.ensure_future(stream.__anext__())
                    nxt.add_done_callback(_retrieve)
                done, _ = await asyncio.wait({nxt, closed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                if closed in done:
                    nxt.cancel()
                    return
                if not done:
                    nxt.cancel()
                    raise TimeoutError(f"no event or heartbeat for {timeout:.0f}s")
                try:
                    response = nxt.result()
                except StopAsyncIteration:
                    return
                nxt = None
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
                for event in events:
                    yield event
        finally:
            closed.cancel()
            if nxt is not None:
                nxt.cancel()

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
        self._disconnect()

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
