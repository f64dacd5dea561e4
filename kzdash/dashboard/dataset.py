"""The built tables made ready for fast filtering, and `Filters` turned into row masks.

A build's DuckDB file (`kzdash.pipeline.serving`) holds every table and, beside each, an index
table of the columns filters and counts need: categorical codes (missing outlets and languages
already given a visible name), dates, flags, and the row of each row's article, so that a filter on
one table can restrict another through the articles ("stances in articles that mention Aktau").
The dataset maps only those index columns (category codes are read; numbers, dates and flags stay
memory-mapped) and reads the text of the rows a page shows from the row files (`fetch`); DuckDB is
asked with parameters, never with user text in SQL.
A filter on a field a table has applies to its rows; a filter on a field it lacks applies to its
articles. Masks are kept for the last few filter states, so the queries of one page share them.

Reviews (kzdash.dashboard.reviews) are applied to the index columns whenever the tables are opened
and after every save: each row of events, places and stances gets a `review` status, a correction
replaces the corrected values (the originals are kept, so every application starts again from them
and an undo restores them), and `fetch` returns the reviewed values of the other columns too. Only
the rows of reviewed articles are read to do it: reviews are few, rows many. A save drops every
remembered mask and answer, for every session: a rejected row disappears for everyone.
Nothing here imports Streamlit.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from kzdash.dashboard import reviews as rv
from kzdash.dashboard.filters import Filters
from kzdash.dashboard.textsearch import TextIndex, mapped, search
from kzdash.dashboard.vocab import confidence_floor
from kzdash.pipeline.serving import (
    INDEX_DIR,
    ROW_FILE,
    SEARCHED,
    STORED_ORDERS,
    is_served,
    stored_order_file,
    word_files,
    write_serving,
)

# Filters each table answers from its own columns; the others restrict it through its articles.
OWN = {
    "events": {"actors", "event_types", "countries", "places"},
    "stances": {"actors", "issues"},
    "places": {"countries", "places"},
    "articles": set(),
}
DATE_OF = {"events": "date", "stances": "date", "places": "published", "articles": "published"}
MASKS_KEPT = 64  # (table, filters) masks remembered: a page's queries, a few recent states ...
MASKS_BYTES = 192 * 2**20  # ... within this much memory (a mask of ten million events is 10 MB)
VIEWS_KEPT = 512  # page answers and chart specs remembered across sessions (a few dozen states × pages)
VIEWS_BYTES = 256 * 2**20  # ... within this much memory; one answer bigger than a tenth of it is not kept
WHOLE_KEPT = 64  # answers for the unfiltered build (page × view state), kept until the reviews change ...
WHOLE_BYTES = 128 * 2**20  # ... within this much memory
DUCKDB_MEMORY = "512MB"  # what DuckDB may cache of the tables' text; the index columns live in numpy
INDEXED = ("articles", "events", "places", "stances")
# Index columns that differ from the stored ones (a missing outlet named, dates as datetime64): fetch
# returns these as filters see them; every other column as the build stored it (reviews applied).
PREPARED = {"outlet", "language", "event_type", "background", "date", "published"}
REVIEWED = ("events", "places", "stances")  # the tables a reviewer can confirm, reject or correct rows of
KIND_OF = {table: kind for kind, table in rv.TABLE_OF.items()}  # a reviewed table's review kind
REVIEW_STATES = ("confirmed", "rejected", "corrected", "needs_look")  # the `review` column; missing: none
REVIEW_EXTRA = ("reviewed_by", "review_note")  # fetchable columns that come from the reviews, not the build
REVIEW_COLUMNS = ("review", *REVIEW_EXTRA)  # what exports add to the build's columns
# index columns a correction changes, per table: the corrected field itself, or a place's own columns
CORRECTED_INDEX = {"stances": ("holder", "issue", "polarity"),
                   "events": ("event_type", "date", "date_precision", "place_id", "country"),
                   "places": ("place_id", "kind", "country")}


FLIGHT_WAIT = 60.0  # seconds a session waits for another's computation of the same answer before its own


class _Flight:
    """One answer being computed: its value once done, for the sessions that asked meanwhile."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False
        self.value = None


