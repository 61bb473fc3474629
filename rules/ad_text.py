"""Ad detection on message text: four checks, each with a score and a reason, and their sum.

Every message is first normalised (`rules.normalize.analyse_for_ads`: NFKC, invisible characters,
homoglyphs, styled digits, emoji letters, traditional -> simplified, Chinese-numeral contacts,
separators between characters); the checks then read that form and report, like tg-spam, a verdict
and why, even when they found nothing (score 0):

- ``link``: URLs, bare domains, disguised domains (www．xx．com, xx点com, spaced-out letters), short
  links, IP addresses, APK downloads; domains on the group's allowlist (and their subdomains) pass;
- ``contact``: WeChat / QQ ids, phone numbers and e-mail addresses next to a lure (加V, 加我, 私聊,
  扫码, 拉你进群 ...), the disguised spellings of 微信 (vx, 薇信, 威❤, ➕V, jia wei ...), and the
  evasion tricks the normaliser undid (zero-width characters, ①②③, homoglyphs ...);
- ``pitch``: the owner's weighted pitch words (config ``ads.pitch_words``). One word is never enough
  on its own (我以前做过兼职 is not an ad); a second word, a contact or the classifier tips it over.
  A message that talks *about* ads (是骗局吗, 群规, 举报 ...) counts far less;
- ``classifier``: a logistic regression on character 1-3-grams (`AdModel`, trained by
  ``scripts/train_ad_model.py`` on the DEV part of the spam-zh corpus and retrainable with extra
  (text, label) rows such as the owners' /ad and /notad decisions).

`TextDetector.score` adds the four scores up; the caller flags an ad when the total reaches the
group's threshold (``ads.threshold``, 1.0; ``ads.new_member_threshold``, 0.6 for new members).
Build a `TextDetector` once per config load: it compiles the pitch words and allowlist.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rules.normalize import AdsText, analyse_for_ads, flatten, normalize_for_ads

CHECKS = ("link", "contact", "pitch", "classifier")
CLASSIFIER_MIN_CHARS = 8
CLASSIFIER_ALONE_MIN_CHARS = 20  # shorter than this, the model alone cannot reach the threshold
DEFAULT_MODEL_PATH = Path(__file__).with_name("ad_model.json.gz")
MAX_CHARS = 1500  # a longer message is checked on its first 1000 and last 500 characters
MODEL_FORMAT = "qunbot-ad-model"


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict: its score (0 when it found nothing), why, and the text it rests on."""

    check: str
    score: float
    reason: str
    evidence: str = ""


# ------------------------------------------------------------------------------------------------
# The statistical classifier
# ------------------------------------------------------------------------------------------------

_DIGITS = str.maketrans("0123456789", "0000000000")


def ngrams(flat: str, n: int = 3) -> set[str]:
    """Character 1..n-grams of a normalised message, digits folded to 0, with ^/$ at the ends."""
    s = "^" + flat.translate(_DIGITS) + "$"
    grams = {s[i : i + k] for k in range(1, n + 1) for i in range(len(s) - k + 1)}
    grams.discard("^")
    grams.discard("$")
    return grams


def without_links(t: AdsText) -> str:
    """The flat form with every URL and domain taken out: what the contact, pitch and classifier
    checks read. Links are the link check's business, and in the training corpus they are a style
    confounder (in under 1% of one source's lines but half of another's)."""
    if "." in t.light:
        return flatten(_URL.sub(" ", t.light))
    return t.flat


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-35.0, min(35.0, z))))


