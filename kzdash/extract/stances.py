"""Stances: (holder, issue, polarity) per clause, from the language's cue files.

An issue is named in one of three ways (`cues.yaml: issues.<id>`):
  - `support` / `oppose`: acts that take a side by themselves ("recognised the independence of",
    "imposed sanctions"; "circumvent sanctions"), unless a cue or a negation turns them;
  - `topic`: words that only name the issue ("sanctions", "the annexation of Crimea"); they make a
    stance only beside a polarity cue ("refused to recognise the annexation", "will comply with
    sanctions"), so a passing mention of the war or the CSTO is not a position;
  - `near`: a word and an anchor in the same clause, in any order and with words between them
    ("recognition ... of Luhansk and Donetsk", "لن تعترف بضم مناطق دونيتسك"): an act, supporting
    unless the group says `polarity: oppose`.
Polarity is the nearest cue before the trigger in its clause (else one just after it), flipped by
a negation just before the cue (or before an act with no cue), and composed with the act's own
side: refusing (oppose) to circumvent sanctions (oppose) supports them. The holder is the acting subject
of a reported clause ("Tokayev said *Kazakhstan* would not recognise ..."), else the speaker a
reporting verb names ("قال توكاييف"; "He added" keeps the last speaker), else the last actor
before the cue, else the first after it (verb-first Arabic). Welcoming someone's position is
taking the same side: "the US welcomed Kazakhstan's refusal to send troops" gives both opposing.

What is not a holder: a country after a place preposition, an actor in an aside, one right after a
verb of asking ("urged Kazakhstan to"), a name in a hyphenated compound ("the Russia-Ukraine
war"), the owner of a topic judged after it ("Russia's war is ..."). Names coordinated with
the holder ("the EU, the US and Britain") hold it too. A near group may place its holder next to its
word (`holder: after|before`: "at the request of Tokayev") or leave it to an acting subject only
(`holder: agent`: an evasion told by a spokesperson). A relationship described in an aside, or with
no one saying it and only a country as subject, is the reporter's description, not a claim.
Asking for an act is taking its side: "troops sent at the request of Tokayev" gives the sender and
Kazakhstan (`requested_by`). An act reported as someone's accusation ("Kazakhstan, accused of
helping Russia evade sanctions, …") is no one's position, unless a verdict takes it up (`hearsay`).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import dropwhile
from typing import NamedTuple

from kzdash.extract.actors import ActorMention
from kzdash.text.langdata import DATA_DIR, folded_list, load, morphology, read_yaml, verb_final, word_order
from kzdash.text.lexicon import MatcherGroup, PhraseHit, PhraseMatcher
from kzdash.text.textnorm import Folded

NEGATION_REACH = 24  # folded characters before a cue (or act) that a negation governs
CUE_REACH_BEFORE = 140  # how far before a trigger a polarity cue still governs it
CUE_REACH_AFTER = 40  # "sanctions are illegitimate": a cue just after a trigger
ACT_REACH_AFTER = 70  # an act's verdict at the end of its stretch ("sending troops ... within the CSTO is impossible")
SPEAKER_AFTER_REACH = 30  # "قال الرئيس توكاييف", "said Tokayev": the speaker right after the verb
SPEAKER_GAP_WORDS = 2  # "заявил в среду Песков": at most this many words between the verb and its speaker
HEARSAY_REACH = 48  # "accused of helping Russia | evade sanctions": how far an accusation governs
REQUEST_GAP = 3  # "Tokajevi palvel": an asker named right before a postposed "at the request of"
SPEAKER_BREAKS = ",،:;\"«»“”"
SPEAKER_BREAK_RE = re.compile(f"[{re.escape(SPEAKER_BREAKS)}]")
QUOTE_CLOSERS = "\"»”“"  # a reporting verb right after a closing quote (or its comma or dash) names
DASHES = "—–"  # its speaker after it: '"…," said X', '«…», — сказал X'; a bare comma closes an aside
QUOTE_MARKS = "\"«»“”„"
CHAIN_GAP = 16  # "refused to | recognise": two cues this close read as one verdict on the other
ABSTAIN_GAP = 48  # a neutral verdict on a vote: "abstained in the vote on a resolution | condemning"
NEAR_REACH = 90  # a `near` word and its anchor: at most this far apart, same clause
FLIP = {"support": "oppose", "oppose": "support", "neutral": "neutral"}
SIDES = ("support", "oppose")
CLAUSE_PUNCTUATION = ";؛"
CLAUSE_PUNCTUATION_RE = re.compile(f"[{CLAUSE_PUNCTUATION}]")
COMMAS = ",،"


@dataclass(frozen=True)
class Cues:
    topic: PhraseMatcher
    acts: PhraseMatcher  # phrase -> (issue, side)
    near_words: PhraseMatcher
    near_anchors: PhraseMatcher
    polarity: PhraseMatcher
    negation: PhraseMatcher
    reporting: PhraseMatcher
    continuation: PhraseMatcher
    welcome: PhraseMatcher
    requested_after: PhraseMatcher  # "at the request of" + the asker
    requested_before: PhraseMatcher  # the asker + "palvel" (a postposition)
    hearsay: PhraseMatcher  # "accused of", "suspected of": what follows is someone's claim
    clause_breaks: PhraseMatcher
    not_negation: PhraseMatcher
    coordinators: frozenset[str] = frozenset()  # words joining coordinated names ("and", "or")
    articles: frozenset[str] = frozenset()  # words that may stand before a name ("the", "die")
    negation_reach: int = NEGATION_REACH  # German "nicht als unabhängige Staaten anerkennen": further
    addressing: PhraseMatcher = PhraseMatcher({})  # "urged Astana to": the actor after it is addressed
    qualifiers: tuple[str, ...] = ()  # "within the framework of": what follows qualifies the name before


def _issue_parts(spec: object) -> dict:
    """An issue's cues: a mapping of topic/support/oppose/near, or (a language's first draft) a
    plain list of words that each make a supporting stance unless a cue says otherwise."""
    if isinstance(spec, dict):
        return spec
    return {"support": list(spec or ())}


def _near_groups(spec: dict) -> list[dict]:
    near = spec.get("near") or []
    return [near] if isinstance(near, dict) else list(near)


@lru_cache(maxsize=64)
def cues(code: str) -> Cues:
    data = load(code, "cues.yaml")
    issues = {issue: _issue_parts(spec) for issue, spec in (data.get("issues") or {}).items()}

    def by_value(key: str) -> PhraseMatcher:
        return PhraseMatcher({p: v for v, phrases in (data.get(key) or {}).items() for p in phrases or ()})

    def flat(key: str) -> PhraseMatcher:
        return PhraseMatcher({p: key for p in data.get(key) or ()})

    topics = PhraseMatcher({p: issue for issue, spec in issues.items() for p in spec.get("topic") or ()})
    acts = PhraseMatcher({p: (issue, side) for issue, spec in issues.items() for side in SIDES
                          for p in spec.get(side) or ()})

    # a word may open several near-groups (one per issue): its value lists (issue, group) pairs
    words: dict[str, tuple] = {}
    anchors: dict[str, tuple] = {}
    for issue, spec in issues.items():
        for i, group in enumerate(_near_groups(spec)):
            key = (issue, i, str(group.get("polarity") or "support"), str(group.get("holder") or ""))
            for w in group.get("words") or ():
                words[w] = (*words.get(w, ()), key)
            for a in group.get("anchors") or ():
                anchors[a] = (*anchors.get(a, ()), key)
    requested = data.get("requested_by") or {}
    return Cues(topics, acts, PhraseMatcher(words), PhraseMatcher(anchors), by_value("polarity"),
                flat("negation"), flat("reporting_verbs"), flat("continuation"), flat("welcome"),
                PhraseMatcher({p: "after" for p in requested.get("after") or ()}),
                PhraseMatcher({p: "before" for p in requested.get("before") or ()}), flat("hearsay"),
                flat("clause_breaks"), flat("not_negation"), frozenset(
                    w for phrase in folded_list(data.get("coordinators")) for w in phrase.split()),
                frozenset(folded_list(data.get("articles"))),
                int(data.get("negation_reach") or NEGATION_REACH), flat("addressing"),
                tuple(folded_list(data.get("qualifiers"))))


@lru_cache(maxsize=64)
def place_prepositions(code: str) -> tuple[str, ...]:
    """Folded words after which a country is a place or a target ("in Ukraine"), not a holder."""
    return tuple(sorted(folded_list(load(code, "language.yaml").get("place_prepositions")), key=len, reverse=True))


def _as_place(ftext: str, a_fs: int, actor: ActorMention, place_words: tuple[str, ...]) -> bool:
    """A country (or a capital standing for it) named right after a place preposition: "peace in
    Ukraine", "sanctions on Russia", "talks in Moscow", "drifted away from Moscow"; or with a clitic
    the language lists glued to it ("لأوكرانيا"; the article of an adjective: "الغزو الروسي")."""
    if not place_words or not (actor.rule.startswith("country:") or actor.place):
        return False
    glued = actor.rule.partition(" via:")[2]  # the proclitics glued before the name, compared whole
    if glued and glued + "-" in place_words:  # a clitic is listed with its hyphen ("ل-")
        return True
    before = ftext[max(0, a_fs - 24):a_fs].rstrip()
    # the one C-speed test first: most names follow no preposition at all
    return before.endswith(place_words) and any(
        before.endswith(w) and (len(before) == len(w) or not before[-len(w) - 1].isalnum()) for w in place_words)


@lru_cache(maxsize=1)
def relationship_issues() -> frozenset[str]:
    """Issues whose cue-less claims belong to the speaker (`data/taxonomy.yaml: relationship_issues`)."""
    taxonomy = read_yaml(DATA_DIR / "taxonomy.yaml") or {}
    return frozenset(taxonomy.get("relationship_issues") or ())


@dataclass(frozen=True)
class Stance:
    holder: str
    issue: str
    polarity: str
    start: int  # the sentence (original offsets)
    end: int
    rule: str  # what fired: issue trigger, polarity cue, negation, holder rule
    confidence: float


class Trigger(NamedTuple):
    """What a clause's stance is about (a NamedTuple: several per clause, a frozen dataclass is slow to build)."""

    issue: str
    fs: int
    fe: int
    key: str
    act: bool  # takes a side by itself
    side: str = "support"  # the act's own side; a cue before it composes with it
    head: tuple[int, int] | None = None  # the predicate (a near group's word), where cues and negations aim
    anchor: tuple[int, int] | None = None  # a near group's anchor
    holder_rule: str = ""  # a near group's `holder`: before|after (the actor next to its word), agent

    @property
    def hs(self) -> int:
        return self.head[0] if self.head else self.fs

    @property
    def he(self) -> int:
        return self.head[1] if self.head else self.fe


