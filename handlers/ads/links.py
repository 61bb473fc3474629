"""The link check's findings: URLs, bare and disguised domains (www．xx．com, xx点com, spaced-out letters), short
links, IP addresses and APK downloads; domains on the group's allowlist (and their subdomains) pass."""

from __future__ import annotations

import re
from collections.abc import Sequence

from handlers.ads.folds import AdsText
from handlers.ads.patterns import (
    DISGUISE_HINT,
    DISGUISED,
    DISGUISED_DOT,
    FULLWIDTH_HOST,
    IP_URL,
    SHORTENERS,
    SPACED_HOST,
    SUSPICIOUS_TLDS,
    URL,
    Weights,
    host_allowed,
    host_of,
)


def link_finding(t: AdsText, allow_domains: Sequence[str], w: Weights) -> tuple[float, str, str]:
    """(score, reason, evidence) of the links in `t` as written (a domain is never "decoded")."""
    light = t.light
    if not any(c in light for c in ".点。") and "dot" not in light:
        return 0.0, "没有链接", ""
    found: list[tuple[float, str, str]] = []  # (score, reason, what was written)
    allowed: list[str] = []
    seen: set[str] = set()

    def add(host: str, score: float, reason: str, shown: str) -> None:
        host = host.strip(".")
        if not host or host in seen:
            return
        seen.add(host)
        if host_allowed(host, allow_domains):
            allowed.append(host)
        else:
            found.append((score, reason, shown))

    fullwidth = bool(FULLWIDTH_HOST.search(t.original))
    for m in URL.finditer(light):
        url = m.group(0).rstrip(".,;:!?")
        host = host_of(url)
        tld = host.rsplit(".", 1)[-1]
        if fullwidth and not url.startswith(("http://", "https://")):
            add(host, w.link_disguised, "全角字符写的域名（躲避链接过滤）", url)
        elif host in SHORTENERS or host.removeprefix("www.") in SHORTENERS:
            add(host, w.link_short, "短链接", url)
        elif url.split("?", 1)[0].endswith(".apk"):
            add(host, w.link_apk, "APK 下载链接", url)
        elif re.fullmatch(r"[\d.]+", host):
            add(host, w.link_ip, "IP 地址链接", url)
        elif tld in SUSPICIOUS_TLDS:
            add(host, w.link_suspicious, f"链接（.{tld} 域名）", url)
        else:
            add(host, w.link, "链接", url)
    if "/" in light:
        for m in IP_URL.finditer(light):
            add(host_of(m.group(0)), w.link_ip, "IP 地址链接", m.group(0))
    for m in DISGUISED.finditer(light) if DISGUISE_HINT.search(light) else ():
        host = re.sub(DISGUISED_DOT, ".", m.group(1))
        if any(c.isalpha() for c in host.rsplit(".", 2)[0]):
            add(host, w.link_disguised, "变形域名（躲避链接过滤）", m.group(1))
    if " " in light or "\u3000" in light:
        for m in SPACED_HOST.finditer(re.sub(r"\s+", "", light)):
            host = m.group(0)
            label = host.removeprefix("www.").split(".", 1)[0]
            # a word glued onto a domain written plainly (ping baidu.com) is not a spaced-out domain
            glued = any(host.endswith(known) for known in seen)
            if not glued and (len(label) >= 3 or host.startswith("www.")):
                add(host, w.link_disguised, "拆开写的域名（躲避链接过滤）", host)
    if not found:
        if allowed:
            return 0.0, "白名单域名（放行）", ", ".join(allowed)
        return 0.0, "没有链接", ""
    found.sort(key=lambda x: -x[0])
    score = min(w.link_cap, found[0][0] + w.link_more * (len(found) - 1))
    reason = found[0][1] + (f" 等 {len(found)} 个链接" if len(found) > 1 else "")
    if allowed:
        reason += "（白名单放行：" + ", ".join(allowed) + "）"
    return round(score, 3), reason, " ".join(s for _sc, _r, s in found)[:200]
