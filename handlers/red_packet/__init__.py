"""red_packet: thanks members for red packets (merged when several arrive together) and counts them on
the 红包榜 (today) and 红包周榜 (the last 7 local days).

- **Thanks** (handler `red_packet`, AUTO_REPLY band): the red packets of a group within
  `red_packet.thanks_window_seconds` (60) of the first one get one message that mentions each sender
  (at most `thanks_max_mentions`, 20; the others as `thanks_more`, "等 N 人"), through the timer
  "thanks:<group>" and the table `red_packet_queue` (migration 0013), so a restart loses none. A red
  packet that settled an ad is left out: the ads feature thanked it already (rule ads/<check>).
  `thanks: ""` or `enabled: false` turns thanks off. Rule `red_packet`; `data`: `members` (ids of the
  senders thanked, first sender first), `events` (the red packets' event ids), `more` (senders past the
  mention cap).
- **Boards** (handler `red_packet-boards`, COMMAND band): `红包榜` / `今日红包榜` (the local day),
  `红包周榜` / `本周红包榜` (the last 7 local days, today included): the top `board_size` by count, equal
  counts sharing a place, and the asker's own place even outside the top; counted from the shared
  events table (type red_packet). A member's repeat within `command_cooldown_seconds` is answered once.
  Rules `red_packet/board-today`, `red_packet/board-week`; `data`: `period`, `since`, `rows` (each
  `user`, `count`, `place`), `place` and `count` (the asker's; place 0: none yet).
- The points a red packet earns stay the points feature's (`points.red_packet_points`, ledger reason
  `red_packet`): this feature awards nothing.
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.red_packet import tables, thanks
from handlers.red_packet.boards import BOARDS
from handlers.red_packet.repository import RedPacketRepository
from handlers.red_packet.settings import RedPacketSettings

FEATURE = Feature("red_packet", handlers=(thanks.HANDLER, BOARDS),
                  settings={"red_packet": (RedPacketSettings, RedPacketSettings())},
                  repository=RedPacketRepository, tables=(tables.RED_PACKET_QUEUE,),
                  timers={thanks.TIMER: thanks.fire})
