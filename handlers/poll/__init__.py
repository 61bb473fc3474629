"""poll: 投票 (and 班长竞选, a poll whose options are the candidates) — one open poll per group.

- An admin (or operator): `投票 标题 选项1 选项2 … [截止HH:MM]` — 2–20 options (spaces or 、，between
  them), each at most 30 characters, a title of at most 60; the deadline is the next such local time
  (`bot.timezone`; tomorrow when it has passed today), else `poll.default_hours` (24) from now. The bot
  posts the poll with its numbered options. A second 投票 while one is open is refused with a reply
  naming the open one; a malformed one gets the usage.
- Members (admins too): `投1` / `投 2` / `投张三` / `投 张三` — one vote each; a later vote replaces the
  earlier one (kept, marked `replaced_by`). An option is named by its text (compared normalised:
  full-width, traditional, case, spaces and punctuation; an option that is a member's name is just
  text) or by its number. A number that is no option, or a text set apart by a space that names none,
  gets a short correction (at most once per `command_cooldown_seconds` per member, else a note);
  text written on after 投 that names no option (投资, 投诉) is conversation and left alone.
- Votes are confirmed quietly: the votes within `poll.confirm_seconds` (60) of the first are confirmed
  in one message mentioning each voter (at most `max_mentions`, "等 N 人" for the rest; rule
  `poll/confirm`, timer "confirm"); `confirm_seconds: 0` answers each vote at once; `confirm_votes:
  false` sends nothing (a note in the audit).
- The result at the deadline (timer "end") or on an admin's `结束投票`: every option with its votes, the
  winner or the tie, and how many voted. Non-admins trying 投票 / 结束投票 are told once, then ignored.

Rules: `poll` (the result; `data`: `counts` (option text → votes, every option present), `winner` (the
option text, or null on a tie or when nobody voted), `voters` (the number of members whose vote counts —
a count, not ids), `title`, `poll` (its id: the 投票 command's event id), `ended_by` (the admin, or null
at the deadline)), `poll/started`, `poll/confirm`, `poll/busy`, `poll/usage`, `poll/none`,
`poll/unknown-option`, `poll/refused`. Tables `polls` and `poll_votes` (every vote: who, option, time,
replaced by which later vote, confirmed), migration 0010.
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.poll import result, tables
from handlers.poll.handler import HANDLER
from handlers.poll.repository import PollRepository
from handlers.poll.settings import PollSettings

FEATURE = Feature("poll", handlers=(HANDLER,), settings={"poll": (PollSettings, PollSettings())},
                  repository=PollRepository, tables=(tables.POLLS, tables.VOTES),
                  timers={result.END: result.end, result.CONFIRM: result.confirm})
