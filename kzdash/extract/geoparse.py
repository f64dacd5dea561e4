"""Geoparser: find place mentions in an article and choose, for each, one gazetteer place.

Matching runs one Aho-Corasick pass over the folded text (all names at once), then checks word
boundaries with the article language's clitics and inflection endings (`language.yaml`). Choosing
among namesakes uses what a reader uses: the kind of place, its population and whether the
article also mentions its country. A GeoNames name that may be a word needs more: a capital that
the start of a sentence does not explain, no lower-case use of the same word in the text, and (for
a small town) its country named, no quotes and no capitalised neighbour that makes it a person's name.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from kzdash.extract.gazetteer import ALIAS, BLOCK, CITY_MIN_POPULATION, DEMONYM, NEAR, Entry, Gazetteer, Place
from kzdash.text.langdata import load
from kzdash.text.lexicon import PhraseMatcher, bounded, longest_first, morph, word_end, word_start
from kzdash.text.textnorm import ALNUM, APOSTROPHE, Folded, fold, fold_key

UNSUPPORTED_CITY_MIN_POPULATION = 1_000_000  # a city whose country the article never names
UNCASED_CITY_MIN_POPULATION = 100_000  # a GeoNames city named in a script without capitals
NEAR_KM = 30  # a site's 'near' name needs a place this close to the site in its sentence
SENTENCE_END = re.compile(r"[.!?…]\s|\n")


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
    support: frozenset[str] | None = None  # `_reading` of the entries
    read: tuple[tuple[Entry, Place, bool], ...] = ()


def _reading(keep: list[Entry], gaz: Gazetteer) -> tuple[frozenset[str] | None, tuple[tuple[Entry, Place, bool], ...]]:
    """What `find_places` asks of a hit's entries, from the entries alone (so worked out once per spelling,
    with `_decide`): the countries the hit names outright (None: none), and per entry its place and whether
    it is kept whatever the article says (a country, a curated place, an alias or a near name)."""
    if keep[0].how == BLOCK:
        return None, ()
    read = tuple((e, p, p.kind == "country" or p.curated or e.how in (ALIAS, NEAR))
                 for e in keep for p in (gaz.places[e.place_id],))
    if all(e.how == NEAR for e in keep):
        return None, read
    if {p.kind for _, p, _ in read} == {"country"} or any(p.curated for _, p, _ in read):
        return frozenset(p.country for _, p, _ in read if p.kind == "country" or len(keep) == 1) or None, read
    return None, read


def _capitalised(surface: str) -> bool:
    """A proper name in a cased script has a capital at the start of one of its words
    ("région de Donetsk", "космодром Байконур"); scripts without case always pass."""
    cased = [w for w in surface.split() if w[:1].isalpha() and w[:1].lower() != w[:1].upper()]
    return not cased or any(w[0].isupper() for w in cased)


@lru_cache(maxsize=65536)
def _canonical(name: str) -> str:
    return fold_key(name)


@lru_cache(maxsize=65536)
def _has_case(key: str) -> bool:
    """Whether a name is written in a script with capitals (Latin, Cyrillic) rather than Arabic."""
    return any(ch.lower() != ch.upper() for ch in key)


# What `_decide` answered, per gazetteer and language: a name's spelling decides its hit wherever it
# stands ("Kazakhstan" is checked once per worker, not once per mention). Bounded: cleared when full.
_DECIDED: dict[int, tuple[Gazetteer, dict[tuple, tuple]]] = {}  # spelling -> `_decide`'s answer, `_reading`
DECIDED_MAX = 200_000


def _decided(gaz: Gazetteer) -> dict[tuple, tuple]:
    got = _DECIDED.get(id(gaz))
    if got is None or got[0] is not gaz:
        if len(_DECIDED) >= 4:  # gazetteers of tests come and go: keep the last few only
            _DECIDED.clear()
        got = _DECIDED[id(gaz)] = (gaz, {})
    elif len(got[1]) >= DECIDED_MAX:
        got[1].clear()
    return got[1]


def _raw_hits(text: str, folded: Folded, gaz: Gazetteer, code: str | None,
              lower: set[str] | None = None) -> list[_Hit]:
    """Every bounded, capitalised name hit; `lower` collects the keys this text writes in lower case.

    `word_around` is written out in the loop on `Folded.classes` (it runs for every raw hit of the
    automaton, hundreds per article, most of them pieces of longer words); a word whose proclitic or
    ending the language does not have is no name (`_decide` would keep nothing), and the rest depends
    only on the spellings (`_decide`), so it is remembered."""
    m = morph(code)
    max_prefix, max_rest = m.max_prefix, m.max_rest
    proclitics, rests = m.proclitics, m.suffixes | m.endings
    whole_prefix = bytes([ALNUM]) * (max_prefix + 1)  # more letters before a hit than any proclitic has
    whole_rest = bytes([ALNUM]) * (max_rest + 1)  # more letters after it than any ending has
    decided = _decided(gaz)
    ftext, classes, offsets = folded.text, folded.classes, folded.offsets
    hits: list[_Hit] = []
    for last, (size, entries) in gaz.automaton.iter(ftext):
        ke = last + 1
        ks = ke - size
        before = classes[ks - 1] == ALNUM  # at 0, [-1] is the padding
        after = classes[ke]
        if before or after == ALNUM or after == APOSTROPHE and classes[ke + 1] == ALNUM:
            if after == ALNUM and (max_rest == 0 or classes[ke:ke + max_rest + 1] == whole_rest):
                continue
            if before and (max_prefix == 0 or (ks > max_prefix and classes[ks - max_prefix - 1:ks] == whole_prefix)):
                continue
            ws = word_start(classes, ks)  # most pieces that get this far have no proclitic before them
            if ws < ks and ftext[ws:ks] not in proclitics:
                continue
            we = word_end(classes, ke)
            if we > ke and after != APOSTROPHE and ftext[ke:we] not in rests:
                continue
        else:
            ws, we = ks, ke
        surface = text[offsets[ks]:offsets[ke - 1] + 1]
        spelled = (code, ftext[ws:we], ks - ws, we - ke, surface)
        got = decided.get(spelled)
        if got is None:
            keep, written_lower = _decide(ftext[ws:ks], ftext[ks:ke], ftext[ke:we], surface, entries, gaz, code, m)
            got = decided[spelled] = (keep, written_lower, *(_reading(keep, gaz) if keep else (None, ())))
        keep, written_lower, support, read = got
        if written_lower and lower is not None:
            lower.add(ftext[ks:ke])
        if keep:
            hits.append(_Hit(ws, we, ks, ke, ftext[ks:ke], list(keep), support, read))
    return hits


def _decide(prefix: str, key: str, rest: str, surface: str, entries: tuple, gaz: Gazetteer, code: str | None,
            m) -> tuple[list[Entry] | None, bool]:
    """The entries a name hit keeps (None: not a name here), and whether it is a cased key written in
    lower case; from its spelling alone: the proclitic before it, the key, the ending after it and
    the key as the text writes it."""
    procl, sufx, ends = m.proclitics, m.suffixes, m.endings
    if prefix and prefix not in procl:
        return None, False
    stop = gaz.not_places.get(code or "", frozenset())
    if (key in stop or prefix + key + rest in stop) and entries[0][1] != BLOCK:
        return None, False
    exact = gaz.exact_case
    if key in exact and surface != exact[key]:
        return None, False  # "us" is not "US"
    cased = _has_case(key)
    written_lower = False
    # the same for every entry of the key: worked out once, when an entry first asks
    whole: bool | None = None  # bounded(prefix, rest)
    capital: bool | None = None  # _capitalised(surface)
    keep = []
    for e in entries:
        e = Entry(*e)
        if e.how == BLOCK:
            if bounded(prefix, rest, procl, sufx):
                keep = [e]
            break
        if e.lam and not (prefix.endswith("ل")):
            continue
        if e.stem:
            ok = bool(rest) and (rest in sufx or rest in ends)
        elif rest and not cased and e.how != DEMONYM:
            ok = False  # uncased script: an ending turns a name into a common word (الرياض-ية)
        else:
            if whole is None:
                whole = bounded(prefix, rest, procl, sufx)
            ok = whole
        if ok and e.how != DEMONYM:
            if capital is None:
                capital = _capitalised(surface)
            if not capital:
                ok = False
                if cased:
                    written_lower = True
        if ok:
            keep.append(e)
    return keep or None, written_lower


def _longest(hits: list[_Hit]) -> list[_Hit]:
    """Longest first; a hit inside a longer one is dropped ("Donetsk" in "Donetsk Oblast")."""
    return longest_first(hits, lambda h: (h.fs, h.fe), lambda h: (-(h.ke - h.ks), h.ks))


def _score(place: Place, entry: Entry, countries: Counter, total: int = 0) -> float:
    """How likely a reader takes this place for the name; `total` (the article's country mentions,
    given when several namesakes are in named countries) adds the article's own country as a tie-break."""
    s = math.log10(place.population + 10)
    if place.kind == "country":
        s += 6
    if entry.how == ALIAS:
        s += 3
        if place.curated and not entry.stem:
            s += 5  # a row of our own (a site, a region) beats a GeoNames namesake of the same name
    if place.country in countries:
        s += 2.5  # support; a metropolis still beats a small namesake in a named country
        if total:  # and between namesakes of a size, the article's own country
            s += 0.5 * countries[place.country] / total
    return s


