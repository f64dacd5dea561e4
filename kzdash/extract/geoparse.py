"""Geoparser: find place mentions in an article and choose, for each, one gazetteer place.

Matching runs one Aho-Corasick pass over the folded text (all names at once), then checks word
boundaries with the article language's clitics and inflection endings (`language.yaml`). Choosing
among namesakes uses what a reader uses: the kind of place, its population and whether the
article also mentions its country.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from kzdash.extract.gazetteer import ALIAS, DEMONYM, Entry, Gazetteer, Place
from kzdash.text.langdata import load
from kzdash.text.lexicon import PhraseMatcher, bounded, inside_longer_word, longest_first, morph, word_span
from kzdash.text.textnorm import Folded, fold

UNSUPPORTED_CITY_MIN_POPULATION = 1_000_000  # a city whose country the article never names
UNCASED_CITY_MIN_POPULATION = 100_000  # a GeoNames city named in a script without capitals


@dataclass(frozen=True)
class PlaceMention:
    start: int
    end: int
    surface: str
    place_id: str
    name: str
    kind: str
    country: str
    lat: float
    lon: float
    rule: str  # how the name matched: name | alias | demonym, and the folded key
    confidence: float


@dataclass
class _Hit:
    fs: int  # folded span of the whole word(s), clitics and endings included
    fe: int
    ks: int  # folded span of the key itself
    ke: int
    key: str
    entries: list[Entry]


def _capitalised(surface: str) -> bool:
    """A proper name in a cased script has a capital at the start of one of its words
    ("région de Donetsk", "космодром Байконур"); scripts without case always pass."""
    cased = [w for w in surface.split() if w[:1].isalpha() and w[:1].lower() != w[:1].upper()]
    return not cased or any(w[0].isupper() for w in cased)


@lru_cache(maxsize=65536)
def _has_case(key: str) -> bool:
    """Whether a name is written in a script with capitals (Latin, Cyrillic) rather than Arabic."""
    return any(ch.lower() != ch.upper() for ch in key)


def _raw_hits(text: str, ftext: str, offsets, gaz: Gazetteer, code: str | None) -> list[_Hit]:
    m = morph(code)
    procl, sufx, ends = m.proclitics, m.suffixes, m.endings
    stop = gaz.not_places.get(code or "", frozenset())
    hits: list[_Hit] = []
    for last, (key, entries) in gaz.automaton.iter(ftext):
        ks, ke = last - len(key) + 1, last + 1
        if inside_longer_word(ftext, ks, ke, m.max_prefix, m.max_rest):
            continue
        ws, we = word_span(ftext, ks, ke)
        prefix, rest = ftext[ws:ks], ftext[ke:we]
        if prefix and prefix not in procl:
            continue
        if key in stop or ftext[ws:we] in stop:
            continue
        if key in gaz.exact_case and text[offsets[ks]:offsets[ke - 1] + 1] != gaz.exact_case[key]:
            continue  # "us" is not "US"
        cased = _has_case(key)
        keep = []
        for e in entries:
            e = Entry(*e)
            if e.lam and not (prefix.endswith("ل")):
                continue
            if e.stem:
                ok = bool(rest) and (rest in sufx or rest in ends)
            elif rest and not cased and e.how != DEMONYM:
                ok = False  # uncased script: an ending turns a name into a common word (الرياض-ية)
            else:
                ok = bounded(prefix, rest, procl, sufx)
            if ok and e.how != DEMONYM and not _capitalised(text[offsets[ks]:offsets[ke - 1] + 1]):
                ok = False
            if ok:
                keep.append(e)
        if keep:
            hits.append(_Hit(ws, we, ks, ke, key, keep))
    return hits


def _longest(hits: list[_Hit]) -> list[_Hit]:
    """Longest first; a hit inside a longer one is dropped ("Donetsk" in "Donetsk Oblast")."""
    return longest_first(hits, lambda h: (h.fs, h.fe), lambda h: (-(h.ke - h.ks), h.ks))


def _score(place: Place, entry: Entry, countries: set[str]) -> float:
    s = math.log10(place.population + 10)
    if place.kind == "country":
        s += 6
    if entry.how == ALIAS:
        s += 3
    if place.country in countries:
        s += 2.5  # support; a metropolis still beats a small namesake in a named country
    return s


def _acceptable(place: Place, entry: Entry, countries: set[str], cased: bool) -> bool:
    """Countries, curated places and aliases always; a GeoNames city when the article names its
    country or it is very large. In a script without capitals (Arabic) nothing tells a name from a
    common word, so a GeoNames city must also be a large one."""
    if place.kind == "country" or place.curated or entry.how == ALIAS:
        return True
    if not cased and place.population < UNCASED_CITY_MIN_POPULATION:
        return False
    return place.country in countries or place.population >= UNSUPPORTED_CITY_MIN_POPULATION


def find_places(text: str, code: str | None, gaz: Gazetteer, folded: Folded | None = None) -> list[PlaceMention]:
    """Place mentions of `text`, each resolved to one gazetteer place (or left out)."""
    folded = folded or fold(text)
    hits = _raw_hits(text, folded.text, folded.offsets, gaz, code)
    # countries the article names outright: they support the cities and regions in them
    countries: set[str] = set()
    for h in hits:
        kinds = {gaz.places[e.place_id].kind for e in h.entries}
        if kinds == {"country"} or any(gaz.places[e.place_id].curated for e in h.entries):
            countries.update(gaz.places[e.place_id].country for e in h.entries
                             if gaz.places[e.place_id].kind == "country" or len(h.entries) == 1)
    # namesakes this article cannot mean are dropped before overlaps are settled, so that a
    # rejected longer name ("Franca", a Brazilian city) does not hide a good shorter one
    kept: list[_Hit] = []
    for h in hits:
        cased = any(ch.lower() != ch.upper() for ch in h.key)
        good = [e for e in h.entries if _acceptable(gaz.places[e.place_id], e, countries, cased)]
        if good:
            kept.append(_Hit(h.fs, h.fe, h.ks, h.ke, h.key, good))
    out: list[PlaceMention] = []
    kept = _longest(kept)
    for i, h in enumerate(kept):
        options = [(gaz.places[e.place_id], e) for e in h.entries]
        place, entry = max(options, key=lambda pe: _score(pe[0], pe[1], countries))
        if len(options) > 1 and i + 1 < len(kept):  # "Moscow, Idaho", "Донецк Ростовской области"
            place, entry = _by_next_region(text, folded, h, kept[i + 1], options, gaz) or (place, entry)
        s0, e0 = folded.span(h.fs, h.fe)
        confidence = 0.9 if (place.kind == "country" or place.curated or entry.how == ALIAS) else (
            0.8 if place.country in countries else 0.6)
        out.append(PlaceMention(s0, e0, text[s0:e0], place.place_id, place.name, place.kind,
                                place.country, place.lat, place.lon, f"{entry.how}:{h.key}", confidence))
    return _regions_in_lists(text, folded, code, out, gaz)


NEXT_REGION_GAP = re.compile(r"^[\s,(]{0,3}$")
NEXT_REGION_KM = 400


def _by_next_region(text: str, folded: Folded, h: _Hit, nxt: _Hit, options, gaz: Gazetteer):
    """Among namesakes, the one inside the region named right after it, if any."""
    a, b = folded.span(h.fe, h.fe)[0], folded.span(nxt.fs, nxt.fs)[0]
    if not NEXT_REGION_GAP.match(text[a:b]):
        return None
    regions = [gaz.places[e.place_id] for e in nxt.entries if gaz.places[e.place_id].kind == "region"]
    if not regions:
        return None
    r = regions[0]
    near = [(km(p.lat, p.lon, r.lat, r.lon), p, e) for p, e in options if p.kind != "region"]
    near = [x for x in near if x[0] <= NEXT_REGION_KM]
    if not near:
        return None
    _, p, e = min(near, key=lambda x: x[0])
    return p, e


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, h)))


LIST_GAP = re.compile(r"^[\s,،;]*(?:[^\W\d_]{1,4}[\s]+)?[\s,،;]*$")  # ", ", " and ", " та ", " و"


def _regions_in_lists(text: str, folded: Folded, code: str | None, places: list[PlaceMention],
                      gaz: Gazetteer) -> list[PlaceMention]:
    """"Donetsk, Luhansk, Zaporizhzhia and Kherson regions", "مناطق دونيتسك ولوغانسك": a list of
    city names joined to a plural region word names the regions those cities give their names to."""
    if not code or not gaz.region_of_seat:
        return places
    words = region_words(code).find(folded, code)
    if not words:
        return places
    out = list(places)
    for w in words:
        ws, we = folded.span(w.fs, w.fe)
        for direction in (-1, 1):
            idx = _nearest(text, out, ws, we, direction)
            while idx is not None:
                p = out[idx]
                region = gaz.region_of_seat.get(p.place_id)
                if p.kind != "city" or region is None:
                    break
                r = gaz.places[region]
                out[idx] = PlaceMention(p.start, p.end, p.surface, r.place_id, r.name, r.kind, r.country,
                                        r.lat, r.lon, p.rule + f" +list:{w.key}", p.confidence)
                nxt = idx + direction
                if not 0 <= nxt < len(out):
                    break
                a, b = (out[nxt].end, p.start) if direction < 0 else (p.end, out[nxt].start)
                idx = nxt if a <= b and LIST_GAP.match(text[a:b]) else None
    return out


def _nearest(text: str, places: list[PlaceMention], ws: int, we: int, direction: int) -> int | None:
    """The place right before (direction -1) or right after (+1) a word, if only a list gap parts them."""
    before = [i for i, p in enumerate(places) if p.end <= ws]
    after = [i for i, p in enumerate(places) if p.start >= we]
    if direction < 0 and before:
        i = before[-1]
        return i if LIST_GAP.match(text[places[i].end:ws]) else None
    if direction > 0 and after:
        i = after[0]
        return i if LIST_GAP.match(text[we:places[i].start]) else None
    return None


@lru_cache(maxsize=64)
def region_words(code: str) -> PhraseMatcher:
    return PhraseMatcher({w: "region" for w in load(code, "places.yaml").get("region_words") or ()})