class AdModel:
    """A logistic regression over binary character n-grams, scaled by 1/sqrt(number of n-grams).

    `z_low` and `z_high` calibrate the check: a logit at or below `z_low` scores 0, `z_high` scores
    1.0 (the classifier alone reaches the default threshold), linear in between, capped at `cap`.
    """

    __slots__ = ("bias", "cap", "meta", "n", "weights", "z_high", "z_low")

    def __init__(self, weights: Mapping[str, float], bias: float, *, n: int = 3, z_low: float = 0.0,
                 z_high: float = 3.0, cap: float = 1.5, meta: Mapping[str, Any] | None = None) -> None:
        if z_high <= z_low:
            raise ValueError("z_high must be above z_low")
        self.weights = dict(weights)
        self.bias = float(bias)
        self.n = int(n)
        self.z_low = float(z_low)
        self.z_high = float(z_high)
        self.cap = float(cap)
        self.meta = dict(meta or {})

    def __len__(self) -> int:
        return len(self.weights)

    def logit(self, flat: str) -> float:
        """The log-odds that a message is an ad; `flat` is its `without_links` form."""
        weights = self.weights
        grams = ngrams(flat, self.n)
        if not grams:
            return self.bias
        return self.bias + sum(weights.get(g, 0.0) for g in grams) / math.sqrt(len(grams))

    def probability(self, text: str) -> float:
        """P(ad) for a raw message."""
        return _sigmoid(self.logit(without_links(analyse_for_ads(text))))

    def check_score(self, z: float) -> float:
        """The classifier check's score for a logit (see the class doc)."""
        return max(0.0, min(self.cap, (z - self.z_low) / (self.z_high - self.z_low)))

    def top_features(self, flat: str, k: int = 3) -> list[str]:
        """The `k` n-grams of `flat` that push hardest towards "ad" (the check's evidence)."""
        weights = self.weights
        scored = sorted(((weights.get(g, 0.0), g) for g in ngrams(flat, self.n)), reverse=True)
        picked: list[str] = []
        for w, g in scored:
            if w <= 0 or len(picked) >= k:
                break
            if not any(g in p for p in picked):
                picked.append(g.replace("^", "").replace("$", ""))
        return picked

    def to_dict(self) -> dict[str, Any]:
        return {"format": MODEL_FORMAT, "version": 1, "n": self.n, "bias": round(self.bias, 6),
                "calibration": {"z_low": round(self.z_low, 6), "z_high": round(self.z_high, 6), "cap": self.cap},
                "meta": self.meta, "weights": {g: self.weights[g] for g in sorted(self.weights)}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AdModel:
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a {MODEL_FORMAT} file")
        cal = data["calibration"]
        return cls(data["weights"], data["bias"], n=data["n"], z_low=cal["z_low"], z_high=cal["z_high"],
                   cap=cal.get("cap", 1.5), meta=data.get("meta"))

    def save(self, path: str | Path) -> None:
        """Write the model as JSON (gzip when the name ends in .gz; byte-for-byte deterministic)."""
        raw = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        path = Path(path)
        if path.suffix == ".gz":
            with path.open("wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0,
                                                       compresslevel=9) as gz:
                gz.write(raw)
        else:
            path.write_bytes(raw)

    @classmethod
    def load(cls, path: str | Path) -> AdModel:
        path = Path(path)
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return cls.from_dict(json.loads(raw))


def corpus_split(text: str) -> str:
    """The spam-zh corpus split of a line: "test" when sha1's last hex digit is 0 or 1, else "dev"."""
    import hashlib

    return "test" if hashlib.sha1(text.encode("utf-8")).hexdigest()[-1] in "01" else "dev"


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> AdModel | None:
    """A retrained model at `path` when it exists (see `qunbot train-ads`), else the shipped one."""
    if path and Path(path).exists():
        return AdModel.load(path)
    return load_default_model()


@lru_cache(maxsize=1)
def load_default_model() -> AdModel | None:
    """The model shipped next to this module (rules/ad_model.json.gz), loaded once; None if missing."""
    if not DEFAULT_MODEL_PATH.exists():
        return None
    return AdModel.load(DEFAULT_MODEL_PATH)


Sample = tuple[str, "bool | str | int"]


def _is_ad(label: bool | str | int) -> bool:
    if isinstance(label, str):
        if label.lower() not in ("ad", "spam", "ham", "notad", "not_ad"):
            raise ValueError(f"unknown label {label!r} (ad/spam or ham/notad)")
        return label.lower() in ("ad", "spam")
    return bool(label)


def _fit(data: Sequence[tuple[list[str], bool, float]], *, epochs: int, l2: float, rate: float,
         seed: int) -> tuple[dict[str, float], float]:
    """Logistic regression by AdaGrad SGD over (sorted n-grams, is_ad, sample weight) rows."""
    w: dict[str, float] = {}
    g2: dict[str, float] = {}
    bias, bias_g2 = 0.0, 1e-8
    order = list(range(len(data)))
    rnd = random.Random(seed)
    for _ in range(epochs):
        rnd.shuffle(order)
        for i in order:
            grams, y, sw = data[i]
            if not grams:
                continue
            v = 1.0 / math.sqrt(len(grams))
            z = bias + v * math.fsum(w.get(g, 0.0) for g in grams)
            err = (_sigmoid(z) - y) * sw
            for g in grams:
                wg = w.get(g, 0.0)
                grad = err * v + l2 * wg
                acc = g2.get(g, 1e-8) + grad * grad
                g2[g] = acc
                w[g] = wg - rate * grad / math.sqrt(acc)
            bias_g2 += err * err
            bias -= rate * err / math.sqrt(bias_g2)
    return w, bias


def _features(samples: Iterable[tuple[str, bool, float]], n: int) -> list[tuple[list[str], bool, float]]:
    return [(sorted(ngrams(without_links(analyse_for_ads(text)), n)), y, sw) for text, y, sw in samples]


def _train_raw(rows: Sequence[tuple[list[str], bool, float]], *, n: int, epochs: int, l2: float, rate: float,
               min_df: int, seed: int) -> tuple[dict[str, float], float]:
    df: dict[str, int] = {}
    for grams, _y, _sw in rows:
        for g in grams:
            df[g] = df.get(g, 0) + 1
    kept = [([g for g in grams if df[g] >= min_df], y, sw) for grams, y, sw in rows]
    return _fit(kept, epochs=epochs, l2=l2, rate=rate, seed=seed)


def _logit(w: Mapping[str, float], bias: float, grams: Sequence[str]) -> float:
    if not grams:
        return bias
    return bias + math.fsum(w.get(g, 0.0) for g in grams) / math.sqrt(len(grams))


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered))))]


