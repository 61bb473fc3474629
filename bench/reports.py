"""Report queries at scale: the purge list (清理名单), activity by hour, the CSV and the chart, on one
group of 100,000 members with a year of events, in a SQLite file.

    .venv/bin/python bench/reports.py [--events N] [--members N] [--runs N] [--db FILE] [--profile] [--quick]

1. the database: `Store.open()` creates the schema (the migrations, so members and points_balances
   are WITHOUT ROWID tables), then plain sqlite3 executemany fills it in the store's own formats (naive
   UTC 'YYYY-MM-DD HH:MM:SS.ffffff' text, JSON payloads as the bot writes them): one group, --members
   members (joined over the past year or known from the roster, ~8% left, ~70% of those present silent
   for over 14 days, a third never spoke), about --events events over 365 days (messages with a daily
   rhythm, heavy-tailed per member and capped at ~60 a day each, which leaves the total ~15% under
   --events; joins, leaves), members.last_active_at and message_count derived from those events,
   check-ins (and check-in day counters) for a quarter of the members who ever spoke, points balances
   for everyone who earned points. With --db FILE the database is kept and reused while its parameters
   match (a sidecar FILE.params.json); a reused file is first brought to the current schema.
2. each measure: the first call on a fresh store with the file's pages dropped from the OS cache
   ("cold", what the daily job meets), then the median of --runs calls ("warm"):
   - purge_list end to end (target < 0.5 s); its parts: store.inactive_members, store.silent_activity
     (the tiers) and the Python assembly as purge_list does it; store.member_activity over the tier
     window for every member (what the tiers cost before); a plain indexed sqlite3 query selecting the
     same list -> ratio;
   - store.hourly_activity over 7 days and hourly_series (7 local days), and a plain sqlite3 query;
   - store.group_sizes (the purge report's member count); member_activity of one member (我的等级);
   - write_csv of the list (time, size), the size of the purge report's actions (they carry every
     candidate's id) and render_hourly_chart (the stats chart, time).
3. where the time goes: each store call's statements, captured per call (through SQLAlchemy and at the
   driver level), re-run in plain sqlite3 (SQL cost vs driver/ORM cost), with EXPLAIN QUERY PLAN; with
   --profile a cProfile of purge_list.
4. unless --quick: what the report layout costs a write (events insert with the index before and after
   migration 0005, members upsert with and without rowid; in memory), and the index that was NOT
   adopted (see "The report layout" below) measured on a copy of the database against the product.

Figures come one per line, then one line of JSON. Targets are printed beside them, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import rounded  # noqa: E402
from bot.app import open_store  # noqa: E402
from handlers.levels.repository import LevelsRepository  # noqa: E402
from handlers.purge.listing import Candidate, purge_list, write_csv  # noqa: E402
from handlers.purge.repository import PurgeRepository  # noqa: E402
from handlers.stats.repository import StatsRepository  # noqa: E402
from handlers.stats.series import hourly_series, render_hourly_chart  # noqa: E402
from rules.config import Config  # noqa: E402
from storage.store import Store  # noqa: E402


def purge_of(store: Store) -> PurgeRepository:
    return store.repository(PurgeRepository)


def levels_of(store: Store) -> LevelsRepository:
    return store.repository(LevelsRepository)


def stats_of(store: Store) -> StatsRepository:
    return store.repository(StatsRepository)


GROUP = "23456789012@chatroom"
GROUP_NAME = "产品运营交流群"
BOT_ID = "qunbot"
NOW = datetime(2026, 3, 20, 13, 30, tzinfo=UTC)  # 21:30 in Shanghai: purge.time's default
YEAR_DAYS = 365
LOCAL_OFFSET_S = 8 * 3600  # Asia/Shanghai has no DST
DAY_US = 86_400 * 1_000_000
TARGET_PURGE_S = 0.5

# The day's rhythm in local hours (messages per hour, relative).
DIURNAL = np.array([3, 1.5, 0.8, 0.5, 0.4, 0.6, 2, 5, 9, 11, 10, 9.5, 8, 9, 10, 9.5, 9, 9, 10, 13, 16, 17, 13, 7],
                   dtype=float)
# Message types (activity) and their shares.
MESSAGE_KINDS = ("text", "image", "media", "link", "red_packet", "mini_program", "contact_card")
MESSAGE_SHARES = (0.80, 0.08, 0.06, 0.025, 0.02, 0.01, 0.005)
ACTIVITY_TYPES = ("contact_card", "image", "link", "media", "mini_program", "red_packet", "text")
KIND_JOIN, KIND_LEAVE = len(MESSAGE_KINDS), len(MESSAGE_KINDS) + 1
ALL_KINDS = (*MESSAGE_KINDS, "join", "leave")

FILLER = ("大家好", "今天的分享很有收获", "请问有人知道", "这个问题怎么解决", "哈哈哈", "收到", "谢谢老师",
          "明天几点开始", "有没有人一起", "周末见", "赞👍", "我也遇到过", "同问", "好的好的", "学习了",
          "这个思路不错", "晚上有直播吗", "链接打不开", "已经提交了", "求推荐一本书", "最近在做增长",
          "数据复盘怎么做", "用户留存太低了", "Let me check", "OK 没问题", "刚下班", "早上好", "辛苦了")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
COMPANIES = ("腾讯", "阿里", "字节", "美团", "京东", "小红书", "快手", "百度", "网易", "滴滴")
ROLES = ("产品", "运营", "设计", "开发", "市场", "销售", "数据", "HR")
CITIES = ("北京", "上海", "深圳", "杭州", "广州", "成都", "武汉", "南京")

# The plain reference queries (what an indexed query for the same answer costs in sqlite3 itself).
PLAIN_PURGE = """
SELECT m.user_id, m.display_name, coalesce(m.joined_at, m.first_seen_at) AS joined, m.last_active_at,
       m.message_count, coalesce(b.balance, 0)
FROM members AS m LEFT JOIN points_balances AS b ON b.group_id = m.group_id AND b.user_id = m.user_id
WHERE m.group_id = ? AND m.left_at IS NULL AND coalesce(m.last_active_at, coalesce(m.joined_at, m.first_seen_at)) < ?
  AND coalesce(m.joined_at, m.first_seen_at) <= ?
ORDER BY coalesce(m.last_active_at, joined), m.user_id
"""
PLAIN_HOURLY = """
SELECT strftime('%Y-%m-%d %H:', ts) || printf('%02d', CAST(strftime('%M', ts) AS INTEGER)
       - CAST(strftime('%M', ts) AS INTEGER) % 15) AS bucket, count(*) FROM events
