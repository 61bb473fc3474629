"""What a handler gets: the event, the group's effective settings, the member, its feature's repository
and memory, and a clock."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.clock import Clock
from bot.events import Event, Note
from rules.config import Config, GroupRuntime
from rules.names import mask_names
from rules.schema import GroupSettings, shared_fields
from rules.templates import render
from storage.members import Members

WEEKDAYS = "一二三四五六日"
MENTION = re.compile(r"@([^\s\u2005@]+)")  # an @name typed in a message


@dataclass
class Context:
    """Built once per event by the router. Handlers read time only from `clock` (via `now`).

    `repo` and `memory` are those of the feature whose handler runs (the router sets them before each
    handler): its repository over the journal and its short-lived state, kept by the bot."""

    event: Event
    config: Config
    group: GroupRuntime | None
    members: Members
    clock: Clock
    repo: Any = None
    memory: dict[str, Any] = field(default_factory=dict)
    ambiguous: int = 0  # set by mentioned_member: how many members share the name typed (0: not ambiguous)

    @property
    def settings(self) -> GroupSettings:
        return self.group.settings if self.group else self.config.model.defaults

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def local_now(self) -> datetime:
        return self.clock.now().astimezone(self.config.tz)

    @property
    def today(self) -> date:
        """The local calendar day in the configured time zone."""
        return self.local_now.date()

    @property
    def is_admin(self) -> bool:
        """The event's user is an admin of this group or an operator."""
        user = self.event.user
        return user is not None and (user in self.settings.admins or user in self.settings.operators)

    def repeated(self, rule: str) -> Note | None:
        """For a member command answered by `rule`: when this member was answered by it in this group less
        than `command_cooldown_seconds` ago, the note to stay silent with (the caller stops the chain);
        else None, and this answer is remembered. Kept in the feature's memory (a restart forgets it)."""
        seconds = self.settings.command_cooldown_seconds
        event = self.event
        if seconds <= 0 or event.group is None or event.user is None:
            return None
        answered: dict[tuple[str, str, str], datetime] = self.memory.setdefault("answered", {})
        key = (event.group, event.user, rule)
        last = answered.get(key)
        if last is not None and 0 <= (self.now - last).total_seconds() < seconds:
            at = last.astimezone(self.config.tz).strftime("%H:%M:%S")
            return Note(rule=rule, reason=f"{seconds} 秒内重复的命令：{at} 已经回答过这位成员，不再回答",
                        data={"answered": last.isoformat()})
        if len(answered) > 20_000:  # short-lived: forget answers older than the cooldown
            for k in [k for k, t in answered.items() if (self.now - t).total_seconds() >= seconds]:
                del answered[k]
        answered[key] = self.now
        return None

    async def mentioned_member(self, rest: str) -> tuple[str | None, str | None, str]:
        """(member id, the name used, the text left) for "@name …": the platform's mention ids first
        (the name, which may hold spaces, is cut off by its known display name), else the display name
        looked up in the group."""
        event = self.event
        assert event.group is not None and event.type == "text"
        mentions = [u for u in event.mentions if u != self.config.bot_id]
        if mentions:
            member = await self.members.member(event.group, mentions[0])
            known = member.display_name if member and member.display_name else None
            if known and rest.startswith(f"@{known}"):
                left = rest[len(known) + 1:].strip()
            else:
                m = MENTION.search(rest)
                left = (rest[:m.start()] + " " + rest[m.end():]).strip() if m else rest
            return mentions[0], known or mentions[0], left
        m = MENTION.search(rest)
        name = m.group(1) if m else None
        left = (rest[:m.start()] + " " + rest[m.end():]).strip() if m else rest
        if name is None:
            return None, None, left
        # a typed name (no mention): members choose their names, so only a name that one present member
        # has is taken; two 张三 (or a look-alike who took the same name) are asked to be @-mentioned
        found = await self.members.find_members(event.group, name)
        self.ambiguous = len(found) if len(found) > 1 else 0
        return (found[0] if len(found) == 1 else None), name, left

    def ambiguous_reply(self, name: str | None) -> str | None:
        """After `mentioned_member` found several members of that name: the answer asking for an @."""
        if not self.ambiguous or name is None:
            return None
        return self.render(self.settings.ambiguous_member_reply, target_name=name, count=self.ambiguous)

    def render(self, template: str, /, **extra: Any) -> str:
        """Fill a template with the common fields (user_name, group_name, rules, date …) and `extra`."""
        local = self.local_now
        values: dict[str, Any] = {
            "user_name": self.event.user_name or self.event.user or "",
            "group_name": self.event.group_name or self.event.group or "",
            "bot_name": self.config.model.bot.name,
            "date": local.strftime("%Y-%m-%d"),
            "time": local.strftime("%H:%M"),
            "weekday": "星期" + WEEKDAYS[local.weekday()],
        }
        values.update(self.group.fields if self.group else shared_fields(self.settings))
        values["rules"] = render(self.settings.rules, **values) if self.settings.rules else ""
        values.update(extra)
        mask_names(values, self.settings.ad_name_placeholder)
        return render(template, **values)
