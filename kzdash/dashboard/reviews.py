"""A reviewer's word on a row: confirm, reject or correct it, kept in a store that outlives builds.

The build folder is replaced whole on every rebuild, so reviews live beside it in one SQLite file
per workspace (`default_path`). The store is an append-only log (who, when, what, before, after,
note); the current review of a row is derived from it: the latest action not undone (`undo` takes
back the last action on that row, a second undo the one before it, and so on).

A review is keyed by what a rebuild of the same articles reproduces: the table (kind), the article
id, the span, and the fields that tell apart rows sharing a span (stance: holder, issue, polarity;
event: event_type, date, date_precision; place: place_id), with a hash of the evidence (places: the
surface) and the article's source file kept beside the key. Against a build a review then

  applies     its row is there, with the same evidence;
  needs_look  its row is gone (or its evidence changed) but its article is still in the build, by id
              or by source file: an edited article gets a new id, so its reviews are shown on the
              nearest row of the same claim as "review needs a look", never re-applied or dropped;
  gone        its article is no longer in the build; the review is kept and listed.

Corrections are checked against the vocabulary (data/taxonomy.yaml, the gazetteer for places);
notes are plain text (bounded, control characters stripped) and are never markup. Everything here
is pure pandas/pyarrow and stdlib sqlite3: no Streamlit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kzdash.dashboard.vocab import POLARITIES, UNTYPED, vocab

KINDS = ("stance", "event", "place")
TABLE_OF = {"stance": "stances", "event": "events", "place": "places"}
ACTIONS = ("confirm", "reject", "correct", "undo")
STATUS_OF = {"confirm": "confirmed", "reject": "rejected", "correct": "corrected"}
PRECISIONS = ("day", "month", "year")
# the fields (besides article and span) that tell apart rows sharing a span; their extracted values
KEY_FIELDS = {"stance": ("holder", "issue", "polarity"), "event": ("event_type", "date", "date_precision"),
              "place": ("place_id",)}
CORRECTABLE = {"stance": ("holder", "issue", "polarity"),
               "event": ("event_type", "date", "date_precision", "place_id"), "place": ("place_id",)}
ALL_FIELDS = ("holder", "issue", "polarity", "event_type", "date", "date_precision", "place_id")
EVIDENCE_OF = {"stance": "evidence", "event": "evidence", "place": "surface"}
# a corrected place_id carries the place's other columns with it (from the gazetteer)
PLACE_COLUMNS = {"event": {"place_name": "name", "country": "country", "lat": "lat", "lon": "lon"},
                 "place": {"name": "name", "kind": "kind", "country": "country", "lat": "lat", "lon": "lon"}}
# which rule column answers for which fields: feedback per rule (rule_precision)
RULE_COLUMNS = {"stance": {"rule": ("holder", "issue", "polarity")},
                "event": {"type_rule": ("event_type",), "date_rule": ("date", "date_precision")},
                "place": {"rule": ("place_id",)}}
MAX_NOTE = 2_000
MAX_REVIEWER = 200
SEP = "|"
SCHEMA_VERSION = 1
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell that begins with one of these

LOG_COLUMNS = ["seq", "at", "reviewer", "kind", "review_key", "article_id", "source", "start", "end", "fields",
               "evidence_hash", "action", "before", "after", "note"]
CURRENT_COLUMNS = ["review_key", "kind", "article_id", "source", "start", "end", *ALL_FIELDS, "evidence_hash",
                   "review", "reviewer", "reviewed_at", "note", "corrected_fields",
                   *(f"set_{f}" for f in ALL_FIELDS), "actions"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('stance', 'event', 'place')),
    review_key TEXT NOT NULL,
    article_id TEXT NOT NULL,
    source TEXT,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    fields TEXT NOT NULL,
    evidence_hash TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('confirm', 'reject', 'correct', 'undo')),
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS log_by_key ON log (review_key, seq);
"""


class ReviewError(ValueError):
    """A review that cannot be saved: an unknown value, an empty correction, nothing to undo."""


# --- keys ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowKey:
    """What identifies a reviewed row across rebuilds, and what tells whether it changed."""

    kind: str
    article_id: str
    start: int
    end: int
    fields: tuple[tuple[str, str], ...]  # KEY_FIELDS[kind] with their extracted values ("" when missing)
    evidence_hash: str
    source: str | None = None

    @property
    def text(self) -> str:
        """The key as one string (the same as `row_keys` and `key_sql` compute for a table)."""
        return SEP.join([self.kind, self.article_id, str(self.start), str(self.end), *(v for _, v in self.fields)])


