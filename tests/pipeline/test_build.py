"""The build end to end: the bundled sample, bad input, incremental reuse, atomic replacement."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kzdash.cli import main
from kzdash.pipeline import store
from kzdash.pipeline.build import build

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "articles"
CONTRACT = {
    "articles": ["article_id", "source", "outlet", "language", "published", "title", "text"],
    "places": ["article_id", "place_id", "name", "kind", "country", "lat", "lon", "start", "end", "surface"],
    "events": ["event_id", "article_id", "event_type", "date", "date_precision", "actor", "target",
               "place_id", "lat", "lon", "summary", "evidence", "start", "end", "confidence"],
    "stances": ["stance_id", "article_id", "holder", "issue", "polarity", "date", "evidence", "start",
                "end", "confidence"],
    "quarantine": ["source", "line", "reason"],
}


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("b") / "sample"
    build(SAMPLE, out, progress=False)
    return out


def test_sample_writes_the_contract(sample_build: Path) -> None:
    for name, cols in CONTRACT.items():
        df = pd.read_parquet(sample_build / f"{name}.parquet")
        assert set(cols) <= set(df.columns), name
    arts = pd.read_parquet(sample_build / "articles.parquet")
    assert len(arts) == 5 and set(arts.language) == {"sq", "ar"}
    assert (sample_build / "kzdash.duckdb").is_file() and (sample_build / "build.json").is_file()


def test_every_offset_points_at_its_evidence(sample_build: Path) -> None:
    arts = pd.read_parquet(sample_build / "articles.parquet").set_index("article_id")
    places = pd.read_parquet(sample_build / "places.parquet")
    assert len(places) > 0
    for r in places.itertuples():
        assert arts.loc[r.article_id, "text"][r.start:r.end] == r.surface
    events = pd.read_parquet(sample_build / "events.parquet")
    for r in events.itertuples():
        assert arts.loc[r.article_id, "text"][r.start:r.end] == r.evidence


def test_sample_places_include_the_headline_cities(sample_build: Path) -> None:
    places = pd.read_parquet(sample_build / "places.parquet")
    assert {"KAZ", "RUS", "UKR"} <= set(places[places.kind == "country"].country)
    assert {"Moscow", "Astana"} <= set(places.name)


def test_bad_input_is_quarantined_and_the_rest_proceeds(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.txt").write_text("Kazakhstan and Russia met in Astana on 5 March 2022.", encoding="utf-8")
    (src / "empty.txt").write_text("", encoding="utf-8")
    (src / "binary.txt").write_bytes(b"\x00\x01\x02" * 50)
    (src / "feed.jsonl").write_text('{"text": "Astana hosted talks."}\n{"text": \n', encoding="utf-8")
    summary = build(src, tmp_path / "out", progress=False)
    q = pd.read_parquet(tmp_path / "out" / "quarantine.parquet")
    assert summary.articles == 2
    assert {"empty.txt", "binary.txt"} <= set(q.source)
    assert q[q.source.str.startswith("feed.jsonl")].line.tolist() == [2]


def test_incremental_build_reuses_unchanged_articles(tmp_path: Path) -> None:
    src = tmp_path / "in"
    shutil.copytree(SAMPLE, src)
    first = build(src, tmp_path / "out", progress=False)
    before = pd.read_parquet(tmp_path / "out" / "places.parquet")
    (src / "extra.txt").write_text("Astana and Moscow signed a treaty on 3 March 2022.", encoding="utf-8")
    second = build(src, tmp_path / "out", progress=False)
    after = pd.read_parquet(tmp_path / "out" / "places.parquet")
    assert (first.reused, second.reused) == (0, 5)
    assert second.articles == 6
    kept = after[after.article_id.isin(before.article_id)].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept[before.columns], before.reset_index(drop=True), check_dtype=False)


def test_failed_build_keeps_the_last_good_one(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    build(SAMPLE, out, progress=False)
    good = {f.name: f.read_bytes() for f in store.table_files(out, "articles")}

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_write_duckdb", broken)
    with pytest.raises(RuntimeError):
        build(SAMPLE, out, progress=False, reuse=False)
    assert {f.name: f.read_bytes() for f in store.table_files(out, "articles")} == good
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.") and p.is_dir()]


def test_sessions_arriving_together_share_one_first_run_build(tmp_path: Path, monkeypatch) -> None:
    """A hosted link opened by many people at once: one first-run build, everyone gets it."""
    from concurrent.futures import ThreadPoolExecutor

    from kzdash.dashboard import appdata
    from kzdash.pipeline import build as build_module

    calls = []
    real_build = build_module.build

    def counted(*args, **kwargs):
        calls.append(1)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(build_module, "build", counted)
    out = tmp_path / "first"
    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(lambda _: appdata.ensure_build(SAMPLE, out), range(4)))
    assert done == [out] * 4 and len(calls) == 1
    assert len(pd.read_parquet(out / "articles.parquet")) == 5
    assert not [p for p in tmp_path.iterdir() if p.is_dir() and p.name != "first"]


def test_overlapping_builds_into_one_folder_both_land(tmp_path: Path) -> None:
    """Two builds racing for the same folder: each swap is whole, the folder ends complete."""
    from concurrent.futures import ThreadPoolExecutor

    out = tmp_path / "out"
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: build(SAMPLE, out, progress=False, reuse=False, workers=1), range(2)))
    assert set(store.TABLES) <= {p.stem for p in out.glob("*.parquet")}
    assert not [p for p in tmp_path.iterdir() if p.is_dir() and p.name != "out"]


def test_cli_build(tmp_path: Path, capsys) -> None:
    assert main(["build", "--input", str(SAMPLE), "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    assert "5 articles" in capsys.readouterr().out
    assert main(["build", "--input", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(max_size=400), st.binary(max_size=400)), min_size=1, max_size=4))
def test_build_never_crashes_on_arbitrary_input(tmp_path: Path, contents) -> None:
    src = tmp_path / "fuzz"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir()
    for i, c in enumerate(contents):
        path = src / f"a{i}.txt"
        path.write_bytes(c if isinstance(c, bytes) else c.encode("utf-8", "surrogatepass"))
    summary = build(src, tmp_path / "fuzz-out", progress=False, reuse=False)
    assert summary.articles + summary.quarantined >= 1


DEV = Path(__file__).resolve().parents[1] / "fixtures" / "dev"


def read_all(build_dir: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(build_dir / f"{name}.parquet") for name in store.TABLES}


@pytest.mark.parametrize("folder", [SAMPLE, DEV], ids=["sample", "dev"])
def test_streaming_in_small_batches_writes_the_same_tables(folder: Path, tmp_path: Path) -> None:
    """Batches only bound memory: one article at a time, or three, gives the whole build's tables
    row for row, happening ids included (they group events across batches)."""
    whole = build(folder, tmp_path / "whole", progress=False, batch_size=10_000)
    for size in (1, 3):
        part = build(folder, tmp_path / f"by{size}", progress=False, batch_size=size)
        assert part.articles == whole.articles
        for name, df in read_all(tmp_path / "whole").items():
            pd.testing.assert_frame_equal(read_all(tmp_path / f"by{size}")[name], df, obj=f"{name} by {size}")
    ev = read_all(tmp_path / "whole")["events"]
    assert ev["happening_id"].nunique() < len(ev)  # some happening spans reports of several articles


def test_row_groups_are_bounded(tmp_path: Path, monkeypatch) -> None:
    import pyarrow.parquet as pq

    monkeypatch.setattr(store, "ROW_GROUP_ROWS", 7)
    build(DEV, tmp_path / "b", progress=False, batch_size=4)
    for name in ("places", "events", "stances"):
        metas = [pq.ParquetFile(f).metadata for f in store.table_files(tmp_path / "b", name)]
        sizes = [m.row_group(i).num_rows for m in metas for i in range(m.num_row_groups)]
        assert len(sizes) > len(metas) and max(sizes) <= 7


def test_incremental_rebuild_in_batches_reuses_rows_from_the_previous_files(tmp_path: Path) -> None:
    src = tmp_path / "in"
    shutil.copytree(DEV, src)
    first = build(src, tmp_path / "b", progress=False, batch_size=4)
    (src / "dev-zz-new.txt").write_text("Astana and Moscow signed a treaty on 3 March 2022.", encoding="utf-8")
    again = build(src, tmp_path / "b", progress=False, batch_size=4)
    fresh = build(src, tmp_path / "fresh", progress=False, reuse=False)
    assert (again.reused, again.articles) == (first.articles, first.articles + 1) == (fresh.articles - 1,
                                                                                         fresh.articles)
    keys = {"articles": "article_id", "places": ["article_id", "start", "place_id"], "events": "event_id",
            "stances": "stance_id", "quarantine": ["source", "reason"]}
    for name, df in read_all(tmp_path / "fresh").items():
        got = read_all(tmp_path / "b")[name].sort_values(keys[name]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, df.sort_values(keys[name]).reset_index(drop=True), obj=name)


def test_long_texts_make_smaller_batches_and_row_groups(tmp_path: Path, monkeypatch) -> None:
    """A batch ends early when its texts are long, and a row group stays small in bytes, not only
    in rows: the tables are the same."""
    import pyarrow.parquet as pq

    from kzdash.pipeline import build as build_module

    whole = tmp_path / "whole"
    build(DEV, whole, progress=False)
    monkeypatch.setattr(build_module, "BATCH_CHARS", 5_000)
    monkeypatch.setattr(store, "ROW_GROUP_BYTES", 5_000)  # about one article (a month has up to 3 here)
    build(DEV, tmp_path / "small", progress=False)
    for name, df in read_all(whole).items():
        pd.testing.assert_frame_equal(read_all(tmp_path / "small")[name], df, obj=name)

    def groups(folder: Path) -> int:
        return sum(pq.ParquetFile(f).metadata.num_row_groups for f in store.table_files(folder, "articles"))

    assert groups(tmp_path / "small") >= groups(whole) + 3


def test_arrow_tables_equal_the_typed_frames() -> None:
    """A batch of new articles goes to Parquet without pandas: the same values, types and schema
    metadata as the typed frames give, odd values (missing keys, None, NaN, numbers as text) included."""
    import math

    import pyarrow as pa

    from kzdash.extract.article import process_article
    from kzdash.extract.gazetteer import load_gazetteer
    from kzdash.extract.normalize import load_boilerplate
    from kzdash.extract.records import ArticleResult
    from kzdash.pipeline.ingest import read_folder
    from kzdash.text.langdata import LANG_DIR

    raws, _ = read_folder(SAMPLE)
    results = [process_article(raw, load_boilerplate(LANG_DIR), load_gazetteer()) for raw in raws[:6]]
    odd = ArticleResult(article={"article_id": "odd", "source": "odd.txt", "outlet": None, "language": None,
                                 "published": "2024", "title": 5})
    odd.places.append({"article_id": "odd", "place_id": "KAZ", "lat": math.nan, "lon": 3, "start": 1, "end": None})
    odd.events.append({"article_id": "odd", "event_id": "odd-e0", "date": "2024-03", "background": None,
                       "confidence": None, "outlet": "own"})
    odd.stances.append({"article_id": "odd", "stance_id": "odd-s0", "date": None, "holder": math.nan})
    undated = ArticleResult(article={"article_id": "undated"})
    undated.events.append({"article_id": "undated", "event_id": "undated-e0", "date": None})
    for batch in (results, [*results, odd], [odd], [undated], [*results, undated], []):
        frames = store.tables_from(batch)
        tables = store.arrow_tables_from(batch)
        for name, df in frames.items():
            want = pa.Table.from_pandas(df[store.COLUMNS[name]], schema=store.arrow_schema(name), preserve_index=False)
            assert tables[name].equals(want), name
            assert tables[name].schema.metadata == want.schema.metadata, name


@pytest.mark.parametrize(("articles", "forked"), [(70, 2), (3, 0)])
def test_workers_start_before_the_folder_is_read(tmp_path: Path, monkeypatch, articles: int, forked: int) -> None:
    """A folder big enough for worker processes gets them before it is read: forked later, they inherited
    the folder's list of files and metadata, and their memory grew with the folder. A small one gets none."""
    import multiprocessing as mp

    import kzdash.pipeline.build as build_module

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork")
    src = tmp_path / "in"
    src.mkdir()
    for i in range(articles):
        (src / f"a{i:03d}.txt").write_text(f"Astana, note {i}.", encoding="utf-8")
    children: list[int] = []
    real = build_module.iter_folder

    def watched(folder: Path):
        children.append(len(mp.active_children()))
        yield from real(folder)

    monkeypatch.setattr(build_module, "iter_folder", watched)
    summary = build(src, tmp_path / "out", workers=2, progress=False, reuse=False)
    assert summary.articles == articles
    assert children == [forked]


