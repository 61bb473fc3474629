"""`/config`: a group's effective settings, each with the layer that set it, and the config.yaml editor.

Effective settings: every leaf of the group's settings (`checkin.points`, `welcome.text` …) with its value
and where it came from — the built-in defaults (the schema and rules/defaults.yaml), config.yaml's
`defaults`, a `groups` entry matched by the group's name (a glob) or its own id entry — found the way
`Config` merges them (`override_keys`, name-matched entries granting no admins/operators). The bot-wide
sections are listed too; secrets (wechaty.token, a password in a URL) are never shown.

The editor: 校验 prints what `qunbot check-config` prints (rules/check.py); 保存 checks first (the text is
kept when refused), keeps a backup next to the file (config.yaml.bak-YYYYmmdd-HHMMSS, the last 10),
writes it atomically (temp file + os.replace) and reloads the config in force (`holder.reload()`; a
running bot's file watcher reloads too).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.web.console import WebConsole
from bot.web.keys import CONSOLE
from bot.web.templating import render
from rules.check import ConfigCheck, check_text
from rules.config import EMBEDDED_DEFAULTS, Config, embedded_data
from rules.schema import SECRET_PATHS, config_model

routes = web.RouteTableDef()

BUILTIN = "默认值（内置）"
FILE_DEFAULTS = "config.yaml 的 defaults"
FILE_GLOBAL = "config.yaml"
MAX_TEXT_BYTES = 2 * 1024 * 1024  # the app's body limit (server.MAX_BODY) bounds it too
KEEP_BACKUPS = 10
MAX_VALUE_CHARS = 400
_MISSING = object()
_URL_PASSWORD = re.compile(r"(://[^/:@\s]*:)[^@/\s]+@")


@dataclass(frozen=True)
class Setting:
    """One leaf setting as the page shows it."""

    path: str
    value: str
    layer: str
    own: bool = False  # set by one of the group's `groups` entries (shown highlighted)


@dataclass(frozen=True)
class Layer:
    """A `groups` entry that applies to the group, as merged."""

    key: str
    label: str
    data: Mapping[str, Any]
    ignored: tuple[str, ...] = ()  # admins/operators of a name-matched entry: not granted


def _leaves(data: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, value) of every leaf; lists and empty mappings are leaves, but a list of mappings (`accounts`,
    whose tokens are secrets) is walked item by item ("accounts.0.token")."""
    if isinstance(data, Mapping) and data:
        for key, value in data.items():
            yield from _leaves(value, (*path, str(key)))
    elif isinstance(data, list) and data and all(isinstance(item, Mapping) for item in data):
        for index, item in enumerate(data):
            yield from _leaves(item, (*path, str(index)))
    else:
        yield path, data


def _at(data: Any, path: tuple[str, ...]) -> Any:
    """The value at `path` of nested mappings (_MISSING when a step is absent or not a mapping)."""
    node = data
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def show(value: Any) -> str:
    """A value as text: strings as written, the rest as JSON (long ones cut)."""
    if value is None:
        return "（无）"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > MAX_VALUE_CHARS:
        more = f"（共 {len(value)} 项）" if isinstance(value, list | dict) else ""
        text = text[:MAX_VALUE_CHARS] + "…" + more
    return text


def group_layers(config: Config, group_id: str | None, group_name: str | None) -> list[Layer]:
    """The `groups` entries that apply to the group, in merge order (see Config._runtime)."""
    if group_id is None:
        return []
    keys = config.group(group_id, group_name).overrides
    by_id = bool(keys) and keys[-1] == group_id
    layers = []
    for n, key in enumerate(keys):
        raw = config.raw_groups[key]
        own_id = by_id and n == len(keys) - 1
        ignored: tuple[str, ...] = ()
        if not own_id and not raw.get("trust_name_match"):
            ignored = tuple(k for k in ("admins", "operators") if k in raw)
            raw = {k: v for k, v in raw.items() if k not in ignored}
        label = f"groups「{key}」（本群 id）" if own_id else f"groups「{key}」（按群名匹配）"
        layers.append(Layer(key, label, raw, ignored))
    return layers


