"""Checking a config as `qunbot check-config` does, for the command line and the web console's editor:
every error (FILE:LINE:COL), the `strict: true` refusals, the warnings and the closing line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rules.config import EMBEDDED_DEFAULTS, Config, embedded_data
from rules.guardrails import refuse_if_strict, risks
from rules.loader import ConfigError, ConfigIssue, parse_config


@dataclass(frozen=True)
class ConfigCheck:
    """What checking found: the config (None when it does not validate), the error lines, the warnings
    and the line check-config ends with."""

    config: Config | None
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    summary: str

    @property
    def ok(self) -> bool:
        return self.config is not None

    def lines(self) -> list[str]:
        """What `qunbot check-config` prints, in its order."""
        return [*self.errors, *self.warnings, self.summary]


def _refused(exc: ConfigError, suffix: str = "") -> ConfigCheck:
    return ConfigCheck(None, tuple(str(i) for i in exc.issues), (), f"共 {len(exc.issues)} 处错误{suffix}")


def check_text(text: str, name: str = "config.yaml", *, over_embedded: bool = True,
               before: Config | None = None) -> ConfigCheck:
    """Check config text named `name` in the messages, laid over the embedded defaults as a config file
    is (`over_embedded`). `before`: the config it would replace (a reload's strict check and warnings)."""
    try:
        model, groups, defaults = parse_config(text, name, embedded_data() if over_embedded else None)
    except ConfigError as exc:
        return _refused(exc)
    config = Config(model, groups, defaults, name)
    try:
        refuse_if_strict(config, before)
    except ConfigError as exc:
        return _refused(exc, "（strict: true）")
    warnings = [f"警告：{risk}" for risk in risks(config, before)]
    warnings += [f"警告：groups「{key}」按群名匹配（群名任何成员都能改），其中的 admins/operators 不生效；"
                 f"要生效请改用群 id（…@chatroom）作键，或在该项写 trust_name_match: true"
                 for key in config.name_matched_grants()]
    summary = (f"{name}：没有错误（默认关键词规则 {len(model.defaults.keywords)} 条，"
               f"按群覆盖 {len(model.groups)} 项）")
    return ConfigCheck(config, (), tuple(warnings), summary)


def check_file(path: str | Path) -> ConfigCheck:
    """Check a config file (`qunbot check-config FILE`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return _refused(ConfigError([ConfigIssue(str(path), 1, 1, "", f"not UTF-8 text: {exc.reason}")]))
    except OSError as exc:
        return ConfigCheck(None, (), (), f"读不了 {path}：{exc}")
    name = p.name if p.parent == Path() else str(path)
    return check_text(text, name, over_embedded=p.resolve() != EMBEDDED_DEFAULTS.resolve())