def _acceptable(place: Place, entry: Entry, countries: Counter | set[str], cased: bool, initial: bool = False) -> bool:
    """Countries, curated places and aliases always; a GeoNames city when the article names its
    country or it is very large. In a script without capitals (Arabic) nothing tells a name from a
    common word, so a GeoNames city must also be a large one. At the start of a sentence the
    capital proves nothing: there a GeoNames city needs its country named ("Masat", Albanian
    "the measures", is a spelling of Mashhad), and a small town is never taken."""
    if place.kind == "country" or place.curated or entry.how in (ALIAS, NEAR):
        return True
    if not cased and place.population < UNCASED_CITY_MIN_POPULATION:
        return False
    if place.kind == "city" and place.population < CITY_MIN_POPULATION:
        return not initial and place.country in countries
    if initial:
        return place.country in countries
    return place.country in countries or place.population >= UNSUPPORTED_CITY_MIN_POPULATION


OPENERS = "\"'«»“”„‘’([-–—•*#"


def _no_word(text: str, folded: Folded, h: _Hit, p: Place, gaz: Gazetteer, calendar: frozenset[str],
             lower: set[str], edges: set[int]) -> bool:
    """A GeoNames city whose name is no word of the text: no month or weekday ("Salı", Tuesday), not
    written in lower case elsewhere ("masat"), no person's name, and a small town no thing's name in
    quotes («Дружба») nor a stand-in for a bigger namesake (Lugansk, a village in Kazakhstan)."""
    inflected = h.ke < h.fe and folded.text[h.ke] != "'"
    if h.key in calendar:  # a month or a weekday bare ("Salı"); an ending makes a name of it ("Қазан-да")
        return inflected and _no_name(text, folded, h, p, gaz, edges, inflected)
    if h.key in lower:
        return False
    return _no_name(text, folded, h, p, gaz, edges, inflected)