def effective_settings(config: Config, group_id: str | None, group_name: str | None
                       ) -> tuple[list[Setting], list[Layer]]:
    """Every leaf of the group's settings (the defaults alone when `group_id` is None) with its layer."""
    settings = config.group(group_id, group_name).settings if group_id else config.model.defaults
    layers = group_layers(config, group_id, group_name)
    builtin = embedded_data().get("defaults") or {}
    out = []
    for path, value in _leaves(settings.model_dump(mode="json")):
        layer = next((g for g in reversed(layers) if _at(g.data, path) is not _MISSING), None)
        if layer is not None:
            out.append(Setting(".".join(path), show(value), layer.label, own=True))
            continue
        written, shipped = _at(config.raw_defaults, path), _at(builtin, path)
        from_file = written is not _MISSING and (shipped is _MISSING or shipped != written)
        out.append(Setting(".".join(path), show(value), FILE_DEFAULTS if from_file else BUILTIN))
    return out, layers


@cache
def _shipped_globals() -> dict[str, Any]:
    """The bot-wide sections as shipped (the schema's defaults under rules/defaults.yaml)."""
    return config_model().model_validate(embedded_data()).model_dump(mode="json", exclude={"defaults", "groups"})


def global_settings(config: Config) -> list[Setting]:
    """The bot-wide sections (bot, outbox, wechaty, web …): secrets hidden, passwords in URLs masked."""
    shipped = _shipped_globals()
    out = []
    for path, value in _leaves(config.model.model_dump(mode="json", exclude={"defaults", "groups"})):
        layer = BUILTIN if _at(shipped, path) == value else FILE_GLOBAL
        if path in SECRET_PATHS:
            text = "（已设置，不显示）" if value else "（未设置）"
        else:
            text = _URL_PASSWORD.sub(r"\1***@", show(value))
        out.append(Setting(".".join(path), text, layer))
    return out


# -- saving ------------------------------------------------------------------------------------------


def _backup_key(name: str, path: Path) -> tuple[str, int] | None:
    found = re.fullmatch(re.escape(name) + r"\.bak-(\d{8}-\d{6})(?:-(\d+))?", path.name)
    return (found.group(1), int(found.group(2) or 1)) if found else None


def backups(target: Path) -> list[Path]:
    """The backups of the config file next to it, oldest first."""
    found = [(key, p) for p in target.parent.glob(f"{target.name}.bak-*") if (key := _backup_key(target.name, p))]
    return [p for _key, p in sorted(found)]


def _backup(target: Path, stamp: str) -> Path | None:
    """Copy the file to <name>.bak-<stamp> (-2, -3 … when taken) and keep the last KEEP_BACKUPS."""
    if not target.exists():
        return None
    data, mode = target.read_bytes(), target.stat().st_mode & 0o777
    same = [key[1] for p in backups(target) if (key := _backup_key(target.name, p)) and key[0] == stamp]
    n = max(same, default=0) + 1  # after the newest of this second (a pruned number is not reused)
    while True:
        copy = target.with_name(f"{target.name}.bak-{stamp}" + (f"-{n}" if n > 1 else ""))
        try:
            with open(copy, "xb") as fh:
                fh.write(data)
            break
        except FileExistsError:
            n += 1
    os.chmod(copy, mode)
    for old in backups(target)[:-KEEP_BACKUPS]:
        with contextlib.suppress(OSError):
            old.unlink()
    return copy


def write_atomically(target: Path, text: str) -> None:
    """Write `text` to a temp file beside `target`, flush it to disk, then os.replace it over `target`."""
    mode = target.stat().st_mode & 0o777 if target.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # the rename itself durable (not every file system allows it)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@dataclass(frozen=True)
class Saved:
    """What saving did: `message` for the page; `error` when it did not save or reload."""

    message: str
    error: bool = False
    backup: Path | None = None


