"""The built tables made ready for fast filtering, and `Filters` turned into row masks.

Prepared once per build (the app caches it): ids become categoricals, dates become datetime64,
missing outlets and languages get a visible name, and every row knows its article's position so
that a filter on one table can restrict another through the articles ("stances in articles that
mention Aktau"). A filter on a field a table has applies to its rows; a filter on a field it lacks
applies to its articles. Nothing here imports Streamlit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from kzdash.filters import Filters
from kzdash.textsearch import TextIndex
from kzdash.vocab import UNKNOWN_LANGUAGE, UNKNOWN_OUTLET, UNTYPED

CATEGORIES = {
    "articles": ["outlet", "language"],
    "events": ["article_id", "event_type", "actor", "target", "place_id", "country", "happening_id", "outlet",
               "language", "date_precision"],
    "places": ["article_id", "place_id", "name", "kind", "country", "outlet", "language"],
    "stances": ["article_id", "holder", "issue", "polarity", "outlet", "language"],
}
# The words a text search looks at, per table.
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


@dataclass
class Dataset:
    articles: pd.DataFrame
    events: pd.DataFrame
    places: pd.DataFrame
    stances: pd.DataFrame
    quarantine: pd.DataFrame
    info: dict = field(default_factory=dict)
    _indexes: dict[str, TextIndex] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

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

    def text_index(self, name: str) -> TextIndex:
        """The word index of a table, built on its first search."""
        with self._lock:
            if name not in self._indexes:
                df = self.table(name)
                joined = df[SEARCHED[name][0]].astype("string").fillna("")
                for col in SEARCHED[name][1:]:
                    joined = joined + " " + df[col].astype("string").fillna("")
                self._indexes[name] = TextIndex.build(pa.array(joined.to_numpy(dtype=object), type=pa.large_string()))
            return self._indexes[name]


def _isin(series: pd.Series, values: tuple[str, ...]) -> np.ndarray:
    return series.isin(values).to_numpy(dtype=bool)


def row_mask(ds: Dataset, name: str, f: Filters) -> np.ndarray:
    """Which rows of table `name` the filters keep."""
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
    if f.text:
        found = ds.text_index(name).search(f.text)
        if name == "articles":  # an article also matches through what was extracted from it ("Aktau" in Arabic)
            for other in ("events", "places", "stances"):
                rows = ds.table(other)["art"].to_numpy()[ds.text_index(other).search(f.text)]
                found[rows[rows >= 0]] = True
        keep &= found
    through = _article_mask(ds, f, own)
    if through is not None:
        art = df.index.to_numpy() if name == "articles" else df["art"].to_numpy()
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


def filtered(ds: Dataset, name: str, f: Filters) -> pd.DataFrame:
    """The rows of table `name` that the filters keep."""
    return ds.table(name)[row_mask(ds, name, f)]
