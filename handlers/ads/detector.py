"""Ad detection on message text: four checks, each with a score and a reason, and their sum.

Every message is first normalised (`handlers.ads.folds.analyse_for_ads`: NFKC, invisible characters,
homoglyphs, styled digits, emoji letters, traditional -> simplified, Chinese-numeral contacts,
separators between characters); the checks then read that form and report, like tg-spam, a verdict
and why, even when they found nothing (score 0):

- ``link`` (`handlers.ads.links`): URLs, bare domains, disguised domains (www．xx．com, xx点com,
  spaced-out letters), short links, IP addresses, APK downloads; allowlisted domains pass;
- ``contact``: WeChat / QQ ids, phone numbers, e-mail addresses and Telegram handles next to a lure
  (加V, 加我, 私聊, 扫码, 拉你进群 ...), the disguised spellings of 微信 (vx, 薇信, 威❤, ➕V, jia wei ...),
  and the evasion tricks the normaliser undid (zero-width characters, ①②③, homoglyphs ...). A contact
  next to an offer (`patterns.OFFER_LEXICON` and `OFFER_PATTERNS`: a job, a loan, a pitch) or a contact
  label is an ad, and so is an offer with a way to take it private (想月入过万的私我) or into another group;
  a contact alone is not. Next to an offer, a contact may also be an id after 加/联系, a t.me link, another
  messenger's handle (WhatsApp, Signal, Line ...) or a bare id (letters and three digits, or a pinyin
  name and two: liuyu49). An ad word that is only the start of a longer word (带单 in 带单位) does not
  count, unless spacing or punctuation stood after it (上热门，点赞);
- ``pitch``: the owner's weighted pitch words (config ``ads.pitch_words``), and the unsubscribe line
  of a bulk text message (回T退订). One word is never enough on its own (我以前做过兼职 is not an ad);
  a second word, a contact or the classifier tips it over. A message that talks *about* ads (是骗局吗,
  群规, 举报 ...) counts far less;
- ``classifier``: two logistic regressions on character 1-3-grams (`AdModel`): the corpus model
  (``scripts/train_ad_model.py``, the DEV part of the spam-zh corpus, retrainable with the owners' /ad and
  /notad decisions) and the chat model (``scripts/train_chat_model.py``, group-chat sets); the stronger counts.

`TextDetector.score` adds the four scores up; the caller flags an ad when the total reaches the
group's threshold (``ads.threshold``, 1.0; ``ads.new_member_threshold``, 0.6 for new members).
Build a `TextDetector` once per config load: it compiles the pitch words and allowlist.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from handlers.ads import contacts as reach  # the ways to reach the sender
from handlers.ads.components import recompose
from handlers.ads.folds import AdsText, analyse_for_ads, flat_breaks, flatten, normalize_for_ads
from handlers.ads.links import link_finding
from handlers.ads.memo import ShortTextMemo
from handlers.ads.model import AdModel, load_default_chat_model, load_default_model, sigmoid
from handlers.ads.patterns import (
    ACCOUNT_REASONS,
    CONTACT_WORDS,
    META,
    META_VOID,
    OFFER_WORDS,
    RE_AD_WORDS,
    RE_ADD_ID,
    RE_ADD_PLAIN,
    RE_ASKING,
    RE_EMAIL,
    RE_EVASIVE,
    RE_EVASIVE_ID,
    RE_FOOTER,
    RE_GROUP_ID,
    RE_GROUP_LURE,
    RE_INTENT,
    RE_LONE_V,
    RE_LURE,
    RE_LURE_ALONE,
    RE_OFFER,
    RE_PHONE,
    RE_PHONE_PITCH,
    RE_PLAIN_ID,
    URL,
    WEIGHTS,
    Weights,
    clean_domain,
    is_chain_list,
    joined_ids,
    without_badges,
    without_links,
)
from handlers.ads.pictures import picture_readings
from handlers.ads.pieces import CHUNK_CHARS, CHUNK_OVERLAP, chunks
from handlers.ads.reversal import reversed_view
from handlers.ads.scan import finditer, search
from handlers.ads.sounds import SoundDecoder, whole_words

CHECKS = ("link", "contact", "pitch", "classifier")
CHAT_SOURCE = "聊天模型"  # the classifier check's reason when the chat model spoke
LINK_ALONE = 1.0  # a link scoring this (the default threshold) is the kind of the ad whatever else scores more
CHAT_MAX_CHARS = 130  # longer, a text is left to the corpus model: no chat ad it learnt from is (at most 125)
TRICK_SPLIT = "拆字"
TRICK_PICTURES = "表情当字"
TRICK_REVERSED = "倒序"
REVERSAL_JUDGE_CHARS = 120  # the direction of a message is judged on its start (bounded cost)
STRONG_TOTAL = 2.0  # a forward reading this sure needs no backward one
CLASSIFIER_MIN_CHARS = 8
CLASSIFIER_ALONE_MIN_CHARS = 20  # shorter than this, the model alone cannot reach the threshold
Breaks = Callable[[], frozenset[int]]
_PHONE_NUMBER = re.compile(r"(?<!\d)(?:0{0,2}86)?(?:1[3-9]\d{9}|0\d{9,11})(?!\d)")


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict: its score (0 when it found nothing), why, and the text it rests on."""

    check: str
    score: float
    reason: str
    evidence: str = ""