def train_model(samples: Iterable[Sample], *, extra: Iterable[Sample] = (), extra_weight: float = 3.0,
                n: int = 3, epochs: int = 15, l2: float = 1e-5, rate: float = 0.5, min_df: int = 2,
                prune: float = 0.02, folds: int = 5, high_fpr: float = 0.004, low_fpr: float = 0.006,
                seed: int = 0, meta: Mapping[str, Any] | None = None) -> AdModel:
    """Train an `AdModel` on (text, label) rows; deterministic for the same rows in the same order.

    `samples` is the base corpus, `extra` more rows (e.g. owners' /ad and /notad decisions) that weigh
    `extra_weight` times as much. A label is a bool (True = ad) or "ad"/"spam"/"ham"/"notad".
    With `folds` > 1 the calibration comes from out-of-fold logits of the base samples (each row
    scored by a model that did not see it): `z_high` is the logit that only `high_fpr` of the ham rows
    exceed (the classifier alone flags them), `z_low` the one `low_fpr` of them exceed (below it the
    check adds nothing). n-grams whose |weight| < `prune` are dropped from the shipped model.
    """
    base = [(text, _is_ad(label), 1.0) for text, label in samples]
    more = [(text, _is_ad(label), float(extra_weight)) for text, label in extra]
    rows = _features(base + more, n)
    if not any(y for _g, y, _w in rows) or all(y for _g, y, _w in rows):
        raise ValueError("training needs both ads and non-ads")
    fit = {"n": n, "epochs": epochs, "l2": l2, "rate": rate, "min_df": min_df, "seed": seed}
    oof: list[tuple[float, bool]] = []
    if folds > 1:
        nbase = len(base)
        for fold in range(folds):
            train_rows = [r for i, r in enumerate(rows) if i >= nbase or i % folds != fold]
            w, b = _train_raw(train_rows, **fit)
            oof.extend((_logit(w, b, rows[i][0]), rows[i][1]) for i in range(fold, nbase, folds))
    w, b = _train_raw(rows, **fit)
    weights = {g: round(v, 4) for g, v in w.items() if abs(v) >= prune}
    if not oof:  # no cross-validation: calibrate on the training rows themselves (optimistic)
        oof = [(_logit(weights, b, g), y) for g, y, _w in rows]
    ham = [z for z, y in oof if not y] or [0.0]
    z_high = _quantile(ham, 1.0 - high_fpr)
    z_low = min(_quantile(ham, 1.0 - low_fpr), z_high - 0.5)
    info = {"samples": len(base), "extra": len(more), "ads": sum(y for _g, y, _w in rows),
            "features": len(weights), "fit": fit, "prune": prune, "folds": folds,
            "high_fpr": high_fpr, "low_fpr": low_fpr, **(meta or {})}
    return AdModel(weights, b, n=n, z_low=z_low, z_high=z_high, meta=info)


# ------------------------------------------------------------------------------------------------
# Links
# ------------------------------------------------------------------------------------------------