def test_the_pool_pipes_have_room_for_several_chunks() -> None:
    """Workers hand over results without waiting for the build to read them (Linux pipes: 64 KB by
    default); a Python whose pool hides its pipes elsewhere fails here, not silently."""
    import multiprocessing as mp

    fcntl = pytest.importorskip("fcntl")
    if not hasattr(fcntl, "F_GETPIPE_SZ") or "fork" not in mp.get_all_start_methods():
        pytest.skip("no pipe sizes on this platform")
    from kzdash.pipeline.engines import PIPE_BYTES, _roomy_pipes

    with mp.get_context("fork").Pool(1) as pool:
        _roomy_pipes(pool)
        for queue in (pool._outqueue, pool._inqueue):
            assert fcntl.fcntl(queue._reader.fileno(), fcntl.F_GETPIPE_SZ) >= min(PIPE_BYTES, _pipe_max())


def _pipe_max() -> int:
    try:
        return int(Path("/proc/sys/fs/pipe-max-size").read_text())
    except OSError:
        return 1 << 20


@pytest.mark.parametrize(("articles", "workers", "size"), [(500, 2, 100), (128, 2, 32), (70, 2, 18), (64, 4, 8),
                                                            (1, 2, 1), (10_000, 3, 100), (3, 4, 1)])