@dataclass
class Dataset:
    articles: pd.DataFrame  # the index columns of each table (kzdash.pipeline.serving.INDEX_SQL), row order
    events: pd.DataFrame
    places: pd.DataFrame
    stances: pd.DataFrame
    _quarantine: pd.DataFrame | None  # read from DuckDB when first asked for (see `quarantine`)
    info: dict = field(default_factory=dict)
    database: Path | None = None
    _rows: dict[str, RowFile] = field(default_factory=dict, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _con: object = field(default=None, repr=False)
    _keep: object = field(default=None, repr=False)  # a temporary folder that must live as long as the dataset
    _indexes: dict[tuple[str, str], TextIndex] = field(default_factory=dict, repr=False)
    _memo: dict[str, object] = field(default_factory=dict, repr=False)
    _masks: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _masks_bytes: int = field(default=0, repr=False)
    _views: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _whole: OrderedDict = field(default_factory=OrderedDict, repr=False)  # answers for the unfiltered build
    _stored_bytes: dict[bool, int] = field(default_factory=lambda: {False: 0, True: 0}, repr=False)  # whole?
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _computing: dict = field(default_factory=dict, repr=False)  # key -> _Flight: answers being computed now
    review_path: Path | None = None  # the review store (None: no reviews)
    _store: rv.ReviewStore | None = field(default=None, repr=False)
    _originals: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)  # index frames as built
    _overlay: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)  # reviewed rows' values, by row
    _applied: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)  # reviewed articles' rows, applied
    _current: pd.DataFrame | None = field(default=None, repr=False)  # the store's current reviews
    _status: pd.DataFrame | None = field(default=None, repr=False)  # ... with applies / needs_look / gone
    _review_mark: int = field(default=-1, repr=False)  # the log length last applied
    version: int = 0  # bumped by every application of the reviews: remembered answers are per version
    _built: dict[tuple[str, str], dict[str, np.ndarray]] = field(default_factory=dict, repr=False)  # build's counts

    def __post_init__(self) -> None:
        for name in REVIEWED:
            frame = self.table(name)
            if "review" not in frame.columns:
                frame = frame.assign(review=pd.Categorical.from_codes(np.full(len(frame), -1, dtype=np.int8),
                                                                     categories=list(REVIEW_STATES)))
                setattr(self, name, frame)
            self._originals.setdefault(name, frame)

    @classmethod
    def open(cls, build_dir: str | Path, info: dict | None = None, *, cache_dir: Path | None = None,
             reviews: str | Path | None = None) -> Dataset:
        """The dataset of a build folder. A build made before the index tables existed is indexed into a
        file of `cache_dir` (default: the system's temporary folder), never into the build itself.
        `reviews`: the review store to apply (e.g. `reviews.default_path(build_dir)`); none by default."""

        build_dir = Path(build_dir)
        if info is None:
            meta = build_dir / "build.json"
            info = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}
        database, keep = build_dir / "kzdash.duckdb", None
        if not is_served(build_dir):
            keep = tempfile.TemporaryDirectory(prefix="kzdash-serving-", dir=cache_dir)
            database = write_serving(build_dir, Path(keep.name) / "kzdash.duckdb")
        _read_ahead(database.parent / INDEX_DIR)
        frames, built = _index_frames(database.parent / INDEX_DIR)
        row_files = {name: RowFile(database.parent / ROW_FILE.format(name)) for name in INDEXED}
        ds = cls(frames["articles"], frames["events"], frames["places"], frames["stances"], None,
                 dict(info), database, row_files, _keep=keep, _built=built)
        if reviews is not None:
            ds.attach_reviews(reviews)
        return ds

    @classmethod
    def from_tables(cls, tables: dict[str, pd.DataFrame], info: dict | None = None) -> Dataset:
        """A dataset of tables in memory (tests, benchmarks): written to a temporary build folder first."""
        keep = tempfile.TemporaryDirectory(prefix="kzdash-tables-")
        folder = Path(keep.name)
        for name, df in tables.items():
            df.reset_index(drop=True).to_parquet(folder / f"{name}.parquet", index=False)
        write_serving(folder)
        ds = cls.open(folder, dict(info or {}))
        ds._keep = (keep, ds._keep)
        return ds

    @property
    def quarantine(self) -> pd.DataFrame:
        """The build's quarantine table (files set aside, notes on capped articles)."""
        if self._quarantine is None:
            self._quarantine = self.sql("SELECT * EXCLUDE (row) FROM quarantine ORDER BY row")
        return self._quarantine

    def connection(self):
        """The DuckDB instance of this dataset, attached when first needed: the pages most people open first
        are answered from the index files alone, and attaching costs a fifth of a second."""
        with self._lock:
            if self._con is None:
                self._con = _attach(self.database)
            return self._con

    def cursor(self):
        """This thread's DuckDB cursor (one connection may not be used by two threads at once)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = self.connection().cursor()
            cur.execute("USE build")
        return cur

    def sql(self, query: str, params: list | dict | None = None) -> pd.DataFrame:
        """A query's answer as a DataFrame; values always travel as parameters."""
        return self.cursor().execute(query, params or []).df()

    def fetch(self, name: str, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
        """Columns of table `name` for `rows`, in that order: index columns from memory (missing outlets and
        languages named, as filters see them), the rest from the table's memory-mapped row file, all with
        the reviews applied. Besides the table's columns: `row` (the row number), `review`, `reviewed_by`
        and `review_note` (missing where there is no review)."""
        rows = np.asarray(rows, dtype=np.int64)
        frame, row_file = self.table(name), self._rows[name]
        from_index = PREPARED | set(CORRECTED_INDEX.get(name, ()))
        mine = [c for c in columns if c in frame.columns and (c in from_index or c not in row_file.columns)]
        out = pd.DataFrame({c: frame[c].to_numpy()[rows] if not isinstance(frame[c].dtype, pd.CategoricalDtype)
                            else frame[c].array.take(rows) for c in mine}, index=pd.RangeIndex(len(rows)))
        extra = [c for c in columns if c in REVIEW_EXTRA and c not in frame.columns]
        stored = [c for c in columns if c not in mine and c not in extra and c != "row"]
        if stored:
            got = self._rows[name].take(rows, stored)
            for c in stored:
                out[c] = got[c]
        for c in extra:
            out[c] = pd.Series(pd.NA, index=out.index, dtype="string")
        if "row" in columns and "row" not in frame.columns:
            out["row"] = rows
        overlay = self._overlay.get(name)
        patched = [c for c in (*stored, *extra) if overlay is not None and c in overlay.columns]
        if patched and len(rows) and len(overlay):
            at = overlay.index.to_numpy()
            pos = np.minimum(np.searchsorted(at, rows), len(at) - 1)
            hit = at[pos] == rows
            if hit.any():
                for c in patched:
                    values = overlay[c].to_numpy()[pos[hit]]
                    column = out[c].copy()
                    if not (pd.api.types.is_float_dtype(column.dtype) and pd.api.types.is_float_dtype(values.dtype)):
                        column = column.astype(object)
                    column.iloc[np.flatnonzero(hit)] = values
                    out[c] = column
        return out[columns]

    def stored_columns(self, name: str) -> list[str]:
        """The table's columns as the build wrote them (the contract's, and any extra)."""
        return self._rows[name].columns

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def memo(self, key: str, compute):
        """A value that depends on the build and its reviews only (filter options, codes, counts), computed
        once per version of the reviews."""
        key = f"{self.version}:{key}"
        if key not in self._memo:
            value = compute()
            with self._lock:
                self._memo.setdefault(key, value)
        return self._memo[key]

    def codes(self, name: str, col: str) -> np.ndarray:
        """Category codes of a categorical column (-1 for missing), as a plain array; a happening's is its number."""
        if col == "happening_id":
            return self.memo(f"codes:{name}:hap", lambda: self.table(name)["hap"].to_numpy())  # int32, mapped
        # The Categorical's own codes, read-only: `.cat.codes` builds a Series, which copies them (pandas 3),
        # 40 MB of fresh memory per column at ten million rows.
        return self.memo(f"codes:{name}:{col}", lambda: self.table(name)[col].array.codes)

    def size(self, name: str, col: str) -> int:
        """How many codes a column of `codes` can have."""
        if col == "happening_id":
            return self.memo(f"size:{name}:hap", lambda: int(self.table(name)["hap"].max()) + 1
                             if len(self.table(name)) else 0)
        return len(self.table(name)[col].cat.categories)

    def code_of(self, name: str, col: str, value: str) -> int:
        """The code of `value` in a categorical column (-2, which no row has, when it is not a category)."""
        found = self.table(name)[col].cat.categories.get_indexer([value])
        return int(found[0]) if found[0] >= 0 else -2

    def has(self, name: str, col: str, values: tuple[str, ...]) -> np.ndarray:
        """Rows whose categorical `col` is one of `values`: a lookup table indexed by code (pandas' isin
        hashes every row's value; this costs one gather)."""
        def compute() -> np.ndarray:
            wanted = np.zeros(self.size(name, col) + 1, dtype=bool)  # the last slot is for missing values (-1)
            found = self.table(name)[col].cat.categories.get_indexer(list(values))
            wanted[found[found >= 0]] = True
            codes = self.codes(name, col)
            rows = np.empty(len(codes), dtype=bool)
            for part in chunks(len(codes)):  # numpy gathers by int64 positions: a chunk's, not the table's
                np.take(wanted, codes[part], out=rows[part])
            rows.flags.writeable = False  # shared: callers combine it into arrays of their own
            return rows
        return self.remember_part(("has", name, col, tuple(sorted(values))), compute)

    def days(self, name: str, col: str) -> np.ndarray:
        """A date column as int64 nanoseconds (NaT is the smallest int64), for sorting and bucketing."""
        return self.memo(f"days:{name}:{col}", lambda: self.table(name)[col].to_numpy(dtype="datetime64[ns]")
                         .view(np.int64))  # a view, not a copy: 80 MB per date column at ten million rows

    def stored_order(self, name: str) -> np.ndarray:
        """One of the orders the build stored (`kzdash.pipeline.serving.STORED_ORDERS`), memory-mapped."""
        return self.memo(f"stored order:{name}", lambda: mapped(stored_order_file(self.database.parent, name),
                                                                  np.dtype(STORED_ORDERS[name][1])))

    def as_built_table(self, name: str) -> bool:
        """Whether no review changed table `name` (its index frame is the one the build wrote)."""
        return name not in REVIEWED or self.table(name) is self._originals.get(name)

    def code_totals(self, name: str, col: str) -> np.ndarray:
        """Rows per code of a categorical column (index.json's count while the build's, else counted)."""
        return self._as_built_or(name, col, "counts", lambda codes, size: code_counts(codes, None, size))

    def first_rows(self, name: str, col: str) -> np.ndarray:
        """Each code's first row (-1: none) of a categorical column (index.json's while the build's, else found)."""
        return self._as_built_or(name, col, "first", first_row_per_code)

    def _as_built_or(self, name: str, col: str, what: str, compute) -> np.ndarray:
        """What the build wrote into index.json for a categorical column (`what`: counts, first), while no review
        changed the table; else `compute(codes, size)`, once per version of the reviews."""
        built = self._built.get((name, col))
        if built is not None and self.as_built_table(name):
            return built[what]
        return self.memo(f"{what}:{name}:{col}", lambda: compute(self.codes(name, col), self.size(name, col)))

    def as_built(self, name: str, col: str) -> bool:
        """Whether no review changed categorical `col` of table `name` (its codes are those the build wrote)."""
        if self.as_built_table(name):  # the very frame the build wrote: no need to compare
            return True
        return self.memo(f"as built:{name}:{col}", lambda: np.array_equal(
            self.codes(name, col), self._originals[name][col].array.codes))

    def text_mask(self, name: str, query: str) -> np.ndarray:
        """Rows of `name` whose searched columns hold every word of `query`, remembered with the masks: the
        articles' mask asks for the other tables' (an article matches through its rows) as their own masks do."""
        def compute() -> np.ndarray:
            found = search([self.text_index(name, col) for col in SEARCHED[name]], query, len(self.table(name)))
            found.flags.writeable = False
            return found
        return self.remember_part(("text", name, query), compute)

    def text_index(self, name: str, col: str) -> TextIndex:
        """The word index of a column, as the build wrote it beside the DuckDB file (memory-mapped)."""
        with self._lock:
            if (name, col) not in self._indexes:
                self._indexes[(name, col)] = TextIndex.open(word_files(self.database.parent, name, col))
            return self._indexes[(name, col)]

    def warm(self) -> threading.Thread:
        """Open the word indexes (read their vocabularies) in the background, so that the first text search
        is as fast as the next."""
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
            self._masks_bytes = 0
            self._views.clear()
            self._stored_bytes[False] = 0

    def remember(self, key: tuple, compute, *, whole_build: bool = False):
        """A page's finished product for one state (a chart's spec, a map), shared by every session.

        In a briefing the audience opens the views the presenter just showed, and the presenter goes
        back and forth between a few: converting an altair chart (schema validation) or a map to JSON
        costs tens of milliseconds each time, which a hosted link pays for every viewer. Values must
        be treated as read-only by the caller.

        `whole_build`: the answer for the unfiltered build (the state every session opens first), kept
        until the reviews change (WHOLE_KEPT of them), not dropped with the masks of recent states: at ten
        million events such an answer is a pass over every row, computed once per build."""
        store = self._whole if whole_build else self._views
        kept, most = (WHOLE_KEPT, WHOLE_BYTES) if whole_build else (VIEWS_KEPT, VIEWS_BYTES)
        key = (self.version, key)
        with self._lock:
            if key in store:
                store.move_to_end(key)
                return store[key][0]
        value = self._once(("view", whole_build, key), compute)
        size = approx_bytes(value)
        if size > most // 10:
            return value
        with self._lock:
            if key in store:  # another session computed it meanwhile: replace, count once
                self._stored_bytes[whole_build] -= store.pop(key)[1]
            store[key] = (value, size)
            self._stored_bytes[whole_build] += size
            while len(store) > kept or self._stored_bytes[whole_build] > most:
                _, (_, dropped) = store.popitem(last=False)
                self._stored_bytes[whole_build] -= dropped
        return value

    def _once(self, flight_key: tuple, compute):
        """`compute()`, once for all the sessions that ask for the same answer at the same moment: the
        first computes it, the others wait for its value. When fifty viewers change to a new state
        together (a briefing, or a link shared in a chat), computing it fifty times over would hold
        every one of them up for the time of fifty."""
        with self._lock:
            flight = self._computing.get(flight_key)
            mine = flight is None
            if mine:
                flight = self._computing[flight_key] = _Flight()
        if not mine:
            flight.done.wait(FLIGHT_WAIT)
            if flight.ok:
                return flight.value
            return compute()  # it failed or took too long there: try here (an error then shows here)
        try:
            flight.value = compute()
            flight.ok = True
            return flight.value
        finally:
            with self._lock:
                self._computing.pop(flight_key, None)
            flight.done.set()

    def per_filters(self, kind: str, f: Filters, compute):
        """A result that depends on the data filters only (a mask, the happenings), remembered for the
        last few filter states so that the queries of one page share it."""
        data_filters = _data_filters(f)
        return self.remember_part((kind, data_filters), lambda: compute(data_filters))

    def remember_part(self, key: tuple, compute):
        """A piece of a mask (the rows with one of some values, the articles with such rows), kept with the
        masks: the four tables' masks of one filter state ask for the same pieces."""
        key = (self.version, *key)
        with self._lock:
            if key in self._masks:
                self._masks.move_to_end(key)
                return self._masks[key][0]
        value = self._once(("part", key), compute)
        size = approx_bytes(value)
        with self._lock:
            if key in self._masks:  # another session computed it meanwhile
                self._masks_bytes -= self._masks.pop(key)[1]
            self._masks[key] = (value, size)
            self._masks_bytes += size
            while len(self._masks) > 1 and (len(self._masks) > MASKS_KEPT or self._masks_bytes > MASKS_BYTES):
                self._masks_bytes -= self._masks.popitem(last=False)[1][1]
        return value

    def mask(self, name: str, f: Filters) -> np.ndarray:
        """Which rows of table `name` the filters keep."""
        def compute(data_filters: Filters) -> np.ndarray:
            m = row_mask(self, name, data_filters)
            m.flags.writeable = False  # shared between queries: nobody may change it
            return m
        return self.per_filters(f"mask:{name}", f, compute)

    # --- reviews ---------------------------------------------------------------------------------

    def attach_reviews(self, path: str | Path) -> None:
        """Use the review store at `path` (created on the first save, so a read-only server writes nothing)."""
        self.review_path = Path(path)
        self._store = rv.ReviewStore(self.review_path) if self.review_path.is_file() else None
        self._review_mark = -1
        self.sync_reviews()

    def review_store(self, *, create: bool = False) -> rv.ReviewStore | None:
        """The review store (None when there is none yet and `create` is off)."""
        with self._lock:
            if self._store is None and self.review_path is not None and (create or self.review_path.is_file()):
                self._store = rv.ReviewStore(self.review_path)
            return self._store

    def sync_reviews(self) -> bool:
        """Apply the reviews again if the store changed (another server process, another session): one
        count of the log per call. True when they were applied again."""
        store = self.review_store()
        mark = len(store) if store is not None else 0
        if mark == self._review_mark:
            return False
        self.apply_reviews()
        return True

    def apply_reviews(self) -> None:
        """Derive the index frames again from the originals with the store's current reviews, and drop
        every remembered mask and answer (they may count rows that are now rejected or corrected)."""
        with self._lock:
            store = self.review_store()
            mark = len(store) if store is not None else 0
            current = store.current() if store is not None and mark else rv.current_reviews(
                pd.DataFrame(columns=rv.LOG_COLUMNS))
            frames, overlay, applied, status = self._reviewed_frames(current)
            for name, frame in frames.items():
                setattr(self, name, frame)
            self._overlay, self._applied, self._current, self._status = overlay, applied, current, status
            self._review_mark = mark
            self.version += 1
            self._memo.clear()
            self._whole.clear()
            self._stored_bytes[True] = 0
            self.forget_masks()

    def _reviewed_frames(self, current: pd.DataFrame) -> tuple[dict, dict, dict, pd.DataFrame]:
        """(index frames, overlays, applied rows, review status) for the current reviews."""
        frames = {name: self._originals[name] for name in REVIEWED}
        overlay: dict[str, pd.DataFrame] = {}
        applied: dict[str, pd.DataFrame] = {}
        if current.empty:
            return frames, overlay, applied, current.assign(status=pd.Series(dtype="string"))
        ids = [str(v) for v in current["article_id"].dropna().unique()]
        sources = [str(v) for v in current["source"].dropna().unique()]
        found = self.sql("SELECT row, article_id, source FROM articles WHERE list_contains(?::VARCHAR[], article_id) "
                         "OR list_contains(?::VARCHAR[], source) ORDER BY row", [ids, sources])
        arts = found["row"].to_numpy(dtype=np.int64)
        articles = found.drop(columns="row").astype("string")
        raw_tables: dict[str, pd.DataFrame] = {"articles": articles}
        for name in REVIEWED:
            orig = self._originals[name]
            rows = np.flatnonzero(np.isin(orig["art"].to_numpy(), arts))
            raw = self._rows[name].take(rows, self.stored_columns(name))
            raw.index = pd.Index(rows, name="row")
            raw_tables[name] = raw
            done = rv.apply_reviews(KIND_OF[name], raw, current, articles)
            applied[name] = done
            reviewed = done[done["review"].notna().to_numpy(dtype=bool)]
            frames[name] = _with_reviews(name, orig, reviewed)
            kept = [c for c in done.columns if c not in orig.columns or c in REVIEW_EXTRA]
            overlay[name] = reviewed[kept].sort_index()
        status = rv.review_status(current, {n: t.reset_index(drop=True) for n, t in raw_tables.items()})
        return frames, overlay, applied, status

    def save_review(self, kind: str, row: int, action: str, *, reviewer: str,
                    correction: Mapping[str, Any] | None = None, note: str | None = None) -> dict[str, Any]:
        """Record a reviewer's action on row `row` of the kind's table, then apply the reviews again.

        The key is made from the row as the build wrote it (never from corrected values), so it is
        the same after a rebuild. Whether this session may review is the caller's to check
        (kzdash.dashboard.access.may_review): this layer has no sessions."""
        name = rv.TABLE_OF.get(kind)
        if name is None:
            raise rv.ReviewError(f"unknown kind {kind!r}")
        original = self.original_row(name, row)
        store = self.review_store(create=True)
        if store is None:
            raise rv.ReviewError("this dashboard has no review store")
        if action == "undo":
            line = store.undo(rv.row_key(kind, original).text, reviewer=reviewer, note=note)
        else:
            source = self.sql("SELECT source FROM articles WHERE article_id = ? LIMIT 1", [original["article_id"]])
            line = store.save(kind, original, action, reviewer=reviewer, correction=correction, note=note,
                              source=None if source.empty else source["source"].iat[0])
        self.apply_reviews()
        return line

    def original_row(self, name: str, row: int) -> dict[str, Any]:
        """Row `row` of table `name` as the build wrote it (before any review)."""
        if name not in REVIEWED or not 0 <= int(row) < len(self._originals[name]):
            raise rv.ReviewError(f"there is no row {row} in {name}")
        return self._rows[name].take(np.array([int(row)]), self.stored_columns(name)).iloc[0].to_dict()

    def current_reviews(self) -> pd.DataFrame:
        """Every current review with its status against this build (applies, needs_look, gone)."""
        if self._status is None:
            self.apply_reviews()
        return self._status

    def review_log_csv(self) -> bytes:
        """The whole review log as CSV (empty log: the header only)."""
        store = self.review_store()
        return store.review_log_csv() if store is not None else rv.log_csv(pd.DataFrame(columns=rv.LOG_COLUMNS))

    def rule_precision(self, *, cues: bool = False) -> pd.DataFrame:
        """Per rule with a review: how often it fired in the whole build, and how many of its rows were
        confirmed, rejected, corrected, or need a look (kzdash.dashboard.reviews.rule_precision)."""
        if self._current is None:
            self.apply_reviews()
        tables = {"articles": pd.DataFrame(columns=["article_id", "source"]), **self._applied}
        out = rv.rule_precision(tables, self._current, cues=cues)
        out.columns.name = None
        out = out[(out[["confirmed", "rejected", "corrected", "needs_look"]].sum(axis=1) > 0).to_numpy()]
        if out.empty:
            return out.reset_index(drop=True)
        fired = []
        for (table, column), rules in out.groupby(["table", "rule_column"])["rule"]:
            counts = self.sql(f'SELECT coalesce(CAST("{column}" AS VARCHAR), \'(none)\') AS rule, count(*) AS n '
                              f"FROM {table} GROUP BY ALL") if not cues else None
            if counts is not None:
                n = dict(zip(counts["rule"], counts["n"], strict=True))
                fired.append(pd.Series([int(n.get(r, 0)) for r in rules], index=rules.index))
        if fired:
            out.loc[pd.concat(fired).index, "fired"] = pd.concat(fired)
        return out.reset_index(drop=True)


def _with_reviews(name: str, orig: pd.DataFrame, reviewed: pd.DataFrame) -> pd.DataFrame:
    """The original index frame with the `review` status of the reviewed rows and their corrected values
    (new columns, never the originals changed in place: an undo starts from them again)."""
    frame = orig.copy(deep=False)
    rows = reviewed.index.to_numpy(dtype=np.int64)
    codes = np.full(len(orig), -1, dtype=np.int8)
    codes[rows] = pd.Categorical(reviewed["review"].astype(object), categories=list(REVIEW_STATES)).codes
    frame["review"] = pd.Categorical.from_codes(codes, categories=list(REVIEW_STATES))
    corrected = reviewed[(reviewed["review"] == "corrected").fillna(False).to_numpy(dtype=bool)]
    if corrected.empty:
        return frame
    place_moved = _changed(corrected, "place_id")
    for col in CORRECTED_INDEX[name]:
        if col not in corrected.columns:
            continue
        changed = _changed(corrected, col) if f"orig_{col}" in corrected.columns else place_moved
        if not changed.any():
            continue
        at = corrected.index.to_numpy(dtype=np.int64)[changed]
        values = corrected[col].to_numpy(dtype=object)[changed]
        column = orig[col].copy()
        if isinstance(column.dtype, pd.CategoricalDtype):
            new = [v for v in dict.fromkeys(values) if not rv._missing(v) and v not in column.cat.categories]
            if new:
                column = column.cat.add_categories(new)
            values = [None if rv._missing(v) else v for v in values]
        elif pd.api.types.is_datetime64_any_dtype(column.dtype):
            values = pd.to_datetime(pd.Series(values, dtype=object).astype("string"), errors="coerce").to_numpy(
                dtype="datetime64[ns]")
        column.iloc[at] = values
        frame[col] = column
    if place_moved.any() and "located" in frame.columns and {"lat", "lon"} <= set(corrected.columns):
        at = corrected.index.to_numpy(dtype=np.int64)[place_moved]
        located = orig["located"].to_numpy(dtype=bool).copy()
        located[at] = (corrected["lat"].notna() & corrected["lon"].notna()).to_numpy(dtype=bool)[place_moved]
        frame["located"] = located
    return frame


def _changed(applied: pd.DataFrame, col: str) -> np.ndarray:
    """Which rows' `col` differs from its extracted value (`orig_<col>`), missing values equal."""
    if col not in applied.columns or f"orig_{col}" not in applied.columns:
        return np.zeros(len(applied), dtype=bool)
    now = rv._as_text(applied[col]).fillna("")
    was = rv._as_text(applied[f"orig_{col}"]).fillna("")
    return (now != was).to_numpy(dtype=bool)


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
                   f.text, f.background, f.confident, rejected=f.rejected, reviewed=f.reviewed)


