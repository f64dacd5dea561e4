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
taking the same side: "the US welcomed Kazakhstan's refusal to send troops" gives both opposing;
so is asking for it: "troops sent at the request of Tokayev" gives the sender and Kazakhstan. An act
reported as someone's accusation ("Kazakhstan, accused of helping Russia evade sanctions, …") is no
one's position, unless a verdict takes it up ("denied the accusations of …").
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import lru_cache
from itertools import dropwhile

from kzdash.extract.actors import ActorMention
from kzdash.text.langdata import DATA_DIR, folded_list, load, read_yaml, verb_final
from kzdash.text.lexicon import PhraseHit, PhraseMatcher
from kzdash.text.textnorm import Folded

NEGATION_REACH = 24  # folded characters before a cue (or act) that a negation governs
CUE_REACH_BEFORE = 140  # how far before a trigger a polarity cue still governs it
CUE_REACH_AFTER = 40  # "sanctions are illegitimate": a cue just after a trigger
SPEAKER_AFTER_REACH = 30  # "قال الرئيس توكاييف", "said Tokayev": the speaker right after the verb
SPEAKER_GAP_WORDS = 2  # "заявил в среду Песков": at most this many words between the verb and its speaker
HEARSAY_REACH = 48  # "accused of helping Russia | evade sanctions": how far an accusation governs
REQUEST_GAP = 3  # "Tokajevi palvel": an asker named right before a postposed "at the request of"
SPEAKER_BREAKS = ",،:;\"«»“”"
QUOTE_CLOSERS = "\"»”“"  # a reporting verb right after a closing quote (or its comma or dash) names
DASHES = "—–"  # its speaker after it: '"…," said X', '«…», — сказал X'; a bare comma closes an aside
QUOTE_MARKS = "\"«»“”„"
CHAIN_GAP = 16  # "refused to | recognise": two cues this close read as one verdict on the other
NEAR_REACH = 90  # a `near` word and its anchor: at most this far apart, same clause
FLIP = {"support": "oppose", "oppose": "support", "neutral": "neutral"}
SIDES = ("support", "oppose")
CLAUSE_PUNCTUATION = ";؛"


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
            key = (issue, i, str(group.get("polarity") or "support"))
            for w in group.get("words") or ():
                words[w] = (*words.get(w, ()), key)
            for a in group.get("anchors") or ():
                anchors[a] = (*anchors.get(a, ()), key)
    requested = data.get("requested_by") or {}
    return Cues(topics, acts, PhraseMatcher(words), PhraseMatcher(anchors), by_value("polarity"),
                flat("negation"), flat("reporting_verbs"), flat("continuation"), flat("welcome"),
                PhraseMatcher({p: "after" for p in requested.get("after") or ()}),
                PhraseMatcher({p: "before" for p in requested.get("before") or ()}), flat("hearsay"),
                flat("clause_breaks"), flat("not_negation"))


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
    if glued and any(w.endswith("-") and w[:-1] == glued for w in place_words):
        return True
    before = ftext[max(0, a_fs - 24):a_fs].rstrip()
    return any(before.endswith(w) and (len(before) == len(w) or not before[-len(w) - 1].isalnum())
               for w in place_words)


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


@dataclass(frozen=True)
class Trigger:
    issue: str
    fs: int
    fe: int
    key: str
    act: bool  # takes a side by itself
    side: str = "support"  # the act's own side; a cue before it composes with it
    head: tuple[int, int] | None = None  # the predicate (a near group's word), where cues and negations aim

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


