"""The dashboard's copy of a build: index columns, row files and word indexes agree with the Parquet tables."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kzdash.dashboard import textsearch
from kzdash.dashboard.dataset import Dataset
from kzdash.dashboard.textsearch import TextIndex
from kzdash.pipeline import serving


def copy_table_files(build_dir: Path, folder: Path, name: str) -> None:
    """A table of a build (a file, or a folder of month files) copied into `folder`."""
    path = build_dir / f"{name}.parquet"
    (shutil.copytree if path.is_dir() else shutil.copy)(path, folder / path.name)


def served_files(folder: Path) -> list[Path]:
    """The dashboard's files written beside a DuckDB file, relative to `folder`."""
    return sorted(p.relative_to(folder) for p in folder.rglob("*")
                  if p.is_file() and p.suffix not in (".duckdb", ".parquet", ".wal"))


def assert_same_served_files(a_folder: Path, b_folder: Path) -> None:
    """The same dashboard files in both folders: row files with the same batches and values (the bytes under a
    missing value are DuckDB's to leave as they are), every other file byte for byte."""
    assert served_files(a_folder) == served_files(b_folder)
    for rel in served_files(b_folder):
        a, b = a_folder / rel, b_folder / rel
        if rel.name.endswith(".rows.arrow"):
            with pa.memory_map(str(a)) as sa, pa.memory_map(str(b)) as sb:
                ra, rb = pa.ipc.open_file(sa), pa.ipc.open_file(sb)
                assert ra.schema.equals(rb.schema, check_metadata=True)
                assert [ra.get_batch(i).num_rows for i in range(ra.num_record_batches)] == \
                    [rb.get_batch(i).num_rows for i in range(rb.num_record_batches)]
                assert ra.read_all().equals(rb.read_all()), rel
        else:
            assert a.read_bytes() == b.read_bytes(), rel


@pytest.fixture(scope="module")
def served(sample_dir: Path, tmp_path_factory) -> dict[str, Path]:
    """The sample served twice: small columns indexed in memory (the default) and every column by DuckDB, a
    slice of a few thousand characters at a time (many slices of a column, each with words of its own)."""
    out = {}
    for label, limit, pair_chars in (("memory", serving.IN_MEMORY_CHARS, serving.PAIR_CHARS), ("duckdb", -1, 3_000)):
        folder = tmp_path_factory.mktemp(label)
        for name in serving.TABLES:
            copy_table_files(sample_dir, folder, name)
        old = serving.IN_MEMORY_CHARS, serving.PAIR_CHARS
        serving.IN_MEMORY_CHARS, serving.PAIR_CHARS = limit, pair_chars
        try:
            serving.write_serving(folder)
        finally:
            serving.IN_MEMORY_CHARS, serving.PAIR_CHARS = old
        out[label] = folder
    return out


def test_row_files_hold_the_parquet_rows_in_order(served: dict[str, Path], sample_dir: Path) -> None:
    ds = Dataset.open(served["memory"])
    for name in ("articles", "events", "places", "stances"):
        raw = pd.read_parquet(sample_dir / f"{name}.parquet")
        rows = np.arange(len(raw))[::-1]  # any order, repeated rows too
        rows = np.concatenate([rows, rows[:3]])
        got = ds._rows[name].take(rows, list(raw.columns))
        want = raw.iloc[rows].reset_index(drop=True)
        for col in raw.columns:
            assert got[col].astype(str).tolist() == want[col].astype(str).tolist(), (name, col)


def test_index_columns_are_the_tables_codes(served: dict[str, Path], sample_dir: Path) -> None:
    ds = Dataset.open(served["memory"])
    stances = pd.read_parquet(sample_dir / "stances.parquet")
    assert ds.stances["holder"].astype(str).tolist() == stances["holder"].tolist()
    assert ds.stances["issue"].astype(str).tolist() == stances["issue"].tolist()
    events = pd.read_parquet(sample_dir / "events.parquet")
    articles = pd.read_parquet(sample_dir / "articles.parquet")
    assert (ds.events["art"].to_numpy() == pd.Index(articles["article_id"]).get_indexer(events["article_id"])).all()
    assert ds.events["date"].dt.strftime("%Y-%m-%d").fillna("").tolist() == \
        pd.to_datetime(events["date"]).dt.strftime("%Y-%m-%d").fillna("").tolist()
    same_happening = events["happening_id"].to_numpy()[:, None] == events["happening_id"].to_numpy()[None, :]
    hap = ds.events["hap"].to_numpy()
    assert (same_happening == (hap[:, None] == hap[None, :])).all()
    # the place dictionary is shared: a code means one place in events and in mentions
    assert list(ds.events["place_id"].cat.categories) == list(ds.places["place_id"].cat.categories)


