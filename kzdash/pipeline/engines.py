"""The per-article map of a build, by engine: this machine's processes here, a Dask cluster in
`kzdash.pipeline.engine_dask`. An engine takes the articles to extract and returns one outcome per article,
in order; everything else about a build (reading, reuse, writing) is the same for all engines.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
from collections.abc import Callable

from kzdash.extract.article import process_or_quarantine
from kzdash.extract.gazetteer import load_gazetteer
from kzdash.extract.records import ArticleResult, Quarantined, RawArticle

PARALLEL_FROM = 64  # fewer articles than this are not worth starting worker processes

# True: a progress bar on stderr; a callable is told (articles extracted, articles to extract)
Progress = bool | Callable[[int, int], None]


def with_progress(items, total: int, progress: Progress):
    if callable(progress):
        return _reporting(items, total, progress)
    if not progress:
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, unit="article", file=sys.stderr, leave=False)


def _reporting(items, total: int, report: Callable[[int, int], None]):
    for done, item in enumerate(items, start=1):
        yield item
        report(done, total)


ENGINES = ("local", "dask")
# an engine's map: (articles to extract, boilerplate, workers, progress) -> one outcome per article, in order
ArticleMap = Callable[[list[RawArticle], list[str], int, Progress], list[ArticleResult | Quarantined]]

# a forked worker's boilerplate and gazetteer (inherited from the parent, or loaded by _init_worker)
_WORKER: dict = {}


def _init_worker(boilerplate: list[str]) -> None:
    _WORKER["boilerplate"] = boilerplate
    _WORKER["gaz"] = load_gazetteer()


def _work(raw: RawArticle) -> ArticleResult | Quarantined:
    return process_or_quarantine(raw, _WORKER["boilerplate"], _WORKER["gaz"])


def local_map(todo: list[RawArticle], boilerplate: list[str], workers: int,
              progress: Progress) -> list[ArticleResult | Quarantined]:
    """The in-process engine: a fork pool (which inherits the loaded gazetteer) or this process."""
    gaz = load_gazetteer()
    if workers > 1 and len(todo) >= PARALLEL_FROM:
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
        _WORKER.update(boilerplate=boilerplate, gaz=gaz)  # inherited by forked workers
        with ctx.Pool(workers, initializer=None if ctx.get_start_method() == "fork" else _init_worker,
                      initargs=() if ctx.get_start_method() == "fork" else (boilerplate,)) as pool:
            done = pool.imap(_work, todo, chunksize=16)
            return list(with_progress(done, len(todo), progress))
    return [process_or_quarantine(raw, boilerplate, gaz) for raw in with_progress(todo, len(todo), progress)]