class _Hits:
    """Each lexicon runs once over the whole text; sentences and clauses then take their share."""

    # Triggers and attribution are looked for everywhere (attribution carries across sentences);
    # the rest only matter in sentences with a trigger, so they are looked for only there.
    EVERYWHERE = ("topic", "acts", "near_words", "reporting", "continuation")
    NEAR_TRIGGERS = ("near_anchors", "polarity", "negation", "welcome", "clause_breaks", "requested_after",
                     "requested_before", "hearsay")

    def __init__(self, folded: Folded, code: str, c: Cues, sentences: list[tuple[int, int]]):
        self.ftext = folded.text
        self.sov = verb_final(code)
        self.place_words = place_prepositions(code)
        self.found = {name: getattr(c, name).find(folded, code) for name in self.EVERYWHERE}
        starts = sorted(h.fs for name in ("topic", "acts", "near_words") for h in self.found[name])
        ranges: list[tuple[int, int]] = []
        for fs, fe in sentences:
            i = bisect.bisect_left(starts, fs)
            if i < len(starts) and starts[i] < fe:
                if ranges and ranges[-1][1] >= fs - 1:
                    ranges[-1] = (ranges[-1][0], fe)
                else:
                    ranges.append((fs, fe))

        def near_triggers(matcher: PhraseMatcher) -> list[PhraseHit]:
            return [hit for lo, hi in ranges for hit in matcher.find(folded, code, lo, hi)]

        for name in self.NEAR_TRIGGERS:
            self.found[name] = near_triggers(getattr(c, name))
        # "لا يزال" (still), "not only", "не только": negation words that negate nothing
        fake = near_triggers(c.not_negation)
        if fake:
            self.found["negation"] = [n for n in self.found["negation"]
                                      if not any(f.fs <= n.fs and n.fe <= f.fe for f in fake)]
        self.starts = {name: [h.fs for h in hits] for name, hits in self.found.items()}

    def within(self, name: str, fs: int, fe: int) -> list[PhraseHit]:
        lo, hi = bisect.bisect_left(self.starts[name], fs), bisect.bisect_left(self.starts[name], fe)
        return self.found[name][lo:hi]


def _clauses(ftext: str, fs: int, fe: int, breaks: list[PhraseHit]) -> list[tuple[int, int]]:
    """A sentence cut at semicolons and at the language's clause breaks ("while", "في حين")."""
    cuts = sorted({i + 1 for i in range(fs, fe) if ftext[i] in CLAUSE_PUNCTUATION} | {b.fs for b in breaks})
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
                out.append(Trigger(group[0], min(w.fs, a.fs), max(w.fe, a.fe), f"{w.key}~{a.key}", True,
                                   group[2], (w.fs, w.fe)))
    # one trigger per issue and place: an act wins over a topic it overlaps; a topic that overlaps another
    # issue's `near` act is that act's object ("refused to send troops to the war in Ukraine")
    out.sort(key=lambda t: (not t.act, -(t.fe - t.fs)))
    kept: list[Trigger] = []
    for t in out:
        if not any(k.issue == t.issue and t.fs < k.fe and k.fs < t.fe for k in kept) and not (
                not t.act and any(k.head and t.fs < k.fe and k.fs < t.fe for k in kept)):
            kept.append(t)
    return sorted(kept, key=lambda t: t.fs)


def _negated(negations: list[PhraseHit], pos: int, lo: int) -> PhraseHit | None:
    """The closest negation before `pos`, within reach and after `lo` (the clause's start)."""
    best = None
    for n in negations:
        if lo <= n.fs and n.fe <= pos and pos - n.fe <= NEGATION_REACH:
            best = n
    return best


def _cue_for(trig: Trigger, polarity: list[PhraseHit], lo: int, ce: int, others: list[Trigger],
             sov: bool = False) -> PhraseHit | None:
    """The polarity cue that governs a trigger: the nearest before it, else one just after it.

    A cue inside a trigger ("sanctions *against* Russia") is part of the name, not a verdict.
    """
    def inside(p: PhraseHit) -> bool:
        return trig.hs <= p.fs and p.fe <= trig.he

    if sov:  # verb-final: the verdict follows what it is about ("yaptırımlara uyacak")
        following = [p for p in polarity if p.fs >= trig.fe and p.fs - trig.fe <= CUE_REACH_BEFORE and p.fe <= ce]
        if following:
            return following[0]
    before = [p for p in polarity if lo <= p.fs and p.fs < trig.hs and trig.hs - p.fe <= CUE_REACH_BEFORE
              and not inside(p)]
    if before:
        return max(before, key=lambda p: p.fs)
    after = [p for p in polarity if p.fs >= trig.fe and p.fs - trig.fe <= CUE_REACH_AFTER and p.fe <= ce]
    if not after or any(t.fs >= after[0].fe for t in others):
        return None  # "the war ... rejects peace talks": the cue's object follows it
    return after[0]


def _outer_cue(cue: PhraseHit, polarity: list[PhraseHit], lo: int, sov: bool = False) -> PhraseHit | None:
    """A cue right before the governing cue (right after it when verb-final: "tanımayı reddetti"),
    whose verdict it takes: "refused to recognise"."""
    if sov:
        outer = [p for p in polarity if p.fs >= cue.fe and p.fs - cue.fe <= CHAIN_GAP]
        return outer[0] if outer else None
    outer = [p for p in polarity if lo <= p.fs and p.fe <= cue.fs and cue.fs - p.fe <= CHAIN_GAP]
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