def _no_name(text: str, folded: Folded, h: _Hit, p: Place, gaz: Gazetteer, edges: set[int], inflected: bool) -> bool:
    """A GeoNames town that is no person's name, and a small one no thing's name in quotes nor a
    stand-in for a bigger namesake."""
    if p.kind != "city":
        return True
    s0, e0 = folded.offsets[h.fs], folded.offsets[h.fe - 1] + 1
    # a town's name beside another capitalised word is a person's ("Igor Kurchatov"); for a bigger
    # city only a name that took an ending and runs on into one ("Roma-n Vasilenko")
    small = p.population < CITY_MIN_POPULATION
    if (small or inflected) and _in_a_name(text, s0, e0, edges, not small):
        return False
    if small and (_quoted(text, s0, e0) or any(
            o.curated or o.kind != "city" or o.population >= CITY_MIN_POPULATION
            for o in (gaz.places[x.place_id] for x in h.entries))):
        return False
    return True


def _sentence_initial(text: str, start: int) -> bool:
    """Whether a name opens a sentence, a line or the text (quotes and dashes may stand before it)."""
    i = start - 1
    while i >= 0 and (text[i].isspace() and text[i] != "\n" or text[i] in OPENERS):
        i -= 1
    return i < 0 or text[i] in ".!?…:\n/|·"  # a menu or breadcrumb item ("Home / Society") opens too


QUOTES = "\"'«»“”„‘’"


def _quoted(text: str, start: int, end: int) -> bool:
    """A name alone between quotes names a thing (a pipeline, a company, a ship: «Дружба»), not a town."""
    return start > 0 and end < len(text) and text[start - 1] in QUOTES and text[end] in QUOTES


