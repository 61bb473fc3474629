"""The console: chat with the bot in a terminal as a member of a group (also works with piped stdin).

Lines you type are messages. Lines starting with ':' are console commands (see HELP); messages that
start with '/' (such as /why) go to the bot as they are.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta, tzinfo
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.clock import OffsetClock
from bot.events import Action, Event, parse_event
from bot.platform import Capabilities

HELP = """控制台命令（以冒号开头；其它输入都作为群消息发出）：
  :as 名字            换成另一个成员说话（不存在就新建）
  :group 群名         切换到另一个群
  :join [名字]        一个成员加入当前群（默认是当前成员）
  :leave              当前成员退群
  :rename 新群昵称     当前成员修改群昵称
  :image 路径          发一张图片
  :redpacket          发一个红包
  :link URL [标题]     分享一个链接
  :card 名片名         分享一张名片
  :mini 标题           分享一个小程序
  :tick 分钟数         把时钟往前拨（只能往前）
  :who                显示当前成员和群
  :help               显示本帮助
  :quit               退出
成员的 id 是「console:名字」（如 console:小明），写进 config.yaml 的 admins / operators 就能试管理命令。"""
USAGE = {"as": ":as 名字", "group": ":group 群名", "rename": ":rename 新群昵称", "image": ":image 图片路径",
         "link": ":link URL [标题]", "card": ":card 名片名", "mini": ":mini 小程序标题", "tick": ":tick 分钟数（正数）"}


def _slug(name: str) -> str:
    return re.sub(r"\s+", "_", name.strip()) or "anon"


class ConsolePlatform:
    """Reads chat lines from a stream and prints what the bot sends."""

    capabilities = Capabilities(kick=True, recall=False, send_image=True, send_file=True, merge_texts=True)

    def __init__(self, clock: OffsetClock, stdin: TextIO | None = None, stdout: TextIO | None = None,
                 group_name: str = "示例群", user_name: str = "小明", tz: tzinfo | None = None) -> None:
        self.clock = clock
        self.tz = tz or ZoneInfo("Asia/Shanghai")  # the bot's time zone: what :tick shows
        # set by the runner: waits until the lines read so far are handled (a piped :tick must not
        # overtake the messages before it)
        self.settle: Callable[[], Awaitable[None]] | None = None
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.group_name = group_name
        self.user_name = user_name
        self._ids = itertools.count(1)
        self.user_id = f"console:{_slug(user_name)}"  # stays the same when the member renames
        self._session = clock.now().strftime("%Y%m%d%H%M%S")

    @property
    def group_id(self) -> str:
        return f"console:{_slug(self.group_name)}"

    def say(self, text: str) -> None:
        print(text, file=self.stdout, flush=True)

    def _event(self, type_: str, **extra: Any) -> Event:
        base = {"id": f"console-{self._session}-{next(self._ids)}", "ts": self.clock.now().isoformat(),
                "type": type_, "group": self.group_id, "group_name": self.group_name,
                "user": extra.pop("user", self.user_id), "user_name": extra.pop("user_name", self.user_name)}
        return parse_event({**base, **extra})

    def translate(self, line: str) -> Event | None:
        """One input line -> an event (or None for a console-only command)."""
        line = line.rstrip("\n")
        if not line.strip():
            return None
        if not line.startswith(":"):
            return self._event("text", text=line)
        cmd, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        if cmd in USAGE and not arg:
            self.say(f"（用法：{USAGE[cmd]}）")
            return None
        if cmd == "as" and arg:
            self.user_name, self.user_id = arg, f"console:{_slug(arg)}"
            self.say(f"（现在你是 {arg}）")
        elif cmd == "group" and arg:
            self.group_name = arg
            self.say(f"（现在在群 {arg}）")
        elif cmd == "join":
            if arg:
                self.user_name, self.user_id = arg, f"console:{_slug(arg)}"
            return self._event("join")
        elif cmd == "leave":
            return self._event("leave")
        elif cmd == "rename" and arg:
            self.user_name = arg
            return self._event("rename")
        elif cmd == "image" and arg:
            return self._event("image", path=arg)
        elif cmd == "redpacket":
            return self._event("red_packet")
        elif cmd == "link" and arg:
            url, _, title = arg.partition(" ")
            return self._event("link", url=url, title=title or None)
        elif cmd == "card" and arg:
            return self._event("contact_card", card_name=arg)
        elif cmd == "mini" and arg:
            return self._event("mini_program", title=arg)
        elif cmd == "tick" and arg:
            try:
                minutes = float(arg)
            except ValueError:
                minutes = 0.0
            if not minutes > 0:  # the clock only goes forward: a timer or job already due stays due
                self.say(f"（用法：{USAGE['tick']}，时钟只能往前拨）")
                return None
            self.clock.advance(timedelta(minutes=minutes))
            self.say(f"（时钟拨到 {self.clock.now().astimezone(self.tz).strftime('%Y-%m-%d %H:%M')}）")
            return self._event("tick", group=None, group_name=None, user=None, user_name=None)
        elif cmd == "who":
            self.say(f"（你是 {self.user_name}，在群 {self.group_name}）")
        elif cmd in ("help", "h", "?"):
            self.say(HELP)
        elif cmd in ("quit", "exit", "q"):
            raise EOFError
        else:
            self.say(f"（不认识的命令 :{cmd}，输入 :help 查看）")
        return None

    async def events(self) -> AsyncIterator[Event]:
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line:
                return
            if line.startswith(":tick") and self.settle is not None:
                await self.settle()
            try:
                event = self.translate(line)
            except EOFError:
                return
            except ValueError as exc:  # a message the event model refuses
                self.say(f"（无法发送：{exc}）")
                continue
            if event is not None:
                yield event

    async def send(self, action: Action) -> None:
        where = f"[{action.group}]" if action.group else f"[私聊 {action.user}]"
        if action.action == "send":
            body = action.text or ""
        elif action.action in ("send_image", "send_file"):
            body = f"<{action.action} {action.path}>" + (f" {action.caption}" if action.caption else "")
        elif action.action == "kick":
            body = f"<移出 {action.user}：{action.reason or ''}>"
        else:
            body = f"<{action.action}>"
        self.say(f"{where} 🤖 {body}")
