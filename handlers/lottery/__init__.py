"""lottery: 抽奖 — an admin draws winners among the members who spoke lately, verifiably.

- An admin (or operator): `抽奖 N [D天]` (`抽奖 3`, `抽奖 3 14天`, `抽奖3人`) draws N winners (at most
  `max_winners`) among the members present who sent a message in the last D days (`default_days`, 7;
  at most `max_days`) — never the group's admins or operators, nor the bot. Anyone else is told once
  that only admins may, then ignored; 抽奖 in conversation ("抽奖什么时候开始") is left alone.
- At the command the pool is fixed and stored (the eligible member ids, sorted, with their SHA-256
  digest) and the bot announces "N 人里抽 X 人，等接下来 K 条消息后开奖" (K = `seed_messages`, 3).
- The seed is SHA-256 of the command's event id and the ids of the next K messages in the group (by
  anyone but the bot; the ids are the platform's, fixed only after the command, so nobody — the admin
  included — can know the winners in advance), joined by "\\n". When fewer than K come within
  `max_wait_minutes` (10), a timer draws with those that came (the result says how many).
- Winners: the first N of the pool sorted by SHA-256(seed + "\\n" + member id) (handlers/lottery/draw.py;
  no random state). Fewer eligible members than N: all of them win, and the message says so; none: a
  reply that nobody can win (rule `lottery/empty`). One pending draw per group (`lottery/busy`).
- The result mentions the winners (the first `max_mentions`, 20; the rest are named) and publishes the
  seed (hex), the pool's size and digest. `qunbot lottery-verify --seed HEX --pool FILE --winners N`
  recomputes the winners from a seed and a pool file (one id a line); `qunbot lottery-verify --event
  DRAW_ID` reads the stored draw and checks its seed, pool digest, winners and messages.

Rules: `lottery` (the draw; `data`: `winners` (ids, in draw order), `pool` (how many members could win),
`seed` (hex: with the pool, what lottery-verify needs), `draw` (the command's event id), `count`, `days`,
`pool_digest`, `seed_events` (the ids hashed, command first), `seed_messages`, `all_win`),
`lottery/started`, `lottery/seed` (a note on each message taken into a seed), `lottery/empty`,
`lottery/busy`, `lottery/usage`, `lottery/refused`. Tables `lottery_draws` and `lottery_seed_events`
(migration 0012).
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.lottery import result, tables
from handlers.lottery.handler import HANDLERS
from handlers.lottery.repository import LotteryRepository
from handlers.lottery.settings import LotterySettings

FEATURE = Feature("lottery", handlers=HANDLERS, settings={"lottery": (LotterySettings, LotterySettings())},
                  repository=LotteryRepository, tables=(tables.DRAWS, tables.SEED_EVENTS),
                  timers={result.TIMER: result.fire})
