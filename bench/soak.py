"""Soak: one simulated day of 1,000 groups through the live bot, memory sampled every 10 minutes.

    .venv/bin/python bench/soak.py [--groups 1000] [--events 120000] [--seed S] [--config FILE]
        [--sample-minutes 10] [--warmup-hours 2] [--drive live|replay] [--png docs/soak-rss.png]
        [--tracemalloc] [--day 2026-03-03] [--until HOURS] [--no-png] [--pace EVENTS_PER_S [--pace-from HOUR]]

The day (seeded, generated lazily so the bench's own memory stays out of the figures): `--groups`
groups of 20-60 members each (a few camp groups "运营深度精选-N期" that config.yaml gives tags and a
stricter name format; a sixth of the members with a display name that does not fit), busy or quiet
(lognormal weights), over one local day 00:00-24:00 of `--day` (a Tuesday: the Monday trend chart is
left out) with a daily rhythm (quiet nights, a morning peak of check-ins, a lunch and an evening
peak): `--events` base events — 80% chat, 12% check-ins, 3% joins (now and then a burst of ten), 3%
red packets, 2% ads (from newcomers half the time; some posters pay the red packet, some paste the ad
into other groups) — plus the follow-ups of the chat's community-tool sessions (投票 and votes, 扣1
and answers, 接龙 copies, 抽奖, shop visits with an admin's 加分). Chat includes member commands
(我的积分, 签到榜 …), keyword questions, topic-hour words, @-mentions and allowed links.

How it is driven: config.yaml's defaults with two admins and one operator in `defaults` (so the
tools' admin commands are obeyed and the purge lists, the daily stats reports and the alerts go out:
with the shipped `bot.report_digest_from` the operator of 1,000 groups gets one purge digest and one
stats digest, without charts; `--config` with `report_digest_from: 0` measures the 1,000 per-group
reports and their charts instead), a SQLite file in a temporary folder, the real Bot, FEATURES and Outbox from
bot/app.py start_runtime on a DrivenClock, a platform that can do everything (merges texts, as
Wechaty) and forgets what it is sent. `--drive live` (default): events go through `Bot.dispatch`
(one worker and queue per group, as `qunbot run`) with the live committer task (`run_committer`);
each event is awaited before the clock moves on, so handlers see its instant. `--drive replay`:
`Bot.process` as `qunbot replay`. Scheduled jobs and timers fire as replay fires them (DueJobs: before
an event, every job due at or before it, the clock at its due instant). After the last event the
jobs due before midnight run, the queues drain and the outbox sends what is left.

Every `--sample-minutes` of simulated time it samples VmRSS/RssAnon/RssFile (/proc/self/status),
the sizes of the bot's in-memory structures (found through their attributes: the core's queues,
workers and pending lists, the outbox's lanes and what they hold, each feature's `ctx.memory` map,
the store's journal and every repository's caches, the config's caches, lru caches in the bot's
modules, pending timers, asyncio tasks) and the events/s of the interval (wall clock). Before and
after each event and job it notes when matplotlib, numpy, PIL, the chart module and the ad model are
first loaded, and what loading them cost. After the day: peak RSS (VmHWM) against 150 MB; RSS growth
per simulated hour after the warm-up (`--warmup-hours`) against 5 MB, as a least-squares slope over
the samples and net of the one-time loads; the structures that grew most and their deep sizes; the
import cost of each layer; with `--tracemalloc`, the top allocations (tracing from before the bot is
imported: slower, and the RSS figures then include tracemalloc's own books). It draws the RSS curve
(with the event rate and the moments things were loaded) to `--png` with matplotlib, prints the
figures one per line with their targets, then one line of JSON. Progress goes to stderr. Also: glibc's
heap at the end (taken from the system, in use, free but held) and what malloc_trim(0) gives back, and
the peak RSS of the stats job's chart processes (it draws in a child process: handlers/stats/draw.py).

Members' commands: each one's handling time (live: commits in the background), per first word and all together,
and each commit's time (as /metrics takes it: a reading command that arrives meanwhile waits for it). Events come
back to back (the bot saturated); with `--pace R`, from the simulated hour `--pace-from` on they arrive at R a
second (Poisson arrivals, the bot idle between them) and the commands' times, taken from their arrival, are
reported apart.

The database starts empty (a bot's first day): the caches keyed by member fill as members first
speak, so part of the day's growth is warm-up a second day would not repeat. The default size takes
about 4 minutes on 2 cores (8 with the per-group charts: the 22:00 stats job alone, 1,000 charts,
2-3 of them); the bench's own
books (the samples, the generator's member list) stay under 2 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import dataclasses
import functools
import gc
import heapq
import importlib
import itertools
import json
import logging
import random
import sys
import tempfile
import time
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CST = timezone(timedelta(hours=8))  # config.yaml's bot.timezone (Asia/Shanghai, no DST)
PEAK_TARGET_MB = 150.0
GROWTH_TARGET_MB_PER_HOUR = 5.0
COMMAND_P99_TARGET_MS = 5.0  # issue 16: members' commands answer with p99 < 5 ms
ADMINS = ("wxid_soak_admin1", "wxid_soak_admin2")
OPERATOR = "wxid_soak_operator"
STAFF_NAMES = {ADMINS[0]: "周周-社群-运营-杭州", ADMINS[1]: "小林-社群-运营-上海", OPERATOR: "阿运-社群-运营-北京"}

# the day's rhythm: base events per local hour (relative) and the check-ins' own (a morning peak)
HOURLY = (0.5, 0.25, 0.12, 0.08, 0.08, 0.3, 1.2, 3.0, 4.4, 4.6, 4.2, 3.8, 4.8, 3.9, 3.3, 3.2, 3.3, 3.4, 3.8,
          4.6, 5.6, 6.2, 5.1, 2.4)
CHECKIN_HOURLY = (0.05, 0.02, 0.0, 0.0, 0.0, 0.6, 3.0, 8.0, 9.0, 6.0, 3.2, 1.6, 1.2, 0.8, 0.6, 0.5, 0.5, 0.5,
                  0.6, 0.7, 0.9, 1.1, 0.9, 0.4)
MIX = (("chat", 0.80), ("checkin", 0.12), ("join", 0.03), ("red_packet", 0.03), ("ad", 0.02))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩凯健俊帆"
COMPANIES = ("字节", "腾讯", "阿里", "美团", "京东", "小米", "网易", "滴滴", "快手", "拼多多", "自由职业", "某咨询")
ROLES = ("运营", "产品", "市场", "销售", "设计", "研发", "HR", "新媒体", "社群", "增长")
CITIES = ("北京", "上海", "深圳", "杭州", "成都", "广州", "武汉", "南京", "西安", "苏州")
UNFIT = ("小王", "Amy", "快乐每一天", "🌸", "阿强", "Leo", "向日葵", "一只猫")
CHAT = ("大家早上好", "今天的分享太有收获了", "有人一起去听周六的线下活动吗", "哈哈哈哈", "收到，谢谢老师",
        "这个问题我也遇到过，后来是重启解决的", "周末愉快", "晚安各位", "我觉得第二个方案更好一些", "👍👍",
        "请问上次直播的回放在哪里看", "同意楼上", "这个数据是从哪里拉的", "我们公司也在做私域，转化一直上不去",
        "今天的作业我交了", "有没有做社群裂变的朋友交流一下", "明天几点开始", "好的好的", "太真实了😂",
        "老师讲得很清楚", "有推荐的工具吗", "我来晚了，刚下班", "周报写完了吗", "这个活动报名截止到什么时候",
        "复盘的时候发现留存掉得厉害", "刚看到，稍等我看一下", "已经处理了", "中午吃什么", "辛苦了",
        "我们用的是企业微信", "有道理", "学到了", "先mark一下", "这个思路可以", "期待下周的课")
COMMANDS = ("我的积分", "签到榜", "积分榜", "我的等级", "红包榜", "连续签到榜", "签到率", "本周积分榜", "积分明细")
QUESTIONS = ("群规是什么？", "怎么报名", "请问资料在哪", "怎么签到", "报名链接发一下", "看群规")
TOPIC = ("中午约饭吗", "周末约球有人吗", "听说了一个八卦", "下班约饭", "约球约球")
LINKS = ("https://docs.qq.com/doc/DSoak", "https://mp.weixin.qq.com/s/soak-article", "https://feishu.cn/docx/soak")
ADS = ("兼职刷单日结{n}元，加V：{c}", "低息贷款秒批，额度{n}起，联系微信 {c}", "代理招募，躺赚佣金，私聊我 qq {q}",
       "炒币带单，日赚{n}，加V {c} 免费进群", "涨粉引流，{n}元一千粉，vx：{c}", "返利购物群，每单返{n}%，加我 {c}")
CHECKIN_WORDS = ("签到",) * 8 + ("打卡", "早安打卡", "签到！")
JIELONG_TITLES = ("周六羽毛球", "周日读书会", "线下沙龙报名", "团购水果", "拼车去机场", "月度聚餐")
POLLS = (("班长竞选", ("张三", "李四", "王五", "赵六")), ("下次活动时间", ("周六上午", "周六下午", "周日上午")),
         ("团建地点", ("西湖", "千岛湖", "莫干山", "良渚")), ("分享主题", ("增长", "留存", "转化")))
SHOP_ITEMS = ("群主签名电子书",) * 6 + ("社群定制帆布袋", "电影票")
# per chat event: the share that is a member command, a keyword question, a topic word, a link, a tool session
CHAT_KINDS = (("command", 0.025), ("question", 0.01), ("topic", 0.005), ("link", 0.005), ("session", 0.0025))
SESSIONS = (("poll", 2), ("roll_call", 2), ("jielong", 2), ("lottery", 1), ("shop", 3))


# -- memory readings ---------------------------------------------------------------------------------

def proc_status() -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon, RssFile, RssShmem (MB) from /proc/self/status."""
    out: dict[str, float] = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                out[key] = int(value.split()[0]) / 1024
    return out


