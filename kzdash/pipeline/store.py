"""Storage: the contract's Parquet tables plus a DuckDB file, written aside and swapped in.

A build writes everything into a sibling folder first; only when every file is complete does
it replace the previous build, so a failed build never destroys the last good one. The
previous build also serves as the cache for incremental builds: an input whose content and
metadata are unchanged, under unchanged code and data, reuses its rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kzdash.extract.records import ArticleResult
from kzdash.pipeline.happenings import happening_ids
from kzdash.text.langdata import DATA_DIR

if TYPE_CHECKING:
    from kzdash.extract.records import Quarantined, RawArticle

COLUMNS: dict[str, list[str]] = {
    "articles": ["article_id", "source", "outlet", "language", "language_basis", "published",
                 "published_basis", "title", "url", "text", "stripped", "input_key"],
    "places": ["article_id", "place_id", "name", "kind", "country", "lat", "lon", "start", "end",
               "surface", "rule", "confidence", "outlet", "language"],
    "events": ["event_id", "article_id", "event_type", "date", "date_precision", "date_rule", "actor",
               "target", "place_id", "place_name", "country", "lat", "lon", "summary", "evidence",
               "start", "end", "confidence", "type_rule", "background", "happening_id", "published",
               "outlet", "language"],
    "stances": ["stance_id", "article_id", "holder", "issue", "polarity", "date", "evidence", "start",
                "end", "confidence", "rule", "outlet", "language"],
    "quarantine": ["source", "line", "reason"],
}
FLOATS = {"lat", "lon", "confidence"}
INTS = {"start", "end", "line"}
DATES = {("events", "date"), ("stances", "date")}
TABLES = tuple(COLUMNS)
CODE_DIR = Path(__file__).resolve().parents[1]  # the kzdash package, all its layers


def fingerprint() -> str:
    """Hash of the code and data that shape the rows: a change invalidates reuse."""
    h = hashlib.sha256()
    files = sorted(CODE_DIR.rglob("*.py")) + sorted(DATA_DIR.glob("lang/*/*.yaml")) + sorted(
        DATA_DIR.glob("gazetteer/*")) + [DATA_DIR / "taxonomy.yaml", DATA_DIR / "calibration.yaml"]
    for path in files:
        if path.is_file():
            h.update((str(path.relative_to(CODE_DIR)) if path.is_relative_to(CODE_DIR) else path.name).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def input_key(raw: RawArticle) -> str:
    """What identifies an input for reuse: its text and every metadata field that matters."""
    fields = [raw.source, raw.raw_text, raw.title, raw.url, raw.outlet, raw.published, raw.language]
    return hashlib.sha256("\x1f".join(str(f) for f in fields).encode()).hexdigest()[:20]


def _typed(name: str, df: pd.DataFrame) -> pd.DataFrame:
    for col in df.columns:
        if col in FLOATS:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
        elif col in INTS:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
        elif (name, col) in DATES:
            df[col] = pd.to_datetime(df[col], errors="coerce").dt.date
        elif col == "background":
            df[col] = df[col].astype("boolean")
        else:
            df[col] = df[col].astype("string")
    return df


def tables_from(results: list[ArticleResult], quarantined: list[Quarantined]) -> dict[str, pd.DataFrame]:
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    for r in results:
        rows["articles"].append(r.article)
        extra = {"outlet": r.article.get("outlet"), "language": r.article.get("language")}
        rows["places"] += [{**extra, **p} for p in r.places]
        rows["events"] += [{**extra, **e} for e in r.events]
        rows["stances"] += [{**extra, **s} for s in r.stances]
    rows["quarantine"] = [{"source": q.source, "line": q.line, "reason": q.reason} for q in quarantined]
    tables = {name: _typed(name, pd.DataFrame(rows[name], columns=COLUMNS[name])) for name in TABLES}
    # reports of one happening across articles and outlets share an id (kzdash.pipeline.happenings)
    countries = set(tables["places"].loc[tables["places"]["kind"] == "country", "place_id"].dropna().astype(str))
    tables["events"]["happening_id"] = happening_ids(tables["events"], countries)
    return tables


_THREAD_LOCKS: dict[str, threading.Lock] = {}


@contextlib.contextmanager
def file_lock(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """An exclusive lock on `path` for processes and threads alike; yields whether it was taken
    (always, when blocking). `flock` where the platform has it; elsewhere a lock for this process's
    threads only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no flock
        lock = _THREAD_LOCKS.setdefault(str(path), threading.Lock())
        taken = lock.acquire(blocking=blocking)
        try:
            yield taken
        finally:
            if taken:
                lock.release()
        return
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def build_lock(out_dir: Path) -> Iterator[None]:
    """One writer at a time for a build folder's swap (and for the first-run build).

    Many sessions of one hosted app may open the first page at once: without this, each starts
    the first-run build and their swaps collide."""
    out_dir = Path(out_dir)
    with file_lock(out_dir.parent / f".{out_dir.name}.swap-lock"):
        yield


def write_atomic(out_dir: Path, tables: dict[str, pd.DataFrame], info: dict) -> None:
    """Write every table into a sibling folder, then swap it in for `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.building-"))
    try:
        for name, df in tables.items():
            df.to_parquet(tmp / f"{name}.parquet", index=False)
        _write_duckdb(tmp)
        meta = {**info, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "rows": {name: len(df) for name, df in tables.items()}}
        (tmp / "build.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with build_lock(out_dir):
        old = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.previous-"))
        if out_dir.exists():
            out_dir.replace(old / "build")
        tmp.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _write_duckdb(folder: Path) -> None:
    """A DuckDB file holding the tables, for the dashboard's queries."""
    import duckdb

    con = duckdb.connect(str(folder / "kzdash.duckdb"))
    try:
        for name in TABLES:
            path = str(folder / f"{name}.parquet").replace("'", "''")
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{path}')")
    finally:
        con.close()


def read_table(build_dir: Path, name: str) -> pd.DataFrame:
    path = Path(build_dir) / f"{name}.parquet"
    return pd.read_parquet(path) if path.is_file() else pd.DataFrame(columns=COLUMNS[name])


def load_previous(out_dir: Path, current_fingerprint: str) -> dict[str, ArticleResult]:
    """Rows of the previous build by input key, when it was made by the same code and data."""
    info_path = Path(out_dir) / "build.json"
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if info.get("fingerprint") != current_fingerprint:
        return {}
    try:
        tables = {name: read_table(out_dir, name) for name in ("articles", "places", "events", "stances")}
    except Exception:  # noqa: BLE001 - an unreadable previous build is simply not reused
        return {}
    by_article = {name: {aid: g for aid, g in df.groupby("article_id")} for name, df in tables.items()
                  if name != "articles" and len(df)}
    out: dict[str, ArticleResult] = {}
    for art in tables["articles"].to_dict("records"):
        aid = art["article_id"]
        rows = {name: _records(by_article.get(name, {}).get(aid)) for name in ("places", "events", "stances")}
        out[art["input_key"]] = ArticleResult(article=_clean(art), **rows)
    return out


def _records(df: pd.DataFrame | None) -> list[dict]:
    if df is None:
        return []
    return [_clean(r) for r in df.drop(columns=["outlet", "language"], errors="ignore").to_dict("records")]


def _clean(row: dict) -> dict:
    """pandas NA back to None, dates back to ISO strings."""
    out = {}
    for k, v in row.items():
        if v is pd.NA or (isinstance(v, float) and v != v):
            v = None
        elif hasattr(v, "isoformat") and not isinstance(v, str):
            v = v.isoformat()
        out[k] = v
    return out
