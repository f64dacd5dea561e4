"""Storage: the contract's Parquet tables plus a DuckDB file, written aside and swapped in.

A build writes everything into a sibling folder first; only when every file is complete does
it replace the previous build, so a failed build never destroys the last good one. The
previous build also serves as the cache for incremental builds: an input whose content and
metadata are unchanged, under unchanged code and data, reuses its rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kzdash.extract.records import ArticleResult, Quarantined
from kzdash.pipeline.happenings import GROUPING_COLUMNS, grouped_ids_of_file, ids_of
from kzdash.pipeline.serving import parquet_files
from kzdash.text.langdata import DATA_DIR

if TYPE_CHECKING:
    from kzdash.extract.records import RawArticle

COLUMNS: dict[str, list[str]] = {
    "articles": ["article_id", "source", "outlet", "language", "language_basis", "published",
                 "published_basis", "title", "url", "text", "stripped", "input_key"],
    "places": ["article_id", "place_id", "name", "kind", "country", "lat", "lon", "start", "end",
               "surface", "rule", "confidence", "outlet", "language"],
    "events": ["event_id", "article_id", "event_type", "date", "date_precision", "date_rule", "actor",
               "target", "place_id", "place_name", "country", "lat", "lon", "summary", "evidence",
               "start", "end", "confidence", "type_rule", "background", "happening_id", "published",
               "outlet", "language"],
    "stances": ["stance_id", "article_id", "holder", "issue", "polarity", "date", "evidence", "start",
                "end", "confidence", "rule", "outlet", "language"],
    "quarantine": ["source", "line", "reason"],
}
FLOATS = {"lat", "lon", "confidence"}
INTS = {"start", "end", "line"}
DATES = {("events", "date"), ("stances", "date")}
TABLES = tuple(COLUMNS)
CODE_DIR = Path(__file__).resolve().parents[1]  # the kzdash package, all its layers


def fingerprint() -> str:
    """Hash of the code and data that shape the rows: a change invalidates reuse."""
    h = hashlib.sha256()
    files = sorted(CODE_DIR.rglob("*.py")) + sorted(DATA_DIR.glob("lang/*/*.yaml")) + sorted(
        DATA_DIR.glob("gazetteer/*")) + [DATA_DIR / "taxonomy.yaml", DATA_DIR / "calibration.yaml",
                                           DATA_DIR / "coverage.yaml"]
    for path in files:
        if path.is_file():
            h.update((str(path.relative_to(CODE_DIR)) if path.is_relative_to(CODE_DIR) else path.name).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def input_key(raw: RawArticle) -> str:
    """What identifies an input for reuse: its text and every metadata field that matters."""
    fields = [raw.source, raw.raw_text, raw.title, raw.url, raw.outlet, raw.published, raw.language]
    return hashlib.sha256("\x1f".join(str(f) for f in fields).encode()).hexdigest()[:20]


def _typed(name: str, df: pd.DataFrame) -> pd.DataFrame:
    for col in df.columns:
        if col in FLOATS:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
        elif col in INTS:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
        elif (name, col) in DATES:
            df[col] = pd.to_datetime(df[col], errors="coerce").dt.date
        elif col == "background":
            df[col] = df[col].astype("boolean")
        else:
            df[col] = df[col].astype("string")
    return df


def tables_from(results: list[ArticleResult]) -> dict[str, pd.DataFrame]:
    """Typed rows of these articles' tables. Happening ids are left to `BuildWriter`: they group
    events across the whole build."""
    names = ("articles", "places", "events", "stances")
    rows: dict[str, list[dict]] = {name: [] for name in names}
    for r in results:
        rows["articles"].append(r.article)
        extra = {"outlet": r.article.get("outlet"), "language": r.article.get("language")}
        rows["places"] += [{**extra, **p} for p in r.places]
        rows["events"] += [{**extra, **e} for e in r.events]
        rows["stances"] += [{**extra, **s} for s in r.stances]
    return {name: _typed(name, pd.DataFrame(rows[name], columns=COLUMNS[name])) for name in names}


def arrow_tables_from(results: list[ArticleResult]) -> dict[str, pa.Table]:
    """`tables_from` as the Arrow tables the Parquet writer takes, made from the rows without pandas: the
    same values, types and schema metadata (what `_typed` and `Table.from_pandas` make), in a tenth of the
    time. A build's batches of new articles go this way."""
    rows: dict[str, list[dict]] = {"articles": [r.article for r in results]}
    for name in ("places", "events", "stances"):
        table_rows: list[dict] = []
        for r in results:
            own = getattr(r, name)
            if all("outlet" in row and "language" in row for row in own):  # as extracted: they carry both
                table_rows += own
            else:  # the article's outlet and language, where a row has none of its own
                extra = {"outlet": r.article.get("outlet"), "language": r.article.get("language")}
                table_rows += [{**extra, **row} for row in own]
        rows[name] = table_rows
    out = {}
    for name, table_rows in rows.items():
        schema = arrow_schema(name)
        arrays = _arrow_columns(name, table_rows, schema)
        # pandas types a date column with no date at all as datetime64, not as dates: the metadata says so
        no_dates = tuple(f.name for f, a in zip(schema, arrays, strict=True)
                         if (name, f.name) in DATES and len(a) and a.null_count == len(a))
        out[name] = pa.Table.from_arrays(arrays, schema=schema.with_metadata(_pandas_metadata(name, no_dates)))
    return out


