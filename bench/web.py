"""The operators' web console at scale: 1,000 groups, 100,000 members and a month of events in a SQLite
file, the console served on it over real HTTP, and what serving it adds to a running bot's memory.

    .venv/bin/python bench/web.py [--groups N] [--members N] [--events N] [--runs N] [--db FILE] [--quick]
                                  [--profile] [--no-rss]

e.g. .venv/bin/python bench/web.py --db /tmp/qunbot-web-bench.db   (2.2 GB; about a minute to build, then
~1.5 min to measure; the file is reused while --groups/--members/--events/--seed are the same)

The target (issue 14): with 1,000 groups and 100,000 members, overview p95 < 300 ms, group page p95 < 500 ms,
moderation page p95 < 200 ms; the console's extra RSS in a running bot < 30 MB.

1. the database (as bench/reports.py builds its own): `Store.open()` creates the schema (the migrations),
   then plain sqlite3 executemany fills it in the store's own formats (naive UTC 'YYYY-MM-DD HH:MM:SS.ffffff'
   text, JSON payloads as the bot writes them), as if the bot had run for the 30 days up to NOW
   (21:30 in Shanghai):
   - --groups groups (names like 上海同城群-0001; a few names are markup, two unknown): ~0.4% big (thousands
     of members), ~2% of 300-900, the rest of about 30-150; each first seen by a roster event (the
     members it lists are known from then, joined_at NULL); 8% first seen later in the month; 5% fall
     silent 4-24 days before NOW;
   - --members members over them: 20% joined during the month (a join event), 5% of the others left
     (a leave event); ~60% of the members of ordinary groups spoke (35% in the big ones), heavy-tailed
     per member and per group, at most ~60 messages a day each, with a daily rhythm (peak 20-22 h);
   - check-ins: in 85% of the groups, 15% of the members check in ("签到", a text event) on ~60% of their
     days, mostly in the morning: the checkins rows (rank by time within the group's local day, streak,
     points 5 + streak bonus) and the checkin_days counters consistent with them;
   - ads, ~2% of the messages: 70% from spammers (members who joined, post 1-4 ads and nothing else; the
     3rd warning not excused is a kick, then a leave event), 30% caught in ordinary members' texts (one
     each); 12% excused by a red packet minutes later; ad_offences rows with their evidence; owners'
     decisions (ad_samples) on 3% of the text ads;
   - the audit log (actions): for each ad the checks' notes (data.reason, score, evidence) and the
     warning sent or the kick; each check-in's reply; each points award's note; each excusing red
     packet's thanks (no welcome, report or level-up rows);
   - points: the ledger (check-ins, messages: 1 point with a 60 s cooldown and 20 a day, red packets: 10)
     and the balances (its sums; the per-message award state);
   - members.first_seen_at / joined_at / left_at / last_active_at / message_count and
     groups.first_seen_at / last_active_at derived from those events, as the activity handler keeps them.
   With --db FILE the database is kept and reused while its parameters match (a sidecar FILE.params.json).
2. the pages through real HTTP: the console app (bot/web/server.make_app over a bot/web/console.WebConsole,
   a store of its own on the file and a DrivenClock at NOW) served on 127.0.0.1 by aiohttp's
   AppRunner/TCPSite, signed in as a browser does (GET /login, its csrf field, POST the token); the file
   is dropped from the OS cache first and each page's first answer is shown ("first"); then 3 warm-up
   rounds and --runs rounds of `/`, `/groups/<the biggest group>`, `/groups/<a typical group>` and
   `/moderation`, the pages taking turns; p50 / p95 / max of each (from sending the request to the end
   of its body) against the targets. A page whose route does not exist yet is "not built yet".
3. where the time goes, per page (from 5 more answers): time in the store's reads (SQL, driver, rows),
   in the Jinja2 rendering and the rest (the page's Python, HTTP); each SQL statement the page sent,
   re-run in plain sqlite3 with its plan; for a page over its target (or all, with --profile) a cProfile
   of those answers (the event loop's thread: the SQL itself runs in aiosqlite's thread).
4. the console's extra memory in a running bot, in a fresh subprocess: VmRSS (/proc/self/status) after
   importing what `qunbot run` imports (bot.runner, the handlers), opening the bot's store on the file
   and a few reads (the baseline), then after importing the console (aiohttp, Jinja2), after
   `start_console` (its own store, the app served, as `qunbot run` does with web.enabled), after each
   page in turn was answered 3 times (what is loaded once, e.g. the Jinja2 environment, counts for the
   first) and after every page 10 times more (requests from this process, over HTTP); the difference of
   the last to the baseline is the figure (target < 30 MB); the peak (VmHWM) beside it.

Figures come one per line with their targets (never asserted), then one line of JSON. Progress goes to
stderr. --quick: 100 groups, 10,000 members, 200,000 events, 10 runs (a smoke run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import logging
import math
import os
import pstats
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import rounded, rss_mb  # noqa: E402

# numpy and bench.reports (its formats) are imported where the data is built: the memory measure's
# subprocess runs this file too and must not carry them.

NOW = datetime(2026, 3, 20, 13, 30, tzinfo=UTC)  # 21:30 in Shanghai: most of "today" has happened
DAYS = 30
TOKEN = "bench-web-token-0123456789abcdef"
TARGETS_S = {"overview": 0.300, "group": 0.500, "moderation": 0.200}
TARGET_RSS_MB = 30.0
WARMUP = 3
RSS_ANSWERS = 3  # each page answered this many times before the memory is read
RSS_MORE = 10  # and this many more times (the figure)
CONFIG = """
bot: {name: 小群管家, id: qunbot}
defaults:
  admins: [admin1]
  operators: [op1]