def test_both_ways_of_indexing_words_find_the_same_rows(served: dict[str, Path], sample_dir: Path) -> None:
    texts = pd.read_parquet(sample_dir / "events.parquet")["evidence"].dropna()
    words = sorted({w for t in texts for w in t.lower().split()})[::7] + ["kaz", "ق", "zzzq"]
    for table, columns in serving.SEARCHED.items():
        for col in columns:
            a = TextIndex.open(serving.word_files(served["memory"], table, col))
            b = TextIndex.open(serving.word_files(served["duckdb"], table, col))
            for word in words:
                got_a, got_b = a.word_mask(word), b.word_mask(word)
                assert (got_a is None) == (got_b is None), (table, col, word)
                assert got_a is None or (got_a == got_b).all(), (table, col, word)


@pytest.mark.parametrize("most_found", [textsearch.MOST_FOUND, 1])  # 1: every word tested as a string instead
def test_a_word_is_found_inside_vocabulary_words_never_across_two(monkeypatch, most_found: int) -> None:
    monkeypatch.setattr(textsearch, "MOST_FOUND", most_found)
    texts = pa.array(["Sanctions against Россия", "border talks", "санкции и граница", None, "", "ab cd"])
    index = TextIndex.build(texts)
    words = [index.words[s:e - 1].decode() for s, e in zip(index.word_starts[:-1], index.word_starts[1:],
                                                             strict=True)]
    for query, want in [("sanction", [0]), ("ssia", []), ("росс", [0]), ("сия", [0]), ("о", [0]), ("а", [2]),
                        ("bc", []), ("b c", []), ("ab", [5]), ("talks", [1]), ("граница", [2]), ("zz", [])]:
        found = index.word_mask(query)
        rows = [] if found is None else np.flatnonzero(found).tolist()
        assert rows == want, query
        assert sorted(words[w] for w in index.matching_words(query)) == sorted(w for w in words if query in w)


def test_a_build_without_the_dashboard_files_is_served_from_a_temporary_copy(sample_dir: Path, tmp_path) -> None:
    """A build from an older version: its folder is never written to; the dataset answers the same."""
    old = tmp_path / "old"
    old.mkdir()
    for name in serving.TABLES:
        copy_table_files(sample_dir, old, name)
    before = sorted(p.name for p in old.iterdir())
    ds, current = Dataset.open(old, cache_dir=tmp_path), Dataset.open(sample_dir)
    assert sorted(p.name for p in old.iterdir()) == before
    assert ds.database.parent != old
    for name in ("events", "stances", "places", "articles"):
        cols = ds.stored_columns(name)
        rows = np.arange(len(ds.table(name)))
        pd.testing.assert_frame_equal(ds.fetch(name, rows, cols), current.fetch(name, rows, cols))


def test_stored_event_orders_are_the_sorts_they_stand_for(served: dict[str, Path], sample_dir: Path) -> None:
    """The build's (happening, outlet, row) order, and the first row of every (happening, language) pair."""
    ds = Dataset.open(served["memory"])
    ev = pd.DataFrame({"hap": ds.events["hap"].to_numpy(), "outlet": ds.events["outlet"].cat.codes.to_numpy(),
                       "language": ds.events["language"].astype(str).to_numpy()})
    ev["row"] = np.arange(len(ev))
    want = ev.sort_values(["hap", "outlet", "row"])["row"].to_numpy()
    assert np.asarray(ds.stored_order("by_pair")).tolist() == want.tolist()
    firsts = set(ev.groupby(["hap", "language"])["row"].min())
    got = np.asarray(ds.stored_order("language_first"))
    assert got.tolist() == [row in firsts for row in range(len(ev))]
    assert len(firsts) < len(ev)  # the sample has happenings reported twice in one language: a real test
    pl = pd.DataFrame({"place": ds.places["place_id"].astype(str).to_numpy(), "art": ds.places["art"].to_numpy()})
    want = ~pl.duplicated().to_numpy()
    assert np.asarray(ds.stored_order("place_article_first")).tolist() == want.tolist()
    assert not want.all()  # places mentioned twice in one article


