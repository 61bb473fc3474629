"""Peak memory of a replay of long messages against short ones (caches keyed by member texts must hold
short texts only; the ad check reads a long text in bounded pieces).

    .venv/bin/python bench/long_messages.py [--messages 3000] [--chars 10000]

Each run is a fresh process replaying N messages through `qunbot replay` on config.yaml (every
handler, a temporary database); printed: the peak RSS of each run, their ratio, and one line of JSON.
Target: the long run under 150 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 150
CST = timezone(timedelta(hours=8))
WORDS = "今天的分享会大家都很积极讨论了很多运营上的细节问题下次继续加油我们一起努力学习成长收获满满"


def transcript(path: Path, messages: int, chars: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=CST)
    with path.open("w", encoding="utf-8") as out:
        for n in range(messages):
            text = "".join(rng.choice(WORDS) for _ in range(chars))
            event = {"id": f"m{n}", "ts": (start + timedelta(seconds=20 * n)).isoformat(), "type": "text",
                     "group": f"g{n % 20}", "group_name": f"群{n % 20}", "user": f"u{n % 300}",
                     "user_name": f"成员{n % 300}", "text": text}
            out.write(json.dumps(event, ensure_ascii=False) + "\n")


def run_one(messages: int, chars: int) -> float:
    """Peak RSS (MB) of a child process replaying the transcript."""
    with tempfile.TemporaryDirectory(prefix="qunbot-long-") as tmp:
        path = Path(tmp) / "t.jsonl"
        transcript(path, messages, chars)
        code = ("import resource, sys, asyncio, io; from pathlib import Path; from rules.config import Config; "
                "from bot.adapters.replay import replay; "
                f"asyncio.run(replay(Config.from_file({str(ROOT / 'config.yaml')!r}), Path({str(path)!r}), "
                "db_url=None, until=None, out=io.StringIO(), errors=io.StringIO())); "
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
        return int(out.stdout.strip().splitlines()[-1]) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--chars", type=int, default=10_000)
    args = parser.parse_args(argv)
    short = run_one(args.messages, 20)
    long = run_one(args.messages, args.chars)
    verdict = "ok" if long < TARGET_MB else "MISSED"
    print(f"peak RSS, {args.messages} messages of 20 characters       {short:7.1f} MB")
    print(f"peak RSS, {args.messages} messages of {args.chars} characters   {long:7.1f} MB  "
          f"(target < {TARGET_MB} MB: {verdict}; {long / short:.2f}x the short run)")
    print(json.dumps({"messages": args.messages, "chars": args.chars, "short_mb": round(short, 1),
                      "long_mb": round(long, 1), "ratio": round(long / short, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