def unfiltered(f: Filters) -> bool:
    """Whether `f` keeps the whole build (its view state aside): the state every session opens first."""
    return _data_filters(f) == _UNFILTERED


_UNFILTERED = _data_filters(Filters())


def row_mask(ds: Dataset, name: str, f: Filters) -> np.ndarray:
    """Which rows of table `name` the filters keep (uncached; use `Dataset.mask`)."""
    df = ds.table(name)
    keep = _standing_mask(ds, name, f.background, f.rejected).copy()
    if f.start or f.end:
        # one pass: a day in [lo, hi] is one whose distance from lo, read unsigned, is at most hi - lo (NaT,
        # the smallest int64, and days before lo wrap around to huge distances)
        when = ds.days(name, DATE_OF[name])
        lo = int(np.datetime64(f.start, "ns").astype(np.int64)) if f.start else np.iinfo(np.int64).min + 1
        hi = int(np.datetime64(f.end, "ns").astype(np.int64)) if f.end else np.iinfo(np.int64).max
        if hi < lo:
            keep &= False
        else:
            keep &= (when - np.int64(lo)).view(np.uint64) <= np.uint64(hi - lo)
    if f.outlets:
        keep &= ds.has(name, "outlet", f.outlets)
    if f.languages:
        keep &= ds.has(name, "language", f.languages)
    own = OWN[name]
    if "actors" in own and f.actors:
        keep &= (ds.has(name, "actor", f.actors) | ds.has(name, "target", f.actors)) if name == "events" \
            else ds.has(name, "holder", f.actors)
    if "issues" in own and f.issues:
        keep &= ds.has(name, "issue", f.issues)
    if "event_types" in own and f.event_types:
        keep &= ds.has(name, "event_type", f.event_types)
    if "countries" in own and f.countries:
        keep &= ds.has(name, "country", f.countries)
    if "places" in own and f.places:
        keep &= ds.has(name, "place_id", f.places)
    if f.reviewed:
        keep &= ds.codes(name, "review") >= 0 if name in REVIEWED else _reviewed_articles(ds)
    if f.confident and name in ("events", "stances"):
        floor = confidence_floor(name)
        keep &= df["confidence"].fillna(0.0).to_numpy(dtype=float) >= floor
    if f.text:
        found = ds.text_mask(name, f.text)
        if name == "articles":
            found = found.copy()  # an article also matches through what was extracted from it ("Aktau" in Arabic)
            for other in ("events", "places", "stances"):
                rows = ds.table(other)["art"].to_numpy()[ds.text_mask(other, f.text)]
                found[rows[rows >= 0]] = True
        keep &= found
    through = _article_mask(ds, f, own)
    if through is not None:
        art = np.arange(len(df)) if name == "articles" else df["art"].to_numpy()
        keep &= through[art]
    return keep


