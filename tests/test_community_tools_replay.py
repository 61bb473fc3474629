"""Five days in two groups through `qunbot replay` (bot.cli.main, as an owner runs it) with the shipped
config.yaml — every community tool as shipped — laid under a small override: admins and operators set for
the two groups by id (the shipped config has none), and the bot's files in the test's folder. The
transcript: 接龙 copies from several members (one that drops other members' lines is not taken),
取消接龙, 接龙统计; a poll with votes, a replaced vote, a wrong option, and a deadline the next day that
passes by timer; 扣1, its answers, 扣1统计, and the window's end (direct messages to the operators);
抽奖 and the three messages that seed it; red packets (one merged thanks) and 红包榜/红包周榜; an off-topic
message inside topic hours and one outside; check-ins over five days paying for a 兑换, a grant paying
for another, 确认兑换 / 拒绝兑换 @成员. The facts of ../shared/replay-format.md are asserted exactly for
jielong, poll, roll_call, lottery, shop and checkin, and `qunbot lottery-verify --event` confirms the
draw from the database the replay kept (--db)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from handlers.lottery.draw import pool_digest, seed_of, winners_of
from tests.conftest import CST, ROOT

BADMINTON = ("badminton@chatroom", "周末羽毛球群")  # 接龙, 扣1, red packets, topic hours, check-ins, the shop
CLASS = ("class2@chatroom", "二班家长群")  # the poll (班长竞选) and the lottery
OWNER, TEACHER, OP = "owner", "teacher", "op"
A, B, C, D, E, F = "aqiang", "azhen", "xiaoli", "xiaowang", "xiaozhang", "xiaoming"
NAMES = {  # display names in config.yaml's name format (名字-公司-岗位-城市): no rename reminders
    OWNER: "老周-腾讯-群主-杭州", TEACHER: "王老师-二中-班主任-杭州", OP: "小运-腾讯-运营-杭州",
    A: "阿强-腾讯-运营-杭州", B: "阿珍-美团-产品-上海", C: "小李-阿里-开发-杭州", D: "小王-京东-设计-北京",
    E: "小张-百度-数据-北京", F: "小明-网易-市场-广州",
}
MONDAY = datetime(2026, 3, 2, tzinfo=CST)
UNTIL = (MONDAY + timedelta(days=4, hours=12)).isoformat()  # Friday noon
OVERRIDE = f"""
  "{BADMINTON[0]}":
    admins: [{OWNER}]
    operators: [{OP}]
    red_packet: {{thanks: "谢谢 @{{user_name}} 的红包🧧"}}   # off as shipped; this group's owner turned it on
  "{CLASS[0]}":
    admins: [{TEACHER}]
    operators: [{OP}]
"""
HEAD = "#接龙\n周六羽毛球\n例 张三 2人\n"


def config_text(folder: Path) -> str:
    """config.yaml as shipped, with the admins and operators of the two groups (entries by id, so they
    apply) and the bot's files (reports, media) in `folder` rather than under ./data."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert "\n  admins: []" in text and text.rstrip().endswith("name_format: null")  # as shipped
    text = text.replace("\nbot:\n", f"\nbot:\n  reports_dir: {folder / 'reports'}\n  media_dir: {folder / 'media'}\n",
                        1)
    return text.rstrip("\n") + "\n" + OVERRIDE


def copy(*lines: str, style: str = "{n}. {line}") -> str:
    return HEAD + "\n".join(style.format(n=n, line=line) for n, line in enumerate(lines, 1))