@dataclass
class SentenceSpeaker:
    """The last speaker carries over to continuation sentences and unattributed quotes."""

    actor: str | None = None
    others: tuple[str, ...] = ()  # named with this sentence's speaker: "Russia and Ukraine say ..."


class _Hits:
    """Each lexicon runs once over the whole text; sentences and clauses then take their share."""

    # Triggers and attribution are looked for everywhere (attribution carries across sentences);
    # the rest only matter in sentences with a trigger, so they are looked for only there.
    EVERYWHERE = ("topic", "acts", "near_words", "reporting", "continuation")
    NEAR_TRIGGERS = ("near_anchors", "polarity", "negation", "welcome", "clause_breaks", "addressing",
                     "requested_after", "requested_before", "hearsay")

    def __init__(self, folded: Folded, code: str, c: Cues, sentences: list[tuple[int, int]]):
        self.ftext = folded.text
        self.sov = verb_final(code)
        self.v2 = word_order(code) == "v2"
        self.suffixes = frozenset(morphology(code)[1])
        self.place_words = place_prepositions(code)
        self.conjunctions = c.coordinators
        self.coordinators = c.coordinators | c.articles  # what may stand between names in a list
        self.negation_reach = c.negation_reach
        self.qualifiers = c.qualifiers
        self._never_subject: dict[tuple, bool] = {}
        self.found = {name: getattr(c, name).find(folded, code) for name in self.EVERYWHERE}
        self.trigger_starts = sorted(h.fs for name in ("topic", "acts", "near_words") for h in self.found[name])
        ranges: list[tuple[int, int]] = []
        for fs, fe in sentences:
            if self.has_trigger(fs, fe):
                if ranges and ranges[-1][1] >= fs - 1:
                    ranges[-1] = (ranges[-1][0], fe)
                else:
                    ranges.append((fs, fe))

        *found, fake = _near_group(c).find(folded, code, ranges)
        self.found.update(zip(self.NEAR_TRIGGERS, found, strict=True))
        # "لا يزال" (still), "not only", "не только": negation words that negate nothing
        if fake:
            self.found["negation"] = [n for n in self.found["negation"]
                                      if not any(f.fs <= n.fs and n.fe <= f.fe for f in fake)]
        self.starts = {name: [h.fs for h in hits] for name, hits in self.found.items()}

    def never_subject(self, a_fs: int, a_fe: int, a: ActorMention) -> bool:
        """A name that is no subject whatever its clause: a country as a place (`_as_place`) or a name in a
        compound (`_compound`); worked out once per name, not once per trigger."""
        key = (a_fs, a_fe, a.rule, a.place)
        got = self._never_subject.get(key)
        if got is None:
            got = self._never_subject[key] = (_as_place(self.ftext, a_fs, a, self.place_words)
                                              or _compound(self.ftext, a_fs, a_fe, self.suffixes))
        return got

    def has_trigger(self, fs: int, fe: int) -> bool:
        """Whether a topic, an act or a near group's word starts in folded[fs:fe]."""
        i = bisect.bisect_left(self.trigger_starts, fs)
        return i < len(self.trigger_starts) and self.trigger_starts[i] < fe

    def within(self, name: str, fs: int, fe: int) -> list[PhraseHit]:
        starts = self.starts[name]
        if not starts:  # a third of the asks: a lexicon the article holds nothing of
            return []
        lo = bisect.bisect_left(starts, fs)
        return self.found[name][lo:bisect.bisect_left(starts, fe, lo)]