WHERE group_id = ? AND ts >= ? AND ts < ? AND type IN ({types}) GROUP BY bucket
""".format(types=", ".join(f"'{t}'" for t in ACTIVITY_TYPES))

# The report layout, prototyped in this file (its former part 4, "the proposal") and adopted by commits
# fef6283 (the tiers' query) and 33ea546 (the rest; migration 0005). Before both, this file measured on
# the same database (2 cores, 7 warm runs): purge_list 2.30 s warm, 3.33 s cold; inactive_members
# 786 ms; the tiers (member_activity over 30 days, every member) 947 ms; the Python assembly 334 ms;
# write_csv 400 ms; hourly_activity 89 ms; group_sizes 136 ms. Adopted, and where this file shows it:
#   1. tiers counted only for the candidates last active in [now - tier_days, active_before) and only
#      in that window (Store.silent_activity): part 1, beside member_activity for every member;
#   2. the list read at the driver level (dialect.fetch_rows, times parsed by dialect.utc_time) into
#      InactiveMember tuples; Candidate a NamedTuple, built with the collector paused
#      (storage/gcpause.py); write_csv's times by isoformat (same bytes): part 1 (the list against the
#      same list in plain sqlite3; the Python assembly), part 3 (write_csv);
#   3. members and points_balances WITHOUT ROWID on SQLite (a group's members one contiguous key
#      range, the balance join in the same order): the plans in "where the time goes", group_sizes;
#      the upsert cost in part 4;
#   4. checkins (group_id, ts, user_id): silent_activity's check-in count reads only its window;
#   5. events (group_id, ts, type, user_id) in place of ix_events_group_ts, covering for the tiers,
#      hourly_activity and the day's numbers: the plans; the insert cost in part 4.
# Not adopted: an events index led by (group_id, user_id) for 我的等级's member_activity(group, since,
# user), which reads the group's events since `since` (in the covering index) to count one member's.
# As first proposed, (group_id, user_id, ts), SQLite's planner no longer uses it beside 5.'s covering
# index (it needs the rows for `type`); measured in part 4 in its covering form, on a copy of the
# database against the product, with what it would add to each insert.
MEMBER_EVENTS_DDL = "CREATE INDEX ix_events_group_user_ts_type ON events (group_id, user_id, ts, type)"


# -- formats -------------------------------------------------------------------------------------------

def epoch_us(t: datetime) -> int:
    return int(t.timestamp()) * 1_000_000 + t.microsecond


def utc_texts(us: np.ndarray) -> list[str]:
    """Epoch microseconds as the store writes timestamps: naive UTC 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    s = np.datetime_as_string(us.astype("datetime64[us]"), unit="us")  # 'YYYY-MM-DDTHH:MM:SS.ffffff'
    s.view(np.uint32).reshape(len(s), -1)[:, 10] = ord(" ")
    return s.tolist()


def local_iso_ms(us: np.ndarray) -> list[str]:
    """Epoch microseconds as an event's ts in its JSON payload: local ISO time with milliseconds."""
    s = np.datetime_as_string((us + LOCAL_OFFSET_S * 1_000_000).astype("datetime64[us]"), unit="ms")
    return [x + "+08:00" for x in s.tolist()]


def local_day(us: np.ndarray) -> np.ndarray:
    """Days since the epoch of the local (UTC+8) date of each instant."""
    return (us + LOCAL_OFFSET_S * 1_000_000) // DAY_US


def day_text(day: int) -> str:
    return (datetime(1970, 1, 1) + timedelta(days=int(day))).strftime("%Y-%m-%d")


# -- the database ------------------------------------------------------------------------------------------

def make_names(rng: np.random.Generator, n: int) -> list[str]:
    sur = rng.integers(0, len(SURNAMES), n)
    g1, g2 = rng.integers(0, len(GIVEN), n), rng.integers(0, len(GIVEN), n)
    two = rng.random(n) < 0.5
    fits = rng.random(n) < 0.6
    co, ro, ci = rng.integers(0, len(COMPANIES), n), rng.integers(0, len(ROLES), n), rng.integers(0, len(CITIES), n)
    out = []
    for i in range(n):
        name = SURNAMES[sur[i]] + GIVEN[g1[i]] + (GIVEN[g2[i]] if two[i] else "")
        out.append(f"{name}-{COMPANIES[co[i]]}-{ROLES[ro[i]]}-{CITIES[ci[i]]}" if fits[i] else name)
    return out


def user_id(i: int) -> str:
    return f"wxid_{(i * 2654435761) % (1 << 48):012x}{i % 251:02x}"  # distinct: an odd multiplier mod 2^48


def generate(n_members: int, n_events: int, seed: int) -> dict[str, Any]:
    """The group's members and events as arrays (epoch microseconds, member indexes, kind codes)."""
    rng = np.random.default_rng(seed)
    now = epoch_us(NOW)
    start = now - YEAR_DAYS * DAY_US
    n = n_members
    # joined over the year, or known from the first roster (joined_at NULL, first seen at the start)
    roster = rng.random(n) < 0.15
    joined = (start + rng.random(n) * (now - 3_600_000_000 - start)).astype(np.int64) // 1000 * 1000
    first_seen = np.where(roster, start + 3_600_000_000, joined)
    left = rng.random(n) < 0.08
    left_at = (first_seen + rng.random(n) * (now - first_seen)).astype(np.int64) // 1000 * 1000
    # present members: 30% spoke in the last 14 days, 38% spoke before, 32% never; those who left: half spoke
    r = rng.random(n)
    quiet_from = now - 14 * DAY_US
    recent = ~left & (r < 0.30)
    silent = ~left & (r >= 0.30) & (r < 0.68) & (first_seen < quiet_from - DAY_US)
    gone = left & (r < 0.5)
    spoke = recent | silent | gone
    a = first_seen + 60_000_000  # a minute after joining, at the earliest
    last = np.where(recent, np.maximum(a, quiet_from) + rng.random(n) * (now - np.maximum(a, quiet_from)),
                    np.where(silent, a + rng.random(n) * (quiet_from - a),
                             a + rng.random(n) * np.maximum(left_at - a - 60_000_000, 0))).astype(np.int64)
    last = last // 1000 * 1000
    last = np.where(spoke, np.maximum(last, a), a)
    # messages per member: heavy-tailed, proportional to the span spoken over; scaled to the target
    n_special = int((~roster).sum() + left.sum())
    budget = max(n_events - n_special, int(spoke.sum()))
    span_days = (last - a) / DAY_US + 1
    weight = np.where(spoke, (rng.pareto(1.4, n) + 0.05) * span_days, 0.0)
    counts = np.where(spoke, np.maximum(1, np.round(weight * (budget / weight.sum()))), 0).astype(np.int64)
    counts = np.minimum(counts, 60 * span_days.astype(np.int64) + 1)  # at most ~60 a day
    users = np.repeat(np.arange(n), counts)
    lo, hi = np.repeat(a, counts), np.repeat(last, counts)
    ts = lo + (rng.random(len(users)) * (hi - lo)).astype(np.int64)
    # the day's rhythm: keep the local date, draw the hour, stay inside [first, last]
    hour = rng.choice(24, size=len(users), p=DIURNAL / DIURNAL.sum())
    ts = ((local_day(ts) * DAY_US) - LOCAL_OFFSET_S * 1_000_000 + hour * 3_600_000_000
          + (rng.random(len(users)) * 3_600_000_000).astype(np.int64))
    ts = np.clip(ts, lo, hi) // 1000 * 1000
    ends = np.cumsum(counts)[counts > 0] - 1
    ts[ends] = last[counts > 0]  # each speaker's last message is exactly last_active_at
    kinds = rng.choice(len(MESSAGE_KINDS), size=len(users), p=MESSAGE_SHARES).astype(np.int8)
    kinds[ends] = 0  # (a text)
    # joins and leaves
    jm, lm = np.flatnonzero(~roster), np.flatnonzero(left)
    users = np.concatenate([users, jm, lm])
    ts = np.concatenate([ts, joined[jm], left_at[lm]])
    kinds = np.concatenate([kinds, np.full(len(jm), KIND_JOIN, np.int8), np.full(len(lm), KIND_LEAVE, np.int8)])
    order = np.argsort(ts, kind="stable")
    users, ts, kinds = users[order], ts[order], kinds[order]
    return {"rng": rng, "now": now, "start": start, "roster": roster, "joined": joined, "first_seen": first_seen,
            "left": left, "left_at": left_at, "users": users, "ts": ts, "kinds": kinds,
            "classes": {"recent": int(recent.sum()), "silent": int(silent.sum()), "left_spoke": int(gone.sum())}}


