"""Geoparser: find place mentions in an article and choose, for each, one gazetteer place.

Matching runs one Aho-Corasick pass over the folded text (all names at once), then checks word
boundaries with the article language's clitics and inflection endings (`language.yaml`). Choosing
among namesakes uses what a reader uses: the kind of place, its population and whether the
article also mentions its country.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kzdash.gazetteer import ALIAS, DEMONYM, Entry, Gazetteer, Place
from kzdash.langdata import morphology
from kzdash.lexicon import bounded, word_span
from kzdash.textnorm import Folded, fold

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


def _raw_hits(text: str, ftext: str, offsets, gaz: Gazetteer, code: str | None) -> list[_Hit]:
    proclitics, suffixes, endings = morphology(code)
    procl, sufx, ends = set(proclitics), set(suffixes), set(endings)
    stop = gaz.not_places.get(code or "", frozenset())
    max_prefix = max(map(len, procl), default=0)
    may_continue = bool(sufx or ends)
    n = len(ftext)
    hits: list[_Hit] = []
    for last, (key, entries) in gaz.automaton.iter(ftext):
        ks, ke = last - len(key) + 1, last + 1
        # cheap rejections first: most raw hits sit inside longer words
        if ke < n and ftext[ke].isalnum() and not may_continue:
            continue
        if ks > 0 and ftext[ks - 1].isalnum() and (
                max_prefix == 0 or (ks > max_prefix and ftext[ks - max_prefix - 1:ks].isalnum())):
            continue  # more letters before the name than any proclitic has
        ws, we = word_span(ftext, ks, ke)
        prefix, rest = ftext[ws:ks], ftext[ke:we]
        if prefix and prefix not in procl:
            continue
        if key in stop or ftext[ws:we] in stop:
            continue
        keep = []
        for e in entries:
            e = Entry(*e)
            if e.lam and not (prefix.endswith("ل")):
                continue
            if e.stem:
                ok = bool(rest) and (rest in sufx or rest in ends)
            else:
                ok = bounded(prefix, rest, procl, sufx)
            if ok and e.how != DEMONYM and not _capitalised(text[offsets[ks]:offsets[ke - 1] + 1]):
                ok = False
            if ok:
                keep.append(e)
        if keep:
            hits.append(_Hit(ws, we, ks, ke, key, keep))
    # longest first; a hit inside a longer accepted one is dropped ("Donetsk" in "Donetsk Oblast")
    hits.sort(key=lambda h: (-(h.ke - h.ks), h.ks))
    taken: list[_Hit] = []
    for h in hits:
        if all(h.fe <= t.fs or h.fs >= t.fe for t in taken):
            taken.append(h)
    taken.sort(key=lambda h: h.fs)
    return taken


def _score(place: Place, entry: Entry, countries: set[str]) -> float:
    s = math.log10(place.population + 10)
    if place.kind == "country":
        s += 6
    if entry.how == ALIAS:
        s += 3
    if place.country in countries:
        s += 4
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
    out: list[PlaceMention] = []
    for h in hits:
        options = [(gaz.places[e.place_id], e) for e in h.entries]
        cased = any(ch.lower() != ch.upper() for ch in h.key)
        options = [(p, e) for p, e in options if _acceptable(p, e, countries, cased)]
        if not options:
            continue
        place, entry = max(options, key=lambda pe: _score(pe[0], pe[1], countries))
        s, e = folded.span(h.ks, h.ke)
        s0, e0 = folded.span(h.fs, h.fe)
        confidence = 0.9 if (place.kind == "country" or place.curated or entry.how == ALIAS) else (
            0.8 if place.country in countries else 0.6)
        out.append(PlaceMention(s0, e0, text[s0:e0], place.place_id, place.name, place.kind,
                                place.country, place.lat, place.lon, f"{entry.how}:{h.key}", confidence))
        del s, e
    return out
