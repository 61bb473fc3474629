"""`qunbot web`: the console alone on the bot's database; and the token check `qunbot run` makes."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.cli_args import existing_db
from bot.web.security import TokenMissing, token_from_env
from bot.web.serve import serve_alone
from bot.web.server import check_bind
from rules.reload import ConfigHolder


def token_or_exit() -> None:
    try:
        token_from_env()
    except TokenMissing as exc:
        print(f"qunbot: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_web(args: argparse.Namespace) -> int:
    from bot.cli import DEFAULT_CONFIG, _config_or_exit

    config = _config_or_exit(args.config)
    token_or_exit()
    settings = config.model.web
    refusal = check_bind(args.host or settings.host, args.public or settings.public)
    if refusal:
        print(f"qunbot: {refusal}", file=sys.stderr)
        return 2
    config_path = args.config or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).exists() else None)
    try:
        db = existing_db(args.db or config.model.bot.database)
        return asyncio.run(serve_alone(ConfigHolder(config, config_path), db,
                                       host=args.host, port=args.port, public=args.public))
    except KeyboardInterrupt:
        return 130