@lru_cache(maxsize=64)
def _near_group(c: Cues) -> MatcherGroup:
    """The cue lexicons matched only in the sentences with a trigger, as one group (one pass per
    range, not one per lexicon and range, or none when they ride in the article's one pass; `not_negation`
    last)."""
    return MatcherGroup(_near_lexicons(c))


def _near_lexicons(c: Cues) -> list[PhraseMatcher]:
    return [getattr(c, name) for name in _Hits.NEAR_TRIGGERS] + [c.not_negation]


def sentence_lexicons(code: str) -> list[PhraseMatcher]:
    """The cue lexicons matched in sentence ranges only (their keys can ride in the article's one pass)."""
    return _near_lexicons(cues(code))


def whole_text_lexicons(code: str) -> list[PhraseMatcher]:
    """The cue lexicons matched over the whole text (for the article's one pass)."""
    c = cues(code)
    return [getattr(c, name) for name in _Hits.EVERYWHERE]


def _clauses(ftext: str, fs: int, fe: int, breaks: list[PhraseHit]) -> list[tuple[int, int]]:
    """A sentence cut at semicolons and at the language's clause breaks ("while", "في حين")."""
    cuts = sorted({m.end() for m in CLAUSE_PUNCTUATION_RE.finditer(ftext, fs, fe)} | {b.fs for b in breaks})
    bounds = [fs, *[c for c in cuts if fs < c < fe], fe]
    return list(zip(bounds, bounds[1:], strict=False))


def _triggers(h: _Hits, cs: int, ce: int) -> list[Trigger]:
    out = [Trigger(str(t.value), t.fs, t.fe, t.key, False) for t in h.within("topic", cs, ce)]
    out += [Trigger(t.value[0], t.fs, t.fe, t.key, True, t.value[1]) for t in h.within("acts", cs, ce)]
    anchors = h.within("near_anchors", cs, ce)
    for w in h.within("near_words", cs, ce):
        for group in w.value:
            near = [a for a in anchors if group in a.value and abs(a.fs - w.fs) <= NEAR_REACH]
            if near:
                a = min(near, key=lambda a: abs(a.fs - w.fs))
                fs, fe = _anchor_list(h, [x for x in anchors if group in x.value], a, after=a.fs > w.fs)
                out.append(Trigger(group[0], min(w.fs, fs), max(w.fe, fe), f"{w.key}~{a.key}", True,
                                   group[2], (w.fs, w.fe), (fs, fe), group[3]))
    # one trigger per place: an act wins over a topic it overlaps, of its own issue or another
    # ("appealed to the CSTO": the bloc named inside the request is no position on the bloc)
    # a plain act that holds a near group's word is the more specific reading ("stop the re-export"
    # over "re-export ... dual-use goods")
    plain = [t for t in out if t.act and t.head is None]
    out = [t for t in out if t.head is None or not any(
        p.issue == t.issue and p.fs <= t.hs and t.he <= p.fe for p in plain)]
    out.sort(key=lambda t: (not t.act, -(t.fe - t.fs)))
    kept: list[Trigger] = []
    for t in out:
        if not any(k.issue == t.issue and _overlap(t, k.fs, k.fe) or k.act and not t.act and _covers(k, t)
                   for k in kept):
            kept.append(t)
    kept.sort(key=lambda t: t.fs)
    # a topic that only qualifies the trigger before it ("peace talks on the war",
    # "Waffenruhe im Krieg") is part of that name: it takes no verdict of its own
    return [t for i, t in enumerate(kept)
            if t.act or not any(_qualifies(h.ftext, k.fe, t.fs, h.place_words, h.qualifiers)
                                for k in kept[:i] if k.issue != t.issue)]


def _anchor_list(h: _Hits, anchors: list[PhraseHit], a: PhraseHit, after: bool) -> tuple[int, int]:
    """The anchor with those coordinated with it, away from the word: '"ЛНР" та "ДНР"', "Donetsk and Luhansk"."""
    fs, fe = a.fs, a.fe
    for x in anchors if after else reversed(anchors):
        gap = h.ftext[fe:x.fs] if after else h.ftext[x.fe:fs]
        if (x.fs >= fe if after else x.fe <= fs) and len(gap) <= COORDINATION_GAP and all(
                w in h.coordinators for w in gap.replace(",", " ").strip(" \"'«»“”„").split()):
            fs, fe = (fs, x.fe) if after else (x.fs, fe)
    return fs, fe


def _overlap(t: Trigger, fs: int, fe: int) -> bool:
    return t.fs < fe and fs < t.fe


def _covers(act: Trigger, topic: Trigger) -> bool:
    """The topic is a word of the act: inside a plain act, or on a near group's word or anchor."""
    if act.head is None:
        return _overlap(topic, act.fs, act.fe)
    return any(_overlap(topic, *part) for part in (act.head, act.anchor) if part)


