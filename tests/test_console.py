"""The console adapter: `qunbot run` with piped stdin chats as a member (群规, a join, a rename)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters.console import HELP, ConsolePlatform
from bot.clock import OffsetClock

CONFIG = """
bot: {name: 小管家, database: "sqlite+aiosqlite:///data/console.db"}
outbox: {min_interval_seconds: 0}
defaults:
  rules: 不发广告
  welcome:
    text: "欢迎 @{user_name}！{rules}"
    name_format: {example: 名字-城市, pattern: '[^-]+-[^-]+'}
    rename_thanks: "谢谢 @{user_name}"
    batch_seconds: 0   # the welcome at once (batched welcomes: tests/features/welcome)
  keywords:
    - {name: 群规, match: exact, patterns: [群规], reply: "{rules}", mention: true}
"""


def test_translating_console_lines_into_events() -> None:
    console = ConsolePlatform(OffsetClock(), group_name="示例群", user_name="小明")
    text = console.translate("群规\n")
    assert text.type == "text" and text.text == "群规" and text.group_name == "示例群" and text.user_name == "小明"
    assert console.translate(":as 小红") is None and console.user_name == "小红"
    join = console.translate(":join 阿强")
    assert join.type == "join" and join.user_name == "阿强"
    rename = console.translate(":rename 阿强-北京")
    assert rename.type == "rename" and rename.user_name == "阿强-北京" and rename.user == join.user
    assert console.translate(":redpacket").type == "red_packet"
    assert console.translate(":image pic.png").path == "pic.png"
    assert console.translate(":link https://x.cn 标题").url == "https://x.cn"
    before = console.clock.now()
    tick = console.translate(":tick 90")
    assert tick.type == "tick" and (console.clock.now() - before).total_seconds() >= 5400
    assert console.translate("/why e1").text == "/why e1"  # bot commands pass through
    assert text.id != join.id and datetime.fromisoformat(str(text.ts)).tzinfo is not None
    assert console.clock.now() > datetime.now(UTC)


def test_qunbot_run_console_with_piped_stdin(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    lines = "群规\n:join 阿强\n:rename 阿强-北京\n:quit\n"
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], input=lines, capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "@小明 不发广告" in out
    assert "欢迎 @阿强！不发广告" in out
    assert "谢谢 @阿强-北京" in out
    assert (tmp_path / "data" / "console.db").exists()


def test_console_commands_explain_themselves_and_the_clock_only_goes_forward() -> None:
    import io
    from zoneinfo import ZoneInfo

    out = io.StringIO()
    console = ConsolePlatform(OffsetClock(), stdout=out, tz=ZoneInfo("Asia/Shanghai"))
    assert console.translate(":as") is None and "用法：:as 名字" in out.getvalue()
    before = console.clock.now()
    assert console.translate(":tick -5") is None and console.clock.now() - before < timedelta(seconds=1)
    assert "只能往前" in out.getvalue()
    console.translate(":tick 60")
    shown = (before + timedelta(minutes=60)).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:")
    assert f"时钟拨到 {shown}" in out.getvalue()  # in the bot's time zone, not the machine's
    assert "console:名字" in HELP


def test_a_piped_tick_waits_for_the_lines_before_it(tmp_path: Path) -> None:
    # the check-in before the :tick is handled on its own day, so the next day's is a new one
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    lines = "签到\n:tick 1440\n签到\n:quit\n"
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], input=lines, capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    replies = [line for line in result.stdout.splitlines() if "🤖" in line and "签" in line]
    assert len(replies) == 2 and "已经签过" not in replies[1], result.stdout