"""
PARAMS_VERSION = 2

SEC, MINUTE, HOUR = 1_000_000, 60_000_000, 3_600_000_000
CITIES = ("北京", "上海", "深圳", "杭州", "广州", "成都", "武汉", "南京", "西安", "重庆", "苏州", "天津", "长沙",
          "郑州", "青岛", "厦门")
TOPICS = ("同城", "宝妈", "运营交流", "读书会", "跑步", "二手交易", "摄影", "考研", "租房", "美食", "家长", "车友")
MARKUP_GROUPS = ('<script>alert("群")</script>', '"><img src=x onerror=alert(1)>', "<b>加粗</b>群", "{{ 7*7 }}群")
MARKUP_NAMES = ('"><script>x</script>', "<b>粗体</b>", "🌸", "Amy", "{{ name }}")
# event kinds: bench.reports.MESSAGE_KINDS (0-6), then these
K_TEXT, K_IMAGE, K_LINK, K_RED, K_MINI, K_CARD = 0, 1, 3, 4, 5, 6
K_JOIN, K_LEAVE, K_ROSTER = 7, 8, 9
# what an event is besides its kind
R_PLAIN, R_CHECKIN, R_AD, R_EXCUSE = 0, 1, 2, 3
AD_TEXTS = ("兼职刷单日结300，加V：{c}", "低息贷款秒批，联系微信 {c}", "代理招募，躺赚佣金，私聊我 qq {q}",
            "薇芯 {c} 带你炒币", "<img src=x onerror=alert(1)> 加微信 {c} 领福利", "宝妈在家也能做，日赚500+，v：{c}",
            "免费领取护肤小样，加我微信 {c}", "高价回收购物卡，微信同号 {c}")
TEXT_CHECKS = (("contact", 1.5, "联系方式加广告意图（加微）；微信/QQ 号加引流话术"),
               ("keywords", 1.2, "广告词：兼职、日结、躺赚"),
               ("classifier", 0.93, "文本分类器：像广告"))
# (event kind, offence kind, check, share)
AD_KINDS = ((K_TEXT, "text", None, 0.72), (K_LINK, "link", "link", 0.08), (K_IMAGE, "qrcode", "qrcode", 0.08),
            (K_CARD, "card", "card", 0.06), (K_MINI, "mini_program", "mini_program", 0.06))
PROMPT = "@{name} 发广告要发红包哦～ 群规：广告先发红包，否则会被请出群"
FINAL = "@{name} 这是第 2 次广告提醒，再发会被请出群"
THANKS = "@{name} 谢谢红包🧧 这次广告不计警告"
CHECKIN_REPLY = "@{name} 签到成功✅ 今日第 {rank} 名，连续 {streak} 天，+{points} 分，共 {balance} 分。"


# -- the data -----------------------------------------------------------------------------------------

def group_id(i: int) -> str:
    return f"{20_000_000_000 + i * 104_729}@chatroom"


def spread(total: int, weights: Any) -> Any:
    """`total` split in proportion to `weights` (integers, largest remainders first)."""
    import numpy as np

    raw = np.asarray(weights, float) / np.sum(weights) * total
    out = np.floor(raw).astype(np.int64)
    out[np.argsort(out - raw)[: total - int(out.sum())]] += 1
    return out


def group_sizes(rng: Any, n_groups: int, n_members: int) -> Any:
    """A few big groups (12% of the members), ~2% of 300-900 (10%), the rest of about 30-150; shuffled."""
    import numpy as np

    n_big, n_mid = max(1, round(n_groups / 250)), max(1, round(n_groups / 50))
    big = spread(round(n_members * 0.12), np.linspace(5, 1.8, n_big))
    mid = spread(round(n_members * 0.10), rng.uniform(300, 900, n_mid))
    rest = spread(n_members - int(big.sum()) - int(mid.sum()), rng.integers(30, 151, n_groups - n_big - n_mid))
    return rng.permutation(np.concatenate([big, mid, rest]))


def generate(n_groups: int, n_members: int, n_events: int, seed: int) -> dict[str, Any]:
    """The month as arrays: groups, members, and every event (time, member, kind, role, reference)."""
    import numpy as np

    from bench.reports import DAY_US, DIURNAL, LOCAL_OFFSET_S, MESSAGE_KINDS, MESSAGE_SHARES, epoch_us, local_day

    rng = np.random.default_rng(seed)
    now = epoch_us(NOW)
    start = now - DAYS * DAY_US
    G, n = n_groups, n_members
    sizes = group_sizes(rng, G, n)
    late = rng.random(G) < 0.08
    g_first = np.where(late, start + rng.random(G) * (now - 3 * DAY_US - start), start + rng.random(G) * 6 * HOUR)
    g_first = g_first.astype(np.int64) // 1000 * 1000
    dormant = rng.random(G) < 0.05
    g_end = np.where(dormant, np.maximum(now - ((4 + rng.random(G) * 20) * DAY_US).astype(np.int64),
                                         g_first + DAY_US), now)
    factor = rng.lognormal(0.0, 0.8, G)

    g = np.repeat(np.arange(G), sizes)  # members, group by group
    gf = g_first[g]
    joiner = rng.random(n) < 0.20
    joined = (gf + HOUR + rng.random(n) * np.maximum(now - 10 * MINUTE - gf - HOUR, MINUTE)).astype(np.int64)
    joined = joined // 1000 * 1000
    first_seen = np.where(joiner, joined, gf)
    a = first_seen + MINUTE  # present (and able to speak) from a minute after being first seen
    quiet = np.minimum(g_end[g], now)  # the group's messages end here (dormant groups)

    # the month's totals: check-ins, joins, leaves and the ads come out of the --events budget
    ck_group = rng.random(G) < 0.85
    # spammers: members who joined, post only ads; their number from the expected ads
    others = n_events * 0.80
    n_spam = min(int(0.7 * 0.02 * others / 2.2), int(joiner.sum() // 2))
    spam = np.zeros(n, bool)
    spam[rng.choice(np.flatnonzero(joiner & (joined < now - HOUR)), size=n_spam, replace=False)] = True
    left = ~spam & (rng.random(n) < 0.05)
    left_at = (a + HOUR + rng.random(n) * np.maximum(now - MINUTE - a - HOUR, MINUTE)).astype(np.int64)
    left_at = np.where(left, left_at // 1000 * 1000, -1)
    b = np.where(left, left_at, now)
    mend = np.minimum(b, quiet)  # the member's messages end

    # check-ins: 15% of the members of 85% of the groups, ~60% of their days, mostly in the morning
    checker = ~spam & ck_group[g] & (rng.random(n) < 0.15) & (mend > a)
    p_day = rng.beta(3, 2, n)
    idx = np.flatnonzero(checker)
    d0, d1 = local_day(a[idx]), local_day(mend[idx] - 1)
    ndays = (d1 - d0 + 1).astype(np.int64)
    cu = np.repeat(idx, ndays)
    cday = np.repeat(d0, ndays) + (np.arange(int(ndays.sum())) - np.repeat(np.cumsum(ndays) - ndays, ndays))
    off = np.minimum(6 * HOUR + rng.exponential(1.5 * HOUR, len(cu)), 23 * HOUR).astype(np.int64)
    cts = (cday * DAY_US - LOCAL_OFFSET_S * SEC + off) // 1000 * 1000
    keep = (rng.random(len(cu)) < p_day[cu]) & (cts >= a[cu]) & (cts < mend[cu])
    cu, cday, cts = cu[keep], cday[keep], cts[keep]

    # ads from spammers (a Python loop: ~10,000 spammers, up to 4 ads each)
    ad_share = np.array([k[3] for k in AD_KINDS])
    ad_member, ad_ts, ad_kind, ad_excuse, ad_warn = [], [], [], [], []
    kicked_at = np.full(n, -1, np.int64)
    for s in np.flatnonzero(spam).tolist():
        t = int(joined[s]) + int(rng.integers(MINUTE, 36 * HOUR)) // 1000 * 1000
        unexcused = 0
        for _ in range(int(rng.choice(4, p=(0.3, 0.3, 0.3, 0.1))) + 1):
            if t >= mend[s] - 10 * SEC:
                break
            warnings = unexcused + 1
            excused = warnings < 3 and rng.random() < 0.12
            ad_member.append(s)
            ad_ts.append(t)
            ad_kind.append(int(rng.choice(len(AD_KINDS), p=ad_share)))
            ad_excuse.append(t + int(rng.integers(MINUTE, 9 * MINUTE)) // 1000 * 1000 if excused else -1)
            ad_warn.append(warnings)
            if warnings >= 3:
                kicked_at[s] = t + 3 * SEC
                break
            unexcused += 0 if excused else 1
            t += int(rng.integers(15 * MINUTE, 4 * HOUR)) // 1000 * 1000
    kicked = kicked_at >= 0
    left_at = np.where(kicked, kicked_at, left_at)
    left |= kicked
    n_spam_ads = len(ad_ts)

    # messages: the rest of the budget, heavy-tailed per member, scaled by the group's liveliness
    n_fixed = G + int(joiner.sum()) + int(left.sum()) + len(cts) + n_spam_ads * 1.15
    budget = max(int(n_events - n_fixed), n // 10)
    speak_p = np.where(sizes[g] > 1000, 0.35, 0.60)
    speaker = ~spam & (rng.random(n) < speak_p) & (mend - a > HOUR)
    span_days = np.maximum(mend - a, 0) / DAY_US
    weight = np.where(speaker, (rng.pareto(1.3, n) + 0.05) * factor[g] * span_days, 0.0)
    cap = (60 * span_days).astype(np.int64) + 1
    scale = budget / weight.sum()
    for _ in range(4):  # the cap takes some off the heaviest: scale the rest up to the budget
        counts = np.where(speaker, np.minimum(cap, np.maximum(1, np.round(weight * scale))), 0).astype(np.int64)
        scale *= budget / max(1, counts.sum())
    users = np.repeat(np.arange(n), counts)
    lo, hi = a[users], mend[users]
    ts = lo + (rng.random(len(users)) * (hi - lo)).astype(np.int64)
    hour = rng.choice(24, size=len(users), p=DIURNAL / DIURNAL.sum())
    ts = (local_day(ts) * DAY_US - LOCAL_OFFSET_S * SEC + hour * HOUR
          + (rng.random(len(users)) * HOUR).astype(np.int64))
    ts = np.clip(ts, lo, hi - 1000) // 1000 * 1000
    kinds = rng.choice(len(MESSAGE_KINDS), size=len(users), p=MESSAGE_SHARES).astype(np.int8)
    roles = np.zeros(len(users), np.int8)
    refs = np.full(len(users), -1, np.int64)

    # ads caught in ordinary members' texts: one text each of distinct members, 30% of all the ads
    n_fp = round(n_spam_ads * 0.3 / 0.7)
    texts_at = rng.permutation(np.flatnonzero(kinds == K_TEXT))
    _, first = np.unique(users[texts_at], return_index=True)
    fp = rng.permutation(texts_at[first])[:n_fp]
    roles[fp] = R_AD
    refs[fp] = n_spam_ads + np.arange(len(fp))
    ad_member += users[fp].tolist()
    ad_ts += ts[fp].tolist()
    ad_kind += [0] * len(fp)
    ad_warn += [1] * len(fp)
    fp_excused = rng.random(len(fp)) < 0.12
    ad_excuse += np.where(fp_excused, ts[fp] + rng.integers(MINUTE, 9 * MINUTE, len(fp)) // 1000 * 1000, -1).tolist()
    ad_member_a, ad_ts_a, ad_kind_a = np.array(ad_member, np.int64), np.array(ad_ts, np.int64), np.array(ad_kind)
    ad_excuse_a, ad_warn_a = np.array(ad_excuse, np.int64), np.array(ad_warn)
    ad_excuse_a = np.where(ad_excuse_a < np.minimum(b[ad_member_a], now), ad_excuse_a, -1)
    ad_excuse_a = np.where((ad_excuse_a >= 0) & kicked[ad_member_a] & (ad_excuse_a >= kicked_at[ad_member_a]), -1,
                           ad_excuse_a)
    n_ads = len(ad_ts_a)
    exc = np.flatnonzero(ad_excuse_a >= 0)

    # every event: rosters, joins, leaves, check-ins, messages, spam ads, excusing red packets
    roster_members = ~joiner
    leavers = np.flatnonzero(left)
    joins = np.flatnonzero(joiner)
    spam_kinds = np.array([AD_KINDS[k][0] for k in ad_kind_a[:n_spam_ads]], np.int8)
    parts = [
        (g_first, np.full(G, -1), np.full(G, K_ROSTER), R_PLAIN, np.arange(G)),
        (joined[joins], joins, np.full(len(joins), K_JOIN), R_PLAIN, -1),
        (left_at[leavers], leavers, np.full(len(leavers), K_LEAVE), R_PLAIN, -1),
        (cts, cu, np.full(len(cts), K_TEXT), R_CHECKIN, np.arange(len(cts))),
        (ts, users, kinds, roles, refs),
        (ad_ts_a[:n_spam_ads], ad_member_a[:n_spam_ads], spam_kinds, R_AD, np.arange(n_spam_ads)),
        (ad_excuse_a[exc], ad_member_a[exc], np.full(len(exc), K_RED), R_EXCUSE, exc),
    ]
    e_ts = np.concatenate([p[0] for p in parts]).astype(np.int64)
    e_member = np.concatenate([np.asarray(p[1], np.int64) for p in parts])
    e_kind = np.concatenate([np.asarray(p[2], np.int8) for p in parts])
    e_role = np.concatenate([np.broadcast_to(np.asarray(p[3], np.int8), len(p[0])) for p in parts])
    e_ref = np.concatenate([np.broadcast_to(np.asarray(p[4], np.int64), len(p[0])) for p in parts])
    e_group = np.where(e_member >= 0, g[np.maximum(e_member, 0)], e_ref)
    order = np.argsort(e_ts, kind="stable")
    e_ts, e_member, e_kind, e_role, e_ref, e_group = (x[order] for x in (e_ts, e_member, e_kind, e_role, e_ref,
                                                                         e_group))
    where_ck = np.empty(len(cts), np.int64)
    sel = e_role == R_CHECKIN
    where_ck[e_ref[sel]] = np.flatnonzero(sel)
    where_ad = np.empty(n_ads, np.int64)
    sel = e_role == R_AD
    where_ad[e_ref[sel]] = np.flatnonzero(sel)
    where_excuse = np.full(n_ads, -1, np.int64)
    sel = e_role == R_EXCUSE
    where_excuse[e_ref[sel]] = np.flatnonzero(sel)

    # check-ins: rank within the group's local day, streak of consecutive days, points
    c_group = g[cu]
    by_day = np.lexsort((cts, cday, c_group))
    key = np.r_[True, (c_group[by_day][1:] != c_group[by_day][:-1]) | (cday[by_day][1:] != cday[by_day][:-1])]
    run = np.maximum.accumulate(np.where(key, np.arange(len(by_day)), 0))
    rank = np.empty(len(cts), np.int64)
    rank[by_day] = np.arange(len(by_day)) - run + 1
    by_member = np.lexsort((cday, cu))
    u, d = cu[by_member], cday[by_member]
    brk = np.r_[True, (u[1:] != u[:-1]) | (d[1:] != d[:-1] + 1)]
    run = np.maximum.accumulate(np.where(brk, np.arange(len(by_member)), 0))
    streak = np.empty(len(cts), np.int64)
    streak[by_member] = np.arange(len(by_member)) - run + 1
    points = 5 + np.minimum(streak - 1, 10)

    # the points ledger: check-ins, message awards (60 s cooldown, 20 a day), red packets (10)
    eligible = (e_kind == K_TEXT) & (e_role == R_PLAIN) & (rng.random(len(e_ts)) < 0.85)
    cand = np.flatnonzero(eligible)
    cand = cand[np.argsort(e_member[cand], kind="stable")]
    m, t = e_member[cand], e_ts[cand]
    new = np.r_[True, m[1:] != m[:-1]]
    cand = cand[new | (np.r_[0, np.diff(t)] >= 60 * SEC)]
    m, dd = e_member[cand], local_day(e_ts[cand])
    new = np.r_[True, (m[1:] != m[:-1]) | (dd[1:] != dd[:-1])]
    run = np.maximum.accumulate(np.where(new, np.arange(len(cand)), 0))
    awards = cand[np.arange(len(cand)) - run < 20]
    reds = np.flatnonzero(e_kind == K_RED)
    l_event = np.concatenate([where_ck, awards, reds])
    l_delta = np.concatenate([points, np.ones(len(awards), np.int64), np.full(len(reds), 10)])
    l_reason = np.concatenate([np.zeros(len(cts), np.int8), np.ones(len(awards), np.int8),
                               np.full(len(reds), 2, np.int8)])
    lo_ = np.argsort(l_event, kind="stable")
    l_event, l_delta, l_reason = l_event[lo_], l_delta[lo_], l_reason[lo_]
    l_member = e_member[l_event]
    by = np.lexsort((l_event, l_member))
    cum = np.cumsum(l_delta[by])
    firsts = np.r_[True, l_member[by][1:] != l_member[by][:-1]]
    base = np.maximum.accumulate(np.where(firsts, np.arange(len(by)), 0))
    l_balance = np.empty(len(l_event), np.int64)
    l_balance[by] = cum - (cum[base] - l_delta[by][base])

    return {"rng": rng, "now": now, "start": start, "sizes": sizes, "g_first": g_first, "dormant": dormant,
            "g": g, "joiner": joiner, "joined": joined, "first_seen": first_seen, "left": left, "left_at": left_at,
            "spam": spam, "kicked": kicked, "roster_members": roster_members, "checker_groups": ck_group,
            "e_ts": e_ts, "e_member": e_member, "e_kind": e_kind, "e_role": e_role, "e_ref": e_ref,
            "e_group": e_group, "ck_member": cu, "ck_day": cday, "ck_ts": cts, "ck_rank": rank, "ck_streak": streak,
            "ck_points": points, "ck_event": where_ck, "ad_member": ad_member_a, "ad_ts": ad_ts_a,
            "ad_kind": ad_kind_a, "ad_warn": ad_warn_a, "ad_event": where_ad, "ad_excuse_event": where_excuse,
            "n_spam_ads": n_spam_ads, "l_event": l_event, "l_delta": l_delta, "l_reason": l_reason,
            "l_member": l_member, "l_balance": l_balance}


def ad_details(rng: Any, n_ads: int, kinds: Any) -> list[dict[str, Any]]:
    """Each ad's text or attachment, its check, score, evidence and the reasons of its notes."""
    out = []
    for i in range(n_ads):
        etype, kind, check, _ = AD_KINDS[int(kinds[i])]
        contact = f"{''.join(rng.choice(list('abcdefghjkmnpqrstuvwxyz'), 3))}{int(rng.integers(10_000, 99_999))}"
        qq = str(int(rng.integers(10_000_000, 999_999_999)))
        if etype == K_TEXT:
            text = AD_TEXTS[int(rng.integers(len(AD_TEXTS)))].format(c=contact, q=qq)
            check, score, reason = TEXT_CHECKS[int(rng.integers(len(TEXT_CHECKS)))]
            evidence = f"加微 微信{contact}" if check == "contact" else text[:40]
            notes = [{"reason": reason, "score": score, "evidence": evidence[:200]},
                     {"reason": f"ad (text): {evidence[:80]}"}]
            out.append({"check": check, "kind": kind, "score": score, "evidence": evidence, "text": text,
                        "notes": notes})
            continue
        evidence = {K_LINK: f"https://t.cn/A{contact}", K_IMAGE: f"https://u.wechat.com/E{contact}{qq}",
                    K_CARD: f"兼职客服-{contact}", K_MINI: "砍价0元拿"}[etype]
        notes = ([{"reason": "QR code: 个人微信", "qr_kind": "personal"}] if etype == K_IMAGE else [])
        notes.append({"reason": f"ad ({kind}): {evidence[:80]}"})
        out.append({"check": check, "kind": kind, "score": 1.0, "evidence": evidence, "text": None, "notes": notes})
    return out


