"""topic_hours: 话题时段 — inside the hours a group keeps to its topic, an off-topic message (约饭, 约球,
八卦 …) gets a light reminder, at most once an hour per group; outside them, nothing.

- Settings `topic_hours`: `enabled`, the period `days` (ISO weekdays, Monday = 1), `from`, `to` (local
  "HH:MM", `bot.timezone`; a `to` before `from` runs past midnight) — or `periods`, a list of such
  periods that replaces it —, `words`, `reminder` (placeholders {word}, {from}, {to}), `mention` (false:
  no @ by default), `cooldown_minutes` (60), `max_chars` (500: only the start of a long message is read).
- Words are compared as commands are (NFKC, full-width, case, spaces, punctuation, emoji, traditional
  characters: 約飯 and ＫＴＶ match 约饭 and ktv), by one Aho-Corasick automaton compiled once per config
  and group. Admins and operators are never reminded.
- The handler runs in the AUTO_REPLY band, after moderation (an ad stops the chain: it is not an
  off-topic message) and after commands and keyword replies; it does not stop the chain. The state it
  keeps — when the group was last reminded — is the audit log (`last_rule_use`), its repository: no
  table of its own. Every decision on a message with a word (outside the hours, an admin, cooled
  down, reminded) is a note, so `why` tells.
- Rule `topic_hours`; `data`: `word` (as configured), `period` (`days`, `from`, `to` of the period
  the message fell in).
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.topic_hours.handler import HANDLER, compile_words
from handlers.topic_hours.settings import TopicHoursSettings
from storage.audit import AuditLog
from storage.store import Store


def _audit(store: Store) -> AuditLog:
    return store.audit


FEATURE = Feature("topic_hours", handlers=(HANDLER,),
                  settings={"topic_hours": (TopicHoursSettings, TopicHoursSettings())},
                  compile=compile_words, repository=_audit)