def _speaker(ftext: str, reporting: list[PhraseHit], actors: list[tuple[int, int, ActorMention]],
             sov: bool = False, place_words: tuple[str, ...] = (), start: int = 0) -> ActorMention | None:
    """The actor a reporting verb attributes the sentence to: the nearest one before it, else after.
    A country named as a place ("send troops to Ukraine") or as an adjective ("النفط الروسي") speaks
    not; a seat does ("заявили в Кремле")."""
    rv = reporting[0]
    actors = [(fs, fe, a) for fs, fe, a in actors
              if not (a.rule.startswith("country:") and _as_place(ftext, fs, a, place_words))]
    before = [a for fs, fe, a in actors if fe <= rv.fs and not _appositive(ftext, fs, fe, rv.fs, actors)]
    after = [(fs, a) for fs, fe, a in actors if rv.fe <= fs and not any(ch in ftext[rv.fe:fs] for ch in SPEAKER_BREAKS)]
    if _quote_closes_before(ftext, rv.fs, start):  # '"…," said the White House'
        return after[0][1] if after else None
    verb_end = rv.fe  # "وقالت في بيان إن الولايات المتحدة": the verb and the reporting phrase after it
    for r in reporting[1:]:
        if r.fs - verb_end <= 2:
            verb_end = r.fe
    near = [a for fs, a in after if fs <= rv.fe + SPEAKER_AFTER_REACH  # "said Tokayev", not "he said, Russia",
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
    h = _Hits(folded, code, cues(code), [(folded.index(s), folded.index(e)) for s, e in sentences])
    carry = carry or SentenceSpeaker()
    out: list[Stance] = []
    for s, e in sentences:
        fs, fe = folded.index(s), folded.index(e)
        in_sentence = [(folded.index(a.start), folded.index(a.end), a) for a in actors if s <= a.start < e]
        reporting = h.within("reporting", fs, fe)
        speaker = (_speaker(folded.text, reporting, in_sentence, h.sov, h.place_words, fs)
                   if reporting and in_sentence else None)
        if speaker is None and (reporting or h.within("continuation", fs, fe)):
            speaker_id = carry.actor  # "he said", "He added"
        else:
            speaker_id = speaker.actor if speaker else None
        if speaker_id:
            carry.actor = speaker_id
        for cs, ce in _clauses(folded.text, fs, fe, h.within("clause_breaks", fs, fe)):
            seen: set[tuple[str, str]] = set()
            triggers = _triggers(h, cs, ce)
            for trig in triggers:
                for st in _stances_for(trig, triggers, h, cs, ce, in_sentence, reporting, speaker_id, carry, s, e):
                    if (st.holder, st.issue) not in seen:
                        seen.add((st.holder, st.issue))
                        out.append(st)
    return out


def _appositive(ftext: str, a_fs: int, a_fe: int, anchor: int, actors: list[tuple[int, int, ActorMention]],
                cs: int = 0) -> bool:
    """An actor inside a comma-bounded aside is not the subject when another actor stands before the
    aside: "Kazakhstan, one of Russia's closest allies, refused ..."; "Tokayev, at the forum,
    sitting next to Putin, refused ...". An aside that opens with the actor names the subject
    itself ("Russia's ally, Kazakhstan, refused"), unless the actor before it closes right at the comma."""
    if a_fe > anchor:
        return False
    opening = max(ftext.rfind(c, 0, a_fs) for c in ",،")
    closing = min((i for i in (ftext.find(c, a_fe, anchor) for c in ",،") if i >= 0), default=-1)
    if opening < 0 or closing < 0 or "." in ftext[opening:a_fs]:
        return False
    if any(fe <= opening and not ftext[fe:opening].strip() for fs, fe, _ in actors):
        return True
    opens_with_actor = not ftext[opening + 1:a_fs].strip()
    return not opens_with_actor and any(cs <= fs and fe <= opening for fs, fe, _ in actors)  # in this clause


VERB_FIRST_REACH = 48  # characters from a verdict to the subject that follows it


def _holder(ftext: str, trig: Trigger, anchor: int, cs: int, ce: int, actors: list[tuple[int, int, ActorMention]],
            reporting: list[PhraseHit], speaker_id: str | None, claim: bool = False,
            sov: bool = False, place_words: tuple[str, ...] = ()) -> tuple[str | None, str]:
    """Who takes the position: the subject of a reported clause, the speaker, or the actor acting."""
    free = [(a_fs, a_fe, a) for a_fs, a_fe, a in actors if not (trig.fs <= a_fs and a_fe <= trig.fe)
            and not _appositive(ftext, a_fs, a_fe, anchor, actors, cs) and not _as_place(ftext, a_fs, a, place_words)]
    if speaker_id and claim:  # "Peskov said Kazakhstan remains an ally": Russia's claim
        return speaker_id, "holder:speaker-claim"
    rv_end = max((r.fe for r in reporting if r.fe <= anchor), default=None)
    if rv_end is not None:
        reported = [a for a_fs, a_fe, a in free if max(rv_end, cs) <= a_fs and a_fe <= anchor]
        if reported:
            return reported[-1].actor, "holder:reported-subject"
    before = [a for a_fs, a_fe, a in free if cs <= a_fs and a_fe <= anchor]
    subject = (before[0] if sov else before[-1]) if before else None  # SOV: the clause opens with it
    if subject and rv_end is None:  # "Kazakhstan will not deport them, the ministry said"
        return subject.actor, "holder:subject"
    if speaker_id:
        return speaker_id, "holder:speaker"
    if subject:
        return subject.actor, "holder:subject"
    before = [a for a_fs, a_fe, a in free if a_fe <= anchor]
    if before:
        return before[-1].actor, "holder:sentence-subject"
    # Verb first ("رفض توكاييف", "refused Tokayev"): the subject follows the verb closely; an actor
    # further on is an object or a place ("... رفض ... الاعتراف بالجمهوريتين في شرق أوكرانيا").
    after = [a for a_fs, a_fe, a in free if anchor <= a_fs < min(ce, anchor + VERB_FIRST_REACH)]
    if after:
        return after[0].actor, "holder:verb-first-subject"
    return None, ""


def _welcomed_before(trig: Trigger, welcome: PhraseHit, h: _Hits, cs: int, ce: int,
                     actors: list[tuple[int, int, ActorMention]], s: int, e: int) -> list[Stance]:
    """Verb-final welcome: the clause's first actor welcomes the position of the next one named."""
    cue = _cue_for(trig, h.within("polarity", cs, trig.fe), cs, trig.fe, [])
    pol = str(cue.value) if cue is not None else "support"
    neg = _negated(h.within("negation", cs, ce), cue.fs if cue is not None else trig.hs, cs)
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
    cue = _cue_for(trig, h.within("polarity", cs, ce), lo, ce, clause_triggers, h.sov)
    if cue is None and welcome is not None and not trig.act:
        cue = PhraseHit(welcome.fs, welcome.fe, welcome.key, "support")  # "welcomed the peace talks"
    if cue is None and not trig.act:
        return []  # a topic named in passing is not a position
    if cue is not None:
        pol, anchor, conf = str(cue.value), cue.fs, 0.85 if trig.act else 0.8
    else:
        pol, anchor, conf = "support", trig.hs, 0.65
    negations = h.within("negation", cs, ce)
    neg = _negated(negations, anchor, lo)
    if neg is not None:
        pol = FLIP[pol]
    outer = _outer_cue(cue, h.within("polarity", cs, ce), lo, h.sov) if cue is not None else None
    if outer is not None:  # "refuses to recognise": the outer verdict turns the inner one
        anchor = outer.fs
        pol = pol if outer.value == "support" else FLIP[pol] if outer.value == "oppose" else "neutral"
        if _negated(negations, outer.fs, lo) is not None:
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
        holder, how = _holder(h.ftext, trig, welcome.fs, cs, ce, actors, reporting, speaker_id, False, h.sov,
                              h.place_words)
        rest = list(dropwhile(lambda a: a.actor == holder, inner))
        if how == "holder:verb-first-subject" and rest and not h.ftext[welcome.fe:after_welcome[0][0]].strip():
            inner = rest  # "رحبت واشنطن برفض كازاخستان …": the welcomer right after its verb, then the welcomed
        if inner and inner[0].actor == holder and carry.actor and carry.actor != holder:
            holder, how = carry.actor, "holder:previous-speaker"  # "We welcome Kazakhstan's ...": not Kazakhstan
        if inner and inner[0].actor != holder:
            out.append(Stance(inner[0].actor, trig.issue, pol, s, e, rule + " welcomed", conf))
        rule += f" welcome:{welcome.key}"
    else:
        claim = cue is None and trig.issue in relationship_issues()
        holder, how = _holder(h.ftext, trig, min(anchor, trig.fs), cs, ce, actors, reporting, speaker_id, claim,
                              h.sov, h.place_words)
    if holder is None and carry.actor:
        holder, how = carry.actor, "holder:previous-speaker"
    if holder is not None:
        out.append(Stance(holder, trig.issue, pol, s, e, f"{rule} {how}", conf))
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