def group_names(rng: Any, n_groups: int) -> list[str | None]:
    names: list[str | None] = [f"{CITIES[int(rng.integers(len(CITIES)))]}{TOPICS[int(rng.integers(len(TOPICS)))]}"
                               f"群-{i + 1:04d}" for i in range(n_groups)]
    odd = rng.choice(n_groups, size=min(n_groups, len(MARKUP_GROUPS) + 2), replace=False).tolist()
    for j, i in enumerate(odd):
        names[i] = f"{MARKUP_GROUPS[j]}-{i + 1:04d}" if j < len(MARKUP_GROUPS) else None
    return names


def build(db: Path, args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    """Create the schema with Store.open(), then fill it with plain sqlite3."""
    import numpy as np

    from bench import reports
    from bench.reports import day_text, local_day, local_iso_ms, make_names, text_pool, user_id, utc_texts

    t0 = time.perf_counter()
    reports.migrate(db)
    w = generate(args.groups, args.members, args.events, args.seed)
    t_gen = time.perf_counter() - t0
    rng, now = w["rng"], w["now"]
    n, G = len(w["g"]), args.groups
    e_ts, e_member, e_kind, e_role, e_group = (w[k] for k in ("e_ts", "e_member", "e_kind", "e_role", "e_group"))
    n_events = len(e_ts)
    log(f"generated {n_events:,} events, {len(w['ck_ts']):,} check-ins, {len(w['ad_ts']):,} ads, "
        f"{len(w['l_event']):,} ledger rows in {t_gen:.1f}s; inserting")
    gids = [group_id(i) for i in range(G)]
    gnames = group_names(rng, G)
    uids = [user_id(i) for i in range(n)]
    names = make_names(rng, n)
    for i in rng.choice(n, size=max(1, n // 1000), replace=False).tolist():
        names[i] = MARKUP_NAMES[i % len(MARKUP_NAMES)]
    names_json = [json.dumps(x, ensure_ascii=False) for x in names]
    gname_part = [f',"group_name":{json.dumps(x, ensure_ascii=False)}' if x else "" for x in gnames]
    ads = ad_details(rng, len(w["ad_ts"]), w["ad_kind"])
    ad_of_event = {int(e): i for i, e in enumerate(w["ad_event"].tolist())}
    g_of = w["g"]

    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")  # a bench database: written once, then only read
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")
    con.execute("BEGIN")

    # events, in time order, ids increasing with time (as a platform's message ids do)
    base_id = 7_000_000_000_000_000_000
    eids = [str(base_id + i * 7919) for i in range(n_events)]
    pool = text_pool(rng)
    texts = rng.integers(0, len(pool), n_events)
    media = ("voice", "video", "sticker", "file", "location")
    checkin_text = json.dumps("签到", ensure_ascii=False)
    roster_of: dict[int, list[int]] = {}
    for i in np.flatnonzero(w["roster_members"]).tolist():
        roster_of.setdefault(int(g_of[i]), []).append(i)
    all_kinds = (*reports.MESSAGE_KINDS, "join", "leave", "roster")
    sql = "INSERT INTO events (id, ts, group_id, user_id, type, payload, handled_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
    chunk = 200_000
    for s in range(0, n_events, chunk):
        e = slice(s, s + chunk)
        c_ts = e_ts[e]
        stored, handled, local = utc_texts(c_ts), utc_texts(c_ts + 150_000), local_iso_ms(c_ts)
        c_member, c_kind, c_role, c_group = (x[e].tolist() for x in (e_member, e_kind, e_role, e_group))
        c_text = texts[e].tolist()
        rows = []
        for j in range(len(stored)):
            i, u, k, gi = s + j, c_member[j], c_kind[j], c_group[j]
            eid = eids[i]
            if k == K_ROSTER:
                listed = json.dumps([{"id": uids[m], "name": names[m]} for m in roster_of.get(gi, [])],
                                    ensure_ascii=False)
                payload = (f'{{"id":"{eid}","ts":"{local[j]}","group":"{gids[gi]}"{gname_part[gi]},"type":"roster",'
                           f'"members":{listed},"complete":true}}')
                rows.append((eid, stored[j], gids[gi], None, "roster", payload, handled[j]))
                continue
            ad = ads[ad_of_event[i]] if c_role[j] == R_AD else None
            if k == K_TEXT:
                text = (checkin_text if c_role[j] == R_CHECKIN else json.dumps(ad["text"], ensure_ascii=False)
                        if ad else pool[c_text[j]])
                tail = f',"text":{text},"mentions":[]}}'
            elif k == K_IMAGE:
                tail = f',"path":"media/{eid}.jpg"}}'
            elif k == 2:
                tail = f',"kind":"{media[i % 5]}"}}'
            elif k == K_LINK:
                tail = (f',"url":"{ad["evidence"]}","title":"点击领取现金红包"}}' if ad else
                        f',"url":"https://mp.weixin.qq.com/s/{i:x}","title":"本周分享"}}')
            elif k == K_MINI:
                tail = ',"title":"砍价0元拿","app":"wx_kanjia"}' if ad else ',"title":"打卡小程序","app":"wx_checkin"}'
            elif k == K_CARD:
                tail = (f',"card_name":{json.dumps(ad["evidence"], ensure_ascii=False)}}}' if ad else
                        f',"card_name":{names_json[(u * 31 + 7) % n]}}}')
            else:  # red packet, join, leave
                tail = "}"
            payload = (f'{{"id":"{eid}","ts":"{local[j]}","group":"{gids[gi]}"{gname_part[gi]},"user":"{uids[u]}",'
                       f'"user_name":{names_json[u]},"type":"{all_kinds[k]}"{tail}')
            rows.append((eid, stored[j], gids[gi], uids[u], all_kinds[k], payload, handled[j]))
        con.executemany(sql, rows)
        log(f"  {s + len(rows):,} events")

    # members: stats from the events (as the activity handler keeps them)
    msg = (e_kind <= 6) & (e_member >= 0)
    message_count = np.bincount(e_member[msg], minlength=n)
    last_active = np.full(n, -1, np.int64)
    np.maximum.at(last_active, e_member[msg], e_ts[msg])
    la_text, first_text = utc_texts(np.maximum(last_active, 0)), utc_texts(w["first_seen"])
    joined_text, left_text = utc_texts(w["joined"]), utc_texts(np.maximum(w["left_at"], 0))
    joiner, left = w["joiner"].tolist(), w["left"].tolist()
    member_rows = [(gids[g_of[i]], uids[i], names[i], first_text[i], joined_text[i] if joiner[i] else None,
                    left_text[i] if left[i] else None, la_text[i] if last_active[i] >= 0 else None,
                    int(message_count[i])) for i in range(n)]
    member_rows.sort(key=lambda r: (r[0], r[1]))
    con.executemany(
        "INSERT INTO members (group_id, user_id, display_name, first_seen_at, joined_at, left_at, last_active_at, "
        "message_count, reminded_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)", member_rows)
    del member_rows
    g_last = np.full(G, -1, np.int64)
    np.maximum.at(g_last, e_group, e_ts)
    gf_text, gl_text = utc_texts(w["g_first"]), utc_texts(g_last)
    con.executemany("INSERT INTO groups (id, name, first_seen_at, last_active_at) VALUES (?, ?, ?, ?)",
                    [(gids[i], gnames[i], gf_text[i], gl_text[i]) for i in range(G)])
    log("  members, groups")

    # check-ins and the per-day counters
    c_ts = utc_texts(w["ck_ts"])
    days = {int(d): day_text(d) for d in np.unique(w["ck_day"])}
    cm, cd, cr, cs, cp, ce = (w[k].tolist() for k in ("ck_member", "ck_day", "ck_rank", "ck_streak", "ck_points",
                                                      "ck_event"))
    con.executemany(
        "INSERT INTO checkins (group_id, user_id, local_date, rank, streak, points, ts, event_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(gids[g_of[cm[j]]], uids[cm[j]], days[cd[j]], cr[j], cs[j], cp[j], c_ts[j], eids[ce[j]])
         for j in range(len(cm))])
    key = g_of[w["ck_member"]].astype(np.int64) * 1_000_000 + w["ck_day"]
    per_day, count = np.unique(key, return_counts=True)
    con.executemany("INSERT INTO checkin_days (group_id, local_date, count) VALUES (?, ?, ?)",
                    [(gids[int(k // 1_000_000)], days[int(k % 1_000_000)], int(c))
                     for k, c in zip(per_day.tolist(), count.tolist(), strict=True)])
    log("  check-ins")

    # the points ledger (in time order: its ids increase with time) and the balances
    l_event, l_delta, l_reason, l_member = (w[k] for k in ("l_event", "l_delta", "l_reason", "l_member"))
    l_ts = utc_texts(e_ts[l_event])
    reasons = ("checkin", "message", "red_packet")
    le, ld, lr, lm = l_event.tolist(), l_delta.tolist(), l_reason.tolist(), l_member.tolist()
    con.executemany(
        "INSERT INTO points_ledger (group_id, user_id, delta, reason, note, event_id, actor, ts) "
        "VALUES (?, ?, ?, ?, NULL, ?, NULL, ?)",
        [(gids[g_of[lm[j]]], uids[lm[j]], ld[j], reasons[lr[j]], eids[le[j]], l_ts[j]) for j in range(len(le))])
    balance = np.bincount(l_member, weights=l_delta, minlength=n).astype(np.int64)
    updated = np.full(n, -1, np.int64)
    np.maximum.at(updated, l_member, e_ts[l_event])
    is_msg = l_reason == 1
    award_last = np.full(n, -1, np.int64)
    np.maximum.at(award_last, l_member[is_msg], e_ts[l_event[is_msg]])
    award_day = local_day(np.maximum(award_last, 0))
    same_day = is_msg & (local_day(e_ts[l_event]) == award_day[l_member])
    day_points = np.bincount(l_member[same_day], minlength=n)
    has = np.flatnonzero(updated >= 0)
    up_text, aw_text = utc_texts(updated[has]), utc_texts(np.maximum(award_last[has], 0))
    con.executemany(
        "INSERT INTO points_balances (group_id, user_id, balance, message_day, message_points, "
        "last_message_award_at, updated_at, top_level) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
        sorted((gids[g_of[i]], uids[i], int(balance[i]),
                day_text(award_day[i]) if award_last[i] >= 0 else None, int(day_points[i]),
                aw_text[j] if award_last[i] >= 0 else None, up_text[j]) for j, i in enumerate(has.tolist())))
    log("  points")

    # ad offences (excused by their red packet's event) and the audit log
    ad_ev, ad_ex = w["ad_event"].tolist(), w["ad_excuse_event"].tolist()
    ad_mem = w["ad_member"].tolist()
    a_ts = utc_texts(e_ts[w["ad_event"]])
    con.executemany(
        'INSERT INTO ad_offences (event_id, group_id, user_id, ts, kind, "check", evidence, excused_by) '
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(eids[ad_ev[j]], gids[g_of[ad_mem[j]]], uids[ad_mem[j]], a_ts[j], ads[j]["kind"], ads[j]["check"],
          ads[j]["evidence"][:2000], eids[ad_ex[j]] if ad_ex[j] >= 0 else None) for j in range(len(ad_ev))])
    # owners' decisions (/ad, /notad) on ~3% of the text ads: the moderation queue shows them
    texts_ads = [j for j, ad in enumerate(ads) if ad["text"]]
    labelled = rng.choice(len(texts_ads), size=len(texts_ads) // 33, replace=False).tolist()
    con.executemany(
        "INSERT INTO ad_samples (event_id, text, label, group_id, decided_by, ts) VALUES (?, ?, ?, ?, ?, ?)",
        [(eids[ad_ev[j]], ads[j]["text"], "ham" if k % 10 == 0 else "ad", gids[g_of[ad_mem[j]]], "admin1",
          utc_texts(e_ts[[ad_ev[j]]] + HOUR)[0]) for k, j in enumerate(texts_ads[i] for i in labelled)])
    n_actions = write_actions(con, w, ads, gids, gnames, uids, names, eids, l_ts)
    con.execute("COMMIT")
    con.execute("PRAGMA journal_mode=WAL")  # as the store keeps it
    con.close()
    log("  ads, audit log")

    log("checking the data's consistency")
    checks = check_database(db)
    sizes = w["sizes"]
    present = ~w["left"]
    today0 = local_day(np.array([now]))[0] * reports.DAY_US - reports.LOCAL_OFFSET_S * SEC
    return {
        "groups": G, "members": n, "present": int(present.sum()), "left": int(w["left"].sum()),
        "joined_in_month": int(w["joiner"].sum()), "spammers": int(w["spam"].sum()), "kicked": int(w["kicked"].sum()),
        "biggest_groups": sorted(sizes.tolist(), reverse=True)[:6], "median_group": int(np.median(sizes)),
        "dormant_groups": int(w["dormant"].sum()), "events": n_events,
        "messages": int(msg.sum()), "events_today": int((e_ts >= today0).sum()),
        "events_7d": int((e_ts >= now - 7 * reports.DAY_US).sum()), "days": DAYS,
        "checkins": len(w["ck_ts"]), "checkin_days": len(per_day), "ads": len(ad_ev),
        "ads_excused": sum(1 for x in ad_ex if x >= 0),
        "ads_7d": int((w["ad_ts"] >= now - 7 * reports.DAY_US).sum()),
        "ledger": len(le), "balances": len(has), "actions": n_actions,
        "build_s": time.perf_counter() - t0, "generate_s": t_gen, "checks": checks,
    }


ACTIVITY_SQL = "('text', 'image', 'media', 'link', 'red_packet', 'mini_program', 'contact_card')"
CHECKS = {
    "members' message_count and last_active_at == their events": f"""
        WITH e AS (SELECT group_id, user_id, max(ts) AS t, count(*) AS c FROM events
                   WHERE type IN {ACTIVITY_SQL} GROUP BY group_id, user_id)
        SELECT count(*) FROM members AS m LEFT JOIN e ON e.group_id = m.group_id AND e.user_id = m.user_id
        WHERE m.last_active_at IS NOT e.t OR m.message_count != coalesce(e.c, 0)""",
    "groups' last_active_at == their latest event": """
        SELECT count(*) FROM groups AS g LEFT JOIN (SELECT group_id, max(ts) AS t FROM events GROUP BY group_id) AS e
        ON e.group_id = g.id WHERE g.last_active_at IS NOT e.t""",
    "members joined / left == their join / leave events": """
        SELECT (SELECT count(*) FROM members WHERE joined_at IS NOT NULL) - (SELECT count(*) FROM events
                WHERE type = 'join')
             + (SELECT count(*) FROM members WHERE left_at IS NOT NULL) - (SELECT count(*) FROM events
                WHERE type = 'leave')""",
    "checkin_days == count of checkins (and ranks 1..n)": """
        SELECT count(*) FROM checkin_days AS d WHERE d.count != (SELECT count(*) FROM checkins AS c
               WHERE c.group_id = d.group_id AND c.local_date = d.local_date)
           OR d.count != (SELECT max(rank) FROM checkins AS c WHERE c.group_id = d.group_id
                          AND c.local_date = d.local_date)""",
    "checkins are 签到 texts of their member": """
        SELECT count(*) FROM checkins AS c LEFT JOIN events AS e ON e.id = c.event_id
        WHERE e.id IS NULL OR e.user_id != c.user_id OR e.type != 'text' OR e.ts != c.ts
           OR json_extract(e.payload, '$.text') != '签到'""",
    "points balances == ledger sums": """
        SELECT count(*) FROM points_balances AS b WHERE b.balance != (SELECT sum(delta) FROM points_ledger AS l
               WHERE l.group_id = b.group_id AND l.user_id = b.user_id)""",
    "ad offences: their event, notes with a reason, an action": """
        SELECT count(*) FROM ad_offences AS o LEFT JOIN events AS e ON e.id = o.event_id
        WHERE e.id IS NULL OR e.user_id != o.user_id
           OR NOT EXISTS (SELECT 1 FROM actions AS a WHERE a.event_id = o.event_id AND a.action = 'note'
                          AND json_extract(a.data, '$.reason') IS NOT NULL)
           OR NOT EXISTS (SELECT 1 FROM actions AS a WHERE a.event_id = o.event_id AND a.action != 'note')""",
    "excused offences: a red packet of the member after the ad": """
        SELECT count(*) FROM ad_offences AS o LEFT JOIN events AS e ON e.id = o.excused_by
        WHERE o.excused_by IS NOT NULL AND (e.id IS NULL OR e.type != 'red_packet' OR e.user_id != o.user_id
                                            OR e.ts <= o.ts)""",
}


def check_database(db: Path) -> dict[str, bool]:
    """The data consistent with itself as the bot keeps it (each query counts the rows that are not)."""
    con = sqlite3.connect(db)
    try:
        return {name: con.execute(sql).fetchone()[0] == 0 for name, sql in CHECKS.items()}
    finally:
        con.close()


def write_actions(con: sqlite3.Connection, w: dict[str, Any], ads: list[dict[str, Any]], gids: list[str],
                  gnames: list[str | None], uids: list[str], names: list[str], eids: list[str],
                  l_ts: list[str]) -> int:
    """The audit log as the bot writes it (bot/audit.py: action_rows, note_rows), all delivered."""
    import numpy as np

    from bench.reports import day_text, utc_texts

    e_ts, e_member, e_group = w["e_ts"], w["e_member"], w["e_group"]
    g_of = w["g"]
    sql = ("INSERT INTO actions (id, ts, event_id, action, rule, group_id, user_id, data, body, status, sent_at) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    total = 0

    def iso_z(text: str) -> str:  # the action body's ts: '2026-03-20T13:30:00Z' (as model_dump writes it)
        return text[:10] + "T" + text[11:19] + "Z"

    def reply(eid: str, rule: str, group: str, text: str, mention: str, data: dict[str, Any], ts: str) -> str:
        return json.dumps({"action": "send", "rule": rule, "data": data, "group": group, "text": text,
                           "mentions": [mention], "reply_to": eid, "ts": iso_z(ts)})

    # check-ins: the reply (its data as the handler records it, the balance after the check-in)
    l_event, l_balance, l_reason = w["l_event"], w["l_balance"], w["l_reason"]
    balance_after = dict(zip(l_event.tolist(), l_balance.tolist(), strict=True))
    ck_text = utc_texts(w["ck_ts"])
    rows = []
    for j, ev in enumerate(w["ck_event"].tolist()):
        m = int(e_member[ev])
        eid, ts, group = eids[ev], ck_text[j], gids[g_of[m]]
        data = {"event": eid, "rank": int(w["ck_rank"][j]), "streak": int(w["ck_streak"][j]),
                "points": int(w["ck_points"][j]), "balance": balance_after[ev], "already": False,
                "day": day_text(int(w["ck_day"][j]))}
        text = CHECKIN_REPLY.format(name=names[m], **{k: data[k] for k in ("rank", "streak", "points", "balance")})
        rows.append((f"{eid}#0", ts, eid, "send", "checkin", group, None, json.dumps(data),
                     reply(eid, "checkin", group, text, uids[m], data, ts), "sent", ts))
        if len(rows) >= 100_000:
            con.executemany(sql, rows)
            total += len(rows)
            rows = []
    # points awards for messages and red packets: a note each
    for j in np.flatnonzero(l_reason > 0).tolist():
        ev = int(l_event[j])
        eid, ts = eids[ev], l_ts[j]
        kind = "text" if l_reason[j] == 1 else "red_packet"
        awarded = 1 if kind == "text" else 10
        rows.append((f"{eid}#note0", ts, eid, "note", "points/award", gids[e_group[ev]], None,
                     f'{{"reason": "{kind}", "awarded": {awarded}, "balance": {int(l_balance[j])}}}', "{}", "note",
                     None))
        if len(rows) >= 100_000:
            con.executemany(sql, rows)
            total += len(rows)
            rows = []
    # ads: the checks' notes and the warning (or the kick at the 3rd); an excusing red packet's thanks
    a_ts = utc_texts(e_ts[w["ad_event"]])
    ex_ts = utc_texts(e_ts[np.maximum(w["ad_excuse_event"], 0)])
    for j, ad in enumerate(ads):
        ev = int(w["ad_event"][j])
        m = int(e_member[ev])
        eid, ts, group, rule = eids[ev], a_ts[j], gids[g_of[m]], f"ads/{ad['check']}"
        for k, note in enumerate(ad["notes"]):
            rows.append((f"{eid}#note{k}", ts, eid, "note", rule, group, None, json.dumps(note), "{}", "note", None))
        warnings = int(w["ad_warn"][j])
        facts = {"event": eid, "kind": ad["kind"], "warnings": warnings, "score": ad["score"]}
        if warnings < 3:
            text = (PROMPT if warnings == 1 else FINAL).format(name=names[m])
            rows.append((f"{eid}#0", ts, eid, "send", rule, group, None, json.dumps(facts),
                         reply(eid, rule, group, text, uids[m], facts, ts), "sent", ts))
        else:
            data = {**facts, "user_name": names[m], "group_name": gnames[g_of[m]],
                    "then": [{"action": "send", "rule": rule, "group": group, "text": "广告 3 次，已请出群"}],
                    "otherwise": [{"action": "send", "rule": rule, "group": group, "text": "未能移出，已通知管理员"}]}
            body = {"action": "kick", "rule": rule, "data": data, "group": group, "user": uids[m],
                    "reason": f"广告 3 次（{ad['kind']}）", "ts": iso_z(ts)}
            rows.append((f"{eid}#0", ts, eid, "kick", rule, group, uids[m], json.dumps(data), json.dumps(body),
                         "sent", ts))
        ex = int(w["ad_excuse_event"][j])
        if ex >= 0:
            rid = eids[ex]
            rts = ex_ts[j]
            data = {"kind": ad["kind"], "excused": True, "offence": eid, "warnings": max(0, warnings - 1)}
            rows.append((f"{rid}#0", rts, rid, "send", rule, group, None, json.dumps(data),
                         reply(rid, rule, group, THANKS.format(name=names[m]), uids[m], data, rts), "sent", rts))
    con.executemany(sql, rows)
    return total + len(rows)


def open_database(args: argparse.Namespace, folder: Path, log: Callable[[str], None]) -> tuple[Path, dict[str, Any]]:
    """Build the database, or reuse --db when its parameters match."""
    from bench.reports import migrate

    params = {"groups": args.groups, "members": args.members, "events": args.events, "seed": args.seed,
              "now": NOW.isoformat(), "days": DAYS, "v": PARAMS_VERSION}
    db = Path(args.db) if args.db else folder / "web.db"
    stamp = db.with_name(db.name + ".params.json")
    if db.exists() and stamp.exists():
        saved = json.loads(stamp.read_text())
        if saved.get("params") == params:
            log(f"reusing {db} (same parameters); migrating it if its schema is older")
            migrate(db)
            return db, {**saved["info"], "reused": True, "db_mb": db.stat().st_size / 1e6}
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), stamp):
        p.unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    info = build(db, args, log)
    info["db_mb"] = db.stat().st_size / 1e6
    stamp.write_text(json.dumps({"params": params, "info": info}))
    return db, info


def pick_groups(db: Path) -> dict[str, tuple[str, int]]:
    """The biggest group, and a typical one (the median size among groups active today)."""
    con = sqlite3.connect(db)
    try:
        sizes = con.execute("SELECT group_id, count(*) FROM members WHERE left_at IS NULL GROUP BY group_id "
                            "ORDER BY 2 DESC, 1").fetchall()
        today = con.execute("SELECT id FROM groups WHERE last_active_at >= ?",
                            ((NOW.replace(hour=0, minute=0, second=0, microsecond=0)).strftime("%Y-%m-%d %H:%M:%S"),)
                            ).fetchall()
    finally:
        con.close()
    lively = {g for (g,) in today}
    typical = [s for s in sizes if s[0] in lively and 30 <= s[1] <= 150] or sizes
    return {"big": sizes[0], "typical": typical[len(typical) // 2]}


# -- serving and timing -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_holder() -> Any:
    from rules.config import Config
    from rules.reload import ConfigHolder

    return ConfigHolder(Config.from_text(CONFIG), None)


async def sign_in(session: Any, base: str) -> None:
    """As a browser: the form's csrf field (and its cookie), then the token."""
    async with session.get(f"{base}/login") as r:
        form = await r.text()
    found = re.search(r'name="csrf" value="([^"]+)"', form)
    if found is None:
        raise RuntimeError("no csrf field on /login")
    async with session.post(f"{base}/login", data={"csrf": found.group(1), "token": TOKEN, "next": "/"},
                            allow_redirects=False) as r:
        if r.status != 302:
            raise RuntimeError(f"sign-in answered {r.status}: {(await r.text())[:200]}")


async def fetch(session: Any, url: str) -> tuple[float, int, int]:
    t = time.perf_counter()
    async with session.get(url, allow_redirects=False) as r:
        body = await r.read()
    return time.perf_counter() - t, r.status, len(body)


def page_paths(groups: dict[str, tuple[str, int]]) -> dict[str, tuple[str, str, str]]:
    """Page name -> (path, route, target key)."""
    return {"overview": ("/", "/", "overview"),
            "group (big)": (f"/groups/{quote(groups['big'][0], safe='')}", "/groups/{id}", "group"),
            "group (typical)": (f"/groups/{quote(groups['typical'][0], safe='')}", "/groups/{id}", "group"),
            "moderation": ("/moderation", "/moderation", "moderation")}


def built_routes(app: Any) -> set[str]:
    """The GET routes the app has (their path templates)."""
    out = set()
    for route in app.router.routes():
        if route.method in ("GET", "*"):
            info = route.resource.get_info() if route.resource is not None else {}
            out.add(info.get("path") or info.get("formatter") or "")
    return out


class Errors(logging.Handler):
    """The console's logged errors (a page that fails answers 500 and logs why): counted, the last kept,
    not printed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count, self.last = 0, ""

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        exc = record.exc_info[1] if record.exc_info else None
        self.last = record.getMessage() + (f": {type(exc).__name__}: {exc}" if exc else "")


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class Probe:
    """Where a page's time goes: the store's reads, the Jinja2 rendering, the whole answer (server side)."""

    def __init__(self) -> None:
        self.store = self.render = self.server = 0.0
        self.reads = 0

    def install(self, app: Any, store: Any) -> Callable[[], None]:
        import jinja2
        from aiohttp import web

        probe = self
        read, rows, render = store.read, store.rows, jinja2.Template.render

        async def timed_read(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return await read(*a, **k)
            finally:
                probe.store += time.perf_counter() - t
                probe.reads += 1

        async def timed_rows(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return await rows(*a, **k)
            finally:
                probe.store += time.perf_counter() - t
                probe.reads += 1

        def timed_render(self_: Any, *a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return render(self_, *a, **k)
            finally:
                probe.render += time.perf_counter() - t

        @web.middleware
        async def timing(request: Any, handler: Any) -> Any:
            t = time.perf_counter()
            try:
                return await handler(request)
            finally:
                probe.server += time.perf_counter() - t

        store.read, store.rows = timed_read, timed_rows
        jinja2.Template.render = timed_render  # type: ignore[method-assign]
        app.middlewares.insert(0, timing)

        def remove() -> None:
            del store.read, store.rows
            jinja2.Template.render = render  # type: ignore[method-assign]

        return remove

    def reset(self) -> None:
        self.store = self.render = self.server = 0.0
        self.reads = 0


async def serve_and_time(args: argparse.Namespace, db: Path, groups: dict[str, tuple[str, int]],
                         figures: dict[str, Any], log: Callable[[str], None]) -> None:
    import aiohttp
    from aiohttp import web

    from bench.reports import captured_sql, drop_os_cache
    from bot.app import open_store
    from bot.clock import DrivenClock
    from bot.web.console import WebConsole
    from bot.web.server import make_app

    holder = config_holder()
    drop_os_cache(db)
    store = open_store(f"sqlite+aiosqlite:///{db}")
    await store.open()
    console = WebConsole(holder, store, DrivenClock(NOW), TOKEN, holder.current.model.web)
    app = make_app(console)
    probe = Probe()
    remove = probe.install(app, store)
    routes = built_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    pages = page_paths(groups)
    built = {name: route in routes for name, (_p, route, _t) in pages.items()}
    out: dict[str, Any] = {}
    figures["pages"] = out
    errors = Errors()
    web_log = logging.getLogger("qunbot.web")
    web_log.addHandler(errors)
    web_log.propagate = False
    statuses: dict[str, dict[int, int]] = {name: {} for name in pages}
    live = [name for name in pages if built[name]]

    async def answer(name: str) -> tuple[float, int, int]:
        before = errors.count
        got = await fetch(session, base + pages[name][0])
        statuses[name][got[1]] = statuses[name].get(got[1], 0) + 1
        if errors.count > before:
            out[name]["error"] = errors.last[:300]
        return got

    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            await sign_in(session, base)
            for name in pages:
                out[name] = {"path": pages[name][0], "target_s": TARGETS_S[pages[name][2]], "built": built[name]}
            log(f"serving on {base}; pages built: {', '.join(live) or 'none'}")
            for name in live:  # the first answer of each, on a fresh store with the file out of the OS cache
                t, status, size = await answer(name)
                out[name].update(first_s=t, status=status, bytes=size)
            for _ in range(WARMUP):
                for name in live:
                    await answer(name)
            laps: dict[str, list[float]] = {name: [] for name in live}
            for i in range(args.runs):
                for name in live:
                    t, _status, _size = await answer(name)
                    laps[name].append(t)
                if (i + 1) % 10 == 0:
                    log(f"  round {i + 1}/{args.runs}")
            for name in live:
                x = laps[name]
                out[name].update(p50_s=statistics.median(x), p95_s=nearest_rank(x, 0.95), max_s=max(x), min_s=min(x),
                                 runs=len(x))

            # where the time goes
            log("where the time goes")
            for name in live:
                probe.reset()
                answers = 5
                t0 = time.perf_counter()
                for _ in range(answers):
                    await answer(name)
                total = time.perf_counter() - t0
                out[name]["split"] = {"answer_s": total / answers, "server_s": probe.server / answers,
                                      "store_s": probe.store / answers, "render_s": probe.render / answers,
                                      "reads": probe.reads / answers}
                with captured_sql(store) as sent:
                    await answer(name)
                out[name]["statements"] = plain_statements(db, sent)
                over = out[name]["p95_s"] > out[name]["target_s"]
                if over or args.profile:
                    prof = cProfile.Profile()
                    prof.enable()
                    for _ in range(answers):
                        await answer(name)
                    prof.disable()
                    text = io.StringIO()
                    stats = pstats.Stats(prof, stream=text)
                    stats.sort_stats("tottime").print_stats(18)
                    out[name]["profile"] = trim_profile(text.getvalue())
    finally:
        for name in live:
            out[name]["statuses"] = {str(k): v for k, v in sorted(statuses[name].items())}
        web_log.removeHandler(errors)
        web_log.propagate = True
        remove()
        await runner.cleanup()
        await store.close()


def trim_profile(text: str) -> str:
    """pstats' listing without its header lines and with the project's paths shortened."""
    keep = []
    started = False
    for row in text.splitlines():
        if row.lstrip().startswith("ncalls"):
            started = True
        if started and row.strip():
            keep.append(row.replace(str(ROOT) + "/", ""))
    return "\n".join(keep)


def plain_statements(db: Path, sent: list[tuple[str, tuple[Any, ...]]]) -> list[dict[str, Any]]:
    """Each statement a page sent, re-run in plain sqlite3 (median of 3, fetchall) with its plan."""
    from bench.reports import first_table, plan

    con = sqlite3.connect(db)
    out = []
    try:
        for sql, params in sent:
            laps, rows = [], []
            for _ in range(3):
                t = time.perf_counter()
                rows = con.execute(sql, params).fetchall()
                laps.append(time.perf_counter() - t)
            out.append({"table": first_table(sql), "median_s": statistics.median(laps), "rows": len(rows),
                        "plan": plan(db, sql, params), "sql": " ".join(sql.split())[:400]})
    finally:
        con.close()
    return out


# -- memory in a running bot (a subprocess) ------------------------------------------------------------

def vm_hwm_mb() -> float | None:
    try:
        for row in Path("/proc/self/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    except OSError:
        pass
    return None


async def rss_child(db: Path) -> None:
    """The subprocess: a bot's baseline, then the console beside it; readings as JSON lines on stdout.
    The parent asks the pages over HTTP and writes a line on stdin when it is done."""
    import gc

    readings: dict[str, Any] = {"start": rss_mb()}
    import bot.runner  # noqa: F401  (what `qunbot run` imports: the bot, the handlers, the scheduler)
    from bot.app import open_store
    from bot.clock import DrivenClock

    url = f"sqlite+aiosqlite:///{db}"
    store = open_store(url)
    await store.open()
    groups = list(await store.members.groups_named())
    await store.members.recent_sizes(groups, NOW)
    gc.collect()
    readings["baseline"] = rss_mb()
    readings["aiohttp_before"] = "aiohttp" in sys.modules
    readings["jinja2_before"] = "jinja2" in sys.modules
    from bot.web.serve import start_console

    gc.collect()
    readings["imported"] = rss_mb()
    port = free_port()
    _console, stop = await start_console(config_holder(), url, DrivenClock(NOW), host="127.0.0.1", port=port,
                                         token=TOKEN)
    gc.collect()
    readings["started"] = rss_mb()
    print(json.dumps({"port": port}), flush=True)
    loop = asyncio.get_running_loop()
    while (name := (await loop.run_in_executor(None, sys.stdin.readline)).strip()) not in ("", "done"):
        gc.collect()
        readings[name] = rss_mb()  # after the parent's answers so far
        print(json.dumps({"read": name}), flush=True)
    readings["peak"] = vm_hwm_mb()
    await stop()
    await store.close()
    print(json.dumps(readings), flush=True)


async def ask_pages(port: int, paths: list[str], times: int) -> dict[str, int]:
    import aiohttp

    base = f"http://127.0.0.1:{port}"
    statuses: dict[str, int] = {}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        await sign_in(session, base)
        for _ in range(times):
            for path in paths:
                _t, status, _n = await fetch(session, base + path)
                statuses[path] = status
    return statuses


def measure_rss(db: Path, pages: dict[str, str], log: Callable[[str], None]) -> dict[str, Any]:
    """The readings of `rss_child`: each page (name -> path) answered RSS_ANSWERS times in turn (a reading
    after each), then all of them RSS_MORE times more ("steady")."""
    log("memory: a bot's baseline, then the console beside it (a subprocess)")
    child = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--rss-child", str(db)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert child.stdin is not None and child.stdout is not None
    try:
        line = child.stdout.readline()
        if not line:
            raise RuntimeError("the memory subprocess ended early")
        port = json.loads(line)["port"]
        statuses: dict[str, int] = {}
        steps = [(f"after {name}", [path], RSS_ANSWERS) for name, path in pages.items()]
        for name, paths, rounds in [*steps, ("steady", list(pages.values()), RSS_MORE)]:
            statuses.update(asyncio.run(ask_pages(port, paths, rounds)))
            child.stdin.write(f"{name}\n")
            child.stdin.flush()
            child.stdout.readline()
        child.stdin.write("done\n")
        child.stdin.flush()
        readings = json.loads(child.stdout.readline())
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    readings["statuses"] = statuses
    readings["pages"] = list(pages)
    readings["extra_mb"] = readings["steady"] - readings["baseline"]
    return readings


# -- the report ------------------------------------------------------------------------------------------

def ms(x: float) -> str:
    return f"{x * 1000:,.1f} ms"


def line(label: str, value: str, note: str = "") -> str:
    return f"  {label:<40} {value:>12}  {note}".rstrip()


def report(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    d = figures["database"]
    out = [f"web console at scale (python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, "
           f"{os.cpu_count()} cpus; {args.runs} rounds after {WARMUP} warm-up, pages taking turns; times from "
           f"sending the request to the end of the body)",
           "-- database --",
           line("groups", f"{d['groups']:,}", f"biggest {', '.join(f'{x:,}' for x in d['biggest_groups'])}; median "
                                               f"{d['median_group']}; {d['dormant_groups']} silent for days"),
           line("members (present / left)", f"{d['members']:,}",
                f"({d['present']:,} / {d['left']:,}); joined this month {d['joined_in_month']:,}; spammers "
                f"{d['spammers']:,} ({d['kicked']:,} kicked)"),
           line("events (messages)", f"{d['events']:,}", f"({d['messages']:,}) over {d['days']} days; last 7 d "
                                                         f"{d['events_7d']:,}, today {d['events_today']:,}"),
           line("check-ins / ads / actions", f"{d['checkins']:,}",
                f"/ {d['ads']:,} ({d['ads_excused']:,} excused, {d['ads_7d']:,} in 7 d) / {d['actions']:,}; ledger "
                f"{d['ledger']:,}, balances {d['balances']:,}"),
           line("database file", f"{d.get('db_mb', 0):,.0f} MB",
                "reused" if d.get("reused") else f"built in {d['build_s']:.0f} s (generation {d['generate_s']:.0f} s)"),
           f"-- pages (big group {figures['groups']['big'][1]:,} members present, typical "
           f"{figures['groups']['typical'][1]:,}) --"]
    for name, p in figures["pages"].items():
        if not p["built"]:
            out.append(line(name, "not built yet", f"(no route for {p['path'].split('/')[1] or '/'}); target p95 < "
                                                   f"{ms(p['target_s'])}"))
            continue
        ok = "ok" if p["p95_s"] < p["target_s"] else "MISSED"
        bad = {k: v for k, v in p["statuses"].items() if k != "200"}
        status = "" if not bad else "; NOT 200: " + ", ".join(f"HTTP {k} x{v}" for k, v in bad.items()) + (
            f" ({p['error']})" if p.get("error") else "")
        out.append(line(name, ms(p["p95_s"]), f"p95 (target < {ms(p['target_s'])}: {ok}); p50 {ms(p['p50_s'])}, "
                                              f"max {ms(p['max_s'])}; first {ms(p['first_s'])}; "
                                              f"{p['bytes'] / 1000:,.0f} kB{status}"))
    out.append("-- where the time goes (mean of 5 answers; statements re-run in plain sqlite3) --")
    for name, p in figures["pages"].items():
        if not p["built"] or "split" not in p:
            continue
        s = p["split"]
        rest = s["server_s"] - s["store_s"] - s["render_s"]
        sql = sum(x["median_s"] for x in p["statements"])
        out.append(line(name, ms(s["answer_s"]),
                        f"server {ms(s['server_s'])} = store reads {ms(s['store_s'])} ({s['reads']:.0f}) + render "
                        f"{ms(s['render_s'])} + other Python {ms(rest)}; HTTP+client "
                        f"{ms(s['answer_s'] - s['server_s'])}; its SQL in plain sqlite3 {ms(sql)}"))
        for st in sorted(p["statements"], key=lambda x: -x["median_s"])[:4]:
            out.append(f"      {ms(st['median_s']):>10}  {st['table']:<16} {st['rows']:>6} rows; plan: "
                       + " | ".join(st["plan"])[:220])
    r = figures.get("rss")
    if r:
        ok = "ok" if r["extra_mb"] < TARGET_RSS_MB else "MISSED"
        out += ["-- the console's extra memory in a running bot (VmRSS, a subprocess) --",
                line("console extra RSS", f"{r['extra_mb']:,.1f} MB",
                     f"target < {TARGET_RSS_MB:.0f} MB: {ok}; baseline {r['baseline']:,.1f} MB (python "
                     f"{r['start']:,.1f} + bot, handlers, store)"),
                line("  import bot.web (aiohttp, Jinja2)", f"{r['imported'] - r['baseline']:+,.1f} MB",
                     f"aiohttp already loaded: {r['aiohttp_before']}, jinja2: {r['jinja2_before']}"),
                line("  start_console (own store, served)", f"{r['started'] - r['imported']:+,.1f} MB"),
                *(line(f"  {name} answered {RSS_ANSWERS} times", f"{r['after ' + name] - before:+,.1f} MB")
                  for name, before in zip(r["pages"], [r["started"], *(r["after " + x] for x in r["pages"])],
                                          strict=False)),
                line(f"  every page {RSS_MORE} times more", f"{r['steady'] - r['after ' + r['pages'][-1]]:+,.1f} MB",
                     f"peak VmHWM {r['peak']:,.1f} MB (+{r['peak'] - r['baseline']:,.1f} over the baseline); HTTP "
                     + ", ".join(f"{v}" for v in r["statuses"].values()))]
    out.append("-- checks (the data as the bot keeps it) --")
    for name, ok in d.get("checks", {}).items():
        out.append(f"  {'ok' if ok else 'FAILED':<6} {name}")
    print("\n".join(out))
    for name, p in figures["pages"].items():
        if p.get("profile"):
            print(f"-- cProfile of {name} (5 answers, client and server, by own time; the event loop's thread only: "
                  f"the SQL runs in aiosqlite's thread and shows as waiting, see the store reads above) --")
            print(p["profile"])
    slim = {k: v for k, v in figures.items() if k != "pages"}
    slim["pages"] = {k: {kk: vv for kk, vv in v.items() if kk != "profile"} for k, v in figures["pages"].items()}
    print(json.dumps(rounded(slim, 5), ensure_ascii=False, sort_keys=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=2_000_000, help="events over the 30 days (default 2,000,000)")
    parser.add_argument("--runs", type=int, default=30, help="timed rounds of the pages (default 30)")
    parser.add_argument("--seed", type=int, default=20260320)
    parser.add_argument("--db", help="keep the database in this file and reuse it while the parameters match")
    parser.add_argument("--quick", action="store_true", help="100 groups, 10,000 members, 200,000 events, 10 runs")
    parser.add_argument("--profile", action="store_true", help="a cProfile of every page (not only those over target)")
    parser.add_argument("--no-rss", action="store_true", help="skip the memory measure")
    parser.add_argument("--silent", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--rss-child", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        asyncio.run(rss_child(Path(args.rss_child)))
        return 0
    if args.quick:
        args.groups, args.members, args.events, args.runs = 100, 10_000, 200_000, 10
    if args.groups < 10 or args.members < 20 * args.groups or args.events < 2 * args.members or args.runs < 1:
        parser.error("--groups >= 10, --members >= 20 x --groups, --events >= 2 x --members, --runs >= 1")
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        if not args.silent:
            print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", file=sys.stderr, flush=True)

    figures: dict[str, Any] = {"args": {k: v for k, v in vars(args).items() if k not in ("db", "rss_child")}}
    with tempfile.TemporaryDirectory(prefix="qunbot-web-") as tmp:
        db, figures["database"] = open_database(args, Path(tmp), log)
        figures["groups"] = pick_groups(db)
        asyncio.run(serve_and_time(args, db, figures["groups"], figures, log))
        if not args.no_rss:
            pages = {name: p["path"] for name, p in figures["pages"].items() if p["built"]}
            figures["rss"] = measure_rss(db, pages, log)
    report(args, figures)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