class Transcript:
    """The events, with ids the test names them by."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, group: tuple[str, str], day: int, hhmmss: str, user: str, type_: str = "text",
            **extra: Any) -> str:
        h, m, *s = (int(x) for x in hhmmss.split(":"))
        ts = MONDAY + timedelta(days=day, hours=h, minutes=m, seconds=s[0] if s else 0)
        event_id = f"wx-{len(self.rows) + 1:03d}"
        self.rows.append({"id": event_id, "ts": ts.isoformat(), "type": type_, "group": group[0],
                          "group_name": group[1], "user": user, "user_name": NAMES[user], **extra})
        return event_id

    def say(self, group: tuple[str, str], day: int, hhmmss: str, user: str, text: str, **extra: Any) -> str:
        return self.add(group, day, hhmmss, user, text=text, **extra)


def build() -> tuple[Transcript, dict[str, str]]:
    t, ids = Transcript(), {}
    bad, cls = BADMINTON, CLASS
    # -- Monday ------------------------------------------------------------------------------------------
    for n, user in enumerate((A, B, C, D)):
        t.say(bad, 0, f"08:0{n}", user, "签到")
    t.say(bad, 0, "08:05", E, "早上好")  # present in the group, never signs up
    t.say(cls, 0, "08:30", A, "早上好呀各位家长")
    for n, user in enumerate((B, C, D, F)):
        t.say(cls, 0, f"08:3{n + 1}", user, "早")
    # 接龙: three copies, a copy that drops 阿珍's and 小李's lines (not taken), the full copy, one without
    # numbered lines (not taken either), 取消接龙, 接龙统计
    ids["chain"] = t.say(bad, 0, "10:00", A, copy("阿强"))
    t.say(bad, 0, "10:05", B, copy("阿强", "阿珍 +1"))
    t.say(bad, 0, "10:10", C, copy("阿强", "阿珍 +1", "小李"))
    ids["dropped"] = t.say(bad, 0, "10:12", D, copy("阿强", "小王"))
    t.say(bad, 0, "10:15", D, copy("阿强", "阿珍 +1", "小李", "小王", style="{n}、{line}"))
    ids["malformed"] = t.say(bad, 0, "10:20", E, HEAD + "小张也想去")  # no numbered line: not a copy
    ids["cancel"] = t.say(bad, 0, "10:30", B, "取消接龙")
    ids["jielong_stats"] = t.say(bad, 0, "10:40", OWNER, "接龙统计")
    # topic hours (Mon-Fri 10:00-18:00): one reminder inside, nothing outside
    ids["offtopic"] = t.say(bad, 0, "11:20", C, "中午谁约饭？")
    # 扣1: the owner's call, answers (a repeat, a message that merely holds a 1), 扣1统计, the window ends 16:00
    ids["call"] = t.say(bad, 0, "14:00", OWNER, "今晚 8 点开会，收到请扣1")
    t.say(bad, 0, "14:01", A, "1")
    t.say(bad, 0, "14:02", B, "１")
    t.say(bad, 0, "14:03", C, "1️⃣")
    t.say(bad, 0, "14:04", A, "+1")
    t.say(bad, 0, "14:05", D, "我有1个问题")
    ids["call_stats"] = t.say(bad, 0, "14:30", OWNER, "扣1统计")
    t.say(bad, 0, "16:10", E, "1")  # after the window: not an answer
    ids["call_stats_after"] = t.say(bad, 0, "16:20", OWNER, "扣1统计")
    ids["after_hours"] = t.say(bad, 0, "19:30", D, "周末约球吗")
    # -- Tuesday -----------------------------------------------------------------------------------------
    for n, user in enumerate((A, B, C)):
        t.say(bad, 1, f"07:0{n}", user, "签到")
    ids["rp1"] = t.add(bad, 1, "12:00:00", A, "red_packet")
    ids["rp2"] = t.add(bad, 1, "12:00:20", B, "red_packet")
    ids["rp3"] = t.add(bad, 1, "12:00:40", A, "red_packet")
    ids["board_today"] = t.say(bad, 1, "12:05", C, "红包榜")
    # the poll: 截止19:00 has passed at 20:00, so the deadline is tomorrow 19:00
    ids["poll"] = t.say(cls, 1, "20:00", TEACHER, "投票 班长竞选 张三 李四 王五 截止19:00")
    ids["vote_a"] = t.say(cls, 1, "20:01:00", A, "投1")
    ids["vote_b"] = t.say(cls, 1, "20:01:20", B, "投 李四")
    ids["vote_c"] = t.say(cls, 1, "20:01:40", C, "投王五")
    ids["vote_a2"] = t.say(cls, 1, "20:02:30", A, "投 李四")  # replaces 投1
    ids["vote_bad"] = t.say(cls, 1, "20:03", D, "投5")
    t.say(cls, 1, "20:04", F, "投资这事我再想想")  # conversation
    # -- Wednesday ---------------------------------------------------------------------------------------
    t.say(bad, 2, "07:00", B, "签到")
    ids["draw"] = t.say(cls, 2, "10:00", TEACHER, "抽奖 2")
    ids["seed1"] = t.say(cls, 2, "10:01", B, "哇期待")
    ids["seed2"] = t.say(cls, 2, "10:02", C, "🙏🙏")
    ids["seed3"] = t.say(cls, 2, "10:03", D, "我我我")
    t.say(cls, 2, "10:04", F, "恭喜恭喜")  # after the draw
    # the poll's deadline (19:00) passes with no event in the group: its timer posts the result
    # -- Thursday ----------------------------------------------------------------------------------------
    t.say(bad, 3, "07:00", B, "签到")
    ids["rp4"] = t.add(bad, 3, "09:30", B, "red_packet")
    ids["board_week"] = t.say(bad, 3, "10:00", B, "红包周榜")
    # -- Friday: 阿珍's check-ins (and red packets) pay for an e-book; 小李's grant for a movie ticket -------
    t.say(bad, 4, "07:00", B, "签到")
    ids["redeem_b"] = t.say(bad, 4, "07:05", B, "兑换 群主签名电子书")
    ids["confirm_b"] = t.say(bad, 4, "09:00", OWNER, f"确认兑换 @{NAMES[B]}", mentions=[B])
    ids["grant_c"] = t.say(bad, 4, "09:10", OWNER, f"加分 @{NAMES[C]} 300 活动奖励", mentions=[C])
    ids["redeem_c"] = t.say(bad, 4, "09:11", C, "兑换 电影票")
    ids["mine_c"] = t.say(bad, 4, "09:12", C, "我的兑换")
    ids["poor_d"] = t.say(bad, 4, "09:13", D, "兑换 一对一答疑 30 分钟")
    ids["refuse_c"] = t.say(bad, 4, "09:20", OWNER, f"拒绝兑换 @{NAMES[C]}", mentions=[C])
    return t, ids


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("community")
    t, ids = build()
    transcript, config, out, db = (folder / "days.jsonl", folder / "config.yaml", folder / "actions.jsonl",
                                   folder / "bot.db")
    transcript.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in t.rows), encoding="utf-8")
    config.write_text(config_text(folder), encoding="utf-8")
    url = f"sqlite+aiosqlite:///{db}"
    status = main(["replay", str(transcript), "--config", str(config), "--db", url, "--out", str(out),
                   "--until", UNTIL])
    assert status == 0
    actions = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {"actions": actions, "ids": ids, "url": url, "db": db}


def notes(db: Path, event: str, rule: str) -> list[dict[str, Any]]:
    """The audit notes (not part of the replay's output) the rule left on an event, from the kept database."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT data FROM actions WHERE event_id = ? AND rule = ? AND status = 'note'",
                           (event, rule)).fetchall()
    finally:
        con.close()
    return [json.loads(data) for (data,) in rows]


