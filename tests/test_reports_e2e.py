"""The evening reports end to end: real `qunbot run --adapter wechaty --clock-start …` processes against
the Node.js puppet-service gateway (mock puppet), one fresh SQLite database for the whole story.

Two runs of the bot on the same database:
1. fifteen days earlier (2026-05-05 20:30 Asia/Shanghai): the rosters make every member known, and 老王
   says one thing in room1, then nothing for fifteen days; Dave never says a word;
2. 2026-05-20 (a Wednesday) a few seconds before 21:30, when the purge list and the 日报 are both due:
   Eve joins room1 (a newcomer, inside the grace days), Alice checks in and talks, 小红 talks and sends a
   red packet; then the bot's clock reaches 21:30.

The operator (小红, wxid_carol) gets, by direct message, for each of the bot's two rooms (name order:
运营测试群 = room1, then 闲聊群 = room2): the purge summary and its CSV (UTF-8 with BOM), then the stats
text and its chart (PNG). The test reads them from the gateway's record (/sent: files with their bytes).
Skips locally without node (or without a CJK font for the chart); under CI=true either fails."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import hashlib
import io
import os
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.gateway_harness import ROOM, ROOM2, TOKEN, Gateway, gateway_missing

CST = ZoneInfo("Asia/Shanghai")
OPERATOR = "wxid_carol"  # 小红: a contact of the gateway's world, a member of room1 (never on its purge list)
CONFIG = f"""
bot: {{name: 群管机器人, id: qunbot_self}}
outbox: {{min_interval_seconds: 0.05}}
defaults:
  operators: [{OPERATOR}]
  purge: {{time: "21:30", inactive_days: 14, grace_days: 7}}
  stats: {{time: "21:30"}}
"""
BEFORE = datetime(2026, 5, 5, 20, 30, tzinfo=CST)  # phase 1: fifteen days before the reports
REPORTS_AT = datetime(2026, 5, 20, 21, 30, tzinfo=CST)  # a Wednesday: no weekly trend chart
MIN_LEAD_SECONDS = 4.0  # phase 2's clock starts at least this long before 21:30
CSV_HEADER = ["成员ID", "群昵称", "进群时间（或首次记录）", "最后活跃", "未活跃天数", "消息数", "积分", "活跃度"]
PURGE_CSV_ROOM1 = f"purge-room1_chatroom-{REPORTS_AT:%Y-%m-%d}.csv"
STATS_PNG_ROOM1 = f"stats-room1_chatroom-{REPORTS_AT:%Y-%m-%d}.png"
T_IMAGE, T_ATTACHMENT = 6, 1  # puppet message types as the gateway records them


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    missing = gateway_missing()
    if missing is None:
        from handlers.stats.charts import FontMissing, find_cjk_font

        try:
            find_cjk_font()
        except FontMissing as exc:
            missing = str(exc)
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs the Wechaty test gateway and a CJK font: {missing}")
        pytest.skip(missing)
    gw = Gateway(tmp_path_factory.mktemp("gateway"))
    gw.start()
    yield gw
    gw.stop()


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    """Rows from the bot's database ([] while it is not created or migrated yet)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()
    except sqlite3.OperationalError:
        return []


