"""The built tables made ready for fast filtering, and `Filters` turned into row masks.

Prepared once per build (the app caches it): ids become categoricals, dates become datetime64,
missing outlets and languages get a visible name, and every row knows its article's position so
that a filter on one table can restrict another through the articles ("stances in articles that
mention Aktau"). A filter on a field a table has applies to its rows; a filter on a field it lacks
applies to its articles. Masks are kept for the last few filter states, so the queries of one page
share them. Nothing here imports Streamlit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from kzdash.dashboard.filters import Filters
from kzdash.dashboard.textsearch import TextIndex, search
from kzdash.dashboard.vocab import UNKNOWN_LANGUAGE, UNKNOWN_OUTLET, UNTYPED, confidence_floor

CATEGORIES = {
    "articles": ["outlet", "language"],
    "events": ["article_id", "event_type", "actor", "target", "place_id", "country", "happening_id", "outlet",
               "language", "date_precision", "place_name"],
    "places": ["article_id", "place_id", "name", "kind", "country", "outlet", "language", "surface"],
    "stances": ["article_id", "holder", "issue", "polarity", "outlet", "language"],
}
# The columns a text search looks at, per table.
SEARCHED = {
    "events": ["summary", "evidence", "place_name"],
    "stances": ["evidence"],
    "places": ["surface", "name"],
    "articles": ["title", "text"],
}
# Filters each table answers from its own columns; the others restrict it through its articles.
OWN = {
    "events": {"actors", "event_types", "countries", "places"},
    "stances": {"actors", "issues"},
    "places": {"countries", "places"},
    "articles": set(),
}
DATE_OF = {"events": "date", "stances": "date", "places": "published", "articles": "published"}
MASKS_KEPT = 64  # (table, filters) masks remembered: a page's queries, a few recent states
VIEWS_KEPT = 512  # page answers and chart specs remembered across sessions (a few dozen states × pages)
VIEWS_BYTES = 256 * 2**20  # ... within this much memory; one answer bigger than a tenth of it is not kept


@dataclass
class Dataset:
    articles: pd.DataFrame
    events: pd.DataFrame
    places: pd.DataFrame
    stances: pd.DataFrame
    quarantine: pd.DataFrame
    info: dict = field(default_factory=dict)
    _indexes: dict[tuple[str, str], TextIndex] = field(default_factory=dict, repr=False)
    _memo: dict[str, object] = field(default_factory=dict, repr=False)
    _masks: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _views: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _views_bytes: int = field(default=0, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def from_tables(cls, tables: dict[str, pd.DataFrame], info: dict | None = None) -> Dataset:
        arts = tables["articles"].reset_index(drop=True).copy()
        arts["outlet"] = arts["outlet"].fillna(UNKNOWN_OUTLET).replace("", UNKNOWN_OUTLET)
        arts["language"] = arts["language"].fillna(UNKNOWN_LANGUAGE).replace("", UNKNOWN_LANGUAGE)
        arts["published"] = pd.to_datetime(arts["published"], errors="coerce", format="mixed")
        ids = pd.Index(arts["article_id"].astype(str))
        published = arts["published"]
        out = {"articles": arts}
        for name in ("events", "places", "stances"):
            df = tables[name].reset_index(drop=True).copy()
            df["outlet"] = df["outlet"].fillna(UNKNOWN_OUTLET).replace("", UNKNOWN_OUTLET)
            df["language"] = df["language"].fillna(UNKNOWN_LANGUAGE).replace("", UNKNOWN_LANGUAGE)
            art = ids.get_indexer(df["article_id"].astype(str))
            df["art"] = art.astype(np.int64)
            if name == "events":
                df["event_type"] = df["event_type"].fillna(UNTYPED)
                df["background"] = df["background"].fillna(False).astype(bool)
                df["published"] = pd.to_datetime(df["published"], errors="coerce", format="mixed")
            if name in ("events", "stances"):
                df["date"] = pd.to_datetime(df["date"], errors="coerce")
            if name == "places":
                df["published"] = published.reindex(art).to_numpy()  # mentions are dated by their article
            out[name] = df
        for name, cols in CATEGORIES.items():
            for col in cols:
                out[name][col] = out[name][col].astype("category")
        return cls(out["articles"], out["events"], out["places"], out["stances"],
                   tables["quarantine"].reset_index(drop=True), dict(info or {}))

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def memo(self, key: str, compute):
        """A value that depends on the build only (filter options, codes, counts), computed once."""
        if key not in self._memo:
            value = compute()
            with self._lock:
                self._memo.setdefault(key, value)
        return self._memo[key]

    def codes(self, name: str, col: str) -> np.ndarray:
        """Category codes of a categorical column (-1 for missing), as a plain array."""
        return self.memo(f"codes:{name}:{col}", lambda: self.table(name)[col].cat.codes.to_numpy())

    def days(self, name: str, col: str) -> np.ndarray:
        """A date column as int64 nanoseconds (NaT is the smallest int64), for sorting and bucketing."""
        return self.memo(f"days:{name}:{col}", lambda: self.table(name)[col].to_numpy(dtype="datetime64[ns]")
                         .astype(np.int64))

    def text_mask(self, name: str, query: str) -> np.ndarray:
        indexes = [self.text_index(name, col) for col in SEARCHED[name]]
        return search(indexes, query, len(self.table(name)))

    def text_index(self, name: str, col: str) -> TextIndex:
        """The word index of a column, built on first use (or by `warm`)."""
        with self._lock:
            if (name, col) not in self._indexes:
                values = self.table(name)[col]
                if isinstance(values.dtype, pd.CategoricalDtype):
                    values = values.astype("string")
                self._indexes[(name, col)] = TextIndex.build(pa.array(values.to_numpy(dtype=object),
                                                                      type=pa.large_string(), from_pandas=True))
            return self._indexes[(name, col)]

    def warm(self) -> threading.Thread:
        """Build the word indexes in the background, so that the first text search is as fast as the next."""
        def work() -> None:
            for name, cols in SEARCHED.items():
                for col in cols:
                    self.text_index(name, col)
        thread = threading.Thread(target=work, name="kzdash-warm", daemon=True)
        thread.start()
        return thread

    def forget_masks(self) -> None:
        """Drop the remembered masks and views (benchmarks time a filter change from nothing)."""
        with self._lock:
            self._masks.clear()
            self._views.clear()
            self._views_bytes = 0

    def remember(self, key: tuple, compute):
        """A page's finished product for one state (a chart's spec, a map), shared by every session.

        In a briefing the audience opens the views the presenter just showed, and the presenter goes
        back and forth between a few: converting an altair chart (schema validation) or a map to JSON
        costs tens of milliseconds each time, which a hosted link pays for every viewer. Values must
        be treated as read-only by the caller."""
        with self._lock:
            if key in self._views:
                self._views.move_to_end(key)
                return self._views[key][0]
        value = compute()
        size = approx_bytes(value)
        if size > VIEWS_BYTES // 10:
            return value
        with self._lock:
            if key in self._views:  # another session computed it meanwhile: replace, count once
                self._views_bytes -= self._views.pop(key)[1]
            self._views[key] = (value, size)
            self._views_bytes += size
            while len(self._views) > VIEWS_KEPT or self._views_bytes > VIEWS_BYTES:
                _, (_, dropped) = self._views.popitem(last=False)
                self._views_bytes -= dropped
        return value

    def per_filters(self, kind: str, f: Filters, compute):
        """A result that depends on the data filters only (a mask, the happenings), remembered for the
        last few filter states so that the queries of one page share it."""
        key = (kind, _data_filters(f))
        with self._lock:
            if key in self._masks:
                self._masks.move_to_end(key)
                return self._masks[key]
        value = compute(key[1])
        with self._lock:
            self._masks[key] = value
            while len(self._masks) > MASKS_KEPT:
                self._masks.popitem(last=False)
        return value

    def mask(self, name: str, f: Filters) -> np.ndarray:
        """Which rows of table `name` the filters keep."""
        def compute(data_filters: Filters) -> np.ndarray:
            m = row_mask(self, name, data_filters)
            m.flags.writeable = False  # shared between queries: nobody may change it
            return m
        return self.per_filters(f"mask:{name}", f, compute)


def approx_bytes(value: object, depth: int = 0) -> int:
    """Roughly how much memory a remembered answer holds (frames, arrays, specs, and what they contain)."""
    if depth > 8:
        return 64
    if isinstance(value, pd.DataFrame | pd.Series):
        return int(np.sum(value.memory_usage(index=True, deep=False)))
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, bytes | str):
        return len(value)
    if isinstance(value, dict):
        return 64 + sum(approx_bytes(v, depth + 1) for v in value.values())
    if isinstance(value, list | tuple):
        return 64 + sum(approx_bytes(v, depth + 1) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return 64 + sum(approx_bytes(getattr(value, name), depth + 1) for name in value.__dataclass_fields__)
    if hasattr(value, "__dict__"):  # a map (pydeck Deck): its layers' records
        return 64 + approx_bytes(vars(value), depth + 1)
    return 64


def _data_filters(f: Filters) -> Filters:
    """The filters without the view state that does not change which rows are kept."""
    return Filters(f.start, f.end, f.outlets, f.languages, f.actors, f.issues, f.event_types, f.countries, f.places,
                   f.text, f.background, f.confident)


def _isin(series: pd.Series, values: tuple[str, ...]) -> np.ndarray:
    return series.isin(values).to_numpy(dtype=bool)


def row_mask(ds: Dataset, name: str, f: Filters) -> np.ndarray:
    """Which rows of table `name` the filters keep (uncached; use `Dataset.mask`)."""
    df = ds.table(name)
    keep = np.ones(len(df), dtype=bool)
    if f.start or f.end:
        when = df[DATE_OF[name]].to_numpy()
        if f.start:
            keep &= when >= np.datetime64(f.start, "ns")
        if f.end:
            keep &= when <= np.datetime64(f.end, "ns")
    if f.outlets:
        keep &= _isin(df["outlet"], f.outlets)
    if f.languages:
        keep &= _isin(df["language"], f.languages)
    own = OWN[name]
    if "actors" in own and f.actors:
        keep &= (_isin(df["actor"], f.actors) | _isin(df["target"], f.actors)) if name == "events" \
            else _isin(df["holder"], f.actors)
    if "issues" in own and f.issues:
        keep &= _isin(df["issue"], f.issues)
    if "event_types" in own and f.event_types:
        keep &= _isin(df["event_type"], f.event_types)
    if "countries" in own and f.countries:
        keep &= _isin(df["country"], f.countries)
    if "places" in own and f.places:
        keep &= _isin(df["place_id"], f.places)
    if name == "events" and not f.background:
        keep &= ~df["background"].to_numpy(dtype=bool)
    if f.confident and name in ("events", "stances"):
        floor = confidence_floor(name)
        keep &= df["confidence"].fillna(0.0).to_numpy(dtype=float) >= floor
    if f.text:
        found = ds.text_mask(name, f.text)
        if name == "articles":  # an article also matches through what was extracted from it ("Aktau" in Arabic)
            for other in ("events", "places", "stances"):
                rows = ds.table(other)["art"].to_numpy()[ds.text_mask(other, f.text)]
                found[rows[rows >= 0]] = True
        keep &= found
    through = _article_mask(ds, f, own)
    if through is not None:
        art = np.arange(len(df)) if name == "articles" else df["art"].to_numpy()
        keep &= through[art]
    return keep


def _article_mask(ds: Dataset, f: Filters, own: set[str]) -> np.ndarray | None:
    """Articles that satisfy the filters a table cannot answer itself (None: no such filter)."""
    n = len(ds.articles)
    wanted: list[np.ndarray] = []

    def articles_of(df: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
        m = np.zeros(n, dtype=bool)
        art = df["art"].to_numpy()[rows]
        m[art[art >= 0]] = True
        return m

    if f.issues and "issues" not in own:
        wanted.append(articles_of(ds.stances, _isin(ds.stances["issue"], f.issues)))
    if f.event_types and "event_types" not in own:
        wanted.append(articles_of(ds.events, _isin(ds.events["event_type"], f.event_types)))
    if f.places and "places" not in own:
        wanted.append(articles_of(ds.places, _isin(ds.places["place_id"], f.places)))
    if f.countries and "countries" not in own:
        wanted.append(articles_of(ds.places, _isin(ds.places["country"], f.countries)))
    if f.actors and "actors" not in own:
        ev = _isin(ds.events["actor"], f.actors) | _isin(ds.events["target"], f.actors)
        wanted.append(articles_of(ds.events, ev) | articles_of(ds.stances, _isin(ds.stances["holder"], f.actors)))
    if not wanted:
        return None
    out = wanted[0]
    for m in wanted[1:]:
        out = out & m
    return out


def filtered(ds: Dataset, name: str, f: Filters, columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of table `name` that the filters keep (only `columns`, when given: copying is the cost)."""
    df = ds.table(name)
    m = ds.mask(name, f)
    return df.loc[m, columns] if columns is not None else df[m]


def count(ds: Dataset, name: str, f: Filters) -> int:
    return int(np.count_nonzero(ds.mask(name, f)))
