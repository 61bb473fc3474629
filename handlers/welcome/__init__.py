"""welcome: greets newcomers with the group rules and asks for the group's display-name format.

On `join`: a welcome that @mentions the newcomer and carries 群规; if the display name does not fit
the configured format (`welcome.name_format`: an example and an re2 pattern, compiled once per
config and group), the same message asks for a rename. A member whose name does not fit is reminded
once (with the welcome, or on their first message after the bot arrives — a red packet is not
answered with one) and once more `rename_followup_days` (3) days after, never again: the bot stays
quiet. On `rename`: thanks once the new name fits (when the member had been asked). `{name_format}`
(the example) may be used in every template of the group, the rules text included. Rules: `welcome`,
`welcome/rename-reminder`, `welcome/rename-thanks`. The repository counts each member's reminders in
a group, in the feature's table `rename_reminders` (migration 0007).

Batching (handlers/welcome/batch.py): joins within `welcome.batch_seconds` (60) of the first one, and
first reminders of members already in the group within `rename_batch_minutes` (30) of the first one,
go out as one message that mentions each of them (at most `batch_max_mentions`, 20; further newcomers
named as `batch_more`, "等 N 位新朋友"); a reminder queued before a join goes out with its welcome. The
queue is the table `welcome_queue` (migration 0008), each window a timer ("batch:<group>",
"remind:<group>"). Members who left meanwhile are dropped; a fitting rename meanwhile means no reminder.
0 answers at once.

The follow-up (handlers/welcome/followup.py) answers no message: once a day at
`rename_followup_time` (20:00) each group gets one message mentioning every member whose follow-up is
due (`data.followup: true`, `reminder` 2), members who renamed or left meanwhile left out; the job
"rename-followup:HH:MM".
"""

from __future__ import annotations

from typing import Any

from bot.feature import Feature
from handlers.welcome import batch, followup, tables
from handlers.welcome.handler import HANDLER
from handlers.welcome.repository import WelcomeRepository
from handlers.welcome.settings import WelcomeSettings
from rules.schema import GroupSettings, compile_re2


def _name_format(settings: GroupSettings) -> Any:
    fmt = settings.welcome.name_format
    return compile_re2(fmt.pattern) if fmt else None


def _name_format_example(settings: GroupSettings) -> str:
    fmt = settings.welcome.name_format
    return fmt.example if fmt else ""


FEATURE = Feature("welcome", handlers=(HANDLER,), settings={"welcome": (WelcomeSettings, WelcomeSettings())},
                  compile=_name_format, repository=WelcomeRepository,
                  tables=(tables.RENAME_REMINDERS, tables.WELCOME_QUEUE),
                  fields={"name_format": _name_format_example}, timers={batch.TIMER: batch.fire},
                  jobs=followup.build)
