"""Phone numbers and ids spelt with characters that sound like digits (药舞妻思铃酒: yao wu qi si ling jiu) or
with symbols that stand for digits (Korean numerals, braille cells, clock faces, the shifted number row),
read back as digits by the normaliser (handlers/ads/folds.py)."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise

from handlers.ads.sounds import reading_table

_DIGIT_SYLLABLES = {"ling": "0", "yi": "1", "yao": "1", "er": "2", "liang": "2", "san": "3", "si": "4", "wu": "5",
                    "liu": "6", "qi": "7", "ba": "8", "jiu": "9"}
# Symbols that stand for digits only in a run (a phone number or an id written in them): Korean (Sino-Korean)
# numerals, the braille digit cells (a-j), clock faces (one to nine o'clock) and the number row typed with shift.
_SYMBOL_DIGITS = {**dict(zip("공영일이삼사오육륙칠팔구", "001234566789", strict=True)),
                  **dict(zip("⠚⠁⠃⠉⠙⠑⠋⠛⠓⠊", "0123456789", strict=True)),
                  **{chr(0x1F550 + i): str(i + 1) for i in range(9)},
                  **dict(zip(")!@#$%^&*(", "0123456789", strict=True))}
SYMBOL_DIGIT_CHARS = "".join(_SYMBOL_DIGITS)
RUN = 7  # a mainland phone number has 11 digits, a QQ number 5 to 10: shorter runs are words (一起吧)


@lru_cache(maxsize=1)
def digit_sounds() -> dict[str, str]:
    """Every character of the main CJK block whose common reading is a digit's (药 -> 1, 伞 -> 3, 酒 -> 9)."""
    table = reading_table()
    return {chr(cp): _DIGIT_SYLLABLES[s] for cp in range(0x4E00, 0xA000)
            if (s := table.get(chr(cp))) in _DIGIT_SYLLABLES}


@lru_cache(maxsize=1)
def _runs() -> re.Pattern[str]:
    chars = re.escape("".join(sorted(digit_sounds())))
    return re.compile(f"[{chars}](?:[\\s\\-_.·•*/|~,，、]{{0,2}}[{chars}]){{{RUN - 1},}}")


def _as_digits(m: re.Match[str]) -> str:
    """A run of digit sounds as digits when it has three different ones or more (呜呜呜呜呜呜呜 is a sob)."""
    sounds = digit_sounds()
    digits = "".join(sounds.get(ch, "") for ch in m.group(0))
    return digits if len(set(digits)) >= 3 else m.group(0)


def sound_digits(text: str) -> str:
    """`text` with every run of RUN or more digit sounds (spacing allowed between them) written in digits."""
    return _runs().sub(_as_digits, text)


_SYMBOL_RUN = re.compile("[{c}](?:[\\s\\-_.·•,，、]{{0,2}}[{c}]){{{n},}}".format(
    c=re.escape("".join(_SYMBOL_DIGITS)), n=RUN - 1))


def mashed(digits: str) -> bool:
    """Mostly neighbouring digits (@#$%^&*! is 23456781, ٠١٢٣٤٥٦٧٨٩ is 0123456789): swearing typed with
    shift, a mash or a list of the digits, not a number."""
    if len(digits) < 5:
        return False
    steps = [abs(int(a) - int(b)) for a, b in pairwise(digits)]
    return sum(step in (1, 9) for step in steps) >= 0.8 * len(steps)  # 9 and 0 are neighbours on the row


def _symbols_as_digits(m: re.Match[str]) -> str:
    digits = "".join(_SYMBOL_DIGITS.get(ch, "") for ch in m.group(0))
    return digits if len(set(digits)) >= 3 and not mashed(digits) else m.group(0)


_SHIFTED = frozenset(")!@#$%^&*(")
# The shifted number row is also how people swear (@#$%&*!) and draw faces (^_^): a number only after a word
# for one, or where the text says it was typed with shift.
_NUMBER_WORD = re.compile(r"(?:电话|手机|号码|号|qq|扣扣|微信|联系|tel)\s*[:：=]?\s*$")  # (read lower-cased)


def symbol_digits(text: str) -> str:
    """`text` with every run of RUN or more digit symbols (일칠칠, ⠁⠙⠁, 🕐🕖, !@#, spacing allowed) written in
    digits, when the run has three different ones or more (and, for the shifted number row, stands where
    a number is named)."""
    shift = "shift" in text.lower() or "上档" in text

    def convert(m: re.Match[str]) -> str:
        if not shift and _SHIFTED.issuperset(m.group(0).replace(" ", "")) \
                and not _NUMBER_WORD.search(text[max(0, m.start() - 8):m.start()]):
            return m.group(0)
        return _symbols_as_digits(m)

    return _SYMBOL_RUN.sub(convert, text)
