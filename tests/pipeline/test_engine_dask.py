"""The Dask engine writes the same tables as the local engine, on a LocalCluster of two worker processes."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import fsspec
import pandas as pd
import pytest
from distributed import Client, LocalCluster

from kzdash.cli import main
from kzdash.pipeline import benchdata, store
from kzdash.pipeline.build import build
from kzdash.pipeline.engine_dask import PLUGIN, check_same_code
from kzdash.pipeline.engines import task_sizes

HERE = Path(__file__).resolve().parents[1]  # tests/
SAMPLE = HERE.parent / "data" / "articles"
DEV = HERE / "fixtures" / "dev"


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        yield c


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Two marked copies of each sample and dev article, one exact duplicate and one binary file."""
    folder = tmp_path_factory.mktemp("corpus") / "in"
    n = benchdata.write_corpus(folder, benchdata.load_templates([SAMPLE, DEV]), 52)
    assert n > 0
    shutil.copy(folder / "bench_000003.txt", folder / "zz_copy_of_3.txt")
    meta = (folder / "metadata.csv").read_text(encoding="utf-8")
    row3 = next(line for line in meta.splitlines() if line.startswith("bench_000003.txt,"))
    (folder / "metadata.csv").write_text(meta + row3.replace("bench_000003", "zz_copy_of_3") + "\n", encoding="utf-8")
    (folder / "zz_binary.txt").write_bytes(b"\x00\x01\x02" * 40)
    return folder


def assert_same_tables(a: Path | str, b: Path | str) -> None:
    for name in store.TABLES:
        left, right = _read(a, name), _read(b, name)
        assert len(left) > 0 or name == "quarantine", f"{name} is empty"
        pd.testing.assert_frame_equal(left, right, obj=name)


def _read(folder: Path | str, name: str) -> pd.DataFrame:
    """A table of a local or remote build: its month files in name order, or its one file."""
    fs, root = fsspec.core.url_to_fs(f"{folder}/{name}.parquet")
    files = sorted(fs.find(root)) if fs.isdir(root) else [root]
    frames = []
    for file in files:
        with fs.open(file, "rb") as fh:
            frames.append(pd.read_parquet(io.BytesIO(fh.read())))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def test_sample_equals_the_local_engine(cluster, tmp_path: Path) -> None:
    local = build(SAMPLE, tmp_path / "local", progress=False)
    dask = build(SAMPLE, tmp_path / "dask", progress=False, engine="dask", scheduler=cluster.scheduler_address)
    assert (dask.articles, dask.events) == (local.articles, local.events) == (5, local.events)
    assert_same_tables(tmp_path / "local", tmp_path / "dask")


def test_generated_corpus_equals_the_local_engine(cluster, corpus: Path, tmp_path: Path) -> None:
    local = build(corpus, tmp_path / "local", progress=False, workers=1)
    seen: list[tuple[int, int]] = []
    dask = build(corpus, tmp_path / "dask", progress=lambda done, total: seen.append((done, total)), engine="dask",
                 scheduler=cluster.scheduler_address)
    assert local.articles == dask.articles == 52
    # every input counted once: 52 copies, the duplicate and the binary file; per task (53 articles on the
    # cluster's 2 workers, the build's one and so last batch: tapered) and per bad file
    assert seen[-1] == (54, 54) and len(seen) == len(task_sizes(53, 2, last=True)) + 1 == 6
    assert_same_tables(tmp_path / "local", tmp_path / "dask")
    q = pd.read_parquet(tmp_path / "dask" / "quarantine.parquet")
    assert set(q.source) == {"zz_binary.txt", "zz_copy_of_3.txt"}
    arts = pd.read_parquet(tmp_path / "dask" / "articles.parquet")
    assert arts.article_id.is_unique and arts.outlet.str.startswith(benchdata.OUTLET).all()


def test_scattered_batches_and_a_queued_last_one_give_the_local_engines_tables(cluster, corpus: Path,
                                                                               tmp_path: Path) -> None:
    """Batches of 16: three go to the workers as scattered data, the last (tapered) inside its tasks."""
    build(corpus, tmp_path / "local", progress=False, workers=1)
    dask = build(corpus, tmp_path / "dask", progress=False, engine="dask", scheduler=cluster.scheduler_address,
                 batch_size=16)
    assert dask.articles == 52
    assert_same_tables(tmp_path / "local", tmp_path / "dask")


