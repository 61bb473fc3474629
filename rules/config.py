"""The loaded config: the validated model plus, per group, effective settings and compiled matchers."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from rules.loader import deep_merge, parse_config, read_config_file
from rules.schema import BotConfig, GroupSettings, group_settings_model, shared_fields

EMBEDDED_DEFAULTS = Path(__file__).with_name("defaults.yaml")
MAX_CACHED_GROUPS = 100_000


@lru_cache(maxsize=1)
def embedded_data() -> dict[str, Any]:
    """The embedded defaults as plain data (what every config file is laid over)."""
    return yaml.safe_load(EMBEDDED_DEFAULTS.read_text(encoding="utf-8")) or {}


def is_id_key(key: str) -> bool:
    """A `groups` key that names a group by its platform id (WeChat room ids end in "@chatroom")."""
    return "@" in key


@dataclass(frozen=True)
class GroupRuntime:
    """What a group runs with: its settings, what each feature compiled from them (matchers,
    patterns: `compiled[feature name]`), and the `groups` keys that applied, in order."""

    settings: GroupSettings
    compiled: dict[str, Any]
    overrides: tuple[str, ...]
    fields: dict[str, str]  # the placeholders features offer every template (rules.schema.shared_fields)


class Config:
    """A validated config file. Immutable once built: reload builds a new one and swaps it in."""

    def __init__(self, model: BotConfig, raw_groups: dict[str, dict[str, Any]], raw_defaults: dict[str, Any],
                 source: str = "<embedded>") -> None:
        self.model = model
        self.source = source
        self._raw_groups = raw_groups
        self._raw_defaults = raw_defaults
        self._by_keys: dict[tuple[str, ...], GroupRuntime] = {}
        self._by_group: dict[tuple[str | None, str | None], GroupRuntime] = {}
        self.cache: dict[Any, Any] = {}  # objects handlers build from this config (detectors …), built once

    @classmethod
    def from_file(cls, path: str | Path) -> Config:
        """A config file laid over the embedded defaults (rules/defaults.yaml): a file holding only
        `defaults: {mode: observe}` keeps the embedded rules text and 群规 keyword rule."""
        base = None if Path(path).resolve() == EMBEDDED_DEFAULTS.resolve() else embedded_data()
        model, groups, defaults = read_config_file(path, base)
        return cls(model, groups, defaults, str(path))

    @classmethod
    def from_text(cls, text: str, name: str = "config.yaml") -> Config:
        model, groups, defaults = parse_config(text, name)
        return cls(model, groups, defaults, name)

    def with_bot(self, **changes: Any) -> Config:
        """The same config with some `bot` settings changed (replay points reports into its temp dir)."""
        model = self.model.model_copy(update={"bot": self.model.bot.model_copy(update=changes)})
        return Config(model, self._raw_groups, self._raw_defaults, self.source)

    @classmethod
    def embedded(cls) -> Config:
        """The defaults shipped inside the package (used when no config file is given)."""
        return cls.from_file(EMBEDDED_DEFAULTS)

    @property
    def raw_defaults(self) -> dict[str, Any]:
        """The `defaults` section as written, laid over the embedded defaults (plain data, read only)."""
        return self._raw_defaults

    @property
    def raw_groups(self) -> dict[str, dict[str, Any]]:
        """The `groups` entries as written, in file order (plain data, read only)."""
        return self._raw_groups

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.model.bot.timezone)

    @property
    def bot_id(self) -> str:
        return self.model.bot.id

    def variants(self) -> list[GroupSettings]:
        """The defaults and each `groups` entry merged on them: every schedule a group may have
        comes from one of these (scheduled jobs are derived from them)."""
        found = self.cache.get("variants")
        if found is None:
            found = [self.model.defaults] + [
                group_settings_model().model_validate(deep_merge(self._raw_defaults, raw))
                for raw in self._raw_groups.values()]
            self.cache["variants"] = found
        return found

    def override_keys(self, group_id: str | None, group_name: str | None) -> tuple[str, ...]:
        """The `groups` entries that apply: name globs in file order, then an exact id match last.

        A key that is a platform id (it has an "@", as WeChat room ids do) matches that id only, never a
        name: a member who renames a group to another group's id gets nothing of that group."""
        keys = [k for k in self._raw_groups if k != group_id and group_name is not None and not is_id_key(k)
                and fnmatch.fnmatchcase(group_name, k)]
        if group_id is not None and group_id in self._raw_groups:
            keys.append(group_id)
        return tuple(keys)

    def name_matched_grants(self) -> list[str]:
        """Entries that could be matched by a group's name and set admins or operators without
        `trust_name_match: true` (those grants are ignored: check-config warns about them)."""
        return [k for k, raw in self._raw_groups.items() if not is_id_key(k) and ("admins" in raw or "operators" in raw)
                and not raw.get("trust_name_match")]

    def group(self, group_id: str | None, group_name: str | None = None) -> GroupRuntime:
        """Effective settings for a group (cached per id and name; a renamed group re-resolves)."""
        cache_key = (group_id, group_name)
        found = self._by_group.get(cache_key)
        if found is not None:
            return found
        keys = self.override_keys(group_id, group_name)
        by_id = bool(keys) and keys[-1] == group_id
        runtime = self._by_keys.get((keys, by_id))
        if runtime is None:
            runtime = self._by_keys[(keys, by_id)] = self._runtime(keys, by_id)
        if len(self._by_group) > MAX_CACHED_GROUPS:
            self._by_group.clear()
        self._by_group[cache_key] = runtime
        return runtime

    def _runtime(self, keys: tuple[str, ...], by_id: bool = False) -> GroupRuntime:
        """Settings merged from the defaults and the entries `keys`, and what each feature compiles
        from them (shared with the defaults' when no entry touches that feature's settings)."""
        from handlers import FEATURES

        if not keys:
            settings = self.model.defaults
        else:
            merged: dict[str, Any] = self._raw_defaults
            for n, key in enumerate(keys):
                raw = self._raw_groups[key]
                if not (by_id and n == len(keys) - 1) and not raw.get("trust_name_match"):
                    # matched by name: members choose names, so the entry grants no admins or operators
                    raw = {k: v for k, v in raw.items() if k not in ("admins", "operators")}
                merged = deep_merge(merged, raw)
            settings = group_settings_model().model_validate(merged)
        compiled: dict[str, Any] = {}
        for feature in FEATURES:
            if feature.compile is None:
                continue
            if keys and not any(name in self._raw_groups[k] for k in keys for name in feature.settings):
                compiled[feature.name] = self.group(None).compiled[feature.name]  # compiled once, shared
            else:
                compiled[feature.name] = feature.compile(settings)
        return GroupRuntime(settings, compiled, keys, shared_fields(settings))