def default_path(build_dir: Path | str) -> Path:
    """"<build folder>.reviews.sqlite" beside the build folder: a rebuild swaps the folder, not this."""
    build_dir = Path(build_dir)
    return build_dir.with_name(build_dir.name + ".reviews.sqlite")


def evidence_hash(text: Any) -> str:
    """A short hash of the evidence (or surface) text: it tells whether the reviewed words changed."""
    value = "" if _missing(text) else str(text)
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def row_key(kind: str, row: Mapping[str, Any], source: str | None = None) -> RowKey:
    """The key of one row of the kind's table (a dict or a DataFrame row)."""
    _check_kind(kind)
    fields = tuple((f, _key_value(f, row.get(f))) for f in KEY_FIELDS[kind])
    return RowKey(kind, str(row["article_id"]), int(row["start"]), int(row["end"]), fields,
                  evidence_hash(row.get(EVIDENCE_OF[kind])), None if _missing(source) else str(source))


def row_keys(kind: str, table: pd.DataFrame) -> pd.Series:
    """`RowKey.text` for every row of a table, vectorised (raw build tables and Dataset tables alike)."""
    _check_kind(kind)
    parts = [_arrow_text(table[c]) for c in ("article_id", "start", "end")]
    parts += [_key_arrow(f, table[f]) if f in table.columns else pa.nulls(len(table), _TEXT).fill_null("")
              for f in KEY_FIELDS[kind]]
    joined = pc.binary_join_element_wise(pa.scalar(kind, _TEXT), *parts, pa.scalar(SEP, _TEXT))
    return pd.Series(pd.array(joined, dtype="string"), index=table.index)


def key_sql(kind: str, alias: str = "") -> str:
    """A DuckDB expression computing `RowKey.text` for rows of the kind's table (`alias.` prefixed)."""
    _check_kind(kind)
    p = f"{alias}." if alias else ""
    parts = [f"'{kind}'", f"CAST({p}article_id AS VARCHAR)", f"CAST({p}start AS VARCHAR)",
             f'CAST({p}"end" AS VARCHAR)']
    for f in KEY_FIELDS[kind]:
        if f == "date":
            parts.append(f"coalesce(strftime(TRY_CAST({p}date AS DATE), '%Y-%m-%d'), '')")
        elif f == "event_type":
            parts.append(f"coalesce(NULLIF(CAST({p}event_type AS VARCHAR), ''), '{UNTYPED}')")
        else:
            parts.append(f"coalesce(CAST({p}{f} AS VARCHAR), '')")
    return f" || '{SEP}' || ".join(parts)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ReviewError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _key_value(field: str, value: Any) -> str:
    if field == "event_type":
        return UNTYPED if _missing(value) or str(value) == "" else str(value)
    if _missing(value):
        return ""
    if field == "date":
        return _iso_day(value) or ""
    return str(value)


