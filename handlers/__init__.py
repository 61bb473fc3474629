"""Handlers: one capability a module, each exposing HANDLER (name, band, handle, matches)."""

from __future__ import annotations

from bot.core import Handler


def default_handlers() -> list[Handler]:
    """The chain a live run and a replay use."""
    from handlers import activity, admin, ads, checkin, keywords, levels, points, welcome

    return [ads.HANDLER, admin.HANDLER, checkin.HANDLER, points.COMMANDS, levels.HANDLER, welcome.HANDLER,
            keywords.HANDLER, points.AWARDS, activity.HANDLER]
