"""One happening, many reports: group events across articles and outlets under a happening id.

Event databases are criticised for counting reports rather than events. Two events are reports of
the same happening when they have the same type, compatible actors (equal, or one unknown), dates
that agree at the coarser of their precisions (a day-precise date may differ by one day: "yesterday"
in one outlet is "on Tuesday" in another), and the same or a nearby place (one unknown, the same
place, within NEARBY_KM, or a country and a place inside it). Pure: a DataFrame in, ids out.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

NEARBY_KM = 60.0
DAY_SLACK = 1  # days apart that two day-precise reports of one happening may be


@dataclass
class _Report:
    row: int  # position in the events table
    day: date | None  # the date at day precision, else None
    prefix: str  # the date at its own precision: "2022-01-05", "2022-01", "2022"
    actor: str | None
    place_id: str | None
    country: str | None
    lat: float | None
    lon: float | None
    is_country: bool


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def _dates_agree(a: _Report, b: _Report) -> bool:
    if a.day and b.day:
        return abs((a.day - b.day).days) <= DAY_SLACK
    n = min(len(a.prefix), len(b.prefix))
    return a.prefix[:n] == b.prefix[:n]


def _places_agree(a: _Report, b: _Report) -> bool:
    if a.place_id is None or b.place_id is None or a.place_id == b.place_id:
        return True
    if a.is_country or b.is_country:  # "in Kazakhstan" and "in Almaty"
        return bool(a.country) and a.country == b.country
    if None in (a.lat, a.lon, b.lat, b.lon):
        return False
    return _km(a.lat, a.lon, b.lat, b.lon) <= NEARBY_KM


def _compatible(a: _Report, b: _Report) -> bool:
    return (a.actor is None or b.actor is None or a.actor == b.actor) and _dates_agree(a, b) and _places_agree(a, b)


def _strings(values: pd.Series) -> list[str | None]:
    """A column as plain Python strings (None for missing), in one pass: iterating an Arrow-backed
    column element by element costs ten times more."""
    missing = values.isna().tolist()
    return [None if gone else str(v) for v, gone in zip(values.astype(object).tolist(), missing, strict=True)]


def _text_list(column: pa.ChunkedArray | pa.Array) -> list[str | None]:
    """An Arrow column as Python strings (None for missing), whatever its type (as `_strings` reads it)."""
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = pc.cast(column, pa.string())
    return column.to_pylist()


def _float_list(column: pa.ChunkedArray | pa.Array) -> list[float | None]:
    """An Arrow column as Python floats, None for missing or NaN (as `_floats` reads it)."""
    if not pa.types.is_floating(column.type):
        column = pc.cast(column, pa.float64())
    return [None if v is None or v != v else float(v) for v in column.to_pylist()]


def _day_list(column: pa.ChunkedArray | pa.Array) -> list[date]:
    """A date column (not null) as Python dates."""
    if not pa.types.is_date32(column.type):
        column = pc.cast(column, pa.date32())
    return column.to_pylist()


def _columns(table: pa.Table) -> dict[str, list]:
    """The grouping columns of `table` (its typed, dated rows) as Python lists, converted once for many
    blocks: per block, an Arrow-to-pandas conversion and its per-column casts cost more than the grouping."""
    return {"event_id": _text_list(table["event_id"]), "day": _day_list(table["date"]),
            **{c: _text_list(table[c]) for c in ("date_precision", "actor", "place_id", "country")},
            "lat": _float_list(table["lat"]), "lon": _float_list(table["lon"])}


_PREFIX = {"day": 10, "month": 7, "year": 4}


def _reports_of(cols: dict[str, list], block: list[int], lo: int, hi: int,
                country_ids: set[str]) -> list[_Report]:
    """The reports of rows lo:hi of `cols` (`block`: their positions in the events table)."""
    out = []
    for row, day, prec, actor, pid, country, lat, lon in zip(
            block, cols["day"][lo:hi], cols["date_precision"][lo:hi], cols["actor"][lo:hi],
            cols["place_id"][lo:hi], cols["country"][lo:hi], cols["lat"][lo:hi], cols["lon"][lo:hi], strict=True):
        out.append(_Report(row, day if prec == "day" else None, day.isoformat()[:_PREFIX.get(prec, 10)],
                           actor, pid, country, lat, lon, pid in country_ids))
    return out


GROUPING_COLUMNS = ["event_id", "event_type", "date", "date_precision", "actor", "place_id", "country", "lat", "lon"]


def happening_ids(events: pd.DataFrame, country_place_ids: set[str] | None = None) -> pd.Series:
    """A happening id per event row; an event with no type or no date is a happening of its own."""
    country_ids = country_place_ids if country_place_ids is not None else _country_place_ids(events)
    table = pa.Table.from_pandas(events[GROUPING_COLUMNS], preserve_index=False)
    grouped = grouped_ids(table, country_ids)
    return pd.Series(ids_of(grouped, _strings(events["event_id"])), index=events.index, dtype="string")


def ids_of(grouped: np.ndarray, event_ids: list[str]) -> list[str]:
    """Happening ids from `grouped_ids` for these rows: a grouped row's group id, else its own."""
    return [g.decode() if g else f"h-{e}" for g, e in zip(grouped.tolist(), event_ids, strict=True)]


