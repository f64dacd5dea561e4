"""The Dask engine: the per-article extraction as a Dask bag on a cluster.

Only the extraction runs on the workers, batch by batch; reading, reuse of unchanged articles,
duplicate handling and the streaming write stay in `kzdash.pipeline.build` on the client, so the tables equal the local
engine's row for row. The rows do not travel back: each task writes its articles' rows as part files
(one per table) into the build's staging folder and returns a small summary per article
(`store.Written`: ids, source, input key, publication date, notes, where its rows are); the client
moves the rows from the parts into the month files in input order and deletes the parts. This needs a
staging folder the workers can see: always so on a LocalCluster, and on a cluster sharing the build's
filesystem (the output folder on NFS or similar). When a worker cannot see it (checked once per build),
the results come back whole to the client as before. Each worker loads the gazetteer once, when the
build registers its plugin, never per article or per task. Workers must run the same kzdash code and data as the client
(checked by fingerprint before any work is sent).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from distributed import Client, LocalCluster, Worker, WorkerPlugin, as_completed, get_worker

from kzdash.extract.article import process_or_quarantine
from kzdash.extract.gazetteer import Gazetteer, load_gazetteer
from kzdash.extract.records import ArticleResult, Quarantined, RawArticle
from kzdash.pipeline import store
from kzdash.pipeline.engines import Engine, ExtractBatch, Outcome, cut

PLUGIN = "kzdash-extract"
# A batch is cut into tasks as the local engine's pool cuts it (`engines.task_sizes`): up to 100 articles (~0.5 s
# of work, enough to hide a task's overhead), at least 2 per worker, the last batch tapered. 4 per worker made 2
# workers' tasks of 63 articles, not 100: 2 workers took 12.6 s for 4,000 articles with 4, 11.8 s with 2 (1
# worker: 18.1 and 17.8 s; 4 alternating rounds); 250 a task: 12.9 s


class ExtractorPlugin(WorkerPlugin):
    """What every article needs on a worker, set up once per worker (also on workers that join later)."""

    name = PLUGIN

    def __init__(self, boilerplate: list[str]) -> None:
        self.boilerplate = boilerplate
        self.gazetteer: Gazetteer | None = None

    def setup(self, worker: Worker) -> None:
        self.gazetteer = load_gazetteer()


def _extract_partition(raws: list[RawArticle], parts: str | None = None,
                       task: str = "") -> list[ArticleResult | Quarantined | store.Written]:
    """One task: extract a partition of articles with this worker's gazetteer; with `parts`, write
    their rows there (`store.write_parts`) and return only their summaries."""
    plugin: ExtractorPlugin = get_worker().plugins[PLUGIN]
    outcomes = [process_or_quarantine(raw, plugin.boilerplate, plugin.gazetteer) for raw in raws]
    if parts is None:
        return outcomes
    return store.write_parts(outcomes, [store.input_key(raw) for raw in raws], Path(parts), task)


def dask_engine(scheduler: str | None = None, *, write_parts: bool = True) -> Engine:
    """The Dask engine for `kzdash.pipeline.build`; `scheduler` is an address, else a local cluster.
    `write_parts=False`: results come back whole even when the workers could write them."""
    return partial(open_engine, scheduler=scheduler, write_parts=write_parts)


@contextmanager
def open_engine(boilerplate: list[str], workers: int, staging: Path | None = None, *, scheduler: str | None = None,
                write_parts: bool = True, many: bool = False) -> Iterator[ExtractBatch]:
    """A cluster session for one build: the code checked and the gazetteer loaded once per worker,
    then each batch extracted on the workers and returned in input order (as summaries, when the
    workers write the rows into `staging`). The cluster is used whatever the input's size (`many`)."""
    with connect(scheduler, workers) as client:
        check_same_code(client)
        client.register_plugin(ExtractorPlugin(boilerplate))
        parts = Path(staging) if staging is not None and write_parts and workers_see(client, Path(staging)) else None
        try:
            yield partial(_extract_batch, client, parts)
        finally:
            client.unregister_worker_plugin(PLUGIN)  # frees the gazetteer on a shared cluster


