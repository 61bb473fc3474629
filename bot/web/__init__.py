"""The operators' web console (aiohttp + Jinja2): every group at a glance, the moderation queue, the
config with validation, a rules playground and the audit log. `qunbot web` serves it alone on the bot's
database; `qunbot run` serves it too when `web.enabled` is set. See server.py."""