QUALIFIER_GAP = 24  # characters between a name and a topic that qualifies it


def _qualifies(ftext: str, prev_end: int, start: int, place_words: tuple[str, ...],
               qualifiers: tuple[str, ...] = ()) -> bool:
    """Only a preposition stands between a trigger and the topic after it ("talks on the war"), or one
    of the language's `qualifiers` ("troops ... у рамках ОДКБ", "within the framework of the CSTO")."""
    if not 0 <= start - prev_end <= QUALIFIER_GAP + max(map(len, qualifiers), default=0):
        return False
    gap = ftext[prev_end:start].strip(" \"'«»“”„")
    if any(gap == q or gap.endswith(" " + q) and len(gap) - len(q) <= QUALIFIER_GAP for q in qualifiers):
        return True
    return bool(gap) and len(gap) <= QUALIFIER_GAP and all(w in place_words for w in gap.split())


def _negated(negations: list[PhraseHit], pos: int, lo: int, reach: int = NEGATION_REACH,
             ftext: str = "") -> PhraseHit | None:
    """The closest negation before `pos`, within reach, after `lo` (the clause's start) and with no
    comma between ("hat sich nicht angeschlossen, will aber ... verhindern")."""
    best = None
    for n in negations:
        if lo <= n.fs and n.fe <= pos and pos - n.fe <= reach and not any(c in ftext[n.fe:pos] for c in COMMAS):
            best = n
    return best


def _cue_for(trig: Trigger, polarity: list[PhraseHit], lo: int, ce: int, others: list[Trigger],
             sov: bool = False, ftext: str = "") -> PhraseHit | None:
    """The polarity cue that governs a trigger: the nearest before it, else one just after it.

    A cue inside a trigger ("sanctions *against* Russia") is part of the name, not a verdict.
    """
    def inside(p: PhraseHit) -> bool:
        return trig.hs <= p.fs and p.fe <= trig.he

    if sov:  # verb-final: the verdict follows what it is about ("yaptırımlara uyacak")
        following = [p for p in polarity if p.fs >= trig.fe and p.fs - trig.fe <= CUE_REACH_BEFORE and p.fe <= ce]
        if following:
            return following[0]
    # verb-final: a verdict well before the trigger closes an earlier clause of its own
    reach = CUE_REACH_AFTER if sov else CUE_REACH_BEFORE
    before = [p for p in polarity if lo <= p.fs and p.fs < trig.hs and trig.hs - p.fe <= reach and not inside(p)]
    if before:
        return max(before, key=lambda p: p.fs)
    # a cue after the trigger governs it within its comma-free stretch: in "Kazakhstan, one of Russia's
    # allies, refused to ...", the refusal is not about the alliance named in the aside
    reach = ACT_REACH_AFTER if trig.act else CUE_REACH_AFTER
    after = [p for p in polarity if p.fs >= trig.fe and p.fs - trig.fe <= reach and p.fe <= ce
             and not any(c in ftext[trig.fe:p.fs] for c in COMMAS)
             and not (trig.act and _has_object(ftext, p, ce))]
    if not after or any(t.fs >= after[0].fe for t in others):
        return None  # "the war ... rejects peace talks": the cue's object follows it
    return after[0]


OBJECT_WORDS = 3  # more words than this after a verdict, before a comma or the clause's end: its own object


def _has_object(ftext: str, cue: PhraseHit, ce: int) -> bool:
    """A verdict followed by words of its own ("talks ... to prevent more deaths among civilians") is no
    verdict on the act before it; "recognition ... is not on the agenda." ends its stretch."""
    if ftext[cue.fe - 1] in ",،.;":  # the cue closes with its punctuation ("nicht an,")
        return False
    stretch = ftext[cue.fe:ce]
    cut = min((i for i in (stretch.find(c) for c in ",،.") if i >= 0), default=len(stretch))
    return len(stretch[:cut].split()) > OBJECT_WORDS


def _outer_cue(cue: PhraseHit, polarity: list[PhraseHit], lo: int, sov: bool = False) -> PhraseHit | None:
    """A cue right before the governing cue (right after it when verb-final: "tanımayı reddetti"),
    whose verdict it takes: "refused to recognise"."""
    def gap(p: PhraseHit) -> int:  # a neutral one further off: "abstained in the vote on ... condemning"
        return ABSTAIN_GAP if p.value == "neutral" else CHAIN_GAP

    if sov:
        outer = [p for p in polarity if p.fs >= cue.fe and p.fs - cue.fe <= gap(p)]
        return outer[0] if outer else None
    outer = [p for p in polarity if lo <= p.fs and p.fe <= cue.fs and cue.fs - p.fe <= gap(p)]
    return outer[-1] if outer else None


def _quote_closes_before(ftext: str, pos: int, start: int = 0) -> bool:
    """A quotation ends right before the verb: the sentence opens with it, or it opened in an earlier
    sentence (an odd number of quote marks); a quoted name inside the sentence ('the "SCO plus" format,
    told …') is no quotation of the speaker's."""
    before = ftext[:pos].rstrip()
    if before.endswith(tuple(DASHES)) or before.endswith(" -"):  # folding turns dashes into "-"
        return True
    if not before.rstrip(",،.").rstrip().endswith(tuple(QUOTE_CLOSERS)):
        return False
    head = ftext[start:pos].lstrip(" -" + DASHES)
    return head[:1] in QUOTE_MARKS or sum(head.count(q) for q in QUOTE_MARKS) % 2 == 1


APPOSITION_WORDS = 3  # words between an aside's comma and its noun: ", one of the closest allies of Russia,"


def _appositive_claim(ftext: str, trig: Trigger, cs: int, ce: int, actors: list[tuple[int, int, ActorMention]]) -> bool:
    """The trigger opens a comma-bounded aside after a name: "Kazakhstan, a close ally of Moscow," (a
    few words, no actor, then the noun); ", Russia remained our partner," is a clause (the actor before
    the noun is its subject), and "close, regular dialogue" a list of adjectives."""
    opening = max(ftext.rfind(c, cs, trig.hs) for c in COMMAS)
    if opening < 0 or not any(0 <= ftext.find(c, trig.fe, ce) for c in COMMAS):
        return False
    described = any(not ftext[a_fe:opening].strip() for _, a_fe, _ in actors if a_fe <= opening)
    return (described and len(ftext[opening + 1:trig.hs].split()) <= APPOSITION_WORDS
            and not any(opening < a_fs < trig.hs for a_fs, _, _ in actors))


