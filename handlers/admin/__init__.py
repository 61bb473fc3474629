"""admin: owner commands, for the group's admins and operators only.

- `/why EVENT_ID` (or `/为什么`): which handlers and rules acted on an event and why, from the audit
  log (rule `admin/why`);
- `/ad EVENT_ID`, `/notad EVENT_ID` (or `/广告`, `/不是广告`): the owner's decision on a message,
  stored as a labelled sample for retraining the ad classifier with `qunbot train-ads` (rule
  `admin/label`).

A member who is not an admin is ignored (a note says so). No settings or tables of its own: the
repository reads the event and audit logs and writes the ads feature's samples.
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.admin.handler import HANDLER
from handlers.admin.repository import AdminRepository

FEATURE = Feature("admin", handlers=(HANDLER,), repository=AdminRepository)
