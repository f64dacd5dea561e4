"""One article in, its rows out: the whole per-article extraction, pure.

normalize -> language -> published -> geoparse -> actors -> temporal -> events, stances. Reads
nothing but its arguments and the language data, so any engine can map it over articles (a fork
pool, a Dask cluster) and get the same rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from functools import lru_cache

from kzdash.extract.actors import ActorMention, find_actors, mask_places, name_matcher, title_matcher
from kzdash.extract.confidence import calibrated, event_kind, stance_kind
from kzdash.extract.events import Event, event_cues, find_events, happening_id, summary
from kzdash.extract.gazetteer import Gazetteer
from kzdash.extract.geoparse import PlaceMention, find_places, region_words
from kzdash.extract.language import detect_language
from kzdash.extract.normalize import normalize
from kzdash.extract.published import Published, infer_published, reference_day
from kzdash.extract.records import Article, ArticleResult, Quarantined, RawArticle
from kzdash.extract.stances import Stance, find_stances, sentence_lexicons, whole_text_lexicons
from kzdash.extract.temporal import DateMention, find_dates
from kzdash.extract.temporal import lexicon as date_lexicon
from kzdash.text.langdata import languages
from kzdash.text.lexicon import MatcherGroup
from kzdash.text.sentences import sentence_spans
from kzdash.text.textnorm import Folded, fold


def article_id(text: str, language: str | None, published: str | None) -> str:
    """Content hash: the same text with the same language and date is the same article."""
    h = hashlib.sha256(f"{language}\x1f{published}\x1f{text}".encode())
    return h.hexdigest()[:20]


@dataclass(frozen=True)
class Extraction:
    """Everything found in one article, before it becomes table rows (`kzdash explain` shows it)."""

    article: Article
    language: str | None
    published: Published
    reference: Published | None  # the day relative dates count from when none is printed (never `published`)
    folded: Folded
    places: list[PlaceMention]
    actors: list[ActorMention]
    dates: list[DateMention]
    sentences: list[tuple[int, int]]
    events: list[Event]
    stances: list[Stance]
    notes: list[str]  # what was capped, for the quarantine table


# Bounds on one article's work: a real article is far below both, a pasted dump or a file of
# repeated names is not, and some later stages grow with mentions x sentences. Past a bound only
# the text before it is analysed (the stored text stays whole) and a note says so.
MAX_ANALYSED_CHARS = 100_000  # about 15,000 words: longer than any news article
CAPPED = "capped:"  # how a note begins (the build keeps notes in the quarantine table, the article stays)
MAX_PLACE_MENTIONS = 2_000


@lru_cache(maxsize=64)
def one_pass(code: str) -> MatcherGroup:
    """The language's lexicons that the stages match over the whole text (actor names and titles, event
    cues, date words, region words, stance cues) as one automaton: one pass per article finds them all,
    and each stage's `find` takes its share (each lexicon's hits are the ones it would find alone). The
    stance cues looked for only in sentences with a trigger ride in the same pass."""
    dates = date_lexicon(code if code in languages() else "").matcher  # the one find_dates uses
    return MatcherGroup.one_pass([name_matcher(code), title_matcher(code), event_cues(code), dates,
                                  region_words(code), *whole_text_lexicons(code)], ranged=sentence_lexicons(code))


def extract_article(raw: RawArticle, boilerplate: list[str], gaz: Gazetteer) -> Extraction:
    """Run every stage on one article (pure: reads nothing but its arguments and language data)."""
    art = normalize(raw, boilerplate)
    text, notes = art.text, []
    if len(text) > MAX_ANALYSED_CHARS:
        notes.append(f"{CAPPED} {len(text):,} characters; the first {MAX_ANALYSED_CHARS:,} analysed")
        text = text[:MAX_ANALYSED_CHARS]
    code = art.language or detect_language(text)
    if code:
        one_pass(code)
    # metadata proper (raw.published) outranks everything; the header line is one clue among others
    pub = infer_published(text, code, raw.published, art.url, art.header)
    folded = fold(text)
    places = find_places(text, code, gaz, folded)
    if len(places) > MAX_PLACE_MENTIONS:
        cut = places[MAX_PLACE_MENTIONS].start
        notes.append(f"{CAPPED} {len(places):,} place mentions; the first {MAX_PLACE_MENTIONS:,} kept and the text "
                     f"analysed up to character {cut:,}")
        text, places = text[:cut], places[:MAX_PLACE_MENTIONS]
        folded = fold(text)
    actors = find_actors(text, folded, code, places)
    places = mask_places(places, actors)
    dates = find_dates(text, code, pub.value, folded)
    reference = reference_day(text, code, dates) if pub.value is None else None
    if reference is not None:  # no printed date, but the text fixes a day: relative dates count from it
        dates = [replace(d, rule=f"{d.rule}@{reference.basis}") if d.relative else d
                 for d in find_dates(text, code, reference.value, folded)]
    sentences = sentence_spans(text)
    events = find_events(text, folded, code, sentences, dates, places, pub.value, actors)
    stances = find_stances(folded, code, sentences, actors)
    return Extraction(art, code, pub, reference, folded, places, actors, dates, sentences, events, stances, notes)


def process_article(raw: RawArticle, boilerplate: list[str], gaz: Gazetteer) -> ArticleResult:
    """Every row one article yields (pure: reads nothing but its arguments and language data)."""
    x = extract_article(raw, boilerplate, gaz)
    art, text, code, pub, dates = x.article, x.article.text, x.language, x.published, x.dates
    places, events, stances = x.places, x.events, x.stances
    aid = article_id(text, code, pub.value)
    base = {"article_id": aid, "outlet": art.outlet, "language": code}
    result = ArticleResult(article={
        "article_id": aid, "source": art.source, "outlet": art.outlet, "language": code,
        "language_basis": "metadata" if art.language else "detected",
        "published": pub.value, "published_basis": pub.basis, "title": art.title, "url": art.url,
        "text": text, "stripped": json.dumps(art.stripped, ensure_ascii=False),
    }, notes=x.notes)
    for m in places:
        result.places.append({
            **base, "place_id": m.place_id, "name": m.name, "kind": m.kind, "country": m.country,
            "lat": m.lat, "lon": m.lon, "start": m.start, "end": m.end, "surface": m.surface,
            "rule": m.rule, "confidence": m.confidence,
        })
    for i, ev in enumerate(events):
        p = ev.place
        result.events.append({
            **base, "event_id": f"{aid}-e{i}", "event_type": ev.event_type, "date": ev.date,
            "date_precision": ev.date_precision, "date_rule": ev.date_rule, "actor": ev.actor, "target": ev.target,
            "place_id": p.place_id if p else None, "place_name": p.name if p else None,
            "country": p.country if p else None, "lat": p.lat if p else None, "lon": p.lon if p else None,
            "summary": summary(ev), "evidence": text[ev.start:ev.end], "start": ev.start, "end": ev.end,
            "confidence": calibrated("events", event_kind(ev.date_rule), ev.confidence),
            "type_rule": ev.type_rule, "background": ev.background,
            "happening_id": happening_id(ev), "published": pub.value,
        })
    for i, st in enumerate(stances):
        when = next((d for d in dates if st.start <= d.start < st.end and d.precision == "day"), None)
        result.stances.append({
            **base, "stance_id": f"{aid}-s{i}", "holder": st.holder, "issue": st.issue,
            "polarity": st.polarity, "date": when.date if when else _day_or_none(pub.value),
            "evidence": text[st.start:st.end], "start": st.start, "end": st.end,
            "confidence": calibrated("stances", stance_kind(st.rule), st.confidence), "rule": st.rule,
        })
    return result


def _day_or_none(iso: str | None) -> str | None:
    return iso if iso and len(iso) == 10 else None


def process_or_quarantine(raw: RawArticle, boilerplate: list[str], gaz: Gazetteer) -> ArticleResult | Quarantined:
    """A failure on one article quarantines that article; the build goes on."""
    try:
        return process_article(raw, boilerplate, gaz)
    except Exception as exc:  # noqa: BLE001 - any bug on odd input must not sink the build
        return Quarantined(raw.source, raw.line, f"extraction failed: {type(exc).__name__}: {exc}")