_TLDS = ("com|cn|net|org|top|xyz|vip|cc|me|io|co|info|biz|club|site|online|shop|store|app|ink|link|work|tv|"
         "hk|tw|mo|us|ly|gl|gd|la|wang|ren|pro|fun|live|icu|asia|win|bid|loan|men|date|party|review|trade|"
         "stream|download|cloud|tech|space|website|press|host|run|today|life|world|mobi|name|cyou|buzz|"
         "monster|rest|bar|kim|ltd|group|xin|ws|im|gg|dev|page|vip|ltd|red|pub|plus|zone|city|cool|tk|ml|ga|cf")
_SUSPICIOUS_TLDS = frozenset(("top xyz vip cc icu win bid loan men date party review trade stream download cyou buzz "
                              "monster rest bar kim xin ws tk ml ga cf gd la ly ink club site online shop store "
                              "fun live wang ren pro").split())
_SHORTENERS = frozenset(("t.cn url.cn w.url.cn dwz.cn suo.im suo.nz tb.cn m.tb.cn c.tb.cn bit.ly tinyurl.com goo.gl "
                         "is.gd ow.ly t.co rebrand.ly cutt.ly dwz.date 985.so u.nu s.click.taobao.com 3.cn "
                         "u.jd.com mrw.so sina.lt j.mp v.gd rb.gy shorturl.at qr.net").split())
_HOST = rf"(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})"
_URL = re.compile(r"(?:https?|ftp)://[^\s<>\"'，。、！？）】」]+|(?<![a-z0-9.@-])(?:www\.)?" + _HOST
                  + r"(?![a-z0-9-])(?:[:/?#][^\s<>\"'，。、！？）】」]*)?")
_IP_URL = re.compile(r"(?:https?://)?(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?/[^\s]*")
# Domains written so that a link filter misses them: xx点com, xx dot com, xx(.)com, www。xx。com, xx . com.
_DISGUISED_TLDS = "com|cn|net|org|top|xyz|vip|cc|info|club|site|shop|icu|wang|ink|link|online|store|app|hk|tw|tk"
_DISGUISED_DOT = r"(?:\s*(?:点|點|dot|\(\.\)|\[\.\]|\(点\)|\[点\]|\(dot\)|\[dot\]|。)\s*|\s+\.\s+)"
_DISGUISED = re.compile(rf"(?<![a-z0-9-])((?:www{_DISGUISED_DOT}|www\.)?[a-z0-9][a-z0-9-]{{1,62}}"
                        rf"(?:(?:{_DISGUISED_DOT}|\.)[a-z0-9][a-z0-9-]{{1,62}})*{_DISGUISED_DOT}"
                        rf"(?:{_DISGUISED_TLDS}))(?![a-z0-9])")
_DISGUISE_HINT = re.compile(r"点|dot|\(\.\)|\[\.\]|\(点\)|\[点\]|。|\s\.\s")
_SPACED_HOST = re.compile(rf"(?<![a-z0-9.@-])(?:www\.)?(?:[a-z0-9-]+\.)+(?:{_DISGUISED_TLDS})(?![a-z0-9-])")
_FULLWIDTH_HOST = re.compile(r"[A-Za-z0-9ａ-ｚＡ-Ｚ０-９]．[A-Za-z0-9ａ-ｚＡ-Ｚ０-９]|[ａ-ｚＡ-Ｚ０-９]{2,}[.．]")


def _host_of(url: str) -> str:
    host = re.sub(r"^(?:https?|ftp)://", "", url)
    host = re.split(r"[:/?#]", host, maxsplit=1)[0]
    return host.strip(".")


def _allowed(host: str, allow: Sequence[str]) -> bool:
    host = host.removeprefix("www.")
    return any(host == d or host.endswith("." + d) for d in allow)


def _clean_domain(domain: str) -> str:
    d = unicodedata.normalize("NFKC", domain).strip().lower()
    d = re.sub(r"^(?:https?|ftp)://", "", d)
    d = re.split(r"[:/?#]", d, maxsplit=1)[0]
    return d.lstrip("*").strip(".").removeprefix("www.")


# ------------------------------------------------------------------------------------------------
# Contacts
# ------------------------------------------------------------------------------------------------

