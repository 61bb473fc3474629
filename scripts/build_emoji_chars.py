"""Build handlers/ads/emoji_chars.json: the Chinese word each emoji's CLDR short name gives (🥚 蛋, 🍐 梨, 🪙 硬币).

    .venv/bin/pip install emoji==2.16.0 && .venv/bin/python scripts/build_emoji_chars.py

Source: the `emoji` package's Chinese names (from Unicode CLDR annotations, BSD licence). Kept: names of
one or two characters, and the noun after 的 (搏动的心 -> 心, 长翅膀的钱 -> 钱). The detector reads an emoji as
its word only where that completes an ad word, by sight or by sound (刷🥚 -> 刷蛋 -> 刷单; handlers/ads/detector.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import emoji

OUT = Path(__file__).resolve().parent.parent / "handlers" / "ads" / "emoji_chars.json"
CJK = re.compile(r"^[\u4e00-\u9fff]+$")


def word_of(name: str) -> str | None:
    name = name.strip(":").split("_")[0]
    if "的" in name:
        name = name.rsplit("的", 1)[1]
    return name if CJK.match(name) and 1 <= len(name) <= 2 else None


def main() -> None:
    table = {}
    for char in emoji.EMOJI_DATA:
        name = emoji.demojize(char, language="zh")
        word = word_of(name) if name != char else None
        if word and len(char) <= 2:
            table[char.replace("\ufe0f", "")] = word
    OUT.write_text(json.dumps(dict(sorted(table.items())), ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(table)} emoji -> {OUT.name}")


if __name__ == "__main__":
    main()