def checkins(world: dict[str, Any]) -> dict[str, Any]:
    """A quarter of those who ever spoke check in: their first text of a local day, 70% of the days."""
    rng, users, ts, kinds = world["rng"], world["users"], world["ts"], world["kinds"]
    n = len(world["joined"])
    spoke = np.zeros(n, bool)
    spoke[users[kinds < KIND_JOIN]] = True
    checker = spoke & (rng.random(n) < 0.25)
    cand = np.flatnonzero((kinds == 0) & checker[users])
    days = local_day(ts[cand])
    key = users[cand].astype(np.int64) * 100_000 + days
    _, first = np.unique(key, return_index=True)
    chosen = np.sort(cand[first[rng.random(len(first)) < 0.7]])  # event indexes, in time order
    c_user, c_day = users[chosen], local_day(ts[chosen])
    # rank: order within the local day (events are in time order)
    day_starts = np.r_[0, np.flatnonzero(np.diff(c_day)) + 1]
    rank = np.arange(len(chosen)) - np.repeat(day_starts, np.diff(np.r_[day_starts, len(chosen)])) + 1
    # streak: consecutive local days of the same member
    by = np.lexsort((c_day, c_user))
    u, d = c_user[by], c_day[by]
    brk = np.r_[True, (u[1:] != u[:-1]) | (d[1:] != d[:-1] + 1)]
    run_start = np.maximum.accumulate(np.where(brk, np.arange(len(by)), 0))
    streak = np.empty(len(by), np.int64)
    streak[by] = np.arange(len(by)) - run_start + 1
    points = 5 + np.minimum(streak - 1, 10)
    return {"event": chosen, "user": c_user, "day": c_day, "rank": rank, "streak": streak, "points": points,
            "checker": int(checker.sum())}


def text_pool(rng: np.random.Generator, size: int = 4096) -> list[str]:
    """JSON-encoded message texts to draw from."""
    out = []
    for _ in range(size):
        text = "，".join(FILLER[i] for i in rng.integers(0, len(FILLER), rng.integers(1, 4)))
        if rng.random() < 0.5:
            text += "".join(chr(c) for c in rng.integers(0x4E00, 0x9FA5, rng.integers(2, 30)))
        out.append(json.dumps(text, ensure_ascii=False))
    return out


def migrate(db: Path) -> None:
    """Create the schema, or bring it up to date, with Store.open() (the migrations)."""
    async def run() -> None:
        store = open_store(f"sqlite+aiosqlite:///{db}")
        await store.open()
        await store.close()

    asyncio.run(run())


