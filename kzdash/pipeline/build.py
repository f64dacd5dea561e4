"""The build: a folder of articles in, the contract's Parquet tables out.

ingest -> (per article, pure: `kzdash.extract.article.process_article`) -> store.
`build` adds reading, incremental reuse of unchanged articles, parallel workers, progress and the
atomic write, streaming: a batch of articles at a time goes from the folder to the table files.
Only the extraction differs between engines (`kzdash.pipeline.engines`): in-process (a fork pool)
or Dask (`kzdash.pipeline.engine_dask`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kzdash.extract.normalize import load_boilerplate
from kzdash.extract.records import ArticleResult, Quarantined, RawArticle
from kzdash.pipeline import fsurl, store
from kzdash.pipeline.engines import ENGINES, PARALLEL_FROM, Engine, Outcome, Progress, Ticker, local_engine
from kzdash.pipeline.ingest import count_articles, iter_folder
from kzdash.text.langdata import LANG_DIR

BATCH_ARTICLES = 500  # articles read, extracted and written together: what a build holds in memory (~0.1 MB each)
FIRST_BATCH = 128  # the first batch is small, so the workers start soon (not under PARALLEL_FROM)
BATCH_CHARS = 20_000_000  # ... or fewer, when their texts add up to this many characters


@dataclass
class BuildSummary:
    articles: int
    reused: int
    places: int
    events: int
    stances: int
    quarantined: int
    seconds: float
    out: str

    def line(self) -> str:
        return (f"kzdash: built {self.out}: {self.articles} articles ({self.reused} unchanged), "
                f"{self.places} places, {self.events} events, {self.stances} stances, "
                f"{self.quarantined} quarantined in {self.seconds:.2f} s")


def build(input_dir: Path | str, out_dir: Path | str, *, workers: int | None = None, progress: Progress = True,
          reuse: bool = True, engine: str = "local", scheduler: str | None = None,
          batch_size: int = BATCH_ARTICLES) -> BuildSummary:
    """Build the tables for every article under `input_dir` into `out_dir` (atomically).

    Either may be an fsspec URL (`s3://…`, `memory://…`); remote folders are staged through a local
    temporary folder. `engine="dask"` extracts on a Dask cluster (`scheduler` address, else a local one).
    Articles are read, extracted and written `batch_size` at a time, so memory holds one batch.
    """
    t0 = time.perf_counter()
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if engine == "dask":
        from kzdash.pipeline.engine_dask import dask_engine

        opened: Engine = dask_engine(scheduler)
    else:
        opened = local_engine
    with fsurl.staged_input(input_dir) as src, fsurl.staged_output(out_dir, fetch_previous=reuse) as dst:
        summary = _build(src, dst, opened, workers=workers, progress=progress, reuse=reuse,
                         input_name=str(input_dir), batch_size=batch_size)
    summary.out, summary.seconds = str(out_dir), time.perf_counter() - t0
    return summary


def _build(input_dir: Path, out_dir: Path, engine: Engine, *, workers: int | None, progress: Progress,
           reuse: bool, input_name: str, batch_size: int) -> BuildSummary:
    """The build on local folders, batch by batch; the engine only extracts."""
    boilerplate = load_boilerplate(LANG_DIR)
    fingerprint = store.fingerprint()
    workers = workers or min(os.cpu_count() or 1, 4)
    unreadable: list[Quarantined] = []  # set aside while reading, then while extracting, then duplicates
    failed: list[Quarantined] = []
    dupes: list[Quarantined] = []
    capped: list[Quarantined] = []  # articles built, with a note on what was capped
    seen: dict[str, str] = {}  # article id -> the source that had it first
    articles = reused = 0
    total = count_articles(input_dir) if progress else count_articles(input_dir, at_most=PARALLEL_FROM)
    ticker = Ticker(progress, total if progress else 0)
    writer = store.BuildWriter(out_dir)
    previous = writer.previous  # the previous build is read once the engine has started (`_build`'s loop)

    def finish_batch(raws: list[RawArticle], keys: list[str], hits: list[str | None],
                     outcomes: Iterator[Outcome]) -> None:
        """A batch's outcomes (waited for here) checked for failures and duplicates, and its rows written."""
        nonlocal articles, reused
        order: list[tuple[str, str, str, ArticleResult | None]] = []  # (article id, source, input key, new result)
        for raw, key, hit in zip(raws, keys, hits, strict=True):
            if hit is not None:
                order.append((hit, raw.source, key, None))
                continue
            outcome = next(outcomes)
            if isinstance(outcome, Quarantined):
                print(f"kzdash: skipped {outcome.source}: {outcome.reason}", file=sys.stderr)
                failed.append(outcome)
                continue
            outcome.article["input_key"] = key
            order.append((outcome.article["article_id"], outcome.article["source"], key, outcome))
        kept = []
        for aid, source, key, result in order:
            if aid in seen:  # the same content twice is one article; the later copy is set aside
                dupes.append(Quarantined(source, None, f"duplicate of {seen[aid]}"))
                continue
            seen[aid] = source
            kept.append((aid, key, result))
            notes = previous.notes(source) if result is None else result.notes
            capped.extend(Quarantined(source, None, note) for note in notes)
            reused += result is None
        articles += len(kept)
        writer.write_articles(kept)
        store.remove_parts(order)  # rows a worker wrote, now in the month files (or a duplicate's)

    try:
        # the engine starts first: processes it forks do not inherit what is read below (they would hold
        # the previous build's input keys and the folder's list of files and metadata)
        with engine(boilerplate, workers, writer.parts_dir / "tasks", many=total >= PARALLEL_FROM) as extract:
            if reuse:
                previous = writer.previous = store.PreviousBuild(out_dir, fingerprint)
            # pipelined: batch k+1 is read and handed to the engine before batch k's rows are made and
            # written, so the workers extract while this process reads, builds tables and writes
            pending: tuple | None = None
            for batch, last in _batches(iter_folder(input_dir), batch_size):
                raws = []
                for item in batch:
                    if isinstance(item, Quarantined):
                        where = f" line {item.line}" if item.line else ""
                        print(f"kzdash: skipped {item.source}{where}: {item.reason}", file=sys.stderr)
                        unreadable.append(item)
                        ticker(1)
                    else:
                        raws.append(item)
                keys = [store.input_key(raw) for raw in raws]
                hits = [previous.article_id(key) for key in keys]
                todo = [raw for raw, hit in zip(raws, hits, strict=True) if hit is None]
                ticker(len(raws) - len(todo))
                started = iter(extract(todo, ticker, last=last) if todo else [])
                if pending is not None:
                    finish_batch(*pending)
                pending = (raws, keys, hits, started)
            if pending is not None:
                finish_batch(*pending)
    except BaseException:
        writer.abandon()
        ticker.close()
        raise
    ticker.close()
    seen.clear()  # (a hundred thousand articles' ids: 17 MB, not needed to finish)
    rows = writer.finish(unreadable + failed + dupes + capped, {"fingerprint": fingerprint, "input": input_name})
    return BuildSummary(articles, reused, rows["places"], rows["events"], rows["stances"], rows["quarantine"],
                        0.0, str(out_dir))


_END = object()  # `_batches`: no more inputs


def _batches(items: Iterator, size: int) -> Iterator[tuple[list, bool]]:
    """Batches of `size` inputs, or fewer when their texts reach BATCH_CHARS (a folder of long
    texts must not fill memory in one batch), each with whether it is the last (one input is read
    ahead to know: the engine cuts the last batch finer). The first is at most FIRST_BATCH: the
    workers start on it while the rest of the next batch is read."""
    items = iter(items)
    ahead = next(items, _END)
    limit = min(max(1, size), FIRST_BATCH)
    while ahead is not _END:
        batch: list = []
        chars = 0
        while ahead is not _END and len(batch) < limit and chars < BATCH_CHARS:
            batch.append(ahead)
            chars += len(getattr(ahead, "raw_text", ""))
            ahead = next(items, _END)
        yield batch, ahead is _END
        limit = max(1, size)
