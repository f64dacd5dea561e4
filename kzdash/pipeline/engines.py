"""The per-article extraction of a build, by engine: this machine's processes here, a Dask cluster
in `kzdash.pipeline.engine_dask`.

An engine is opened once per build (`Engine`: a context manager) and then extracts the articles
batch by batch: given a batch, it returns one outcome per article, in order. Everything else about
a build (reading, reuse, writing) is the same for all engines.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from kzdash.extract.article import process_or_quarantine
from kzdash.extract.gazetteer import load_gazetteer
from kzdash.extract.records import ArticleResult, Quarantined, RawArticle
from kzdash.pipeline.store import input_key, rows_of_task

PARALLEL_FROM = 64  # fewer articles than this are not worth starting worker processes
ENGINES = ("local", "dask")

# True: a progress bar on stderr; a callable is told (articles done, articles in all)
Progress = bool | Callable[[int, int], None]
Outcome = ArticleResult | Quarantined  # or a `store.Written` summary, from a worker that made its rows into tables


class ExtractBatch(Protocol):
    """(one batch of articles, a tick per article done, whether it is the build's last batch) -> one outcome per
    article, in order: a list, or an iterator over work already under way (the build reads and writes other
    batches before it takes them)."""

    def __call__(self, batch: list[RawArticle], tick: Callable[[int], None], *,
                 last: bool = False) -> Iterable[Outcome]: ...


class Engine(Protocol):
    """(boilerplate, workers, staging, many=) -> an open engine for one build; `staging` is a folder of the
    build's where an engine may leave its results' rows as part files (`store.write_parts`) instead of
    returning them; `many`: the input holds at least PARALLEL_FROM articles (`ingest.count_articles`)."""

    def __call__(self, boilerplate: list[str], workers: int, staging: Path, *,
                 many: bool = False) -> AbstractContextManager[ExtractBatch]: ...


class Ticker:
    """Progress of a build, input by input (an article extracted or reused, or an input set aside):
    a bar on stderr, a callback or nothing."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.report = progress if callable(progress) else None
        self.total, self.done = total, 0
        self.bar = None
        if progress is True:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="article", file=sys.stderr, leave=False)

    def __call__(self, n: int) -> None:
        if n <= 0:
            return
        self.done += n
        if self.report is not None:
            self.report(self.done, max(self.total, self.done))
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# a forked worker's boilerplate and gazetteer (inherited from the parent, or loaded by _init_worker)
_WORKER: dict = {}


def _init_worker(boilerplate: list[str]) -> None:
    _WORKER["boilerplate"] = boilerplate
    _WORKER["gaz"] = load_gazetteer()


def _work(raw: RawArticle) -> Outcome:
    return process_or_quarantine(raw, _WORKER["boilerplate"], _WORKER["gaz"])


TASK_ARTICLES = 100  # articles per pool task at most (a task's tables cost ~1 ms whatever its size; 16 an
# article cost the workers 0.35 ms an article more at 10,000 articles, 100 0.05) ...
TASKS_PER_WORKER = 2  # ... and at least this many tasks per worker in a batch, so a small one keeps all busy


TAIL_ARTICLES = 10  # the build's last batch is cut into ever smaller tasks, down to this many articles (`task_sizes`)


