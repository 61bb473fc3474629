"""ads: catch ads and ask for a red packet instead of scolding; warn, then remove repeat offenders.

Runs in the MODERATION band, before commands and keyword replies, on every message of a member who
is not an admin, an operator or in `ads.allow_members`:

- **text** (`detector.py`): the message is folded first (`folds.py`: NFKC, invisible characters,
  homoglyphs, styled digits, emoji letters, traditional -> simplified, Chinese-numeral contacts,
  separators; split characters, sound spellings and reversed text read back: `components.py`,
  `sounds.py`, `reversal.py`), then four checks each report a score and a reason: `link` (`links.py`),
  `contact` (an offer next to a contact), `pitch` (the owner's weighted `pitch_words`; the patterns
  and weights are in `patterns.py`) and `classifier`
  (`model.py`: a logistic regression on character n-grams, the shipped ad_model.json.gz). It is an
  ad when the sum reaches `threshold`, or `new_member_threshold` for a member who joined minutes ago;
- **link cards, mini-programs, contact cards**: per-group policy `prompt`, `allow` or `admins_only`;
- **images** (`qrcode.py`): QR codes decoded with zxing-cpp in worker threads, behind byte and pixel
  caps; every QR code is an ad (group invitations, contacts, payment, mini-programs: `qr_kind` says
  which, for `why`) but the exact contents listed in `qrcode.allow_urls`.

The answer (`handler.py`): a prompt that @mentions the sender (rule `ads/<check>`, data `kind`,
`event`, `warnings`); a red packet within `red_packet_window_minutes` settles it (`excused: true`);
at `max_warnings` unexcused prompts within `warning_days` the member is removed (or reported to the
operators). Flooding and raids (`guards.py`) get a warning and a report. Tables: `ad_offences` and
`ad_samples` (the owners' /ad and /notad decisions, for `qunbot train-ads`).
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.ads import tables
from handlers.ads.handler import HANDLER, read_ahead
from handlers.ads.repository import AdsRepository
from handlers.ads.settings import AdsSettings

FEATURE = Feature("ads", handlers=(HANDLER,), settings={"ads": (AdsSettings, AdsSettings())},
                  repository=AdsRepository, tables=(tables.AD_OFFENCES, tables.AD_SAMPLES), read_ahead=read_ahead)
