"""Why the engine made (or did not make) each row of one article: `kzdash explain`.

Per sentence: the places, actors and dates found, the stance engine's hits (issue triggers,
polarity cues, negations, reporting verbs, welcomes, clause breaks), the holder candidates with
the reason a candidate was passed over, and the stances and events made there with their rule
trail. With `near`, only the sentences holding those words, each with the reason no stance came
of a trigger. This is the error-analysis tool, and the "why" the Articles page shows.

It re-reads the stance engine's own steps (the same functions `find_stances` calls), so what it
prints is what the engine did, not a second opinion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kzdash.extract import stances as engine
from kzdash.extract.actors import ActorMention
from kzdash.extract.article import Extraction
from kzdash.text.lexicon import PhraseHit
from kzdash.text.textnorm import fold_key

HIT_KINDS = ("reporting", "continuation", "topic", "acts", "near_words", "near_anchors", "polarity", "negation",
             "welcome", "clause_breaks")


@dataclass
class ClauseTrail:
    start: int
    end: int
    triggers: list[str] = field(default_factory=list)
    why: list[str] = field(default_factory=list)  # per trigger: what governed it, who held it, or why nothing


@dataclass
class SentenceTrail:
    index: int
    start: int
    end: int
    text: str
    places: list[str] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    hits: dict[str, list[str]] = field(default_factory=dict)
    candidates: list[str] = field(default_factory=list)
    clauses: list[ClauseTrail] = field(default_factory=list)
    stances: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


@dataclass
class ArticleTrail:
    source: str
    language: str | None
    published: str | None
    published_basis: str | None
    sentences: list[SentenceTrail]
    reference: str | None = None  # the day relative dates count from when no date is printed, and why


def explain(x: Extraction, near: str | None = None) -> ArticleTrail:
    """The trail of every sentence of `x` (with `near`: only sentences containing those words)."""
    text, folded, code = x.article.text, x.folded, x.language
    want = fold_key(near).strip() if near else ""
    hits = None
    if code:
        fsentences = [(folded.index(s), folded.index(e)) for s, e in x.sentences]
        hits = engine._Hits(folded, code, engine.cues(code), fsentences)
    out = []
    carry = engine.SentenceSpeaker()
    for i, (s, e) in enumerate(x.sentences):
        fs, fe = folded.index(s), folded.index(e)
        in_sentence = [a for a in x.actors if s <= a.start < e]
        folded_actors = [(folded.index(a.start), folded.index(a.end), a) for a in in_sentence]
        speaker = engine.sentence_speaker(hits, fs, fe, folded_actors, carry) if hits else None
        if want and want not in folded.text[fs:fe]:
            continue
        trail = SentenceTrail(i, s, e, text[s:e])
        trail.places = [f"{p.name} ({p.kind}, {p.country}) «{p.surface}» rule {p.rule}" for p in x.places
                        if s <= p.start < e]
        trail.actors = [f"{a.actor} «{a.surface}» rule {a.rule}" for a in in_sentence]
        trail.dates = [f"{d.date}/{d.precision} «{d.surface}» rule {d.rule}" for d in x.dates if s <= d.start < e]
        trail.stances = [f"{st.holder} {st.issue} {st.polarity} (confidence {st.confidence:.2f}) rule: {st.rule}"
                         for st in x.stances if st.start == s]
        trail.events = [f"{ev.event_type or '?'} {ev.date or '?'}/{ev.date_precision or '?'} actor {ev.actor or '-'}"
                        f" target {ev.target or '-'} place {ev.place.name if ev.place else '-'}"
                        f" (confidence {ev.confidence:.2f}) type rule: {ev.type_rule or '-'}; date rule: {ev.date_rule}"
                        for ev in x.events if s <= ev.start < e]
        if hits is not None:
            _stance_trail(trail, hits, folded, text, fs, fe, in_sentence, speaker)
        out.append(trail)
    pub = x.published
    ref = f"{x.reference.value} ({x.reference.basis})" if x.reference else None
    return ArticleTrail(x.article.source, code, pub.value, pub.basis, out, ref)


def _surface(text: str, folded, hit: PhraseHit) -> str:
    s, e = folded.span(hit.fs, hit.fe)
    return text[s:e]


def _stance_trail(trail: SentenceTrail, h, folded, text: str, fs: int, fe: int,
                  in_sentence: list[ActorMention], speaker: str | None) -> None:
    for kind in HIT_KINDS:
        found = h.within(kind, fs, fe)
        if found:
            trail.hits[kind] = [f"«{_surface(text, folded, hit)}» ({hit.key}"
                                + (f" -> {hit.value}" if kind in ("polarity", "topic", "acts") else "") + ")"
                                for hit in found]
    actors = [(folded.index(a.start), folded.index(a.end), a) for a in in_sentence]
    reporting = h.within("reporting", fs, fe)
    for cs, ce in engine._clauses(folded.text, fs, fe, h.within("clause_breaks", fs, fe)):
        clause = ClauseTrail(*folded.span(cs, ce))
        triggers = engine._triggers(h, cs, ce)
        if not triggers:
            clause.why.append("no issue trigger in this clause: no topic, act or near pair of any issue matched")
        for trig in triggers:
            kind = "act" if trig.act else "topic"
            t_s, t_e = folded.span(trig.fs, trig.fe)
            clause.triggers.append(f"{trig.issue}: {kind} «{text[t_s:t_e]}» ({trig.key}, own side {trig.side})")
            cue = engine._cue_for(trig, h.within("polarity", cs, ce), cs, ce, triggers, h.sov, h.ftext)
            neg = engine._negated(h.within("negation", cs, ce), cue.fs if cue else trig.hs, cs, h.negation_reach,
                                  h.ftext)
            governs = (f"cue «{_surface(text, folded, cue)}» -> {cue.value}" if cue else "no polarity cue in reach")
            governs += f", negation «{_surface(text, folded, neg)}»" if neg else ""
            if cue is None and not trig.act:
                clause.why.append(f"{trig.issue}: the topic is only named ({governs}); a topic needs a verdict "
                                  f"before it (≤ {engine.CUE_REACH_BEFORE} chars) or just after it "
                                  f"(≤ {engine.CUE_REACH_AFTER}) to be a position")
                continue
            anchor = min(cue.fs if cue else trig.hs, trig.fs)
            claim = cue is None and trig.issue in engine.relationship_issues()
            holders, how = engine._holder(h, trig, anchor, cs, ce, actors, reporting, speaker, claim)
            clause.why.append(f"{trig.issue}: {governs}; holder {', '.join(holders) or 'none'} "
                              f"({how or 'no actor in reach and no speaker'})")
        trail.clauses.append(clause)
    trail.candidates = [_candidate(folded.text, a_fs, a_fe, a, actors, h) for a_fs, a_fe, a in actors]


def _candidate(ftext: str, a_fs: int, a_fe: int, a: ActorMention, actors, h) -> str:
    """An actor of the sentence, and whether the holder rules would pass it over."""
    reasons = []
    if engine._as_place(ftext, a_fs, a, h.place_words):
        reasons.append("after a place preposition: a place or target, not a holder")
    ends = [x for x in (ftext.find(".", a_fe), len(ftext)) if x >= 0]
    if engine._appositive(ftext, a_fs, a_fe, min(ends), actors):
        reasons.append("inside an aside after another actor")
    return f"{a.actor} «{a.surface}»" + (f": {'; '.join(reasons)}" if reasons else ": may hold a position")


def render(trail: ArticleTrail) -> str:
    """Plain text, one block per sentence."""
    lines = [f"{trail.source}: language {trail.language or '?'}, published {trail.published or 'unknown'}"
             f" ({trail.published_basis or 'no basis'})"]
    if trail.reference:
        lines.append(f"  relative dates count from {trail.reference}: a day the text fixes, not a publication date")
    if not trail.sentences:
        lines.append("  no sentence matches")
    for s in trail.sentences:
        lines.append("")
        lines.append(f"[{s.index}] {s.start}-{s.end}: {' '.join(s.text.split())}")
        for label, items in (("places", s.places), ("actors", s.actors), ("dates", s.dates)):
            for item in items:
                lines.append(f"  {label}: {item}")
        for kind, items in s.hits.items():
            lines.append(f"  {kind}: {', '.join(items)}")
        for c in s.candidates:
            lines.append(f"  holder candidate: {c}")
        for label, items in (("stance", s.stances), ("event", s.events)):
            for item in items:
                lines.append(f"  => {label}: {item}")
        for c in s.clauses:
            for t in c.triggers:
                lines.append(f"  trigger [{c.start}-{c.end}]: {t}")
            for w in c.why:
                lines.append(f"  why [{c.start}-{c.end}]: {w}")
    return "\n".join(lines) + "\n"