_PAGE_MB = 4096 / (1024 * 1024)


def malloc_info() -> dict[str, float] | None:
    """glibc's heap (MB): `arena` taken from the system, `in_use` by live blocks, `free` held for reuse."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
    except (OSError, AttributeError):
        return None
    m = libc.mallinfo2()
    return {"arena": m.arena / 1e6, "in_use": m.uordblks / 1e6, "free": m.fordblks / 1e6, "mmapped": m.hblkhd / 1e6}


def malloc_trim() -> bool:
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]


def rss_now() -> float:
    """Resident MB, cheaply (/proc/self/statm: one line)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * _PAGE_MB


# -- the simulated day -------------------------------------------------------------------------------

def member_name(g: int, m: int, camp: bool) -> str:
    """A member's display name, the same every time it is asked (a sixth do not fit the name format)."""
    h = (g * 7919 + m * 104729 + 12345) * 2654435761 % 4294967291
    name = SURNAMES[h % len(SURNAMES)] + GIVEN[h // 7 % len(GIVEN)] + (GIVEN[h // 11 % len(GIVEN)] if h % 3 else "")
    if h // 13 % 6 == 0:
        return UNFIT[h // 17 % len(UNFIT)]
    city, role = CITIES[h // 19 % len(CITIES)], ROLES[h // 23 % len(ROLES)]
    return f"{name}-{city}-{role}" if camp else f"{name}-{COMPANIES[h // 29 % len(COMPANIES)]}-{role}-{city}"


@dataclass
class Group:
    id: str
    name: str
    camp: bool
    size: int
    newcomers: deque[int] = field(default_factory=lambda: deque(maxlen=8))
    sessions: set[str] = field(default_factory=set)  # tools opened today (one of each a day)


class Day:
    """The day's events in time order, made lazily: a base stream with the day's rhythm, merged with
    follow-ups (tool sessions' answers, red packets after an ad, cross-posts, join bursts) from a heap."""

    def __init__(self, groups: int, events: int, seed: int, day: date) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        self.start = datetime.combine(day, datetime.min.time(), tzinfo=CST)
        self.groups: list[Group] = []
        for g in range(groups):
            camp = g % 25 == 3
            name = f"运营深度精选-{g}期" if camp else f"{ROLES[g % len(ROLES)]}交流{g}群"
            self.groups.append(Group(f"{30000000 + g}@chatroom", name, camp, rng.randint(20, 60)))
        weights = [rng.lognormvariate(0, 0.8) for _ in range(groups)]
        self.cum = list(itertools.accumulate(weights))
        self.n = events
        self.heap: list[tuple[datetime, int, dict[str, Any]]] = []
        self.seq = itertools.count()
        self.ids = itertools.count()
        self.counts: Counter[str] = Counter()

    # who and where
    def group(self) -> Group:
        return self.rng.choices(self.groups, cum_weights=self.cum)[0]

    def speaker(self, grp: Group) -> int:
        return int(grp.size * self.rng.random() ** 1.6)  # a few members talk most

    def base(self, grp: Group, m: int, ts: datetime, kind: str = "text") -> dict[str, Any]:
        return {"id": f"s{next(self.ids)}", "ts": ts, "type": kind, "group": grp.id, "group_name": grp.name,
                "user": f"wxid_{grp.id[:8]}_{m:03d}", "user_name": member_name(int(grp.id[:8]), m, grp.camp)}

    def staff(self, grp: Group, ts: datetime, text: str, user: str | None = None,
              mentions: list[str] | None = None) -> dict[str, Any]:
        user = user or self.rng.choice(ADMINS)
        obj = {"id": f"s{next(self.ids)}", "ts": ts, "type": "text", "group": grp.id, "group_name": grp.name,
               "user": user, "user_name": STAFF_NAMES[user], "text": text}
        if mentions:
            obj["mentions"] = mentions
        return obj

    def later(self, ts: datetime, obj: dict[str, Any], label: str) -> None:
        if ts.date() != self.start.date():  # the day ends at midnight
            return
        obj["ts"] = ts
        obj["_label"] = label
        heapq.heappush(self.heap, (ts, next(self.seq), obj))

    # the base stream
    def _slots(self) -> Iterator[tuple[datetime, str]]:
        rng = self.rng
        other = sum(w for k, w in MIX if k != "checkin")
        kinds = [k for k, _w in MIX if k != "checkin"]
        cum = list(itertools.accumulate(w for k, w in MIX if k != "checkin"))
        share = dict(MIX)["checkin"]
        total_h, total_c = sum(HOURLY), sum(CHECKIN_HOURLY)
        for hour in range(24):
            n_other = round(self.n * other * HOURLY[hour] / total_h)
            n_checkin = round(self.n * share * CHECKIN_HOURLY[hour] / total_c)
            slots = [(rng.random() * 3600, k) for k in rng.choices(kinds, cum_weights=cum, k=n_other)]
            slots += [(rng.random() * 3600, "checkin") for _ in range(n_checkin)]
            slots.sort()
            base = self.start + timedelta(hours=hour)
            for offset, kind in slots:
                yield base + timedelta(seconds=offset), kind
            del slots

    def events(self) -> Iterator[tuple[dict[str, Any], str]]:
        """(event as a dict, label) in time order."""
        for ts, kind in self._slots():
            while self.heap and self.heap[0][0] <= ts:
                _t, _s, obj = heapq.heappop(self.heap)
                label = obj.pop("_label")
                self.counts[label] += 1
                yield obj, label
            obj, label = self.make(ts, kind)
            self.counts[label] += 1
            yield obj, label
        while self.heap:
            _t, _s, obj = heapq.heappop(self.heap)
            label = obj.pop("_label")
            self.counts[label] += 1
            yield obj, label

    def make(self, ts: datetime, kind: str) -> tuple[dict[str, Any], str]:
        rng = self.rng
        grp = self.group()
        if kind == "checkin":
            obj = self.base(grp, rng.randrange(grp.size), ts)
            obj["text"] = rng.choice(CHECKIN_WORDS)
            return obj, "checkin"
        if kind == "join":
            return self.join(grp, ts), "join"
        if kind == "red_packet":
            return self.base(grp, self.speaker(grp), ts, "red_packet"), "red_packet"
        if kind == "ad":
            return self.ad(grp, ts), "ad"
        return self.chat(grp, ts)

    def join(self, grp: Group, ts: datetime) -> dict[str, Any]:
        m = grp.size
        grp.size += 1
        grp.newcomers.append(m)
        obj = self.base(grp, m, ts, "join")
        if self.rng.random() < 0.005:  # now and then a burst: ten more within three minutes (a join raid)
            for k in range(10):
                n = grp.size
                grp.size += 1
                self.later(ts + timedelta(seconds=18 * (k + 1)), self.base(grp, n, ts, "join"), "join burst")
        return obj

    def ad(self, grp: Group, ts: datetime) -> dict[str, Any]:
        rng = self.rng
        m = rng.choice(grp.newcomers) if grp.newcomers and rng.random() < 0.5 else self.speaker(grp)
        text = rng.choice(ADS).format(n=rng.randint(50, 999), c=f"{rng.choice('abcdxyz')}{rng.randint(10000, 99999)}",
                                      q=rng.randint(10_000_000, 99_999_999))
        obj = self.base(grp, m, ts)
        obj["text"] = text
        if rng.random() < 0.3:  # pays the red packet the bot asks for
            paid = self.base(grp, m, ts, "red_packet")
            self.later(ts + timedelta(seconds=rng.uniform(30, 540)), paid, "ad red packet")
        if rng.random() < 0.1:  # pastes it into two or three other groups
            for k in range(rng.randint(2, 3)):
                other = self.group()
                copy = self.base(other, m, ts)
                copy.update(user=obj["user"], user_name=obj["user_name"], text=text)
                self.later(ts + timedelta(seconds=rng.uniform(20, 300) * (k + 1)), copy, "ad cross-post")
        return obj

    def chat(self, grp: Group, ts: datetime) -> tuple[dict[str, Any], str]:
        rng = self.rng
        m = self.speaker(grp)
        obj = self.base(grp, m, ts)
        roll = rng.random()
        kind = "chat"
        for name, share in CHAT_KINDS:
            roll -= share
            if roll < 0:
                kind = name
                break
        if kind == "command":
            obj["text"] = rng.choice(COMMANDS)
        elif kind == "question":
            obj["text"] = rng.choice(QUESTIONS)
        elif kind == "topic":
            obj["text"] = rng.choice(TOPIC)
        elif kind == "link":
            obj.update(type="link", url=rng.choice(LINKS), title=rng.choice(("本周分享", "活动报名", "课程资料")))
        elif kind == "session" and self.session(grp, ts):
            obj["text"] = rng.choice(CHAT)
            kind = "chat"
        else:
            kind = "chat"
            text = "，".join(rng.choice(CHAT) for _ in range(1 + int(rng.random() ** 3 * 3)))
            obj["text"] = text
            if rng.random() < 0.03:
                other = rng.randrange(grp.size)
                obj["mentions"] = [f"wxid_{grp.id[:8]}_{other:03d}"]
                obj["text"] = f"@{member_name(int(grp.id[:8]), other, grp.camp)} {text}"
        return obj, kind

    def session(self, grp: Group, ts: datetime) -> bool:
        """An admin opens a community tool in the group (once per kind a day); its answers follow."""
        rng = self.rng
        kind = rng.choices([k for k, _w in SESSIONS], weights=[w for _k, w in SESSIONS])[0]
        if kind in grp.sessions or not 8 <= ts.hour < 21:
            return False
        grp.sessions.add(kind)
        gid = int(grp.id[:8])
        admin = rng.choice(ADMINS)
        t = ts

        def step(mean: float) -> datetime:
            nonlocal t
            t += timedelta(seconds=5 + rng.expovariate(1 / mean))
            return t

        members = rng.sample(range(grp.size), min(grp.size, rng.randint(6, 20)))
        if kind == "poll":
            title, options = rng.choice(POLLS)
            deadline = ts + timedelta(hours=rng.uniform(1, 2.5))
            deadline = min(deadline, ts.replace(hour=23, minute=30))
            self.later(step(5), self.staff(grp, t, f"投票 {title} {' '.join(options)} 截止{deadline:%H:%M}", admin),
                       "tool")
            for m in members:
                c = rng.randrange(len(options))
                vote = self.base(grp, m, t)
                vote["text"] = f"投{c + 1}" if rng.random() < 0.7 else f"投 {options[c]}"
                self.later(step(90), vote, "tool")
            if rng.random() < 0.3:
                self.later(step(600), self.staff(grp, t, "结束投票", admin), "tool")
        elif kind == "roll_call":
            self.later(step(5), self.staff(grp, t, "今晚 8 点开会，收到请扣1", admin), "tool")
            for m in members:
                answer = self.base(grp, m, t)
                answer["text"] = rng.choice(("1", "1", "1", "+1", "１"))
                self.later(step(60), answer, "tool")
            self.later(step(900), self.staff(grp, t, "扣1统计", admin), "tool")
        elif kind == "jielong":
            head = f"#接龙\n{rng.choice(JIELONG_TITLES)}\n例 张三 2人\n"
            lines: list[str] = []
            for m in members:
                line = member_name(gid, m, grp.camp).split("-")[0] + rng.choice(("", "", " +1", " 2人"))
                if line in lines:
                    continue
                lines.append(line)
                copy = self.base(grp, m, t)
                copy["text"] = head + "\n".join(f"{n}. {x}" for n, x in enumerate(lines, 1))
                self.later(step(120), copy, "tool")
            self.later(step(600), self.staff(grp, t, "接龙统计", admin), "tool")
        elif kind == "lottery":
            self.later(step(5), self.staff(grp, t, rng.choice(("抽奖 3", "抽奖 1", "抽奖 2 14天")), admin), "tool")
        else:
            m = members[0]
            name = member_name(gid, m, grp.camp)
            uid = f"wxid_{grp.id[:8]}_{m:03d}"
            self.later(step(5), self.staff(grp, t, f"加分 @{name} 50 活动奖励", admin, [uid]), "tool")
            for text in ("积分商城", f"兑换 {rng.choice(SHOP_ITEMS)}", "我的兑换"):
                ask = self.base(grp, m, t)
                ask["text"] = text
                self.later(step(60), ask, "tool")
            self.later(step(900), self.staff(grp, t, f"确认兑换 @{name}", admin, [uid]), "tool")
        self.counts[f"session {kind}"] += 1
        return True


# -- what the bot holds in memory ---------------------------------------------------------------------

LRU = functools._lru_cache_wrapper
_OURS = ("bot.", "storage.", "handlers.", "rules.", "scheduler.")


def _size(value: Any) -> int | None:
    if isinstance(value, (dict, list, set, frozenset, deque, bytearray)):
        return len(value)
    if type(value).__name__ == "MemberMap":  # storage/member_map.py: its entries, not its groups
        return len(value)
    if isinstance(value, asyncio.Queue):
        return value.qsize()
    return None


def _fields(obj: Any) -> dict[str, Any]:
    out = dict(getattr(obj, "__dict__", {}) or {})
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if name not in out and hasattr(obj, name):
                out[name] = getattr(obj, name)
    return out


def _ours(value: Any) -> bool:
    return type(value).__module__.startswith(_OURS) and not isinstance(value, type)


class Structures:
    """Finds the bot's containers through attributes and reports their sizes (and, once, deep sizes)."""

    def __init__(self, runtime: Any, due: Any) -> None:
        self.runtime = runtime
        self.due = due
        self.refs: dict[str, Any] = {}

    def walk(self, prefix: str, obj: Any, depth: int, seen: set[int], out: dict[str, int]) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        for name, value in _fields(obj).items():
            n = _size(value)
            if n is not None:
                out[f"{prefix}.{name}"] = n
                self.refs[f"{prefix}.{name}"] = value
            elif depth > 0 and _ours(value):
                self.walk(f"{prefix}.{name}", value, depth - 1, seen, out)

    def sizes(self) -> dict[str, int]:
        rt = self.runtime
        bot, outbox, store = rt.bot, rt.outbox, rt.store
        out: dict[str, int] = {}
        seen: set[int] = {id(rt.holder), id(store), id(bot.features)}
        self.refs = {}
        self.walk("core", bot, 1, seen | {id(outbox)}, out)
        for feature, (_repo, memory) in bot.bindings.items():
            for key, value in memory.items():
                n = _size(value)
                if n is None:
                    continue
                out[f"memory.{feature}.{key}"] = n
                self.refs[f"memory.{feature}.{key}"] = value
                if isinstance(value, dict):
                    inner = sum(len(v) for v in value.values() if isinstance(v, (dict, list, set, deque)))
                    if inner:
                        out[f"memory.{feature}.{key}[*]"] = inner
        self.walk("outbox", outbox, 2, seen, out)
        lanes = outbox.lanes
        all_lanes = list(lanes._lanes.values())
        out["outbox.lanes.queued"] = lanes.queued
        out["outbox.lanes.max_queue"] = max((len(lane.queue) for lane in all_lanes), default=0)
        out["outbox.lanes._lanes[*].sent"] = sum(len(lane.sent) for lane in all_lanes)
        self.walk("store", store, 0, set(), out)
        for kind, repo in store._repositories.items():
            self.walk(f"repo.{kind.__name__}", repo, 1, seen, out)
        config = rt.holder.current
        self.walk("config", config, 0, set(), out)
        done: set[int] = set()
        for name, module in list(sys.modules.items()):
            if not name.startswith(_OURS) or module is None:
                continue
            for attr, value in list(vars(module).items()):
                if isinstance(value, LRU) and id(value) not in done:
                    done.add(id(value))
                    out[f"lru.{name}.{attr}"] = value.cache_info().currsize
        compiled = getattr(store.engine.sync_engine, "_compiled_cache", None)
        if compiled is not None:
            out["sqlalchemy.compiled_cache"] = len(compiled)
        out["scheduler.due_jobs"] = len(self.due._heap)
        out["asyncio.tasks"] = len(asyncio.all_tasks())
        return out


def deep_size(obj: Any, seen: set[int] | None = None, budget: list[int] | None = None) -> int:
    """Bytes held by `obj` and what it contains (containers, our objects; shared objects once)."""
    seen = set() if seen is None else seen
    budget = [2_000_000] if budget is None else budget
    stack = [obj]
    total = 0
    while stack:
        o = stack.pop()
        if id(o) in seen or budget[0] <= 0:
            continue
        seen.add(id(o))
        budget[0] -= 1
        total += sys.getsizeof(o, 64)
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple, set, frozenset, deque)):
            stack.extend(o)
        elif isinstance(o, asyncio.Queue):
            stack.extend(getattr(o, "_queue", ()))
        elif _ours(o) and (dataclasses.is_dataclass(o) or hasattr(type(o), "model_fields")
                           or "__slots__" in vars(type(o))):
            stack.extend(_fields(o).values())  # small records (queued items, actions, member maps), never a repository
    return total


# -- what was loaded when --------------------------------------------------------------------------------

WATCHED_MODULES = ("matplotlib", "numpy", "PIL", "handlers.stats.charts")


class Loads:
    """Notes the first moment a heavy part appears (module imported, model loaded) and the RSS jump."""

    def __init__(self) -> None:
        self.first: dict[str, dict[str, Any]] = {}
        self.checks: dict[str, Callable[[], bool]] = {m: (lambda m=m: m in sys.modules) for m in WATCHED_MODULES}
        from handlers.ads import model as ad_model

        self.checks["ad model"] = lambda: (ad_model.load_model.cache_info().currsize > 0
                                           or ad_model.load_default_model.cache_info().currsize > 0)
        for module, fn in (("handlers.ads.reversal", "load_bigrams"), ("handlers.ads.sounds", None)):
            mod = importlib.import_module(module)
            cached = [getattr(mod, fn)] if fn else [v for v in vars(mod).values() if isinstance(v, LRU)]
            label = {"handlers.ads.reversal": "ad bigram model", "handlers.ads.sounds": "ad sound tables"}[module]
            self.checks[label] = lambda cached=cached: any(c.cache_info().currsize > 0 for c in cached)
        self.pending = dict(self.checks)
        for name, check in list(self.pending.items()):
            if check():
                self.first[name] = {"when": "at import", "by": "import", "rss_before": None, "rss_after": None}
                del self.pending[name]

    def after(self, when: datetime, by: str, rss_before: float) -> None:
        if not self.pending:
            return
        found = [name for name, check in self.pending.items() if check()]
        if found:
            after = rss_now()
            for name in found:
                self.first[name] = {"when": when.astimezone(CST).strftime("%H:%M:%S"), "by": by,
                                    "rss_before": round(rss_before, 1), "rss_after": round(after, 1)}
                del self.pending[name]


# -- the platform -------------------------------------------------------------------------------------------

class Discard:
    """A platform that can do everything (merges texts, as Wechaty) and forgets what it is sent."""

    def __init__(self) -> None:
        from bot.platform import Capabilities

        self.capabilities = Capabilities(kick=True, recall=True, send_image=True, send_file=True, merge_texts=True)
        self.sent: Counter[str] = Counter()
        self.direct = 0

    async def events(self):  # pragma: no cover - the bench feeds the bot itself
        return
        yield

    async def send(self, action: Any) -> None:
        self.sent[action.action] += 1
        if action.group is None:
            self.direct += 1


class LogCount(logging.Handler):
    """Counts the bot's log records by logger and level; keeps the first few lines of each."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: Counter[str] = Counter()
        self.samples: dict[str, list[str]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        key = f"{record.name} {record.levelname}"
        self.counts[key] += 1
        kept = self.samples.setdefault(key, [])
        if len(kept) < 2 and record.levelno >= logging.WARNING:
            kept.append(record.getMessage()[:200])


def hwm_mb(pid: int) -> float:
    """A process's peak RSS (VmHWM, MB); 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            line = next((x for x in handle if x.startswith("VmHWM:")), "VmHWM: 0 kB")
    except OSError:
        return 0.0
    return int(line.split()[1]) / 1024


class ChartChildren:
    """The peak RSS of the stats job's chart processes (handlers/stats/draw.py), read from /proc before each
    ends. (getrusage's RUSAGE_CHILDREN would count the bot's own pages, which a child shares until exec.)"""

    def __init__(self) -> None:
        from handlers.stats import draw

        self.peak_mb = 0.0
        end = draw.ChartWorker._end

        async def ending(worker: Any) -> None:
            proc = worker._proc
            if proc is not None and proc.returncode is None:
                self.peak_mb = max(self.peak_mb, hwm_mb(proc.pid))
            await end(worker)

        draw.ChartWorker._end = ending  # type: ignore[method-assign]


# -- the run ------------------------------------------------------------------------------------------------

def import_bot(say: Callable[..., None]) -> tuple[SimpleNamespace, list[dict[str, Any]]]:
    """Import the bot layer by layer, noting the RSS each layer adds (fresh process: these are its costs)."""
    layers = (
        ("python + bench", ()),
        ("asyncio, pydantic, yaml", ("asyncio", "pydantic", "yaml")),
        ("sqlalchemy + aiosqlite", ("sqlalchemy", "sqlalchemy.ext.asyncio", "aiosqlite")),
        # alembic is not imported here: the bot loads it only for a database that is behind (storage/migrate.py)
        ("apscheduler, re2, ahocorasick, opencc", ("apscheduler.triggers.cron", "re2", "ahocorasick", "opencc")),
        ("rules, storage, bot core", ("rules.config", "rules.reload", "storage.store", "bot.core", "bot.app")),
        ("handlers (FEATURES)", ("handlers",)),
        ("scheduler, replay helpers", ("scheduler.jobs", "scheduler.driven", "bot.timers", "bot.adapters.replay")),
    )
    costs = []
    prev = rss_now()
    for label, modules in layers:
        for m in modules:
            try:
                importlib.import_module(m)
            except ImportError as exc:
                say(f"import {m}: {exc}")
        now = rss_now()
        costs.append({"layer": label, "mb": round(now - (prev if modules else 0), 1), "rss": round(now, 1)})
        prev = now
    from bot.app import start_runtime
    from bot.clock import DrivenClock
    from bot.events import parse_event
    from bot.timers import timer_job
    from handlers import FEATURES
    from rules.config import Config
    from rules.reload import ConfigHolder
    from scheduler.driven import DueJobs
    from scheduler.jobs import jobs_from_config

    ns = SimpleNamespace(start_runtime=start_runtime, DrivenClock=DrivenClock, parse_event=parse_event,
                         timer_job=timer_job, FEATURES=FEATURES, Config=Config, ConfigHolder=ConfigHolder,
                         DueJobs=DueJobs, jobs_from_config=jobs_from_config)
    return ns, costs


def config_text(path: Path) -> str:
    """config.yaml with ADMINS and OPERATOR in `defaults` (tools' admin commands obeyed, reports sent)."""
    text = path.read_text(encoding="utf-8")
    for key, ids in (("admins", ADMINS), ("operators", (OPERATOR,))):
        line = f"\n  {key}: []"
        if text.count(line) != 1:
            raise SystemExit(f"{path}: defaults.{key} is no longer `[]`; the soak sets it")
        text = text.replace(line, f"\n  {key}: [{', '.join(ids)}]")
    return text


@dataclass
class Sample:
    t_hours: float
    wall_s: float
    events: int
    rate: float  # events/s (wall) over the interval
    sim_events: int  # events in the interval (the simulated rhythm)
    mem: dict[str, float]
    sizes: dict[str, int]


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0 with fewer than two points)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0