async def until_db(bot: asyncio.subprocess.Process, db: Path, sql: str, params: tuple, wanted: list[tuple],
                   within: float = 20.0) -> None:
    """Poll the bot's database until `sql` returns `wanted`."""
    deadline = time.monotonic() + within
    while (rows := query(db, sql, *params)) != wanted:
        if bot.returncode is not None:
            pytest.fail(f"the bot process ended with status {bot.returncode}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{sql} {params}: {rows}, expected {wanted}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def bot_run(gateway: Gateway, workdir: Path, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """`qunbot run --adapter wechaty ARGS` against the gateway, stopped (SIGTERM) on exit. Unlike the
    harness's bot_process it does not wait: the caller waits for this run's rosters in the database."""
    env = {**os.environ, "WECHATY_PUPPET_SERVICE_ENDPOINT": gateway.endpoint, "WECHATY_PUPPET_SERVICE_TOKEN": TOKEN,
           "QUNBOT_LOG": "WARNING"}
    bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", "--adapter", "wechaty", *args,
                                               cwd=workdir, env=env)
    try:
        yield bot
    finally:
        bot.terminate()
        await asyncio.wait_for(bot.wait(), 10)


async def rosters_handled(bot: asyncio.subprocess.Process, db: Path, count: int) -> None:
    """Both rooms' rosters of this run were handled (`count` roster events of each room so far): the
    bot is logged in and its event stream is open."""
    await until_db(bot, db, "select group_id, count(*) from events where type = 'roster' group by group_id "
                       "order by group_id", (), [(ROOM, count), (ROOM2, count)])


async def direct_messages(gateway: Gateway, bot: asyncio.subprocess.Process, count: int,
                          within: float) -> list[dict[str, Any]]:
    """The `count` messages the bot sent to the operator in a private chat (fails on more)."""
    deadline = time.monotonic() + within
    while True:
        if bot.returncode is not None:
            pytest.fail(f"the bot process ended with status {bot.returncode}")
        sent = [m for m in await gateway.get("/sent") if m["to"] == OPERATOR and not m["room"]]
        if len(sent) >= count:
            assert len(sent) == count, [(m["text"], m.get("file", {}).get("name")) for m in sent]
            return sent
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(sent)} direct message(s) to the operator within {within}s, expected "
                                 f"{count}: {[(m['text'], m.get('file', {}).get('name')) for m in sent]}")
        await asyncio.sleep(0.05)


def file_bytes(message: dict[str, Any]) -> bytes:
    """The bytes of a file the bot sent, as the gateway received them (checked against its digest)."""
    data = base64.b64decode(message["file"]["base64"])
    assert len(data) == message["file"]["size"] and hashlib.sha256(data).hexdigest() == message["file"]["sha256"]
    return data


def csv_rows(message: dict[str, Any]) -> list[list[str]]:
    data = file_bytes(message)
    assert data.startswith(b"\xef\xbb\xbf"), data[:16]  # UTF-8 with BOM: spreadsheet programs read the Chinese
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == CSV_HEADER, rows[0]
    return rows[1:]


def check_png(message: dict[str, Any]) -> None:
    from PIL import Image

    data = file_bytes(message)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    Image.open(io.BytesIO(data)).verify()  # the whole file: chunks and checksums
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    width, height = image.size
    assert width == 1080 and 600 <= height <= 1400, image.size  # phone-sized, as handlers/stats/charts.py draws it
    assert 20_000 < len(data) < 2_000_000, len(data)  # a drawn chart, not a blank or a raw bitmap
    extrema = image.convert("L").getextrema()
    assert extrema[1] - extrema[0] > 100, extrema  # ink on paper


async def test_purge_list_and_daily_stats_reach_the_operator_with_their_csv_and_chart(gateway: Gateway,
                                                                                        tmp_path: Path) -> None:
    await gateway.post("/reset")
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    db = tmp_path / "bot.db"
    args = ("--config", str(config), "--db", f"sqlite+aiosqlite:///{db}")

    # 1. fifteen days earlier: every member becomes known; 老王 speaks once (one message point), nobody else
    started = time.monotonic()
    async with bot_run(gateway, tmp_path, *args, "--clock-start", BEFORE.isoformat()) as bot:
        await rosters_handled(bot, db, 1)
        start_up = time.monotonic() - started
        await gateway.post("/say", {"from": "wxid_bob", "room": ROOM, "text": "今天的分享很有收获"})
        await until_db(bot, db, "select message_count, balance from members join points_balances using "
                                "(group_id, user_id) where group_id = ? and user_id = ?", (ROOM, "wxid_bob"), [(1, 1)])

    # 2. the evening of the reports: the clock starts early enough for this machine's start-up (measured
    # in phase 1) and the members' messages, all before 21:30
    await gateway.post("/reset")  # forget what was sent in phase 1 (the world stays the same)
    lead = max(MIN_LEAD_SECONDS, start_up + 1.5)
    clock_start = datetime.fromtimestamp(REPORTS_AT.timestamp() - lead, CST)
    started = time.monotonic()
    async with bot_run(gateway, tmp_path, *args, "--clock-start", clock_start.isoformat()) as bot:
        await rosters_handled(bot, db, 2)
        await gateway.post("/join", {"room": ROOM, "members": ["wxid_eve"], "inviter": "wxid_alice"})
        said = [("wxid_alice", "签到"), ("wxid_alice", "大家晚上好，今天的作业交了吗"),
                ("wxid_carol", "收到，辛苦大家了"), ("wxid_alice", "我先交了，请老师看看")]
        for user, text in said:
            await gateway.post("/say", {"from": user, "room": ROOM, "text": text})
        await gateway.post("/red_packet", {"from": "wxid_carol", "room": ROOM})
        await until_db(bot, db, "select count(*) from events where group_id = ? and type in ('text', 'red_packet', "
                                "'join') and ts >= ?", (ROOM, utc_column(clock_start)), [(6,)])
        [(latest,)] = query(db, "select max(ts) from events where group_id = ?", ROOM)
        assert latest < utc_column(REPORTS_AT), (
            f"the members' messages were handled after 21:30 (the last at {latest} UTC): start-up and messages took "
            f"{time.monotonic() - started:.1f}s of the {lead:.1f}s lead")

        sent = await direct_messages(gateway, bot, 8, within=lead + 15)
    print(f"phase 1 start-up {start_up:.1f}s; phase 2 (start-up, messages, 21:30, the reports) in "
          f"{time.monotonic() - started:.1f}s")

    kinds = [("text" if m["type"] == 7 else m["file"]["name"]) for m in sent]
    assert kinds == ["text", PURGE_CSV_ROOM1, "text", f"purge-room2_chatroom-{REPORTS_AT:%Y-%m-%d}.csv",
                     "text", STATS_PNG_ROOM1, "text", f"stats-room2_chatroom-{REPORTS_AT:%Y-%m-%d}.png"], kinds
    purge1, purge1_csv, purge2, purge2_csv, stats1, stats1_png, stats2, stats2_png = sent

    # the purge list of room1: Dave (never a word) first, then 老王 (silent since 05-05); not Alice or 小红
    # (active today; 小红 is the operator too), not Eve (joined today: within the 7 grace days), not the bot
    assert purge1["text"] == (
        "【清理名单】运营测试群（2026-05-20）\n2 人超过 14 天没有发言、签到或发红包（群内共 5 人）。"
        f"\n最久的：Dave（15 天）、老王（15 天）\n完整名单见附件 {PURGE_CSV_ROOM1}"), purge1["text"]
    assert purge1_csv["type"] == T_ATTACHMENT
    assert csv_rows(purge1_csv) == [
        ["wxid_dave", "Dave", "2026-05-05 20:30", "从未", "15", "0", "0", "沉默"],
        ["wxid_bob", "老王", "2026-05-05 20:30", "2026-05-05 20:30", "15", "1", "1", "普通"],
    ]
    # room2 (闲聊群): nobody ever spoke there; Alice's words in room1 do not count for room2
    assert purge2["text"].startswith("【清理名单】闲聊群（2026-05-20）\n2 人超过 14 天没有发言"), purge2["text"]
    assert [row[:5] for row in csv_rows(purge2_csv)] == [
        ["wxid_alice", "Alice", "2026-05-05 20:30", "从未", "15"],
        ["wxid_eve", "广告哥", "2026-05-05 20:30", "从未", "15"],
    ]

    # the 日报 of room1: 5 members after Eve's join, 5 messages (a check-in, three texts, a red packet)
    # from 2 members; 1 check-in of 5; nothing of phase 1 (another day)
    assert stats1["text"] == (
        "【日报】运营测试群 2026-05-20\n成员 5 人（+1 / -0）\n消息 5 条，2 人发言\n签到 1 人，签到率 20%\n"
        "红包 1 个，拦截广告 0 次\n话痨榜：Alice 3、小红 2"), stats1["text"]
    assert stats1_png["type"] == T_IMAGE
    check_png(stats1_png)
    assert stats2["text"].startswith("【日报】闲聊群 2026-05-20\n成员 2 人（+0 / -0）\n消息 0 条，0 人发言"), \
        stats2["text"]
    check_png(stats2_png)
    assert file_bytes(stats1_png) != file_bytes(stats2_png)


def utc_column(when: datetime) -> str:
    """An instant as the events table stores it on SQLite (naive UTC, ISO with a space): comparable as text."""
    return when.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S.%f")
