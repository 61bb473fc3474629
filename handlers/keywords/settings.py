"""Settings of keyword auto-replies: the rules, their match modes, replies and cooldowns."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from rules.schema import Section, compile_re2
from rules.templates import template

MATCH_MODES = ("exact", "contains", "question", "regex")
QUESTION_MAX_CHARS = 30  # a `question` longer than this merely mentions the word


class KeywordRule(Section):
    """An auto-reply: when a message matches one of `patterns`, answer with `reply`.

    `question` answers the pattern alone, or a short message (QUESTION_MAX_CHARS) that contains it and
    reads as a question (请问群规是什么？ 群规在哪 有群规吗), not a remark that mentions it; `max_chars`
    caps the length for any mode."""

    name: str | None = None
    match: str = "contains"
    patterns: Annotated[tuple[str, ...], Field(min_length=1)]
    reply: template("text", "matched")  # type: ignore[valid-type]
    mention: bool = False
    cooldown_seconds: Annotated[float, Field(ge=0)] = 30.0
    max_chars: Annotated[int, Field(gt=0)] | None = None

    @field_validator("match", mode="before")
    @classmethod
    def _known_mode(cls, value: Any) -> Any:
        if value not in MATCH_MODES:
            raise ValueError(f"unknown mode {value!r} ({', '.join(MATCH_MODES)})")
        return value

    @field_validator("patterns", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_patterns(self) -> KeywordRule:
        for pattern in self.patterns:
            if not pattern.strip():
                raise ValueError("an empty pattern would match everything")
            if self.match == "regex":
                compile_re2(pattern)
        return self

    @property
    def label(self) -> str:
        return self.name or self.patterns[0]

    @property
    def length_cap(self) -> int | None:
        """The longest message (stripped) this rule answers; None: any length."""
        return self.max_chars if self.max_chars is not None or self.match != "question" else QUESTION_MAX_CHARS