def _in_quote(ftext: str, pos: int) -> bool:
    """`pos` stands inside a quotation opened earlier in its paragraph ("«…", "“…", "„…“", '"…')."""
    depth = low = straight = 0
    for ch in ftext[ftext.rfind("\n", 0, pos) + 1:pos]:
        if ch in "«„":
            depth += 1
            low += ch == "„"
        elif ch == "“" and low:  # German „…“: this one closes
            depth, low = depth - 1, low - 1
        elif ch == "“":
            depth += 1
        elif ch in "»”":
            depth = max(0, depth - 1)
        elif ch == '"':
            straight ^= 1
    return depth > 0 or straight == 1


def _speaker(ftext: str, reporting: list[PhraseHit], actors: list[tuple[int, int, ActorMention]],
             sov: bool = False, place_words: tuple[str, ...] = (), start: int = 0) -> ActorMention | None:
    """The actor a reporting verb attributes the sentence to: the nearest one before it, else after.
    A country named as a place ("send troops to Ukraine") or as an adjective ("النفط الروسي") speaks
    not; a seat does ("заявили в Кремле")."""
    rv = reporting[0]
    # ... but "В Казахстане заявили", "У Казахстані заявили": a country right before the verb is the seat speaking
    actors = [(fs, fe, a) for fs, fe, a in actors
              if not (a.rule.startswith("country:") and _as_place(ftext, fs, a, place_words))
              or (fe <= rv.fs and not ftext[fe:rv.fs].strip())]
    before = [a for fs, fe, a in actors if fe <= rv.fs and not _appositive(ftext, fs, fe, rv.fs, actors)]
    brk = SPEAKER_BREAK_RE.search(ftext, rv.fe)  # an actor after the verb counts up to the first break
    brk = brk.start() if brk else len(ftext)
    after = [(fs, a) for fs, fe, a in actors if rv.fe <= fs <= brk]
    if _quote_closes_before(ftext, rv.fs, start):  # '"…," said the White House'
        return after[0][1] if after else None
    # "said Tokayev", "заявили в Кремле", not "he said, Russia" nor "указал на удары российской армии"
    # (a preposition's object stands between them)
    def gap_words(fs: int) -> list[str]:  # from the nearest reporting phrase before it ("говорится в заявлении")
        return ftext[max((r.fe for r in reporting if r.fe <= fs), default=rv.fe):fs].split()

    verb_end = rv.fe  # "وقالت في بيان إن الولايات المتحدة": the verb and the reporting phrase after it
    for r in reporting[1:]:
        if r.fs - verb_end <= 2:
            verb_end = r.fe
    near = [a for fs, a in after if fs <= rv.fe + SPEAKER_AFTER_REACH
            and not (len(gap := gap_words(fs)) >= 2 and gap[-2] in place_words)
            and len(ftext[verb_end:fs].split()) <= SPEAKER_GAP_WORDS]  # nor "أوضح أن الأزمة بين روسيا …"
    if near and ftext[:rv.fs].rstrip().endswith((",", "،")):  # "…, заявил Токаев": inverted attribution
        return near[0]
    if before:
        return before[0] if sov else before[-1]  # SOV: "Tokayev ... Russia-DAT ... said"
    return near[0] if near else None


def find_stances(folded: Folded, code: str | None, sentences: list[tuple[int, int]],
                 actors: list[ActorMention], carry: SentenceSpeaker | None = None) -> list[Stance]:
    """Every stance of one article: at most one per holder and issue in a clause."""
    if not code:
        return []
    fsentences = [(folded.index(s), folded.index(e)) for s, e in sentences]
    h = _Hits(folded, code, cues(code), fsentences)
    carry = carry or SentenceSpeaker()
    out: list[Stance] = []
    located = [(folded.index(a.start), folded.index(a.end), a) for a in actors]  # once, not once per sentence
    starts = [a.start for a in actors]
    ordered = all(a <= b for a, b in zip(starts, starts[1:], strict=False))  # as find_actors gives them
    for (s, e), (fs, fe) in zip(sentences, fsentences, strict=True):
        in_sentence = (located[bisect.bisect_left(starts, s):bisect.bisect_left(starts, e)] if ordered
                       else [x for x in located if s <= x[2].start < e])
        reporting = h.within("reporting", fs, fe)
        speaker_id = sentence_speaker(h, fs, fe, in_sentence, carry)
        if not h.has_trigger(fs, fe):
            continue  # no topic, act or near word: no clause of the sentence can hold a stance
        for cs, ce in _clauses(folded.text, fs, fe, h.within("clause_breaks", fs, fe)):
            seen: set[tuple[str, str]] = set()
            triggers = _triggers(h, cs, ce)
            for trig in triggers:
                for st in _stances_for(trig, triggers, h, cs, ce, in_sentence, reporting, speaker_id, carry, s, e):
                    if (st.holder, st.issue) not in seen:
                        seen.add((st.holder, st.issue))
                        out.append(st)
    return out


def sentence_speaker(h: _Hits, fs: int, fe: int, in_sentence: list[tuple[int, int, ActorMention]],
                     carry: SentenceSpeaker) -> str | None:
    """Who speaks in the sentence folded[fs:fe]: the actor its reporting verb names, else the last
    speaker when it continues ("he said", "He added"). Updates `carry` for the sentences after it."""
    reporting = h.within("reporting", fs, fe)
    speaker = (_speaker(h.ftext, reporting, in_sentence, h.sov, h.place_words, fs)
               if reporting and in_sentence else None)
    carry.others = ()
    if speaker is None and (reporting or h.within("continuation", fs, fe)):
        speaker_id = carry.actor
    else:
        speaker_id = speaker.actor if speaker else None
    if speaker is not None:
        i = next(i for i, x in enumerate(in_sentence) if x[2] is speaker)
        carry.others = tuple(a for a in _coordinated(h.ftext, in_sentence, i, h, fs, reporting[0].fs)[1:]
                             if a != speaker.actor)
    if speaker_id:
        carry.actor = speaker_id
    return speaker_id


