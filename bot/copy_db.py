"""`qunbot copy-db FROM_URL TO_URL`: move a database from SQLite to PostgreSQL (or back).

The work is storage/copy.py's; this prints the counts per table on stdout, a progress bar on a
terminal and the summary line on stderr. Exit 0 when every table's counts agree, 1 when they differ
or a batch could not be written (a rerun goes on where it stopped), 2 when the copy is refused.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.cli_args import existing_db
from bot.progress import Progress, many, print_summary


class _Bar:
    """storage.copy's progress calls, drawn by a Progress."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar

    def begin(self, rows: int) -> None:
        self.bar.total(rows)

    def table(self, name: str) -> None:
        self.bar.describe(f"copy {name}")

    def advance(self, rows: int) -> None:
        self.bar.advance(rows)


def cmd_copy_db(args: argparse.Namespace) -> int:
    import handlers  # noqa: F401  (every feature's tables on Base.metadata: the schema that is copied)
    from storage.copy import BATCH, CopyFailed, CopyRefused, copy_database

    source = existing_db(args.source)
    with Progress("copy-db", unit="row", unit_scale=True) as bar:
        try:
            report = asyncio.run(copy_database(source, args.target, batch=args.batch or BATCH, progress=_Bar(bar)))
        except CopyRefused as exc:
            bar.close()
            print(f"qunbot copy-db: refused: {exc}", file=sys.stderr)
            return 2
        except CopyFailed as exc:
            bar.close()
            print(f"qunbot copy-db: {exc}; rerun the same command to go on from the last batch written",
                  file=sys.stderr)
            return 1
    width = max(len(t.name) for t in report.tables)
    print(f"{'table':<{width}}  {'FROM':>10}  {'TO':>10}")
    for t in report.tables:
        print(f"{t.name:<{width}}  {t.source:>10}  {t.target:>10}{'' if t.ok else '  MISMATCH'}")
    bad = report.mismatched
    check = (f"counts match in all {len(report.tables)} tables" if not bad else
             "COUNTS DIFFER in " + "; ".join(f"{t.name} (FROM {t.source}, TO {t.target})" for t in bad))
    print_summary("copy-db", [many(report.copied, "row") + " copied", f"{report.present} already in TO", check,
                              f"schema {report.revision}"], bar.seconds)
    return 1 if bad else 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `copy-db` subcommand (bot/cli.py adds it with one line)."""
    from bot.cli_args import db_url, positive_int

    cp = sub.add_parser("copy-db", help="copy a database to another: SQLite to PostgreSQL or back (resumable)")
    cp.add_argument("source", metavar="FROM_URL", type=db_url, help="the database to copy (at the newest schema)")
    cp.add_argument("target", metavar="TO_URL", type=db_url,
                    help="an empty database, or a copy of FROM that was interrupted (it goes on)")
    cp.add_argument("--batch", type=positive_int, help="rows a batch (default 5000)")
    cp.set_defaults(func=cmd_copy_db)