def task_size(articles: int, workers: int) -> int:
    """Articles per task for a batch of `articles`: TASK_ARTICLES, or fewer to make TASKS_PER_WORKER."""
    return max(1, min(TASK_ARTICLES, -(-articles // (TASKS_PER_WORKER * max(1, workers)))))


def task_sizes(articles: int, workers: int, *, last: bool = False) -> list[int]:
    """How a batch of `articles` is cut into tasks, in order: `task_size` each; the build's last batch
    tapered, each task a share of the articles left (guided self-scheduling), down to TAIL_ARTICLES
    (or `task_size`, when smaller).

    Why: batches overlap (the next is queued before one ends), so only after the last batch's last task does a
    worker wait, for the others' last tasks: with tasks of 93 articles, 2 workers' build of 4,000 waited
    0.07-0.86 s for one (the Dask task stream, 3 builds). Tasks of 10 leave it a tenth of that, for a few
    more tasks' overhead (about a millisecond each)."""
    size = task_size(articles, workers)
    if not last or workers <= 1:  # (one worker waits for no other)
        return [size] * (articles // size) + ([articles % size] if articles % size else [])
    sizes, left = [], articles
    while left:
        share = -(-left // (TASKS_PER_WORKER * max(1, workers)))
        sizes.append(min(left, max(min(TAIL_ARTICLES, size), min(size, share))))
        left -= sizes[-1]
    return sizes


def cut(batch: list, workers: int, *, last: bool = False) -> list[list]:
    """`batch` cut into tasks of `task_sizes`, in order."""
    tasks, start = [], 0
    for size in task_sizes(len(batch), workers, last=last):
        tasks.append(batch[start:start + size])
        start += size
    return tasks


def _work_task(task: tuple[str, list[RawArticle]]) -> list[Outcome]:
    """A pool task: its articles extracted, their rows made into Arrow tables here (`store.rows_of_task`)."""
    name, raws = task
    return rows_of_task([_work(raw) for raw in raws], [input_key(raw) for raw in raws], name)


PIPE_BYTES = 1 << 20  # room in the pipes tasks go out and results come back through


def _roomy_pipes(pool: object) -> None:
    """Room in the pool's pipes for several chunks (Linux gives 64 KB, about one chunk of articles or
    a third of one of results): a worker hands its results over and takes its next articles without
    waiting for this process, busy making and writing a batch's tables, to read or feed the pipes."""
    try:
        import fcntl

        for queue in (pool._outqueue, pool._inqueue):  # type: ignore[attr-defined]
            fcntl.fcntl(queue._reader.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except (ImportError, AttributeError, OSError, ValueError):
        pass  # not Linux, or pipes capped smaller: the workers wait a little more, nothing else changes


def _ticking(outcomes: Iterator[Outcome], tick: Callable[[int], None]) -> Iterator[Outcome]:
    for outcome in outcomes:
        tick(1)
        yield outcome


@contextmanager
def local_engine(boilerplate: list[str], workers: int, staging: Path | None = None, *,
                 many: bool = False) -> Iterator[ExtractBatch]:
    """The in-process engine: a fork pool (which inherits the loaded gazetteer), or this process. The pool's
    workers send their articles' rows back as Arrow tables (`_work_task`), this process's come as extracted
    (`staging` unused).

    `many`: the folder holds at least PARALLEL_FROM articles, so the pool starts here, before the build
    reads the folder: a worker forked later inherits the folder's list of files and its metadata.csv rows
    (about 30 MB at a hundred thousand articles), and its peak grew with the folder. Else the pool starts at the
    first batch big enough to be worth it."""
    gaz = load_gazetteer()
    pool = None

    def start() -> None:
        nonlocal pool
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
        fork = ctx.get_start_method() == "fork"
        _WORKER.update(boilerplate=boilerplate, gaz=gaz)  # inherited by forked workers
        pool = ctx.Pool(workers, initializer=None if fork else _init_worker, initargs=() if fork else (boilerplate,))
        _roomy_pipes(pool)

    def extract(batch: list[RawArticle], tick: Callable[[int], None], *, last: bool = False) -> Iterator[Outcome]:
        """Starts the batch on the pool (when it is worth one) at once; its outcomes come as they are taken."""
        if workers > 1 and (pool is not None or len(batch) >= PARALLEL_FROM):
            if pool is None:
                start()
            name = uuid.uuid4().hex[:12]
            tasks = [(f"{name}-{i}", task) for i, task in enumerate(cut(batch, workers, last=last))]
            done = (outcome for outcomes in pool.imap(_work_task, tasks) for outcome in outcomes)
        else:
            done = (process_or_quarantine(raw, boilerplate, gaz) for raw in batch)
        return _ticking(done, tick)

    if many and workers > 1:
        start()
    try:
        yield extract
    finally:
        if pool is not None:
            pool.close()
            pool.join()
