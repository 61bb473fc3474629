"""The loaded config: the validated model plus, per group, effective settings and compiled matchers."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rules.loader import deep_merge, parse_config, read_config_file
from rules.matchers import KeywordMatcher
from rules.schema import BotConfig, GroupSettings, compile_re2

EMBEDDED_DEFAULTS = Path(__file__).with_name("defaults.yaml")


@dataclass(frozen=True)
class GroupRuntime:
    """What a group runs with: its settings and the matchers compiled from them."""

    settings: GroupSettings
    keywords: KeywordMatcher
    name_format: Any  # compiled re2 pattern or None
    overrides: tuple[str, ...]  # the `groups` keys that applied, in order


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
        model, groups, defaults = read_config_file(path)
        return cls(model, groups, defaults, str(path))

    @classmethod
    def from_text(cls, text: str, name: str = "config.yaml") -> Config:
        model, groups, defaults = parse_config(text, name)
        return cls(model, groups, defaults, name)

    @classmethod
    def embedded(cls) -> Config:
        """The defaults shipped inside the package (used when no config file is given)."""
        return cls.from_file(EMBEDDED_DEFAULTS)

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
                GroupSettings.model_validate(deep_merge(self._raw_defaults, raw)) for raw in self._raw_groups.values()]
            self.cache["variants"] = found
        return found

    def override_keys(self, group_id: str | None, group_name: str | None) -> tuple[str, ...]:
        """The `groups` entries that apply: name globs in file order, then an exact id match last."""
        keys = [k for k in self._raw_groups if k != group_id and group_name is not None
                and fnmatch.fnmatchcase(group_name, k)]
        if group_id is not None and group_id in self._raw_groups:
            keys.append(group_id)
        return tuple(keys)

    def group(self, group_id: str | None, group_name: str | None = None) -> GroupRuntime:
        """Effective settings for a group (cached per id and name; a renamed group re-resolves)."""
        cache_key = (group_id, group_name)
        found = self._by_group.get(cache_key)
        if found is not None:
            return found
        keys = self.override_keys(group_id, group_name)
        runtime = self._by_keys.get(keys)
        if runtime is None:
            if keys:
                merged: dict[str, Any] = self._raw_defaults
                for key in keys:
                    merged = deep_merge(merged, self._raw_groups[key])
                settings = GroupSettings.model_validate(merged)
            else:
                settings = self.model.defaults
            fmt = settings.welcome.name_format
            if keys and not any("keywords" in self._raw_groups[k] for k in keys):
                matcher = self.group(None).keywords  # the defaults' rules: compiled once, shared
            else:
                matcher = KeywordMatcher(settings.keywords)
            runtime = GroupRuntime(settings, matcher, compile_re2(fmt.pattern) if fmt else None, keys)
            self._by_keys[keys] = runtime
        if len(self._by_group) > 100_000:
            self._by_group.clear()
        self._by_group[cache_key] = runtime
        return runtime
