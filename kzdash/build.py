"""The build: a folder of articles in, the contract's Parquet tables out.

ingest -> normalize -> language -> published -> geoparse -> temporal -> events -> store.
`process_article` is pure per article (so the Dask engine can map it); `build` adds reading,
incremental reuse of unchanged articles, parallel workers, progress and the atomic write. Only the
per-article map differs between engines: in-process (a fork pool) or Dask (`kzdash.engine_dask`).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kzdash import fsurl, store
from kzdash.actors import find_actors, mask_places
from kzdash.events import find_events, happening_id, summary
from kzdash.gazetteer import Gazetteer, load_gazetteer
from kzdash.geoparse import find_places
from kzdash.ingest import read_folder
from kzdash.langdata import LANG_DIR
from kzdash.language import detect_language
from kzdash.normalize import load_boilerplate, normalize
from kzdash.published import infer_published
from kzdash.records import Quarantined, RawArticle
from kzdash.sentences import sentence_spans
from kzdash.stances import find_stances
from kzdash.temporal import find_dates
from kzdash.textnorm import fold

PARALLEL_FROM = 64  # fewer articles than this are not worth starting worker processes


@dataclass
class ArticleResult:
    """The rows one article contributes to each table."""

    article: dict
    places: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    stances: list[dict] = field(default_factory=list)


def article_id(text: str, language: str | None, published: str | None) -> str:
    """Content hash: the same text with the same language and date is the same article."""
    h = hashlib.sha256(f"{language}\x1f{published}\x1f{text}".encode())
    return h.hexdigest()[:20]


def process_article(raw: RawArticle, boilerplate: list[str], gaz: Gazetteer) -> ArticleResult:
    """Every row one article yields (pure: reads nothing but its arguments and language data)."""
    art = normalize(raw, boilerplate)
    text = art.text
    code = art.language or detect_language(text)
    # metadata proper (raw.published) outranks everything; the header line is one clue among others
    pub = infer_published(text, code, raw.published, art.url, art.header)
    aid = article_id(text, code, pub.value)
    base = {"article_id": aid, "outlet": art.outlet, "language": code}
    folded = fold(text)
    places = find_places(text, code, gaz, folded)
    actors = find_actors(text, folded, code, places)
    places = mask_places(places, actors)
    dates = find_dates(text, code, pub.value, folded)
    sentences = sentence_spans(text)
    events = find_events(text, folded, code, sentences, dates, places, pub.value, actors)
    stances = find_stances(folded, code, sentences, actors)
    result = ArticleResult(article={
        "article_id": aid, "source": art.source, "outlet": art.outlet, "language": code,
        "language_basis": "metadata" if art.language else "detected",
        "published": pub.value, "published_basis": pub.basis, "title": art.title, "url": art.url,
        "text": text, "stripped": json.dumps(art.stripped, ensure_ascii=False),
    })
    for m in places:
        result.places.append({
            **base, "place_id": m.place_id, "name": m.name, "kind": m.kind, "country": m.country,
            "lat": m.lat, "lon": m.lon, "start": m.start, "end": m.end, "surface": m.surface,
            "rule": m.rule, "confidence": m.confidence,
        })
    for i, ev in enumerate(events):
        p = ev.place
        result.events.append({
            **base, "event_id": f"{aid}-e{i}", "event_type": ev.event_type, "date": ev.date,
            "date_precision": ev.date_precision, "date_rule": ev.date_rule, "actor": ev.actor, "target": ev.target,
            "place_id": p.place_id if p else None, "place_name": p.name if p else None,
            "country": p.country if p else None, "lat": p.lat if p else None, "lon": p.lon if p else None,
            "summary": summary(ev), "evidence": text[ev.start:ev.end], "start": ev.start, "end": ev.end,
            "confidence": ev.confidence, "type_rule": ev.type_rule, "background": ev.background,
            "happening_id": happening_id(ev), "published": pub.value,
        })
    for i, st in enumerate(stances):
        when = next((d for d in dates if st.start <= d.start < st.end and d.precision == "day"), None)
        result.stances.append({
            **base, "stance_id": f"{aid}-s{i}", "holder": st.holder, "issue": st.issue,
            "polarity": st.polarity, "date": when.date if when else _day_or_none(pub.value),
            "evidence": text[st.start:st.end], "start": st.start, "end": st.end,
            "confidence": st.confidence, "rule": st.rule,
        })
    return result


def _day_or_none(iso: str | None) -> str | None:
    return iso if iso and len(iso) == 10 else None


# ------------------------------------------------------------------ the build command

_WORKER: dict = {}


def _init_worker(boilerplate: list[str]) -> None:
    _WORKER["boilerplate"] = boilerplate
    _WORKER["gaz"] = load_gazetteer()


def _work(raw: RawArticle) -> ArticleResult | Quarantined:
    return process_or_quarantine(raw, _WORKER["boilerplate"], _WORKER["gaz"])


def process_or_quarantine(raw: RawArticle, boilerplate: list[str], gaz: Gazetteer) -> ArticleResult | Quarantined:
    """A failure on one article quarantines that article; the build goes on."""
    try:
        return process_article(raw, boilerplate, gaz)
    except Exception as exc:  # noqa: BLE001 - any bug on odd input must not sink the build
        return Quarantined(raw.source, raw.line, f"extraction failed: {type(exc).__name__}: {exc}")


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


# True: a progress bar on stderr; a callable is told (articles extracted, articles to extract)
Progress = bool | Callable[[int, int], None]


def _progress(items, total: int, progress: Progress):
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
        from kzdash.engine_dask import dask_map

        article_map = dask_map(scheduler)
    else:
        article_map = _local_map
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


def _local_map(todo: list[RawArticle], boilerplate: list[str], workers: int,
               progress: Progress) -> list[ArticleResult | Quarantined]:
    """The in-process engine: a fork pool (which inherits the loaded gazetteer) or this process."""
    gaz = load_gazetteer()
    if workers > 1 and len(todo) >= PARALLEL_FROM:
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
        _WORKER.update(boilerplate=boilerplate, gaz=gaz)  # inherited by forked workers
        with ctx.Pool(workers, initializer=None if ctx.get_start_method() == "fork" else _init_worker,
                      initargs=() if ctx.get_start_method() == "fork" else (boilerplate,)) as pool:
            done = pool.imap(_work, todo, chunksize=16)
            return list(_progress(done, len(todo), progress))
    return [process_or_quarantine(raw, boilerplate, gaz) for raw in _progress(todo, len(todo), progress)]


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