def workers_see(client: Client, folder: Path) -> bool:
    """Whether every worker can write into `folder` (the client's): a file made here is seen there."""
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".probe-{uuid.uuid4().hex}"
    probe.touch()
    try:
        return all(client.run(os.path.exists, str(probe)).values())
    finally:
        probe.unlink()


def _extract_batch(client: Client, parts: Path | None, todo: list[RawArticle],
                   tick: Callable[[int], None], *, last: bool = False) -> Iterator[Outcome]:
    """One batch on the cluster: partitions scattered to the workers and started at once; the results (or
    summaries) are collected, in input order, as the returned iterator is read.

    Started here, collected later: the build hands batch k+1 over before it makes and writes batch k's
    rows, so the workers extract while the client works (collected here, the workers sat idle then)."""
    if not todo:
        return iter(())
    chunks = cut(todo, len(client.scheduler_info()["workers"]), last=last)
    batch = uuid.uuid4().hex[:12]
    folder = None if parts is None else str(parts)
    if last:
        # the last batch's articles go inside its tasks: tasks without data on a worker wait on the scheduler and
        # go to whichever worker is free, so its ever smaller tasks (`engines.task_sizes`) even out the workers' ends.
        # Scattered, a task runs where its articles are, given out in turn: with tapered tasks, 2 workers' build of
        # 4,000 still waited 0.12-0.73 s for one of them (3 builds)
        # (in order: each a lower priority than the one before and than every earlier task, which are 0; submitted
        # one by one, they reach the scheduler's queue in no set order)
        futures = [client.submit(_extract_partition, chunk, folder, f"{batch}-{i:05d}", key=f"kzdash-last-{batch}-{i}",
                                 priority=-1 - i) for i, chunk in enumerate(chunks)]
        return _collected(futures, [], tick)
    # the articles go to the workers directly (scatter), not inside the task graph via the scheduler
    scattered = client.scatter(chunks, hash=False)  # held until the results are in
    futures = [client.submit(_extract_partition, chunk, folder, f"{batch}-{i:05d}", pure=False)
               for i, chunk in enumerate(scattered)]
    return _collected(futures, scattered, tick)


def _collected(futures: list, scattered: list, tick: Callable[[int], None]) -> Iterator[Outcome]:
    """The partitions' outcomes in input order, taken as each partition finishes (overlapping the transfer
    with the work left); `scattered` is held until then."""
    slot = {f.key: i for i, f in enumerate(futures)}
    done: list[list] = [[] for _ in futures]
    for future, part in as_completed(futures, with_results=True):
        if future.status != "finished":  # cancelled: the cluster lost the data or shut down
            raise RuntimeError(f"Dask partition {slot[future.key]} was {future.status}: {part}")
        done[slot[future.key]] = part
        tick(len(part))
    del scattered
    for part in done:
        yield from part


@contextmanager
def connect(scheduler: str | None, workers: int) -> Iterator[Client]:
    """A client of the given scheduler, or of a local cluster of `workers` single-threaded processes."""
    if scheduler:
        with Client(scheduler) as client:
            client.wait_for_workers(1, timeout=120)
            yield client
        return
    # one thread per process: the extraction is pure Python, threads would share one GIL; ":0": any free port
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        yield client


def check_same_code(client: Client) -> None:
    """Refuse to build when a worker's kzdash code or data differ from this client's."""
    mine = store.fingerprint()
    stale = sorted(addr for addr, theirs in client.run(_worker_fingerprint).items() if theirs != mine)
    if stale:
        raise RuntimeError(f"kzdash on worker(s) {', '.join(stale)} differs from this client's "
                           f"(fingerprint {mine}); install the same kzdash version and data on every worker")


def _worker_fingerprint() -> str:
    """Run on each worker: the fingerprint of the kzdash code and data installed there."""
    return store.fingerprint()
