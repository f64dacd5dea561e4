"""The build: a folder of articles in, the contract's Parquet tables out.

ingest -> (per article, pure: `kzdash.extract.article.process_article`) -> store.
`build` adds reading, incremental reuse of unchanged articles, parallel workers, progress and the
atomic write. Only the per-article map differs between engines (`kzdash.pipeline.engines`): in-process (a
fork pool) or Dask (`kzdash.pipeline.engine_dask`).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from kzdash.extract.normalize import load_boilerplate
from kzdash.extract.records import ArticleResult, Quarantined
from kzdash.pipeline import fsurl, store
from kzdash.pipeline.engines import ENGINES, ArticleMap, Progress, local_map
from kzdash.pipeline.ingest import read_folder
from kzdash.text.langdata import LANG_DIR


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
          reuse: bool = True, engine: str = "local", scheduler: str | None = None) -> BuildSummary:
    """Build the tables for every article under `input_dir` into `out_dir` (atomically).

    Either may be an fsspec URL (`s3://…`, `memory://…`); remote folders are staged through a local
    temporary folder. `engine="dask"` extracts on a Dask cluster (`scheduler` address, else a local one).
    """
    t0 = time.perf_counter()
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if engine == "dask":
        from kzdash.pipeline.engine_dask import dask_map

        article_map = dask_map(scheduler)
    else:
        article_map = local_map
    with fsurl.staged_input(input_dir) as src, fsurl.staged_output(out_dir, fetch_previous=reuse) as dst:
        summary = _build(src, dst, article_map, workers=workers, progress=progress, reuse=reuse,
                         input_name=str(input_dir))
    summary.out, summary.seconds = str(out_dir), time.perf_counter() - t0
    return summary


def _build(input_dir: Path, out_dir: Path, article_map: ArticleMap, *, workers: int | None, progress: Progress,
           reuse: bool, input_name: str) -> BuildSummary:
    """The build on local folders; `article_map` is the only part an engine replaces."""
    raws, quarantined = read_folder(input_dir)
    for q in quarantined:
        where = f" line {q.line}" if q.line else ""
        print(f"kzdash: skipped {q.source}{where}: {q.reason}", file=sys.stderr)
    boilerplate = load_boilerplate(LANG_DIR)
    fingerprint = store.fingerprint()
    previous = store.load_previous(out_dir, fingerprint) if reuse else {}
    todo, results = [], []
    for raw in raws:
        hit = previous.get(store.input_key(raw))
        if hit is not None:
            results.append(hit)
        else:
            todo.append(raw)
    reused = len(results)
    workers = workers or min(os.cpu_count() or 1, 4)
    outcomes = article_map(todo, boilerplate, workers, progress) if todo else []
    for raw, outcome in zip(todo, outcomes, strict=True):
        if isinstance(outcome, Quarantined):
            print(f"kzdash: skipped {outcome.source}: {outcome.reason}", file=sys.stderr)
            quarantined.append(outcome)
        else:
            outcome.article["input_key"] = store.input_key(raw)
            results.append(outcome)
    results, dupes = _dedupe(results)
    quarantined += dupes
    tables = store.tables_from(results, quarantined)
    store.write_atomic(out_dir, tables, {"fingerprint": fingerprint, "input": input_name})
    return BuildSummary(len(results), reused, len(tables["places"]), len(tables["events"]),
                        len(tables["stances"]), len(tables["quarantine"]), 0.0, str(out_dir))


def _dedupe(results: list[ArticleResult]) -> tuple[list[ArticleResult], list[Quarantined]]:
    """The same content twice is one article; the later copy is set aside with the reason."""
    seen: dict[str, str] = {}
    kept, dupes = [], []
    for r in results:
        aid = r.article["article_id"]
        if aid in seen:
            dupes.append(Quarantined(r.article["source"], None, f"duplicate of {seen[aid]}"))
        else:
            seen[aid] = r.article["source"]
            kept.append(r)
    return kept, dupes
