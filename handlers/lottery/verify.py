"""`qunbot lottery-verify`: recompute a draw's winners, from a published seed and a pool file, or from the
draw stored in the bot's database (its seed from the message ids, its pool digest, its winners, and that
those messages are the group's, after the command).

    qunbot lottery-verify --seed HEX --pool FILE --winners N      (FILE: one member id a line)
    qunbot lottery-verify --event DRAW_ID [--db URL]              (DRAW_ID: the 抽奖 command's event id)

Exit status 0 when everything checks, 1 when something does not match, 2 when it cannot be checked.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path
from typing import Any

from bot.events import MESSAGE_TYPES
from handlers.lottery.draw import pool_digest, seed_of, sorted_pool, winners_of

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _print_draw(pool: list[str], seed: str, winners: list[str]) -> None:
    print(f"名单 {len(pool)} 人，摘要 {pool_digest(pool)}")
    print(f"种子 {seed}")
    print(f"中奖 {len(winners)} 人：")
    for member in winners:
        print(member)


def from_seed(seed: str, pool_file: str, count: int) -> int:
    """The winners of `count` drawn from the pool in `pool_file` with `seed`."""
    seed = seed.strip().lower()
    if not HEX64.match(seed):
        print(f"种子应是 64 位十六进制（SHA-256）：{seed[:80]!r}", file=sys.stderr)
        return 2
    try:
        lines = Path(pool_file).read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        print(f"读不了名单文件：{exc}", file=sys.stderr)
        return 2
    pool = sorted_pool(line.strip() for line in lines if line.strip())
    _print_draw(pool, seed, winners_of(seed, pool, count))
    return 0


def _checks(draw: dict[str, Any], events: dict[str, dict[str, Any]]) -> list[tuple[str, bool]]:
    pool, seeds = list(draw["pool"]), list(draw["seeds"])
    command = events.get(draw["id"])
    after = [events.get(e) for e in seeds]
    return [
        (f"种子 = SHA-256(抽奖命令的 id 和之后 {len(seeds)} 条消息的 id)", seed_of(draw["id"], seeds) == draw["seed"]),
        (f"名单 {len(pool)} 人与摘要相符", pool_digest(pool) == draw["pool_digest"] and pool == sorted_pool(pool)),
        (f"中奖名单由种子和名单算出（{draw['wanted']} 人）",
         winners_of(draw["seed"], pool, draw["wanted"]) == list(draw["winners"] or [])),
        ("抽奖命令在数据库里", command is not None and command["group"] == draw["group_id"]),
        ("这些消息在同一个群、在抽奖命令之后", command is not None and all(
            e is not None and e["group"] == draw["group_id"] and e["type"] in MESSAGE_TYPES
            and e["ts"] >= command["ts"] for e in after)),
    ]


async def from_store(url: str, draw_id: str) -> int:
    """Check the stored draw `draw_id` and print its winners."""
    from bot.app import open_store
    from handlers.lottery.repository import LotteryRepository

    store = open_store(url)
    await store.open()
    try:
        repo = store.repository(LotteryRepository)
        draw = await repo.stored(draw_id)
        if draw is None:
            print(f"数据库里没有这次抽奖：{draw_id}（写抽奖命令那条消息的 id）", file=sys.stderr)
            return 2
        if draw["status"] != "drawn":
            print(f"还没开奖：已收到 {len(draw['seeds'])}/{draw['seed_messages']} 条消息", file=sys.stderr)
            return 2
        checks = _checks(draw, await repo.events([draw_id, *draw["seeds"]]))
    finally:
        await store.close()
    for what, ok in checks:
        print(f"{'✓' if ok else '✗'} {what}")
    _print_draw(list(draw["pool"]), draw["seed"], list(draw["winners"] or []))
    return 0 if all(ok for _, ok in checks) else 1


def verify(args: argparse.Namespace, url: str | None) -> int:
    """The command: --event (with the database at `url`), or --seed, --pool and --winners."""
    if args.event:
        assert url is not None
        return asyncio.run(from_store(url, args.event))
    if not (args.seed and args.pool and args.winners):
        print("用法：qunbot lottery-verify --seed HEX --pool FILE --winners N ｜ --event DRAW_ID [--db URL]",
              file=sys.stderr)
        return 2
    return from_seed(args.seed, args.pool, args.winners)