def test_rows_fetched_after_the_mapped_pages_are_let_go_are_the_same(served: dict[str, Path], monkeypatch) -> None:
    from kzdash.dashboard import dataset

    monkeypatch.setattr(dataset, "ROWS_MAPPED", 5)
    ds = Dataset.open(served["memory"])
    rows = np.arange(len(ds.events))[::-1]
    cols = ds.stored_columns("events")
    first = ds.fetch("events", rows, cols)
    assert ds._rows["events"]._fetched == 0  # more than ROWS_MAPPED: let go
    for _ in range(3):
        pd.testing.assert_frame_equal(ds.fetch("events", rows, cols), first)


def test_rows_gathered_from_the_map_equal_arrows_own_take(tmp_path: Path) -> None:
    """Every kind of column a row file holds (strings, large strings, numbers, dates, flags, decimals, a
    list that Arrow takes itself), with nulls in some batches and not others, any rows in any order."""
    import decimal

    from kzdash.dashboard.dataset import RowFile

    n = 1000
    rng = np.random.default_rng(7)
    holes = rng.random(n) < 0.2
    holes[:300] = False  # the first batches have no nulls at all (no validity buffer)
    table = pa.table({
        "s": pa.array([None if h else f"текст {i} " * (i % 4) for i, h in enumerate(holes)]),
        "ls": pa.array([f"w{i}" for i in range(n)], type=pa.large_string()),
        "i": pa.array([None if h else i * 3 for i, h in enumerate(holes)], type=pa.int64()),
        "f": pa.array(rng.random(n)),
        "d": pa.array([None if h else i for i, h in enumerate(holes)], type=pa.int32()).cast(pa.date32()),
        "b": pa.array([None if h else i % 3 == 0 for i, h in enumerate(holes)]),
        "c": pa.array([decimal.Decimal(i % 10) / 10 for i in range(n)], type=pa.decimal128(2, 1)),
        "l": pa.array([[i, i + 1] for i in range(n)]),
    })
    path = tmp_path / "t.rows.arrow"
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=128):
            writer.write_batch(batch)
    rf = RowFile(path)
    assert rf._layout("l") is None and rf._layout("s") is not None  # the list goes through Arrow
    for rows in (rng.integers(0, n, 300), np.arange(n)[::-1], np.array([5, 5, 999, 0])):
        got = rf.take(rows, list(table.column_names))
        want = table.take(pa.array(rows)).to_pandas()
        pd.testing.assert_frame_equal(got, want)


