"""keywords: per-group auto-replies (群规, 报名, FAQ) with a per-rule cooldown per group.

Settings: `keywords`, a list of rules (`name`, `match`: exact | contains | regex, `patterns`,
`reply`, `mention`, `cooldown_seconds`). Messages are normalised first (NFKC, full-width, case,
zero-width characters, spaces and punctuation). The matcher (a dict for exact patterns, one
Aho-Corasick automaton for `contains`, re2 for regex) is compiled once per config and group, and
shared by every group whose overrides leave `keywords` alone. The first rule in file order that
matches answers (`keywords/<rule name>`), at most once per `cooldown_seconds` in a group; the
cooldown is read from the shared audit log, which is this feature's repository.
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.keywords.handler import HANDLER
from handlers.keywords.matcher import KeywordMatcher
from handlers.keywords.settings import KeywordRule
from rules.schema import GroupSettings
from storage.audit import AuditLog
from storage.store import Store


def _matcher(settings: GroupSettings) -> KeywordMatcher:
    return KeywordMatcher(settings.keywords)


def _audit(store: Store) -> AuditLog:
    return store.audit


FEATURE = Feature("keywords", handlers=(HANDLER,), settings={"keywords": (tuple[KeywordRule, ...], ())},
                  compile=_matcher, repository=_audit)
