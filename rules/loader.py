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

from rules.schema import SECRET_PATHS, BotConfig, GroupSettings

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


class _Positions:
    """Where each path of the document was written (1-based line and column)."""

    def __init__(self) -> None:
        self.at: dict[Path_, tuple[int, int]] = {}

    def find(self, path: Path_) -> tuple[int, int]:
        for n in range(len(path), -1, -1):
            if path[:n] in self.at:
                return self.at[path[:n]]
        return (1, 1)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _to_data(
    node: yaml.Node, path: Path_, pos: _Positions, problems: list[tuple[Path_, str]], secret_literal: set[Path_]
) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _to_data(key_node, path, pos, problems, secret_literal)
            if isinstance(key, (dict, list)) or key is None:
                pos.at[(*path, "?")] = _mark(key_node)
                problems.append(((*path, "?"), "a key must be a plain word or number"))
                continue
            key = str(key) if not isinstance(key, (int, str)) else key
            if isinstance(key, int) and not isinstance(key, bool):
                key = str(key)
            child = (*path, key)
            if key in out:
                pos.at[child] = _mark(key_node)
                problems.append((child, f"duplicate key {key!r}"))
                continue
            pos.at[child] = _mark(key_node)
            out[key] = _to_data(value_node, child, pos, problems, secret_literal)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            pos.at[(*path, i)] = _mark(item)
            items.append(_to_data(item, (*path, i), pos, problems, secret_literal))
        return items
    value = yaml.constructor.SafeConstructor.construct_object(_CONSTRUCTOR, node)
    if isinstance(value, str):
        if "${" in value:
            return _substitute_env(value, path, problems)
        if path in SECRET_PATHS and value:
            secret_literal.add(path)
    return value


_CONSTRUCTOR = yaml.constructor.SafeConstructor()


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
        if only_own and loc and not any(full[:n] in pos.at for n in range(len(prefix) + 1, len(full) + 1)):
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


def parse_config(text: str, file: str = "config.yaml") -> tuple[BotConfig, dict[str, dict[str, Any]],
                                                                 dict[str, Any]]:
    """Validate config text. Returns the model, the raw group overrides and the raw defaults.

    Raises ConfigError listing every problem (syntax, unknown keys, bad values, each override).
    """
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError([ConfigIssue(file, line, col, "", f"YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigIssue(file, 1, 1, "", f"YAML: {exc}")]) from None
    pos = _Positions()
    problems: list[tuple[Path_, str]] = []
    secret_literal: set[Path_] = set()
    try:
        data = {} if node is None else _to_data(node, (), pos, problems, secret_literal)
    finally:
        _CONSTRUCTOR.constructed_objects.clear()  # the shared constructor caches every node it built
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(file, 1, 1, "", "the file must be a mapping of sections")])
    issues = [ConfigIssue(file, *pos.find(p), dotted(p), m) for p, m in problems]
    for path in sorted(secret_literal, key=str):
        issues.append(ConfigIssue(file, *pos.find(path), dotted(path),
                                  "secrets come from the environment: write ${WECHATY_PUPPET_SERVICE_TOKEN}"))
    try:
        model = BotConfig.model_validate(data)
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
                GroupSettings.model_validate(deep_merge(raw_defaults, override))
            except ValidationError as exc:
                issues += _issues_from_validation(exc, file, pos, ("groups", key), only_own=True)
    if issues:
        issues.sort(key=lambda i: (i.line, i.col))
        raise ConfigError(issues)
    assert model is not None
    return model, raw_groups, raw_defaults


def read_config_file(path: str | Path) -> tuple[BotConfig, dict[str, dict[str, Any]], dict[str, Any]]:
    """Read and validate a config file (ConfigError on any problem, OSError when unreadable)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigIssue(str(path), 1, 1, "", f"not UTF-8 text: {exc.reason}")]) from None
    return parse_config(text, p.name if p.parent == Path() else str(path))
