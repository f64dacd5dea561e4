"""Events: one per dated statement of an article, with its type, place, date and evidence.

An event is anchored on each date expression (the sentence that holds it is the evidence) and on
each undated sentence with an event cue (`cues.yaml: events`), which is dated by publication at one
step less precision and lower confidence. The type comes from the first event cue in the sentence,
the place is the most specific place mentioned in it. The same type, date and place told twice in
one article is one event. Background: a date well before publication recalls, not reports.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from kzdash.extract.actors import ActorMention
from kzdash.extract.geoparse import PlaceMention
from kzdash.extract.published import header_spans
from kzdash.extract.temporal import DateMention, PartialDate
from kzdash.text.langdata import load, verb_final
from kzdash.text.lexicon import PhraseMatcher
from kzdash.text.sentences import sentence_of
from kzdash.text.textnorm import Folded

SPECIFIC = {"site": 0, "city": 1, "region": 2, "area": 3, "country": 4}
BACKGROUND_DAYS = 45  # an event this long before publication is recalled, not reported


@dataclass(frozen=True)
class Event:
    actor: str | None
    target: str | None
    event_type: str | None
    date: str | None
    date_precision: str | None
    date_rule: str | None
    place: PlaceMention | None
    start: int
    end: int
    type_rule: str | None
    background: bool
    confidence: float


@lru_cache(maxsize=64)
def event_cues(code: str) -> PhraseMatcher:
    cues = load(code, "cues.yaml").get("events") or {}
    return PhraseMatcher({phrase: etype for etype, phrases in cues.items() for phrase in phrases or ()})


def _background(d: DateMention, pub: PartialDate | None) -> bool:
    if pub is None or pub.month is None:
        return False
    anchor = pub.as_date() or date(pub.year, pub.month, 1)
    return date.fromisoformat(d.date) < anchor - timedelta(days=BACKGROUND_DAYS)


def _actor_target(actors: list[ActorMention], s: int, e: int, cue_at: int | None,
                  sov: bool = False) -> tuple[str | None, str | None]:
    """The acting subject (the last actor before the cue, or the first in a verb-final language;
    else the first in the sentence) and the first other actor after it."""
    inside = [a for a in actors if s <= a.start < e]
    if not inside:
        return None, None
    before = [a for a in inside if cue_at is not None and a.end <= cue_at]
    actor = (before[0] if sov else before[-1]) if before else inside[0]
    target = next((a.actor for a in inside if a.start > actor.start and a.actor != actor.actor), None)
    return actor.actor, target


def find_events(text: str, folded: Folded, code: str | None, sentences: list[tuple[int, int]],
                dates: list[DateMention], places: list[PlaceMention], published: str | None,
                actors: list[ActorMention] | None = None) -> list[Event]:
    """Events of one article (pure: everything it needs is passed in)."""
    pub = PartialDate.parse(published)
    sov = verb_final(code)
    cue_hits = event_cues(code).find(folded, code) if code else []
    cue_starts = [h.fs for h in cue_hits]

    def cue_in(s: int, e: int) -> tuple[str | None, str | None, int | None]:
        fs, fe = folded.index(s), folded.index(e)
        hits = cue_hits[bisect.bisect_left(cue_starts, fs):bisect.bisect_left(cue_starts, fe)]
        if not hits:
            return None, None, None
        return str(hits[0].value), hits[0].key, folded.span(hits[0].fs, hits[0].fe)[0]

    def place_in(s: int, e: int) -> PlaceMention | None:
        in_sentence = [p for p in places if s <= p.start < e]
        return min(in_sentence, key=lambda p: (SPECIFIC.get(p.kind, 9), p.start), default=None)

    seen: set[tuple] = set()  # the same happening told twice in one article is one event
    out: list[Event] = []
    dated: set[int] = set()
    stamps = header_spans(text, code, dates)  # a page's date stamps and dateline tell of no event
    for d in dates:
        if (d.start, d.end) in stamps:
            continue
        s, e = sentence_of(d.start, sentences)
        if d.rule.startswith(("day-count", "era-start")):  # "on the 5th day of the strike, workers
            # marched": the date is the strike's start, not the march's; the start gets no type of
            # the sentence, and the sentence's own event stays undated (or takes its other date)
            out.append(Event(None, None, None, d.date, d.precision, d.rule, place_in(s, e), s, e, None,
                             _background(d, pub), 0.5))
            continue
        dated.add(s)
        etype, type_rule, cue_at = cue_in(s, e) if cue_hits else (None, None, None)
        place = place_in(s, e)
        key = (etype, d.date, d.precision, place.place_id if place else None) if etype else (s, d.date, d.precision)
        if key in seen:
            continue
        seen.add(key)
        actor, target = _actor_target(actors or [], s, e, cue_at, sov)
        confidence = 0.5 + (0.2 if etype else 0) + (0.1 if place else 0) + (0.1 if d.precision == "day" else 0)
        out.append(Event(actor, target, etype, d.date, d.precision, d.rule, place, s, e, type_rule,
                         _background(d, pub), round(confidence, 2)))
    fallback = _published_fallback(pub)
    for s, e in sentences if cue_hits else ():
        if s in dated:
            continue
        etype, type_rule, cue_at = cue_in(s, e)
        if etype is None:
            continue
        place = place_in(s, e)
        when, precision = fallback
        key = (etype, when, precision, place.place_id if place else None)
        if key in seen:
            continue
        seen.add(key)
        actor, target = _actor_target(actors or [], s, e, cue_at, sov)
        confidence = 0.3 + (0.1 if place else 0)
        out.append(Event(actor, target, etype, when, precision, "published" if when else None, place, s, e,
                         type_rule, False, round(confidence, 2)))
    return sorted(out, key=lambda ev: ev.start)


def _published_fallback(pub: PartialDate | None) -> tuple[str | None, str | None]:
    """An undated report happened around publication: that date, one step less precise."""
    if pub is None:
        return None, None
    if pub.day is not None and pub.month is not None:
        return f"{pub.year:04d}-{pub.month:02d}-01", "month"
    return f"{pub.year:04d}-01-01", "year"


def summary(event: Event) -> str:
    """One English line generated from the fields (never from the article's words)."""
    what = (event.event_type or "event").lower()
    where = f" in {event.place.name}" if event.place else ""
    when = f" on {event.date[:{'day': 10, 'month': 7, 'year': 4}[event.date_precision]]}" if event.date else ""
    who = f"{event.actor}" + (f" → {event.target}" if event.target else "") + ": " if event.actor else ""
    return f"{who}{what}{where}{when}" + (" (background)" if event.background else "")


def happening_id(event: Event) -> str:
    """Reports of the same happening share this id: type, actor, date at its precision, place."""
    n = {"day": 10, "month": 7, "year": 4}.get(event.date_precision or "", 0)
    where = event.place.place_id if event.place else ""
    key = f"{event.event_type}|{event.actor}|{(event.date or '')[:n]}|{where}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]
