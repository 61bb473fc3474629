"""`make demo-wechat`: the real Wechaty protocol without an account.

Starts the mock puppet-service gateway (tests/gateway), runs `qunbot run --adapter wechaty` on the
shipped config.yaml (welcomes batched over 3 seconds instead of 60, Alice made the group's admin) against
it, plays a short scripted conversation through the gateway's control endpoint and prints what the bot
answered. Later capabilities add their lines to SCRIPT.
"""

from __future__ import annotations

import asyncio
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gateway_harness import ROOM, Gateway, bot_process, gateway_missing, running_gateway  # noqa: E402
from tests.qr_images import poster  # noqa: E402

QUIET = "quiet"  # in a step's body (not sent): the bot is expected to say nothing, so wait QUIET_SECONDS only


def jielong(*lines: str) -> str:
    """A 接龙 copy as WeChat lays it out: the mark, the title, the example, the numbered lines."""
    return "\n".join(("#接龙", "周六羽毛球", "例 张三 2人", *lines))


# (path, body): what the members do, in order; the demo prints each exactly as sent (see `describe`)
SCRIPT: list[tuple[str, dict]] = [
    ("/join", {"room": ROOM, "members": [{"id": "wxid_xiaoli", "name": "小李"}], "inviter": "wxid_alice"}),
    ("/say", {"from": "wxid_alice", "room": ROOM, "text": "请问群规是什么？"}),
    ("/rename", {"room": ROOM, "member": "wxid_xiaoli", "alias": "小李-腾讯-运营-深圳"}),
    ("/say", {"from": "wxid_xiaoli", "room": ROOM, "text": "大家好，请问资料在哪里"}),
    ("/say", {"from": "wxid_bob", "room": ROOM, "text": "请问怎么报名？"}),
    # the daily check-in: ranks of the day, points (a first check-in gives 5), once a day, the boards
    ("/say", {"from": "wxid_xiaoli", "room": ROOM, "text": "签到"}),
    ("/say", {"from": "wxid_bob", "room": ROOM, "text": "打卡"}),
    ("/say", {"from": "wxid_bob", "room": ROOM, "text": "签到"}),
    ("/say", {"from": "wxid_xiaoli", "room": ROOM, "text": "我的积分"}),
    ("/say", {"from": "wxid_alice", "room": ROOM, "text": "签到榜"}),
    ("/say", {"from": "wxid_bob", "room": ROOM, "text": "积分商城"}),
    # 接龙: members copy the whole text and add their line; the bot only keeps count, the admin asks
    ("/say", {"from": "wxid_xiaoli", "room": ROOM, "text": jielong("1. 小李"), QUIET: True}),
    ("/say", {"from": "wxid_bob", "room": ROOM, "text": jielong("1. 小李", "2. 老王 +1"), QUIET: True}),
    ("/say", {"from": "wxid_alice", "room": ROOM, "text": "接龙统计"}),
    # 扣1: the admin's notice opens a roll call, members answer 1 (the bot stays quiet), the admin counts
    ("/say", {"from": "wxid_alice", "room": ROOM, "text": "今晚 8 点开会，收到请扣1", QUIET: True}),
    ("/say", {"from": "wxid_bob", "room": ROOM, "text": "1", QUIET: True}),
    ("/say", {"from": "wxid_carol", "room": ROOM, "text": "１", QUIET: True}),
    ("/say", {"from": "wxid_dave", "room": ROOM, "text": "我有1个问题", QUIET: True}),
    ("/say", {"from": "wxid_alice", "room": ROOM, "text": "扣1统计"}),
    ("/join", {"room": ROOM, "members": [{"id": "wxid_spam", "name": "广告哥"}]}),
    ("/image", {"from": "wxid_spam", "room": ROOM, "path": "POSTER"}),
    ("/red_packet", {"from": "wxid_spam", "room": ROOM}),
    ("/say", {"from": "wxid_spam", "room": ROOM, "text": "兼 职 刷 单，日结 300，加 V：ａｂｃ１２３４５"}),
]
NAMES = {"wxid_alice": "Alice", "wxid_bob": "老王", "wxid_carol": "小红", "wxid_dave": "Dave", "wxid_xiaoli": "小李",
         "wxid_spam": "广告哥"}