def build(db: Path, n_members: int, n_events: int, seed: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Create the schema with Store.open(), then fill it with plain sqlite3 (rows in the order the
    generator gives them, into the WITHOUT ROWID tables too)."""
    t0 = time.perf_counter()
    migrate(db)
    world = generate(n_members, n_events, seed)
    ck = checkins(world)
    t_gen = time.perf_counter() - t0
    log(f"generated {len(world['ts']):,} events, {len(ck['event']):,} check-ins in {t_gen:.1f}s; inserting")
    rng, users, ts, kinds, now = world["rng"], world["users"], world["ts"], world["kinds"], world["now"]
    n = n_members
    names = make_names(rng, n)
    uids = [user_id(i) for i in range(n)]
    names_json = [json.dumps(x, ensure_ascii=False) for x in names]
    is_checkin = np.zeros(len(ts), bool)
    is_checkin[ck["event"]] = True

    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")  # a bench database: written once, then only read
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")
    con.execute("BEGIN")
    # events, in time order, ids increasing with time (as a platform's message ids do)
    pool = text_pool(rng)
    texts = rng.integers(0, len(pool), len(ts))
    media = ("voice", "video", "sticker", "file", "location")
    head = f'"group":"{GROUP}","group_name":"{GROUP_NAME}","user":"'
    tails = {
        1: lambda i: f',"path":"media/{i}.jpg"}}',
        2: lambda i: f',"kind":"{media[i % 5]}"}}',
        3: lambda i: f',"url":"https://mp.weixin.qq.com/s/{i:x}","title":"本周分享"}}',
        4: lambda i: "}",
        5: lambda i: ',"title":"打卡小程序","app":"wx_checkin"}',
        6: lambda i: f',"card_name":{names_json[i % n]}}}',
        KIND_JOIN: lambda i: "}",
        KIND_LEAVE: lambda i: "}",
    }
    base_id = 7_000_000_000_000_000_000
    chunk = 200_000
    sql = "INSERT INTO events (id, ts, group_id, user_id, type, payload, handled_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
    for s in range(0, len(ts), chunk):
        e = slice(s, s + chunk)
        c_ts, c_users, c_kinds = ts[e], users[e].tolist(), kinds[e].tolist()
        stored, handled, local = utc_texts(c_ts), utc_texts(c_ts + 150_000), local_iso_ms(c_ts)
        c_texts, c_check = texts[e].tolist(), is_checkin[e].tolist()
        rows = []
        for j in range(len(stored)):
            i, u, k = s + j, c_users[j], c_kinds[j]
            eid = str(base_id + i * 7919)
            if k == 0:
                tail = f',"text":{pool[c_texts[j]] if not c_check[j] else json.dumps("签到", ensure_ascii=False)}' \
                       ',"mentions":[]}'
            else:
                tail = tails[k](i)
            payload = (f'{{"id":"{eid}","ts":"{local[j]}",{head}{uids[u]}","user_name":{names_json[u]},'
                       f'"type":"{ALL_KINDS[k]}"{tail}')
            rows.append((eid, stored[j], GROUP, uids[u], ALL_KINDS[k], payload, handled[j]))
        con.executemany(sql, rows)
        if s // chunk % 5 == 4:
            log(f"  {s + len(rows):,} events")

    # members: stats from the events (as note_activity keeps them)
    msg = kinds < KIND_JOIN
    message_count = np.bincount(users[msg], minlength=n)
    last_active = np.full(n, -1, np.int64)
    np.maximum.at(last_active, users[msg], ts[msg])
    la_text = utc_texts(np.maximum(last_active, 0))
    first_text, joined_text, left_text = (utc_texts(world["first_seen"]), utc_texts(world["joined"]),
                                          utc_texts(world["left_at"]))
    roster, left = world["roster"].tolist(), world["left"].tolist()
    con.executemany(
        "INSERT INTO members (group_id, user_id, display_name, first_seen_at, joined_at, left_at, last_active_at, "
        "message_count, reminded_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        [(GROUP, uids[i], names[i], first_text[i], None if roster[i] else joined_text[i],
          left_text[i] if left[i] else None, la_text[i] if last_active[i] >= 0 else None, int(message_count[i]))
         for i in range(n)])
    con.execute("INSERT INTO groups (id, name, first_seen_at, last_active_at) VALUES (?, ?, ?, ?)",
                (GROUP, GROUP_NAME, utc_texts(np.array([world["start"]]))[0], utc_texts(np.array([ts.max()]))[0]))

    # check-ins and the per-day counters
    c_ts = utc_texts(ts[ck["event"]])
    c_ids = [str(base_id + int(i) * 7919) for i in ck["event"]]
    days = {int(d): day_text(d) for d in np.unique(ck["day"])}
    cu, cd, cr, cs, cp = (ck[k].tolist() for k in ("user", "day", "rank", "streak", "points"))
    con.executemany(
        "INSERT INTO checkins (group_id, user_id, local_date, rank, streak, points, ts, event_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(GROUP, uids[cu[j]], days[cd[j]], cr[j], cs[j], cp[j], c_ts[j], c_ids[j]) for j in range(len(cu))])
    per_day = np.unique(ck["day"], return_counts=True)
    con.executemany("INSERT INTO checkin_days (group_id, local_date, count) VALUES (?, ?, ?)",
                    [(GROUP, days[int(d)], int(c)) for d, c in zip(*per_day, strict=True)])

    # balances: check-in points, ~0.6 point a text (cooldown, length, daily cap), 10 a red packet
    checkin_pts = np.bincount(ck["user"], weights=ck["points"], minlength=n)
    texts_n = np.bincount(users[kinds == 0], minlength=n) - np.bincount(ck["user"], minlength=n)
    red = np.bincount(users[kinds == MESSAGE_KINDS.index("red_packet")], minlength=n)
    balance = (checkin_pts + np.round(texts_n * 0.6) + 10 * red).astype(np.int64)
    has = np.flatnonzero(balance > 0)
    b_last = utc_texts(np.maximum(last_active[has], 0))
    b_day = [day_text(d) for d in local_day(last_active[has]).tolist()]
    con.executemany(
        "INSERT INTO points_balances (group_id, user_id, balance, message_day, message_points, "
        "last_message_award_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(GROUP, uids[i], int(balance[i]), b_day[j], 1, b_last[j], b_last[j]) for j, i in enumerate(has.tolist())])
    con.execute("COMMIT")
    con.execute("PRAGMA journal_mode=WAL")  # as the store keeps it
    con.close()
    present = ~world["left"]
    silent14 = present & ((last_active < 0) | (last_active < now - 14 * DAY_US))
    info = {
        "members": n, "present": int(present.sum()), "left": int(world["left"].sum()),
        "roster_known": int(world["roster"].sum()), "never_spoke_present": int((present & (last_active < 0)).sum()),
        "silent_14d_share_of_present": float(silent14.sum() / present.sum()),
        "events": len(ts), "message_events": int(msg.sum()), "checkins": len(ck["event"]),
        "checkers": ck["checker"], "balances": len(has), "events_last_30d": int((ts >= now - 30 * DAY_US).sum()),
        "events_last_7d": int((ts >= now - 7 * DAY_US).sum()), "top_member_messages": int(message_count.max()),
        "build_s": time.perf_counter() - t0, "generate_s": t_gen,
    }
    return info


def open_database(args: argparse.Namespace, folder: Path, log: Callable[[str], None]) -> tuple[Path, dict[str, Any]]:
    """Build the database, or reuse --db when its parameters match."""
    params = {"members": args.members, "events": args.events, "seed": args.seed, "now": NOW.isoformat(), "v": 3}
    db = Path(args.db) if args.db else folder / "reports.db"
    stamp = db.with_name(db.name + ".params.json")
    if db.exists() and stamp.exists():
        saved = json.loads(stamp.read_text())
        if saved.get("params") == params:
            log(f"reusing {db.name} (same parameters); migrating it if its schema is older")
            migrate(db)  # not inside the first cold measure
            return db, {**saved["info"], "reused": True, "db_mb": db.stat().st_size / 1e6}
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), stamp):
        p.unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    info = build(db, args.members, args.events, args.seed, log)
    info["db_mb"] = db.stat().st_size / 1e6
    stamp.write_text(json.dumps({"params": params, "info": info}))
    return db, info


# -- measuring -------------------------------------------------------------------------------------------

def drop_os_cache(db: Path) -> bool:
    """Drop the database file's pages from the OS page cache (only this file; clean pages only)."""
    if not hasattr(os, "posix_fadvise"):
        return False
    for p in (db, db.with_name(db.name + "-wal")):
        if p.exists():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return True


class Timing:
    def __init__(self, cold: float, warm: list[float]) -> None:
        self.cold, self.warm = cold, warm

    @property
    def median(self) -> float:
        return statistics.median(self.warm)

    def as_dict(self) -> dict[str, float]:
        return {"cold_s": self.cold, "median_s": self.median, "min_s": min(self.warm), "max_s": max(self.warm)}


async def measure_store(db: Path, runs: int, call: Callable[[Store], Awaitable[Any]]) -> tuple[Timing, Any]:
    """The first call on a fresh store (file pages dropped from the OS cache), then `runs` more."""
    drop_os_cache(db)
    store = open_store(f"sqlite+aiosqlite:///{db}")
    await store.open()
    try:
        t = time.perf_counter()
        result = await call(store)
        cold = time.perf_counter() - t
        warm = []
        for _ in range(runs):
            t = time.perf_counter()
            result = await call(store)
            warm.append(time.perf_counter() - t)
    finally:
        await store.close()
    return Timing(cold, warm), result


def measure_plain(db: Path, runs: int, sql: str, params: tuple[Any, ...]) -> tuple[Timing, list[Any]]:
    """The same for one statement in plain sqlite3 (a fresh connection, fetchall)."""
    drop_os_cache(db)
    con = sqlite3.connect(db)
    try:
        t = time.perf_counter()
        rows = con.execute(sql, params).fetchall()
        cold = time.perf_counter() - t
        warm = []
        for _ in range(runs):
            t = time.perf_counter()
            rows = con.execute(sql, params).fetchall()
            warm.append(time.perf_counter() - t)
    finally:
        con.close()
    return Timing(cold, warm), rows


def plan(db: Path, sql: str, params: Any) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return [row[3] for row in con.execute("EXPLAIN QUERY PLAN " + sql, params)]
    finally:
        con.close()


@contextlib.contextmanager
def captured_sql(store: Store) -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """The SELECT statements (SQL, parameters) the store sends while inside: through SQLAlchemy, and
    straight to the driver (aiosqlite's Connection.execute, as `dialect.fetch_rows` does)."""
    import aiosqlite
    from sqlalchemy import event

    seen: list[tuple[str, tuple[Any, ...]]] = []

    def note(statement: str, parameters: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, tuple(parameters or ())))

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        note(statement, parameters)

    direct = aiosqlite.Connection.execute

    def execute(self: Any, sql: str, parameters: Any = None) -> Any:
        note(sql, parameters)
        return direct(self, sql, parameters)

    event.listen(store.engine.sync_engine, "before_cursor_execute", before)
    aiosqlite.Connection.execute = execute  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        aiosqlite.Connection.execute = direct  # type: ignore[method-assign]
        event.remove(store.engine.sync_engine, "before_cursor_execute", before)


