"""Build handlers/ads/words.txt.gz: the Chinese words the homophone check may never cut through.

    .venv/bin/pip install jieba==0.42.1 && .venv/bin/python scripts/build_word_list.py

Source: the dictionary shipped with jieba 0.42.1 (dict.txt, MIT licence, (c) 2013 Sun Junyi), kept to
words of 2-4 Chinese characters with a frequency of at least 5 (the entries below that are mostly
segmentation debris). The homophone check (handlers/ads/sounds.py) rewrites 薇芯 to 微信 but leaves
威信 (prestige), 宝马 (BMW) and 李薇，信息 alone because they are, or cut through, words of this list.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import jieba

MIN_FREQ = 5
OUT = Path(__file__).resolve().parent.parent / "handlers" / "ads" / "words.txt.gz"
HEADER = ("# Chinese words (2-4 characters, frequency >= 5) from jieba 0.42.1's dict.txt, MIT licence, "
          "(c) 2013 Sun Junyi; built by scripts/build_word_list.py")


def main() -> None:
    source = Path(os.path.dirname(jieba.__file__)) / "dict.txt"
    words = set()
    with source.open(encoding="utf-8") as f:
        for line in f:
            word, freq, *_ = line.split(" ")
            if 2 <= len(word) <= 4 and int(freq) >= MIN_FREQ and all("\u4e00" <= c <= "\u9fff" for c in word):
                words.add(word)
    data = HEADER + "\n" + "\n".join(sorted(words)) + "\n"
    OUT.write_bytes(gzip.compress(data.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{len(words)} words -> {OUT.name} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
