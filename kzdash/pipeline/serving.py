"""The dashboard's copy of a build: the tables in DuckDB, plus the small coded columns pages filter on.

The contract's Parquet tables are for people and the scorer; the dashboard asks DuckDB. Each table in
`kzdash.duckdb` keeps its Parquet row number (`row`) and every column but the article texts (LEFT_OUT),
and beside it an index table (`idx_<name>`)
holds only what filters and counts need: ENUM codes (one dictionary per kind of value, shared by
the tables, so a place code means the same place in events and in mentions), dates, flags, and the
row number of the article (`art`) and of the happening (`hap`). The dashboard maps those columns'
files (about 45 bytes per event) and fetches text (evidence, summaries, article texts) from the row
files by row number, only for the rows a page shows; orders sorted once here (STORED_ORDERS) spare it
sorting ten million rows.

Why not SQL for the counts too: on this 2-core machine a DuckDB `GROUP BY` over a million events'
happenings takes 100-180 ms (about 1.5 s at ten million), while `numpy.bincount` over the same
codes takes a few milliseconds; the happening and outlet counts behind every page are of that kind.
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

SERVING_VERSION = 4  # bump when the index tables change: older builds are re-indexed when opened
UNTYPED = "OTHER"  # event_type of an event whose kind the engine could not tell
UNKNOWN_OUTLET = "(unknown outlet)"
UNKNOWN_LANGUAGE = "und"
TABLES = ("articles", "events", "places", "stances", "quarantine")

# ENUM type -> the (table, column) values it holds
DICTIONARIES: dict[str, list[tuple[str, str]]] = {
    "outlet_t": [(t, "outlet") for t in ("articles", "events", "places", "stances")],
    "language_t": [(t, "language") for t in ("articles", "events", "places", "stances")],
    "actor_t": [("events", "actor"), ("events", "target"), ("stances", "holder")],
    "place_t": [("events", "place_id"), ("places", "place_id")],
    "country_t": [("events", "country"), ("places", "country")],
    "event_type_t": [("events", "event_type")],
    "precision_t": [("events", "date_precision")],
    "kind_t": [("places", "kind")],
    "issue_t": [("stances", "issue")],
    "polarity_t": [("stances", "polarity")],
}
_FILLED = {  # the visible name of a missing value (an outlet nobody named is still a row of the matrix)
    "outlet": f"'{UNKNOWN_OUTLET}'", "language": f"'{UNKNOWN_LANGUAGE}'", "event_type": f"'{UNTYPED}'",
}


def _filled(col: str, alias: str = "t") -> str:
    value = f"{alias}.{col}"
    return f"coalesce(nullif({value}, ''), {_FILLED[col]})" if col in _FILLED else value


def _enum(col: str, enum: str, alias: str = "t") -> str:
    return f"{_filled(col, alias)}::{enum}"


def _stamp(expr: str) -> str:
    """An ISO date (or date-time) string or a DATE, as a TIMESTAMP (null when it is not one)."""
    return f"try_cast(left(CAST({expr} AS VARCHAR), 10) AS DATE)::TIMESTAMP"


INDEX_SQL = {
    "articles": f"""SELECT t.row, {_enum('outlet', 'outlet_t')} AS outlet,
        {_enum('language', 'language_t')} AS language, {_stamp('t.published')} AS published
        FROM articles t ORDER BY t.row""",
    "events": f"""SELECT t.row, coalesce(a.row, -1)::INTEGER AS art,
        coalesce(h.hap, (SELECT count(*) FROM happening_numbers) + t.row)::INTEGER AS hap,
        {_enum('event_type', 'event_type_t')} AS event_type,
        {_enum('actor', 'actor_t')} AS actor, {_enum('target', 'actor_t')} AS target,
        {_enum('place_id', 'place_t')} AS place_id, {_enum('country', 'country_t')} AS country,
        {_enum('outlet', 'outlet_t')} AS outlet, {_enum('language', 'language_t')} AS language,
        {_enum('date_precision', 'precision_t')} AS date_precision, {_stamp('t.date')} AS date,
        {_stamp('t.published')} AS published, coalesce(t.background, false) AS background,
        (t.lat IS NOT NULL AND t.lon IS NOT NULL) AS located, t.confidence
        FROM events t LEFT JOIN articles a USING (article_id) LEFT JOIN happening_numbers h USING (happening_id)
        ORDER BY t.row""",
    "places": f"""SELECT t.row, coalesce(a.row, -1)::INTEGER AS art, {_enum('place_id', 'place_t')} AS place_id,
        {_enum('kind', 'kind_t')} AS kind, {_enum('country', 'country_t')} AS country,
        {_enum('outlet', 'outlet_t')} AS outlet, {_enum('language', 'language_t')} AS language,
        {_stamp('a.published')} AS published, (t.lat IS NOT NULL AND t.lon IS NOT NULL) AS located, t.start
        FROM places t LEFT JOIN articles a USING (article_id) ORDER BY t.row""",
    "stances": f"""SELECT t.row, coalesce(a.row, -1)::INTEGER AS art, {_enum('holder', 'actor_t')} AS holder,
        {_enum('issue', 'issue_t')} AS issue, {_enum('polarity', 'polarity_t')} AS polarity,
        {_enum('outlet', 'outlet_t')} AS outlet, {_enum('language', 'language_t')} AS language,
        {_stamp('t.date')} AS date, t.confidence, t.start
        FROM stances t LEFT JOIN articles a USING (article_id) ORDER BY t.row""",
}


ONE_THREAD_BYTES = 8 * 2**20  # tables whose Parquet files hold this much or less are served by one DuckDB thread:
# a second one cost a tenth more CPU at 1,000 articles (1.5 MB of files) and gave no speed


def parquet_files(path: Path) -> list[Path]:
    """A table's Parquet files in name order: `path` itself, or the files of the folder it is (a build's
    month files): the concatenation of their rows is the table."""
    path = Path(path)
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.iterdir() if p.suffix == ".parquet" and not p.name.startswith((".", "_")))


def write_serving(folder: Path, database: Path | None = None, *, memory: str = "256MB",
                  events_ready: Callable[[], object] | None = None, memory_meanwhile: str | None = None) -> Path:
    """Copy the Parquet tables of `folder` into a DuckDB file (default `folder/kzdash.duckdb`) and index them.

    The build calls this once, before its events are written (`events_ready` waits for them): the other
    tables are copied meanwhile by one DuckDB thread under `memory_meanwhile`, on the core and in the memory
    the grouping of happenings leaves free (a small build's under the whole limit, each table's row files and
    word indexes written on a second connection as soon as it is copied). The
    dashboard calls it for a build made before the index tables existed (into a file of its own: a build
    folder is never written to after its swap)."""
    import duckdb

    database = Path(database or Path(folder) / "kzdash.duckdb")
    try:
        _write_serving(folder, database, memory, events_ready, memory_meanwhile)
    except duckdb.FatalException:
        if events_ready is None or memory_meanwhile is None:
            raise
        # Long texts (the hostile folder's 1.4 MB ones) can leave DuckDB unable to checkpoint a copy under the
        # smaller limit, and that error closes the database for good ("database has been invalidated"): the
        # file is made again, every table copied after the events are ready, under the whole limit.
        for path in (database, database.with_name(database.name + ".wal")):
            path.unlink(missing_ok=True)
        events_ready()
        _write_serving(folder, database, memory, None, None)
    return database


def _write_serving(folder: Path, database: Path, memory: str, events_ready: Callable[[], object] | None,
                   memory_meanwhile: str | None) -> None:
    import duckdb

    con = duckdb.connect(str(database))
    try:
        con.execute("SET preserve_insertion_order = true")
        waiting = events_ready is not None
        if waiting:  # beside the grouping: one thread, the smaller limit
            con.execute(f"SET memory_limit = '{memory_meanwhile or memory}'")
            con.execute("SET threads = 1")
        else:
            _settings(con, folder, memory)
        others = tuple(name for name in TABLES if name != "events")
        scans = _scans(Path(folder))
        # a small build's other tables need no events for their row files and word indexes: each table's are written
        # on a second connection as soon as it is copied, while the main one copies the next and the events are
        # grouped (the articles' word index, most of that work, reads the Parquet files alone). At 4,000 articles
        # the build's end took 2.4 s with the texts in turn, 1.8 s with them beside once every table was copied;
        # on a slower machine 2.67 s that way and 2.23 s as each is. So the sizes come first, from the Parquet files:
        # the articles' (they hold the largest searched column), then, when those are small, the other tables'. A large
        # build's are written after the events: beside the grouping they took its peak at 100,000 articles from 623
        # to 734 MB. Its sizes come from the DuckDB copies, as they always did
        sizes: dict[str, tuple[int, dict[str, int]]] = {}
        if waiting:
            sizes["articles"] = table_sizes(con, "articles", scans["articles"])
            if _small(sizes):
                sizes |= {name: table_sizes(con, name, ParquetRows.of(Path(folder) / f"{name}.parquet"))
                          for name in others if name not in sizes}
        beside = len(sizes) == len(others) and _small(sizes)
        if beside:
            _settings(con, folder, memory)  # once, before two connections share it (a small build stays far below it)
        with contextlib.closing(con.cursor()) as side, ThreadPoolExecutor(1) as pool:  # the pool ends first
            texts = []
            for name in others:
                copy_table(con, name, Path(folder) / f"{name}.parquet")
                if beside:
                    texts.append(pool.submit(_texts, side, database.parent, {name: sizes[name]}, scans, beside=True))
            if waiting and not beside:  # a large build: sizes from the copies, the whole limit once the events are made
                sizes |= {name: table_sizes(con, name, scans.get(name)) for name in others if name not in sizes}
                events_ready()
                _settings(con, folder, memory)
            elif waiting:
                events_ready()
            copy_table(con, "events", Path(folder) / "events.parquet")
            serve(con, database.parent, Path(folder), written=others if beside else (), sizes=sizes)
            for done in texts:
                done.result()
    finally:
        con.close()


def _settings(con, folder: Path, memory: str) -> None:
    """The memory limit (past it DuckDB spills to disk: memory stays flat), and one DuckDB thread for a build
    whose tables are small (ONE_THREAD_BYTES), else two."""
    con.execute(f"SET memory_limit = '{memory}'")
    small = sum(f.stat().st_size for name in TABLES for f in parquet_files(Path(folder) / f"{name}.parquet")
                if f.is_file())
    con.execute(f"SET threads = {1 if small <= ONE_THREAD_BYTES else 2}")


INDEX_DIR = "index"  # beside the DuckDB file: each index column as a file of numbers, and index.json


# Columns the DuckDB copy leaves out: the article texts. The dashboard never asks DuckDB for them (a page fetches
# them from the row file, a search goes through the word index), yet they were most of the copy's work and of the
# file: at 100,000 articles the articles' copy took 7.6 s with them and 0.8-0.9 s without, and long texts are what
# left DuckDB unable to commit or checkpoint under the build's memory limit (the hostile folder's 1.4 MB texts).
# The row file and the word index read them from the Parquet files (`ParquetRows`).
LEFT_OUT = {"articles": ("text",)}


@dataclass(frozen=True)
class ParquetRows:
    """A table's Parquet files (one, or a build's month files, in name order) as DuckDB reads them with each
    row's number in the table (`row`): its file's offset (the rows of the files before it) plus its row in the
    file, so the numbers run over the whole table as a reader of the folder sees it."""

    files: tuple[Path, ...]
    offsets: tuple[int, ...]  # the rows before each file, then the rows of all (one more than the files)
    sizes: tuple[int, ...]  # each file's bytes, uncompressed
    columns: tuple[str, ...]

    @classmethod
    def of(cls, path: Path) -> ParquetRows:
        import pyarrow.parquet as pq

        files = parquet_files(path)
        metas = [pq.ParquetFile(file).metadata for file in files]
        offsets = [0]
        for meta in metas:
            offsets.append(offsets[-1] + meta.num_rows)
        sizes = [sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups)) for meta in metas]
        columns = tuple(metas[0].schema.to_arrow_schema().names) if metas else ()
        return cls(tuple(files), tuple(offsets), tuple(sizes), columns)

    def select(self, which: Sequence[int] | None = None, leave_out: Sequence[str] = ()) -> str:
        """A SELECT of the rows of files `which` (positions in `files`; default all), every column but
        `leave_out`, and `row`. A scan keeps the files' order and each file's (preserve_insertion_order)."""
        which = range(len(self.files)) if which is None else which
        starts = ", ".join(str(self.offsets[i]) for i in which)
        listing = ", ".join("'" + str(self.files[i]).replace("'", "''") + "'" for i in which)
        excluded = ", ".join(["file_row_number", *(f'"{c}"' for c in leave_out if c in self.columns)])
        return (f"SELECT * EXCLUDE ({excluded}), (file_row_number + list_extract([{starts}], file_index::BIGINT + 1))"
                f"::INTEGER AS row FROM read_parquet([{listing}], file_row_number = true)")

    def holding(self, first: int, last: int) -> str:
        """A SELECT of the files that hold rows `first` to `last` (and maybe more: filter by `row`)."""
        lo = max(0, bisect.bisect_right(self.offsets, first) - 1)
        hi = min(len(self.files) - 1, max(lo, bisect.bisect_right(self.offsets, last) - 1))
        return self.select(range(lo, hi + 1))


def _rows_of(name: str, scan: ParquetRows | None, first: int | None = None, last: int | None = None) -> str:
    """SQL for a table's rows with every column (`row` among them), in row order, as a subquery: the DuckDB
    table, or, when its copy left columns out (`scan`), its Parquet files; with `first`/`last`, at least the
    rows between them (the caller filters by `row`)."""
    if scan is not None:
        return f"({scan.select() if first is None else scan.holding(first, last)})"
    return f"(SELECT * FROM {name})"


def copy_table(con, name: str, path: Path) -> None:
    """A contract table into DuckDB with each row's number in the table (`row`), in table order, but for its
    LEFT_OUT columns.

    `path` is one Parquet file or a folder of them (a build's month files). The files go in name order, in
    runs of adjacent files holding COPY_AT_ONCE_BYTES or less together (a larger file alone), a statement
    per run (`ParquetRows.select`). No sort: a scan keeps its files' order (preserve_insertion_order,
    DuckDB's default), and sorting a hundred thousand article texts does not fit the build's memory limit
    (DuckDB fails to pin a block).

    Why runs: one scan of all the files failed that way on the hostile folder (1.4 MB texts: "failed to
    pin block", 121.5 of 122 MB used); a statement per file commits per file, and each commit of a table
    still in its first row group (122,880 rows: a hundred thousand articles) compresses that whole row group
    again: 2,673 month files of 100,000 articles took 34 s, runs of 16 MB 16 s."""
    scan = ParquetRows.of(path)
    runs: list[list[int]] = []
    size = 0
    for i, nbytes in enumerate(scan.sizes):
        if not runs or size + nbytes > COPY_AT_ONCE_BYTES:
            runs.append([])
            size = 0
        runs[-1].append(i)
        size += nbytes
    for n, run in enumerate(runs):
        select = scan.select(run, LEFT_OUT.get(name, ()))
        statement = f"CREATE OR REPLACE TABLE {name} AS {select}" if n == 0 else f"INSERT INTO {name} {select}"
        _with_room(con, lambda statement=statement: con.execute(statement).fetchall())


COPY_AT_ONCE_BYTES = 16 * 2**20  # the files copied in one statement hold this much or less (uncompressed), but
# for a larger file alone: at 1,000 articles, a statement per month file cost twice the CPU (73, not 5)


T = TypeVar("T")
ROOM_STEPS = 3  # a statement that cannot pin a block is tried again with more memory, this many times:
ROOM_MB = 256  # ... first this many megabytes, then twice as many each time


def _memory_limit(con) -> str:
    """DuckDB's memory limit now, as it prints it ("122.0 MiB"), to be put back after a step of its own."""
    return con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]


def _with_room(con, work: Callable[[], T]) -> T:
    """`work()` (DuckDB work on `con` that can simply be done again); when DuckDB runs out of memory or cannot pin
    a block under its limit (texts of a megabyte or more: the hostile folder's 1.4 MB texts failed to commit at
    128 MB, and a vector of them needed one 256 MB allocation), it is done again with ROOM_MB, then twice that,
    up to ROOM_STEPS times, and the limit is put back. A failed statement changed nothing (it is rolled back);
    ordinary builds never take the larger limit, so their peak memory stays where the limit puts it."""
    import duckdb

    limit = None  # the limit to put back, once it was raised (no statement at all when the work fits)
    try:
        for step in range(ROOM_STEPS):
            try:
                return work()
            except (duckdb.Error, OSError) as error:  # OSError: raised by a batch of an Arrow reader of DuckDB's
                if not (isinstance(error, duckdb.OutOfMemoryException) or "pin block" in str(error)
                        or "Out of Memory Error" in str(error)):
                    raise
                if limit is None:
                    limit = _memory_limit(con)
                con.execute(f"SET memory_limit = '{ROOM_MB * 2 ** step}MB'")
        return work()  # the last try: its error is raised as it is
    finally:
        if limit is not None:
            try:
                con.execute(f"SET memory_limit = '{limit}'")
            except duckdb.OutOfMemoryException:
                pass  # another connection (side by side) holds more than the old limit: it stays raised, not a failure


def write_index_arrays(con, folder: Path, batch_rows: int = 1_000_000) -> None:
    """The `idx_*` tables as one file of fixed-width numbers per column, for the dashboard to map.

    Why: turning ten million rows of DuckDB ENUMs into pandas categoricals takes 10-15 s on this
    machine; reading category codes from a file takes a fraction of a second, so the first page of a
    large build opens in seconds. Categories are written to index.json; a missing value is code -1,
    a missing date the smallest int64 (numpy's NaT), a missing number NaN."""
    import contextlib
    import json

    import numpy as np

    folder = Path(folder) / INDEX_DIR
    folder.mkdir(parents=True, exist_ok=True)
    meta: dict[str, dict] = {}
    categories_of: dict[str, list] = {}  # ENUM type -> its values, asked once (tables share them)
    for table in INDEX_SQL:
        columns, exprs = [], []
        for name, kind in con.execute(f"SELECT column_name, column_type FROM (DESCRIBE idx_{table})").fetchall():
            if name == "row":
                continue
            if kind.startswith("ENUM"):
                enum = _enum_of(table, name)
                if enum not in categories_of:
                    categories_of[enum] = [r[0] for r in con.execute(
                        f"SELECT unnest(enum_range(NULL::{enum}))").fetchall()]
                categories = categories_of[enum]
                dtype = "int8" if len(categories) < 2**7 else "int16" if len(categories) < 2**15 else "int32"
                expr, spec = f'coalesce(enum_code("{name}"), -1)', {"categories": categories}
            elif kind.startswith("TIMESTAMP"):
                dtype, expr, spec = "int64", f'coalesce(epoch_ns("{name}"), {np.iinfo(np.int64).min})', \
                    {"datetime": True}
            elif kind == "BOOLEAN":
                dtype, expr, spec = "bool", f'coalesce("{name}", false)', {}
            elif kind == "INTEGER":
                dtype, expr, spec = "int32", f'coalesce("{name}", -1)', {}
            else:  # numbers that may be missing (confidence, offsets)
                dtype, expr, spec = "float64", f'coalesce(CAST("{name}" AS DOUBLE), \'NaN\'::DOUBLE)', {}
            columns.append({"name": name, "dtype": dtype, **spec})
            exprs.append(expr)
        # all the columns of a table in one scan, in row order: the table is stored so (INDEX_SQL sorts it
        # by row) and a scan keeps it (preserve_insertion_order), as in `write_row_file`; a batch holds
        # about `batch_rows` numbers, as one column's batch did
        reader = con.sql(f"SELECT {', '.join(exprs)} FROM idx_{table}").to_arrow_reader(
            max(2048, batch_rows // max(1, len(exprs))))
        rows = 0
        # per category of a coded column: its rows and its first row, so that the dashboard's filter lists
        # and first mentions need no pass over ten million codes (`Dataset.code_totals`, `first_rows`)
        tally = {i: (np.zeros(len(c["categories"]) + 1, dtype=np.int64), np.full(len(c["categories"]) + 1, -1,
                                                                                 dtype=np.int64))
                 for i, c in enumerate(columns) if "categories" in c}
        with reader, contextlib.ExitStack() as files:
            outs = [files.enter_context(open(folder / f"{table}.{c['name']}.{c['dtype']}", "wb")) for c in columns]
            for batch in reader:
                for i, (c, out) in enumerate(zip(columns, outs, strict=True)):
                    values = batch.column(i).to_numpy(zero_copy_only=False).astype(c["dtype"])
                    values.tofile(out)
                    if i in tally:
                        counts, first = tally[i]
                        slot = values.astype(np.int64) + 1  # slot 0: missing (-1)
                        counts += np.bincount(slot, minlength=len(counts))
                        seen, at = np.unique(slot, return_index=True)
                        new = first[seen] < 0
                        first[seen[new]] = rows + at[new]
                rows += batch.num_rows
        for i, (counts, first) in tally.items():
            columns[i]["counts"], columns[i]["first"] = counts[1:].tolist(), first[1:].tolist()
        meta[table] = {"rows": rows, "columns": columns}
    (folder / "index.json").write_text(json.dumps({"version": SERVING_VERSION, "tables": meta}), encoding="utf-8")


def _enum_of(table: str, column: str) -> str:
    """The ENUM type of an index column (its dictionary in DICTIONARIES)."""
    return next(enum for enum, sources in DICTIONARIES.items() if (table, column) in sources)


ROW_FILE = "{}.rows.arrow"  # beside the DuckDB file: each table's rows for fetching by row number
ROW_BATCH = 16_384  # rows per record batch: small chunks to take from ...
ROW_BATCH_BYTES = 8 * 2**20  # ... and at most about this many bytes, so article texts keep memory flat too


SCAN_MEMORY = "32MB"  # DuckDB's limit while it only streams tables out (the row files): a scan needs no room, and
# under the build's limit its buffer pool kept the tables' blocks up to it (at 100,000 articles the row files took the
# serving's peak about 100 MB higher than at this limit; at 10,000 articles the tables fit either way)


def write_row_files(con, folder: Path, sizes: dict[str, tuple[int, dict[str, int]]] | None = None,
                    scans: dict[str, ParquetRows] | None = None, *, lower_limit: bool = True,
                    tables: Sequence[str] = TABLES) -> None:
    """Each table as an uncompressed Arrow IPC file, in row order, for the dashboard to memory-map.

    Why a second copy: DuckDB compresses a column in vectors of 2,048 rows, so fetching 2,000 rows
    scattered over ten million decompresses 2,000 vectors (0.3 ms each on this machine, 650 ms in
    all); from a memory-mapped Arrow file the same fetch reads 2,000 values where they lie.

    `lower_limit`: DuckDB's limit is SCAN_MEMORY meanwhile; not when other work shares the database (`serve` side by
    side): the limit is the database's, and the index tables beside failed under it ("could not allocate block")."""
    sizes, scans = sizes or {}, scans or {}
    limit = _memory_limit(con) if lower_limit else None  # (put back only when changed: as printed, it loses a digit)
    if limit is not None:
        con.execute(f"SET memory_limit = '{SCAN_MEMORY}'")
    try:
        for name in tables:  # written again from the start if DuckDB needs more room (`_with_room`)
            _with_room(con, lambda name=name: write_row_file(con, name, Path(folder) / ROW_FILE.format(name),
                                                             sizes.get(name), scans.get(name)))
    finally:
        if limit is not None:
            con.execute(f"SET memory_limit = '{limit}'")


def table_sizes(con, name: str, scan: ParquetRows | None = None) -> tuple[int, dict[str, int]]:
    """A table's rows and each column's characters (as VARCHAR; `row` left out), in one scan: the row
    files size their batches by them and the word indexes choose their way by them. `scan`: its Parquet
    files, when its DuckDB copy left columns out."""
    rows = _rows_of(name, scan)
    columns = [c for c in con.sql(f"SELECT * FROM {rows} LIMIT 0").columns if c != "row"]
    query = "SELECT count(*)" + "".join(f', coalesce(sum(strlen(CAST("{c}" AS VARCHAR))), 0)' for c in columns) + \
        f" FROM {rows}"
    got = _with_room(con, lambda: con.execute(query).fetchall())[0]
    return got[0], dict(zip(columns, got[1:], strict=True))


def write_row_file(con, name: str, path: Path, size: tuple[int, dict[str, int]] | None = None,
                   scan: ParquetRows | None = None) -> None:
    """One table's rows in row order: it is stored so (`copy_table`) and a scan keeps it; a sort would
    not fit the memory limit (see there). `size`: the table's `table_sizes`, when they are known; `scan`:
    its Parquet files, when its DuckDB copy left columns out (LEFT_OUT)."""
    import pyarrow as pa

    rows, chars = size if size is not None else table_sizes(con, name, scan)
    per_row = max(1, sum(chars.values()) // max(1, rows))  # a row's length in characters: about its bytes
    batch = max(64, min(ROW_BATCH, ROW_BATCH_BYTES // per_row))
    reader = con.sql(f"SELECT * EXCLUDE (row) FROM {_rows_of(name, scan)}").to_arrow_reader(batch)
    with reader, pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, reader.schema) as writer:
        for record in (reader if scan is None else _in_batches_of(reader, batch)):
            writer.write_batch(record)


def _in_batches_of(batches: Iterable[pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    """Record batches of `size` rows (the last one fewer) from batches of any size: a scan of Parquet files
    yields a batch or more per file (1,657 for the 668 month files of 100,000 articles, against 43)."""
    import pyarrow as pa

    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        pending.append(batch)
        rows += batch.num_rows
        while rows >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size).combine_chunks().to_batches()[0]
            rest = table.slice(size)
            pending, rows = rest.to_batches(), rest.num_rows
    if rows:
        yield pa.Table.from_batches(pending).combine_chunks().to_batches()[0]


def serve(con, folder: Path, parquet: Path | None = None, *, written: Sequence[str] = (),
          sizes: dict[str, tuple[int, dict[str, int]]] | None = None) -> None:
    """Everything the dashboard reads, from the contract tables (with `row`) in the open DuckDB file `con`:
    index tables and arrays, row files and word indexes, written into `folder` beside the file. `parquet`:
    the folder of the contract's Parquet files, where the columns the copy left out (LEFT_OUT) are read;
    without it the DuckDB tables hold them (the benchmark's generated tables). `written`: tables whose row
    files and word indexes are written already (`_write_serving`, while the events were grouped); `sizes`:
    the `table_sizes` known already.

    A small build (no searched column over SIDE_BY_SIDE_CHARS) writes its row files and word indexes on a
    second connection beside the index tables: the build's end runs on one core otherwise, and the
    two halves read the contract tables only. A large one writes them one after the other, so that
    DuckDB's memory limit is not shared by two big jobs."""
    scans = _scans(Path(parquet)) if parquet else {}
    sizes = {name: (sizes or {}).get(name) or table_sizes(con, name, scans.get(name))  # one scan each, for both
             for name in TABLES if name not in written}
    if not _small(sizes):
        _index(con, folder)
        _texts(con, folder, sizes, scans)
        return
    side = con.cursor()
    try:
        with ThreadPoolExecutor(1) as pool:
            texts = pool.submit(_texts, side, folder, sizes, scans, beside=True)
            _index(con, folder)
            texts.result()
    finally:
        side.close()


def _small(sizes: dict[str, tuple[int, dict[str, int]]]) -> bool:
    """Whether the searched columns of these tables are small enough to be indexed side by side with other work."""
    return all(sizes[table][1][column] <= SIDE_BY_SIDE_CHARS for table, columns in SEARCHED.items() if table in sizes
               for column in columns)


def _scans(parquet: Path) -> dict[str, ParquetRows]:
    """The Parquet files of the tables whose DuckDB copy leaves columns out (LEFT_OUT), in the folder `parquet`."""
    return {name: ParquetRows.of(parquet / f"{name}.parquet") for name in LEFT_OUT}


def _index(con, folder: Path) -> None:
    """The index tables, their columns' files and the stored orders."""
    index_tables(con)
    write_index_arrays(con, folder)
    write_stored_orders(folder)


def _texts(con, folder: Path, sizes: dict[str, tuple[int, dict[str, int]]], scans: dict[str, ParquetRows],
           beside: bool = False) -> None:
    """The row files and the word indexes of the tables in `sizes` (`beside`: while other work shares the
    database)."""
    write_row_files(con, folder, sizes, scans, lower_limit=not beside, tables=tuple(sizes))
    # written again if it needs more room
    _with_room(con, lambda: write_word_indexes(con, folder, sizes=sizes, scans=scans, tables=tuple(sizes)))


# Beside the index columns: the event rows in (happening, outlet, row) order, which event row is the first of
# its (happening, language) pair, and which place mention is the first of its (place, article) pair.
# Happenings, outlets and languages are never corrected by a review, so the first two hold for every
# version of the reviews; the dashboard uses the third only while no review moved a mention to another place.
STORED_ORDERS = {"by_pair": ("events", "int32"), "language_first": ("events", "bool"),
                 "place_article_first": ("places", "bool")}


def stored_order_file(folder: Path, name: str) -> Path:
    """Where one of STORED_ORDERS lives (`folder` is the one beside the DuckDB file)."""
    table, dtype = STORED_ORDERS[name]
    return Path(folder) / INDEX_DIR / f"{table}.{name}.{dtype}"


def write_stored_orders(folder: Path) -> None:
    """Sort the events and place mentions once per build, so that no filter change (and no first view) sorts or
    hashes ten million rows.

    Why: counting happenings and their outlets under a filter needs the rows grouped by happening; a
    sort of ten million rows takes seconds, while picking a filter's rows out of a stored order takes
    tens of milliseconds. Read from the index columns `write_index_arrays` wrote."""
    import json

    import numpy as np

    index = Path(folder) / INDEX_DIR
    tables = json.loads((index / "index.json").read_text(encoding="utf-8"))["tables"]

    def column(table: str, name: str) -> np.ndarray:
        meta = tables[table]
        dtype = next(c["dtype"] for c in meta["columns"] if c["name"] == name)
        return np.fromfile(index / f"{table}.{name}.{dtype}", dtype=dtype) if meta["rows"] else \
            np.zeros(0, dtype=dtype)

    _first_of_pairs(column("places", "place_id"), column("places", "art")
                    ).tofile(stored_order_file(folder, "place_article_first"))
    hap, outlet = column("events", "hap"), column("events", "outlet")
    order = np.lexsort((outlet, hap)).astype(np.int32)  # stable: rows ascending within a pair
    order.tofile(stored_order_file(folder, "by_pair"))
    del outlet
    _first_of_pairs(hap, column("events", "language")).tofile(stored_order_file(folder, "language_first"))


def _first_of_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Which rows are the first (lowest row) of their (a, b) pair (integer codes).

    The pair as one int64 key, sorted stably: about 25 bytes a row at the peak, where the two columns
    as int64 sorted together took 42 (120 MB for the 2.9 million place mentions of 100,000 articles)."""
    import numpy as np

    out = np.zeros(len(a), dtype=bool)
    if not len(a):
        return out
    b_low = int(b.min())
    key = a.astype(np.int64)
    key -= int(a.min())
    key *= int(b.max()) - b_low + 1
    key += b
    key -= b_low
    order = np.argsort(key, kind="stable")  # rows ascending within a pair
    key = key[order]
    first = np.empty(len(key), dtype=bool)
    first[0] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    del key
    out[order[first]] = True
    return out


def index_tables(con) -> None:
    """The ENUM dictionaries, happening numbers and `idx_*` tables of the contract tables in `con`."""
    for enum, sources in DICTIONARIES.items():
        union = " UNION ".join(f"SELECT {_filled(col)} AS v FROM {table} t" for table, col in sources)
        con.execute(f"DROP TYPE IF EXISTS {enum}")
        con.execute(f"CREATE TYPE {enum} AS ENUM (SELECT DISTINCT v FROM ({union}) WHERE v IS NOT NULL ORDER BY v)")
    con.execute("""CREATE OR REPLACE TABLE happening_numbers AS SELECT happening_id,
                   (row_number() OVER (ORDER BY happening_id) - 1)::INTEGER AS hap
                   FROM (SELECT DISTINCT happening_id FROM events WHERE happening_id IS NOT NULL)""")
    for name, sql in INDEX_SQL.items():
        con.execute(f"CREATE OR REPLACE TABLE idx_{name} AS {sql}")


def is_served(folder: Path) -> bool:
    """Whether `folder` holds this version's dashboard files (an older build has none, or older ones)."""
    import json

    folder = Path(folder)
    index = folder / INDEX_DIR / "index.json"
    try:
        version = json.loads(index.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError):
        return False
    return version == SERVING_VERSION and (folder / "kzdash.duckdb").is_file() and all(
        stored_order_file(folder, name).is_file() for name in STORED_ORDERS) and all(
        (folder / ROW_FILE.format(name)).is_file() for name in TABLES) and all(
        word_files(folder, table, column)["meta"].is_file() for table, columns in SEARCHED.items()
        for column in columns)


# The columns a text search looks at, per table; each gets a word index written beside the DuckDB file.
SEARCHED = {
    "events": ["summary", "evidence", "place_name"],
    "stances": ["evidence"],
    "places": ["surface", "name"],
    "articles": ["title", "text"],
}
IN_MEMORY_CHARS = 4_000_000  # a searched column up to this size is indexed in memory, larger ones by DuckDB
PAIR_CHARS = 4_000_000  # characters of values split into words at a time (DuckDB path): flat memory for long texts
SIDE_BY_SIDE_CHARS = 16_000_000  # a build whose searched columns are no larger (about 5,000 articles of 3 KB) writes
# its texts on a second connection, beside other work (`serve`, `_write_serving`): at 4,000 articles the build's end
# took 1.8 s, against 2.4 s in turn. A larger one writes them in turn, so that two big jobs do not share DuckDB's
# memory limit (at 100,000 articles, side by side, one could not put the limit back: "could not free up enough memory")
WORD_DIR = "words"  # beside the DuckDB file: {table}.{column}.{vocab,offsets,postings,starts,rows,meta}.*


def word_files(folder: Path, table: str, column: str) -> dict[str, Path]:
    """Where the word index of one column lives."""
    folder = Path(folder) / WORD_DIR
    return {part: folder / f"{table}.{column}.{part}.{ext}" for part, ext in
            (("vocab", "txt"), ("offsets", "i64"), ("postings", "i32"), ("starts", "i64"), ("rows", "i32"),
             ("meta", "json"))}


VOCAB_SEPARATOR = "\n"  # after every word of a vocabulary file: a search word (no whitespace) cannot span two


def vocab_bytes(vocab) -> tuple[bytes, np.ndarray]:
    """A vocabulary (an Arrow string array of words) as one run of bytes, each word followed by a newline,
    and the start offset of every word (and the end): what `TextIndex` memory-maps and scans with find."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    vocab = vocab.combine_chunks() if isinstance(vocab, pa.ChunkedArray) else vocab
    if not len(vocab):
        return b"", np.zeros(1, dtype=np.int64)
    empty, sep = pa.scalar("", pa.large_string()), pa.scalar(VOCAB_SEPARATOR, pa.large_string())
    joined = pc.binary_join_element_wise(vocab.cast(pa.large_string()), empty, sep)
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int64)[joined.offset:joined.offset + len(joined) + 1]
    data = joined.buffers()[2].to_pybytes()[int(offsets[0]):int(offsets[-1])]
    return data, (offsets - offsets[0]).astype(np.int64)


def _write_vocab(files: dict[str, Path], vocab, n_values: int) -> None:
    """The vocabulary and its offsets, and the meta file (how many values and words)."""
    import json

    data, offsets = vocab_bytes(vocab)
    files["vocab"].write_bytes(data)
    offsets.tofile(files["offsets"])
    files["meta"].write_text(json.dumps({"values": int(n_values), "words": len(vocab)}), encoding="utf-8")


def write_word_indexes(con, folder: Path, batch_rows: int = 20_000,
                       sizes: dict[str, tuple[int, dict[str, int]]] | None = None,
                       scans: dict[str, ParquetRows] | None = None, tables: Sequence[str] = TABLES) -> None:
    """For every searched column (of `tables`): its distinct values split into lower-cased words, as files the dashboard
    memory-maps (`kzdash.dashboard.textsearch.TextIndex.open`).

    A query word is then matched against the vocabulary (thousands of words) instead of the rows
    (millions of sentences), and only the postings of the words that match are read from disk, so a
    search costs milliseconds and the server holds no text. Words are split by pyarrow (Unicode
    whitespace), the same rule as the index the dashboard builds itself for tables in memory; DuckDB
    sorts and groups the (word, value) pairs, spilling to disk past its memory limit. `scans`: the Parquet
    files of the tables whose DuckDB copy left columns out (LEFT_OUT)."""

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    (Path(folder) / WORD_DIR).mkdir(parents=True, exist_ok=True)
    for table, columns in SEARCHED.items():
        if table not in tables:
            continue
        scan = (scans or {}).get(table)
        rows_of = _rows_of(table, scan)
        chars_of = (sizes or {}).get(table) or table_sizes(con, table, scan)  # `table_sizes`: one scan of the table
        for column in columns:
            chars = chars_of[1][column]
            files = word_files(folder, table, column)
            if chars <= IN_MEMORY_CHARS:  # a small column: at once, in memory (DuckDB's steps cost 20 ms each)
                texts = con.sql(f'SELECT CAST("{column}" AS VARCHAR) FROM {rows_of} ORDER BY row').to_arrow_table()
                _write_word_files(files, *word_index_arrays(texts.column(0)))
                continue
            # Distinct values by a 128-bit hash of the text, numbered in order of their first row (as
            # dictionary_encode numbers them in memory: a column of unique sentences then maps rows to values
            # in ascending order, so a search's pass from values to rows reads memory in order). Grouping,
            # joining or sorting the texts themselves does not fit the memory limit (a hundred thousand
            # articles: DuckDB fails to pin a block); their hashes and row numbers do. The texts are hashed
            # once (`word_hashes`): both the values and each row's value come from there
            text = f'CAST("{column}" AS VARCHAR)'
            con.execute(f"""CREATE OR REPLACE TEMP TABLE word_hashes AS
                SELECT row, md5_number({text}) AS h FROM {rows_of} WHERE "{column}" IS NOT NULL""")
            con.execute("""CREATE OR REPLACE TEMP TABLE word_values AS
                SELECT h, first_row, (row_number() OVER (ORDER BY first_row) - 1)::INTEGER AS vid
                FROM (SELECT h, min(row) AS first_row FROM word_hashes GROUP BY h)""")
            n_values = con.execute("SELECT count(*) FROM word_values").fetchall()[0][0]
            reader = con.sql(f"""SELECT coalesce(v.vid, -1)::INTEGER AS vid FROM (SELECT row FROM {rows_of}) t
                LEFT JOIN word_hashes USING (row) LEFT JOIN word_values v USING (h) ORDER BY t.row"""
                             ).to_arrow_reader(batch_rows)
            with reader, open(files["rows"], "wb") as out:
                for batch in reader:
                    batch.column(0).to_numpy().astype(np.int32).tofile(out)
            con.execute("DROP TABLE word_hashes")
            firsts = con.sql("SELECT first_row FROM word_values ORDER BY vid").to_arrow_table().column(0).to_numpy()
            step = max(1, min(batch_rows, PAIR_CHARS * n_values // max(1, chars)))  # values of ~PAIR_CHARS
            # each slice's words as numbers of its own (`code`, named in word_names): numbers are paired with
            # values, made distinct and joined far faster than the words themselves
            con.execute("CREATE OR REPLACE TEMP TABLE word_pairs (slice INTEGER, code INTEGER, vid INTEGER)")
            con.execute("CREATE OR REPLACE TEMP TABLE word_names (slice INTEGER, code INTEGER, w VARCHAR)")
            for part, lo in enumerate(range(0, n_values, step)):  # whole chunks: the connection is free for inserts
                hi = int(min(lo + step, n_values))  # numbers of our own, not user input
                # the values of a range of numbers first stand in one range of rows: read only that slice
                first, last = int(firsts[lo]), int(firsts[hi - 1])
                batch = con.sql(f"""SELECT w.vid, {text} AS v FROM {_rows_of(table, scan, first, last)} t
                    JOIN word_values w ON t.row = w.first_row
                    WHERE t.row BETWEEN {first} AND {last} ORDER BY w.vid""").to_arrow_table()
                split = pc.utf8_split_whitespace(pc.utf8_lower(batch.column(1).combine_chunks()))
                words = pc.dictionary_encode(pc.list_flatten(split))
                vids = np.repeat(batch.column(0).to_numpy(), pc.list_value_length(split).to_numpy())
                # each (word, value) once: a text repeats its words, and this slice alone holds its values,
                # so the pairs are distinct over all slices and the postings need no DISTINCT of their own
                pairs = np.sort(words.indices.to_numpy().astype(np.int64) * n_values + vids)
                pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]  # (np.unique hashes: 6 times slower here)
                names = words.dictionary
                con.register("word_batch", pa.table({"code": pa.array(pairs // n_values, pa.int32()),
                                                     "vid": pa.array(pairs % n_values, pa.int32())}))
                con.execute(f"INSERT INTO word_pairs SELECT {part}, code, vid FROM word_batch")
                con.unregister("word_batch")
                con.register("word_batch", pa.table({"code": pa.array(np.arange(len(names), dtype=np.int32)),
                                                     "w": names}))
                con.execute(f"INSERT INTO word_names SELECT {part}, code, w FROM word_batch WHERE w <> ''")
                con.unregister("word_batch")
            con.execute("""CREATE OR REPLACE TEMP TABLE word_vocab AS SELECT w,
                (row_number() OVER (ORDER BY w) - 1)::INTEGER AS wid FROM (SELECT DISTINCT w FROM word_names)""")
            vocab = con.sql("SELECT w FROM word_vocab ORDER BY wid").to_arrow_table().column(0)
            _write_vocab(files, vocab, n_values)
            counts = np.zeros(len(vocab) + 1, dtype=np.int64)
            reader = con.sql("""SELECT p.vid, v.wid FROM word_pairs p JOIN word_names n USING (slice, code)
                                JOIN word_vocab v USING (w) ORDER BY v.wid, p.vid""").to_arrow_reader(batch_rows)
            with reader, open(files["postings"], "wb") as out:
                for batch in reader:
                    batch.column(0).to_numpy().astype(np.int32).tofile(out)
                    counts += np.bincount(batch.column(1).to_numpy() + 1, minlength=len(counts))
            np.cumsum(counts).astype(np.int64).tofile(files["starts"])
            for temp in ("word_pairs", "word_names", "word_vocab", "word_values"):
                con.execute(f"DROP TABLE {temp}")


def word_index_arrays(texts) -> tuple:
    """A column's word index in memory: (vocabulary, postings, starts, value of each row, number of values).

    Distinct values are split into lower-cased words on Unicode whitespace; postings[starts[w]:starts[w + 1]]
    are the values that hold word w (a value may be listed twice), value -1 is an empty row."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks() if texts.num_chunks else pa.array([], type=pa.large_string())
    encoded = pc.dictionary_encode(texts.cast(pa.large_string()))
    values = encoded.dictionary
    value_of_row = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32)
    words = pc.utf8_split_whitespace(pc.utf8_lower(values))
    parents = pc.list_parent_indices(words).to_numpy().astype(np.int32)
    vocab = pc.dictionary_encode(pc.list_flatten(words))
    codes = vocab.indices.to_numpy(zero_copy_only=False)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(vocab.dictionary) + 1)).astype(np.int64)
    return vocab.dictionary, parents[order], starts, value_of_row, len(values)


def _write_word_files(files: dict[str, Path], vocab, postings, starts, value_of_row, n_values: int) -> None:

    import numpy as np

    _write_vocab(files, vocab, n_values)
    np.asarray(postings, dtype=np.int32).tofile(files["postings"])
    np.asarray(starts, dtype=np.int64).tofile(files["starts"])
    np.asarray(value_of_row, dtype=np.int32).tofile(files["rows"])
