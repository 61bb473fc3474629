"""admin: /why tells which handlers and rules acted on an event; only admins may ask."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.app import start_runtime
from bot.clock import DrivenClock
from handlers import FEATURES
from rules.config import Config
from rules.reload import ConfigHolder
from tests.conftest import BASIC_CONFIG, ROOT, EventFactory, FakePlatform, feed


async def test_why_lists_the_rules_that_acted_and_the_ones_held_back(runtime, clock: DrivenClock,
                                                                     platform: FakePlatform,
                                                                     make_event: EventFactory) -> None:
    first = make_event(text="群规")
    again = make_event(text="群规", after=5)
    ask = make_event(text=f"/why {first.id}", user="admin1", user_name="群主")
    ask_again = make_event(text=f"/why {again.id}", user="admin1", user_name="群主", after=2)
    await feed(runtime, clock, first, again)
    await feed(runtime, clock, ask, ask_again)
    answers = [a for a in platform.sent if a.rule == "admin/why"]
    assert len(answers) == 2
    assert f"事件 {first.id}：text，小明" in answers[0].text
    assert "keywords/群规 → send g1" in answers[0].text and "（已发送）" in answers[0].text
    assert "keywords/群规：cooldown" in answers[1].text


async def test_why_from_a_member_who_is_not_an_admin_gets_no_answer(runtime, clock: DrivenClock,
                                                                    platform: FakePlatform,
                                                                    make_event: EventFactory) -> None:
    event = make_event(text="群规")
    await feed(runtime, clock, event, make_event(text=f"/why {event.id}", user="u2"))
    assert [a.rule for a in platform.sent] == ["keywords/群规"]


async def test_why_of_an_unknown_event_says_so(runtime, clock: DrivenClock, platform: FakePlatform,
                                               make_event: EventFactory) -> None:
    await feed(runtime, clock, make_event(text="/why nope", user="admin1"))
    assert "没有找到事件 nope" in platform.texts()[0]


def test_qunbot_why_reads_the_audit_log_of_a_replay(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    transcript.write_text('{"id": "w1", "ts": "2026-03-02T10:00:00+08:00", "type": "text", "group": "g", '
                          '"group_name": "群", "user": "u", "user_name": "小明", "text": "群规"}\n', encoding="utf-8")
    db = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    qunbot = [sys.executable, "-m", "bot.cli"]
    run = subprocess.run([*qunbot, "replay", "--config", str(ROOT / "config.yaml"), str(transcript), "--db", db],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert run.returncode == 0, run.stderr
    why = subprocess.run([*qunbot, "why", "w1", "--config", str(ROOT / "config.yaml"), "--db", db],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert why.returncode == 0, why.stderr
    assert "keywords/群规 → send g" in why.stdout and "welcome/rename-reminder" in why.stdout


CROSS = BASIC_CONFIG + """groups:
  g2:
    admins: [boss2]
"""


async def test_an_admin_of_one_group_cannot_read_or_label_another_groups_events(
        db_url: str, clock: DrivenClock, make_event: EventFactory) -> None:
    platform = FakePlatform()
    rt = await start_runtime(ConfigHolder(Config.from_text(CROSS)), db_url, clock, platform, FEATURES)
    try:
        secret = make_event(text="群规", group="g1")
        await feed(rt, clock, secret)
        await feed(rt, clock, make_event(text=f"/why {secret.id}", group="g2", user="boss2"),
                   make_event(text=f"/ad {secret.id}", group="g2", user="boss2"))
        answers = [a for a in platform.sent if a.group == "g2"]
        assert len(answers) == 2 and all("不是本群的消息" in (a.text or "") for a in answers)
        assert all("不发广告" not in (a.text or "") for a in answers)  # nothing of g1 leaks into g2
        # an admin of both groups may
        await feed(rt, clock, make_event(text=f"/why {secret.id}", group="g2", user="admin1"))
        assert f"事件 {secret.id}" in platform.sent[-1].text
    finally:
        await rt.close()


async def test_why_without_an_id_explains_the_last_action_and_shows_the_id_to_label(
        runtime, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory) -> None:
    event = make_event(text="群规")
    await feed(runtime, clock, event)
    await feed(runtime, clock, make_event(text="/why", user="admin1"))
    answer = platform.sent[-1].text or ""
    assert f"事件 {event.id}" in answer and f"/ad {event.id}" in answer