class TextDetector:
    """The four text checks for one group's settings; build once per config load."""

    def __init__(self, pitch_words: Mapping[str, float], allow_domains: Sequence[str] = (),
                 model: AdModel | None = None, *, classifier: bool = True, weights: Weights = WEIGHTS,
                 chat: bool = True, chat_model: AdModel | None = None) -> None:
        self.weights = weights
        self.allow_domains = tuple(sorted({d for d in (clean_domain(x) for x in allow_domains) if d}))
        pitch: dict[str, tuple[str, float]] = {}
        for word, weight in pitch_words.items():
            key = normalize_for_ads(word)
            if key and float(weight) > 0 and (key not in pitch or pitch[key][1] < weight):
                pitch[key] = (word, float(weight))
        self.pitch_words = pitch
        keys = sorted(pitch, key=lambda k: (-len(k), k))
        self._pitch_re = re.compile("|".join(map(re.escape, keys))) if keys else None
        self.model = (model if model is not None else load_default_model()) if classifier else None
        self.chat_model = (chat_model if chat_model is not None else load_default_chat_model()) \
            if classifier and chat else None
        self.sounds = SoundDecoder((w for w in pitch_words if not w.isascii()), keep=RE_EVASIVE,
                                   lexicon=OFFER_WORDS, contacts=CONTACT_WORDS)
        self._memo: ShortTextMemo[tuple[float, str | None, tuple[CheckResult, ...]]] = ShortTextMemo()

    # -- the checks -------------------------------------------------------------------------------

    def check_link(self, t: AdsText) -> CheckResult:
        return CheckResult("link", *link_finding(t, self.allow_domains, self.weights))

    def check_contact(self, t: AdsText, plain: str, breaks: Breaks | None = None) -> CheckResult:
        w = self.weights
        flat = plain
        hits: list[tuple[float, str, str]] = []
        m = search(RE_EVASIVE_ID, flat) or search(RE_LONE_V, t.light)
        if m:
            hits.append((w.contact_evasive_id, "变形的微信/QQ 写法加账号", m.group(0)))
        else:
            m = search(RE_EVASIVE, flat)
            if m:
                hits.append((w.contact_evasive, "变形的微信/QQ 写法", m.group(0)))
        lure = RE_LURE.search(flat)
        m = search(RE_PLAIN_ID, flat)
        if m:
            if lure or search(RE_ADD_PLAIN, flat):
                hits.append((w.contact_plain_id_lure, "微信/QQ 号加引流话术", m.group(0)))
            else:
                hits.append((w.contact_plain_id, "微信/QQ 号", m.group(0)))
        else:
            m = search(RE_ADD_PLAIN, flat)
            if m:
                hits.append((w.contact_add_plain, "让人加微信/QQ", m.group(0)))
            elif any(c in flat for c in "加联戳找私滴") and (m := search(RE_ADD_ID, joined_ids(t.light))) is not None \
                    and not any(m.group(1) in h[2] for h in hits):
                hits.append((w.contact_plain_id_lure, "账号加引流话术", m.group(0)))  # 加 liukai11, 联系yuehe80
        m = RE_GROUP_ID.search(flat)
        if m:
            hits.append((w.contact_group_id, "群号引流", m.group(0)))
        elif bait := reach.group_bait(t.light):
            hits.append((w.contact_group_bait, f"拉人进群加诱饵（{bait[0]}）", bait[1]))
        else:
            m = search(RE_GROUP_LURE, flat)
            if m and (lure or hits):
                hits.append((w.contact_group_lure, "拉人进群", m.group(0)))
        phone = search(RE_PHONE, flat)
        if phone and not any(phone.group(1) in h[2] for h in hits):
            pitch = RE_PHONE_PITCH.search(flat)
            if pitch:
                hits.append((w.contact_phone_lure, "电话号码加推销话术", f"{pitch.group(0)} {phone.group(1)}"))
            else:
                hits.append((w.contact_phone, "电话号码（没有推销话术）", phone.group(1)))
        m = RE_EMAIL.search(flat)
        if m:
            hits.append((w.contact_email, "邮箱/QQ 邮箱", m.group(0)))
        intents = whole_words(RE_INTENT, flat, breaks) or (
            whole_words(self._pitch_re, flat, breaks) if self._pitch_re else [])
        if intents:
            self._intent_hits(t, flat, hits, intents, breaks)
        if not any(h[0] >= w.contact_intent for h in hits) and (deal := reach.deal_contact(t.light, flat)) is not None:
            hits.append((w.contact_commerce, f"联系方式加交易话术（{deal[0]}）", deal[1]))
        if not any(h[1].startswith(ACCOUNT_REASONS) for h in hits) and (hidden := reach.disguised_account(t)):
            hits.append((w.contact_evasive_id if hidden[0] else w.contact_plain_id, hidden[1], hidden[2]))
        if not hits and not RE_ASKING.search(flat):  # 做过兼职的私聊我，想请教一下 asks, it offers nothing
            m = RE_LURE_ALONE.search(flat)
            offers = whole_words(RE_OFFER, flat, breaks) if m else []
            if offers:  # 想月入过万的私我: an offer and a way to take it private, no contact needed
                hits.append((w.contact_lure_offer, f"引流话术加广告意图（{offers[0]}）", m.group(0)))
            elif m:
                hits.append((w.contact_lure, "引流话术", m.group(0)))
        if not hits:
            return CheckResult("contact", 0.0, "没有联系方式")
        account = any(reason.startswith(ACCOUNT_REASONS) for _s, reason, _e in hits)
        hits.sort(key=lambda h: -h[0])
        score = hits[0][0] + 0.5 * sum(h[0] for h in hits[1:])
        reasons = [h[1] for h in hits]
        if score > w.contact_phone and RE_AD_WORDS.search(flat):
            score += w.contact_ad_words
        if t.tricks:
            score += w.contact_trick
            reasons.append("用了" + "、".join(t.tricks))
        if account and reach.disguised_number(t, hits):
            score += w.contact_disguised  # nobody disguises a number a friend is meant to read
            reasons.append("号码写得让人认不出")
        meta = None if account else META.search(flat)
        if meta and not META_VOID.search(flat):
            score *= w.pitch_meta
            reasons.append(f"像在讨论/提醒（{meta.group(0)}）")
        score = min(w.contact_cap, score)
        return CheckResult("contact", round(score, 3), "；".join(reasons), " ".join(h[2] for h in hits)[:200])

    def _intent_hits(self, t: AdsText, flat: str, hits: list[tuple[float, str, str]], intents: list[str],
                     breaks: Breaks | None = None) -> None:
        """A contact next to what the message wants (an ad word, a contact label): an ad, whatever else."""
        w = self.weights
        intent = intents[0]
        contacts = [h[2] for h in hits
                    if h[1].startswith(ACCOUNT_REASONS) and any(c.isdigit() or c == "@" for c in h[2])]
        if not contacts:
            light = joined_ids(URL.sub(" ", t.light) if "." in t.light else t.light)
            found = reach.bare_contact(light, intent, t.light)
            if found:
                hits.append((0.0, f"{found[0]} {found[1].strip()}", found[1]))
                contacts.append(found[1])
        if contacts:
            hits.append((w.contact_intent, f"联系方式加广告意图（{intent}）", intent))
        m = None if contacts else RE_GROUP_LURE.search(flat)
        offer = whole_words(RE_OFFER, flat, breaks) if m else None
        if m and offer:
            hits.append((w.contact_intent, f"拉人进群加广告意图（{offer[0]}）", m.group(0)))

    def check_pitch(self, t: AdsText, plain: str, breaks: Breaks | None = None) -> CheckResult:
        w = self.weights
        found = set(whole_words(self._pitch_re, plain, breaks)) if self._pitch_re is not None else set()
        hits = [(self.pitch_words[k][1], self.pitch_words[k][0]) for k in found]
        if "退订" in t.flat or "拒收" in t.flat:  # the unsubscribe line of a bulk text message (回T退订)
            hits += [(w.pitch_footer, f"群发短信的退订尾巴（{m.group(0)}）") for m in RE_FOOTER.finditer(t.flat)][:1]
        if not hits:
            return CheckResult("pitch", 0.0, "没有推销词" if self._pitch_re is not None else "没有配置推销词")
        hits.sort(key=lambda x: (-x[0], x[1]))
        score = w.pitch_first * min(hits[0][0], w.pitch_first_cap)
        score += w.pitch_more * sum(min(weight, w.pitch_more_cap) for weight, _word in hits[1:])
        words = "、".join(word for _w, word in hits)
        reason = f"推销词 {words}" if len(hits) > 1 else f"只有一个推销词 {words}"
        if t.tricks:
            score += w.pitch_trick
            reason += "；用了" + "、".join(t.tricks)
        meta = META.search(plain)
        if meta and not META_VOID.search(plain):
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
        if is_chain_list(t.light):
            # a 接龙 list (a title, then numbered names and counts) reads like an SMS price list to the model;
            # an ad posted as one is still the other checks' to find
            return CheckResult("classifier", 0.0, "接龙名单，模型不判断")
        text = model.reads(t, text)  # the form it was trained on: decoded words are the other checks' part
        z = model.logit(text)
        score, p, source = model.check_score(z), sigmoid(z), "模型"
        chat = self.chat_model
        if chat is not None and len(text) <= CHAT_MAX_CHARS and score < chat.cap \
                and (chat_score := chat.check_score(chat_z := chat.logit(text))) > score:  # cap: no more to gain
            model, score, p, source = chat, chat_score, sigmoid(chat_z), CHAT_SOURCE
        if score <= 0:
            return CheckResult("classifier", 0.0, f"模型：像普通消息（广告概率 {p:.0%}）")
        reason = f"{source}：广告概率 {p:.0%}"
        meta = META.search(t.flat)
        if meta and not META_VOID.search(t.flat):
            score *= self.weights.classifier_meta
            reason += f"；像在讨论/提醒（{meta.group(0)}）"
        return CheckResult("classifier", round(score, 3), reason, " ".join(model.top_features(text)))

    # -- the decision -----------------------------------------------------------------------------

    def checks(self, text: str) -> list[CheckResult]:
        """Every check's verdict on `text`, in CHECKS order (score 0 when a check found nothing)."""
        return self.score(text)[2]

    def analyse(self, text: str) -> AdsText:
        """The normalised forms of `text` (`handlers.ads.folds`) with split characters recomposed
        (`handlers.ads.components`) and ad words written by sound read back (`handlers.ads.sounds`):
        what the contact, pitch and classifier checks read."""
        return self.decode(analyse_for_ads(text[: CHUNK_CHARS + CHUNK_OVERLAP]))

    def decode(self, t: AdsText) -> AdsText:
        """`t` with split characters, pictures and sound spellings read back (unchanged when there are none)."""
        light, split = recompose(t.light)
        decoded, pictures = self.sounds.decode(light), False
        readings = picture_readings(light)
        if readings:
            most = self._ad_word_count(decoded[0])
            for read in readings:
                other = self.sounds.decode(read)
                if (count := self._ad_word_count(other[0])) > most:
                    decoded, most, pictures = other, count, True
        light, tricks, _rewrites = decoded
        if pictures:
            tricks = (TRICK_PICTURES, *tricks)
        flat = flatten(light)
        if not light.isascii():
            flat, split_flat = recompose(flat)  # splits written with spaces between the parts (亻 言)
            split = split or split_flat
        if split:
            tricks = (TRICK_SPLIT, *tricks)
        if not tricks:
            return t
        return AdsText(t.original, light, flat, t.tricks + tricks)

    def _ad_word_count(self, decoded: str) -> int:
        """How many ad words (offers, contact labels, the group's pitch words) a decoded text holds."""
        flat = flatten(decoded)
        return len(list(finditer(RE_INTENT, flat))) + (len(self._pitch_re.findall(flat)) if self._pitch_re else 0)

    def _checks(self, raw: AdsText, t: AdsText) -> list[CheckResult]:
        """The link check reads the message as written (a domain is never "decoded"); the others read
        the decoded form."""
        plain = without_badges(without_links(t))

        def breaks() -> frozenset[int]:  # where `plain` had spacing or punctuation (asked for seldom)
            spaced = URL.sub(" ", t.light) if "." in t.light else t.light
            return flat_breaks(spaced) if flatten(spaced) == plain else frozenset()

        return [self.check_link(raw), self.check_contact(t, plain, breaks), self.check_pitch(t, plain, breaks),
                self.check_classifier(t, plain)]

    def score(self, text: str) -> tuple[float, str | None, list[CheckResult]]:
        """(total score, kind, results): kind is "link" when a URL/domain is the strongest evidence or flags it alone,
        "text" otherwise, None when no check found anything."""
        if len(text) <= self._memo.chars:
            total, kind, results = self._memo.get(text, self._score_short)
            return total, kind, list(results)
        if len(text) > CHUNK_CHARS + CHUNK_OVERLAP:
            # every part of a long message is read (an ad at character 1,120 of 1,811 is seen); the piece
            # that scores highest speaks for the message
            return max((self._score_text(piece) for piece in chunks(text)), key=lambda found: found[0])
        return self._score_text(text)

    def _score_short(self, text: str) -> tuple[float, str | None, tuple[CheckResult, ...]]:
        total, kind, results = self._score_text(text)
        return total, kind, tuple(results)

    def _score_text(self, text: str) -> tuple[float, str | None, list[CheckResult]]:
        found = self._score(analyse_for_ads(text))
        backwards = None if found[0] >= STRONG_TOTAL else reversed_view(text[:REVERSAL_JUDGE_CHARS])
        if backwards is not None:
            backwards = text[::-1]
            # written backwards (ba696gnim信微): the reversed reading is checked too, and the stronger counts
            raw = analyse_for_ads(backwards)
            raw = raw._replace(original=text, tricks=(*raw.tricks, TRICK_REVERSED))
            other = self._score(raw)
            if other[0] > found[0]:
                return other
        return found

    def _score(self, raw: AdsText) -> tuple[float, str | None, list[CheckResult]]:
        t = self.decode(raw)
        results = self._checks(raw, t)
        total = round(sum(r.score for r in results), 3)
        if total <= 0:
            return 0.0, None, results
        link, contact, pitch, classifier = (r.score for r in results)
        if classifier and not (link or pitch) and contact <= self.weights.contact_phone \
                and _content_chars(t, numbers=False) < CLASSIFIER_ALONE_MIN_CHARS and not chat_said(results[3]):
            # A short question (您好，我想咨询一下课程的价格) reads like an SMS ad to the model, and so does a
            # number with a name (场地预订联系 陈教练 139…); with no link, pitch word or contact beyond a bare
            # phone number the corpus model alone may not call it one (the chat model learnt from short chat).
            total = min(total, self.weights.weak_total)
        if not pitch and not classifier and link <= self.weights.weak_link and contact <= self.weights.weak_contact:
            # A plain link plus a phone number, with nothing that reads like a pitch: a notice, not an ad.
            total = min(total, self.weights.weak_total)
        top = max(results, key=lambda r: r.score)
        kind = "link" if results[0].score > 0 and results[0].score >= min(top.score, LINK_ALONE) else "text"
        return total, kind, results


def chat_said(result: CheckResult) -> bool:
    """Whether the classifier check's score came from the chat model."""
    return result.reason.startswith(CHAT_SOURCE)


def _content_chars(t: AdsText, numbers: bool = True) -> int:
    """Letters and digits of the normalised text (what a message says, without spacing or symbols);
    without `numbers`, phone numbers do not count."""
    flat = t.flat if numbers else _PHONE_NUMBER.sub("", t.flat)
    return sum(map(str.isalnum, flat))