REJECTED = REVIEW_STATES.index("rejected")


def _standing_mask(ds: Dataset, name: str, background: bool, rejected: bool) -> np.ndarray:
    """The rows that the two switches keep (background mentions and rejected rows), remembered per version
    of the reviews: nearly every filter state has both off, and they cost two passes over the table."""
    def compute() -> np.ndarray:
        n = len(ds.table(name))
        keep = np.ones(n, dtype=bool)
        hidden = ds.table(name)["background"].to_numpy(dtype=bool) if name == "events" and not background else None
        review = ds.codes(name, "review") if name in REVIEWED and not rejected else None
        for rows in chunks(n):  # in place, a chunk at a time: no scratch array as long as the table
            part = keep[rows]
            if hidden is not None:
                part &= ~hidden[rows]
            if review is not None:
                part &= review[rows] != REJECTED
        keep.flags.writeable = False
        return keep
    return ds.memo(f"standing rows:{name}:{background}:{rejected}", compute)


def _reviewed_articles(ds: Dataset) -> np.ndarray:
    """Articles with at least one reviewed row."""
    def compute() -> np.ndarray:
        m = np.zeros(len(ds.articles), dtype=bool)
        for name in REVIEWED:
            art = ds.table(name)["art"].to_numpy()[ds.codes(name, "review") >= 0]
            m[art[art >= 0]] = True
        return m
    return ds.memo("reviewed articles", compute)


