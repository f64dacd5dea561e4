"""The article tables as folders of month files: every row in its article's month, in input order,
the same tables as one in-memory build of the same articles, and DuckDB rows numbered over the whole table."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kzdash.extract.article import process_article
from kzdash.extract.gazetteer import load_gazetteer
from kzdash.extract.normalize import load_boilerplate
from kzdash.pipeline import store
from kzdash.pipeline.build import build
from kzdash.pipeline.happenings import happening_ids
from kzdash.pipeline.ingest import read_folder
from kzdash.text.langdata import LANG_DIR

HERE = Path(__file__).resolve().parents[1]
SAMPLE = HERE.parent / "data" / "articles"
DEV = HERE / "fixtures" / "dev"
KEYS = {"articles": ["article_id"], "places": ["article_id", "start", "place_id"], "events": ["event_id"],
        "stances": ["stance_id"]}
NAME = re.compile(r"^([0-9]{4}-(0[1-9]|1[0-2])|undated|empty)\.parquet$")


@pytest.fixture(scope="module")
def dev_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("parts") / "dev"
    build(DEV, out, progress=False, batch_size=5)
    return out


def in_memory_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """The tables of `folder` made in one piece, without the build's writer: what the month files must hold."""
    raws, _ = read_folder(folder)
    results = [process_article(raw, load_boilerplate(LANG_DIR), load_gazetteer()) for raw in raws]
    for raw, r in zip(raws, results, strict=True):
        r.article["input_key"] = store.input_key(raw)
    tables = store.tables_from(results)
    places = tables["places"]
    countries = set(places.loc[places["kind"] == "country", "place_id"].dropna().astype(str))
    tables["events"]["happening_id"] = happening_ids(tables["events"], countries)
    return {name: pa.Table.from_pandas(df[store.COLUMNS[name]], schema=store.arrow_schema(name),
                                       preserve_index=False).to_pandas() for name, df in tables.items()}


def month(published: object) -> str:
    text = "" if published is None or pd.isna(published) else str(published)
    return text[:7] if re.match(r"^[0-9]{4}-(0[1-9]|1[0-2])", text) else store.UNDATED


def test_tables_equal_an_in_memory_build(dev_build: Path) -> None:
    want = in_memory_tables(DEV)
    for name, key in KEYS.items():
        got = store.read_table(dev_build, name).sort_values(key).reset_index(drop=True)
        expected = want[name].sort_values(key).reset_index(drop=True)[got.columns]
        pd.testing.assert_frame_equal(got, expected, obj=name)
        assert len(got) > 0, name


def test_every_row_is_in_its_articles_month_in_input_order(dev_build: Path) -> None:
    raws, _ = read_folder(DEV)
    order = {store.input_key(raw): i for i, raw in enumerate(raws)}
    articles = store.read_table(dev_build, "articles")
    month_of = dict(zip(articles["article_id"], articles["published"].map(month), strict=True))
    rank = dict(zip(articles["article_id"], articles["input_key"].map(order), strict=True))
    assert store.UNDATED in set(month_of.values()) and len(set(month_of.values())) > 5  # dev spans years
    for name in KEYS:
        files = store.table_files(dev_build, name)
        assert store.table_path(dev_build, name).is_dir() and all(NAME.match(f.name) for f in files), name
        for f in files:
            ids = pd.read_parquet(f)["article_id"].tolist()
            assert {month_of[a] for a in ids} == {f.stem}, (name, f.name)
            runs = [a for i, a in enumerate(ids) if i == 0 or ids[i - 1] != a]
            assert len(runs) == len(set(runs)), f"{name} {f.name}: an article's rows are not contiguous"
            assert [rank[a] for a in runs] == sorted(rank[a] for a in runs), f"{name} {f.name}: not in input order"
    assert store.table_path(dev_build, "quarantine").is_file()


def test_duckdb_rows_are_numbered_over_the_whole_table(dev_build: Path) -> None:
    con = duckdb.connect(str(dev_build / "kzdash.duckdb"), read_only=True)
    try:
        for name, key in KEYS.items():
            table = pd.read_parquet(store.table_path(dev_build, name))  # a reader of the folder: name order
            rows = con.execute(f"SELECT row, {key[0]} FROM {name} ORDER BY row").df()
            assert rows["row"].tolist() == list(range(len(table))), name
            assert rows[key[0]].tolist() == table[key[0]].tolist(), name
            scanned = con.execute(f"SELECT row FROM {name}").df()  # stored in row order: a scan needs no sort
            assert scanned["row"].tolist() == list(range(len(table))), name
    finally:
        con.close()


