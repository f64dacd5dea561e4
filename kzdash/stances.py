"""Stances: (holder, issue, polarity) per sentence, from the language's cue files.

A sentence with an issue trigger (`cues.yaml: issues`) yields a stance. Its holder is the speaker
when a reporting verb attributes the sentence ("قال توكاييف", "Tokayev said"; a continuation such
as "He added" keeps the previous speaker), else the acting subject: the last actor named before
the trigger. Polarity is the nearest polarity cue, flipped by a negation just before it; with no
cue, a negated trigger opposes and a plain one supports (at lower confidence). Welcoming someone
else's position is taking the same side: "the US welcomed Kazakhstan's refusal to send troops"
gives Kazakhstan *and* the US opposing sending troops.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import lru_cache

from kzdash.actors import ActorMention
from kzdash.langdata import load
from kzdash.lexicon import PhraseHit, PhraseMatcher
from kzdash.textnorm import Folded

NEGATION_REACH = 24  # folded characters before a cue (or trigger) that a negation governs
FLIP = {"support": "oppose", "oppose": "support", "neutral": "neutral"}


@dataclass(frozen=True)
class Cues:
    issues: PhraseMatcher
    polarity: PhraseMatcher
    negation: PhraseMatcher
    reporting: PhraseMatcher
    continuation: PhraseMatcher
    welcome: PhraseMatcher


@lru_cache(maxsize=64)
def cues(code: str) -> Cues:
    data = load(code, "cues.yaml")

    def by_value(key: str) -> PhraseMatcher:
        return PhraseMatcher({p: v for v, phrases in (data.get(key) or {}).items() for p in phrases or ()})

    def flat(key: str) -> PhraseMatcher:
        return PhraseMatcher({p: key for p in data.get(key) or ()})

    return Cues(by_value("issues"), by_value("polarity"), flat("negation"), flat("reporting_verbs"),
                flat("continuation"), flat("welcome"))


@dataclass(frozen=True)
class Stance:
    holder: str
    issue: str
    polarity: str
    start: int  # the sentence (original offsets)
    end: int
    rule: str  # what fired: issue trigger, polarity cue, negation, holder rule
    confidence: float


@dataclass
class SentenceSpeaker:
    """The last speaker carries over to continuation sentences and unattributed quotes."""

    actor: str | None = None


def _negated(negations: list[PhraseHit], pos: int, lo: int) -> PhraseHit | None:
    """The closest negation before `pos`, within reach and after `lo` (the clause's start)."""
    best = None
    for n in negations:
        if lo <= n.fs and n.fe <= pos and pos - n.fe <= NEGATION_REACH:
            best = n
    return best


def _speaker(hits: list[PhraseHit], actors: list[tuple[int, int, ActorMention]]) -> ActorMention | None:
    """The actor a reporting verb attributes the sentence to: the nearest one before it, else after."""
    rv = hits[0]
    before = [a for fs, fe, a in actors if fe <= rv.fs]
    after = [a for fs, fe, a in actors if fs >= rv.fe]
    if before:
        return before[-1]
    return after[0] if after else None


def find_stances(folded: Folded, code: str | None, sentences: list[tuple[int, int]],
                 actors: list[ActorMention], carry: SentenceSpeaker | None = None) -> list[Stance]:
    """Every stance of one article, one or more per sentence with an issue trigger."""
    if not code:
        return []
    c = cues(code)
    carry = carry or SentenceSpeaker()
    out: list[Stance] = []
    # each lexicon runs once over the whole text; sentences then take their share
    found = {name: getattr(c, name).find(folded, code) for name in
             ("issues", "polarity", "negation", "reporting", "continuation", "welcome")}
    starts = {name: [h.fs for h in hits] for name, hits in found.items()}

    def within(name: str, fs: int, fe: int) -> list[PhraseHit]:
        lo, hi = bisect.bisect_left(starts[name], fs), bisect.bisect_left(starts[name], fe)
        return found[name][lo:hi]

    for s, e in sentences:
        fs, fe = folded.index(s), folded.index(e)
        in_sentence = [(folded.index(a.start), folded.index(a.end), a) for a in actors if s <= a.start < e]
        reporting = within("reporting", fs, fe)
        speaker = _speaker(reporting, in_sentence) if reporting and in_sentence else None
        if speaker is None and (reporting or within("continuation", fs, fe)):
            speaker_id = carry.actor  # "he said", "He added"
        else:
            speaker_id = speaker.actor if speaker else None
        if speaker_id:
            carry.actor = speaker_id
        issues = within("issues", fs, fe)
        if not issues:
            continue
        polarity, negations = within("polarity", fs, fe), within("negation", fs, fe)
        welcomes = within("welcome", fs, fe)
        for trig in issues:
            out += _stances_for(trig, polarity, negations, welcomes, in_sentence, speaker_id, carry, fs, s, e)
    return out


def _stances_for(trig: PhraseHit, polarity: list[PhraseHit], negations: list[PhraseHit],
                 welcomes: list[PhraseHit], actors: list[tuple[int, int, ActorMention]],
                 speaker_id: str | None, carry: SentenceSpeaker, fs: int, s: int, e: int) -> list[Stance]:
    issue = str(trig.value)
    welcome = next((w for w in welcomes if w.fe <= trig.fs), None)
    lo = welcome.fe if welcome else fs  # after a welcome, only the welcomed clause's cues count
    before = [p for p in polarity if lo <= p.fs and p.fe <= trig.fs]
    after = [p for p in polarity if p.fs >= trig.fe]
    cue = before[-1] if before else (after[0] if after else None)
    if cue is not None:
        pol, anchor, conf = str(cue.value), cue.fs, 0.8
    else:
        pol, anchor, conf = "support", trig.fs, 0.55
    neg = _negated(negations, anchor, lo)
    if neg is not None:
        pol = FLIP[pol]
    rule = f"issue:{trig.key}" + (f" polarity:{cue.key}" if cue else "") + (f" negation:{neg.key}" if neg else "")
    subjects = [a for fs_, fe_, a in actors if fe_ <= (welcome.fs if welcome else anchor)]
    holder = speaker_id or (subjects[-1].actor if subjects else None)
    if holder is None and actors:
        holder = actors[0][2].actor
    out = []
    if welcome is not None:
        inner = [a for fs_, fe_, a in actors if welcome.fe <= fs_ <= trig.fs]
        if inner and inner[0].actor != holder:
            out.append(Stance(inner[0].actor, issue, pol, s, e, rule + " welcomed", conf))
        rule += f" welcome:{welcome.key}"
    if holder is None:
        holder = carry.actor
    if holder is not None:
        out.append(Stance(holder, issue, pol, s, e, rule, conf))
    return out