def _appositive(ftext: str, a_fs: int, a_fe: int, anchor: int, actors: list[tuple[int, int, ActorMention]],
                cs: int = 0, listing: frozenset[str] = frozenset()) -> bool:
    """An actor inside a comma-bounded aside is not the subject when another actor stands before the
    aside: "Kazakhstan, one of Russia's closest allies, refused ..."; "Tokayev, at the forum,
    sitting next to Putin, refused ...". An aside that opens with the actor names the subject
    itself ("Russia's ally, Kazakhstan, refused"), unless the actor before it closes right at the comma.
    A stretch of nothing but names and `listing` words is a list, not an aside: "the EU, the US, and Britain"""
    if a_fe > anchor:
        return False
    opening = max(ftext.rfind(",", 0, a_fs), ftext.rfind("،", 0, a_fs))  # the comma or Arabic comma before
    latin, arabic = ftext.find(",", a_fe, anchor), ftext.find("،", a_fe, anchor)  # the first one after
    closing = arabic if latin < 0 else latin if arabic < 0 else min(latin, arabic)
    if opening < 0 or closing < 0 or "." in ftext[opening:a_fs]:
        return False
    rest = ftext[opening + 1:a_fs] + ftext[a_fe:closing]
    if listing and all(w in listing for w in rest.split()):
        return False
    if any(fe <= opening and not ftext[fe:opening].strip() for fs, fe, _ in actors):
        return True
    opens_with_actor = not ftext[opening + 1:a_fs].strip()
    return not opens_with_actor and any(cs <= fs and fe <= opening for fs, fe, _ in actors)  # in this clause


ADDRESSEE_GAP = 12  # characters between a verb of asking and the one it asks: "urged the EU to"


def _addressed(ftext: str, a_fs: int, asking: list[PhraseHit], articles: frozenset[str]) -> bool:
    """The actor right after a verb of asking or urging is the one asked ("призвал Казахстан повлиять
    на Москву", "urged Kazakhstan to"), not the subject."""
    return any(0 <= a_fs - v.fe <= ADDRESSEE_GAP and all(w in articles for w in ftext[v.fe:a_fs].split())
               for v in asking)


def _compound(ftext: str, a_fs: int, a_fe: int, suffixes: frozenset[str] = frozenset()) -> bool:
    """A name inside a hyphenated compound qualifies a noun: "the Russia-Ukraine war",
    "Kazakh-Russian relations", "pro-Russian"; it names no one who acts. An ending after a hyphen
    (a suffix, or up to three letters) is still the name: "BE-ja", "ABD-nin"."""
    if a_fe < len(ftext) - 1 and ftext[a_fe] == "-" and ftext[a_fe + 1].isalpha():
        end = a_fe + 1
        while end < len(ftext) and ftext[end].isalpha():
            end += 1
        if end - a_fe - 1 > 3 and ftext[a_fe + 1:end] not in suffixes:
            return True
    return a_fs > 1 and ftext[a_fs - 1] == "-" and ftext[a_fs - 2].isalpha()


VERB_FIRST_REACH = 48  # characters from a verdict to the subject that follows it


def _holder(h: _Hits, trig: Trigger, anchor: int, cs: int, ce: int, actors: list[tuple[int, int, ActorMention]],
            reporting: list[PhraseHit], speaker_id: str | None, claim: bool = False) -> tuple[list[str], str]:
    """Who takes the position: the subject of a reported clause, the speaker, or the actor acting
    (with the actors coordinated with it: "the EU, the US and Britain imposed ...")."""
    if speaker_id and claim:  # "Peskov said Kazakhstan remains an ally": Russia's claim
        return [speaker_id], "holder:speaker-claim"
    ftext = h.ftext
    asking = h.within("addressing", cs, ce)
    free = [(a_fs, a_fe, a) for a_fs, a_fe, a in actors if not (trig.fs <= a_fs and a_fe <= trig.fe)
            and not h.never_subject(a_fs, a_fe, a)
            and not _appositive(ftext, a_fs, a_fe, anchor, actors, cs, h.coordinators)
            and not (asking and _addressed(ftext, a_fs, asking, h.coordinators))]

    def chain(i: int, how: str) -> tuple[list[str], str]:
        return _coordinated(ftext, free, i, h, max(cs, 0), anchor), how

    rv_end = max((r.fe for r in reporting if r.fe <= anchor), default=None)
    if rv_end is not None:
        reported = [i for i, (a_fs, a_fe, _) in enumerate(free) if max(rv_end, cs) <= a_fs and a_fe <= anchor]
        if reported:
            return chain(reported[0] if h.sov or h.v2 else reported[-1], "holder:reported-subject")
    before = [i for i, (a_fs, a_fe, _) in enumerate(free) if cs <= a_fs and a_fe <= anchor]
    # SOV, and verb-second (two actors before a verdict: it stands at the clause's end, "dass Berlin die
    # Ukraine unterstützen werde"): the clause opens with the subject
    first = h.sov or h.v2
    subject = (before[0] if first else before[-1]) if before else None
    if subject is not None and rv_end is None:  # "Kazakhstan will not deport them, the ministry said"
        return chain(subject, "holder:subject")
    if speaker_id:
        return [speaker_id], "holder:speaker"
    if subject is not None:
        return chain(subject, "holder:subject")
    before = [i for i, (_, a_fe, _) in enumerate(free) if a_fe <= anchor]
    if before:
        return chain(before[-1], "holder:sentence-subject")
    # Verb first ("رفض توكاييف", "refused Tokayev"): the subject follows the verb closely; an actor
    # further on is an object or a place ("... رفض ... الاعتراف بالجمهوريتين في شرق أوكرانيا").
    # Only the first actor after the verb can be its subject: when that one is asked or a place
    # ("призвал Астану ... России"), the next one is an object too.
    first_after = next((a for a_fs, _, a in actors if anchor <= a_fs < min(ce, anchor + VERB_FIRST_REACH)), None)
    after = [i for i, (a_fs, _, a) in enumerate(free) if anchor <= a_fs < min(ce, anchor + VERB_FIRST_REACH)
             and a is first_after]
    if after:
        return _coordinated(ftext, free, after[0], h, anchor, ce), "holder:verb-first-subject"
    return [], ""


def _attached(ftext: str, trig: Trigger, cue_fs: int, actor: tuple[int, int, ActorMention],
              verbs: list[PhraseHit]) -> bool:
    """An actor owning a topic ("Russia's war", "American sanctions") or between it and a verdict after
    it ("санкции США незаконны"). A name right after a verb is its subject ("وصف الكرملين العقوبات"),
    and only a country (or its demonym) qualifies a topic by standing before it."""
    a_fs, a_fe, a = actor
    if a_fe <= trig.fs:
        gap = ftext[a_fe:trig.fs].strip()
        if gap in ("'s", "'"):
            return True
        after_verb = any(0 <= a_fs - v.fe <= 2 for v in verbs)
        return not gap and a.rule.startswith("country:") and not after_verb
    return trig.fe <= a_fs and a_fe <= cue_fs


