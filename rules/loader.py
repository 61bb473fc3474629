"""Read config.yaml into a validated `Config`; every error names its place as FILE:LINE:COL.

The YAML is composed into nodes (PyYAML keeps the line and column of each), turned into plain
data while recording where every key and item came from, and validated with the pydantic schema.
Pydantic's error locations are mapped back to those places.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rules.schema import SECRET_PATHS, BotConfig, config_model, group_settings_model

Path_ = tuple[str | int, ...]
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class ConfigIssue:
    """One error in a config file."""

    file: str
    line: int
    col: int
    where: str
    message: str

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        return f"{self.file}:{self.line}:{self.col}: {where}{self.message}"


class ConfigError(Exception):
    """A config that does not validate; `issues` lists every problem found."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def dotted(path: Iterable[str | int]) -> str:
    """('defaults', 'keywords', 3, 'match') -> 'defaults.keywords[3].match'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f"[{part!r}]"
        else:
            out += f".{part}" if out else part
    return out


class _Discard(dict):  # type: ignore[type-arg]
    """A mapping that keeps nothing (positions are only needed when there is an error to report)."""

    def __setitem__(self, key: Any, value: Any) -> None:
        return None


class _Positions:
    """Where each path of the document was written (1-based line and column)."""

    def __init__(self, record: bool = True) -> None:
        self.recording = record
        self.at: dict[Path_, tuple[int, int]] = {} if record else _Discard()

    def find(self, path: Path_) -> tuple[int, int]:
        for n in range(len(path), -1, -1):
            if path[:n] in self.at:
                return self.at[path[:n]]
        return (1, 1)


class _Frame:
    """A mapping or sequence being built from parser events."""

    __slots__ = ("container", "key", "path", "start", "value_path")

    def __init__(self, container: Any, path: Path_ | None, start: yaml.Event) -> None:
        self.container = container
        self.value_path = path  # None when the container is itself a mapping key
        self.path: Path_ = path if path is not None else ("?",)
        self.start = start
        self.key: Any = _NO_KEY


_NO_KEY = object()


def _mark(event: yaml.Event) -> tuple[int, int]:
    return (event.start_mark.line + 1, event.start_mark.column + 1)


def _build(text: str, pos: _Positions, problems: list[tuple[Path_, str]], secret_literal: set[Path_]) -> Any:
    """Plain data from the YAML parser's events, recording where each key and item was written.

    Events, not a composed node tree: a large config (10k keyword rules) is read without holding a
    tree of nodes besides the data.
    """
    loader = _Loader(text)
    stack: list[_Frame] = []
    anchors: dict[str, Any] = {}
    root: Any = None

    def place(event: yaml.Event) -> Path_ | None:
        """The path of the value this event starts (None for a mapping key); records its place."""
        if not stack:
            return ()
        top = stack[-1]
        if isinstance(top.container, list):
            path = (*top.path, len(top.container))
            pos.at[path] = _mark(event)
            return path
        if top.key is _NO_KEY:
            return None
        return (*top.path, top.key)

    def add(value: Any, event: yaml.Event, path: Path_ | None) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        top = stack[-1]
        if isinstance(top.container, list):
            top.container.append(value)
            return
        if top.key is _NO_KEY:  # this value is a key
            key = value
            if isinstance(key, (dict, list)) or key is None:
                key = "?"
                problems.append(((*top.path, key), "a key must be a plain word or number"))
            elif not isinstance(key, str):
                key = str(key).lower() if isinstance(key, bool) else str(key)
            child = (*top.path, key)
            if key == "<<":
                problems.append((child, "merge keys (<<) are not supported: write the settings out"))
            if key in top.container:
                problems.append((child, f"duplicate key {key!r}"))
                pos.at[child] = _mark(event)
                key = _DUPLICATE
            else:
                pos.at[child] = _mark(event)
            top.key = key
            return
        if top.key is not _DUPLICATE:
            top.container[top.key] = value
        top.key = _NO_KEY

    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.ScalarEvent):
                path = place(event)
                tag = event.tag if event.tag not in (None, "!") else loader.resolve(
                    yaml.ScalarNode, event.value, event.implicit)
                node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
                value = loader.construct_object(node)
                loader.constructed_objects.pop(node, None)
                if isinstance(value, str) and path is not None:
                    if "${" in value:
                        value = _substitute_env(value, path, problems)
                    elif path in SECRET_PATHS and value:
                        secret_literal.add(path)
                if event.anchor:
                    anchors[event.anchor] = value
                add(value, event, path)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                path = place(event)
                container: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
                if event.anchor:
                    anchors[event.anchor] = container
                stack.append(_Frame(container, path, event))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                add(frame.container, frame.start, frame.value_path)
            elif isinstance(event, yaml.AliasEvent):
                path = place(event)
                if event.anchor not in anchors:
                    problems.append((path or (), f"unknown alias *{event.anchor}"))
                add(anchors.get(event.anchor), event, path)
    finally:
        loader.dispose()
    return root


_DUPLICATE = object()


def _substitute_env(text: str, path: Path_, problems: list[tuple[Path_, str]]) -> str:
    def one(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        value = os.environ.get(name)
        if value is None:
            if default is not None:
                return default
            problems.append((path, f"environment variable {name} is not set (write ${{{name}:-default}} "
                                   "for an optional one)"))
            return ""
        return value

    return _ENV.sub(one, text)


def _issues_from_validation(
    exc: ValidationError, file: str, pos: _Positions, prefix: Path_, only_own: bool = False
) -> list[ConfigIssue]:
    """Map pydantic errors to places. With only_own, skip errors of values the override did not set
    (they come from `defaults`, which is reported on its own)."""
    issues = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        full = (*prefix, *loc)
        if only_own and pos.recording and loc and not any(full[:n] in pos.at
                                                          for n in range(len(prefix) + 1, len(full) + 1)):
            continue
        line, col = pos.find(full)
        message = err["msg"]
        for noise in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(noise)
        if err["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        elif err["type"] == "missing":
            message = "this key is required"
        issues.append(ConfigIssue(file, line, col, dotted(full), message))
    return issues


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; any other value (lists included) in `over` replaces the base one."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_config(text: str, file: str = "config.yaml", base: Mapping[str, Any] | None = None
                 ) -> tuple[BotConfig, dict[str, dict[str, Any]], dict[str, Any]]:
    """Validate config text. Returns the model, the raw group overrides and the raw defaults. With
    `base` (the embedded defaults' data), the text is laid over it: mappings merge key by key, lists
    and values of the text replace the base's.

    Raises ConfigError listing every problem (syntax, unknown keys, bad values, each override).
    """
    try:
        return _parse(text, file, _Positions(record=False), base)
    except ConfigError:
        # read it again, this time noting where everything was written, to say where the errors are
        return _parse(text, file, _Positions(), base)


def _parse(text: str, file: str, pos: _Positions, base: Mapping[str, Any] | None = None
           ) -> tuple[BotConfig, dict[str, dict[str, Any]], dict[str, Any]]:
    problems: list[tuple[Path_, str]] = []
    secret_literal: set[Path_] = set()
    try:
        data = _build(text, pos, problems, secret_literal)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError([ConfigIssue(file, line, col, "", f"YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigIssue(file, 1, 1, "", f"YAML: {exc}")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(file, 1, 1, "", "the file must be a mapping of sections")])
    if base:
        data = deep_merge(dict(base), data)
    issues = [ConfigIssue(file, *pos.find(p), dotted(p), m) for p, m in problems]
    for path in sorted(secret_literal, key=str):
        issues.append(ConfigIssue(file, *pos.find(path), dotted(path),
                                  "secrets come from the environment: write ${WECHATY_PUPPET_SERVICE_TOKEN}"
                                  if path[0] == "wechaty" else
                                  "secrets come from the environment: write ${AN_ENVIRONMENT_VARIABLE}"))
    try:
        model = config_model().model_validate(data)
    except ValidationError as exc:
        issues += _issues_from_validation(exc, file, pos, ())
        model = None
    raw_defaults = data.get("defaults") if isinstance(data.get("defaults"), dict) else {}
    raw_groups = data.get("groups") if isinstance(data.get("groups"), dict) else {}
    if model is not None:
        for key, override in raw_groups.items():
            if not isinstance(override, dict):
                issues.append(ConfigIssue(file, *pos.find(("groups", key)), dotted(("groups", key)),
                                          "a group override must be a mapping of settings"))
                continue
            try:
                group_settings_model().model_validate(deep_merge(raw_defaults, override))
            except ValidationError as exc:
                issues += _issues_from_validation(exc, file, pos, ("groups", key), only_own=True)
    if issues:
        issues.sort(key=lambda i: (i.line, i.col))
        raise ConfigError(issues)
    assert model is not None
    return model, raw_groups, raw_defaults


def read_config_file(path: str | Path, base: Mapping[str, Any] | None = None
                     ) -> tuple[BotConfig, dict[str, dict[str, Any]], dict[str, Any]]:
    """Read and validate a config file laid over `base` (ConfigError on any problem, OSError when
    unreadable)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigIssue(str(path), 1, 1, "", f"not UTF-8 text: {exc.reason}")]) from None
    return parse_config(text, p.name if p.parent == Path() else str(path), base)