def test_urls_in_and_out_with_incremental_reuse(cluster, tmp_path: Path) -> None:
    fs = fsspec.filesystem("memory")
    for path in SAMPLE.iterdir():
        fs.pipe_file(f"/kz-in/{path.name}", path.read_bytes())
    try:
        build(SAMPLE, tmp_path / "local", progress=False)
        first = build("memory://kz-in", "memory://kz-out", progress=False, engine="dask",
                      scheduler=cluster.scheduler_address)
        assert_same_tables(tmp_path / "local", "memory://kz-out")
        fs.pipe_file("/kz-in/extra.txt", b"Astana and Moscow signed a treaty on 3 March 2022.")
        second = build(f"file://{SAMPLE}", "memory://kz-out", progress=False)  # local engine, file:// URL
        assert (first.reused, second.reused, second.articles) == (0, 5, 5)
        assert not [p for p in fs.ls("/", detail=False) if ".kz-out." in p]  # nothing left aside
    finally:
        fs.rm("/kz-in", recursive=True)
        fs.rm("/kz-out", recursive=True)


def test_cli_dask_engine_starts_its_own_cluster(tmp_path: Path, capsys) -> None:
    argv = ["build", "--input", str(SAMPLE), "--out", str(tmp_path / "o"), "--no-progress", "--engine", "dask",
            "--workers", "1"]
    assert main(argv) == 0
    assert "5 articles" in capsys.readouterr().out
    build(SAMPLE, tmp_path / "local", progress=False)
    assert_same_tables(tmp_path / "local", tmp_path / "o")
    assert main(["build", "--input", str(SAMPLE), "--out", str(tmp_path / "o"), "--scheduler", "tcp://x:1"]) == 2


def test_the_build_leaves_no_plugin_on_a_shared_cluster(cluster) -> None:
    with Client(cluster.scheduler_address) as client:
        assert client.run(lambda dask_worker: PLUGIN in dask_worker.plugins) == dict.fromkeys(
            client.scheduler_info()["workers"], False)


def test_workers_with_other_code_are_refused(cluster, monkeypatch) -> None:
    monkeypatch.setattr(store, "fingerprint", lambda: "not-the-workers")
    with Client(cluster.scheduler_address) as client, pytest.raises(RuntimeError, match="differs"):
        check_same_code(client)


def test_workers_write_the_rows_and_return_summaries(cluster, tmp_path: Path) -> None:
    """The rows stay on the workers' side: part files in the staging folder, a summary per article
    back; read from the parts, the rows are the local extraction's, in input order."""
    from kzdash.extract.article import process_or_quarantine
    from kzdash.extract.gazetteer import load_gazetteer
    from kzdash.extract.normalize import load_boilerplate
    from kzdash.extract.records import ArticleResult
    from kzdash.pipeline.engine_dask import dask_engine
    from kzdash.pipeline.ingest import read_folder
    from kzdash.text.langdata import LANG_DIR

    raws, _ = read_folder(DEV)
    boilerplate = load_boilerplate(LANG_DIR)
    local = [process_or_quarantine(raw, boilerplate, load_gazetteer()) for raw in raws]
    for raw, r in zip(raws, local, strict=True):
        r.article["input_key"] = store.input_key(raw)
    want = store.arrow_tables_from(local)
    staging = tmp_path / "staging"
    with dask_engine(cluster.scheduler_address)(boilerplate, 2, staging) as extract:
        got = list(extract(raws, lambda n: None))
    assert all(isinstance(g, store.Written) for g in got) and len(got) == len(raws)
    assert [g.article["article_id"] for g in got] == [r.article["article_id"] for r in local]
    assert len({part[0] for g in got for part in g.parts.values()}) > 4  # several tasks, a file per table each
    kept = [(g.article["article_id"], g.article["input_key"], g) for g in got]
    for name, table in store.batch_tables(kept, store.PreviousBuild()).items():
        assert table.equals(want[name]), name
    store.remove_parts(kept)
    assert not list(staging.glob("*.arrow"))
    with dask_engine(cluster.scheduler_address, write_parts=False)(boilerplate, 2, staging) as extract:
        assert all(isinstance(g, ArticleResult) for g in extract(raws[:3], lambda n: None))


def test_a_batch_starts_when_handed_over_and_is_collected_when_read(cluster) -> None:
    """The build hands batch k+1 over before it writes batch k: the engine must start it then (so the workers
    extract while the client writes), and collect it only when the build reads it."""
    from kzdash.extract.normalize import load_boilerplate
    from kzdash.extract.records import RawArticle
    from kzdash.pipeline.build import LANG_DIR
    from kzdash.pipeline.engine_dask import open_engine
    from kzdash.pipeline.ingest import iter_folder

    raws = [r for r in iter_folder(DEV) if isinstance(r, RawArticle)]
    collected: list[int] = []
    with open_engine(load_boilerplate(LANG_DIR), 2, scheduler=cluster.scheduler_address) as extract:
        pending = extract(raws, collected.append)
        assert collected == []  # handed over, not waited for
        outcomes = list(pending)
    assert sum(collected) == len(raws) == len(outcomes)
    assert [o.article["source"] for o in outcomes] == [r.source for r in raws]