def _word_holder(trig: Trigger, actors: list[tuple[int, int, ActorMention]], cs: int, ce: int) -> tuple[list[str], str]:
    """A near group whose word names its holder's place: `after` ("at the request of Tokayev", "по
    просьбе Токаева": the requester) or `before` ("asked the CSTO ..., and the request was granted":
    the one asked)."""
    if trig.holder_rule == "after":
        after = [a for a_fs, _, a in actors if trig.he <= a_fs < min(ce, trig.he + VERB_FIRST_REACH)]
        return ([after[0].actor], "holder:after-word") if after else ([], "")
    before = [a for a_fs, a_fe, a in actors if cs <= a_fs and a_fe <= trig.hs]
    return ([before[-1].actor], "holder:before-word") if before else ([], "")


COORDINATION_GAP = 32  # characters between two coordinated names: ", the ", " and the "


def _coordinated(ftext: str, free: list[tuple[int, int, ActorMention]], i: int, h: _Hits,
                 lo: int, hi: int) -> list[str]:
    """The chosen actor, then those joined to it by commas and the language's coordinators (articles
    may stand between), within [lo, hi)."""
    def joined(a: tuple[int, int, ActorMention], b: tuple[int, int, ActorMention]) -> bool:
        gap = ftext[a[1]:b[0]]
        if len(gap) > COORDINATION_GAP or any(c in gap for c in ".;:!?\n"):
            return False
        parts = gap.replace(",", " , ").replace("،", " , ").split()
        if not parts:  # Arabic "والولايات المتحدة": the conjunction glued to the second name
            return b[2].rule.partition(" via:")[2] in h.conjunctions
        # an article alone joins nothing ("dass Kasachstan die Ukraine unterstützt"), and a comma alone
        # after a verb-final clause's subject sets it off ("Kazakistan, Türkiye'nin ...")
        return all(w in h.coordinators or w == "," for w in parts) and (
            any(w in h.conjunctions for w in parts) or ("," in parts and not h.sov))

    out = [free[i][2].actor]  # the chosen one first
    j = i
    while j > 0 and lo <= free[j - 1][0] and joined(free[j - 1], free[j]):
        j -= 1
        out.append(free[j][2].actor)
    j = i
    while j + 1 < len(free) and free[j + 1][1] <= hi and joined(free[j], free[j + 1]):
        j += 1
        out.append(free[j][2].actor)
    return list(dict.fromkeys(out))


# How sure the holder is, by the rule that found it: a speaker or the subject of the verdict is
# the clearest; the first actor after a verb, a speaker carried over from an earlier sentence or the
# subject of another clause are guesses, and a name coordinated with the holder is one step further.
HOLDER_WEIGHT = {"holder:sentence-subject": 0.9, "holder:verb-first-subject": 0.85,
                 "holder:previous-speaker": 0.85}


def _confidence(base: float, how: str, coordinated: bool) -> float:
    """The verdict's strength (an act or a topic with an explicit cue; an act alone; an unvoiced claim)
    times the holder rule's weight."""
    weight = HOLDER_WEIGHT.get(how.removesuffix("-unvoiced"), 1.0) * (0.95 if coordinated else 1.0)
    return round(base * weight, 3)


def _welcomed_before(trig: Trigger, welcome: PhraseHit, h: _Hits, cs: int, ce: int,
                     actors: list[tuple[int, int, ActorMention]], s: int, e: int) -> list[Stance]:
    """Verb-final welcome: the clause's first actor welcomes the position of the next one named."""
    cue = _cue_for(trig, h.within("polarity", cs, trig.fe), cs, trig.fe, [])
    pol = str(cue.value) if cue is not None else "support"
    neg = _negated(h.within("negation", cs, ce), cue.fs if cue is not None else trig.hs, cs, h.negation_reach, h.ftext)
    pol = FLIP[pol] if neg is not None else pol
    pol = FLIP[pol] if trig.side == "oppose" else pol
    if cue is None and neg is None and not trig.act:
        pol = "support"  # "welcomed the peace talks"
    named = [a for a_fs, a_fe, a in actors if cs <= a_fs and a_fe <= trig.hs]
    if not named:
        return []
    rule = f"{'act' if trig.act else 'topic'}:{trig.key}" + (f" polarity:{cue.key}" if cue else "") + (
        f" negation:{neg.key}" if neg else "") + f" welcome-after:{welcome.key}"
    out = [Stance(named[0].actor, trig.issue, pol, s, e, rule + " holder:welcomer", 0.7)]
    inner = next((a for a in named[1:] if a.actor != named[0].actor), None)
    if inner is not None:
        out.append(Stance(inner.actor, trig.issue, pol, s, e, rule + " welcomed", 0.7))
    return out


WELCOMED_TOPIC_GAP = 24  # "welcomed the peace talks"; not "thanked Tokayev for hosting the EAEU summit"