def test_a_batch_is_cut_into_tasks_that_keep_every_worker_busy(articles: int, workers: int, size: int) -> None:
    from kzdash.pipeline.engines import TASKS_PER_WORKER, task_size, task_sizes

    assert task_size(articles, workers) == size
    assert -(-articles // size) >= min(articles, TASKS_PER_WORKER * workers)  # tasks enough for every worker
    assert task_sizes(articles, workers) == [size] * (articles // size) + [articles % size] * bool(articles % size)


@pytest.mark.parametrize(("articles", "workers", "sizes"), [
    (372, 2, [93, 70, 53, 39, 30, 22, 17, 12, 10, 10, 10, 6]),  # what 4,000 articles leave for the last batch
    (500, 4, [63, 55, 48, 42, 37, 32, 28, 25, 22, 19, 17, 14, 13, 11, 10, 10, 10, 10, 10, 10, 10, 4]),
    (500, 1, [100] * 5),  # no other worker to wait for
    (53, 2, [14, 10, 10, 10, 9]),
    (5, 2, [2, 2, 1]),  # tasks smaller than TAIL_ARTICLES already: cut as any batch
    (1, 2, [1]),
])
def test_the_last_batch_is_cut_finer_towards_its_end(articles: int, workers: int, sizes: list[int]) -> None:
    from kzdash.pipeline.engines import task_sizes

    assert task_sizes(articles, workers, last=True) == sizes


@given(st.integers(1, 3_000), st.integers(1, 8))
def test_a_tapered_cut_covers_the_batch_in_no_larger_tasks(articles: int, workers: int) -> None:
    from kzdash.pipeline.engines import TAIL_ARTICLES, cut, task_size, task_sizes

    plain, tapered = task_sizes(articles, workers), task_sizes(articles, workers, last=True)
    assert sum(tapered) == articles and len(tapered) >= len(plain)
    assert max(tapered) == task_size(articles, workers) and tapered == sorted(tapered, reverse=True)
    if workers > 1:  # the last task is a small one
        assert tapered[-1] <= min(TAIL_ARTICLES, task_size(articles, workers))
    batch = list(range(articles))
    assert [x for task in cut(batch, workers, last=True) for x in task] == batch


@pytest.mark.parametrize(("inputs", "size", "batches"), [
    (0, 500, []),
    (5, 500, [5]),  # the first batch is at most FIRST_BATCH
    (128, 500, [128]),
    (129, 500, [128, 1]),
    (628, 500, [128, 500]),  # the last one full: known as last all the same (read one ahead)
    (1_000, 500, [128, 500, 372]),
    (7, 3, [3, 3, 1]),
])
def test_batches_say_which_is_the_last(inputs: int, size: int, batches: list[int]) -> None:
    from kzdash.pipeline.build import _batches

    got = list(_batches(iter(range(inputs)), size))
    assert [len(batch) for batch, _ in got] == batches
    assert [last for _, last in got] == [i == len(batches) - 1 for i in range(len(batches))]
    assert [x for batch, _ in got for x in batch] == list(range(inputs))


def test_rows_made_by_pool_workers_equal_rows_made_here(tmp_path: Path) -> None:
    """A pool's workers send their articles' rows as Arrow tables of a task of articles (`store.rows_of_task`);
    the build takes each article's rows out of them (a failed article, a duplicate and an undated one among
    them): the tables equal the in-process build's row for row."""
    import multiprocessing as mp

    from kzdash.pipeline import benchdata

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork")
    src = tmp_path / "in"
    benchdata.write_corpus(src, benchdata.load_templates([SAMPLE, DEV]), 90)
    (src / "zz_copy.txt").write_bytes((src / "bench_000004.txt").read_bytes())  # the same text: a duplicate
    (src / "zz_undated.txt").write_text("Astana, Kazakhstan. Officials met on Monday.", encoding="utf-8")
    (src / "zz_binary.txt").write_bytes(b"\x00\x01\x02" * 40)
    here = build(src, tmp_path / "here", workers=1, progress=False, reuse=False, batch_size=40)
    pool = build(src, tmp_path / "pool", workers=2, progress=False, reuse=False, batch_size=40)
    assert (pool.articles, pool.quarantined) == (here.articles, here.quarantined) and here.articles >= 90
    for name in store.TABLES:
        pd.testing.assert_frame_equal(read_all(tmp_path / "pool")[name], read_all(tmp_path / "here")[name], obj=name)
