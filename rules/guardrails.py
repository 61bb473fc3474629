"""Settings that can hurt a community, said out loud: check-config and every reload warn about them, an
owner who wants them refused writes `strict: true`, and operators are told when a reload turns one on.

- `ads.on_limit: kick` with `max_warnings` 1: a member is removed on their first ad, with no prompt;
- `purge.auto_kick: on` with `inactive_days` under 7: members are removed after a few quiet days;
- `purge.auto_kick: on` at all: removal without the operators having read a dry run (`dry_run`
  first, then `on`) — a reload that goes from `off` straight to `on` is the case this catches.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.config import Config
from rules.loader import ConfigError, ConfigIssue
from rules.schema import GroupSettings
from rules.templates import render

MIN_PURGE_DAYS = 7


@dataclass(frozen=True)
class Risk:
    """One risky setting: where (`defaults` or a `groups` key), a code, and what it does, in Chinese."""

    where: str
    code: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}：{self.text}"


def _risks_of(where: str, settings: GroupSettings, before: GroupSettings | None) -> list[Risk]:
    found = []
    ads, purge = settings.ads, settings.purge
    if ads.enabled and ads.on_limit == "kick" and ads.max_warnings <= 1:
        found.append(Risk(where, "ads_kick_first", "第一次发广告就移出群（ads.max_warnings: 1 且 on_limit: kick），"
                                                  "没有提醒、没有发红包的机会"))
    if purge.enabled and purge.auto_kick == "on":
        if purge.inactive_days < MIN_PURGE_DAYS:
            found.append(Risk(where, "purge_short", f"不活跃 {purge.inactive_days} 天就自动移出"
                                                    f"（purge.inactive_days 小于 {MIN_PURGE_DAYS}）"))
        if before is None or before.purge.auto_kick != "dry_run":
            found.append(Risk(where, "purge_no_dry_run", "自动移出（purge.auto_kick: on）没有先试运行："
                                                        "建议先用 dry_run 看几天名单，再改成 on"))
    return found


def risks(config: Config, before: Config | None = None) -> list[Risk]:
    """Every risky setting of `config` (in `defaults` and in each `groups` entry); with `before`, the
    config it replaces, a purge that was in dry_run there may go to `on` without a dry-run warning."""
    old = dict(_places(before)) if before is not None else {}
    found: list[Risk] = []
    inherited: set[str] = set()
    for where, settings in _places(config):
        own = _risks_of(where, settings, old.get(where))
        if where == "defaults":
            inherited = {r.code for r in own}
        else:  # a group entry that only inherits the defaults' risk is not said twice
            own = [r for r in own if r.code not in inherited]
        found += own
    return found


def new_risks(config: Config, before: Config) -> list[Risk]:
    """The risks `config` has that `before` did not (what a reload turns on)."""
    had = {(r.where, r.code) for r in risks(before)}
    return [r for r in risks(config, before) if (r.where, r.code) not in had]


def refuse_if_strict(config: Config, before: Config | None = None) -> None:
    """With `strict: true`, a config with risky settings is an error (check-config exits 2, a reload
    keeps the last good config). Whether a purge had its dry run is known only on a reload."""
    if not config.model.strict:
        return
    found = [r for r in risks(config, before) if before is not None or r.code != "purge_no_dry_run"]
    if found:
        raise ConfigError([ConfigIssue(config.source, 1, 1, r.where, f"strict: {r.text}") for r in found])


def risk_notice(config: Config, found: list[Risk]) -> str:
    """The operators' message about risks a reload turned on (`bot.risk_notice`)."""
    return render(config.model.bot.risk_notice, bot_name=config.model.bot.name,
                  risks="\n".join(f"- {r}" for r in found))


def _places(config: Config) -> list[tuple[str, GroupSettings]]:
    keys = list(config.model.groups)
    return [("defaults", config.model.defaults), *zip(keys, config.variants()[1:], strict=True)]