async def soak(args: argparse.Namespace, ns: SimpleNamespace, say: Callable[..., None]) -> dict[str, Any]:
    tmp = tempfile.TemporaryDirectory(prefix="qunbot-soak-")
    folder = Path(tmp.name)
    config = ns.Config.from_text(config_text(Path(args.config)))
    config = config.with_bot(reports_dir=str(folder / "reports"), media_dir=str(folder / "media"))
    holder = ns.ConfigHolder(config)
    day = Day(args.groups, args.events, args.seed, date.fromisoformat(args.day))
    start = day.start
    end = start + timedelta(days=1) if args.until is None else start + timedelta(hours=args.until)
    clock = ns.DrivenClock(start)
    platform = Discard()
    t_open = time.perf_counter()
    runtime = await ns.start_runtime(holder, f"sqlite+aiosqlite:///{folder / 'soak.db'}", clock, platform, ns.FEATURES)
    startup_s = time.perf_counter() - t_open
    rss_started = rss_now()
    bot = runtime.bot
    # each commit's seconds and events, as /metrics times them (arrays: 10 bytes a commit, not a tuple's 80)
    commits = (array("d"), array("I"))
    told = bot.store.on_commit

    def committed(seconds: float, events: int, ok: bool) -> None:
        commits[0].append(seconds)
        commits[1].append(events)
        if told is not None:
            told(seconds, events, ok)

    bot.store.on_commit = committed
    due = ns.DueJobs(ns.jobs_from_config(config, bot.features), start)
    bot.timer_listeners.append(lambda timer: due.add(ns.timer_job(bot.features, timer), timer.due))
    loads = Loads()
    chart_children = ChartChildren()
    structures = Structures(runtime, due)
    stop = asyncio.Event()
    committer = asyncio.create_task(bot.run_committer(stop), name="committer") if args.drive == "live" else None

    jobs: dict[str, dict[str, Any]] = {}
    job_runs: list[tuple[float, str]] = []  # (hours, kind) of the daily jobs, for the chart

    async def jobs_until(until: datetime) -> None:
        for due_at, job in due.due_until(until):
            clock.set(due_at)
            await bot.commit()
            before = rss_now()
            t = time.perf_counter()
            ran = await bot.run_job(job, due_at)
            kind = f"timer {job.timer.feature}/{job.timer.name}" if job.timer is not None else job.id.split(":")[0]
            after = rss_now()
            j = jobs.setdefault(kind, {"runs": 0, "s": 0.0, "max_s": 0.0, "rss_up_mb": 0.0})
            if ran:
                took = time.perf_counter() - t
                j["runs"] += 1
                j["s"] += took
                j["max_s"] = max(j["max_s"], took)
                j["rss_up_mb"] = max(j["rss_up_mb"], after - before)
                if job.timer is None:
                    job_runs.append(((due_at - start).total_seconds() / 3600, kind))
            loads.after(due_at, f"job {kind}", before)

    samples: list[Sample] = []
    step = timedelta(minutes=args.sample_minutes)
    next_sample = start
    handled = 0
    last = {"wall": time.perf_counter(), "events": 0}
    t0 = time.perf_counter()
    peaks: dict[str, int] = {}

    def take_sample(at: datetime) -> None:
        now = time.perf_counter()
        sizes = structures.sizes()
        for k, v in sizes.items():
            peaks[k] = max(peaks.get(k, 0), v)
        mem = proc_status()
        interval = now - last["wall"]
        s = Sample((at - start).total_seconds() / 3600, now - t0, handled,
                   (handled - last["events"]) / interval if interval > 0 else 0.0, handled - last["events"], mem, sizes)
        samples.append(s)
        last.update(wall=now, events=handled)
        big = sorted(((k, v) for k, v in sizes.items() if not k.startswith(("lru.", "asyncio."))),
                     key=lambda kv: -kv[1])[:3]
        say(f"{at.astimezone(CST):%H:%M} RSS {mem['VmRSS']:6.1f} MB (anon {mem['RssAnon']:5.1f}, peak "
            f"{mem['VmHWM']:5.1f})  events {handled:>7,} ({s.rate:5.0f}/s)  queued {sizes['outbox.lanes.queued']:>4}"
            f"  biggest: " + ", ".join(f"{k} {v:,}" for k, v in big) + f"  [{now - t0:5.0f}s]")

    key_of = lambda e: e.group or f"user:{e.user}"  # noqa: E731  (Bot.dispatch's key)
    labels: Counter[str] = Counter()
    bot.latencies = []  # each event's handling time, live: the commands' and tools' are kept, by their first word
    answers: dict[str, list[float]] = {}
    paced: dict[str, list[float]] = {}  # the same, for the events offered at `--pace` a second
    pace_from = start + timedelta(hours=args.pace_from) if args.pace else end
    arrivals = random.Random(args.seed)
    due_at = 0.0  # wall instant (perf_counter) at which the next paced event arrives
    for obj, label in day.events():
        event = ns.parse_event(obj)
        if event.ts >= end:
            break
        pacing = event.ts >= pace_from
        if pacing:  # Poisson arrivals at `--pace` a second: the bot idles until the event comes
            due_at = (due_at or time.perf_counter()) + arrivals.expovariate(args.pace)
            wait = due_at - time.perf_counter()
            arrived = due_at  # behind: it came at due_at and waited
            if wait > 0:
                await asyncio.sleep(wait)
                arrived = time.perf_counter()  # the loop's wake-up lag is the bench's, not the bot's
        while event.ts >= next_sample:
            await jobs_until(next_sample)
            clock.set(next_sample)
            take_sample(next_sample)
            next_sample += step
        await jobs_until(event.ts)
        clock.set(event.ts)
        before = rss_now() if loads.pending else 0.0
        if committer is not None:
            bot.dispatch(event)
            queue = bot._queues.get(key_of(event))
            if queue is not None:
                await queue.join()
        else:
            await bot.process(event)
        if bot.latencies:
            took = bot.latencies.pop()
            bot.latencies.clear()
            if pacing:  # from its arrival: waiting behind a job or an earlier event counts too
                took = max(took, time.perf_counter() - arrived)
            if label in ("command", "tool", "question") and event.type == "text":
                words = (event.text or "").split()
                (paced if pacing else answers).setdefault(words[0][:8] if words else "", []).append(took)
        handled += 1
        labels[label] += 1
        if loads.pending:
            loads.after(event.ts, f"event {label} ({event.type})", before)
    await jobs_until(end - timedelta(microseconds=1))
    clock.set(end - timedelta(microseconds=1))
    while next_sample < end:  # samples after the last event (a quiet end of the day)
        await jobs_until(next_sample)
        clock.set(next_sample)
        take_sample(next_sample)
        next_sample += step
    backlog_before_drain = structures.sizes()["outbox.lanes.queued"]
    await bot.drain()
    if committer is not None:
        stop.set()
        await committer
    await bot.commit()
    await runtime.outbox.drain()  # driven: its clock runs on until every queue is empty
    await bot.commit()
    clock.set(end)
    take_sample(end)
    wall = time.perf_counter() - t0
    hwm = proc_status()["VmHWM"]

    # where the memory goes: deep sizes of the biggest structures, at the end of the day
    final = samples[-1].sizes
    refs = dict(structures.refs)
    deep: dict[str, float] = {}
    for name, _n in sorted(final.items(), key=lambda kv: -kv[1])[:25]:
        if name in refs:
            deep[name] = deep_size(refs[name]) / 1e6
    from handlers.ads import model as ad_model

    model = ad_model.load_default_model() if ad_model.load_default_model.cache_info().currsize else None
    if model is not None:
        deep["ad model (weights)"] = (model.nbytes if hasattr(model, "nbytes") else deep_size(model.weights)) / 1e6
    gc.collect()
    status = proc_status()
    heap = malloc_info()
    trimmed = proc_status()["VmRSS"] if malloc_trim() else None
    children = chart_children.peak_mb
    outbox = runtime.outbox
    result = {
        "wall_s": wall, "startup_s": startup_s, "rss_started": rss_started, "hwm": hwm, "status_end": status,
        "heap": heap, "rss_after_trim": trimmed, "child_peak": children,
        "samples": samples, "loads": loads.first, "jobs": jobs, "job_runs": job_runs, "labels": dict(labels),
        "generated": dict(day.counts), "handled": handled, "deep": deep, "peaks": peaks,
        "sent": dict(platform.sent), "direct": platform.direct, "delivered": outbox.delivered,
        "dropped": outbox.dropped, "failed": outbox.failed, "backlog_before_drain": backlog_before_drain,
        "end": end, "answers": answers, "paced": paced, "commits": commits,
    }
    await runtime.close()
    tmp.cleanup()
    return result