def test_small_buffers_and_few_open_files_write_the_same_tables(dev_build: Path, tmp_path: Path,
                                                                monkeypatch) -> None:
    """Buffers only bound memory: flushed every few rows, with one file open at a time (partitions
    then go on in new parts, merged at the end), the month files hold the same rows in the same order."""
    monkeypatch.setattr(store, "FLUSH_BYTES", 3_000)
    monkeypatch.setattr(store, "BUFFER_BYTES", 6_000)
    monkeypatch.setattr(store, "OPEN_FILES", 1)
    build(DEV, tmp_path / "small", progress=False, batch_size=2)
    for name in (*KEYS, "quarantine"):
        assert [f.name for f in store.table_files(tmp_path / "small", name)] == \
            [f.name for f in store.table_files(dev_build, name)], name
        pd.testing.assert_frame_equal(store.read_table(tmp_path / "small", name), store.read_table(dev_build, name),
                                      obj=name)
    groups = sum(pq.ParquetFile(f).metadata.num_row_groups for f in store.table_files(tmp_path / "small", "events"))
    assert groups > len(store.table_files(tmp_path / "small", "events"))


def test_a_table_with_no_rows_is_a_folder_with_its_columns(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "plain.txt").write_text("A short note about the weather, with no place and no date at all.",
                                   encoding="utf-8")
    build(src, tmp_path / "out", progress=False)
    for name in ("events", "stances"):
        assert [f.name for f in store.table_files(tmp_path / "out", name)] == [f"{store.EMPTY}.parquet"]
        table = pd.read_parquet(store.table_path(tmp_path / "out", name))
        assert table.empty and list(table.columns) == store.COLUMNS[name]
    assert [f.name for f in store.table_files(tmp_path / "out", "articles")] == [f"{store.UNDATED}.parquet"]


def test_older_single_file_builds_are_still_read(dev_build: Path, tmp_path: Path) -> None:
    """A build from before the month folders: one file per table is a table as well."""
    old = tmp_path / "old"
    old.mkdir()
    for name in store.TABLES:
        store.read_table(dev_build, name).to_parquet(old / f"{name}.parquet", index=False)
    shutil.copy(dev_build / "build.json", old / "build.json")
    assert store.has_build(old) and [f.name for f in store.table_files(old, "events")] == ["events.parquet"]
    previous = store.PreviousBuild(old, store.fingerprint())
    articles = store.read_table(old, "articles")
    assert len(previous.article_of) == len(articles)
    aid = articles["article_id"].iloc[3]
    pd.testing.assert_frame_equal(previous.rows("events", [aid]).reset_index(drop=True),
                                  store.read_table(old, "events").query("article_id == @aid").reset_index(drop=True))


def inodes(build_dir: Path, name: str) -> dict[str, int]:
    return {f.name: f.stat().st_ino for f in store.table_files(build_dir, name)}


def happenings_of(build_dir: Path, month: str) -> list[str]:
    return pd.read_parquet(store.table_path(build_dir, "events") / month)["happening_id"].tolist()