def grouped_ids(table: pa.Table, country_ids: set[str]) -> np.ndarray:
    """The happening id of every typed, dated event row of `table` (GROUPING_COLUMNS), as 16 bytes;
    empty for the others (a happening of their own: "h-" + the event id).

    Blocks by type and month (year-precise events by type and year) keep the comparison small;
    within a block each report joins the first group whose seed it agrees with. Only one block's
    reports are in memory at a time, so a build groups millions of events in bounded memory.
    """
    out = np.zeros(table.num_rows, dtype="S16")
    usable = pc.and_(pc.is_valid(table["event_type"]), pc.is_valid(table["date"]))
    rows = np.flatnonzero(usable.to_numpy(zero_copy_only=False))
    if not len(rows):
        return out
    sub = table.take(pa.array(rows))
    iso = pc.cast(sub["date"], pa.string())
    year_only = pc.equal(pc.fill_null(sub["date_precision"], ""), "year")
    period = pc.if_else(year_only, pc.utf8_slice_codeunits(iso, 0, 4), pc.utf8_slice_codeunits(iso, 0, 7))
    key = pc.binary_join_element_wise(pc.cast(sub["event_type"], pa.string()), period, "|")
    codes = pc.dictionary_encode(key).combine_chunks().indices.to_numpy()
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    cols = _columns(sub.take(pa.array(order)))
    positions = rows[order].tolist()
    for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(order)], strict=True):
        _group_rows(out, cols, positions, lo, hi, country_ids)
    return out


BLOCK_KEY_SQL = ("event_type || '|' || CASE WHEN coalesce(date_precision, '') = 'year' "
                 "THEN strftime(date, '%Y') ELSE strftime(date, '%Y-%m') END")
FILE_BATCH_ROWS = 50_000


def grouped_ids_of_file(path: Path, country_ids: set[str], spill: Path, memory: str = "128MB") -> np.ndarray:
    """`grouped_ids` of an events Parquet file in memory that does not grow with it: DuckDB sorts
    the typed, dated rows by block (spilling to `spill` past `memory`) and the blocks stream out,
    one grouped at a time. Only the answer (16 bytes a row) is as long as the table. The groups
    are the same as `grouped_ids`' (a block's grouping does not depend on its rows' order)."""
    import duckdb

    out = np.zeros(pq.ParquetFile(path).metadata.num_rows, dtype="S16")
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{memory}'")
        con.execute("SET threads = 1")
        con.execute("SET temp_directory = ?", [str(spill)])
        columns = ", ".join(GROUPING_COLUMNS)
        relation = con.sql(  # a relation's reader streams; an executed result's would copy every row first
            f"SELECT file_row_number AS row, {columns}, {BLOCK_KEY_SQL} AS block "
            "FROM read_parquet($path, file_row_number = true) WHERE event_type IS NOT NULL AND date IS NOT NULL "
            "ORDER BY block", params={"path": str(path)})
        carry: pa.Table | None = None
        for batch in relation.to_arrow_reader(batch_size=FILE_BATCH_ROWS):
            table = pa.Table.from_batches([batch])
            table = pa.concat_tables([carry, table]) if carry is not None else table
            keys = table.column("block").to_numpy(zero_copy_only=False)
            starts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
            last = int(starts[-1]) if len(starts) else 0  # the last block may go on in the next batch
            if last:
                _group_table(out, table.slice(0, last), [0, *starts.tolist()], country_ids)
            carry = table.slice(last)
        if carry is not None and carry.num_rows:
            _group_table(out, carry, [0, carry.num_rows], country_ids)
    finally:
        con.close()
    return out


def _group_table(out: np.ndarray, table: pa.Table, bounds: list[int], country_ids: set[str]) -> None:
    """Group the blocks of `table` (block i is rows bounds[i]:bounds[i + 1]), its columns converted once."""
    cols = _columns(table)
    positions = table["row"].to_pylist()
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        _group_rows(out, cols, positions, lo, hi, country_ids)


def _group_rows(out: np.ndarray, cols: dict[str, list], positions: list[int], lo: int, hi: int,
                country_ids: set[str]) -> None:
    """Group one block (rows lo:hi of `cols`, at `positions` of the events table) and write their
    happening ids into `out`."""
    block = positions[lo:hi]
    eid = dict(zip(block, cols["event_id"][lo:hi], strict=True))
    for group in _group_block(_reports_of(cols, block, lo, hi, country_ids), eid):
        hid = hashlib.sha1(min(eid[r.row] for r in group).encode()).hexdigest()[:16].encode()
        for r in group:
            out[r.row] = hid


def _group_block(reports: list[_Report], eid: Mapping[int, str]) -> list[list[_Report]]:
    """Groups of one block. Each group is anchored on its first report (its seed), so reports a day
    apart do not chain into a week-long happening; day-precise reports go first, in date order, and
    only groups seeded within the day slack stay open to them; coarser reports then join any group."""
    order = sorted(reports, key=lambda r: (r.day is None, len(r.prefix) * -1, r.prefix, eid[r.row]))
    groups: list[list[_Report]] = []
    open_groups: list[list[_Report]] = []
    for rep in order:
        if rep.day is not None:
            open_groups = [g for g in open_groups if (rep.day - g[0].day).days <= DAY_SLACK]
            candidates = open_groups
        else:
            candidates = groups
        home = next((g for g in candidates if _compatible(rep, g[0])), None)
        if home is None:
            home = [rep]
            groups.append(home)
            if rep.day is not None:
                open_groups.append(home)
        else:
            home.append(rep)
    return groups


def _country_place_ids(events: pd.DataFrame) -> set[str]:
    """Place ids that stand for a whole country: a country-level event place has the country's centre."""
    if "place_kind" in events:
        return set(events.loc[events["place_kind"] == "country", "place_id"].dropna().astype(str))
    return set()
