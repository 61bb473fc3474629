"""Phone numbers and ids spelt with characters that sound like digits (药舞妻思铃酒: yao wu qi si ling jiu),
read back as digits by the normaliser (handlers/ads/folds.py)."""

from __future__ import annotations

import re
from functools import lru_cache

from handlers.ads.sounds import reading_table

_DIGIT_SYLLABLES = {"ling": "0", "yi": "1", "yao": "1", "er": "2", "liang": "2", "san": "3", "si": "4", "wu": "5",
                    "liu": "6", "qi": "7", "ba": "8", "jiu": "9"}
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