_ID = r"(?:号码|号|id|是|为|账号|帐号|搜|加)*([a-z][a-z0-9_-]{5,19}|1[3-9]\d{9}|\d{5,12})"
# Spellings of 微信 that only people dodging a filter write.
_WX_EVASIVE = (r"(?:(?<![a-z])(?:vx|wx|weixin|wei信|wei心|jiav|jiawei)|v信|v心|微x|薇信|薇心|徽信|威心|微芯|溦信|嶶信|"
               r"徾信|绿泡泡|(?:加|\+|(?<![a-z])jia)(?:v(?![a-z])|vx|wx|微(?!信|博|软|笑|小|商|店|课|视频|电影|型)|薇|"
               r"威|wei(?!xin|bo)|w(?![a-z])|扣|企鹅|q(?![a-z])))")
# Spellings that are also ordinary words (威信 = prestige): only with an id after them.
_WX_WEAK = r"(?:威信|维信|唯信|微心|卫信)"
# An id that is clearly an account: letters with at least one digit, or a phone / QQ number.
_ID_STRICT = r"(?:号码|号|id|是|为|账号|帐号|搜)*((?=[a-z0-9_-]*\d)[a-z][a-z0-9_-]{5,19}|1[3-9]\d{9}|\d{6,12})"
_WX_PLAIN = r"(?:微信|wechat|微信号)"
_QQ = r"(?:qq|扣扣|企鹅|q号|扣号|球球|qq号|q群|qq群|扣群)"
_ADD_V = r"(?:加|(?<![a-z])jia)v"
_RE_EVASIVE_ID = re.compile(f"{_WX_EVASIVE}(?:号|同号)?{_ID}|(?:{_WX_WEAK}|{_ADD_V})(?:号|同号)?{_ID_STRICT}")
_RE_EVASIVE = re.compile(f"{_WX_EVASIVE}")
# A lone "V" as a label before an account ("V：abc123"), read on the light form where the colon is still there.
_RE_LONE_V = re.compile(r"(?<![a-z0-9])v(?:号)?\s*[:：=]\s*((?=[a-z0-9_-]*\d)[a-z][a-z0-9_-]{5,19}|\d{6,12})")
_RE_PLAIN_ID = re.compile(f"(?:{_WX_PLAIN}|{_QQ}){_ID}")
_RE_ADD_PLAIN = re.compile(f"(?:加|添加|加我|加个|加一下|联系|私聊|私信){_WX_PLAIN}|(?:加|添加|加我){_QQ}"
                           f"|{_WX_PLAIN}同号")
_RE_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}\d{7,8}|400\d{7}|800\d{7})(?!\d)")
_RE_EMAIL = re.compile(r"[a-z0-9._-]{3,}@(?:qq|163|126|gmail|foxmail|sina|sohu|outlook|hotmail|yeah)\.(?:com|cn|net)")
_RE_GROUP_ID = re.compile(r"(?:群号|q群|qq群|扣群|群聊号|入群|进群|加群)(?:号码|号|是|为)*(\d{5,12})")
_RE_GROUP_LURE = re.compile(r"拉你进群|拉你入群|拉进群|带你进群|进群|入群|加群|拉群")
_LURE_ALONE = r"加我|添加我|私聊|私信|私我|滴滴我|dd我|扫码|扫一扫|扫描二维码|戳我|有意者|有意向|感兴趣的|感兴趣可"
_RE_LURE = re.compile(_LURE_ALONE + r"|详聊|找我|想赚钱|想了解|了解详情|联系我")
_RE_PHONE_PITCH = re.compile(r"咨询|详询|垂询|热线|欢迎来电|欢迎致电|欢迎订购|订购|预约|报名|联系我们|加我|同号|同微|"
                             r"tel|call|订餐|订房|招商加盟|诚招|加盟|面议|代办|办证|私聊|有意者|有意向")
_RE_LURE_ALONE = re.compile(_LURE_ALONE)
_RE_AD_WORDS = re.compile(r"兼职|日结|返利|代理|招募|招聘|赚钱|收益|躺赚|佣金|提现|优惠|特价|促销|开业|贷款|借款|"
                          r"放款|彩票|投资|理财|回馈|酬宾|免费|领取|红包|福利")

_ACCOUNT_REASONS = ("变形的微信/QQ 写法加账号", "微信/QQ 号", "群号", "电话号码", "邮箱")

# Talking *about* ads or scams rather than making one.
_META = re.compile(r"骗局|骗子|诈骗|被骗|上当|别信|不要信|别上当|小心|注意|提醒大家|举报|群规|不能发|禁止|不准|不许|"
                   r"违规|别发|不要发|踢|是真的吗|靠谱吗|可信吗|能信吗|骗人|有人做过|警惕|防范")
