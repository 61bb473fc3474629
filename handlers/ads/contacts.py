"""Ways to reach the sender that the contact check looks for beyond a labelled WeChat/QQ id: a bare
account next to an ad word, a number or id broken over lines, and a personal contact next to the terms
of a deal."""

from __future__ import annotations

import re
import unicodedata

from handlers.ads.folds import HIDING_TRICKS, TRICK_HOMOGLYPH, AdsText
from handlers.ads.patterns import (
    ACCOUNT_REASONS,
    RE_ADD_ID,
    RE_BARE_ID,
    RE_BARE_QQ,
    RE_CHANNEL_ID,
    RE_COMMERCE,
    RE_EMAIL,
    RE_GROUP_BAIT,
    RE_GROUP_JOIN,
    RE_GROUP_OWN,
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
# A personal handle: lower-case letters (or one capital first) with digits, as people name their accounts; not a
# code of capitals and digits (MU5137, SF3745538597529, A55702) nor a hex key (wx8a9c3b2d1e0f4a5b).
_HANDLE = re.compile(r"(?<![A-Za-z0-9_.@/:-])((?=[A-Za-z_-]*\d[A-Za-z_-]*\d)(?=(?:[^A-Za-z]*[A-Za-z]){3})"
                     r"[A-Za-z][a-z0-9_-]{4,19})"
                     r"(?![A-Za-z0-9_@/.:-])")
_HEX = re.compile(r"[0-9a-f]{8,}")
_MAIL = re.compile(r"(?<![A-Za-z0-9._-])([a-z][a-z0-9._-]{2,}@[a-z0-9-]+(?:\.[a-z0-9-]+)+)(?![A-Za-z0-9.-])")
_TAIL = 6
# What names a code, not a person: 单号 SF…, 工号 A…, 航班 MU…, 密码 …
_CODE_LABEL = re.compile(r"(?:单号|编号|工号|学号|航班|车次|车牌|型号|版本|订单|合同|密码|验证码|取件码|邀请码|"
                         r"id|ID|key|token)\s*[:：=]?\s*$")
_PHRASE_SPLIT = re.compile(r"[\s,，。.;；、!！~～|/]+")
_CHAT_MARKS = re.compile(r"[?？吗呢啊哦呀嘛]|我们|你们|大家|谢谢|请问|我的|是\s*$")  # 我的游戏 id 是 dragon88


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


def trailing_handle(original: str, light: str = "") -> str | None:
    """A personal handle that ends (but for a short note) a message of two phrases or more and no chat
    (蓝海赛道 小白也能做 ouling_43929; chu zu zhang hao, tian tian you qian, manlin2557): how an offer posts its
    contact, whatever it offers. The handle is read on the text as written (its capitals tell codes from
    names), or else on `light` with ids spelt out put back together (l■u■o■9■4■7); None when there is none."""
    found = _trailing_handle(original)
    if found is None and light and (joined := joined_ids(light)) != light:
        found = _trailing_handle(joined)
    return found


def _trailing_handle(original: str) -> str | None:
    text = original.strip()
    found = None
    for m in _HANDLE.finditer(text):
        found = m
    for m in _MAIL.finditer(text):  # an e-mail address ends an offer the same way
        found = m if found is None or m.end() > found.end() else found
    if found is None or _HEX.fullmatch(found.group(1).lower()):
        return None
    if sum(c.isdigit() for c in found.group(1)) < 3:
        return None  # iphone15, mate60: a model's name as often as a person's
    tail = text[found.end():].strip(" \t,，。.!！~")
    if len(tail) > _TAIL or _CHAT_MARKS.search(tail):  # a short tail is a note for the request (备注暑假工)
        return None
    before = text[: found.start()]
    if _CODE_LABEL.search(before) or _CHAT_MARKS.search(before):
        return None
    phrases = [p for p in _PHRASE_SPLIT.split(before) if p and not p.isdigit()]
    return found.group(1) if len(phrases) >= 2 and sum(map(len, phrases)) >= 6 else None


_TOKEN = re.compile(r"[^\s，。、：:,;；!！?？()（）]+")
_OWN_SCRIPTS = re.compile("[\u00c0-\u024f\u1e00-\u1eff\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff"
                          "\U00020000-\U0003ffff]")


_RUSSIAN_GREEK = re.compile("[\u0370-\u03ff\u0400-\u04ff]")
_RUSSIAN_GREEK_WORD = re.compile("(?<![A-Za-z])[\u0370-\u03ff\u0400-\u04ff]{3,}(?![A-Za-z])")


def disguised_account(t: AdsText) -> tuple[bool, str, str] | None:
    """(strong, why, the account) of an account in a text dressed up to pass a filter: one written in another
    script's look-alike letters (strong), or any bare account in a text that hides its words (招■聘 … l■u■o■9■4)."""
    token = foreign_letter_id(t.original)
    if token:
        return True, "用别的文字的形近字母写的账号", token
    hiding = HIDING_TRICKS.intersection(t.tricks)
    if not hiding or (hiding == {TRICK_HOMOGLYPH} and _RUSSIAN_GREEK_WORD.search(t.original)):
        return None  # no disguise, or a Russian or Greek word (Москва2024) seen as look-alike letters
    found = bare_contact(joined_ids(t.light), "", t.light)
    return (False, f"{found[0]} {found[1]}", found[1]) if found else None


def foreign_letter_id(original: str) -> str | None:
    """An account written in letters of another script that look like Latin ones (ⲧⲁⲟⲙⲁⲛ506, ᑕᔕᗪ᙭218, lսօ4591):
    a token of three digits or more and two letters or more of a script that is neither Latin nor Chinese,
    Japanese or Korean, which no member writes for a friend to read."""
    for m in _TOKEN.finditer(unicodedata.normalize("NFC", original)):
        token = m.group(0)
        if sum(c.isdigit() for c in token) < 3:
            continue
        foreign = [c for c in token if not c.isascii() and c.isalpha() and not _OWN_SCRIPTS.match(c)]
        words = all(_RUSSIAN_GREEK.match(c) for c in foreign) and not any(c.isascii() and c.isalpha() for c in token)
        if len(foreign) >= 2 and not words:  # Москва2024 is a word and a year, ⲧⲁⲟⲙⲁⲛ506 an account
            return token
    return None


def group_bait(flat: str) -> tuple[str, str] | None:
    """(the bait, the invitation) when `flat` invites to another group for a bait (拉你进福利群, 集赞进VIP群),
    unless it points to the group's own admin (入口找管理员)."""
    join = RE_GROUP_JOIN.search(flat)
    bait = RE_GROUP_BAIT.search(flat) if join else None
    if join is None or bait is None or RE_GROUP_OWN.search(flat):
        return None
    return bait.group(0), join.group(0)


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
