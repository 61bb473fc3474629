"""Round-trip latency through the real protocol: a member says 群规 in the mock gateway, the bot
(`qunbot run --adapter wechaty`, a separate process) answers; time from the /say call until the
answer is recorded by the gateway. Prints median and p99 over N round trips.

    .venv/bin/python bench/wechaty_roundtrip.py [-n 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gateway_harness import ROOM, Gateway, bot_process, gateway_missing, running_gateway  # noqa: E402

CONFIG = """
bot: {name: 群管机器人, id: qunbot_self}
outbox: {min_interval_seconds: 0, per_group_per_minute: 100000, per_account_per_minute: 100000, merge_texts: false}
defaults:
  keywords:
    - {name: 群规, match: exact, patterns: [群规], reply: "友善交流 {text}", cooldown_seconds: 0}
"""


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=100)
    args = parser.parse_args()
    missing = gateway_missing()
    if missing:
        print(f"wechaty_roundtrip: {missing}")
        return 1
    with running_gateway("qunbot-rtt-") as gateway:
        tmp = gateway.data_dir
        (tmp / "config.yaml").write_text(CONFIG, encoding="utf-8")
        async with bot_process(gateway, tmp, "--db", f"sqlite+aiosqlite:///{tmp}/rtt.db"):
            samples = await round_trips(gateway, args.n)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"round trips        {len(samples)}")
    print(f"median             {statistics.median(samples):.1f} ms")
    print(f"p99                {p99:.1f} ms")
    print(f"min / max          {samples[0]:.1f} / {samples[-1]:.1f} ms")
    print(json.dumps({"round_trips": len(samples), "median_ms": round(statistics.median(samples), 2),
                      "p99_ms": round(p99, 2)}))
    return 0


async def round_trips(gateway: Gateway, n: int) -> list[float]:
    """Sorted milliseconds from a member's 群规 to the bot's answer, after 5 warm-up rounds."""
    samples = []
    for i in range(n + 5):
        started = time.perf_counter()
        await gateway.post("/say", {"from": "wxid_alice", "room": ROOM, "text": "群规"})
        while True:  # poll the gateway's record of what the bot sent
            if len(await gateway.get("/sent")) >= i + 1:
                break
            await asyncio.sleep(0.001)
        if i >= 5:
            samples.append((time.perf_counter() - started) * 1000)
    return sorted(samples)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