POSTER_QR = "https://weixin.qq.com/g/AnotherGroup42"  # another group's invitation: an ad like any QR code


def describe(path: str, body: dict) -> str:
    """What a member did, with the exact text they sent."""
    who = NAMES.get(body.get("from", ""), body.get("from", ""))
    if path == "/say":
        return f"{who}：" + indent(body["text"], f"👤 {who}：")
    if path == "/join":
        names = "、".join(m["name"] for m in body["members"])
        inviter = NAMES.get(body.get("inviter", ""), body.get("inviter"))
        return f"{names} 进群" + (f"（{inviter} 邀请）" if inviter else "")
    if path == "/rename":
        return f"{NAMES.get(body['member'], body['member'])} 把群昵称改为「{body['alias']}」"
    if path == "/image":
        return f"{who} 发了一张海报，上面的二维码是 {POSTER_QR}"
    if path == "/red_packet":
        return f"{who} 发了一个红包🧧"
    return f"{path} {body}"


def indent(text: str, prefix: str) -> str:
    """A message's later lines set under its first, which follows `prefix` (CJK and emoji: two columns)."""
    width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in prefix)
    return text.replace("\n", "\n" + " " * width)


# joins within welcome.batch_seconds share one welcome: 60 s in config.yaml, 3 s here so the welcome comes
# within its step; 接龙统计 and 扣1统计 are admins' commands: Alice is the group's admin here (none in config.yaml)
CONFIG_CHANGES = (("    batch_seconds: 60\n", "    batch_seconds: 3\n"), ("  admins: []", "  admins: [wxid_alice]"))


async def main() -> int:
    missing = gateway_missing()
    if missing:
        print(f"demo-wechat: {missing}")
        return 1
    with running_gateway("qunbot-demo-") as gateway:
        tmp = gateway.data_dir
        print(f"gateway (mock WeChat) on {gateway.endpoint}; bot = qunbot run --adapter wechaty")
        config = tmp / "config.yaml"
        shipped = (ROOT / "config.yaml").read_text(encoding="utf-8")
        for old, new in CONFIG_CHANGES:
            assert old in shipped, f"config.yaml changed: {old!r} is not in it"
            shipped = shipped.replace(old, new, 1)
        config.write_text(shipped, encoding="utf-8")
        async with bot_process(gateway, tmp, "--config", str(config),
                               "--db", f"sqlite+aiosqlite:///{tmp}/demo.db"):
            await play(gateway, tmp)
    return 0


STEP_SECONDS = 4.0   # how long a step waits for the bot's answer
QUIET_SECONDS = 1.5  # once it answered: next step after this long without more (the outbox paces 1 a second)


async def play(gateway: Gateway, tmp: Path) -> None:
    """Play SCRIPT through the gateway; after each step print what the bot sent."""
    seen = 0
    poster_path = poster(tmp / "poster.jpg", POSTER_QR)
    for path, body in SCRIPT:
        print(f"\n👤 {describe(path, body)}")
        await gateway.post(path, {k: str(poster_path) if v == "POSTER" else v for k, v in body.items() if k != QUIET})
        started = last = time.monotonic()
        answered = False
        wait = QUIET_SECONDS if body.get(QUIET) else STEP_SECONDS
        while time.monotonic() - started < wait and not (answered and time.monotonic() - last > QUIET_SECONDS):
            sent = await gateway.get("/sent")
            for message in sent[seen:]:
                where = "群" if message["room"] else f"私聊 {message['to']}"
                prefix = f"   🤖 [{where}] "
                print(prefix + indent(message["text"] or "", prefix))
                answered, last = True, time.monotonic()
            seen = len(sent)
            await asyncio.sleep(0.2)
        if not answered:
            print("   🤖 （不出声）")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