def test_a_rebuild_writes_only_the_months_that_changed(tmp_path: Path) -> None:
    """One article changed in a folder spanning years: only its month's files are new (events files
    also where their happening ids changed); the others are the previous build's files, linked; the
    tables are a fresh build's, row for row."""
    src = tmp_path / "in"
    shutil.copytree(DEV, src)
    out = tmp_path / "out"
    build(src, out, progress=False, batch_size=2)  # a month's articles span batches
    before = {name: inodes(out, name) for name in KEYS}
    old_ids = {m: happenings_of(out, m) for m in before["events"]}
    changed = src / "dev-ru-02.txt"  # the second of three articles of 2022-09 (by name)
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\nAstana hosted talks with Moscow on 4 May 2022.",
                       encoding="utf-8")
    again = build(src, out, progress=False, batch_size=2)
    fresh = build(src, tmp_path / "fresh", progress=False, reuse=False)
    assert again.reused == fresh.articles - 1
    for name in KEYS:
        pd.testing.assert_frame_equal(store.read_table(out, name), store.read_table(tmp_path / "fresh", name),
                                      obj=name)
    after = {name: inodes(out, name) for name in KEYS}
    for name in ("articles", "places", "stances"):
        assert after[name].keys() == before[name].keys(), name
        new = {m for m, ino in after[name].items() if ino != before[name][m]}
        assert new == {"2022-09.parquet"}, name
    for month, ino in after["events"].items():
        same_ids = happenings_of(out, month) == old_ids[month]
        assert (ino == before["events"][month]) == (same_ids and month != "2022-09.parquet"), month
    assert sum(ino == before["events"][m] for m, ino in after["events"].items()) >= len(after["events"]) - 3


def test_a_rebuild_with_an_article_gone_and_one_new(tmp_path: Path) -> None:
    """A month that lost its last article, a month that gains one: written again; the tables are a
    fresh build's, row for row."""
    src = tmp_path / "in"
    shutil.copytree(DEV, src)
    out = tmp_path / "out"
    build(src, out, progress=False, batch_size=3)
    before = inodes(out, "articles")
    (src / "dev-sq-02.txt").unlink()  # the last of three articles of 2023-11 (by name)
    meta = (src / "metadata.csv").read_text(encoding="utf-8")
    (src / "metadata.csv").write_text(meta.rstrip("\n") + "\nzz-new.txt,Own Outlet,,2022-01-20,en,test\n",
                                      encoding="utf-8")
    (src / "zz-new.txt").write_text("Astana and Moscow signed a treaty on 3 January 2022.", encoding="utf-8")
    build(src, out, progress=False, batch_size=3)
    build(src, tmp_path / "fresh", progress=False, reuse=False)
    for name in (*KEYS, "quarantine"):
        pd.testing.assert_frame_equal(store.read_table(out, name), store.read_table(tmp_path / "fresh", name),
                                      obj=name)
    after = inodes(out, "articles")
    assert {m for m, ino in after.items() if ino != before.get(m)} == {"2022-01.parquet", "2023-11.parquet"}


@pytest.fixture(scope="module")
def dev_results() -> list:
    raws, _ = read_folder(DEV)
    results = [process_article(raw, load_boilerplate(LANG_DIR), load_gazetteer()) for raw in raws]
    for raw, r in zip(raws, results, strict=True):
        r.article["input_key"] = store.input_key(raw)
    return results


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_rows_a_worker_made_come_in_any_order_asked(dev_results: list, data) -> None:
    """A batch's articles reach the writer grouped by month, not in their tasks' order: the rows they came with (in
    their tasks' tables) are taken in the order asked, those of articles left out (duplicates) not at all."""
    tasks = data.draw(st.integers(1, 5), label="tasks")
    size = -(-len(dev_results) // tasks)
    written = [w for i in range(0, len(dev_results), size)
               for w in store.rows_of_task(dev_results[i:i + size], [r.article["input_key"] for r in
                                                                     dev_results[i:i + size]], f"t{i}")]
    order = data.draw(st.permutations(range(len(written))), label="order")
    order = order[:data.draw(st.integers(1, len(order)), label="kept")]
    got = store.batch_tables([(written[i].article["article_id"], written[i].article["input_key"], written[i])
                              for i in order], store.PreviousBuild())
    want = store.arrow_tables_from([dev_results[i] for i in order])
    for name in store.PARTITIONED:
        assert got[name].num_rows == want[name].num_rows, name
        assert all(column.num_chunks <= 1 for column in got[name].columns), name  # one chunk, as the writer wants
        assert got[name].equals(want[name].replace_schema_metadata(got[name].schema.metadata)), name


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 6)), max_size=30))
def test_row_ranges_are_each_range_in_turn(ranges: list[tuple[int, int]]) -> None:
    starts = np.array([s for s, _ in ranges], np.int64)
    counts = np.array([n for _, n in ranges], np.int64)
    assert store._row_ranges(starts, counts).tolist() == [s + k for s, n in ranges for k in range(n)]