def save_config(console: WebConsole, text: str, checked: ConfigCheck) -> Saved:
    """Save checked text over the console's config file and reload it (see the module doc)."""
    if console.config_path is None:
        return Saved("没有配置文件：机器人现在用的是内置默认值，网页上不能保存。请用 --config 指定一个配置文件"
                     "（或在工作目录放一个 config.yaml）后重新启动。", error=True)
    if not checked.ok:
        return Saved(f"配置有错误，没有保存（{checked.summary}）", error=True)
    target = console.config_path.resolve()
    try:
        if target.exists() and target.read_text(encoding="utf-8") == text:
            reloaded = console.holder.reload()
            return Saved("内容没有变化，已重新加载" if reloaded else "内容没有变化", error=not reloaded)
        stamp = console.now().astimezone(console.config.tz).strftime("%Y%m%d-%H%M%S")
        copy = _backup(target, stamp)
        write_atomically(target, text)
    except (OSError, UnicodeDecodeError) as exc:
        return Saved(f"保存失败：{exc}", error=True)
    if not console.holder.reload():
        return Saved("已保存，但没能重新加载（详情见机器人日志）：仍在用之前的配置", error=True, backup=copy)
    return Saved("已保存，已重新加载", backup=copy)


# -- the page ----------------------------------------------------------------------------------------


def group_options(named: Mapping[str, str | None]) -> list[tuple[str, str]]:
    """(id, label) of the groups for a picker, by name; a name several groups share shows the id too."""
    seen = Counter(n or g for g, n in named.items())
    return sorted(((g, n or g if seen[n or g] == 1 else f"{n or g}（{g}）") for g, n in named.items()),
                  key=lambda item: (item[1], item[0]))


def _file_text(console: WebConsole) -> tuple[str, str | None]:
    """The config file's text and a line about it (None: nothing to say)."""
    path = console.config_path
    if path is None:
        return EMBEDDED_DEFAULTS.read_text(encoding="utf-8"), (
            "没有配置文件：下面是内置默认值（rules/defaults.yaml），可以校验，不能保存。")
    try:
        return path.read_text(encoding="utf-8"), None
    except (OSError, UnicodeDecodeError) as exc:
        return "", f"读不了配置文件 {path.name}：{exc}"


async def _page(request: web.Request, *, text: str | None = None, checked: ConfigCheck | None = None,
                saved: Saved | None = None, error: str | None = None, status: int = 200) -> web.Response:
    console: WebConsole = request.app[CONSOLE]
    config = console.config
    named = await console.store.members.groups_named()
    groups = group_options(named)
    wanted = request.query.get("group", "")
    group = wanted if wanted in named else None
    settings, layers = effective_settings(config, group, named.get(group) if group else None)
    file_text, file_note = _file_text(console)
    return render(request, "config.html", status=status, groups=groups, group=group or "", settings=settings,
                  layers=layers, global_settings=global_settings(config), text=file_text if text is None else text,
                  file_note=file_note, file_name=console.config_path.name if console.config_path else "config.yaml",
                  can_save=console.config_path is not None, checked=checked, saved=saved, error=error,
                  source_note=BUILTIN, keep=KEEP_BACKUPS)


@routes.get("/config")
async def config_page(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post("/config")
async def config_post(request: web.Request) -> web.Response:
    console: WebConsole = request.app[CONSOLE]
    form = await request.post()
    raw = form.get("text")
    if not isinstance(raw, str):
        return await _page(request, text="", error="没有收到配置内容", status=400)
    text = raw.replace("\r\n", "\n")  # a browser sends the textarea's lines with CRLF
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        return await _page(request, text="", error=f"配置内容超过 {MAX_TEXT_BYTES // (1024 * 1024)} MB 的上限",
                           status=413)
    name = console.config_path.name if console.config_path else "config.yaml"
    checked = check_text(text, name, before=console.config)
    if form.get("do") != "save":
        return await _page(request, text=text, checked=checked)
    saved = save_config(console, text, checked)
    return await _page(request, text=text, checked=checked, saved=saved, status=422 if saved.error else 200)
