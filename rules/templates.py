"""Reply templates: `{name}` placeholders checked when the config loads, filled when a reply is made."""

from __future__ import annotations

import string
from typing import Annotated, Any

from pydantic import AfterValidator

COMMON_FIELDS = frozenset({"user_name", "group_name", "bot_name", "rules", "date", "time", "weekday"})
# placeholders the features offer every template (welcome's {name_format}); filled in when the schema
# is assembled from the features (rules.schema.group_settings_model), before any config is read
SHARED_FIELDS: set[str] = set()


def template_fields(text: str) -> set[str]:
    """The placeholder names in `text` (raises ValueError on a malformed template)."""
    names: set[str] = set()
    for _literal, field, spec, _conv in string.Formatter().parse(text):
        if field is None:
            continue
        if not field.isidentifier():
            raise ValueError(f"bad placeholder {{{field}}} (use names such as {{user_name}})")
        if spec and "{" in spec:
            raise ValueError(f"nested placeholder in {{{field}:{spec}}}")
        names.add(field)
    return names


def template(*extra: str) -> Any:
    """An Annotated str type whose placeholders must be among the common ones plus `extra`."""
    own = COMMON_FIELDS | set(extra)

    def check(text: str) -> str:
        allowed = own | SHARED_FIELDS
        try:
            unknown = template_fields(text) - allowed
        except ValueError as exc:
            raise ValueError(f"template: {exc}") from None
        if unknown:
            raise ValueError(
                f"unknown placeholder {{{sorted(unknown)[0]}}} (known: {', '.join(sorted(allowed))})"
            )
        return text

    return Annotated[str, AfterValidator(check)]


class _Fill(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: str, /, **values: Any) -> str:
    """Fill a checked template; a value that is None renders as an empty string."""
    return template.format_map(_Fill({k: ("" if v is None else v) for k, v in values.items()}))
