"""`qunbot replay` on the shipped config.yaml: three joins within a minute get one message (the welcome
with the rename reminder folded in) that mentions all three, at the instant the first join's timer is
due, before a later event's answer; a second replay on the same database acts on nothing. Over four
days: first reminders within half an hour share a message, and the follow-up goes out at 20:00 on the
third day after, one message for the group, without those who renamed or left, and never again."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.test_replay import actions_of, replay

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=CST)


def row(n: int, seconds: float, kind: str, user: str, name: str, **kw: object) -> str:
    return json.dumps({"id": f"w{n}", "ts": (T0 + timedelta(seconds=seconds)).isoformat(), "type": kind,
                       "group": "g1@chatroom", "group_name": "示例群", "user": user, "user_name": name, **kw},
                      ensure_ascii=False)


def test_three_joins_within_a_minute_get_one_message_with_three_mentions(tmp_path: Path) -> None:
    transcript = tmp_path / "joins.jsonl"
    transcript.write_text("\n".join([
        row(1, 0, "join", "n1", "阿强"),
        row(2, 20, "join", "n2", "阿珍"),
        row(3, 40, "join", "n3", "小李-公司-运营-北京"),     # fits the shipped 名字-公司-岗位-城市
        row(4, 300, "text", "n1", "阿强", text="群规"),      # five minutes on: the window closed long ago
    ]) + "\n", encoding="utf-8")
    db = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    result = replay(str(transcript), "--db", db, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    actions = actions_of(result.stdout)
    welcomes = [a for a in actions if a["rule"].startswith("welcome")]
    assert len(welcomes) == 1
    [sent] = welcomes
    assert sent["action"] == "send" and sent["rule"] == "welcome" and sent["group"] == "g1@chatroom"
    assert sent["mentions"] == ["n1", "n2", "n3"]
    assert datetime.fromisoformat(sent["ts"]) == T0 + timedelta(seconds=60)  # the timer's instant
    assert sent["text"].startswith("欢迎 @阿强 @阿珍 @小李-公司-运营-北京 加入「示例群」🎉")
    assert sent["text"].endswith("\n@阿强 @阿珍 请把群昵称改成「名字-公司-岗位-城市」的格式，方便大家认识你～")
    assert sent["data"]["asked"] == ["n1", "n2"] and "event" not in sent["data"]
    assert [a["rule"] for a in actions] == ["welcome", "keywords/群规"]  # in time order

    again = replay(str(transcript), "--db", db, cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == "", again.stderr


def test_a_window_still_open_at_the_end_goes_out_with_until(tmp_path: Path) -> None:
    transcript = tmp_path / "joins.jsonl"
    transcript.write_text("\n".join(row(n, 10 * n, "join", f"n{n}", f"新人{n}") for n in range(3)) + "\n",
                          encoding="utf-8")
    db = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    plain = replay(str(transcript), "--db", db, cwd=tmp_path)
    assert plain.returncode == 0 and plain.stdout == "", plain.stderr  # the timer is due after the last event
    until = (T0 + timedelta(minutes=2)).isoformat()
    later = replay(str(transcript), "--db", db, "--until", until, cwd=tmp_path)  # the same database
    [sent] = actions_of(later.stdout)
    assert sent["mentions"] == ["n0", "n1", "n2"] and datetime.fromisoformat(sent["ts"]) == T0 + timedelta(seconds=60)


def test_first_reminders_merge_and_the_follow_up_is_the_groups_daily_message(tmp_path: Path) -> None:
    day = 86_400
    transcript = tmp_path / "days.jsonl"
    transcript.write_text("\n".join([
        row(1, 0, "join", "n1", "阿强"),                                   # welcomed and asked
        row(2, 300, "text", "m1", "老王", text="大家好"),                   # first messages of members already in
        row(3, 1200, "text", "m2", "小李", text="今天的分享很有收获"),       # the group: one reminder at 10:35
        row(4, 1500, "red_packet", "m3", "Amy"),                           # a red packet asks for nothing
        row(5, 1560, "text", "m3", "Amy", text="收到"),
        row(6, day, "rename", "m1", "老王-腾讯-运营-杭州"),                 # thanked: no follow-up
        row(7, 2 * day, "leave", "m2", "小李"),                            # left: no follow-up
        row(8, 3 * day + 9 * 3600, "text", "m3", "Amy", text="晚上好"),   # 19:00 on the third day: nothing
    ]) + "\n", encoding="utf-8")
    until = (T0 + timedelta(days=6)).isoformat()
    result = replay(str(transcript), "--until", until, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    sent = [a for a in actions_of(result.stdout) if a["rule"].startswith("welcome")]
    assert [(a["rule"], a["mentions"]) for a in sent] == [
        ("welcome", ["n1"]), ("welcome/rename-reminder", ["m1", "m2", "m3"]), ("welcome/rename-thanks", ["m1"]),
        ("welcome/rename-reminder", ["m3", "n1"])]  # same first day: by id
    merged, followup = sent[1], sent[3]
    assert datetime.fromisoformat(merged["ts"]) == T0 + timedelta(seconds=300 + 1800)  # 30 minutes after the first
    assert merged["data"]["events"] == ["w2", "w3", "w5"] and "followup" not in merged["data"]
    assert datetime.fromisoformat(followup["ts"]) == T0.replace(hour=20) + timedelta(days=3)
    assert followup["data"]["followup"] is True and followup["data"]["reminder"] == {"m3": 2, "n1": 2}
    assert followup["text"].startswith("@Amy @阿强 再提醒一次：请把群昵称改成「名字-公司-岗位-城市」")