def _iso_day(value: Any) -> str | None:
    if isinstance(value, datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text[:10] if text else None


_TEXT = pa.large_string()


def _arrow_text(column: pd.Series) -> pa.Array:
    """A column as arrow text, missing values as "" (ids, numbers, categoricals, dates all become text)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        array = pc.strftime(pa.array(column), format="%Y-%m-%d")
    else:
        try:
            array = pa.array(column, from_pandas=True)
        except (pa.ArrowTypeError, pa.ArrowInvalid):  # an object column of mixed values
            array = pa.array([None if _missing(v) else str(_iso_day(v) if isinstance(v, date) else v)
                              for v in column], type=_TEXT)
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
    return pc.fill_null(pc.cast(array, _TEXT), "")


def _key_arrow(field: str, column: pd.Series) -> pa.Array:
    text = _arrow_text(column)
    if field == "date":
        return pc.utf8_slice_codeunits(text, 0, 10)
    if field == "event_type":
        return pc.if_else(pc.equal(text, ""), pa.scalar(UNTYPED, _TEXT), text)
    return text


def _as_text(column: pd.Series) -> pd.Series:
    return pd.Series(pd.array(_arrow_text(column), dtype="string"), index=column.index)


def _key_column(field: str, column: pd.Series) -> pd.Series:
    return pd.Series(pd.array(_key_arrow(field, column), dtype="string"), index=column.index)


# --- validation ----------------------------------------------------------------------------------


def clean_note(note: str | None) -> str:
    """A note as stored: plain text, control characters removed (newlines and tabs kept), at most
    MAX_NOTE characters (a longer one is refused, not cut). It is data: show it escaped, like article text."""
    if note is None:
        return ""
    if not isinstance(note, str):
        raise ReviewError("a note must be text")
    text = _CONTROL.sub("", note.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(text) > MAX_NOTE:
        raise ReviewError(f"a note may have at most {MAX_NOTE:,} characters (this one has {len(text):,})")
    return text


def clean_reviewer(reviewer: str) -> str:
    """Who reviewed: a non-empty single line (a login email, a typed name, the local user)."""
    text = _CONTROL.sub("", str(reviewer or "").replace("\n", " ").replace("\t", " ")).strip()
    if not text:
        raise ReviewError("a review needs the reviewer's name")
    if len(text) > MAX_REVIEWER:
        raise ReviewError(f"a reviewer's name may have at most {MAX_REVIEWER} characters")
    return text


def validate_correction(kind: str, correction: Mapping[str, Any], row: Mapping[str, Any] | None = None, *,
                        places: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The correction with its values checked against the vocabulary and dates normalised.

    stance: holder (an actor id), issue (an issue id), polarity; event: event_type, date and
    date_precision (day|month|year; a month is stored as its first day, a year as 1 January),
    place_id (a gazetteer id, or None for "no place"); place: place_id. `row` gives the precision a
    lone date is read at. Anything else raises ReviewError naming the field and what it accepts."""
    _check_kind(kind)
    if not isinstance(correction, Mapping) or not correction:
        raise ReviewError("a correction needs at least one field")
    allowed = CORRECTABLE[kind]
    unknown = [f for f in correction if f not in allowed]
    if unknown:
        raise ReviewError(f"a {kind} correction may set {', '.join(allowed)}, not {', '.join(map(str, unknown))}")
    v = vocab()
    out: dict[str, Any] = {}
    for name, value in correction.items():
        if name == "place_id":
            out[name] = _check_place(kind, value, places)
            continue
        if name == "date":
            continue  # below, with its precision
        text = _text_value(name, value)
        choices = {"holder": v.actors, "issue": v.issues, "polarity": POLARITIES,
                   "event_type": v.event_types, "date_precision": PRECISIONS}[name]
        if text not in choices:
            shown = ", ".join(sorted(choices)) if len(choices) <= 30 else f"{len(choices)} ids"
            raise ReviewError(f"{name} {text!r} is not in the vocabulary ({shown})")
        out[name] = text
    if "date" in correction or "date_precision" in correction:
        precision = out.get("date_precision") or (row or {}).get("date_precision")
        precision = None if _missing(precision) else str(precision)
        given = correction["date"] if "date" in correction else (row or {}).get("date")
        out["date"], out["date_precision"] = _check_date(given, precision)
    return out


def _text_value(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ReviewError(f"{name} must be a non-empty id")
    return value.strip()


def _check_place(kind: str, value: Any, places: Mapping[str, Any] | None) -> str | None:
    if value is None and kind == "event":
        return None  # an event may have no place
    text = _text_value("place_id", value)
    if text not in _places(places):
        raise ReviewError(f"place_id {text!r} is not in the gazetteer")
    return text


def _places(places: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if places is not None:
        return places
    from kzdash.extract.gazetteer import load_gazetteer

    return load_gazetteer().places


_DATE_FORMS = {"day": re.compile(r"\d{4}-\d{2}-\d{2}"), "month": re.compile(r"\d{4}-\d{2}(-\d{2})?"),
               "year": re.compile(r"\d{4}(-\d{2}-\d{2})?")}


def _check_date(value: Any, precision: str | None) -> tuple[str, str]:
    """A date at a precision, as the events table stores it: YYYY-MM-DD (month: day 01; year: 01-01)."""
    if precision not in PRECISIONS:
        raise ReviewError(f"date_precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    text = _iso_day(value) if isinstance(value, date) else (value.strip() if isinstance(value, str) else None)
    if not text or not _DATE_FORMS[precision].fullmatch(text):
        raise ReviewError(f"date {value!r} is not a {precision} (YYYY-MM-DD, YYYY-MM or YYYY)")
    year, month, day = (text.split("-") + ["01", "01"])[:3]
    if precision == "month":
        day = "01"
    elif precision == "year":
        month = day = "01"
    try:
        return date(int(year), int(month), int(day)).isoformat(), precision
    except ValueError:
        raise ReviewError(f"date {value!r} is not a calendar date") from None


# --- the store -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """A row's current review: status None (no review), "confirmed", "rejected" or "corrected"."""

    status: str | None = None
    correction: tuple[tuple[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"review": self.status, **dict(self.correction)}


def _replay(actions: Iterable[tuple[str, str]]) -> list[tuple[int, State]]:
    """(action, after JSON) in log order -> the stack of live actions (index in the input, state)."""
    stack: list[tuple[int, State]] = []
    for i, (action, after) in enumerate(actions):
        if action == "undo":
            if stack:
                stack.pop()
            continue
        data = json.loads(after)
        correction = tuple((k, data[k]) for k in ALL_FIELDS if k in data) if action == "correct" else ()
        stack.append((i, State(STATUS_OF[action], correction)))
    return stack


class ReviewStore:
    """The review log of one workspace, in SQLite (WAL, so readers never wait for a writer).

    Every save is one IMMEDIATE transaction that reads the row's current review and appends one
    line, so reviewers saving at once (threads or processes) are serialised and lose nothing. A
    connection is opened per call: the store can be shared between sessions and threads freely."""

    def __init__(self, path: Path | str, *, timeout: float = 30.0, clock: Callable[[], datetime] | None = None,
                 places: Mapping[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._clock = clock or (lambda: datetime.now(UTC))
        self._places = places
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)
            if con.execute("PRAGMA user_version").fetchone()[0] == 0:
                con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _connect(self) -> _Connection:
        con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
        return _Connection(con)

    # writing

    def save(self, kind: str, row: Mapping[str, Any], action: str, *, reviewer: str, source: str | None = None,
             correction: Mapping[str, Any] | None = None, note: str | None = None) -> dict[str, Any]:
        """Record one action on a row of the kind's table; returns the log line written.

        `source`: the article's source file (articles.source), kept so that a review of an edited
        article is found again. `correction` only with "correct"; it adds to a current correction."""
        _check_kind(kind)
        if action not in ACTIONS:
            raise ReviewError(f"unknown action {action!r} (expected one of {', '.join(ACTIONS)})")
        if correction is not None and action != "correct":
            raise ReviewError("only a 'correct' action carries a correction")
        key = row_key(kind, row, source)
        checked = validate_correction(kind, correction or {}, row, places=self._places) if action == "correct" else {}
        return self._append(key, action, clean_reviewer(reviewer), clean_note(note), row, checked)

    def undo(self, review_key: str, *, reviewer: str, note: str | None = None) -> dict[str, Any]:
        """Take back the last live action on a key, also for a row no longer in the build."""
        with self._connect() as con:
            last = con.execute("SELECT kind, article_id, source, start, \"end\", fields, evidence_hash FROM log "
                               "WHERE review_key = ? ORDER BY seq DESC LIMIT 1", (review_key,)).fetchone()
        if last is None:
            raise ReviewError("nothing to undo: this row has no review")
        kind, article_id, source, start, end, fields, ev_hash = last
        key = RowKey(kind, article_id, start, end, tuple(json.loads(fields).items()), ev_hash, source)
        return self._append(key, "undo", clean_reviewer(reviewer), clean_note(note), None, {})

    def _append(self, key: RowKey, action: str, reviewer: str, note: str, row: Mapping[str, Any] | None,
                correction: dict[str, Any]) -> dict[str, Any]:
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                history = con.execute("SELECT action, after FROM log WHERE review_key = ? ORDER BY seq",
                                      (key.text,)).fetchall()
                stack = _replay(history)
                current = stack[-1][1] if stack else State()
                before, after = _transition(action, current, stack, row, correction)
                entry = {"at": self._clock().astimezone(UTC).isoformat(timespec="milliseconds"),
                         "reviewer": reviewer, "kind": key.kind, "review_key": key.text,
                         "article_id": key.article_id, "source": key.source, "start": key.start, "end": key.end,
                         "fields": json.dumps(dict(key.fields), ensure_ascii=False),
                         "evidence_hash": key.evidence_hash, "action": action,
                         "before": json.dumps(before, ensure_ascii=False),
                         "after": json.dumps(after, ensure_ascii=False), "note": note}
                cur = con.execute(f"INSERT INTO log ({', '.join(_quoted(LOG_COLUMNS[1:]))}) "
                                  f"VALUES ({', '.join('?' * (len(LOG_COLUMNS) - 1))})",
                                  [entry[c] for c in LOG_COLUMNS[1:]])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return {"seq": cur.lastrowid, **entry}

    # reading

    def log(self) -> pd.DataFrame:
        """Every line of the log, oldest first."""
        with self._connect() as con:
            rows = con.execute(f"SELECT {', '.join(_quoted(LOG_COLUMNS))} FROM log ORDER BY seq").fetchall()
        df = pd.DataFrame(rows, columns=LOG_COLUMNS)
        for col in ("seq", "start", "end"):
            df[col] = df[col].astype("Int64")
        return df

    def __len__(self) -> int:
        with self._connect() as con:
            return int(con.execute("SELECT count(*) FROM log").fetchone()[0])

    def current(self) -> pd.DataFrame:
        """The current review of every reviewed row (rows whose actions were all undone are absent):
        key columns (the extracted values), who and when, the note, and the corrected values in
        set_<field> (`corrected_fields` lists them, so a place_id corrected to None is told apart)."""
        return current_reviews(self.log())

    def current_arrow(self) -> pa.Table:
        """`current()` as a pyarrow Table (to register in DuckDB and join on review_key)."""
        return pa.Table.from_pandas(self.current(), preserve_index=False)

    def state(self, review_key: str) -> State:
        """The current review of one key."""
        with self._connect() as con:
            history = con.execute("SELECT action, after FROM log WHERE review_key = ? ORDER BY seq",
                                  (review_key,)).fetchall()
        stack = _replay(history)
        return stack[-1][1] if stack else State()

    def review_log_csv(self) -> bytes:
        """The whole log as CSV (UTF-8), for download; see `log_csv`."""
        return log_csv(self.log())


class _Connection:
    """A sqlite3 connection closed on leaving the `with` block (sqlite3's own only ends a transaction)."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con

    def __enter__(self) -> sqlite3.Connection:
        return self.con

    def __exit__(self, *exc: object) -> None:
        self.con.close()


def _quoted(columns: Iterable[str]) -> list[str]:
    return [f'"{c}"' for c in columns]


def _transition(action: str, current: State, stack: list[tuple[int, State]], row: Mapping[str, Any] | None,
                correction: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) of one action: the row's review state, and for a correction the values shown."""
    if action == "undo":
        if not stack:
            raise ReviewError("nothing to undo: this row has no live review")
        previous = stack[-2][1] if len(stack) > 1 else State()
        return current.as_dict(), previous.as_dict()
    if action != "correct":
        return current.as_dict(), {"review": STATUS_OF[action]}
    held = dict(current.correction) if current.status == "corrected" else {}
    original = {f: _plain(row.get(f)) for f in ALL_FIELDS if f in row} if row is not None else {}
    merged = {**held, **correction}
    merged = {f: value for f, value in merged.items() if not (f in original and _same(original[f], value, f))}
    if not merged or merged == held:
        raise ReviewError("the correction changes nothing: the row already shows these values")
    shown = {f: held.get(f, original.get(f)) for f in ALL_FIELDS if f in merged or f in held}
    return {"review": current.status, **shown}, {"review": "corrected", **{f: merged[f] for f in ALL_FIELDS
                                                                          if f in merged}}


def _plain(value: Any) -> Any:
    """A table value as JSON can hold it (dates as YYYY-MM-DD, missing as None)."""
    if _missing(value):
        return None
    if isinstance(value, date | datetime | pd.Timestamp):
        return _iso_day(value)
    if hasattr(value, "item"):
        return value.item()
    return value


def _same(original: Any, value: Any, field: str) -> bool:
    if field == "date":
        return (_iso_day(original) if original is not None else None) == value
    if field == "event_type":
        return _key_value(field, original) == (value or UNTYPED)
    return original == value


# --- the current reviews, their status against a build, applying them ------------------------------


def current_reviews(log: pd.DataFrame) -> pd.DataFrame:
    """The current review of each key from a log frame (`ReviewStore.log()`)."""
    records = []
    for key, lines in log.sort_values("seq").groupby("review_key", sort=False):
        stack = _replay(zip(lines["action"], lines["after"], strict=True))
        if not stack:
            continue
        index, state = stack[-1]
        live, last = lines.iloc[index], lines.iloc[-1]
        fields = json.loads(last["fields"])
        correction = dict(state.correction)
        records.append({
            "review_key": key, "kind": last["kind"], "article_id": last["article_id"], "source": last["source"],
            "start": last["start"], "end": last["end"], **{f: fields.get(f) for f in ALL_FIELDS},
            "evidence_hash": last["evidence_hash"], "review": state.status, "reviewer": live["reviewer"],
            "reviewed_at": live["at"], "note": live["note"], "corrected_fields": ",".join(correction),
            **{f"set_{f}": correction.get(f) for f in ALL_FIELDS}, "actions": len(stack),
        })
    df = pd.DataFrame.from_records(records, columns=CURRENT_COLUMNS)
    for col in CURRENT_COLUMNS:
        if col in ("start", "end", "actions"):
            df[col] = df[col].astype("Int64")
        else:
            df[col] = df[col].astype("string")
    return df


def review_status(reviews: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """`reviews` (from `current()`) with a `status` column: applies, needs_look or gone (module doc)."""
    keyed = {kind: (tables[TABLE_OF[kind]], row_keys(kind, tables[TABLE_OF[kind]]))
             for kind in KINDS if TABLE_OF[kind] in tables}
    return _status(reviews, tables["articles"], keyed)


def _status(reviews: pd.DataFrame, articles: pd.DataFrame,
            keyed: Mapping[str, tuple[pd.DataFrame, pd.Series]]) -> pd.DataFrame:
    out = reviews.copy()
    status = pd.Series("gone", index=out.index, dtype="string")
    present = _isin(out["article_id"], articles["article_id"])
    if "source" in articles.columns:
        present |= _isin(out["source"], articles["source"])
    status[present] = "needs_look"
    for kind, (table, keys) in keyed.items():
        mine = (out["kind"] == kind).fillna(False).to_numpy(dtype=bool)
        if not mine.any():
            continue
        rows = _isin(keys, out.loc[mine, "review_key"])  # the small side is the value set
        if not rows.any():
            continue
        column = EVIDENCE_OF[kind]
        texts = table.loc[rows, column] if column in table.columns else pd.Series("", index=table.index[rows])
        hashes = {k: evidence_hash(t) for k, t in zip(keys[rows], texts, strict=True)}
        same = out.loc[mine, "review_key"].map(hashes) == out.loc[mine, "evidence_hash"]
        status[out.index[mine][same.fillna(False).to_numpy(dtype=bool)]] = "applies"
    out["status"] = status
    return out


def _isin(values: pd.Series, among: pd.Series | Iterable[str]) -> Any:
    """A boolean numpy mask: which `values` are among `among` (hashed by pyarrow, fast both ways)."""
    text = pa.large_string()
    left = pc.cast(pa.array(pd.Series(values, dtype="string")), text)
    right = pc.cast(pa.array(pd.Series(list(among) if not isinstance(among, pd.Series) else among,
                                       dtype="string")), text)
    return pc.fill_null(pc.is_in(left, value_set=right), False).to_numpy(zero_copy_only=False)


def apply_reviews(kind: str, table: pd.DataFrame, reviews: pd.DataFrame, articles: pd.DataFrame, *,
                  places: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The kind's table with the current reviews applied (a new frame; the input is not changed).

    Adds `review_key`, `review` (confirmed, rejected, corrected, needs_look or missing), `reviewed_by`,
    `review_note`, and `orig_<field>` for every correctable field (the extracted value; equal to the
    field unless corrected). A correction replaces the field (a corrected place_id brings the place's
    name, country and coordinates from the gazetteer). Rejected rows stay: hiding them is a filter.
    A review whose row is gone but whose article is still there (by id or by source) marks the
    nearest row of the same claim (same key fields, nearest span) "needs_look", unless that row has
    a review of its own."""
    _check_kind(kind)
    out = table.copy()
    keys = row_keys(kind, out)
    out["review_key"] = keys.to_numpy()
    review = pd.Series(pd.NA, index=out.index, dtype="string")
    by = pd.Series(pd.NA, index=out.index, dtype="string")
    note = pd.Series(pd.NA, index=out.index, dtype="string")
    for field in CORRECTABLE[kind]:
        if field in out.columns:
            out[f"orig_{field}"] = out[field]
    mine = reviews[(reviews["kind"] == kind).fillna(False).to_numpy(dtype=bool)]
    if mine.empty or out.empty:
        return _finish(out, review, by, note)
    status = _status(mine, articles, {kind: (table, keys)})
    applies = status[status["status"] == "applies"].set_index("review_key")
    rows = _isin(keys, applies.index.to_series())
    if rows.any():
        hit = applies.loc[keys[rows]]
        review[rows] = hit["review"].to_numpy()
        by[rows] = hit["reviewer"].to_numpy()
        note[rows] = hit["note"].to_numpy()
        _correct(kind, out, rows, hit, places)
    _mark_needs_look(kind, out, keys, status[status["status"] == "needs_look"], articles, review, by, note)
    return _finish(out, review, by, note)


def _finish(out: pd.DataFrame, review: pd.Series, by: pd.Series, note: pd.Series) -> pd.DataFrame:
    out["review"], out["reviewed_by"], out["review_note"] = review, by, note
    return out


def _correct(kind: str, out: pd.DataFrame, rows: Any, hit: pd.DataFrame, places: Mapping[str, Any] | None) -> None:
    """Write the corrected values of the reviewed rows into their fields."""
    positions = out.index[rows]
    corrected = hit["review"].eq("corrected").fillna(False).to_numpy(dtype=bool)
    if not corrected.any():
        return
    for field in CORRECTABLE[kind]:
        if field not in out.columns:
            continue
        sets = hit["corrected_fields"].fillna("").str.split(",").map(lambda fs, f=field: f in fs)
        chosen = corrected & sets.to_numpy(dtype=bool)
        if not chosen.any():
            continue
        values = hit[f"set_{field}"].to_numpy()[chosen]
        target = positions[chosen]
        column = out[field]
        if isinstance(column.dtype, pd.CategoricalDtype):
            new = [v for v in pd.unique(values) if not _missing(v) and v not in column.cat.categories]
            out[field] = column.cat.add_categories(new) if new else column
        if field == "date":
            values = _dates_like(column, values)
        out.loc[target, field] = values
        if field == "place_id":
            _place_columns(kind, out, target, values, places)


def _dates_like(column: pd.Series, values: Any) -> Any:
    """Corrected ISO dates in the column's own type: datetime64, datetime.date objects, or text."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return pd.to_datetime(pd.Series(values), errors="coerce").to_numpy()
    sample = column.dropna()
    if column.dtype == object and not sample.empty and isinstance(sample.iloc[0], date):
        return [None if _missing(v) else date.fromisoformat(v) for v in values]
    return values


def _place_columns(kind: str, out: pd.DataFrame, target: pd.Index, ids: Any, places: Mapping[str, Any] | None) -> None:
    gaz = _places(places)
    for column, attr in PLACE_COLUMNS[kind].items():
        if column not in out.columns:
            continue
        values = [getattr(gaz[i], attr) if not _missing(i) and i in gaz else None for i in ids]
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            new = [v for v in dict.fromkeys(values) if v is not None and v not in out[column].cat.categories]
            if new:
                out[column] = out[column].cat.add_categories(new)
        if pd.api.types.is_numeric_dtype(out[column].dtype):
            values = pd.to_numeric(pd.Series(values, index=target, dtype=object)).astype("float64")
        out.loc[target, column] = values


def _mark_needs_look(kind: str, out: pd.DataFrame, keys: pd.Series, looks: pd.DataFrame, articles: pd.DataFrame,
                     review: pd.Series, by: pd.Series, note: pd.Series) -> None:
    """Show each review that needs a look on the row it most likely meant (never applying it)."""
    if looks.empty:
        return
    # only the rows of the articles concerned (by id, or by source file through the articles table)
    wanted_ids = set(looks["article_id"].dropna())
    if "source" in articles.columns:
        by_source = articles.loc[_isin(articles["source"], looks["source"].dropna()), "article_id"]
        wanted_ids |= set(by_source.astype(str))
    near = out.index[_isin(out["article_id"], pd.Series(sorted(wanted_ids), dtype="string"))]
    if near.empty:
        return
    sub = out.loc[near]
    sub_keys = keys.loc[near]
    source_of = (dict(zip(articles["article_id"].astype(str), articles["source"].astype("string"), strict=True))
                 if "source" in articles.columns else {})
    row_source = sub["article_id"].astype(str).map(source_of)
    values = {f: _key_column(f, sub[f]) for f in KEY_FIELDS[kind] if f in sub.columns}
    starts = pd.to_numeric(sub["start"], errors="coerce")
    for _, r in looks.iterrows():
        candidates = (sub_keys == r["review_key"]).to_numpy(dtype=bool)  # its row is there, its evidence is not
        if not candidates.any():
            candidates = (sub["article_id"].astype(str) == r["article_id"]).to_numpy(dtype=bool)
            if not _missing(r["source"]):
                candidates = candidates | (row_source == r["source"]).fillna(False).to_numpy(dtype=bool)
            for f, column in values.items():
                candidates = candidates & (column == ("" if _missing(r[f]) else r[f])).fillna(False).to_numpy(
                    dtype=bool)
        candidates = candidates & review.loc[near].isna().to_numpy(dtype=bool)
        if not candidates.any():
            continue
        nearest = (starts[candidates] - int(r["start"])).abs().idxmin()
        review[nearest], by[nearest], note[nearest] = "needs_look", r["reviewer"], r["note"]


def apply_all(tables: Mapping[str, pd.DataFrame], reviews: pd.DataFrame, *,
              places: Mapping[str, Any] | None = None) -> dict[str, pd.DataFrame]:
    """`apply_reviews` on the stances, events and places of a set of tables (the others as they are)."""
    out = dict(tables)
    for kind in KINDS:
        name = TABLE_OF[kind]
        if name in tables:
            out[name] = apply_reviews(kind, tables[name], reviews, tables["articles"], places=places)
    return out


# --- feedback and export -------------------------------------------------------------------------


def rule_precision(tables: Mapping[str, pd.DataFrame], reviews: pd.DataFrame, *, cues: bool = False,
                   places: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Per rule that fired: rows, and how many were confirmed, rejected, corrected (and need a look).

    One line per (table, rule column, rule value): stances and places by `rule`, events by
    `type_rule` and by `date_rule`. A correction counts against the rule column whose fields it
    changed and as a confirmation for the others (a corrected date says the type was right).
    `precision` = confirmed / (confirmed + rejected + corrected), missing before any review.
    With `cues`, a composite rule ("act:x~y polarity:z holder:subject") is split into its cues."""
    lines = []
    for kind in KINDS:
        name = TABLE_OF[kind]
        if name not in tables:
            continue
        table = tables[name]
        applied = table if "review" in table.columns else apply_reviews(kind, table, reviews, tables["articles"],
                                                                        places=places)
        for column, owned in RULE_COLUMNS[kind].items():
            if column not in applied.columns:
                continue
            frame = pd.DataFrame({"rule": applied[column].astype("string").fillna("(none)"),
                                  "outcome": _outcomes(kind, applied, owned)})
            if cues:
                frame["rule"] = frame["rule"].map(split_cues)
                frame = frame.explode("rule")
            counts = pd.crosstab(frame["rule"], frame["outcome"])
            for outcome in ("confirmed", "rejected", "corrected", "needs_look"):
                if outcome not in counts.columns:
                    counts[outcome] = 0
            counts["fired"] = frame.groupby("rule").size()
            counts = counts.reset_index().assign(table=name, rule_column=column)
            lines.append(counts)
    columns = ["table", "rule_column", "rule", "fired", "confirmed", "rejected", "corrected", "needs_look"]
    if not lines:
        return pd.DataFrame(columns=[*columns, "precision"])
    out = pd.concat(lines, ignore_index=True)[columns]
    for col in columns[3:]:
        out[col] = out[col].astype("int64")
    judged = out["confirmed"] + out["rejected"] + out["corrected"]
    out["precision"] = (out["confirmed"] / judged.where(judged > 0)).astype("float64")
    return out.sort_values(["rejected", "corrected", "fired", "rule"], ascending=[False, False, False, True],
                           ignore_index=True)


def _outcomes(kind: str, applied: pd.DataFrame, owned: tuple[str, ...]) -> pd.Series:
    """Each row's outcome for one rule column: its review, a correction elsewhere read as confirmed."""
    outcome = applied["review"].astype("string").fillna("unreviewed")
    corrected = (outcome == "corrected").to_numpy(dtype=bool)
    if corrected.any():
        changed = pd.Series(False, index=applied.index)
        for field in owned:
            if field in applied.columns and f"orig_{field}" in applied.columns:
                now = _key_column(field, applied[field]) if field in KEY_FIELDS[kind] else _as_text(applied[field])
                was = (_key_column(field, applied[f"orig_{field}"]) if field in KEY_FIELDS[kind]
                       else _as_text(applied[f"orig_{field}"]))
                changed |= (now != was).fillna(False)
        outcome[corrected & ~changed.to_numpy(dtype=bool)] = "confirmed"
    return outcome


_CUE = re.compile(r" (?=[a-z][a-z_-]*:)")


def split_cues(rule: str) -> list[str]:
    """"act:x~y polarity:not z holder:subject" -> ["act:x~y", "polarity:not z", "holder:subject"]."""
    return [part for part in _CUE.split(str(rule)) if part] or [str(rule)]


def log_csv(log: pd.DataFrame) -> bytes:
    """A log frame as CSV bytes. A text cell that a spreadsheet would run as a formula (it begins
    with =, +, -, @, a tab or a carriage return) is written with a leading apostrophe; `read_log_csv`
    takes it off again."""
    out = log[LOG_COLUMNS].copy()
    for col in ("reviewer", "source", "note", "before", "after", "fields", "review_key"):
        out[col] = out[col].astype("string").map(_defuse, na_action="ignore")
    buf = io.StringIO()
    out.to_csv(buf, index=False, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def read_log_csv(data: bytes) -> pd.DataFrame:
    """The inverse of `log_csv` (a downloaded log read back, e.g. to merge two workspaces)."""
    df = pd.read_csv(io.BytesIO(data), dtype="string", keep_default_na=False, na_values=[""])
    for col in ("seq", "start", "end"):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    for col in ("reviewer", "source", "note", "before", "after", "fields", "review_key"):
        df[col] = df[col].map(_undefuse, na_action="ignore")
    df["note"] = df["note"].fillna("")
    return df[LOG_COLUMNS]


def _defuse(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA) or text.startswith("'") else text


def _undefuse(text: str) -> str:
    return text[1:] if text.startswith("'") else text
