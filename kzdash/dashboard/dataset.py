"""The built tables made ready for fast filtering, and `Filters` turned into row masks.

A build's DuckDB file (`kzdash.pipeline.serving`) holds every table and, beside each, an index
table of the columns filters and counts need: categorical codes (missing outlets and languages
already given a visible name), dates, flags, and the row of each row's article, so that a filter on
one table can restrict another through the articles ("stances in articles that mention Aktau").
The dataset holds only those index columns in memory (about 45 bytes per event) and asks DuckDB
for the text of the rows a page shows (`fetch`), with parameters, never with user text in SQL.
A filter on a field a table has applies to its rows; a filter on a field it lacks applies to its
articles. Masks are kept for the last few filter states, so the queries of one page share them.
Nothing here imports Streamlit.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from kzdash.dashboard.filters import Filters
from kzdash.dashboard.textsearch import TextIndex, search
from kzdash.dashboard.vocab import confidence_floor
from kzdash.pipeline.serving import (
    INDEX_DIR,
    ROW_FILE,
    SEARCHED,
    SERVING_VERSION,
    serving_version,
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
DUCKDB_MEMORY = "512MB"  # what DuckDB may cache of the tables' text; the index columns live in numpy
INDEXED = ("articles", "events", "places", "stances")
# Index columns that differ from the stored ones (a missing outlet named, dates as datetime64): fetch
# returns these as filters see them; every other column as the build stored it.
PREPARED = {"outlet", "language", "event_type", "background", "date", "published"}


@dataclass
class Dataset:
    articles: pd.DataFrame  # the index columns of each table (kzdash.pipeline.serving.INDEX_SQL), row order
    events: pd.DataFrame
    places: pd.DataFrame
    stances: pd.DataFrame
    quarantine: pd.DataFrame
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
    _views_bytes: int = field(default=0, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def open(cls, build_dir: str | Path, info: dict | None = None, *, cache_dir: Path | None = None) -> Dataset:
        """The dataset of a build folder. A build made before the index tables existed is indexed into a
        file of `cache_dir` (default: the system's temporary folder), never into the build itself."""

        build_dir = Path(build_dir)
        if info is None:
            meta = build_dir / "build.json"
            info = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}
        database = build_dir / "kzdash.duckdb"
        keep = None
        con = _attach(database) if database.is_file() else None
        rows_there = (database.parent / INDEX_DIR / "index.json").is_file() and all(
            (database.parent / ROW_FILE.format(name)).is_file() for name in INDEXED) and all(
            word_files(database.parent, t, c)["meta"].is_file() for t, cols in SEARCHED.items() for c in cols)
        if con is None or serving_version(con) != SERVING_VERSION or not rows_there:
            if con is not None:
                con.close()
            keep = tempfile.TemporaryDirectory(prefix="kzdash-serving-", dir=cache_dir)
            database = write_serving(build_dir, Path(keep.name) / "kzdash.duckdb")
            con = _attach(database)
        frames = _index_frames(database.parent / INDEX_DIR)
        quarantine = con.execute("SELECT * EXCLUDE (row) FROM quarantine ORDER BY row").df()
        row_files = {name: RowFile(database.parent / ROW_FILE.format(name)) for name in INDEXED}
        return cls(frames["articles"], frames["events"], frames["places"], frames["stances"], quarantine,
                   dict(info), database, row_files, _con=con, _keep=keep)

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

    def cursor(self):
        """This thread's DuckDB cursor (one connection may not be used by two threads at once)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = self._con.cursor()
            cur.execute("USE build")
        return cur

    def sql(self, query: str, params: list | dict | None = None) -> pd.DataFrame:
        """A query's answer as a DataFrame; values always travel as parameters."""
        return self.cursor().execute(query, params or []).df()

    def fetch(self, name: str, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
        """Columns of table `name` for `rows`, in that order: index columns from memory (missing outlets and
        languages named, as filters see them), the rest from the table's memory-mapped row file."""
        rows = np.asarray(rows, dtype=np.int64)
        frame, row_file = self.table(name), self._rows[name]
        mine = [c for c in columns if c in frame.columns and (c in PREPARED or c not in row_file.columns)]
        out = pd.DataFrame({c: frame[c].to_numpy()[rows] if not isinstance(frame[c].dtype, pd.CategoricalDtype)
                            else frame[c].array.take(rows) for c in mine}, index=pd.RangeIndex(len(rows)))
        stored = [c for c in columns if c not in mine]
        if stored:
            got = self._rows[name].take(rows, stored)
            for c in stored:
                out[c] = got[c]
        return out[columns]

    def stored_columns(self, name: str) -> list[str]:
        """The table's columns as the build wrote them (the contract's, and any extra)."""
        return self._rows[name].columns

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
        """Category codes of a categorical column (-1 for missing), as a plain array; a happening's is its number."""
        if col == "happening_id":
            return self.memo(f"codes:{name}:hap", lambda: self.table(name)["hap"].to_numpy(dtype=np.int64))
        return self.memo(f"codes:{name}:{col}", lambda: self.table(name)[col].cat.codes.to_numpy())

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
        wanted = np.zeros(self.size(name, col) + 1, dtype=bool)  # the last slot is for missing values (-1)
        found = self.table(name)[col].cat.categories.get_indexer(list(values))
        wanted[found[found >= 0]] = True
        return wanted[self.codes(name, col)]

    def days(self, name: str, col: str) -> np.ndarray:
        """A date column as int64 nanoseconds (NaT is the smallest int64), for sorting and bucketing."""
        return self.memo(f"days:{name}:{col}", lambda: self.table(name)[col].to_numpy(dtype="datetime64[ns]")
                         .astype(np.int64))

    def text_mask(self, name: str, query: str) -> np.ndarray:
        indexes = [self.text_index(name, col) for col in SEARCHED[name]]
        return search(indexes, query, len(self.table(name)))

    def text_index(self, name: str, col: str) -> TextIndex:
        """The word index of a column, as the build wrote it beside the DuckDB file (memory-mapped)."""
        with self._lock:
            if (name, col) not in self._indexes:
                self._indexes[(name, col)] = TextIndex.open(word_files(self.database.parent, name, col))
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
            self._masks_bytes = 0
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
                return self._masks[key][0]
        value = compute(key[1])
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
        wanted.append(articles_of(ds.stances, ds.has("stances", "issue", f.issues)))
    if f.event_types and "event_types" not in own:
        wanted.append(articles_of(ds.events, ds.has("events", "event_type", f.event_types)))
    if f.places and "places" not in own:
        wanted.append(articles_of(ds.places, ds.has("places", "place_id", f.places)))
    if f.countries and "countries" not in own:
        wanted.append(articles_of(ds.places, ds.has("places", "country", f.countries)))
    if f.actors and "actors" not in own:
        ev = ds.has("events", "actor", f.actors) | ds.has("events", "target", f.actors)
        wanted.append(articles_of(ds.events, ev) | articles_of(ds.stances, ds.has("stances", "holder", f.actors)))
    if not wanted:
        return None
    out = wanted[0]
    for m in wanted[1:]:
        out = out & m
    return out


def filtered(ds: Dataset, name: str, f: Filters, columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of table `name` that the filters keep: every stored column, or only `columns`."""
    rows = np.flatnonzero(ds.mask(name, f))
    return ds.fetch(name, rows, columns or ds.stored_columns(name))


def count(ds: Dataset, name: str, f: Filters) -> int:
    return int(np.count_nonzero(ds.mask(name, f)))


class RowFile:
    """A table's rows in a memory-mapped Arrow file: any rows, any columns, without reading the rest."""

    def __init__(self, path: Path) -> None:
        import pyarrow.ipc

        self.path = Path(path)
        self._file = pyarrow.ipc.open_file(pa.memory_map(str(path)))
        self.columns = list(self._file.schema.names)
        self._batches = [self._file.get_batch(i) for i in range(self._file.num_record_batches)]
        self._starts = np.cumsum([0] + [len(b) for b in self._batches])
        self.rows = int(self._starts[-1])

    def take(self, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
        """`columns` of `rows`, in the order given (a row may repeat)."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return self._batches[0].select(columns).slice(0, 0).to_pandas() if self._batches else \
                pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
        if rows.min() < 0 or rows.max() >= self.rows:
            raise IndexError(f"{self.path.name}: row out of range")
        batch = np.searchsorted(self._starts, rows, side="right") - 1
        order = np.argsort(batch, kind="stable")
        present, first = np.unique(batch[order], return_index=True)
        parts = []
        for b, lo, hi in zip(present, first, [*first[1:], len(rows)], strict=True):
            picked = order[lo:hi]
            parts.append(self._batches[b].select(columns).take(pa.array(rows[picked] - self._starts[b])))
        back = np.empty(len(rows), dtype=np.int64)
        back[order] = np.arange(len(rows))
        got = pa.Table.from_batches(parts)
        return got.take(pa.array(back)).to_pandas()  # one conversion: per batch it costs 1-2 ms each


def _attach(database: Path):
    """A DuckDB instance of its own with the build's file attached read-only as `build`.

    Not `duckdb.connect(path)`: DuckDB keeps one instance per path in a process, so after a rebuild
    swapped a new file in at the same path, a connection by path could still be the old file's."""
    import duckdb

    con = duckdb.connect(":memory:", config={"memory_limit": DUCKDB_MEMORY, "threads": 2})
    con.execute("ATTACH '{}' AS build (READ_ONLY)".format(str(database).replace("'", "''")))
    con.execute("USE build")
    return con


def _index_frames(folder: Path) -> dict[str, pd.DataFrame]:
    """The index columns of every table, from the files `kzdash.pipeline.serving.write_index_arrays` wrote
    (category codes become categoricals without touching a string; dates are int64 nanoseconds)."""
    meta = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    frames = {}
    for table in INDEXED:
        rows, data = meta[table]["rows"], {}
        for col in meta[table]["columns"]:
            path = folder / f"{table}.{col['name']}.{col['dtype']}"
            values = np.fromfile(path, dtype=col["dtype"]) if rows else np.zeros(0, dtype=col["dtype"])
            if len(values) != rows:
                raise ValueError(f"{path.name}: {len(values)} values for {rows} rows")
            if "categories" in col:
                data[col["name"]] = pd.Categorical.from_codes(values, categories=pd.Index(col["categories"],
                                                                                           dtype=object))
            elif col.get("datetime"):
                data[col["name"]] = values.view("datetime64[ns]")
            else:
                data[col["name"]] = values
        frames[table] = pd.DataFrame(data, index=pd.RangeIndex(rows))
    return frames
