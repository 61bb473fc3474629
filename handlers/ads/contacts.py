"""Ways to reach the sender that the contact check looks for beyond a labelled WeChat/QQ id: a bare
account next to an ad word, a number or id broken over lines, and a personal contact next to the terms
of a deal."""

from __future__ import annotations

import re

from handlers.ads.patterns import (
    ACCOUNT_REASONS,
    RE_ADD_ID,
    RE_BARE_ID,
    RE_BARE_QQ,
    RE_CHANNEL_ID,
    RE_COMMERCE,
    RE_EMAIL,
    RE_MOBILE,
    RE_NAME_ID,
    RE_NOTICE,
    RE_TELEGRAM,
    RE_TELEGRAM_LINK,
    joined_ids,
)
from handlers.ads.sounds import pinyin_letters

_BARE_CONTACTS = ((RE_TELEGRAM, "Telegram"), (RE_CHANNEL_ID, "账号"), (RE_ADD_ID, "账号"), (RE_BARE_QQ, "账号"),
                  (RE_BARE_ID, "账号"))
_NOT_ALNUM = re.compile(r"[\W_]+")


def bare_contact(light: str, intent: str, with_links: str) -> tuple[str, str] | None:
    """(what, written) of the first way to reach the sender in `light` (links taken out) without a WeChat/QQ
    label: a t.me link (in `with_links`), a Telegram handle, another messenger's handle or number, an id
    after 加/联系, a bare "Q 12345", an account of letters and digits; an id of two digits only when its
    letters read as pinyin (liuyu49)."""
    m = RE_TELEGRAM_LINK.search(with_links) if "t.me" in with_links else None
    if m:
        return "Telegram", m.group(0)
    for pattern, what in _BARE_CONTACTS:
        m = pattern.search(light)
        if m and m.group(0) not in intent:
            return what, m.group(0)
    for m in RE_NAME_ID.finditer(light):
        if pinyin_letters(m.group(1)) and m.group(0) not in intent:
            return "账号", m.group(0)
    return None


def over_lines(light: str, hits: list[tuple[float, str, str]]) -> bool:
    """A phone number or an id of the contact check's `hits` that no single line holds: broken over lines
    so that no line shows it whole."""
    if "\n" not in light:
        return False
    lines = [_NOT_ALNUM.sub("", line) for line in light.splitlines()]
    for _s, reason, evidence in hits:
        if reason.startswith(ACCOUNT_REASONS):
            compact = _NOT_ALNUM.sub("", evidence)
            digits = sum(c.isdigit() for c in compact)
            if digits >= 4 and not any(compact in line for line in lines):
                return True
    return False


def deal_contact(light: str, flat: str) -> tuple[str, str] | None:
    """(the terms, the contact) when a personal contact (a mobile number, an id, an e-mail) stands next to the
    terms of a deal (a price, a rate, a return, 回收, 代办, 上门 ...): an offer whatever its words, unless the
    text reads like a business's notice (尊敬的, 您的订单, 单号 ...)."""
    cue = RE_COMMERCE.search(flat)
    if cue is None or RE_NOTICE.search(flat):
        return None
    joined = joined_ids(light)
    m = RE_MOBILE.search(flat) or RE_BARE_ID.search(joined) or RE_EMAIL.search(joined)
    return (cue.group(0), m.group(0)) if m is not None else None