def _arrow_columns(name: str, rows: list[dict], schema: pa.Schema) -> list[pa.Array]:
    """A table's columns from its rows (dicts; a missing key is a missing value), in one conversion by
    Arrow (a struct array of the rows: Python loops over rows and columns cost ten times as much); dates
    come as text and are parsed as ISO dates. Rows with a value of an unexpected type, or dates in another
    form, take `_arrow_column`'s way, column by column, as before."""
    as_read = pa.struct([pa.field(f.name, pa.large_string() if (name, f.name) in DATES else f.type)
                         for f in schema])
    try:
        struct = pa.array(rows, as_read, from_pandas=True)  # NaN is missing, as in pandas
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return [_arrow_column(name, f.name, [row.get(f.name) for row in rows], f.type) for f in schema]
    arrays = []
    for f, array in zip(schema, struct.flatten(), strict=True):
        if (name, f.name) in DATES:
            try:
                array = pc.cast(array, f.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                array = _arrow_column(name, f.name, array.to_pylist(), f.type)
        arrays.append(array)
    return arrays


def _arrow_column(name: str, col: str, values: list, kind: pa.DataType) -> pa.Array:
    """One column as `_typed` then `Table.from_pandas` make it; values of an unexpected type take that path."""
    try:
        if col in FLOATS:
            return pa.array(values, kind, from_pandas=True)  # NaN is missing, as in pandas
        if (name, col) in DATES:
            return pa.Array.from_pandas(pd.to_datetime(pd.Series(values, dtype=object), errors="coerce").dt.date,
                                        type=kind)
        return pa.array(values, kind)  # strings, integers, booleans: None is missing
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        typed = _typed(name, pd.DataFrame({col: pd.Series(values, dtype=object)}))
        return pa.Array.from_pandas(typed[col], type=kind)


@lru_cache(maxsize=32)
def _pandas_metadata(name: str, no_dates: tuple[str, ...] = ()) -> dict:
    """The schema metadata `Table.from_pandas` gives a table's typed frame: readers of the Parquet files
    restore the pandas types from it. It depends on the columns' types only, which `_typed` fixes but
    for a date column holding no date in a batch (`no_dates`)."""
    if no_dates:
        row = {c: ("2000-01-01" if (name, c) in DATES and c not in no_dates else None) for c in COLUMNS[name]}
        frame = _typed(name, pd.DataFrame([row], columns=COLUMNS[name]))
    else:
        frame = _typed(name, pd.DataFrame(columns=COLUMNS[name]))
    return pa.Table.from_pandas(frame, schema=arrow_schema(name), preserve_index=False).schema.metadata


_THREAD_LOCKS: dict[str, threading.Lock] = {}


@contextlib.contextmanager
def file_lock(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """An exclusive lock on `path` for processes and threads alike; yields whether it was taken
    (always, when blocking). `flock` where the platform has it; elsewhere a lock for this process's
    threads only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no flock
        lock = _THREAD_LOCKS.setdefault(str(path), threading.Lock())
        taken = lock.acquire(blocking=blocking)
        try:
            yield taken
        finally:
            if taken:
                lock.release()
        return
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def build_lock(out_dir: Path) -> Iterator[None]:
    """One writer at a time for a build folder's swap (and for the first-run build).

    Many sessions of one hosted app may open the first page at once: without this, each starts
    the first-run build and their swaps collide."""
    out_dir = Path(out_dir)
    with file_lock(out_dir.parent / f".{out_dir.name}.swap-lock"):
        yield


ROW_GROUP_ROWS = 50_000  # rows per Parquet row group: what a reader holds at once ...
ROW_GROUP_BYTES = 32 * 2**20  # ... and at most about this much (long article texts make big rows)
DUCKDB_MEMORY = "128MB"  # what DuckDB may hold while it copies and indexes the tables (it spills past it): at
# 256 MB its pool filled at 100,000 articles and not at 10,000, and the peak grew with the folder
COPY_MEMORY = "64MB"  # ... but while the events' happenings are grouped beside it (GROUPING_MEMORY): 128 MB in all
GROUPING_MEMORY = "64MB"  # what DuckDB may hold while it sorts the events' grouping columns (it spills past it): at
# 128 MB the sort of 100,000 articles' 660,000 events filled it (not 10,000's), a peak of the build's main process


def arrow_schema(name: str) -> pa.Schema:
    """The Arrow types of a table's columns (as `_typed` makes them), fixed so that every batch of a
    streaming build writes the same schema, whatever nulls it happens to hold."""
    def kind(col: str) -> pa.DataType:
        if col in FLOATS:
            return pa.float64()
        if col in INTS:
            return pa.int64()
        if (name, col) in DATES:
            return pa.date32()
        if col == "background":
            return pa.bool_()
        return pa.large_string()

    return pa.schema([(col, kind(col)) for col in COLUMNS[name]])


PARTITIONED = ("articles", "places", "events", "stances")  # tables written as a folder of month files
UNDATED = "undated"  # the partition of articles with no publication date
EMPTY = "empty"  # the one file of a partitioned table with no rows at all (it holds the columns)
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])"  # a publication date's month, as `published` starts
BUFFER_BYTES = 8 * 2**20  # rows waiting for their partition's next row group, all partitions together ...
FLUSH_BYTES = 2 * 2**20  # ... and one partition's, at most: then they are written as a row group
OPEN_FILES = 64  # partition files of one table open for writing at once (an open Parquet writer holds about
# 0.1 MB); past it the least recently written is closed and its partition goes on in a new part, merged at the
# end: a folder in date order never needs it, nor one of five years in any order; one spanning decades in random
# order opens no thousand files. At 24, 4,000 articles over 37 months wrote 59 of their 148 month files in
# parts, and merging them took 0.25-0.45 s of the build's end


def table_path(build_dir: Path, name: str) -> Path:
    """Where a table of a build lies: `<name>.parquet`, a folder of month files or (older builds) one file."""
    return Path(build_dir) / f"{name}.parquet"


def table_files(build_dir: Path, name: str) -> list[Path]:
    """A table's Parquet files in order: the concatenation of their rows is the table (one file for a
    table not partitioned, or written by an older build; none when it is missing)."""
    path = table_path(build_dir, name)
    return parquet_files(path) if path.exists() else []


def has_build(build_dir: Path) -> bool:
    """Whether a build folder holds tables (its articles table, a file or a folder of months)."""
    return table_path(build_dir, "articles").exists()


def month_key(published: object) -> str:
    """An article's partition: the month its publication date starts with (YYYY-MM), else UNDATED."""
    text = published if isinstance(published, str) else None
    return text[:7] if text is not None and _MONTH.match(text) else UNDATED


_MONTH = re.compile(MONTH)


def partition_keys(articles: pa.Table) -> list[str]:
    """Each article's partition (`month_key`), in order."""
    return [month_key(p) for p in articles["published"].to_pylist()]


def _arrow(name: str, df: pd.DataFrame | pa.Table) -> pa.Table:
    return df if isinstance(df, pa.Table) else pa.Table.from_pandas(
        df[COLUMNS[name]], schema=arrow_schema(name), preserve_index=False)


TEXTS = {"text", "stripped", "title", "url", "summary", "evidence"}  # long strings: no min/max statistics


def _statistics(schema: pa.Schema) -> list[str]:
    """The columns whose row groups carry min/max statistics: not the long texts. Their statistics
    help no reader (nobody filters on a text's range) and weigh kilobytes per row group, held in memory
    by each open writer until its file closes."""
    return [f.name for f in schema if f.name not in TEXTS]


def _rows_per_group(table: pa.Table) -> int:
    return max(1, min(ROW_GROUP_ROWS, ROW_GROUP_BYTES * table.num_rows // max(1, table.nbytes)))


class _Partitions:
    """One table's month files, written in parts: rows wait in a buffer per partition and go out as
    row groups of bounded size (the buffers together bounded too), each partition's into its open part
    file; at most OPEN_FILES are open, and a partition whose file was closed goes on in a new part."""

    def __init__(self, folder: Path, name: str, on_flush=None) -> None:
        self.folder, self.name, self.on_flush = folder, name, on_flush
        self.folder.mkdir(parents=True, exist_ok=True)
        self.buffers: dict[str, list[pa.Table]] = {}
        self.buffered: dict[str, int] = {}
        self.writers: dict[str, pq.ParquetWriter] = {}  # open, least recently written first
        self.parts: dict[str, list[Path]] = {}
        self.rows = 0
        self.metadata = _pandas_metadata(name)  # every file's: a reader's types do not depend on a batch's nulls

    def add(self, key: str, table: pa.Table) -> None:
        if not table.num_rows:
            return
        self.buffers.setdefault(key, []).append(table)
        self.buffered[key] = self.buffered.get(key, 0) + table.nbytes
        self.rows += table.num_rows
        if self.buffered[key] >= FLUSH_BYTES or sum(t.num_rows for t in self.buffers[key]) >= ROW_GROUP_ROWS:
            self.flush(key)

    def bytes(self) -> int:
        return sum(self.buffered.values())

    def flush_largest(self) -> None:
        self.flush(max(self.buffered, key=self.buffered.__getitem__))

    def flush(self, key: str) -> None:
        tables = self.buffers.pop(key, [])
        self.buffered.pop(key, None)
        if not tables:
            return
        table = pa.concat_tables([t.replace_schema_metadata(self.metadata) for t in tables])
        writer = self.writers.pop(key, None)
        if writer is None:
            if len(self.writers) >= OPEN_FILES:
                self.writers.pop(next(iter(self.writers))).close()
            path = self.folder / f"{key}.{len(self.parts.get(key, []))}.parquet"
            self.parts.setdefault(key, []).append(path)
            writer = pq.ParquetWriter(path, table.schema, write_statistics=_statistics(table.schema))
        self.writers[key] = writer  # now the most recently written
        writer.write_table(table, _rows_per_group(table))
        if self.on_flush is not None:
            self.on_flush(key, table)

    def close(self) -> dict[str, list[Path]]:
        """Every buffer written and every file closed: each partition's part files, in order."""
        for key in list(self.buffers):
            self.flush(key)
        for writer in self.writers.values():
            writer.close()
        self.writers = {}
        return self.parts


def _concat_files(parts: list[Path], target: Path, transform=None, *, keep: bool = False) -> None:
    """The rows of `parts` in order as one file (`transform`: rows and their first row's position in the
    whole -> the rows to write); small row groups are joined up to FLUSH_BYTES, so a month written in
    many small flushes is read in few. The parts are removed unless `keep`."""
    if len(parts) == 1 and transform is None and not keep:
        parts[0].replace(target)
        return
    first = pq.ParquetFile(parts[0]).schema_arrow
    offset, waiting, size = 0, [], 0
    with pq.ParquetWriter(target, first, write_statistics=_statistics(first)) as out:
        def write() -> None:
            nonlocal offset, waiting, size
            rows = pa.concat_tables(waiting)
            out.write_table(transform(rows, offset) if transform else rows, _rows_per_group(rows))
            offset, waiting, size = offset + rows.num_rows, [], 0

        for part in parts:
            source = pq.ParquetFile(part)
            for i in range(source.num_row_groups):
                group = source.read_row_group(i).replace_schema_metadata(first.metadata)
                waiting.append(group)
                size += group.nbytes
                if size >= FLUSH_BYTES:
                    write()
            if not keep:
                part.unlink()
        if waiting:
            write()


class BuildWriter:
    """A build written batch by batch into a sibling folder and swapped in at the end, so memory
    holds one batch (and the partitions' bounded buffers), never the corpus.

    The four article tables are folders of month files (`month_key`): an article's rows go to its
    month, in input order. Events get their happening ids at the end: their grouping columns go to a
    file of their own as they are written, are grouped there (the grouping needs all events, but only
    those columns), and each month's events are written again with the ids.

    Incremental: a month whose articles are exactly the previous build's (same inputs, same order,
    none new) is not written at all: its files are linked from the previous build (its events' file
    only when their happening ids come out the same; else it is written again with the new ids)."""

    def __init__(self, out_dir: Path, previous: PreviousBuild | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(dir=self.out_dir.parent, prefix=f".{self.out_dir.name}.building-"))
        self.parts_dir = self.tmp / ".parts"
        self.tables = {name: _Partitions(self.parts_dir / name, name,
                                         self._grouping_rows if name == "events" else None) for name in PARTITIONED}
        self.grouping: pq.ParquetWriter | None = None
        self.grouping_rows = 0
        self.grouping_ranges: dict[str, list[tuple[int, int]]] = {}  # month -> its events' rows there, in order
        self.country_place_ids: set[str] = set()
        self.previous = previous if previous is not None else PreviousBuild()
        self.matched: dict[str, int] = {}  # month -> how many of its previous articles came, unchanged, in order
        self.written: set[str] = set()  # months that are written (not linked)
        self.linked_rows = dict.fromkeys(PARTITIONED, 0)

    def write_articles(self, kept: list[tuple[str, str, ArticleResult | None]]) -> None:
        """A batch's articles in input order: (article id, input key, its new result, or None for an
        article whose rows the previous build has). A month whose articles so far are the previous
        build's, in its order, waits (nothing is read or written for it): if it stays so to the end,
        its files are linked; if not, its waiting articles are written before the month's next ones."""
        previous, by_month = self.previous, {}
        months = []
        for entry in kept:
            aid, _, result = entry
            month = previous.month_of.get(aid) if result is None else month_key(result.article.get("published"))
            months.append(month)
            by_month.setdefault(month, []).append(entry)
        waiting: list[tuple[str, str, None]] = []
        for month, entries in by_month.items():
            if month not in self.written and month in previous.months:
                start = self.matched.get(month, 0)
                keys = [key for _, key, _ in entries]
                if all(r is None for _, _, r in entries) and keys == previous.months[month][start:start + len(keys)]:
                    self.matched[month] = start + len(keys)
                    continue
                waiting += self._waiting(month)
            self.written.add(month)
        # a month's waiting articles before its new ones; the rest in input order, as a worker's rows lie in its parts
        todo = waiting + [entry for entry, month in zip(kept, months, strict=True) if month in self.written]
        if todo:
            self.write(batch_tables(todo, previous))

    def _waiting(self, month: str) -> list[tuple[str, str, None]]:
        """The previous build's articles of `month` that came so far (and wait to be written)."""
        keys = self.previous.months[month][:self.matched.pop(month, 0)]
        return [(self.previous.article_of[key], key, None) for key in keys]

    def _settle_waiting(self) -> list[str]:
        """At the end: the months to link (all their previous articles came); the others' waiting
        articles written (an article of theirs is gone)."""
        linked = []
        for month in list(self.matched):
            if self.matched[month] == len(self.previous.months[month]):
                linked.append(month)
                continue
            waiting = self._waiting(month)
            for i in range(0, len(waiting), 500):
                self.write(batch_tables(waiting[i:i + 500], self.previous))
        return linked

    def _link(self, name: str, month: str) -> None:
        """A month's file of the previous build into this one, unchanged: a hard link (a copy across devices)."""
        source = self.previous.month_file(name, month)
        if source is None:
            return
        target = table_path(self.tmp, name) / source.name
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
        self.linked_rows[name] += pq.ParquetFile(target).metadata.num_rows

    def write(self, tables: dict[str, pd.DataFrame | pa.Table]) -> None:
        """One batch's rows (the contract's columns, typed, as frames or as `arrow_tables_from` makes them;
        happening ids are set at the end), article by article in input order."""
        tables = {name: _arrow(name, tables[name]) for name in PARTITIONED}
        places = tables["places"]
        ids = places.filter(pc.fill_null(pc.equal(places["kind"], "country"), False))["place_id"]
        self.country_place_ids |= set(ids.drop_null().to_pylist())
        articles = tables["articles"]
        keys = pc.dictionary_encode(pa.array(partition_keys(articles), pa.string()))
        months, codes = keys.dictionary.to_pylist(), keys.indices.to_numpy(zero_copy_only=False)
        for name, table in tables.items():
            if not table.num_rows:
                continue
            if name != "articles":  # a row's month is its article's
                codes_of = codes[pc.index_in(table["article_id"], value_set=articles["article_id"]).to_numpy(
                    zero_copy_only=False).astype(np.int64)] if len(months) > 1 else np.zeros(table.num_rows, np.int64)
            else:
                codes_of = codes
            self._add(name, table, months, codes_of)

    def _add(self, name: str, table: pa.Table, months: list[str], codes: np.ndarray) -> None:
        """Rows to their partitions' buffers, in order (a take per month: a buffer never keeps a whole
        batch alive through a slice of it); the largest buffers written while they hold too much."""
        if len(months) == 1:
            self.tables[name].add(months[0], table)
        else:
            order = np.argsort(codes, kind="stable")
            sorted_codes = codes[order]
            bounds = [0, *(np.flatnonzero(np.diff(sorted_codes)) + 1).tolist(), len(codes)]
            for a, b in zip(bounds[:-1], bounds[1:], strict=True):
                self.tables[name].add(months[sorted_codes[a]], table.take(pa.array(order[a:b])))
        while sum(t.bytes() for t in self.tables.values()) > BUFFER_BYTES:
            max(self.tables.values(), key=_Partitions.bytes).flush_largest()

    def _grouping_rows(self, key: str, events: pa.Table) -> None:
        """Events written to a partition: their grouping columns to the grouping file, in the same order."""
        columns = events.select(GROUPING_COLUMNS)
        if self.grouping is None:
            self.grouping = pq.ParquetWriter(self.parts_dir / "grouping.parquet", columns.schema,
                                             write_statistics=False)
        self.grouping.write_table(columns, ROW_GROUP_ROWS)
        self.grouping_ranges.setdefault(key, []).append((self.grouping_rows, columns.num_rows))
        self.grouping_rows += columns.num_rows

    def finish(self, quarantined: list[Quarantined], info: dict) -> dict[str, int]:
        """Happening ids, the month files, the quarantine table, the DuckDB file and build.json; then the
        swap. Returns the row count of every table."""
        try:
            release_freed()  # what reading and extracting freed, before the months and the grouping
            linked = self._settle_waiting()
            for month in linked:  # their events join the grouping; their country places count
                self._previous_events(month)
                places = self.previous.month_file("places", month)
                if places is not None:
                    rows = pq.read_table(places, columns=["place_id", "kind"])
                    rows = rows.filter(pc.fill_null(pc.equal(rows["kind"], "country"), False))
                    self.country_place_ids |= set(rows["place_id"].drop_null().to_pylist())
            parts = {name: t.close() for name, t in self.tables.items()}
            release_freed()  # what the batches freed, before the grouping and DuckDB's share
            # the events' happenings are grouped (mostly Python) while the other tables' month files are made
            # and DuckDB copies them
            with ThreadPoolExecutor(1) as pool:
                events = pool.submit(self._events_with_happenings, parts["events"], linked)
                for name in ("articles", "places", "stances"):
                    self._months(name, parts[name], linked=linked)
                q = pd.DataFrame([{"source": x.source, "line": x.line, "reason": x.reason} for x in quarantined],
                                 columns=COLUMNS["quarantine"])
                _typed("quarantine", q).to_parquet(self.tmp / "quarantine.parquet", index=False)
                _write_duckdb(self.tmp, events_ready=events.result)
                events.result()
            shutil.rmtree(self.parts_dir, ignore_errors=True)
            rows = {name: t.rows + self.linked_rows[name] for name, t in self.tables.items()} | {"quarantine": len(q)}
            meta = {**info, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "rows": rows,
                    "linked_months": len(linked)}
            (self.tmp / "build.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        except BaseException:
            self.abandon()
            raise
        _swap(self.tmp, self.out_dir)
        return rows

    def _previous_events(self, month: str) -> None:
        """A linked month's events (the previous build's) into the grouping file."""
        source = self.previous.month_file("events", month)
        if source is None:
            return
        pf = pq.ParquetFile(source)
        for i in range(pf.num_row_groups):
            self._grouping_rows(month, pf.read_row_group(i, columns=GROUPING_COLUMNS))

    def abandon(self) -> None:
        for t in self.tables.values():
            with contextlib.suppress(Exception):
                t.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _months(self, name: str, parts: dict[str, list[Path]], transform=None, linked: list[str] = ()) -> None:
        """A table's folder: each month's parts as one file, the linked months' files from the previous
        build (an empty file when the table has no rows)."""
        folder = table_path(self.tmp, name)
        folder.mkdir(exist_ok=True)
        for key, files in sorted(parts.items()):
            _concat_files(files, folder / f"{key}.parquet", transform(key) if transform else None)
        for month in linked:
            self._link(name, month)
        if not any(folder.iterdir()):
            _typed(name, pd.DataFrame(columns=COLUMNS[name])).to_parquet(folder / f"{EMPTY}.parquet", index=False)

    def _events_with_happenings(self, parts: dict[str, list[Path]], linked: list[str]) -> None:
        """Group the events' grouping columns, and write each month's events again with their ids; a
        linked month's events file is linked when its ids are the same, else written again with them."""
        if self.grouping is None:
            self._months("events", parts, linked=linked)
            return
        self.grouping.close()
        spill = self.parts_dir / "grouping.tmp"
        grouped = grouped_ids_of_file(self.parts_dir / "grouping.parquet", self.country_place_ids, spill=spill,
                                      memory=GROUPING_MEMORY)
        shutil.rmtree(spill, ignore_errors=True)

        def transform(key: str):
            mine = np.concatenate([grouped[start:start + n] for start, n in self.grouping_ranges[key]])

            def with_ids(group: pa.Table, offset: int) -> pa.Table:
                ids = ids_of(mine[offset:offset + group.num_rows], group.column("event_id").to_pylist())
                column = group.schema.get_field_index("happening_id")
                return group.set_column(column, "happening_id", pa.array(ids, pa.large_string()))
            return with_ids

        same = []
        folder = table_path(self.tmp, "events")
        folder.mkdir(exist_ok=True)
        for month in linked:
            source = self.previous.month_file("events", month)
            if source is None:
                continue
            old = pq.read_table(source, columns=["event_id", "happening_id"])
            new = ids_of(np.concatenate([grouped[a:a + n] for a, n in self.grouping_ranges[month]]),
                         old.column("event_id").to_pylist())
            if new == old.column("happening_id").to_pylist():
                same.append(month)
            else:
                _concat_files([source], folder / source.name, transform(month), keep=True)
                self.linked_rows["events"] += old.num_rows
        self._months("events", parts, transform, linked=same)


class PreviousBuild:
    """The last build as a cache for an incremental one: which inputs it holds (by input key), and
    their rows, read from its files a row group at a time (an article's rows are contiguous)."""

    TABLES = PARTITIONED

    def __init__(self, out_dir: Path | None = None, current_fingerprint: str | None = None) -> None:
        self.dir = Path(out_dir) if out_dir is not None else None
        self.article_of: dict[str, str] = {}
        self.files: dict[str, list[Path]] = {name: [] for name in self.TABLES}
        self.spans: dict[str, dict[str, tuple[int, int, int]]] = {name: {} for name in self.TABLES}  # file, rows
        self._groups: dict[str, tuple[tuple[int, int], pd.DataFrame]] = {}
        self._notes: dict[str, list[str]] = {}
        self.months: dict[str, list[str]] = {}  # month -> its articles' input keys, in order (month folders only)
        self.month_of: dict[str, str] = {}  # article id -> its month
        if self.dir is None:
            return
        try:
            info = json.loads((self.dir / "build.json").read_text(encoding="utf-8"))
            if info.get("fingerprint") != current_fingerprint:
                return
            keys = [pq.read_table(f, columns=["input_key", "article_id"]) for f in table_files(self.dir, "articles")]
            for name in self.TABLES:
                self.files[name] = table_files(self.dir, name)
                for i, path in enumerate(self.files[name]):
                    ids = pq.read_table(path, columns=["article_id"]).column(0).to_pylist()
                    self.spans[name].update({aid: (i, a, b) for aid, (a, b) in _runs(ids).items()})
        except Exception:  # noqa: BLE001 - an unreadable previous build is simply not reused
            self.spans = {name: {} for name in self.TABLES}
            return
        monthly = table_path(self.dir, "articles").is_dir()
        for path, table in zip(self.files["articles"], keys, strict=True):
            inputs, ids = table.column(0).to_pylist(), table.column(1).to_pylist()
            self.article_of.update(zip(inputs, ids, strict=True))
            if monthly and ids and path.stem != EMPTY:
                self.months[path.stem] = inputs
                self.month_of.update(dict.fromkeys(ids, path.stem))
        from kzdash.extract.article import CAPPED  # here: the dashboard reads builds without the extractors

        with contextlib.suppress(Exception):  # notes are a courtesy: a build without them reuses all the same
            q = pd.read_parquet(self.dir / "quarantine.parquet")
            for source, reason in zip(q["source"].astype(str), q["reason"].astype(str), strict=True):
                if reason.startswith(CAPPED):
                    self._notes.setdefault(source, []).append(reason)

    def article_id(self, key: str) -> str | None:
        return self.article_of.get(key)

    def month_file(self, name: str, month: str) -> Path | None:
        """The previous build's file of table `name` for `month`, if it has one."""
        path = table_path(self.dir, name) / f"{month}.parquet" if self.dir is not None else None
        return path if path is not None and path.is_file() else None

    def notes(self, source: str) -> list[str]:
        """The caps noted for an input when it was built (kept with its reused rows)."""
        return self._notes.get(source, [])

    def rows(self, name: str, article_ids: list[str]) -> pd.DataFrame:
        """The rows of these articles in table `name`, article by article in the given order."""
        parts = []
        for aid in article_ids:
            span = self.spans[name].get(aid)
            if span is not None:
                parts.append(self._slice(name, *span))
        if not parts:
            return pd.DataFrame(columns=COLUMNS[name])
        return pd.concat(parts, ignore_index=True)

    def _slice(self, name: str, file: int, start: int, stop: int) -> pd.DataFrame:
        pf = pq.ParquetFile(self.files[name][file])
        out, first = [], 0
        for i in range(pf.num_row_groups):
            n = pf.metadata.row_group(i).num_rows
            if first < stop and start < first + n:
                cached = self._groups.get(name)
                if cached is None or cached[0] != (file, i):  # one row group per table held at a time
                    cached = ((file, i), pf.read_row_group(i).to_pandas())
                    self._groups[name] = cached
                out.append(cached[1].iloc[max(start, first) - first:min(stop, first + n) - first])
            first += n
        return pd.concat(out, ignore_index=True) if len(out) > 1 else out[0].reset_index(drop=True)


@dataclass
class Written:
    """An article extracted by a worker, its rows made into Arrow tables there (`write_parts`, `rows_of_task`):
    what the build needs of it, without its rows (they stay in their task's tables until its month files take
    them)."""

    article: dict  # article_id, source, published, input_key
    notes: list[str] = field(default_factory=list)
    parts: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # table -> (part, first row, rows)
    tables: dict[str, pa.Table] | None = None  # the parts themselves, when they came in memory (else files)


def write_parts(outcomes: list[ArticleResult | Quarantined], keys: list[str], folder: Path,
                task: str) -> list[Written | Quarantined]:
    """One task's articles (their input keys beside them) as a part file per table in `folder`
    (`<task>.<table>.arrow`, rows article by article in order), and a small summary per article."""
    tables = _task_tables(outcomes, keys)
    paths = {}
    for name, table in tables.items():
        if table.num_rows:  # Arrow IPC, not Parquet: a part is read once, soon, by the client (no encoding)
            paths[name] = str(Path(folder) / f"{task}.{name}.arrow")
            with pa.OSFile(paths[name], "wb") as sink, pa.ipc.new_file(sink, table.schema) as out:
                out.write_table(table)
    return _summaries(outcomes, paths)


def rows_of_task(outcomes: list[ArticleResult | Quarantined], keys: list[str],
                 task: str) -> list[Written | Quarantined]:
    """`write_parts` without files: the task's tables travel with its summaries (one copy for them all).

    Why: a process pool sends results back pickled; the rows as Python dicts cost the worker a pickle and
    the build's main process an unpickle and an Arrow conversion per row (0.2 ms an article, on the core
    the other worker needs), as Arrow tables a copy of their buffers."""
    tables = {name: table for name, table in _task_tables(outcomes, keys).items() if table.num_rows}
    return _summaries(outcomes, dict.fromkeys(tables, task), tables)


def _task_tables(outcomes: list[ArticleResult | Quarantined], keys: list[str]) -> dict[str, pa.Table]:
    results = []
    for outcome, key in zip(outcomes, keys, strict=True):
        if isinstance(outcome, ArticleResult):
            outcome.article["input_key"] = key
            results.append(outcome)
    return arrow_tables_from(results)


def _summaries(outcomes: list[ArticleResult | Quarantined], parts: dict[str, str],
               tables: dict[str, pa.Table] | None = None) -> list[Written | Quarantined]:
    """A summary per article: where its rows are in its task's part of each table (`parts`: table -> part)."""
    first = dict.fromkeys(PARTITIONED, 0)
    out: list[Written | Quarantined] = []
    for outcome in outcomes:
        if not isinstance(outcome, ArticleResult):
            out.append(outcome)
            continue
        counts = {"articles": 1, "places": len(outcome.places), "events": len(outcome.events),
                  "stances": len(outcome.stances)}
        mine = {name: (parts[name], first[name], n) for name, n in counts.items() if n}
        for name, n in counts.items():
            first[name] += n
        summary = {c: outcome.article.get(c) for c in ("article_id", "source", "published", "input_key")}
        out.append(Written(summary, list(outcome.notes), mine, tables))
    return out


def remove_parts(kept: list[tuple]) -> None:
    """Delete the part files of these articles' `Written` summaries (the last item of each tuple)."""
    for path in {part[0] for entry in kept if isinstance(entry[-1], Written) and entry[-1].tables is None
                 for part in entry[-1].parts.values()}:
        Path(path).unlink(missing_ok=True)


def _written_tables(written: list[Written]) -> dict[str, pa.Table]:
    """The rows of written articles, in their order, from their tasks' parts (the tables they came with, or their
    part files): each table's parts joined once, and its rows taken in the articles' order by one `take` when that
    order is not the parts' own (a duplicate left out, articles in another order).

    Why not a slice per run of adjacent rows: articles in another order (grouped by month: a task's 100 span 17
    months in the benchmark) made a one-row piece per article, and joining 4,000 pieces a table cost the build's
    process 0.2 ms an article."""
    out = {}
    for name in PARTITIONED:
        first_row: dict[str, int] = {}  # a part -> its first row among the joined parts
        parts: list[pa.Table] = []
        joined_rows = 0
        starts, counts = [], []
        for w in written:
            part = w.parts.get(name)
            if part is None:
                continue
            key, first, n = part
            if key not in first_row:
                if w.tables is not None:
                    rows = w.tables[name]
                else:
                    with pa.OSFile(key, "rb") as source:
                        rows = pa.ipc.open_file(source).read_all()
                first_row[key] = joined_rows
                joined_rows += rows.num_rows
                parts.append(rows.replace_schema_metadata(_pandas_metadata(name)))
            starts.append(first_row[key] + first)
            counts.append(n)
        if not parts:
            out[name] = arrow_tables_from([])[name]
            continue
        # one chunk: the lookups, takes and Parquet writes that follow cost several times more on many small ones
        joined = pa.concat_tables(parts).combine_chunks()
        order = _row_ranges(np.array(starts, np.int64), np.array(counts, np.int64))
        in_order = len(order) == joined.num_rows and bool((order == np.arange(len(order))).all())
        out[name] = joined if in_order else joined.take(pa.array(order))
    return out


def _row_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The row numbers start, start+1, ... (count of them) of each range, one range after another."""
    before = np.cumsum(counts) - counts  # where each range begins in the output
    return np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(starts - before, counts)


def batch_tables(kept: list[tuple[str, str, ArticleResult | Written | None]],
                 previous: PreviousBuild) -> dict[str, pd.DataFrame | pa.Table]:
    """Articles' rows, article by article in the given order: new ones as extracted (or as a worker
    wrote them), unchanged ones as the previous build has them (without those, no pandas)."""
    new = [result for _, _, result in kept if result is not None]
    written = [r for r in new if isinstance(r, Written)]
    if written and len(written) != len(new):
        raise ValueError("a batch's new articles are all extracted here or all written by workers")
    reused_ids = [aid for aid, _, result in kept if result is None]
    fresh_arrow = _written_tables(written) if written else arrow_tables_from(new)
    if not reused_ids:
        return fresh_arrow
    fresh = {name: t.to_pandas() for name, t in fresh_arrow.items()}
    position = {aid: i for i, (aid, _, _) in enumerate(kept)}
    out = {}
    for name in PARTITIONED:
        old = previous.rows(name, reused_ids)
        both = pd.concat([df for df in (fresh[name], old) if len(df)], ignore_index=True) \
            if len(fresh[name]) or len(old) else fresh[name]
        if len(both):
            rank = both["article_id"].map(position)
            both = both.iloc[rank.argsort(kind="stable")].reset_index(drop=True)
        out[name] = both
    return out


def _runs(ids: list[str]) -> dict[str, tuple[int, int]]:
    """Each article id's [start, stop) rows, for a table whose rows come article by article."""
    spans: dict[str, tuple[int, int]] = {}
    start = 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or ids[i] != ids[start]:
            spans[ids[start]] = (start, i)
            start = i
    return spans


def release_freed() -> None:
    """Hand freed memory back to the system: Arrow's pool, and the C heap's free pages (glibc's malloc_trim).
    Why: a build frees the texts of every batch it read (kilobytes each, from the C heap) and keeps little;
    the pages stay counted in the process's memory until trimmed, more of them the more articles it read,
    under the peak of the DuckDB work that follows."""
    pa.default_memory_pool().release_unused()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to trim this way


def _swap(tmp: Path, out_dir: Path) -> None:
    """Replace `out_dir` with the complete folder `tmp` (one writer at a time)."""
    with build_lock(out_dir):
        old = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.previous-"))
        if out_dir.exists():
            out_dir.replace(old / "build")
        tmp.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _write_duckdb(folder: Path, events_ready: Callable[[], object] | None = None) -> None:
    """A DuckDB file holding the tables, for SQL and for the dashboard's queries (`serving`); the events
    table is read once `events_ready()` returns."""
    from kzdash.pipeline.serving import write_serving

    write_serving(folder, memory=DUCKDB_MEMORY, events_ready=events_ready, memory_meanwhile=COPY_MEMORY)


def read_table(build_dir: Path, name: str) -> pd.DataFrame:
    """A table of a build, whole (its month files in order), or an empty one with its columns."""
    files = table_files(build_dir, name)
    if not files:
        return pd.DataFrame(columns=COLUMNS[name])
    return pd.read_parquet(files[0]) if len(files) == 1 else pd.read_parquet(table_path(build_dir, name))
