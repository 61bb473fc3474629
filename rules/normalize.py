"""Text normalisation applied before matching: what a member typed, folded to what they meant.

`fold` gives the comparable form used by keyword and trigger matching: Unicode NFKC (full-width
letters and digits become ASCII), case folded, invisible characters removed, and whitespace and
punctuation dropped, so "群 规！" and "群规" compare equal. The original text is always kept by the
caller for replies and the audit.
"""

from __future__ import annotations

import unicodedata

# Zero-width and other invisible characters advertisers slip between letters.
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0,
     *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070), *range(0xFE00, 0xFE10)],
)
_DROP_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"})


def strip_invisible(text: str) -> str:
    """Remove zero-width, bidi-control and variation-selector characters (and NUL)."""
    return text.translate(_INVISIBLE).replace("\x00", "")


def fold(text: str) -> str:
    """The comparable form of `text` (see module doc)."""
    text = unicodedata.normalize("NFKC", strip_invisible(text)).casefold()
    if text.isascii():
        return "".join(ch for ch in text if ch.isalnum() or ch in "@#$%&*+=<>|~^`")
    return "".join(ch for ch in text if unicodedata.category(ch) not in _DROP_CATEGORIES)


def clean(text: str) -> str:
    """NFKC with invisible characters removed, spacing and punctuation kept (for regex rules)."""
    return unicodedata.normalize("NFKC", strip_invisible(text))