def _article_mask(ds: Dataset, f: Filters, own: set[str]) -> np.ndarray | None:
    """Articles that satisfy the filters a table cannot answer itself (None: no such filter)."""
    n = len(ds.articles)
    wanted: list[np.ndarray] = []

    def articles_of(field: str, values: tuple[str, ...], rows_of) -> np.ndarray:
        """The articles with a row that `rows_of()` keeps (remembered per field and values)."""
        def compute() -> np.ndarray:
            m = np.zeros(n, dtype=bool)
            for name, rows in rows_of():
                art = ds.table(name)["art"].to_numpy()[rows]
                m[art[art >= 0]] = True
            m.flags.writeable = False
            return m
        return ds.remember_part(("articles with", field, tuple(sorted(values))), compute)

    if f.issues and "issues" not in own:
        wanted.append(articles_of("issues", f.issues, lambda: [("stances", ds.has("stances", "issue", f.issues))]))
    if f.event_types and "event_types" not in own:
        wanted.append(articles_of("event_types", f.event_types,
                                  lambda: [("events", ds.has("events", "event_type", f.event_types))]))
    if f.places and "places" not in own:
        wanted.append(articles_of("places", f.places, lambda: [("places", ds.has("places", "place_id", f.places))]))
    if f.countries and "countries" not in own:
        wanted.append(articles_of("countries", f.countries,
                                  lambda: [("places", ds.has("places", "country", f.countries))]))
    if f.actors and "actors" not in own:
        wanted.append(articles_of("actors", f.actors, lambda: [
            ("events", ds.has("events", "actor", f.actors) | ds.has("events", "target", f.actors)),
            ("stances", ds.has("stances", "holder", f.actors))]))
    if not wanted:
        return None
    out = wanted[0]
    for m in wanted[1:]:
        out = out & m
    return out


