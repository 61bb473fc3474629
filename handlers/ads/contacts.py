"""Ways to reach the sender that the contact check looks for beyond a labelled WeChat/QQ id: a bare
account next to an ad word, a number or id broken over lines, and a personal contact next to the terms
of a deal."""

from __future__ import annotations

import re
import unicodedata

from handlers.ads.digits import mashed
from handlers.ads.folds import DIGIT_TRICKS, HIDING_TRICKS, TRICK_HOMOGLYPH, AdsText
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
    RE_PAY_RATE,
    RE_TELEGRAM,
    RE_TELEGRAM_LINK,
    joined_ids,
)
from handlers.ads.sounds import pinyin_letters

_BARE_CONTACTS = ((RE_TELEGRAM, "Telegram"), (RE_CHANNEL_ID, "账号"), (RE_ADD_ID, "账号"), (RE_BARE_QQ, "账号"),
                  (RE_BARE_ID, "账号"))
_NOT_ALNUM = re.compile(r"[\W_]+")
_NOT_DIGIT = re.compile(r"\D+")
_SPACING = re.compile(r"\s+")


def bare_contact(light: str, intent: str, with_links: str) -> tuple[str, str] | None:
    """(what, written) of the first way to reach the sender in `light` (links taken out) without a WeChat/QQ
    label: a t.me link (in `with_links`), a Telegram handle, another messenger's handle or number, an id
    after 加/联系, a bare "Q 12345", an account of letters and digits; an id of two digits only when its
    letters read as pinyin (liuyu49)."""
    m = RE_TELEGRAM_LINK.search(with_links) if ".me/" in with_links or ".dog/" in with_links else None
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


_TOKEN = re.compile(r"[^\s，。、：:,;；!！?？()（）]+")
# Scripts nobody in a Chinese group writes for their own sake, whose letters pass for Latin ones: Cherokee, Canadian
# syllabics, Coptic, Lisu.
_LOOKALIKE_ONLY = re.compile("[\u13a0-\u13ff\u1400-\u167f\u2c80-\u2cff\ua4d0-\ua4ff]")
# Letters of other scripts drawn like Latin ones (Cyrillic а е о р с х у і ј ѕ, Greek ο ν ρ, Armenian ս օ ց հ ո):
# mixed into a Latin id, a disguise (lսօ45914sc); in a word of their own language (дача, RTX4090-ой), not.
_LATIN_LOOKALIKES = frozenset("аеорсхуіјѕԁԛԝүһАВЕКМНОРСТХІЈЅοαρνικτυχΑΒΕΗΙΚΜΝΟΡΤΧΥΖսօցհոաԱՕՍ")
# A Latin letter with a hook, stroke or tilde (ɲ ʂ ɨ ᵵ ꞥ), not a symbol named after a sound (ʕ ʔ ᴥ in a kaomoji).
_DECORATED_LATIN = re.compile(r"LATIN (?:SMALL |CAPITAL )?LETTER (?:SMALL CAPITAL |BARRED |DOTLESS )?[A-Z]\b")
_OWN_SCRIPTS = re.compile("[\u00c0-\u024f\u1e00-\u1eff\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff"
                          "\U00020000-\U0003ffff]")
_MATH = re.compile(r"[+=*/^<>]")
_CLAUSE = re.compile(r"[。！？；!?;\n]+")  # sentences: 想进VIP群的，评论区扣1 is one
_RUSSIAN_GREEK_WORD = re.compile("[\u0370-\u03ff\u0400-\u04ff]{3,}")
_THREE_DIGITS = re.compile(r"\d.*?\d.*?\d", re.S)  # an account in other letters has them; most chat has not
_PLAIN_GAPS = re.compile(r"[\s,.;:!?'\"()\[\]，。；：！？、（）“”‘’_@-]+")


