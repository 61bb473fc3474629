"""Logging set-up for the `qunbot` command: the usual text lines, or one JSON object a line.

`qunbot --log-format json …` writes each record as `{"ts", "level", "logger", "message", …}`: `ts` in
UTC (ISO 8601, milliseconds), then any extra fields the record carries (`extra={"job_id": …}`), the id
of the event being handled when the line was written (`event_id`: the router sets `EVENT_ID` while an
event goes through the chain, so a handler's or the store's lines carry it too) and `exc` (the
traceback) when there is one. Secrets never reach the log: the values of the token variables below
are replaced by `***` in every line, text or JSON (the code never logs them; this is the belt to
those braces).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

EVENT_ID: ContextVar[str | None] = ContextVar("qunbot_event_id", default=None)
SECRET_ENV = ("QUNBOT_WEB_TOKEN", "WECHATY_PUPPET_SERVICE_TOKEN")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "***"
# what every LogRecord has; anything else on a record came from `extra=` and goes into the JSON
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def secrets_from_env(environ: dict[str, str] | None = None) -> tuple[str, ...]:
    env = os.environ if environ is None else environ
    return tuple(v for v in (env.get(name, "") for name in SECRET_ENV) if len(v) >= 4)


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class TextFormatter(logging.Formatter):
    """The plain lines, with secrets masked."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__(TEXT_FORMAT)
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return _redact(super().format(record), self.secrets)


class JsonFormatter(logging.Formatter):
    """One JSON object a line (see the module doc)."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": _redact(record.getMessage(), self.secrets),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in line:
                line[key] = value
        event_id = EVENT_ID.get()
        if event_id is not None:
            line.setdefault("event_id", event_id)
        if record.exc_info:
            line["exc"] = _redact(self.formatException(record.exc_info), self.secrets)
        elif record.exc_text:
            line["exc"] = _redact(record.exc_text, self.secrets)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        text = json.dumps(line, ensure_ascii=False, default=str)
        return _redact(text, self.secrets) if self.secrets else text


def setup_logging(level: int, log_format: str = "text", stream: TextIO | None = None,
                  secrets: tuple[str, ...] | None = None) -> logging.Handler | None:
    """Send the root logger's records to `stream` (stderr) as text lines or JSON objects; returns the handler.
    Like `logging.basicConfig`, it leaves alone a root logger that something else set up (a test runner):
    then it returns None. Called again, it replaces its own handler."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "qunbot", False)]
    if root.handlers and not ours:
        return None
    for old in ours:
        root.removeHandler(old)
    secrets = secrets_from_env() if secrets is None else secrets
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(secrets) if log_format == "json" else TextFormatter(secrets))
    handler.qunbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return handler
