"""`make demo-web`: build a demo database (a few groups, a month of replayed events up to now) and serve
the operators' web console on it, printing the URL and a fresh sign-in token.

    .venv/bin/python scripts/demo_web.py [--port 8080] [--groups 4] [--days 30] [--folder data/demo]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.cli import main as qunbot  # noqa: E402
from scripts import demo_world  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--groups", type=int, default=4)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--folder", default="data/demo")
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    db, config = folder / "web.db", folder / "web-config.yaml"
    for old in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        old.unlink(missing_ok=True)
    config.write_text(demo_world.CONFIG, encoding="utf-8")
    print(f"building the demo database {db} ({args.groups} groups, {args.days} days; about half a minute) …",
          flush=True)
    today = datetime.now(demo_world.CST).replace(hour=0, minute=0, second=0, microsecond=0)
    asyncio.run(demo_world.build(db, args.groups, args.days, reports=folder / "reports",
                                 start=today - timedelta(days=args.days - 1), until=datetime.now(demo_world.CST)))
    token = secrets.token_hex(16)
    os.environ["QUNBOT_WEB_TOKEN"] = token
    print(f"\n运营后台：http://127.0.0.1:{args.port}/\n登录口令：{token}\n（Ctrl+C 结束）\n", flush=True)
    return qunbot(["web", "--config", str(config), "--db", str(db), "--port", str(args.port)])


if __name__ == "__main__":
    sys.exit(main())