def disguised_account(t: AdsText) -> tuple[bool, str, str] | None:
    """(strong, why, the account) of an account dressed up to pass a filter: written in another script's
    look-alike letters, or shown only once the disguise is undone (l■u■o■9■4, ṃạṇ4̣0̣6̣): an account that stands
    as written beside a disguise elsewhere (生✿日✿快✿乐 … 单号 SF123…) is not."""
    foreign = not t.original.isascii() and _THREE_DIGITS.search(t.original)
    token = foreign_letter_id(t.original) if foreign else None
    if token:
        return True, "用别的文字的形近字母写的账号", token
    hiding = HIDING_TRICKS.intersection(t.tricks)
    if not hiding or (hiding == {TRICK_HOMOGLYPH} and _RUSSIAN_GREEK_WORD.search(t.original)):
        return None  # no disguise, or a Russian or Greek word (Привет123) seen as look-alike letters
    found = bare_contact(joined_ids(t.light), "", t.light)
    if found is None or not revealed(found[1], t.original):
        return None
    return False, f"变形写法下的{found[0]} {found[1]}", found[1]  # weak: fancy-font nicknames are common


def revealed(account: str, original: str) -> bool:
    """Is `account` (letters and digits) absent from the message as written (spacing, punctuation and font aside:
    𝐓𝐢𝐠𝐞𝐫𝟐𝟎 is a nickname's style), i.e. shown only by undoing a disguise (symbols or marks between its
    characters, digits of another script)?"""
    bare = _NOT_ALNUM.sub("", account).lower()
    return bool(bare) and bare not in _PLAIN_GAPS.sub("", unicodedata.normalize("NFKC", original)).lower()


def foreign_letter_id(original: str) -> str | None:
    """An account written in letters of another script that look like Latin ones (ⲧⲁⲟⲙⲁⲛ506, ᑕᔕᗪ᙭218, lսօ4591)
    or in Latin letters with hooks and strokes that no language of the groups writes (ɱaɲʂeɲ67068): a token of
    three digits or more and two such letters or more, all of a look-alike-only script or all look-alikes of
    Latin ones mixed with Latin letters; no arithmetic (αx+βy=100 is maths)."""
    for m in _TOKEN.finditer(unicodedata.normalize("NFKC", original)):
        token = m.group(0)
        if sum(map(str.isdigit, token)) < 3:
            continue
        foreign = [c for c in _OWN_SCRIPTS.sub("", token) if not c.isascii() and c.isalpha()]
        if len(foreign) < 2 or _MATH.search(token):
            continue
        latin = any(c.isascii() and c.isalpha() for c in token)
        if all(_LOOKALIKE_ONLY.match(c) for c in foreign) or (latin and all(
                c in _LATIN_LOOKALIKES or _DECORATED_LATIN.match(unicodedata.name(c, "")) for c in foreign)):
            return token
    return None


def group_bait(light: str) -> tuple[str, str] | None:
    """(the bait, the invitation) when a sentence of `light` invites the reader to another group for a bait
    (拉你们进福利群, 带你进群领红包), unless the text points to the group's own admin (入口找管理员)."""
    if RE_GROUP_OWN.search(light):
        return None
    for clause in _CLAUSE.split(light):
        join = RE_GROUP_JOIN.search(clause)
        bait = RE_GROUP_BAIT.search(clause) if join else None
        if join is not None and bait is not None:
            return bait.group(0), join.group(0)
    return None


def disguised_number(t: AdsText, hits: list[tuple[float, str, str]]) -> bool:
    """Is an account of the contact check's `hits` written so a filter cannot read it: its digits disguised
    (shown only once the disguise is undone) or broken over lines?"""
    digits = not DIGIT_TRICKS.isdisjoint(t.tricks)
    return any(digits and revealed(h[2], t.original) and not mashed(_NOT_DIGIT.sub("", h[2]))
               for h in hits if h[1].startswith(ACCOUNT_REASONS)) or over_lines(t.light, hits)


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
    cue = RE_COMMERCE.search(flat) or RE_PAY_RATE.search(_SPACING.sub("", light))
    if cue is None or RE_NOTICE.search(flat):
        return None
    joined = joined_ids(light)
    m = RE_MOBILE.search(flat) or RE_BARE_ID.search(joined) or RE_EMAIL.search(joined)
    return (cue.group(0), m.group(0)) if m is not None else None
