"""Replay of a transcript with each kind of ad on the shipped config: each prompted once, a red packet
excuses, the third unpaid ad removes the member, ordinary chat is untouched."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.adapters.replay import replay
from rules.config import Config
from tests.conftest import ROOT
from tests.qr_images import poster

CST = timezone(timedelta(hours=8))


def test_each_kind_of_ad_is_prompted_once_and_chat_is_untouched(tmp_path: Path) -> None:
    poster(tmp_path / "qr.jpg", "https://u.wechat.com/EJoinMyGroup")
    poster(tmp_path / "photo.jpg")
    t = datetime(2026, 3, 2, 9, 0, tzinfo=CST)
    rows: list[dict] = []

    def add(kind: str, user: str, **kw: object) -> str:
        nonlocal t
        t += timedelta(minutes=1)
        row = {"id": f"a{len(rows)}", "ts": t.isoformat(), "type": kind, "group": "g1", "group_name": "城市群",
               "user": user, "user_name": f"{user}-公司-运营-北京", **kw}
        rows.append(row)
        return str(row["id"])

    ham = [add("text", "m1", text=s) for s in ("大家早上好", "我以前做过兼职，挺累的", "群规说不能发广告哦",
                                               "今天的分享在 https://docs.qq.com/doc/abc 里")]
    ham.append(add("image", "m1", path="photo.jpg"))
    s1 = [add("text", "s1", text="兼 职 刷 单 日 结，加 V：ａｂｃ１２３４５"),
          add("link", "s1", url="http://t.cn/A6abcd", title="点击领红包")]
    s2 = [add("image", "s2", path="qr.jpg"), add("contact_card", "s2", card_name="代理小王"),
          add("mini_program", "s2", title="砍一刀")]
    paid = add("red_packet", "s1")  # settles s1's link ad (the latest one, within 10 minutes)
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                      encoding="utf-8")
    out = io.StringIO()
    assert asyncio_run(replay(Config.from_file(ROOT / "config.yaml"), tmp_path / "t.jsonl", db_url=None,
                              until=None, out=out)) == 0
    actions = [json.loads(line) for line in out.getvalue().splitlines()]
    ads = [a for a in actions if a["rule"].startswith("ads/")]
    assert not [a for a in actions if a["data"].get("event") in ham]
    prompted = [a["data"]["event"] for a in ads if a["action"] == "send" and "group" in a and not a["data"].get(
        "excused") and a["data"].get("warnings", 0) < 3]
    assert prompted == [*s1, *s2[:2]]
    kinds = {a["data"]["event"]: a["data"]["kind"] for a in ads if "kind" in a["data"]}
    assert kinds[s1[0]] == "text" and kinds[s1[1]] == "link" and kinds[s2[0]] == "qrcode"
    assert kinds[s2[1]] == "card" and kinds[s2[2]] == "mini_program"
    [excused] = [a for a in ads if a["data"].get("excused")]
    assert excused["data"]["event"] == paid and excused["data"]["kind"] == "link"
    [kick] = [a for a in actions if a["action"] == "kick"]
    assert kick["user"] == "s2" and kick["data"]["event"] == s2[2] and kick["data"]["warnings"] == 3


def asyncio_run(coro):  # a sync test around the async replay
    import asyncio

    return asyncio.run(coro)