_META_VOID = re.compile(r"(?<!是)不是骗|非骗|绝不骗|不骗人|拒绝骗|零风险|无风险")


@dataclass(frozen=True)
class _Weights:
    """Check weights, tuned on the DEV part of the corpus and the evasion set (see bench/)."""

    link: float = 0.5
    link_suspicious: float = 0.7
    link_short: float = 0.7
    link_ip: float = 0.7
    link_apk: float = 0.8
    link_disguised: float = 1.0
    link_more: float = 0.1
    link_cap: float = 1.2
    contact_evasive_id: float = 1.2
    contact_evasive: float = 0.6
    contact_plain_id: float = 0.6
    contact_plain_id_lure: float = 0.8
    contact_add_plain: float = 0.4
    contact_group_id: float = 0.8
    contact_group_lure: float = 0.5
    contact_phone_lure: float = 0.5
    contact_phone: float = 0.2
    contact_email: float = 0.5
    contact_lure: float = 0.3
    contact_trick: float = 0.4
    contact_ad_words: float = 0.2
    contact_cap: float = 1.5
    pitch_first: float = 0.5
    pitch_first_cap: float = 1.2
    pitch_more: float = 0.4
    pitch_more_cap: float = 2.0
    pitch_trick: float = 0.3
    pitch_cap: float = 2.0
    pitch_meta: float = 0.3
    classifier_meta: float = 0.5
    weak_link: float = 0.7
    weak_contact: float = 0.6
    weak_total: float = 0.9


WEIGHTS = _Weights()