def first_table(sql: str) -> str:
    found = re.search(r"\bFROM\s+\"?(\w+)", sql, re.IGNORECASE)
    return found.group(1) if found else "?"


def utc_text(t: datetime) -> str:
    return t.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def make_config(n_members: int, seed: int) -> tuple[Config, Any]:
    """A config with this group's admins, operators and a whitelist: ~5% of the members excluded."""
    rng = np.random.default_rng(seed + 1)
    picked = rng.choice(n_members, size=n_members // 20 + 13, replace=False).tolist()
    admins, operators, whitelist = picked[:10], picked[10:13], picked[13:]
    ids = lambda xs: "[" + ", ".join(f'"{user_id(i)}"' for i in xs) + "]"  # noqa: E731
    text = (f"bot: {{id: {BOT_ID}}}\ngroups:\n  \"{GROUP}\":\n    admins: {ids(admins)}\n"
            f"    operators: {ids(operators)}\n    purge: {{whitelist: {ids(whitelist)}}}\n")
    config = Config.from_text(text)
    return config, config.group(GROUP, GROUP_NAME).settings


# -- part 4: what the layout costs a write; the index not adopted ------------------------------------

def index_size_mb(db: Path, ddl: str) -> tuple[float, float | None]:
    """Build an index on the database: (seconds, its size in MB from dbstat, None without dbstat)."""
    name = ddl.split()[2]
    con = sqlite3.connect(db, isolation_level=None)
    try:
        t = time.perf_counter()
        con.execute(ddl)
        took = time.perf_counter() - t
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try:
            size = con.execute("SELECT sum(pgsize) FROM dbstat WHERE name = ?", (name,)).fetchone()[0] / 1e6
        except sqlite3.OperationalError:  # a sqlite3 built without dbstat
            size = None
    finally:
        con.close()
    return took, size


def _interleaved_cost(setups: dict[str, list[str]], sql: str, params: list[Any], rounds: int = 5) -> dict[str, float]:
    """µs per row of executemany batches of 500 into fresh in-memory databases built by each setup's DDL,
    the setups taking turns (best of `rounds`): the CPU side of what a schema choice costs a write."""
    cons = {}
    for name, ddl in setups.items():
        con = sqlite3.connect(":memory:", isolation_level=None)
        for stmt in ddl:
            con.execute(stmt)
        cons[name] = con
    best = dict.fromkeys(setups, float("inf"))
    try:
        for _ in range(rounds):
            for name, con in cons.items():
                con.execute(f"DELETE FROM {ddl_table(setups[name][0])}")
                con.execute("BEGIN")
                t = time.perf_counter()
                for s in range(0, len(params), 500):
                    con.executemany(sql, params[s:s + 500])
                best[name] = min(best[name], time.perf_counter() - t)
                con.execute("COMMIT")
    finally:
        for con in cons.values():
            con.close()
    return {name: v / len(params) * 1e6 for name, v in best.items()}


def ddl_table(create: str) -> str:
    return create.split()[2]


def insert_cost(db: Path, rows: int, variants: dict[str, list[str]]) -> dict[str, float]:
    """µs per event inserted (journal-shaped: batches of 500 over 50 groups) into the events table with
    each variant's index columns."""
    src = sqlite3.connect(db)
    try:
        ddl = src.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()[0]
        sample = src.execute("SELECT id, ts, group_id, user_id, type, payload, handled_at FROM events "
                             "ORDER BY rowid DESC LIMIT ?", (rows,)).fetchall()[::-1]
    finally:
        src.close()
    sample = [(r[0], r[1], f"{i % 50}{r[2]}", *r[3:]) for i, r in enumerate(sample)]
    setups = {name: [ddl, *(f"CREATE INDEX i{i} ON events ({cols})" for i, cols in enumerate(indexes))]
              for name, indexes in variants.items()}
    return _interleaved_cost(setups, "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", sample)


def upsert_cost(db: Path, rows: int = 100_000) -> dict[str, float]:
    """µs per row of the store's own members upsert (note_activity's statement as the driver gets it;
    50 groups of 2,000 members, batches of 500) into the members table with a rowid (before migration
    0005) and WITHOUT ROWID (the product)."""
    import random

    store = open_store("sqlite+aiosqlite://")  # only to compile the statement; never opened
    sample_row = {"group_id": "", "user_id": "", "display_name": None, "first_seen_at": NOW, "joined_at": None,
                  "left_at": None, "last_active_at": NOW, "message_count": 1}
    stmt = store._driver_stmt("members", sample_row)
    assert stmt is not None
    src = sqlite3.connect(db)
    try:
        ddl = src.execute("SELECT sql FROM sqlite_master WHERE name = 'members'").fetchone()[0]
        indexes = [r[0] for r in src.execute("SELECT sql FROM sqlite_master WHERE type = 'index' "
                                             "AND tbl_name = 'members' AND sql IS NOT NULL")]
    finally:
        src.close()
    rng = random.Random(7)
    t0 = NOW - timedelta(days=1)
    batch = [{**sample_row, "group_id": f"{rng.randrange(50)}@chatroom", "user_id": user_id(rng.randrange(2000)),
              "display_name": "名字", "first_seen_at": t0 + timedelta(seconds=i),
              "last_active_at": t0 + timedelta(seconds=i)} for i in range(rows)]
    ddl = re.sub(r"\s*WITHOUT ROWID\s*;?\s*$", "", ddl.rstrip().rstrip(";"), flags=re.IGNORECASE)
    setups = {"rowid": [ddl, *indexes], "without_rowid": [ddl + " WITHOUT ROWID", *indexes]}
    return _interleaved_cost(setups, stmt.sql, stmt.rows(batch))


# -- the run ---------------------------------------------------------------------------------------------

async def bench(args: argparse.Namespace, db: Path, folder: Path, figures: dict[str, Any],
                log: Callable[[str], None]) -> None:
    config, settings = make_config(args.members, args.seed)
    tz = config.tz
    purge = settings.purge
    active_before = NOW - timedelta(days=purge.inactive_days)
    joined_before = NOW - timedelta(days=purge.grace_days)
    tier_from = NOW - timedelta(days=settings.levels.tier_days)
    exclude = {*settings.admins, *settings.operators, *purge.whitelist, config.bot_id}
    runs = args.runs
    f = figures["measures"] = {}

    # 1. the purge list
    log("purge_list")
    t, candidates = await measure_store(db, runs, lambda s: purge_list(purge_of(s), config, GROUP, settings, NOW))
    f["purge_list"] = {**t.as_dict(), "rows": len(candidates)}
    t, rows = await measure_store(
        db, runs, lambda s: purge_of(s).inactive_members(GROUP, active_before, joined_before, exclude))
    f["inactive_members"] = {**t.as_dict(), "rows": len(rows)}
    t, silent = await measure_store(db, runs, lambda s: purge_of(s).silent_activity(GROUP, tier_from, active_before))
    f["silent_activity"] = {**t.as_dict(), "members": len(silent)}
    t, activity = await measure_store(db, runs, lambda s: levels_of(s).member_activity(GROUP, tier_from))
    f["member_activity"] = {**t.as_dict(), "members": len(activity)}
    from handlers.levels.ladder import tier_of
    from storage.gcpause import paused_gc

    def assemble() -> list[Candidate]:  # handlers/purge/listing.py: purge_list's end (33ea546), on the rows above
        levels = settings.levels
        idle = tier_of((0, 0, 0), levels)
        tiers = {user: tier_of(counts, levels) for user, counts in silent.items()}
        with paused_gc():
            return [Candidate(user, name, joined, last, max(0, (NOW - (last or joined)).days), count, points,
                              tiers.get(user, idle))
                    for user, name, joined, last, count, points in rows]

    laps = []
    for _ in range(runs):
        t0 = time.perf_counter()
        assembled = assemble()
        laps.append(time.perf_counter() - t0)
        del assembled  # freed outside the lap, as purge_list's caller frees the list
    f["assembly"] = {"median_s": statistics.median(laps)}
    params = (GROUP, utc_text(active_before), utc_text(joined_before))
    t, plain_rows = measure_plain(db, runs, PLAIN_PURGE, params)
    plain_kept = [r for r in plain_rows if r[0] not in exclude]
    f["plain_purge"] = {**t.as_dict(), "rows": len(plain_kept)}
    same = [c.user_id for c in candidates] == [r[0] for r in plain_kept]
    figures["checks"] = {"purge_list == plain list (ids, order)": same,
                         "purge_list == inactive_members (ids)": [c.user_id for c in candidates]
                         == [r.user_id for r in rows],
                         "purge_list tiers == tiers from the full activity query": [c.tier for c in candidates]
                         == [tier_of(activity.get(c.user_id, (0, 0, 0)), settings.levels) for c in candidates],
                         "the Python assembly measured == purge_list's candidates": assemble() == candidates}

    # 2. activity by hour
    log("hourly")
    since7 = NOW - timedelta(days=7)
    t, buckets = await measure_store(db, runs, lambda s: s.events.hourly_activity(GROUP, since7, NOW))
    f["hourly_activity"] = {**t.as_dict(), "buckets": len(buckets), "messages": sum(buckets.values())}
    last_day = NOW.astimezone(tz).date()
    days = settings.stats.chart_days
    t, series = await measure_store(db, runs, lambda s: hourly_series(stats_of(s), GROUP, last_day, days, tz, NOW))
    f["hourly_series"] = {**t.as_dict(), "days": len(series), "messages": sum(sum(c) for _, c in series)}
    t, plain_hours = measure_plain(db, runs, PLAIN_HOURLY, (GROUP, utc_text(since7), utc_text(NOW)))
    f["plain_hourly"] = {**t.as_dict(), "buckets": len(plain_hours)}
    figures["checks"]["hourly_activity == plain (buckets, total)"] = (
        len(buckets) == len(plain_hours) and sum(buckets.values()) == sum(n for _, n in plain_hours))
    t, sizes = await measure_store(db, runs, lambda s: s.members.group_sizes([GROUP]))
    f["group_sizes"] = {**t.as_dict(), "present": sizes[GROUP][1]}
    con = sqlite3.connect(db)
    who = con.execute("SELECT user_id FROM events WHERE group_id = ? AND ts >= ? GROUP BY user_id ORDER BY count(*) "
                      "DESC LIMIT 1", (GROUP, utc_text(tier_from))).fetchone()[0]
    con.close()
    figures["busiest_30d"] = who
    t, one = await measure_store(db, runs, lambda s: levels_of(s).member_activity(GROUP, tier_from, who))
    f["member_activity_one"] = {**t.as_dict(), "counts": list(one.get(who, (0, 0, 0)))}

    # 3. the CSV and the chart
    log("csv, chart")
    csv_path = folder / "purge.csv"
    laps = []
    for _ in range(runs):
        t0 = time.perf_counter()
        write_csv(candidates, csv_path, tz, header=purge.csv_header, never=purge.csv_never)
        laps.append(time.perf_counter() - t0)
    f["write_csv"] = {"median_s": statistics.median(laps), "first_s": laps[0], "bytes": csv_path.stat().st_size,
                      "rows": len(candidates)}
    # the purge report's actions (handlers/purge/jobs.py: report) carry every candidate's id as `members`;
    # the audit log stores each action's data and its body (which holds the data again)
    from bot.audit import action_rows
    from scheduler.common import to_operators

    t0 = time.perf_counter()
    acts = to_operators(settings, "purge_report", text="…", file=str(csv_path), group=GROUP,
                        members=[c.user_id for c in candidates])
    stored = action_rows([f"job:purge#{i}" for i in range(len(acts))], [a.model_copy(update={"ts": NOW}) for a in acts],
                         None)
    size = sum(len(json.dumps(r["data"], ensure_ascii=False).encode()) + len(json.dumps(r["body"], ensure_ascii=False)
                                                                              .encode()) for r in stored)
    f["report_actions"] = {"actions": len(acts), "operators": len(settings.operators), "json_bytes": size,
                           "build_s": time.perf_counter() - t0}
    chart = folder / "hourly.png"
    try:
        t, _ = await measure_store(db, runs, lambda s: render_hourly_chart(stats_of(s), config, GROUP, GROUP_NAME,
                                                                           last_day, days, chart, until=NOW))
        f["render_hourly_chart"] = {**t.as_dict(), "bytes": chart.stat().st_size}
        from handlers.stats import charts

        laps = []
        for _ in range(runs):
            t0 = time.perf_counter()
            charts.render_hourly("x", series, chart, subtitle="y")
            laps.append(time.perf_counter() - t0)
        f["render_hourly"] = {"median_s": statistics.median(laps)}
    except Exception as exc:  # no CJK font: say so, keep the rest
        f["render_hourly_chart"] = {"error": f"{type(exc).__name__}: {exc}"}

    # where the time goes: each store call's statements, captured per call, in plain sqlite3, with plans
    log("plans")
    calls: dict[str, Callable[[Store], Awaitable[Any]]] = {
        "inactive_members": lambda s: purge_of(s).inactive_members(GROUP, active_before, joined_before, exclude),
        "silent_activity": lambda s: purge_of(s).silent_activity(GROUP, tier_from, active_before),
        "member_activity (30 d, all)": lambda s: levels_of(s).member_activity(GROUP, tier_from),
        "hourly_activity": lambda s: s.events.hourly_activity(GROUP, since7, NOW),
        "group_sizes": lambda s: s.members.group_sizes([GROUP]),
        "member_activity of one": lambda s: levels_of(s).member_activity(GROUP, tier_from, who),
    }
    store = open_store(f"sqlite+aiosqlite:///{db}")
    await store.open()
    try:
        sent: dict[str, list[tuple[str, tuple[Any, ...]]]] = {}
        for name, call in calls.items():
            with captured_sql(store) as sent[name]:
                await call(store)
        with captured_sql(store) as by_purge_list:
            await purge_list(purge_of(store), config, GROUP, settings, NOW)
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            await purge_list(purge_of(store), config, GROUP, settings, NOW)
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(14)
            figures["profile"] = out.getvalue()
    finally:
        await store.close()
    figures["checks"]["purge_list's statements == inactive_members' + silent_activity's"] = (
        by_purge_list == sent["inactive_members"] + sent["silent_activity"])
    figures["statements"] = []
    for name, statements in sent.items():
        for sql, p in statements:
            t, _ = measure_plain(db, runs, sql, p)
            figures["statements"].append({
                "name": name if len(statements) == 1 else f"{name}: {first_table(sql)}", "call": name,
                "plain_sql_median_s": t.median, "plain_sql_cold_s": t.cold, "plan": plan(db, sql, p)})

    if not args.quick:
        await part4(args, db, folder, figures, log, tier_from, who, sent["member_activity of one"])


async def measure_pair(runs: int, a: tuple[Path, Callable[[Store], Awaitable[Any]]],
                       b: tuple[Path, Callable[[Store], Awaitable[Any]]]) -> dict[str, Any]:
    """`a` (the product) and `b` (a variant) measured together: each first call on a fresh store with
    the file dropped from the OS cache, then `runs` warm calls of each, interleaved (abab, then baba) so
    that other load on the machine weighs on both alike; `ratio` is the median of the pairs' a/b."""
    (db_a, call_a), (db_b, call_b) = a, b
    sa, sb = open_store(f"sqlite+aiosqlite:///{db_a}"), open_store(f"sqlite+aiosqlite:///{db_b}")
    await sa.open()
    await sb.open()
    try:
        cold = []
        for db_, store, call in ((db_a, sa, call_a), (db_b, sb, call_b)):
            drop_os_cache(db_)
            t = time.perf_counter()
            await call(store)
            cold.append(time.perf_counter() - t)
        wa: list[float] = []
        wb: list[float] = []
        results: list[Any] = [None, None]
        for i in range(runs):
            for which in ((0, 1) if i % 2 == 0 else (1, 0)):
                store, call = (sa, call_a) if which == 0 else (sb, call_b)
                t = time.perf_counter()
                got = await call(store)
                (wa if which == 0 else wb).append(time.perf_counter() - t)
                results[which] = got
    finally:
        await sa.close()
        await sb.close()
    ta, tb = Timing(cold[0], wa), Timing(cold[1], wb)
    ratio = statistics.median(x / y for x, y in zip(wa, wb, strict=True))
    return {"product": ta.as_dict(), **tb.as_dict(), "ratio": ratio, "results": results}


async def part4(args: argparse.Namespace, db: Path, folder: Path, figures: dict[str, Any],
                log: Callable[[str], None], tier_from: datetime, who: str, one_sql: list[tuple[str, Any]]) -> None:
    """What the layout costs a write (in memory), and the index not adopted, on a copy of the database
    (the product runs on the original, in the same loop)."""
    import shutil

    p: dict[str, Any] = {}
    figures["part4"] = p
    log("write costs")
    p["insert_us"] = insert_cost(db, 100_000, {
        "before 0005": ["group_id, ts"], "product": ["group_id, ts, type, user_id"],
        "product + not adopted": ["group_id, ts, type, user_id", "group_id, user_id, ts, type"]})
    p["members_upsert_us"] = upsert_cost(db)

    log("not adopted: events (group_id, user_id, ts, type), on a copy of the database")
    copy = folder / "not-adopted.db"
    shutil.copyfile(db, copy)
    try:
        p["index"] = dict(zip(("build_s", "mb"), index_size_mb(copy, MEMBER_EVENTS_DDL), strict=True))
        p["plan"] = [" | ".join(plan(copy, sql, params)) for sql, params in one_sql]

        def one(s: Store) -> Awaitable[dict[str, tuple[int, int, int]]]:
            return levels_of(s).member_activity(GROUP, tier_from, who)

        got = await measure_pair(args.runs, (db, one), (copy, one))
        product, variant = got.pop("results")
        figures["checks"]["not adopted index: the same counts of one member"] = product == variant
        p["member_activity_one"] = got
    finally:
        for path in (copy, copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")):
            path.unlink(missing_ok=True)


# -- the report ------------------------------------------------------------------------------------------

def ms(x: float) -> str:
    return f"{x * 1000:,.1f} ms"


def mb(x: float | None) -> str:
    return "size n/a" if x is None else f"{x:,.0f} MB"


def line(label: str, value: str, note: str = "") -> str:
    return f"  {label:<46} {value:>12}  {note}".rstrip()


def timing_line(label: str, d: dict[str, Any], note: str = "") -> str:
    extra = f"cold {ms(d['cold_s'])}, min {ms(d['min_s'])}" if "cold_s" in d else ""
    return line(label, ms(d["median_s"]), "; ".join(x for x in (extra, note) if x))


def report(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    d, f = figures["database"], figures["measures"]
    out = [f"report queries at scale (python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, "
           f"{os.cpu_count()} cpus; median of {args.runs} warm runs, 'cold' = first call on a fresh store with "
           f"the file dropped from the OS cache)",
           "-- database --",
           line("members (present / left)", f"{d['members']:,}",
                f"({d['present']:,} / {d['left']:,}); {d['roster_known']:,} known from the roster; "
                f"{d['never_spoke_present']:,} present never spoke; silent > 14 d: "
                f"{d['silent_14d_share_of_present'] * 100:.1f}% of present"),
           line("events (messages)", f"{d['events']:,}",
                f"({d['message_events']:,}) over {YEAR_DAYS} days; last 30 d {d['events_last_30d']:,}, last 7 d "
                f"{d['events_last_7d']:,}; busiest member {d['top_member_messages']:,}"),
           line("check-ins / balances", f"{d['checkins']:,}", f"by {d['checkers']:,} members / {d['balances']:,} "
                                                               "balances"),
           line("database file", f"{d.get('db_mb', 0):,.0f} MB",
                "reused" if d.get("reused") else f"built in {d['build_s']:.0f} s (generation {d['generate_s']:.0f} s)"),
           "-- 1. purge list --"]
    p = f["purge_list"]
    ratio = p["median_s"] / f["plain_purge"]["median_s"]
    own_sql = sum(s["plain_sql_median_s"] for s in figures["statements"]
                  if s["call"] in ("inactive_members", "silent_activity"))
    out += [
        timing_line("purge_list (end to end)", p, f"{p['rows']:,} candidates; target < {TARGET_PURGE_S} s: "
                                                  f"{'ok' if p['median_s'] < TARGET_PURGE_S else 'MISSED'}"
                                                  f" (cold {'ok' if p['cold_s'] < TARGET_PURGE_S else 'MISSED'})"),
        timing_line("  store.inactive_members", f["inactive_members"], f"{f['inactive_members']['rows']:,} rows"),
        timing_line("  store.silent_activity (tiers)", f["silent_activity"],
                    f"{f['silent_activity']['members']:,} members active in the tier window before the silence"),
        timing_line("  (store.member_activity, 30 d, all)", f["member_activity"],
                    f"{f['member_activity']['members']:,} members: what the tiers cost before"),
        line("  Python: Candidate + tier_of per row", ms(f["assembly"]["median_s"]),
             "as purge_list builds them (tiers once per member counted, rows with the collector paused)"),
        timing_line("plain sqlite3: the same list", f["plain_purge"], f"{f['plain_purge']['rows']:,} rows after "
                                                                      "the exclusions"),
        line("ratio purge_list / plain list", f"x{ratio:.1f}",
             f"inactive_members / plain x{f['inactive_members']['median_s'] / f['plain_purge']['median_s']:.1f}; "
             f"purge_list / its own statements in plain sqlite3 ({ms(own_sql)}) x{p['median_s'] / own_sql:.1f}"),
        "-- 2. activity by hour --",
        timing_line("store.hourly_activity (7 d)", f["hourly_activity"],
                    f"{f['hourly_activity']['buckets']} buckets, {f['hourly_activity']['messages']:,} messages"),
        timing_line("hourly_series (7 local days)", f["hourly_series"], f"{f['hourly_series']['messages']:,} "
                                                                        "messages"),
        timing_line("plain sqlite3: the same buckets", f["plain_hourly"],
                    f"ratio hourly_activity / plain "
                    f"x{f['hourly_activity']['median_s'] / f['plain_hourly']['median_s']:.2f}"),
        timing_line("store.group_sizes", f["group_sizes"], f"{f['group_sizes']['present']:,} present"),
        timing_line("member_activity of one member (30 d)", f["member_activity_one"],
                    f"我的等级's query, the busiest member {f['member_activity_one']['counts']}"),
        "-- 3. files --",
        line("write_csv", ms(f["write_csv"]["median_s"]), f"{f['write_csv']['rows']:,} rows, "
                                                          f"{f['write_csv']['bytes'] / 1e6:.2f} MB; first "
                                                          f"{ms(f['write_csv']['first_s'])}"),
    ]
    ra = f["report_actions"]
    out.append(line("purge report actions: members=ids", f"{ra['json_bytes'] / 1e6:.1f} MB",
                    f"JSON in actions.data + body: {ra['actions']} actions ({ra['operators']} operators x text, file), "
                    f"each with all {f['write_csv']['rows']:,} ids; built in {ms(ra['build_s'])}"))
    chart = f["render_hourly_chart"]
    if "error" in chart:
        out.append(line("render_hourly_chart", "n/a", chart["error"]))
    else:
        out += [timing_line("render_hourly_chart (query + PNG)", chart, f"{chart['bytes'] / 1e3:.0f} kB; "
                                                                       "cold includes font registration"),
                line("  charts.render_hourly alone", ms(f["render_hourly"]["median_s"]))]
    out.append("-- where the time goes: the store's statements in plain sqlite3 --")
    for s in figures["statements"]:
        out.append(line(s["name"], ms(s["plain_sql_median_s"]), f"cold {ms(s['plain_sql_cold_s'])}; plan: "
                                                                 + " | ".join(s["plan"])))
    pr = figures.get("part4")
    if pr:
        ins, ups, one = pr["insert_us"], pr["members_upsert_us"], pr["member_activity_one"]
        out += ["-- 4. what the layout costs a write (in memory, batches of 500, best of 5); the index not adopted --",
                line("events insert (product)", f"{ins['product']:.2f} µs",
                     f"before 0005 (index on group_id, ts): {ins['before 0005']:.2f} µs; with the index not "
                     f"adopted too: {ins['product + not adopted']:.2f} µs"),
                line("members upsert (note_activity; product)", f"{ups['without_rowid']:.2f} µs",
                     f"WITHOUT ROWID; with a rowid (before 0005): {ups['rowid']:.2f} µs"),
                line("NOT ADOPTED: events (group, user, ts, type)", f"{pr['index']['build_s']:.1f} s",
                     f"to build on a copy; {mb(pr['index']['mb'])}; {MEMBER_EVENTS_DDL}"),
                line("  member_activity of one member (30 d)", ms(one["median_s"]),
                     f"我的等级; product {ms(one['product']['median_s'])} / this x{one['ratio']:.1f} "
                     f"(same loop); cold {ms(one['cold_s'])} vs {ms(one['product']['cold_s'])}; plan: "
                     + " / ".join(pr["plan"]))]
    out.append("-- checks --")
    for name, ok in figures["checks"].items():
        out.append(line(name, "ok" if ok else "FAILED"))
    print("\n".join(out))
    if "profile" in figures:
        print("-- cProfile of purge_list (warm, by own time) --")
        print(figures["profile"].rstrip())
    print(json.dumps(rounded({k: v for k, v in figures.items() if k != "profile"}, 5), ensure_ascii=False,
                     sort_keys=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=4_000_000, help="events over the year (default 4,000,000)")
    parser.add_argument("--runs", type=int, default=7, help="warm runs per measure (median; default 7)")
    parser.add_argument("--seed", type=int, default=20260320)
    parser.add_argument("--db", help="keep the database in this file and reuse it while the parameters match")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one warm purge_list")
    parser.add_argument("--quick", action="store_true",
                        help="skip part 4 (write costs; the index not adopted, on a copy of the database)")
    parser.add_argument("--silent", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    if args.members < 1000 or args.events < args.members or args.runs < 1:
        parser.error("--members >= 1000, --events >= --members, --runs >= 1")
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        if not args.silent:
            print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", file=sys.stderr, flush=True)

    figures: dict[str, Any] = {"args": {k: v for k, v in vars(args).items() if k != "db"}}
    with tempfile.TemporaryDirectory(prefix="qunbot-reports-") as tmp:
        folder = Path(tmp)
        db, figures["database"] = open_database(args, folder, log)
        asyncio.run(bench(args, db, folder, figures, log))
    report(args, figures)
    return 0 if all(figures["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
