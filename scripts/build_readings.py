"""Build handlers/ads/readings.txt.gz: the common toneless pinyin reading of each Chinese character.

    .venv/bin/pip install pypinyin==0.55.0 && .venv/bin/python scripts/build_readings.py

Source: pypinyin 0.55.0's character table (pinyin_dict, MIT licence, (c) mozillazg). Only the first
(most common) reading is kept, tone marks dropped, ü written v: 微 -> wei, 绿 -> lv. The homophone
check (handlers/ads/sounds.py) reads characters by it; shipping the table instead of importing
pypinyin saves about 55 MB of memory at run time (its phrase tables).
"""

from __future__ import annotations

import gzip
from pathlib import Path

from pypinyin.pinyin_dict import pinyin_dict

OUT = Path(__file__).resolve().parent.parent / "handlers" / "ads" / "readings.txt.gz"
HEADER = "# first toneless pinyin reading per character, from pypinyin 0.55.0 (MIT); scripts/build_readings.py"
TONES = str.maketrans({**dict.fromkeys("āáǎà", "a"), **dict.fromkeys("ēéěèếề", "e"), **dict.fromkeys("īíǐì", "i"),
                       **dict.fromkeys("ōóǒò", "o"), **dict.fromkeys("ūúǔù", "u"), **dict.fromkeys("ǖǘǚǜü", "v"),
                       **dict.fromkeys("ńňǹ", "n"), "ḿ": "m", "\u0304": None, "\u030c": None, "ê": "e"})


def main() -> None:
    rows = []
    for code, found in sorted(pinyin_dict.items()):
        first = found.split(",")[0].translate(TONES)
        if first.isascii() and first.isalpha():
            rows.append(f"{chr(code)}{first}")
    data = HEADER + "\n" + "\n".join(rows) + "\n"
    OUT.write_bytes(gzip.compress(data.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{len(rows)} characters -> {OUT.name} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
