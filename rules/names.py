"""Display names are chosen by members, and some are ads ("兼职日结加V:abc12345"): such a name is never
repeated by the bot (a neutral placeholder, 新朋友, is said instead) and counts as an ad signal."""

from __future__ import annotations

import re
from functools import lru_cache

from rules.normalize import fold, to_simplified

# a contact or an ad word in a name: accounts (letters then 5+ digits, 7+ digits, a mobile), WeChat/QQ
# spellings, links, and the words of job/loan/traffic pitches
_AD_NAME = re.compile(
    r"(?<![a-z0-9])[a-z][a-z0-9_-]*\d{5,}|\d{7,}|1[3-9]\d{9}|vx|wx|v信|微信|薇信|威信号|加v|加微|qq|扣扣|"
    r"https?|www|\.com|\.cn|兼职|日结|刷单|返利|贷款|网贷|代理|招聘|招募|赚钱|引流|涨粉|套现|代购|微商|客服|推广|"
    r"接单|派单|彩票|博彩|荐股")
MAX_CACHED = 4_096


@lru_cache(maxsize=MAX_CACHED)
def ad_like_name(name: str | None) -> bool:
    """Does this display name carry a contact or an ad word? (folded: full-width, spacing, traditional)"""
    if not name:
        return False
    flat = re.sub(r"[\s._\-·•|/\\*]+", "", to_simplified(fold(name[:100])))
    return _AD_NAME.search(flat) is not None


def shown_name(name: str | None, placeholder: str) -> str | None:
    """The name to say in a message: the name itself, or `placeholder` when it is an ad."""
    return placeholder if ad_like_name(name) else name


NAME_FIELDS = ("user_name", "target_name", "name", "inviter", "names")


def mask_names(values: dict[str, object], placeholder: str) -> None:
    """Replace, in a template's values, every member name that is an ad by `placeholder`."""
    for key in NAME_FIELDS:
        value = values.get(key)
        if isinstance(value, str) and ad_like_name(value):
            values[key] = placeholder