class TextDetector:
    """The four text checks for one group's settings; build once per config load."""

    def __init__(self, pitch_words: Mapping[str, float], allow_domains: Sequence[str] = (),
                 model: AdModel | None = None, *, classifier: bool = True, weights: _Weights = WEIGHTS) -> None:
        self.weights = weights
        self.allow_domains = tuple(sorted({d for d in (_clean_domain(x) for x in allow_domains) if d}))
        pitch: dict[str, tuple[str, float]] = {}
        for word, weight in pitch_words.items():
            key = normalize_for_ads(word)
            if key and float(weight) > 0 and (key not in pitch or pitch[key][1] < weight):
                pitch[key] = (word, float(weight))
        self.pitch_words = pitch
        keys = sorted(pitch, key=lambda k: (-len(k), k))
        self._pitch_re = re.compile("|".join(map(re.escape, keys))) if keys else None
        self.model = (model if model is not None else load_default_model()) if classifier else None

    # -- the checks -------------------------------------------------------------------------------

    def check_link(self, t: AdsText) -> CheckResult:
        w = self.weights
        light = t.light
        if not any(c in light for c in ".点。") and "dot" not in light:
            return CheckResult("link", 0.0, "没有链接")
        found: list[tuple[float, str, str]] = []  # (score, reason, what was written)
        allowed: list[str] = []
        seen: set[str] = set()

        def add(host: str, score: float, reason: str, shown: str) -> None:
            host = host.strip(".")
            if not host or host in seen:
                return
            seen.add(host)
            if _allowed(host, self.allow_domains):
                allowed.append(host)
            else:
                found.append((score, reason, shown))

        fullwidth = bool(_FULLWIDTH_HOST.search(t.original))
        for m in _URL.finditer(light):
            url = m.group(0).rstrip(".,;:!?")
            host = _host_of(url)
            tld = host.rsplit(".", 1)[-1]
            if fullwidth and not url.startswith(("http://", "https://")):
                add(host, w.link_disguised, "全角字符写的域名（躲避链接过滤）", url)
            elif host in _SHORTENERS or host.removeprefix("www.") in _SHORTENERS:
                add(host, w.link_short, "短链接", url)
            elif url.split("?", 1)[0].endswith(".apk"):
                add(host, w.link_apk, "APK 下载链接", url)
            elif re.fullmatch(r"[\d.]+", host):
                add(host, w.link_ip, "IP 地址链接", url)
            elif tld in _SUSPICIOUS_TLDS:
                add(host, w.link_suspicious, f"链接（.{tld} 域名）", url)
            else:
                add(host, w.link, "链接", url)
        if "/" in light:
            for m in _IP_URL.finditer(light):
                add(_host_of(m.group(0)), w.link_ip, "IP 地址链接", m.group(0))
        for m in _DISGUISED.finditer(light) if _DISGUISE_HINT.search(light) else ():
            host = re.sub(_DISGUISED_DOT, ".", m.group(1))
            if any(c.isalpha() for c in host.rsplit(".", 2)[0]):
                add(host, w.link_disguised, "变形域名（躲避链接过滤）", m.group(1))
        if " " in light or "\u3000" in light:
            for m in _SPACED_HOST.finditer(re.sub(r"\s+", "", light)):
                host = m.group(0)
                label = host.removeprefix("www.").split(".", 1)[0]
                if host not in seen and (len(label) >= 3 or host.startswith("www.")):
                    add(host, w.link_disguised, "拆开写的域名（躲避链接过滤）", host)
        if not found:
            if allowed:
                return CheckResult("link", 0.0, "白名单域名（放行）", ", ".join(allowed))
            return CheckResult("link", 0.0, "没有链接")
        found.sort(key=lambda x: -x[0])
        score = min(w.link_cap, found[0][0] + w.link_more * (len(found) - 1))
        reason = found[0][1] + (f" 等 {len(found)} 个链接" if len(found) > 1 else "")
        if allowed:
            reason += "（白名单放行：" + ", ".join(allowed) + "）"
        return CheckResult("link", round(score, 3), reason, " ".join(s for _sc, _r, s in found)[:200])

    def check_contact(self, t: AdsText, plain: str) -> CheckResult:
        w = self.weights
        flat = plain
        hits: list[tuple[float, str, str]] = []
        m = _RE_EVASIVE_ID.search(flat) or _RE_LONE_V.search(t.light)
        if m:
            hits.append((w.contact_evasive_id, "变形的微信/QQ 写法加账号", m.group(0)))
        else:
            m = _RE_EVASIVE.search(flat)
            if m:
                hits.append((w.contact_evasive, "变形的微信/QQ 写法", m.group(0)))
        lure = _RE_LURE.search(flat)
        m = _RE_PLAIN_ID.search(flat)
        if m:
            if lure or _RE_ADD_PLAIN.search(flat):
                hits.append((w.contact_plain_id_lure, "微信/QQ 号加引流话术", m.group(0)))
            else:
                hits.append((w.contact_plain_id, "微信/QQ 号", m.group(0)))
        else:
            m = _RE_ADD_PLAIN.search(flat)
            if m:
                hits.append((w.contact_add_plain, "让人加微信/QQ", m.group(0)))
        m = _RE_GROUP_ID.search(flat)
        if m:
            hits.append((w.contact_group_id, "群号引流", m.group(0)))
        else:
            m = _RE_GROUP_LURE.search(flat)
            if m and (lure or hits):
                hits.append((w.contact_group_lure, "拉人进群", m.group(0)))
        phone = _RE_PHONE.search(flat)
        if phone and not any(phone.group(1) in h[2] for h in hits):
            pitch = _RE_PHONE_PITCH.search(flat)
            if pitch:
                hits.append((w.contact_phone_lure, "电话号码加推销话术", f"{pitch.group(0)} {phone.group(1)}"))
            else:
                hits.append((w.contact_phone, "电话号码（没有推销话术）", phone.group(1)))
        m = _RE_EMAIL.search(flat)
        if m:
            hits.append((w.contact_email, "邮箱/QQ 邮箱", m.group(0)))
        if not hits:
            m = _RE_LURE_ALONE.search(flat)
            if m:
                hits.append((w.contact_lure, "引流话术", m.group(0)))
        if not hits:
            return CheckResult("contact", 0.0, "没有联系方式")
        account = any(reason.startswith(_ACCOUNT_REASONS) for _s, reason, _e in hits)
        hits.sort(key=lambda h: -h[0])
        score = hits[0][0] + 0.5 * sum(h[0] for h in hits[1:])
        reasons = [h[1] for h in hits]
        if score > w.contact_phone and _RE_AD_WORDS.search(flat):
            score += w.contact_ad_words
        if t.tricks:
            score += w.contact_trick
            reasons.append("用了" + "、".join(t.tricks))
        meta = None if account else _META.search(flat)
        if meta and not _META_VOID.search(flat):
            score *= w.pitch_meta
            reasons.append(f"像在讨论/提醒（{meta.group(0)}）")
        score = min(w.contact_cap, score)
        return CheckResult("contact", round(score, 3), "；".join(reasons), " ".join(h[2] for h in hits)[:200])

    def check_pitch(self, t: AdsText, plain: str) -> CheckResult:
        w = self.weights
        if self._pitch_re is None:
            return CheckResult("pitch", 0.0, "没有配置推销词")
        found = {m.group(0) for m in self._pitch_re.finditer(plain)}
        if not found:
            return CheckResult("pitch", 0.0, "没有推销词")
        hits = sorted(((self.pitch_words[k][1], self.pitch_words[k][0]) for k in found), key=lambda x: (-x[0], x[1]))
        score = w.pitch_first * min(hits[0][0], w.pitch_first_cap)
        score += w.pitch_more * sum(min(weight, w.pitch_more_cap) for weight, _word in hits[1:])
        words = "、".join(word for _w, word in hits)
        reason = f"推销词 {words}" if len(hits) > 1 else f"只有一个推销词 {words}"
        if t.tricks:
            score += w.pitch_trick
            reason += "；用了" + "、".join(t.tricks)
        meta = _META.search(plain)
        if meta and not _META_VOID.search(plain):
            score *= w.pitch_meta
            reason += f"；像在讨论/提醒（{meta.group(0)}）"
        return CheckResult("pitch", round(min(w.pitch_cap, score), 3), reason, words)

    def check_classifier(self, t: AdsText, text: str) -> CheckResult:
        model = self.model
        if model is None:
            return CheckResult("classifier", 0.0, "没有模型")
        if _content_chars(t) < CLASSIFIER_MIN_CHARS:
            # The model learnt from SMS, where a bare greeting (你好) opens many ads; a short chat line is
            # not enough to judge, so only the explicit checks speak for it.
            return CheckResult("classifier", 0.0, f"太短（少于 {CLASSIFIER_MIN_CHARS} 个字），模型不判断")
        z = model.logit(text)
        score = model.check_score(z)
        p = _sigmoid(z)
        if score <= 0:
            return CheckResult("classifier", 0.0, f"模型：像普通消息（广告概率 {p:.0%}）")
        reason = f"模型：广告概率 {p:.0%}"
        meta = _META.search(t.flat)
        if meta and not _META_VOID.search(t.flat):
            score *= self.weights.classifier_meta
            reason += f"；像在讨论/提醒（{meta.group(0)}）"
        return CheckResult("classifier", round(score, 3), reason, " ".join(model.top_features(text)))

    # -- the decision -----------------------------------------------------------------------------

    def checks(self, text: str) -> list[CheckResult]:
        """Every check's verdict on `text`, in CHECKS order (score 0 when a check found nothing)."""
        return self._checks(_analyse(text))

    def _checks(self, t: AdsText) -> list[CheckResult]:
        plain = without_links(t)
        return [self.check_link(t), self.check_contact(t, plain), self.check_pitch(t, plain),
                self.check_classifier(t, plain)]

    def score(self, text: str) -> tuple[float, str | None, list[CheckResult]]:
        """(total score, kind, results): kind is "link" when a URL/domain is the strongest evidence,
        "text" otherwise, None when no check found anything."""
        t = _analyse(text)
        results = self._checks(t)
        total = round(sum(r.score for r in results), 3)
        if total <= 0:
            return 0.0, None, results
        link, contact, pitch, classifier = (r.score for r in results)
        if classifier and not (link or contact or pitch) and _content_chars(t) < CLASSIFIER_ALONE_MIN_CHARS:
            # A short question (您好，我想咨询一下课程的价格) reads like an SMS ad to the model; with no
            # link, contact or pitch word the model alone may not call it one.
            total = min(total, self.weights.weak_total)
        if not pitch and not classifier and link <= self.weights.weak_link and contact <= self.weights.weak_contact:
            # A plain link plus a phone number, with nothing that reads like a pitch: a notice, not an ad.
            total = min(total, self.weights.weak_total)
        top = max(results, key=lambda r: r.score)
        kind = "link" if results[0].score > 0 and results[0].score >= top.score else "text"
        return total, kind, results


def _analyse(text: str) -> AdsText:
    if len(text) > MAX_CHARS:  # the regexes are linear per match; keep a long message's cost bounded
        text = text[: MAX_CHARS * 2 // 3] + "\n" + text[-(MAX_CHARS // 3) :]
    return analyse_for_ads(text)


def _content_chars(t: AdsText) -> int:
    """Letters and digits of the normalised text (what a message says, without spacing or symbols)."""
    return sum(ch.isalnum() for ch in t.flat)