def answering(actions: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return [a for a in actions if a["data"].get("event") == event]


def one(actions: list[dict[str, Any]], rule: str, event: str | None = None) -> dict[str, Any]:
    found = [a for a in actions if a["rule"] == rule and (event is None or a["data"].get("event") == event)]
    assert len(found) == 1, (rule, event, found)
    return found[0]


def test_jielong(replayed: dict[str, Any]) -> None:
    actions, ids = replayed["actions"], replayed["ids"]
    assert [a["rule"] for a in actions if a["rule"].startswith("jielong")] == ["jielong/cancel", "jielong"]
    for copy_event in (ids["chain"], ids["dropped"]):  # copies are silent, the one not taken too
        assert answering(actions, copy_event) == []
    [refused] = notes(replayed["db"], ids["dropped"], "jielong/copy")  # 小王's copy lacked two members' lines
    assert refused["refused"] == "dropped" and refused["members"] == [B, C]
    assert refused["lines"] == ["阿珍 +1", "小李"]
    assert answering(actions, ids["malformed"]) == []
    assert [n["malformed"] for n in notes(replayed["db"], ids["malformed"], "jielong/copy")] == ["no numbered lines"]
    cancel = one(actions, "jielong/cancel", ids["cancel"])
    assert cancel["data"]["lines"] == 1 and cancel["data"]["count"] == 3 and "mentions" not in cancel
    stats = one(actions, "jielong", ids["jielong_stats"])
    assert stats["group"] == BADMINTON[0] and stats["reply_to"] == ids["jielong_stats"]
    facts = stats["data"]
    assert facts["title"] == "周六羽毛球"
    assert facts["count"] == 3
    assert facts["members"] == [A, C, D]  # in list order; 阿珍 cancelled
    assert facts["missing"] == [B, E]  # present, not signed (not the owner, the operator or the bot)
    assert facts["chain"] == ids["chain"] and facts["open"] is True
    assert stats["mentions"] == [B, E]


def test_poll(replayed: dict[str, Any]) -> None:
    actions, ids = replayed["actions"], replayed["ids"]
    started = one(actions, "poll/started", ids["poll"])
    deadline = MONDAY + timedelta(days=2, hours=19)  # Wednesday 19:00, the day after the command
    assert datetime.fromisoformat(started["data"]["deadline"]) == deadline
    assert started["data"]["options"] == ["张三", "李四", "王五"]
    confirms = [a for a in actions if a["rule"] == "poll/confirm"]
    assert [c["data"]["members"] for c in confirms] == [[A, B, C], [A]]  # merged; the replaced vote after
    assert [c["data"]["events"] for c in confirms] == [[ids["vote_a"], ids["vote_b"], ids["vote_c"]],
                                                       [ids["vote_a2"]]]
    assert all("event" not in c["data"] for c in confirms)
    assert one(actions, "poll/unknown-option", ids["vote_bad"])["mentions"] == [D]
    result = one(actions, "poll")
    assert datetime.fromisoformat(result["ts"]) == deadline  # by its timer, as the clock passed it
    assert "event" not in result["data"] and "reply_to" not in result and result["group"] == CLASS[0]
    assert result["data"]["counts"] == {"张三": 0, "李四": 2, "王五": 1}
    assert list(result["data"]["counts"]) == ["张三", "李四", "王五"]
    assert result["data"]["winner"] == "李四"
    assert result["data"]["voters"] == 3
    assert result["data"]["poll"] == ids["poll"] and result["data"]["ended_by"] is None


def test_roll_call(replayed: dict[str, Any]) -> None:
    actions, ids = replayed["actions"], replayed["ids"]
    assert answering(actions, ids["call"]) == []  # the call itself is silent, and so are the answers
    stats = one(actions, "roll_call", ids["call_stats"])
    assert stats["group"] == BADMINTON[0] and stats["mentions"] == [D, E]
    assert stats["data"]["answered"] == [A, B, C]  # each once, first answer first
    assert stats["data"]["missing"] == [D, E]
    assert stats["data"]["open"] is True and stats["data"]["call"] == ids["call"]
    summary = [a for a in actions if a["rule"] == "roll_call" and "event" not in a["data"]]
    assert [(a["action"], a.get("user"), a.get("group")) for a in summary] == [("send", OP, None)]
    end = summary[0]
    assert datetime.fromisoformat(end["ts"]) >= MONDAY + timedelta(hours=16)  # the window's end, 120 minutes
    assert datetime.fromisoformat(end["ts"]) < MONDAY + timedelta(hours=16, minutes=10)
    assert end["data"]["answered"] == [A, B, C] and end["data"]["missing"] == [D, E]
    assert end["data"]["group"] == BADMINTON[0] and end["data"]["open"] is False
    assert "小王" in end["text"] and "小张" in end["text"] and not end.get("mentions")
    after = one(actions, "roll_call", ids["call_stats_after"])
    assert after["data"]["answered"] == [A, B, C] and after["data"]["missing"] == [D, E]  # 16:10's 1 came late
    assert after["data"]["open"] is False


def test_lottery_and_lottery_verify(replayed: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    actions, ids = replayed["actions"], replayed["ids"]
    pool = sorted([A, B, C, D, F])  # spoke in the class group within 7 days; not the teacher, the operator
    started = one(actions, "lottery/started", ids["draw"])
    assert started["data"]["pool"] == 5 and started["data"]["pool_digest"] == pool_digest(pool)
    draw = one(actions, "lottery")
    assert draw["data"]["event"] == ids["seed3"]  # the third message after the command drew
    seeds = [ids["seed1"], ids["seed2"], ids["seed3"]]
    assert draw["data"]["seed"] == seed_of(ids["draw"], seeds)
    assert draw["data"]["seed_events"] == [ids["draw"], *seeds]
    assert draw["data"]["pool"] == 5
    assert draw["data"]["winners"] == winners_of(draw["data"]["seed"], pool, 2)
    assert len(set(draw["data"]["winners"])) == 2 and set(draw["data"]["winners"]) <= set(pool)
    assert draw["data"]["draw"] == ids["draw"] and draw["mentions"] == draw["data"]["winners"]
    capsys.readouterr()
    assert main(["lottery-verify", "--event", ids["draw"], "--db", replayed["url"]]) == 0
    out = capsys.readouterr().out
    assert "✗" not in out and out.count("✓") == 5
    lines = out.strip().splitlines()
    header = next(n for n, line in enumerate(lines) if line.startswith("中奖 "))
    assert lines[header + 1:] == draw["data"]["winners"]
    assert f"种子 {draw['data']['seed']}" in out


def test_red_packets_and_topic_hours(replayed: dict[str, Any]) -> None:
    actions, ids = replayed["actions"], replayed["ids"]
    thanks = [a for a in actions if a["rule"] == "red_packet"]
    assert [(t["data"]["members"], t["data"]["events"]) for t in thanks] == [
        ([A, B], [ids["rp1"], ids["rp2"], ids["rp3"]]), ([B], [ids["rp4"]])]
    assert thanks[0]["mentions"] == [A, B] and "event" not in thanks[0]["data"]
    today = one(actions, "red_packet/board-today", ids["board_today"])
    assert [(r["user"], r["count"], r["place"]) for r in today["data"]["rows"]] == [(A, 2, 1), (B, 1, 2)]
    assert today["data"]["place"] == 0 and today["data"]["count"] == 0
    week = one(actions, "red_packet/board-week", ids["board_week"])
    assert sorted((r["user"], r["count"], r["place"]) for r in week["data"]["rows"]) == [(A, 2, 1), (B, 2, 1)]
    assert week["data"]["place"] == 1 and week["data"]["count"] == 2
    reminder = one(actions, "topic_hours")
    assert reminder["data"]["event"] == ids["offtopic"] and reminder["reply_to"] == ids["offtopic"]
    assert reminder["data"]["word"] == "约饭" and reminder["group"] == BADMINTON[0]
    assert reminder["data"]["period"] == {"days": [1, 2, 3, 4, 5], "from": "10:00", "to": "18:00"}
    assert answering(actions, ids["after_hours"]) == []


def test_checkins_pay_for_the_shop(replayed: dict[str, Any]) -> None:
    actions, ids = replayed["actions"], replayed["ids"]
    checkins = [(a["mentions"][0], a["data"]["rank"], a["data"]["streak"], a["data"]["points"],
                 a["data"]["balance"], a["data"]["already"]) for a in actions if a["rule"] == "checkin"]
    assert checkins == [
        (A, 1, 1, 5, 5, False), (B, 2, 1, 5, 5, False), (C, 3, 1, 5, 5, False), (D, 4, 1, 5, 5, False),  # Mon
        (A, 1, 2, 6, 11, False), (B, 2, 2, 6, 11, False), (C, 3, 2, 6, 12, False),  # Tue (小李: +1 for a chat)
        (B, 1, 3, 7, 28, False),  # Wed: 阿珍's red packet paid 10 on Tuesday
        (B, 1, 4, 8, 36, False),  # Thu
        (B, 1, 5, 9, 55, False),  # Fri: 36, Thursday's red packet 10, and 9
    ]
    shop = {a["data"]["event"]: a for a in actions if a["rule"] == "shop"}
    facts = ("item", "cost", "balance", "stock", "status")

    def of(event: str) -> tuple[Any, ...]:
        return tuple(shop[event]["data"].get(k) for k in facts)

    assert of(ids["redeem_b"]) == ("群主签名电子书", 50, 5, None, "pending")
    assert shop[ids["redeem_b"]]["mentions"] == [B]
    assert of(ids["confirm_b"]) == ("群主签名电子书", 50, 5, None, "confirmed")
    granted = one(actions, "points/grant", ids["grant_c"])["data"]["balance"]
    assert granted == 12 + 300  # Tuesday's check-in balance (a point for Monday's chat), then the grant
    assert of(ids["redeem_c"]) == ("电影票", 300, granted - 300, 4, "pending")
    assert shop[ids["mine_c"]]["data"]["entries"] == 1
    poor = shop[ids["poor_d"]]["data"]
    assert poor["error"] == "poor" and poor["item"] == "一对一答疑 30 分钟" and poor["cost"] == 500
    assert of(ids["refuse_c"]) == ("电影票", 300, granted, 5, "refused")
    con = sqlite3.connect(replayed["db"])
    try:
        balances = dict(con.execute("SELECT user_id, balance FROM points_balances WHERE group_id = ?",
                                    (BADMINTON[0],)))
    finally:
        con.close()
    assert balances[B] == 5 and balances[C] == granted  # the redemption's balance is the ledger's