def test_a_long_table_keeps_its_file_order_without_a_sort(tmp_path: Path) -> None:
    """Many row groups read by two threads under a small memory limit: `row` is each row's place in
    the Parquet file and the row file lists the rows in that order (a sort of long texts would not fit)."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 120_000
    ids = pa.array([f"a{i:06d}" for i in range(n)], pa.large_string())
    texts = pa.array([f"text {i} " * 20 for i in range(n)], pa.large_string())
    pq.write_table(pa.table({"article_id": ids, "text": texts}), tmp_path / "articles.parquet", row_group_size=4_000)
    con = duckdb.connect()
    con.execute("SET memory_limit = '64MB'")
    con.execute("SET threads = 2")
    con.execute(f"SET temp_directory = '{tmp_path / 'spill'}'")
    serving.copy_table(con, "articles", tmp_path / "articles.parquet")
    rows = con.sql("SELECT row, article_id FROM articles").fetchall()
    assert [r for r, _ in rows] == list(range(n)) and [a for _, a in rows] == ids.to_pylist()
    serving.write_row_file(con, "articles", tmp_path / "articles.rows.arrow",
                           scan=serving.ParquetRows.of(tmp_path / "articles.parquet"))
    with pa.memory_map(str(tmp_path / "articles.rows.arrow")) as source:
        written = pa.ipc.open_file(source).read_all()
        assert written.column("article_id").to_pylist() == ids.to_pylist()
        assert written.column("text").to_pylist() == texts.to_pylist()  # from the Parquet file, in its order


@pytest.mark.parametrize("limit", ["all", "none", "some"])
def test_a_folder_of_files_is_numbered_in_file_order(tmp_path: Path, monkeypatch, limit: str) -> None:
    """Month files copied in runs (all in one statement, one file a statement, or runs of a few files):
    `row` runs over the files in name order, each file's rows in its order, under two threads and many
    row groups."""
    import duckdb
    import pyarrow.parquet as pq

    folder = tmp_path / "articles.parquet"
    folder.mkdir()
    expected = []
    for f in range(12):
        ids = [f"m{f:02d}-{i:04d}" for i in range((f * 37) % 300 + 1)]
        expected += ids
        pq.write_table(pa.table({"article_id": pa.array(ids, pa.large_string())}), folder / f"2020-{f:02d}.parquet",
                       row_group_size=50)
    sizes = [sum(m.row_group(g).total_byte_size for g in range(m.num_row_groups))
             for m in (pq.ParquetFile(f).metadata for f in sorted(folder.iterdir()))]
    monkeypatch.setattr(serving, "COPY_AT_ONCE_BYTES", {"all": 2**30, "none": 0, "some": 3 * max(sizes)}[limit])
    statements = []
    con = duckdb.connect()
    con.execute("SET threads = 2")
    real = serving._with_room
    monkeypatch.setattr(serving, "_with_room", lambda c, work: statements.append(1) or real(c, work))
    serving.copy_table(con, "articles", folder)
    if limit == "some":
        assert 1 < len(statements) < 12
    else:
        assert len(statements) == (1 if limit == "all" else 12)
    rows = con.sql("SELECT row, article_id FROM articles").fetchall()
    assert [r for r, _ in rows] == list(range(len(expected))) and [a for _, a in rows] == expected


def test_a_small_build_written_side_by_side_equals_one_written_in_turn(served: dict[str, Path], tmp_path: Path,
                                                                        monkeypatch) -> None:
    """A small build writes its row files and word indexes on a second connection while the index tables
    are made: the same files as writing them one after the other (row files: the same batches and values;
    the bytes under a missing value are DuckDB's to leave as they are)."""
    for name in serving.TABLES:
        copy_table_files(served["memory"], tmp_path, name)
    monkeypatch.setattr(serving, "SIDE_BY_SIDE_CHARS", -1)  # as a large build: in turn, on one connection
    serving.write_serving(tmp_path)

    assert len(served_files(tmp_path)) > 60
    assert_same_served_files(served["memory"], tmp_path)


@pytest.mark.parametrize("side", ["small", "large"])
def test_a_builds_other_tables_are_served_while_its_events_are_grouped_when_small(served: dict[str, Path],
                                                                                 tmp_path: Path, monkeypatch,
                                                                                 side: str) -> None:
    """A build's events come last (`events_ready`). A small build writes the other tables' row files and word
    indexes meanwhile, on a second connection (here `events_ready` returns only once they are there); a large one
    after the events, in turn. Either way the files are those of a copy served at once."""
    for name in serving.TABLES:
        copy_table_files(served["memory"], tmp_path, name)
    if side == "large":
        monkeypatch.setattr(serving, "SIDE_BY_SIDE_CHARS", -1)
    others = [name for name in serving.TABLES if name != "events"]
    expected = [tmp_path / serving.ROW_FILE.format(name) for name in others] + [
        serving.word_files(tmp_path, table, column)["starts"] for table in others
        for column in serving.SEARCHED.get(table, [])]
    seen: list[bool] = []

    def events_ready() -> None:  # the grouping, waiting here until the others' files are written (or 20 s)
        for _ in range(200 if side == "small" else 0):
            if all(path.is_file() for path in expected):
                break
            time.sleep(0.1)
        seen.append(all(path.is_file() for path in expected))

    serving.write_serving(tmp_path, memory="256MB", memory_meanwhile="64MB", events_ready=events_ready)
    assert seen == [side == "small"]

    assert_same_served_files(served["memory"], tmp_path)


def test_side_by_side_the_row_files_keep_the_limit_the_index_tables_need(served: dict[str, Path], tmp_path: Path,
                                                                         monkeypatch) -> None:
    """DuckDB's memory limit is the database's: row files written beside the index tables must not lower it to
    SCAN_MEMORY (the index tables, made meanwhile on the other connection, failed under it: "could not allocate
    block"); written in turn, they do."""
    limits: dict[str, list[str]] = {"beside": [], "in turn": []}
    real = serving.write_row_file
    mode = "beside"

    def watched(c, name: str, *args, **kwargs) -> None:
        limits[mode].append(c.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
        real(c, name, *args, **kwargs)

    monkeypatch.setattr(serving, "write_row_file", watched)
    for mode, side in (("beside", serving.SIDE_BY_SIDE_CHARS), ("in turn", -1)):
        out = tmp_path / mode.replace(" ", "_")
        out.mkdir()
        for name in serving.TABLES:
            copy_table_files(served["memory"], out, name)
        monkeypatch.setattr(serving, "SIDE_BY_SIDE_CHARS", side)
        serving.write_serving(out, memory="100MB")
    assert limits["beside"] == ["95.3 MiB"] * len(serving.TABLES)
    assert limits["in turn"] == ["30.5 MiB"] * len(serving.TABLES)


def test_a_statement_that_cannot_pin_a_block_is_run_again_with_more_memory() -> None:
    """The hostile folder's megabyte texts failed to commit under the build's memory limit: the copy is tried
    again with more, the limit is put back after, and any other error is raised at once."""
    import duckdb

    class Connection:
        def __init__(self, failures: int, error: type = duckdb.TransactionException,
                     message: str = "failed to pin block of size 1.4 MiB") -> None:
            self.failures, self.error, self.message, self.ran = failures, error, message, []

        def execute(self, sql: str):
            self.ran.append(sql)
            if sql.startswith("SELECT current_setting"):
                return duckdb.connect().execute("SELECT '122.0 MiB'")
            if sql.startswith("INSERT") and self.failures:
                self.failures -= 1
                raise self.error(self.message)
            return self

        def fetchall(self) -> list:
            return [(1,)]

    con = Connection(failures=2)
    serving._with_room(con, lambda: con.execute("INSERT INTO t SELECT 1"))
    assert [s for s in con.ran if s.startswith(("SET", "INSERT"))] == [
        "INSERT INTO t SELECT 1", "SET memory_limit = '256MB'", "INSERT INTO t SELECT 1",
        "SET memory_limit = '512MB'", "INSERT INTO t SELECT 1", "SET memory_limit = '122.0 MiB'"]
    with pytest.raises(duckdb.Error, match="pin block"):
        nine = Connection(failures=9)
        serving._with_room(nine, lambda: nine.execute("INSERT INTO t SELECT 1"))
    short = Connection(failures=1, error=duckdb.OutOfMemoryException, message="failed to allocate")
    serving._with_room(short, lambda: short.execute("INSERT INTO t SELECT 1"))
    # out of memory while an Arrow reader of DuckDB's hands over a batch: pyarrow raises it as an OSError
    reading = Connection(failures=1, error=OSError, message="Out of Memory Error: failed to allocate 2.0 MiB")
    serving._with_room(reading, lambda: reading.execute("INSERT INTO t SELECT 1"))
    assert "SET memory_limit = '256MB'" in reading.ran
    full = Connection(failures=1, error=OSError, message="No space left on device")
    with pytest.raises(OSError, match="No space"):
        serving._with_room(full, lambda: full.execute("INSERT INTO t SELECT 1"))
    other = Connection(failures=1, error=duckdb.CatalogException, message="Catalog Error: no table t")
    with pytest.raises(duckdb.Error, match="Catalog"):
        serving._with_room(other, lambda: other.execute("INSERT INTO t SELECT 1"))
    assert other.ran == ["INSERT INTO t SELECT 1"]  # no retry: the limit was never read nor changed
    fits = Connection(failures=0)
    serving._with_room(fits, lambda: fits.execute("INSERT INTO t SELECT 1"))
    assert fits.ran == ["INSERT INTO t SELECT 1"]  # work that fits costs no statement of its own


def test_a_limit_that_cannot_be_put_back_stays_raised_and_the_work_stands() -> None:
    """Side by side, the other connection may hold more than the limit to put back ("could not free up enough
    memory for the new limit"): the work that needed more room is done, the limit stays raised."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET memory_limit = '100MB'")
    tries: list[int] = []

    def work() -> int:
        tries.append(1)
        if len(tries) == 1:
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate 2.0 MiB")
        return 7

    real = con.execute

    class Holding:  # DuckDB's own connection, but the limit cannot go back down while "the other" holds memory
        def execute(self, sql: str):
            if sql == "SET memory_limit = '95.3 MiB'":
                raise duckdb.OutOfMemoryException("Failed to change memory limit: could not free up enough memory")
            return real(sql)

    assert serving._with_room(Holding(), work) == 7 and len(tries) == 2
    assert serving._memory_limit(con) == "244.1 MiB"  # ROOM_MB, left as it was raised


@pytest.mark.parametrize("small", [True, False], ids=["small", "large"])
def test_the_other_tables_are_copied_while_the_events_are_made(sample_dir: Path, tmp_path: Path, monkeypatch,
                                                               small: bool) -> None:
    """A build's events are written last (their happenings are grouped meanwhile): every other table is
    copied before `events_ready` returns, and the events after it, under the whole limit. A large build's
    other tables are copied under the smaller limit and one thread; a small build's under the whole limit,
    set once before its texts are written on the second connection, table by table as they are copied."""
    for name in serving.TABLES:
        copy_table_files(sample_dir, tmp_path, name)
    if not small:
        monkeypatch.setattr(serving, "SIDE_BY_SIDE_CHARS", 0)
    copied: list[tuple[str, str, int]] = []
    real = serving.copy_table

    def watched(con, name: str, path: Path) -> None:
        limit, threads = con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()
        copied.append((name, limit, int(threads)))
        real(con, name, path)

    monkeypatch.setattr(serving, "copy_table", watched)
    ready: list[list[str]] = []
    serving.write_serving(tmp_path, memory="256MB", memory_meanwhile="64MB",
                          events_ready=lambda: ready.append([name for name, _, _ in copied]))
    assert ready == [[name for name in serving.TABLES if name != "events"]]
    assert copied[-1][0] == "events" and copied[-1][1] == "244.1 MiB"
    assert {(limit, threads) for _, limit, threads in copied[:-1]} == {("244.1 MiB" if small else "61.0 MiB", 1)}
    ds = Dataset.open(tmp_path)
    assert len(ds.events) == len(pd.read_parquet(sample_dir / "events.parquet"))


def test_a_database_lost_under_the_smaller_limit_is_made_again_whole(sample_dir: Path, tmp_path: Path,
                                                                       monkeypatch) -> None:
    """DuckDB may fail to checkpoint long texts under the smaller limit, and that error invalidates the database:
    the file is made again, every table copied once the events are ready, under the whole limit."""
    import duckdb

    for name in serving.TABLES:
        copy_table_files(sample_dir, tmp_path, name)
    monkeypatch.setattr(serving, "SIDE_BY_SIDE_CHARS", 0)  # long texts: a large build, copied under the smaller limit
    real = serving.copy_table
    failed: list[str] = []

    def fails_once_under_the_small_limit(con, name: str, path: Path) -> None:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        if limit == "61.0 MiB" and name == "places" and not failed:
            failed.append(name)
            raise duckdb.FatalException("Failed to create checkpoint because of error: failed to pin block")
        real(con, name, path)

    monkeypatch.setattr(serving, "copy_table", fails_once_under_the_small_limit)
    ready: list[int] = []
    serving.write_serving(tmp_path, memory="256MB", memory_meanwhile="64MB", events_ready=lambda: ready.append(1))
    assert failed == ["places"] and ready
    ds = Dataset.open(tmp_path)
    for name in ("articles", "places", "stances", "events"):
        rows = ds.sql(f"SELECT count(*) AS n FROM {name}")["n"].iloc[0]
        assert rows == len(pd.read_parquet(sample_dir / f"{name}.parquet")), name
    failed.clear()
    with pytest.raises(duckdb.FatalException):  # a build without the smaller limit has nothing to fall back on
        serving.write_serving(tmp_path, tmp_path / "again.duckdb", memory="64MB")


def test_article_texts_stay_out_of_duckdb_and_are_served_from_the_parquet_files(sample_dir: Path, tmp_path: Path,
                                                                                 monkeypatch) -> None:
    """The copy leaves the article texts out (LEFT_OUT); the row file and the word index read them from the
    month files, and equal what a DuckDB table holding them gives (the benchmark's generated tables)."""
    import duckdb
    import pyarrow.parquet as pq

    monkeypatch.setattr(serving, "IN_MEMORY_CHARS", -1)  # every column by DuckDB, slice by slice ...
    monkeypatch.setattr(serving, "PAIR_CHARS", 2_000)  # ... of a few articles each: many month-file reads
    folder = tmp_path / "build"
    folder.mkdir()
    for name in serving.TABLES:
        copy_table_files(sample_dir, folder, name)
    serving.write_serving(folder)
    con = duckdb.connect(str(folder / "kzdash.duckdb"), read_only=True)
    assert "text" not in con.sql("SELECT * FROM articles LIMIT 0").columns
    con.close()

    whole = tmp_path / "whole"  # the same tables, every column in DuckDB, served without the Parquet files
    whole.mkdir()
    con = duckdb.connect(str(whole / "kzdash.duckdb"))
    for name in serving.TABLES:
        table = pq.read_table(folder / f"{name}.parquet")  # a file, or month files in name order
        con.register("whole_table", table.append_column("row", pa.array(np.arange(len(table), dtype=np.int32))))
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM whole_table")
        con.unregister("whole_table")
    serving.serve(con, whole)
    con.close()
    articles = pd.read_parquet(sample_dir / "articles.parquet")
    for ds in (Dataset.open(folder), Dataset.open(whole)):
        rows = np.arange(len(articles))[::-1]
        assert ds.fetch("articles", rows, ["text"])["text"].tolist() == articles["text"].iloc[rows].tolist()
    for column in serving.SEARCHED["articles"]:
        for part, path in serving.word_files(folder, "articles", column).items():
            assert path.read_bytes() == serving.word_files(whole, "articles", column)[part].read_bytes(), part
    only_in_texts = sorted({w for t in articles["text"] for w in t.lower().split()} -
                           {w for t in articles["title"].fillna("") for w in t.lower().split()})[::50]
    index = TextIndex.open(serving.word_files(folder, "articles", "text"))
    assert only_in_texts
    for word in only_in_texts:
        found = np.flatnonzero(index.word_mask(word)).tolist()
        assert {i for i, t in enumerate(articles["text"]) if word in t.lower().split()} <= set(found), word
        assert all(word in articles["text"].iloc[i].lower() for i in found), word  # or inside a longer word


@given(st.lists(st.integers(0, 40), max_size=12), st.integers(1, 50))
def test_row_file_batches_are_cut_to_one_size_whatever_comes_in(sizes: list[int], size: int) -> None:
    batches, n = [], 0
    for k in sizes:
        batches.append(pa.record_batch({"x": pa.array(range(n, n + k), pa.int64())}))
        n += k
    out = list(serving._in_batches_of(batches, size))
    assert [b.num_rows for b in out] == [size] * (n // size) + ([n % size] if n % size else [])
    assert [v for b in out for v in b.column(0).to_pylist()] == list(range(n))


def test_row_files_stream_under_the_scan_limit_and_put_the_build_limit_back(served: dict[str, Path],
                                                                             monkeypatch) -> None:
    """A scan needs no room: the row files are written under SCAN_MEMORY (DuckDB's buffer pool would keep the
    tables' blocks up to the build's limit), and the limit the index and word steps sort under comes back."""
    import duckdb

    con = duckdb.connect(str(served["memory"] / "kzdash.duckdb"), read_only=True)
    con.execute("SET memory_limit = '100MB'")
    limits = []
    real = serving.write_row_file

    def watched(c, name: str, *args, **kwargs) -> None:
        limits.append(c.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
        real(c, name, *args, **kwargs)

    monkeypatch.setattr(serving, "write_row_file", watched)
    out = served["memory"] / "again"
    out.mkdir()
    serving.write_row_files(con, out, scans={"articles": serving.ParquetRows.of(served["memory"] / "articles.parquet")})
    assert limits == ["30.5 MiB"] * len(serving.TABLES)
    back = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]  # "95.3 MiB", as DuckDB rounds it
    assert back.endswith(" MiB") and abs(float(back.split()[0]) - 95.3) < 0.2
    for name in serving.TABLES:  # the same batches and values (the bytes under a missing value are DuckDB's)
        with pa.memory_map(str(out / serving.ROW_FILE.format(name))) as a, \
                pa.memory_map(str(served["memory"] / serving.ROW_FILE.format(name))) as b:
            ra, rb = pa.ipc.open_file(a), pa.ipc.open_file(b)
            assert [ra.get_batch(i).num_rows for i in range(ra.num_record_batches)] == \
                [rb.get_batch(i).num_rows for i in range(rb.num_record_batches)], name
            assert ra.read_all().equals(rb.read_all()), name