def _in_a_name(text: str, start: int, end: int, edges: set[int], after_only: bool = False) -> bool:
    """A GeoNames town's name next to another capitalised word that is no place itself is part of a
    person's or an organisation's name ("Igor Kurchatov", "Roman Vasilenko", "Kurchatov Institute"),
    not the town ("Донецк Ростовской области" is a town and its region)."""
    before = text[max(0, start - 40):start]
    after = text[end:end + 40]
    prev = re.search(r"(\w[\w'’-]*)[ \u00a0]$", before)
    nxt = re.match(r"[ \u00a0](\w[\w'’-]*)", after)
    if not after_only and prev and prev.group(1)[:1].isupper() and start - (len(before) - prev.start(1)) not in edges:
        return True
    return bool(nxt and nxt.group(1)[:1].isupper() and end + nxt.start(1) not in edges)


def find_places(text: str, code: str | None, gaz: Gazetteer, folded: Folded | None = None) -> list[PlaceMention]:
    """Place mentions of `text`, each resolved to one gazetteer place (or left out)."""
    folded = folded or fold(text)
    lower: set[str] = set()
    hits = _raw_hits(text, folded, gaz, code, lower)
    blocks = [h for h in hits if h.entries[0].how == BLOCK]
    hits = [h for h in hits if h.entries[0].how != BLOCK]
    # countries the article names outright: they support the cities and regions in them
    countries = Counter([c for h in hits if h.support for c in h.support])  # one count, not one update a hit
    # namesakes this article cannot mean are dropped before overlaps are settled, so that a
    # rejected longer name ("Franca", a Brazilian city) does not hide a good shorter one
    calendar = gaz.calendar.get(code or "", frozenset())
    edges = {folded.offsets[h.fs] for h in hits}  # where a place name starts: no person's name there
    kept: list[_Hit] = list(blocks)
    for h in hits:
        good = []
        initial = None
        for e, p, always in h.read:
            if always:
                good.append(e)  # ours or a country
                continue
            if initial is None:
                cased = _has_case(h.key)
                initial = cased and _sentence_initial(text, folded.offsets[h.fs])
            if _acceptable(p, e, countries, cased, initial) and _no_word(text, folded, h, p, gaz, calendar,
                                                                        lower, edges):
                good.append(e)
        if good:
            kept.append(_Hit(h.fs, h.fe, h.ks, h.ke, h.key, good))
    out: list[PlaceMention] = []
    total = countries.total()
    kept = [h for h in _longest(kept) if h.entries[0].how != BLOCK]
    for i, h in enumerate(kept):
        options = [(gaz.places[e.place_id], e) for e in h.entries]
        # a place's own name beats another's former name ("Samarkand", once a name of Temirtau)
        if len(options) == 1:
            place, entry = options[0]
        else:
            tie = total if sum(p.country in countries for p, _ in options) > 1 else 0
            place, entry = max(options, key=lambda pe: _score(pe[0], pe[1], countries, tie)
                               + (1.0 if _canonical(pe[0].name) == h.key else 0.0))
        if len(options) > 1:  # "Moscow, Idaho", "Донецк Ростовской области", "в Ростовской области: в Донецке"
            near = _by_next_region(text, folded, h, kept[i + 1], options, gaz) if i + 1 < len(kept) else None
            if near is None and i > 0:
                near = _by_prev_region(text, folded, h, kept[i - 1], options, gaz)
            place, entry = near or (place, entry)
        s0, e0 = folded.span(h.fs, h.fe)
        confidence = 0.7 if entry.how == NEAR else 0.9 if (
            place.kind == "country" or place.curated or entry.how == ALIAS) else (
            0.8 if place.country in countries else 0.6)
        out.append(PlaceMention(s0, e0, text[s0:e0], place.place_id, place.name, place.kind,
                                place.country, place.lat, place.lon, f"{entry.how}:{h.key}", confidence))
    return _regions_in_lists(text, folded, code, _near_sites(text, out), gaz)


def _near_sites(text: str, places: list[PlaceMention]) -> list[PlaceMention]:
    """A site found by its operator's name ("the Caspian Pipeline Consortium in Novorossiysk") stays
    only when a place within NEAR_KM of the site is named in the same sentence."""
    if not any(p.rule.startswith(NEAR + ":") for p in places):
        return places
    out = []
    for p in places:
        if p.rule.startswith(NEAR + ":"):
            anchor = next((q for q in places if not q.rule.startswith(NEAR + ":") and q.kind != "country"
                           and km(p.lat, p.lon, q.lat, q.lon) <= NEAR_KM
                           and not SENTENCE_END.search(text[min(p.end, q.end):max(p.start, q.start)])), None)
            if anchor is None:
                continue
            p = PlaceMention(p.start, p.end, p.surface, p.place_id, p.name, p.kind, p.country, p.lat, p.lon,
                             f"{p.rule} +near:{anchor.surface}", p.confidence)
        out.append(p)
    return out