# Rows taken at a time by the passes over whole columns: a pass's scratch arrays (the kept codes, numpy's
# int64 copy of them for bincount) are a few megabytes used again and again, not one array as long as the
# table. On this VM a page of memory the process never used costs tens of microseconds the first time it is
# touched: one ten-million-row pass made 100 MB of fresh scratch and took 0.77 s cold, 0.04 s warm; by
# chunks it takes 0.02 s either way.
CHUNK_ROWS = 1 << 18


def chunks(n: int) -> Iterator[slice]:
    """The CHUNK_ROWS-row slices of an n-row column, in order."""
    step = CHUNK_ROWS
    return (slice(lo, lo + step) for lo in range(0, n, step))


def code_counts(codes: np.ndarray, keep: np.ndarray | None, size: int) -> np.ndarray:
    """How many of the rows `keep` selects (all, for None) have each code 0..size-1 (-1, missing, is not counted).

    Counted a chunk of rows at a time (CHUNK_ROWS); codes of one or two bytes as their unsigned selves (-1
    lands in a last bin that is dropped)."""
    out = np.zeros(size, dtype=np.int64)
    unsigned = {1: np.uint8, 2: np.uint16}.get(codes.dtype.itemsize)
    for rows in chunks(len(codes)):
        picked = codes[rows]
        if keep is not None:
            picked = picked[keep[rows]]
        if unsigned is not None:
            out += np.bincount(picked.view(unsigned), minlength=size)[:size]
        else:
            out += np.bincount(picked[picked >= 0], minlength=size)
    return out