def _stances_for(trig: Trigger, clause_triggers: list[Trigger], h: _Hits, cs: int, ce: int,
                 actors: list[tuple[int, int, ActorMention]], reporting: list[PhraseHit], speaker_id: str | None,
                 carry: SentenceSpeaker, s: int, e: int) -> list[Stance]:
    welcome = next((w for w in reversed(h.within("welcome", cs, trig.hs)) if w.fe <= trig.hs), None)
    lo = welcome.fe if welcome else cs  # after a welcome, only the welcomed clause's cues count
    if welcome is None and h.sov:  # "Kyiv Kazakhstan's non-recognition decision welcomed"
        late = next((w for w in h.within("welcome", trig.he, ce)), None)
        if late is not None:
            return _welcomed_before(trig, late, h, cs, ce, actors, s, e)
    if _hearsay(h, trig, lo, cs, ce):
        return []
    cue = _cue_for(trig, h.within("polarity", cs, ce), lo, ce, clause_triggers, h.sov, h.ftext)
    if cue is None and welcome is not None and not trig.act and trig.fs - welcome.fe <= WELCOMED_TOPIC_GAP:
        cue = PhraseHit(welcome.fs, welcome.fe, welcome.key, "support")  # "welcomed the peace talks"
    if cue is None and not trig.act:
        return []  # a topic named in passing is not a position
    if cue is not None:
        pol, anchor, conf = str(cue.value), cue.fs, 0.85 if trig.act else 0.8
    else:
        pol, anchor, conf = "support", trig.hs, 0.65
    negations = h.within("negation", cs, ce)
    neg = _negated(negations, anchor, lo, h.negation_reach, h.ftext)
    if neg is not None:
        pol = FLIP[pol]
    outer = _outer_cue(cue, h.within("polarity", cs, ce), lo, h.sov) if cue is not None else None
    if outer is not None:  # "refuses to recognise": the outer verdict turns the inner one
        anchor = outer.fs
        pol = pol if outer.value == "support" else FLIP[pol] if outer.value == "oppose" else "neutral"
        if _negated(negations, outer.fs, lo, h.negation_reach, h.ftext) is not None:
            pol = FLIP[pol]
    if trig.side == "oppose":
        pol = FLIP[pol]  # refusing to circumvent sanctions supports them
    kind = "act" if trig.act else "topic"
    rule = f"{kind}:{trig.key}" + (f" polarity:{cue.key}" if cue else "") + (f" negation:{neg.key}" if neg else "")
    rule += f" outer:{outer.key}" if outer is not None else ""
    out = []
    if welcome is not None:
        after_welcome = [(a_fs, a) for a_fs, a_fe, a in actors if welcome.fe <= a_fs <= trig.fs]
        inner = [a for _, a in after_welcome]
        holders, how = _holder(h, trig, welcome.fs, cs, ce, actors, reporting, speaker_id)
        rest = list(dropwhile(lambda a: a.actor in holders, inner))
        if how == "holder:verb-first-subject" and rest and not h.ftext[welcome.fe:after_welcome[0][0]].strip():
            inner = rest  # "رحبت واشنطن برفض كازاخستان …": the welcomer right after its verb, then the welcomed
        if inner and inner[0].actor in holders and carry.actor and carry.actor not in holders:
            holders, how = [carry.actor], "holder:previous-speaker"  # "We welcome Kazakhstan's ...": not Kazakhstan
        if inner and inner[0].actor not in holders:
            out.append(Stance(inner[0].actor, trig.issue, pol, s, e, rule + " welcomed", round(conf * 0.95, 3)))
        rule += f" welcome:{welcome.key}"
    else:
        claim = cue is None and trig.issue in relationship_issues()
        # "Kazakhstan, Russia's closest ally, ...": a relationship described with nobody saying it is
        # the reporter's description; a person or an institution naming it ("Putin called Kazakhstan
        # an ally") still makes the claim
        quoted = claim and _in_quote(h.ftext, trig.fs)
        if claim and not quoted and _appositive_claim(h.ftext, trig, cs, ce, actors):
            return []  # "Kazakhstan, a close ally of Moscow, ...": the reporter's description in an aside
        unvoiced = claim and not (speaker_id or reporting or quoted)
        voices = [x for x in actors if not (x[2].rule.startswith("country:") or x[2].place)] if unvoiced else actors
        if not trig.act and anchor > trig.fs and not (h.sov or h.v2):
            # "US sanctions are illegitimate, Lavrov said": the verdict follows the topic it is passed
            # on, so the actors that name the topic's owner are part of the topic, not its judges
            verbs = h.within("reporting", cs, trig.fs) + h.within("polarity", cs, trig.fs)
            voices = [x for x in voices if not _attached(h.ftext, trig, anchor, x, verbs)]
        holders, how = _word_holder(trig, actors, cs, ce) if trig.holder_rule in ("before", "after") else ([], "")
        if not holders:
            holders, how = _holder(h, trig, min(anchor, trig.fs), cs, ce, voices, reporting, speaker_id, claim)
        if unvoiced:
            if not holders or how == "holder:verb-first-subject":
                return []
            how, conf = f"{how}-unvoiced", 0.55
    if trig.holder_rule == "agent" and cue is None and neg is None and how in ("holder:speaker", ""):
        # `holder: agent` ("re-exports of banned goods keep growing, an official said"): an evasion
        # told with no verdict is the evader's act; the one who tells it takes no position by telling
        return out
    if how in ("holder:speaker", "holder:speaker-claim") and holders == [speaker_id]:
        holders = [*holders, *carry.others]  # "Russia and Ukraine say they are ready to negotiate"
    if not holders and carry.actor:
        holders, how = [carry.actor], "holder:previous-speaker"
    for i, holder in enumerate(holders):
        out.append(Stance(holder, trig.issue, pol, s, e, f"{rule} {how}" + (" coordinated" if i else ""),
                          _confidence(conf, how, bool(i))))
    asker = _asker(h, cs, ce, actors)
    if asker is not None and all(st.holder != asker[0] for st in out):
        out.append(Stance(asker[0], trig.issue, pol, s, e, f"{rule} requested-by:{asker[1]}", conf))
    return out


def _hearsay(h: _Hits, trig: Trigger, lo: int, cs: int, ce: int) -> bool:
    """The trigger is what someone is accused or suspected of, and no verdict before takes the claim up."""
    for x in h.within("hearsay", lo, trig.hs):
        if x.fe <= trig.hs and trig.hs - x.fe <= HEARSAY_REACH and not any(c in h.ftext[x.fe:trig.hs] for c in ",،") \
                and not any(
                p.fe <= x.fs and x.fs - p.fe <= NEGATION_REACH for p in h.within("polarity", cs, x.fs)):
            return True
    return False


def _asker(h: _Hits, cs: int, ce: int, actors: list[tuple[int, int, ActorMention]]) -> tuple[str, str] | None:
    """Who asked for what the clause reports ("… at the request of Tokayev"): they take its side too."""
    for r in h.within("requested_after", cs, ce):
        named = [a for a_fs, a_fe, a in actors if r.fe <= a_fs and a_fe <= ce and a_fs - r.fe <= SPEAKER_AFTER_REACH
                 and not any(ch in h.ftext[r.fe:a_fs] for ch in SPEAKER_BREAKS)]
        if named:
            return named[0].actor, r.key
    for r in h.within("requested_before", cs, ce):
        named = [a for a_fs, a_fe, a in actors if cs <= a_fs and a_fe <= r.fs and r.fs - a_fe <= REQUEST_GAP]
        if named:
            return named[-1].actor, r.key
    return None
