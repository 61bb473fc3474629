"""Look for a text in the bytes of a SQLite database: the file, its WAL and its shared-memory index."""

from __future__ import annotations

import json
from pathlib import Path

from storage.store import Store


def forms(text: str) -> list[bytes]:
    """The ways `text` may be stored: UTF-8 as it is, and JSON-escaped (\\uXXXX) as json.dumps writes it."""
    return [text.encode("utf-8"), json.dumps(text)[1:-1].encode("ascii")]


def database_files(store: Store) -> list[Path]:
    path = Path(store.engine.url.database or "")
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def file_holds(store: Store, text: str) -> bool:
    """Whether any byte sequence of `text` is anywhere in the database's files (free pages included)."""
    data = b"".join(p.read_bytes() for p in database_files(store))
    return any(form in data for form in forms(text))