def first_row_per_code(codes: np.ndarray, size: int) -> np.ndarray:
    """Each code's first row (-1 where no row has it); rows whose code is -1 (missing) are nobody's."""
    first = np.full(size + 1, -1, dtype=np.int64)  # the last slot takes the missing ones
    rows = np.arange(len(codes) - 1, -1, -1, dtype=np.int64)
    first[codes[::-1]] = rows  # the last write wins: reversed, that is the first row
    return first[:size]


def filtered(ds: Dataset, name: str, f: Filters, columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of table `name` that the filters keep: every stored column and its review (reviewed
    values in place of the extracted ones), or only `columns`."""
    rows = np.flatnonzero(ds.mask(name, f))
    return ds.fetch(name, rows, columns or [*ds.stored_columns(name), *(REVIEW_COLUMNS if name in REVIEWED else ())])


def count(ds: Dataset, name: str, f: Filters) -> int:
    return int(np.count_nonzero(ds.mask(name, f)))


ROWS_MAPPED = 2000  # rows fetched from a row file before its touched pages are let go (a page view fetches up to 2,000)


class RowFile:
    """A table's rows in a memory-mapped Arrow file: any rows, any columns, without reading the rest."""

    def __init__(self, path: Path) -> None:
        import mmap

        import pyarrow.ipc

        self.path = Path(path)
        with open(self.path, "rb") as source:
            self._map = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
        # A page shows a few thousand rows scattered over gigabytes: without this, every row fetched reads
        # ahead (and keeps mapped) the next 128 kB or so, and the server held 2 GB of a ten-million-event
        # file after a few pages. The file's pages stay in the system's cache either way.
        self._map.madvise(mmap.MADV_RANDOM)
        self._file = pyarrow.ipc.open_file(pa.BufferReader(pa.py_buffer(self._map)))
        self._fetched = 0  # rows taken since the mapped pages were last let go
        self.columns = list(self._file.schema.names)
        self._batches = [self._file.get_batch(i) for i in range(self._file.num_record_batches)]
        self._starts = np.cumsum([0] + [len(b) for b in self._batches])
        self.rows = int(self._starts[-1])
        self._layouts: dict[str, dict | None] = {}
        self._bytes = np.frombuffer(self._map, dtype=np.uint8)  # the whole file, for gathering values
        self._int32 = np.frombuffer(self._map, dtype=np.int32, count=len(self._map) // 4)
        self._int64 = np.frombuffer(self._map, dtype=np.int64, count=len(self._map) // 8)

    def take(self, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
        """`columns` of `rows`, in the order given (a row may repeat).

        Strings and fixed-width values are gathered straight out of the mapped buffers with numpy, for
        all rows at once: asking Arrow to take from each record batch cost about a millisecond per batch,
        and 2,000 rows of ten million fall in 600 batches. Other types are taken batch by batch."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return self._batches[0].select(columns).slice(0, 0).to_pandas() if self._batches else \
                pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
        if rows.min() < 0 or rows.max() >= self.rows:
            raise IndexError(f"{self.path.name}: row out of range")
        batch = np.searchsorted(self._starts, rows, side="right") - 1
        local = rows - self._starts[batch]
        arrays = [self._gather(c, batch, local) if self._layout(c) is not None else self._take_by_batch(c, rows, batch)
                  for c in columns]
        out = pa.Table.from_arrays(arrays, names=list(columns)).to_pandas()  # one conversion for all columns
        self._fetched += len(rows)
        if self._fetched > ROWS_MAPPED:
            self._let_go()
        return out

    def _layout(self, column: str) -> dict | None:
        """Where each batch's buffers of `column` lie in the map (byte positions), or None for a type that
        is taken by Arrow (lists, dictionaries, ...). Remembered per column."""
        if column in self._layouts:
            return self._layouts[column]
        kind = self._file.schema.field(column).type
        strings = pa.types.is_string(kind) or pa.types.is_binary(kind)
        large = pa.types.is_large_string(kind) or pa.types.is_large_binary(kind)
        fixed = not pa.types.is_null(kind) and (pa.types.is_primitive(kind) or pa.types.is_decimal(kind)
                                                 or pa.types.is_fixed_size_binary(kind))
        offset_width = 8 if large else 4 if strings else 0
        layout = None
        if offset_width or fixed:
            base, end = pa.py_buffer(self._map).address, pa.py_buffer(self._map).address + len(self._map)
            parts = [b.column(column) for b in self._batches]

            def at(buf, align: int = 1) -> int:
                """A buffer's byte position in the map (-1: none); ValueError when it is not in the map
                (a compressed file's buffers are decoded into memory) or not aligned for a numpy view."""
                if buf is None:
                    return -1
                if not base <= buf.address <= end or (buf.address - base) % align:
                    raise ValueError(column)
                return buf.address - base

            try:
                if all(part.offset == 0 for part in parts):
                    layout = {"type": kind, "width": 0 if offset_width else kind.bit_width, "offsets": offset_width,
                              "valid": np.array([at(q.buffers()[0]) if q.null_count else -1 for q in parts], np.int64),
                              "data": np.array([at(q.buffers()[-1]) for q in parts], dtype=np.int64),
                              "offs": np.array([at(q.buffers()[1], offset_width) if offset_width else -1
                                                for q in parts], dtype=np.int64)}
            except ValueError:
                layout = None
        self._layouts[column] = layout
        return layout

    def _gather(self, column: str, batch: np.ndarray, local: np.ndarray) -> pa.Array:
        """`column` of the rows (batch, position in it), read from the map with numpy."""
        lay = self._layout(column)
        mem = self._bytes
        n = len(batch)
        valid_at = lay["valid"][batch]
        has_nulls = bool((valid_at >= 0).any())
        validity, nulls = None, 0
        if has_nulls:
            bits = np.ones(n, dtype=bool)
            m = valid_at >= 0
            bits[m] = ((mem[valid_at[m] + (local[m] >> 3)] >> (local[m] & 7)) & 1).astype(bool)
            nulls = int(n - bits.sum())
            validity = pa.py_buffer(np.packbits(bits, bitorder="little"))
        if lay["offsets"]:
            width = lay["offsets"]
            view = self._int64 if width == 8 else self._int32
            index = (lay["offs"][batch] // width) + local
            start = view[index].astype(np.int64) + lay["data"][batch]
            length = view[index + 1].astype(np.int64) - view[index]
            ends = np.cumsum(length)
            total = int(ends[-1]) if n else 0
            data = mem[np.repeat(start - (ends - length), length) + np.arange(total)] if total else \
                np.zeros(0, dtype=np.uint8)
            offsets = np.concatenate([[0], ends]).astype(np.int64 if width == 8 else np.int32)
            return pa.Array.from_buffers(lay["type"], n, [validity, pa.py_buffer(offsets), pa.py_buffer(data)],
                                         null_count=nulls)
        width = lay["width"]
        if width == 1:  # booleans: one bit each
            data_at = lay["data"][batch]
            bits = ((mem[data_at + (local >> 3)] >> (local & 7)) & 1).astype(bool)
            data = np.packbits(bits, bitorder="little")
        else:
            size = width // 8
            start = lay["data"][batch] + local * size
            data = mem[start[:, None] + np.arange(size)].reshape(-1)
        return pa.Array.from_buffers(lay["type"], n, [validity, pa.py_buffer(data)], null_count=nulls)

    def _take_by_batch(self, column: str, rows: np.ndarray, batch: np.ndarray) -> pa.Array:
        order = np.argsort(batch, kind="stable")
        present, first = np.unique(batch[order], return_index=True)
        parts = []
        for b, lo, hi in zip(present, first, [*first[1:], len(rows)], strict=True):
            picked = order[lo:hi]
            parts.append(self._batches[b].column(column).take(pa.array(rows[picked] - self._starts[b])))
        back = np.empty(len(rows), dtype=np.int64)
        back[order] = np.arange(len(rows))
        return pa.chunked_array(parts, type=self._file.schema.field(column).type).combine_chunks().take(
            pa.array(back))

    def _let_go(self) -> None:
        """Unmap the file's pages this process touched (they stay in the system's file cache, and are mapped
        again when read): a fetched row touches a page per column, about 40 kB of the process's resident
        memory for 100 bytes of values, so that a server's memory would otherwise grow with every view."""
        import mmap

        self._fetched = 0
        self._map.madvise(mmap.MADV_DONTNEED)


def _attach(database: Path):
    """A DuckDB instance of its own with the build's file attached read-only as `build`.

    Not `duckdb.connect(path)`: DuckDB keeps one instance per path in a process, so after a rebuild
    swapped a new file in at the same path, a connection by path could still be the old file's."""
    import duckdb

    con = duckdb.connect(":memory:", config={"memory_limit": DUCKDB_MEMORY, "threads": 2})
    con.execute("ATTACH '{}' AS build (READ_ONLY)".format(str(database).replace("'", "''")))
    con.execute("USE build")
    return con


def _read_ahead(folder: Path) -> None:
    """Ask the system to read the index files into its cache now, in the background (they are memory-mapped, so
    the first page would otherwise wait for each page of them as a query first touches it: at ten million events
    830 MB, a second or more from disk after a restart). Where the call does not exist, nothing happens."""
    if not hasattr(os, "posix_fadvise"):
        return
    for path in sorted(folder.iterdir()):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


def _index_frames(folder: Path) -> tuple[dict[str, pd.DataFrame], dict[tuple[str, str], dict[str, np.ndarray]]]:
    """The index columns of every table, from the files `kzdash.pipeline.serving.write_index_arrays` wrote
    (category codes become categoricals without touching a string; dates are int64 nanoseconds).

    Numbers, dates and flags stay memory-mapped (read-only): opening a build of ten million events reads
    only its small category codes, not 770 MB, and pages the server does not touch are never read."""
    meta = json.loads((folder / "index.json").read_text(encoding="utf-8"))["tables"]
    frames, built = {}, {}
    for table in INDEXED:
        rows, data = meta[table]["rows"], {}
        for col in meta[table]["columns"]:
            if "counts" in col and "first" in col:  # per category: its rows and its first row (newer builds)
                built[(table, col["name"])] = {"counts": np.asarray(col["counts"], dtype=np.int64),
                                               "first": np.asarray(col["first"], dtype=np.int64)}
            path = folder / f"{table}.{col['name']}.{col['dtype']}"
            values = np.memmap(path, dtype=col["dtype"], mode="r") if rows else np.zeros(0, dtype=col["dtype"])
            if len(values) != rows:
                raise ValueError(f"{path.name}: {len(values)} values for {rows} rows")
            if "categories" in col:
                # not validated: the check reads every code (every page of the file) before the first page;
                # codes the build wrote are below their category count, and a wrong file is caught by its length
                data[col["name"]] = pd.Categorical.from_codes(values, categories=pd.Index(col["categories"],
                                                                                           dtype=object),
                                                              validate=False)
            elif col.get("datetime"):
                data[col["name"]] = values.view("datetime64[ns]")
            else:
                data[col["name"]] = values
        frames[table] = pd.DataFrame(data, index=pd.RangeIndex(rows), copy=False)  # mapped, not read
    return frames, built