# -- the figures ------------------------------------------------------------------------------------------------

def analyse(r: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    samples: list[Sample] = r["samples"]
    warm = [s for s in samples if s.t_hours >= args.warmup_hours]
    xs, ys = [s.t_hours for s in warm], [s.mem["VmRSS"] for s in warm]
    fit = slope(xs, ys)
    anon_fit = slope(xs, [s.mem["RssAnon"] for s in warm])
    # one-time loads after the warm-up (matplotlib for the first chart …): their jumps are not growth
    one_time = 0.0
    for name, info in r["loads"].items():
        if info["rss_before"] is None or name in ("numpy", "PIL", "handlers.stats.charts"):
            continue  # at import; numpy/PIL/charts come in with matplotlib's jump (same moment)
        h, m, _s = (int(x) for x in info["when"].split(":"))
        if h + m / 60 >= args.warmup_hours:
            one_time += max(0.0, info["rss_after"] - info["rss_before"])
    hours = (warm[-1].t_hours - warm[0].t_hours) if len(warm) > 1 else 0.0
    net = ((warm[-1].mem["VmRSS"] - warm[0].mem["VmRSS"] - one_time) / hours) if hours else 0.0
    first_chart = r["loads"].get("matplotlib", {}).get("when")
    if first_chart is None:  # drawn in a child process (handlers/stats/draw.py): the stats job's time
        stats_at = min((x for x, kind in r["job_runs"] if kind == "stats"), default=None)
        if stats_at is not None:
            first_chart = f"{int(stats_at):02d}:{int(stats_at * 60) % 60:02d}:00"
    before_chart = warm
    if first_chart and first_chart != "at import":
        h, m, _s = (int(x) for x in first_chart.split(":"))
        before_chart = [s for s in warm if s.t_hours < h + m / 60]
    steady = slope([s.t_hours for s in before_chart], [s.mem["VmRSS"] for s in before_chart])
    # structures: growth after the warm-up (per simulated hour) and the end value
    first, end_sizes = warm[0].sizes if warm else {}, samples[-1].sizes
    before_drain = samples[-2].sizes if len(samples) > 1 else end_sizes
    growth = {}
    for name, v in before_drain.items():
        series = [(s.t_hours, s.sizes.get(name, 0)) for s in warm[:-1]]
        per_hour = slope([x for x, _ in series], [y for _, y in series]) if len(series) > 1 else 0.0
        growth[name] = {"start": first.get(name, 0), "end_of_day": v, "after_drain": end_sizes.get(name, 0),
                        "peak": r["peaks"].get(name, 0), "per_hour": per_hour}
    return {"slope": fit, "anon_slope": anon_fit, "net": net, "one_time": one_time, "steady": steady,
            "growth": growth, "first_chart": first_chart}


def draw(r: dict[str, Any], a: dict[str, Any], path: Path, args: argparse.Namespace) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    samples: list[Sample] = r["samples"]
    fig = Figure(figsize=(10, 5.4), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    rate = fig.axes[0].twinx()
    hours = [s.t_hours for s in samples]
    width = args.sample_minutes / 60
    per_minute = [s.sim_events / args.sample_minutes for s in samples]
    rate.bar([h - width / 2 for h in hours], per_minute, width=width * 0.9, color="#c9d6e8", alpha=0.55,
             label="events per simulated minute", zorder=1)
    rate.set_ylabel("events per simulated minute", color="#5a6b85")
    rate.tick_params(axis="y", colors="#5a6b85")
    ax.set_zorder(rate.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.plot(hours, [s.mem["VmRSS"] for s in samples], color="#d9480f", lw=2.2, label="VmRSS")
    ax.plot(hours, [s.mem["RssAnon"] for s in samples], color="#1c7ed6", lw=1.4, ls="--", label="RssAnon (heap)")
    ax.plot(hours, [s.mem["VmHWM"] for s in samples], color="#868e96", lw=1.0, ls=":", label="VmHWM (peak so far)")
    ax.axhline(PEAK_TARGET_MB, color="#c92a2a", lw=1, ls="-.", label=f"target peak {PEAK_TARGET_MB:.0f} MB")
    ax.axvspan(0, args.warmup_hours, ymin=0, ymax=0.015, color="#adb5bd", zorder=0)
    ax.text(args.warmup_hours / 2, 0.025, "warm-up", transform=ax.get_xaxis_transform(), ha="center", fontsize=8,
            color="#868e96")
    top = max(max(s.mem["VmHWM"] for s in samples), PEAK_TARGET_MB) * 1.12
    ax.set_ylim(0, top)
    marks = {}
    for name, info in r["loads"].items():
        if info["rss_before"] is None or name not in ("matplotlib", "ad model"):
            continue
        h, m, s = (int(x) for x in info["when"].split(":"))
        marks[name] = h + m / 60 + s / 3600
    for name, x in marks.items():
        ax.axvline(x, color="#495057", lw=0.8, ls=":")
        ax.text(x, top * 0.55, f"{name} loaded ", rotation=90, va="top", ha="right", fontsize=8, color="#495057")
    seen = set()
    for x, kind in r["job_runs"]:
        if kind in ("stats", "purge", "announce", "retention") and (kind, int(x)) not in seen:
            seen.add((kind, int(x)))
            label = {"stats": "stats reports + charts", "purge": "purge lists", "announce": "announcements"}.get(
                kind, kind)
            ax.annotate(label, (x, 0), xytext=(x - 0.3, top * (0.06 + 0.05 * (len(seen) % 3))), fontsize=7,
                        color="#495057", ha="right", arrowprops={"arrowstyle": "-", "color": "#adb5bd", "lw": 0.6})
    ax.set_xlim(0, 24.2)
    ax.set_xticks(range(0, 25, 2))
    ax.set_xticklabels([f"{h:02d}:00" for h in range(0, 25, 2)], fontsize=8)
    ax.set_xlabel(f"simulated local time ({args.day}, Asia/Shanghai); the last point is after the outbox drained")
    ax.set_ylabel("MB")
    ax.grid(axis="y", color="#e9ecef")
    ax.set_title(f"qunbot soak: {args.groups:,} groups, {r['handled']:,} events in a simulated day — peak RSS "
                 f"{r['hwm']:.0f} MB, growth after warm-up {a['slope']:+.2f} MB/h", fontsize=10)
    lines, names = ax.get_legend_handles_labels()
    bars, bar_names = rate.get_legend_handles_labels()
    ax.legend(lines + bars, names + bar_names, loc="upper left", bbox_to_anchor=(0.09, 1.0), fontsize=8,
              framealpha=0.9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def report(r: dict[str, Any], a: dict[str, Any], imports: list[dict[str, Any]], tm: list[str],
           args: argparse.Namespace) -> dict[str, Any]:
    samples: list[Sample] = r["samples"]
    ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
    peak_ok = r["hwm"] < PEAK_TARGET_MB
    print(f"soak: {args.groups:,} groups, {r['handled']:,} events over one simulated day ({args.day}), drive "
          f"{args.drive}; {r['wall_s']:.0f} s wall, {r['handled'] / r['wall_s']:.0f} events/s overall")
    print(f"peak RSS (VmHWM)                       {r['hwm']:7.1f} MB   target < {PEAK_TARGET_MB:.0f} MB: "
          f"{ok(peak_ok)}")
    print(f"RSS after start-up (before any event)  {r['rss_started']:7.1f} MB")
    print(f"RSS at the end of the day              {samples[-1].mem['VmRSS']:7.1f} MB   (anon "
          f"{samples[-1].mem['RssAnon']:.1f}, file {samples[-1].mem['RssFile']:.1f})")
    print(f"RSS growth after warm-up (slope)       {a['slope']:+7.2f} MB/h  target < {GROWTH_TARGET_MB_PER_HOUR:.0f}: "
          f"{ok(a['slope'] < GROWTH_TARGET_MB_PER_HOUR)}  ({args.warmup_hours:g} h warm-up; RssAnon "
          f"{a['anon_slope']:+.2f} MB/h)")
    print(f"RSS growth net of one-time loads       {a['net']:+7.2f} MB/h  target < {GROWTH_TARGET_MB_PER_HOUR:.0f}: "
          f"{ok(a['net'] < GROWTH_TARGET_MB_PER_HOUR)}  (loads after warm-up: +{a['one_time']:.1f} MB)")
    print(f"RSS growth before the first chart      {a['steady']:+7.2f} MB/h  (steady handling, "
          f"{args.warmup_hours:g} h to {a['first_chart'] or 'end'})")
    if r["heap"] is not None:
        h = r["heap"]
        trim = (f"; malloc_trim(0) then gives back {r['status_end']['VmRSS'] - r['rss_after_trim']:.1f} MB "
                f"(RSS {r['rss_after_trim']:.1f} MB)" if r["rss_after_trim"] is not None else "")
        print(f"glibc heap at the end (after gc)       {h['arena']:7.1f} MB from the system: {h['in_use']:.1f} MB in "
              f"use, {h['free']:.1f} MB free but held{trim}; {h['mmapped']:.1f} MB in large mmaps")
    from handlers.stats.draw import CHARTS_PER_CHILD

    print(f"chart process (peak RSS)               {r['child_peak']:7.1f} MB   (the stats job's child, "
          f"{CHARTS_PER_CHILD} charts at most; not in the figures above)")
    rates = [s.rate for s in samples if s.sim_events > 100]
    print(f"events/s (wall) per sample             median {sorted(rates)[len(rates) // 2] if rates else 0:.0f}, "
          f"min {min(rates, default=0):.0f}, max {max(rates, default=0):.0f}")
    print("loaded when (first moment, simulated time; RSS before -> after):")
    for name, info in r["loads"].items():
        jump = "" if info["rss_before"] is None else (
            f"{info['rss_before']:.1f} -> {info['rss_after']:.1f} MB (+{info['rss_after'] - info['rss_before']:.1f})")
        print(f"  {name:<24} {info['when']:>9}  by {info['by']:<40} {jump}")
    for name in (*WATCHED_MODULES, "ad model"):
        if name not in r["loads"]:
            print(f"  {name:<24} never loaded")
    print("import cost by layer (RSS added, fresh process):")
    for c in imports:
        print(f"  {c['layer']:<40} {c['mb']:+6.1f} MB   -> {c['rss']:6.1f} MB")
    print("jobs (runs, total s, max s, largest RSS rise in one run):")
    for kind, j in sorted(r["jobs"].items(), key=lambda kv: -kv[1]["s"]):
        if j["runs"]:
            print(f"  {kind:<32} {j['runs']:>5} {j['s']:8.1f} s {j['max_s']:7.2f} s  +{j['rss_up_mb']:.1f} MB")
    print("structures (length: after warm-up -> end of day -> after the drain; peak; growth per simulated hour):")
    interesting = sorted(a["growth"].items(), key=lambda kv: -kv[1]["peak"])
    shown = [(n, g) for n, g in interesting if not n.startswith("asyncio.") and g["peak"] >= 50][:24]
    for name, g in shown:
        deep = f"  {r['deep'][name]:6.1f} MB deep" if name in r["deep"] else ""
        print(f"  {name:<46} {g['start']:>8,} -> {g['end_of_day']:>8,} -> {g['after_drain']:>8,}  peak {g['peak']:>8,}"
              f"  {g['per_hour']:+9.1f}/h{deep}")
    per_event = [n for n, g in interesting if g["end_of_day"] >= 0.5 * r["handled"] and not n.startswith("lru.")]
    print(f"structures with about one entry per event handled (grow with traffic, not with members): "
          f"{', '.join(per_event) or 'none'}")
    if "ad model (weights)" in r["deep"]:
        print(f"  {'ad model weights':<44} {r['deep']['ad model (weights)']:.1f} MB")
    queues = {k: a["growth"][k] for k in ("outbox.lanes.queued", "outbox.lanes.max_queue", "core._queues",
                                          "core._workers", "core._ready", "scheduler.due_jobs") if k in a["growth"]}
    unbounded = [k for k, g in queues.items() if g["after_drain"] > 0 and k.startswith(("outbox.lanes.queued",
                                                                                        "core._ready"))]
    print(f"queues: outbox peak {queues.get('outbox.lanes.queued', {}).get('peak', 0):,} queued (largest chat "
          f"{queues.get('outbox.lanes.max_queue', {}).get('peak', 0):,}), {r['backlog_before_drain']:,} at midnight, "
          f"0 after the drain: {ok(not unbounded)}; core: peak {queues.get('core._queues', {}).get('peak', 0):,} "
          f"group queues, {queues.get('core._workers', {}).get('peak', 0):,} workers")
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(r["sent"].items()))
    print(f"sent: {sum(r['sent'].values()):,} actions ({kinds}), {r['direct']:,} direct messages, "
          f"{r['dropped']:,} dropped by full queues")
    print("generated: " + ", ".join(f"{k} {v:,}" for k, v in sorted(r["generated"].items(), key=lambda kv: -kv[1])
                                    if v))
    until = " until the paced hours" if args.pace else ""
    answer_ms = answer_table(r["answers"], f"back to back, the bot saturated{until}")
    if r["commits"][0]:
        took, sizes = sorted(r["commits"][0]), sorted(r["commits"][1])
        print(f"commits: {len(took):,}, events per commit p50 {sizes[len(sizes) // 2]} max {sizes[-1]}; write and "
              f"commit p50 {1e3 * took[len(took) // 2]:.2f} ms, p99 {1e3 * took[int(0.99 * (len(took) - 1))]:.2f} ms, "
              f"max {1e3 * took[-1]:.1f} ms (a reading command arriving meanwhile waits for it)")
    start = f"{int(args.pace_from):02d}:{round(args.pace_from % 1 * 60):02d}"
    paced_ms = answer_table(r["paced"], f"paced: Poisson arrivals at {args.pace:g} events/s from {start}") \
        if args.pace else {}
    if tm:
        print("tracemalloc: top allocations at the end of the day (live blocks, by line):")
        for line in tm:
            print(f"  {line}")
    summary = {
        "groups": args.groups, "events": r["handled"], "day": args.day, "drive": args.drive, "wall_s": r["wall_s"],
        "events_per_s": r["handled"] / r["wall_s"], "peak_rss_mb": r["hwm"], "peak_ok": peak_ok,
        "rss_started_mb": r["rss_started"], "rss_end_mb": samples[-1].mem["VmRSS"],
        "growth_mb_per_hour": a["slope"], "growth_net_mb_per_hour": a["net"], "growth_steady_mb_per_hour": a["steady"],
        "growth_ok": a["net"] < GROWTH_TARGET_MB_PER_HOUR, "queues_ok": not unbounded, "loads": r["loads"],
        "heap_end_mb": r["heap"], "rss_after_malloc_trim_mb": r["rss_after_trim"], "child_peak_rss_mb": r["child_peak"],
        "imports": imports, "jobs": r["jobs"], "sent": r["sent"], "direct": r["direct"], "dropped": r["dropped"],
        "deep_mb": r["deep"], "generated": r["generated"], "answers_ms": answer_ms,
        "paced_answers_ms": paced_ms, "pace": args.pace,
        "structures_end": {k: g["end_of_day"] for k, g in interesting[:30]},
        "samples": [{"h": round(s.t_hours, 3), "rss": s.mem["VmRSS"], "anon": s.mem["RssAnon"],
                     "file": s.mem["RssFile"], "hwm": s.mem["VmHWM"], "events": s.events, "rate": round(s.rate)}
                    for s in samples],
    }
    return summary


def answer_table(answers: dict[str, list[float]], how: str) -> dict[str, Any]:
    """Print the commands' handling times (each word's, then all of them together) and return them."""
    answer_ms = {word: answer_figures(times) for word, times in answers.items() if len(times) >= 5}
    every = [t for times in answers.values() for t in times]
    slow = sorted(w for w, f in answer_ms.items() if f["p99_ms"] >= COMMAND_P99_TARGET_MS)
    print(f"members' commands and tools, live, {how} (handling time, commits in the background; p99 target < "
          f"{COMMAND_P99_TARGET_MS:g} ms): {len(slow)} of {len(answer_ms)} over it"
          + (f" ({', '.join(slow)})" if slow else ""))
    if every:
        f = answer_figures(every)
        answer_ms["(all)"] = f
        print(f"  (all)      {f['count']:>5}  p50 {f['p50_ms']:6.2f} ms  p99 {f['p99_ms']:6.2f} ms  "
              f"max {f['max_ms']:7.1f} ms")
    for word, f in sorted(answer_ms.items(), key=lambda kv: -kv[1]["count"]):
        if word != "(all)":
            print(f"  {word:<10} {f['count']:>5}  p50 {f['p50_ms']:6.2f} ms  p99 {f['p99_ms']:6.2f} ms  "
                  f"max {f['max_ms']:7.1f} ms")
    return answer_ms


def answer_figures(times: list[float]) -> dict[str, float]:
    """Count, p50, p99 and max (ms) of handling times in seconds (nearest rank)."""
    ordered = sorted(times)
    rank = lambda q: ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]  # noqa: E731
    return {"count": len(ordered), "p50_ms": rank(0.5) * 1e3, "p99_ms": rank(0.99) * 1e3, "max_ms": ordered[-1] * 1e3}


def rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--events", type=int, default=120_000, help="base events of the day (tool answers come on top)")
    parser.add_argument("--seed", type=int, default=20260303)
    parser.add_argument("--day", default="2026-03-03", help="the local day simulated (a Tuesday: no trend charts)")
    parser.add_argument("--config", default=str(ROOT / "config.yaml"))
    parser.add_argument("--sample-minutes", type=int, default=10)
    parser.add_argument("--warmup-hours", type=float, default=2.0)
    parser.add_argument("--drive", choices=("live", "replay"), default="live")
    parser.add_argument("--png", default=str(ROOT / "docs" / "soak-rss.png"))
    parser.add_argument("--no-png", action="store_true")
    parser.add_argument("--until", type=float, default=None, help="end the day after this many hours (a look)")
    parser.add_argument("--pace", type=float, default=0.0,
                        help="from --pace-from on, offer events at this many a second (Poisson arrivals; live drive) "
                             "and report the commands' times at that load apart")
    parser.add_argument("--pace-from", type=float, default=9.0, help="the simulated hour pacing starts (with --pace)")
    parser.add_argument("--tracemalloc", action="store_true", help="trace allocations from before the bot is imported")
    args = parser.parse_args(argv)

    def say(*parts: Any) -> None:
        print(*parts, file=sys.stderr, flush=True)

    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start(1)
    counter = LogCount()
    logging.getLogger().addHandler(counter)
    logging.getLogger().setLevel(logging.INFO)
    ns, imports = import_bot(say)
    say(f"imported the bot: RSS {rss_now():.1f} MB; simulating {args.groups:,} groups, {args.events:,} events")
    r = asyncio.run(soak(args, ns, say))
    tm: list[str] = []
    if args.tracemalloc:
        import tracemalloc

        snapshot = tracemalloc.take_snapshot().filter_traces((tracemalloc.Filter(False, tracemalloc.__file__),))
        stats = snapshot.statistics("lineno")
        total = sum(s.size for s in stats)
        tm.append(f"traced: {total / 1e6:.1f} MB live in {sum(s.count for s in stats):,} blocks")
        for s in stats[:20]:
            frame = s.traceback[0]
            where = frame.filename.replace(str(ROOT) + "/", "").replace(str(Path(sys.prefix)) + "/", "<venv>/")
            tm.append(f"{s.size / 1e6:7.2f} MB {s.count:>8,} blocks  {where}:{frame.lineno}")
        by_file = snapshot.statistics("filename")[:10]
        tm.append("by file: " + "; ".join(
            f"{s.traceback[0].filename.replace(str(ROOT) + '/', '').split('site-packages/')[-1]} {s.size / 1e6:.1f} MB"
            for s in by_file))
        tracemalloc.stop()
    a = analyse(r, args)
    summary = report(r, a, imports, tm, args)
    if counter.counts:
        print("log records: " + ", ".join(f"{k} {v:,}" for k, v in counter.counts.most_common(8)))
        for key, lines in counter.samples.items():
            for line in lines:
                print(f"  {key}: {line}")
    if not args.no_png:
        t = time.perf_counter()
        draw(r, a, Path(args.png), args)
        say(f"drew {args.png} in {time.perf_counter() - t:.1f}s")
        summary["png"] = str(Path(args.png).resolve().relative_to(ROOT)) if Path(args.png).resolve().is_relative_to(
            ROOT) else args.png
    print(json.dumps(rounded(summary), ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