NEXT_REGION_GAP = re.compile(r"^[\s,(]{0,3}$")
NEXT_REGION_KM = 400


def _by_next_region(text: str, folded: Folded, h: _Hit, nxt: _Hit, options, gaz: Gazetteer):
    """Among namesakes, the one inside the region named right after it, if any."""
    a, b = folded.span(h.fe, h.fe)[0], folded.span(nxt.fs, nxt.fs)[0]
    if not NEXT_REGION_GAP.match(text[a:b]):
        return None
    return _nearest_to_region(nxt, options, gaz)


PREV_REGION_CHARS = 60


def _by_prev_region(text: str, folded: Folded, h: _Hit, prev: _Hit, options, gaz: Gazetteer):
    """Among namesakes, the one inside a region named just before it in the same sentence."""
    a, b = folded.span(prev.fe, prev.fe)[0], folded.span(h.fs, h.fs)[0]
    if b - a > PREV_REGION_CHARS or SENTENCE_END.search(text[a:b]):
        return None
    return _nearest_to_region(prev, options, gaz)


def _nearest_to_region(region_hit: _Hit, options, gaz: Gazetteer):
    regions = [gaz.places[e.place_id] for e in region_hit.entries if gaz.places[e.place_id].kind == "region"]
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


# ", ", " and ", " та ", " و", " et de " (French repeats the preposition: "régions de X et de Y")
LIST_GAP = re.compile(r"^[\s,،;]*(?:[^\W\d_]{1,4}[\s]+){0,2}[\s,،;]*$")


def _regions_in_lists(text: str, folded: Folded, code: str | None, places: list[PlaceMention],
                      gaz: Gazetteer) -> list[PlaceMention]:
    """"Donetsk, Luhansk, Zaporizhzhia and Kherson regions", "مناطق دونيتسك ولوغانسك": a list of
    city names joined to a plural region word names the regions those cities give their names to.
    A republic word does the reverse: "Донецкой и Луганской народных республик" are the self-proclaimed
    republics, which the gazetteer places at their seats (the cities), not the regions."""
    if not code or not gaz.region_of_seat:
        return places
    words = region_words(code).find(folded, code)
    if not words:
        return places
    seat_of = _seats(gaz)
    out = list(places)
    for w in words:
        ws, we = folded.span(w.fs, w.fe)
        mapping, want = (gaz.region_of_seat, "city") if w.value == "region" else (seat_of, "region")
        for direction in (-1, 1):
            idx = _nearest(text, out, ws, we, direction)
            while idx is not None:
                p = out[idx]
                region = mapping.get(p.place_id)
                if p.kind != want or region is None:
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


_SEATS: dict[int, tuple[Gazetteer, dict[str, str]]] = {}


def _seats(gaz: Gazetteer) -> dict[str, str]:
    """Region id -> the city it is named after: the inverse of `region_of_seat`, made once per gazetteer."""
    got = _SEATS.get(id(gaz))
    if got is None or got[0] is not gaz:
        if len(_SEATS) >= 4:
            _SEATS.clear()
        got = _SEATS[id(gaz)] = (gaz, {r: c for c, r in gaz.region_of_seat.items()})
    return got[1]


WORD_GAP = re.compile(r"^\s*(?:[^\W\d_]{1,4}\s+)?$")  # "Kherson region", "régions de Kherson": no comma


def _nearest(text: str, places: list[PlaceMention], ws: int, we: int, direction: int) -> int | None:
    """The place right before (direction -1) or right after (+1) a region word, with at most one short
    word and no punctuation between them ("territories, such as Donetsk" is no list of regions)."""
    before = [i for i, p in enumerate(places) if p.end <= ws]
    after = [i for i, p in enumerate(places) if p.start >= we]
    if direction < 0 and before:
        i = before[-1]
        return i if WORD_GAP.match(text[places[i].end:ws]) else None
    if direction > 0 and after:
        i = after[0]
        return i if WORD_GAP.match(text[we:places[i].start]) else None
    return None


@lru_cache(maxsize=64)
def region_words(code: str) -> PhraseMatcher:
    """The language's region words (value "region") and republic words (value "republic")."""
    data = load(code, "places.yaml")
    words = {w: "republic" for w in data.get("republic_words") or ()}
    words.update({w: "region" for w in data.get("region_words") or ()})
    return PhraseMatcher(words)
