"""A throwaway PostgreSQL server for the tests: a real cluster from Debian's binaries, in a temp folder.

`make postgres` (part of `make test`) installs the binaries with apt when they are missing. As root,
initdb and pg_ctl run as the `postgres` user (initdb refuses root) on a folder that user owns. The
cluster trusts local connections, skips fsync, listens on 127.0.0.1 on a free port, and is stopped
and deleted on exit (also when the tests fail or are interrupted; a cluster left by a killed run is
removed by the next one).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PG_ROOT = Path("/usr/lib/postgresql")
SUPERUSER = "postgres"
PREFIX = "qunbot-pg-"
HINT = "run `make postgres` (as root it installs Debian's postgresql with apt)"


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path.parent.parent.name)) or (0,)


def find_bindir() -> Path | None:
    """The folder of the newest PostgreSQL server binaries: $PG_BINDIR, Debian's layout, or the PATH."""
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    candidates += [p.parent for p in sorted(PG_ROOT.glob("*/bin/pg_ctl"), key=_version_key, reverse=True)]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres", "psql")):
            return bindir
    return None


def _run_as() -> list[str]:
    """The prefix that runs a server command as an unprivileged user (initdb refuses root)."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", SUPERUSER, "--"]


def pg_missing() -> str | None:
    """Why a server cannot be started here (None when it can)."""
    if importlib.util.find_spec("asyncpg") is None:
        return "the asyncpg driver is not installed: `make test` installs it (pip install -e '.[postgres]')"
    if find_bindir() is None:
        return f"the PostgreSQL server binaries (initdb, pg_ctl) are not installed: {HINT}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError:
            return f"running as root but there is no `{SUPERUSER}` user to run the server as: {HINT}"
        if shutil.which("runuser") is None:
            return "running as root but `runuser` (util-linux) is missing: it runs the server as `postgres`"
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tmp_root() -> Path:
    """Where clusters live: the temp folder, unless the `postgres` user could not reach into it."""
    root = Path(tempfile.gettempdir())
    if os.geteuid() == 0 and any(not p.stat().st_mode & 0o001 for p in (root, *root.parents)):
        return Path("/tmp")
    return root


def remove_stale_clusters(bindir: Path) -> None:
    """Stop and delete the clusters of test runs that were killed before they could clean up."""
    for folder in _tmp_root().glob(f"{PREFIX}*"):
        try:
            owner = int((folder / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        if (folder / "data" / "postmaster.pid").exists():
            subprocess.run([*_run_as(), str(bindir / "pg_ctl"), "stop", "-m", "immediate", "-w", "-D",
                            str(folder / "data")], capture_output=True, timeout=30, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgServer:
    """One cluster; `start()` then `url(db)` / `create_database()`; `stop()` removes everything."""

    def __init__(self, bindir: Path | None = None) -> None:
        found = bindir or find_bindir()
        if found is None:
            raise RuntimeError(pg_missing() or "no PostgreSQL binaries")
        self.bindir = found
        self.tmp: Path | None = None
        self.port = 0
        self._names = itertools.count(1)
        self._started = False
        self.startup_seconds = 0.0

    @property
    def datadir(self) -> Path:
        assert self.tmp is not None
        return self.tmp / "data"

    @property
    def logfile(self) -> Path:
        assert self.tmp is not None
        return self.tmp / "server.log"

    def url(self, database: str = SUPERUSER) -> str:
        """The async SQLAlchemy URL of a database on this server."""
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _server_cmd(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([*_run_as(), str(self.bindir / tool), *args], capture_output=True, text=True,
                                timeout=timeout, cwd=self.tmp)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}"
                               f"{self._log_tail()}")
        return result

    def _log_tail(self) -> str:
        try:
            lines = self.logfile.read_text(errors="replace").splitlines()[-15:]
        except OSError:
            return ""
        return "\nserver log:\n" + "\n".join(lines) if lines else ""

    def start(self) -> PgServer:
        """initdb a fresh cluster and start it (about a second); on any failure nothing is left behind."""
        began = time.monotonic()
        remove_stale_clusters(self.bindir)
        self.tmp = Path(tempfile.mkdtemp(prefix=PREFIX, dir=_tmp_root()))
        atexit.register(self.stop)
        try:
            (self.tmp / "owner.pid").write_text(str(os.getpid()))
            if os.geteuid() == 0:
                os.chown(self.tmp, pwd.getpwnam(SUPERUSER).pw_uid, -1)
            self._server_cmd("initdb", "-D", str(self.datadir), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                             "--no-locale", "--no-sync", "--no-instructions")
            for attempt in range(3):  # a free port may be taken between the probe and the bind
                self.port = _free_port()
                try:
                    self._server_cmd(
                        "pg_ctl", "start", "-w", "-t", "30", "-D", str(self.datadir), "-l", str(self.logfile),
                        "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.tmp} -c fsync=off "
                              "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50",
                    )
                    break
                except RuntimeError:
                    if attempt == 2 or "already in use" not in self._log_tail():
                        raise
            self._started = True
            self.startup_seconds = time.monotonic() - began
            return self
        except BaseException:
            self.stop()
            raise

    def psql(self, sql: str, database: str = SUPERUSER) -> str:
        """Run SQL with psql over TCP (as the trusted superuser); returns its unaligned output."""
        result = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
             "-p", str(self.port), "-U", SUPERUSER, "-d", database, "-c", sql],
            capture_output=True, text=True, timeout=60, env={**os.environ, "PGCONNECT_TIMEOUT": "10"})
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def create_database(self, prefix: str = "t") -> str:
        """A fresh, empty database with a unique name; returns its async SQLAlchemy URL."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (immediately: it is throwaway) and delete its folder. Safe to call twice."""
        tmp, self.tmp = self.tmp, None
        if tmp is None:
            return
        atexit.unregister(self.stop)
        try:
            if self._started or (tmp / "data" / "postmaster.pid").exists():
                subprocess.run([*_run_as(), str(self.bindir / "pg_ctl"), "stop", "-m", "immediate", "-w",
                                "-D", str(tmp / "data")], capture_output=True, timeout=30, cwd=tmp)
        finally:
            self._started = False
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def running_server() -> Iterator[PgServer]:
    """A started server for the duration of the block."""
    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()
