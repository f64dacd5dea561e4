"""What the pages ask of the data, as plain DataFrames: no Streamlit, tested on the real sample.

Every function takes the prepared `Dataset` and the user's `Filters`; the pages only lay the
answers out. Counting rules a reader must be able to trust live here: reports of one happening
count once (with the number of outlets that reported it), stance cells count stances per holder,
issue and polarity, and every row keeps the article it came from.

Speed: a filter change must cost well under 300 ms at a million events, so counting works on the
category codes of the masked rows (numpy bincounts) and only the few rows a page shows are copied
out of the tables.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import numpy as np
import pandas as pd

from kzdash.dashboard.dataset import Dataset, chunks, code_counts, unfiltered
from kzdash.dashboard.filters import Filters
from kzdash.dashboard.vocab import POLARITIES, vocab
from kzdash.text.sentences import sentence_of, sentence_spans

NAT = np.iinfo(np.int64).min  # how NaT looks as int64 nanoseconds: sorts first
DAY_NS = 86_400 * 10**9
REVIEW = ["row", "review", "reviewed_by", "review_note"]  # a card's review control: its row and current review
EVIDENCE_COLUMNS = ["date", "event_type", "summary", "place_name", "outlet", "language", "published", "evidence",
                    "background", "article_id", "event_id", "date_precision", "place_id", *REVIEW]
LOCAL_KINDS = ("city", "site", "region")
MAP_POINTS = 2000  # points per map layer: the browser stays fluid; the largest counts are drawn first

Q = TypeVar("Q", bound=Callable)


def remembered(query: Q) -> Q:
    """A page query remembered per (filters, arguments) for every session (`Dataset.remember`).

    Under a hosted link many viewers ask for the same few states; answers are shared, so callers
    must not change them in place (the pages and charts copy before they add columns)."""
    @functools.wraps(query)
    def wrapper(ds: Dataset, f: Filters, *args, **kwargs):
        key = (query.__name__, f, args, tuple(sorted(kwargs.items())))
        return ds.remember(key, lambda: query(ds, f, *args, **kwargs), whole_build=unfiltered(f))
    return wrapper  # type: ignore[return-value]


@remembered
def headline(ds: Dataset, f: Filters) -> dict[str, int]:
    """The counts a briefer quotes first."""
    em, pm, am = ds.mask("events", f), ds.mask("places", f), ds.mask("articles", f)
    return {  # count_nonzero: a boolean sum converts every flag to an integer first
        "articles": np.count_nonzero(am),
        "outlets": _distinct(ds.codes("articles", "outlet"), am, ds.size("articles", "outlet")),
        "events": np.count_nonzero(em),
        "happenings": _distinct(ds.codes("events", "happening_id"), em, ds.size("events", "happening_id")),
        "places": _distinct(ds.codes("places", "place_id"), pm, ds.size("places", "place_id")),
        "mentions": np.count_nonzero(pm),
        "stances": np.count_nonzero(ds.mask("stances", f)),
    }


@remembered
def happening_count(ds: Dataset, f: Filters) -> tuple[int, int]:
    """(happenings, reports) under the filters."""
    h = _happenings(ds, f)
    return len(h.first), int(h.reports.sum())


def _distinct(codes: np.ndarray, keep: np.ndarray, size: int) -> int:
    """How many codes (not -1, missing) the rows `keep` selects have: one flag per code, set a chunk of rows
    at a time (see dataset.CHUNK_ROWS: no scratch array as long as the table)."""
    seen = np.zeros(size + 1, dtype=bool)  # the last flag stands for -1
    for rows in chunks(len(codes)):
        seen[codes[rows][keep[rows]]] = True
    return int(np.count_nonzero(seen[:-1]))


def _newest(rows: np.ndarray, first: np.ndarray, second: np.ndarray | None, n: int) -> np.ndarray:
    """The n rows with the largest (first, second) keys (dates as int64; NaT last), largest first."""
    if len(rows) > 4 * n:  # a partial sort first: only the rows that can be in the top n
        keys = first[rows]
        cut = np.partition(keys, len(keys) - n)[len(keys) - n]
        rows = rows[keys >= cut]
    order = np.lexsort((second[rows],) + (first[rows],) if second is not None else (first[rows],))[::-1]
    return rows[order[:n]]


def _newest_kept(keep: np.ndarray, first: np.ndarray, second: np.ndarray | None, n: int) -> np.ndarray:
    """`_newest` of the rows a mask keeps, a chunk of rows at a time (dataset.CHUNK_ROWS): the kept rows at
    least as new as the n-th newest found so far are the candidates, and once they are many the cut moves
    up. Most chunks then cost one comparison, and no array as long as the table is made."""
    cut = NAT
    best = np.empty(0, dtype=np.int64)
    for rows in chunks(len(keep)):
        found = np.flatnonzero(keep[rows] & (first[rows] >= cut))
        if not len(found):
            continue
        best = np.concatenate([best, found + rows.start])
        if len(best) > 4 * n:  # the n newest and every row tied with the last of them
            keys = first[best]
            cut = np.partition(keys, len(keys) - n)[len(keys) - n]
            best = best[keys >= cut]
    return _newest(best, first, second, n)


@remembered
def latest_events(ds: Dataset, f: Filters, n: int = 10) -> pd.DataFrame:
    """The most recent events by event date (then publication), each with its evidence sentence."""
    top = _newest_kept(ds.mask("events", f), ds.days("events", "date"), ds.days("events", "published"), n)
    return _plain(ds.fetch("events", top, EVIDENCE_COLUMNS))


def _first_rows(codes: np.ndarray, rows: np.ndarray, size: int) -> np.ndarray:
    """For each code, the first of `rows` that has it (-1 where none does)."""
    first = np.full(size, -1, dtype=np.int64)
    first[codes[::-1]] = rows[::-1]  # the last write wins: reversed, that is the first row
    return first


DENSE_PAIRS = 64_000_000  # up to this many possible pairs, a bitmap beats hashing them


def _pairs_per(codes: np.ndarray, other: np.ndarray, size: int) -> np.ndarray:
    """How many distinct `other` values each code has (e.g. articles per place, outlets per happening)."""
    if not len(codes):
        return np.zeros(size, dtype=np.int64)
    width = int(other.max()) + 2
    pairs = codes.astype(np.int64) * width + (other.astype(np.int64) + 1)
    if size * width <= DENSE_PAIRS:
        seen = np.zeros(size * width, dtype=bool)
        seen[pairs] = True
        return seen.reshape(size, width).sum(axis=1)
    return np.bincount(pd.unique(pairs) // width, minlength=size)


@remembered
def top_places(ds: Dataset, f: Filters, n: int = 10, kinds: tuple[str, ...] = LOCAL_KINDS) -> pd.DataFrame:
    """Most mentioned places below country level (countries would top every list), with event counts."""
    pc = ds.codes("places", "place_id")
    size = ds.size("places", "place_id")
    sel = ds.mask("places", f) & ds.memo(f"coded mentions of kinds:{kinds}",
                                          lambda: ds.has("places", "kind", kinds) & (pc >= 0))
    mentions = code_counts(pc, sel, size)
    cols = ["place_id", "name", "kind", "country", "mentions", "articles", "events"]
    if not mentions.any():
        return pd.DataFrame(columns=cols)
    events = _events_per_place(ds, f, size)
    present = np.flatnonzero(mentions)
    top = present[np.lexsort((events[present], mentions[present]))[::-1][:n]]
    articles = _articles_per_place(ds, f, pc, sel, size)
    out = _place_rows(ds, top)
    out["mentions"], out["articles"], out["events"] = mentions[top], articles[top], events[top]
    return out[cols]


def _events_per_place(ds: Dataset, f: Filters, size: int) -> np.ndarray:
    """Events under the filters counted per place code of the places table: counted per code of the events'
    own dictionary, then the counts (not the ten million rows) moved to the places' codes."""
    to_places = ds.memo("events->places", lambda: ds.places["place_id"].cat.categories.get_indexer(
        ds.events["place_id"].cat.categories))  # one dictionary as built; a correction may add to one
    per_event_code = code_counts(ds.codes("events", "place_id"), ds.mask("events", f), len(to_places))
    out = np.zeros(size, dtype=np.int64)
    known = to_places >= 0
    np.add.at(out, to_places[known], per_event_code[known])
    return out


def _place_rows(ds: Dataset, codes: np.ndarray) -> pd.DataFrame:
    """Name, kind, country and coordinates of places by code (from their first mention)."""
    first = ds.first_rows("places", "place_id")
    return _plain(ds.fetch("places", first[codes], ["place_id", "name", "kind", "country", "lat", "lon"]))


def _holder_rows(ds: Dataset, f: Filters, holder: str) -> np.ndarray:
    """The stances of `holder` under the filters (the holder picker, not the actors filter, picks whose)."""
    return ds.mask("stances", f.replace(actors=())) & (ds.codes("stances", "holder") ==
                                                      ds.code_of("stances", "holder", holder))


def stance_rows(ds: Dataset, f: Filters, holder: str, columns: list[str] | None = None) -> pd.DataFrame:
    """The holder's stances under the filters (the holder picker, not the actors filter, picks whose)."""
    m = _holder_rows(ds, f, holder)
    cols = columns or ["date", "holder", "issue", "polarity", "outlet", "language", "evidence", "article_id",
                       "stance_id", "start"]
    return ds.fetch("stances", np.flatnonzero(m), cols)


@remembered
def stance_matrix(ds: Dataset, f: Filters, holder: str, rows: str = "outlet") -> pd.DataFrame:
    """Per row (outlet or language) and issue: support, oppose and neutral counts, and net lean in [-1, 1]."""
    m = _holder_rows(ds, f, holder)
    r_c, i_c, p_c = (ds.codes("stances", c)[m].astype(np.int64) for c in (rows, "issue", "polarity"))
    n_r, n_i, n_p = (ds.size("stances", c) for c in (rows, "issue", "polarity"))
    ok = (r_c >= 0) & (i_c >= 0) & (p_c >= 0)  # as a groupby would, rows missing a key are left out
    # one bincount over (row, issue, polarity) codes: a pandas groupby of three million stances costs 10x
    cells = np.bincount(((r_c * n_i + i_c) * n_p + p_c)[ok], minlength=n_r * n_i * n_p).reshape(n_r * n_i, n_p)
    present = np.flatnonzero(cells.sum(axis=1))
    names = {c: np.asarray(ds.stances[c].cat.categories, dtype=object) for c in (rows, "issue", "polarity")}
    counts = pd.DataFrame({"row": pd.array(names[rows][present // n_i], dtype="string"),
                           "issue": pd.array(names["issue"][present % n_i], dtype="string")})
    polarity_code = {str(v): i for i, v in enumerate(names["polarity"])}
    for pol in POLARITIES:
        code = polarity_code.get(pol)
        counts[pol] = cells[present, code] if code is not None else np.zeros(len(present), dtype=np.int64)
    counts["total"] = counts[list(POLARITIES)].sum(axis=1)
    counts["net"] = (counts["support"] - counts["oppose"]) / counts["total"].where(counts["total"] > 0, 1)
    counts["issue_label"] = counts["issue"].map(lambda i: vocab().issue(str(i)))
    return counts[["row", "issue", "issue_label", *POLARITIES, "total", "net"]]


@remembered
def stance_evidence(ds: Dataset, f: Filters, holder: str, issue: str | None = None, row: str | None = None,
                    rows: str = "outlet", n: int = 50) -> pd.DataFrame:
    """The quotes behind a matrix cell (or a whole row or column), newest first, each with its English line.

    One sentence that gives the same stance twice (the engine reads "CSTO, EAEU and SCO" as three
    mentions of one issue) is listed once, with `times` saying how many stances it stands for.
    """
    m = _holder_rows(ds, f, holder)
    if issue:
        m &= ds.codes("stances", "issue") == ds.code_of("stances", "issue", issue)
    if row:
        m &= ds.codes("stances", rows) == ds.code_of("stances", rows, row)
    found = np.flatnonzero(m)
    cols = ["date", "holder", "issue", "polarity", "outlet", "language", "evidence", "article_id", "stance_id",
            *REVIEW]
    if not len(found):
        return pd.DataFrame(columns=[*cols, "times", "rows", "english"])
    start = ds.stances["start"].to_numpy(dtype=np.float64, na_value=-1).astype(np.int64)[found]
    n_issues, n_pol = (len(ds.stances[c].cat.categories) + 1 for c in ("issue", "polarity"))
    key = ((ds.stances["art"].to_numpy()[found] * (int(start.max()) + 2) + start + 1)
           * n_issues + ds.codes("stances", "issue")[found] + 1) * n_pol + ds.codes("stances", "polarity")[found] + 1
    groups, firsts = pd.factorize(key)[0], pd.Series(key).drop_duplicates().index.to_numpy()
    times = np.bincount(groups)
    top = _newest(np.arange(len(firsts)), ds.days("stances", "date")[found[firsts]], None, n)
    out = _plain(ds.fetch("stances", found[firsts[top]], cols))
    out["times"] = times[groups[firsts[top]]]
    order = np.argsort(groups, kind="stable")  # every row of each shown sentence: a review covers them all
    bounds = np.searchsorted(groups[order], groups[firsts[top]], side="left"), np.searchsorted(
        groups[order], groups[firsts[top]], side="right")
    out["rows"] = [found[order[lo:hi]].tolist() for lo, hi in zip(*bounds, strict=True)]
    out["english"] = [vocab().stance_sentence(h, i, p) for h, i, p in zip(out["holder"], out["issue"],
                                                                          out["polarity"], strict=True)]
    return out


@remembered
def disagreements(ds: Dataset, f: Filters, holder: str, rows: str = "outlet") -> pd.DataFrame:
    """Issues on which outlets (or languages) report the holder's position with different main polarity."""
    m = stance_matrix(ds, f, holder, rows)
    if m.empty:
        return pd.DataFrame(columns=["issue", "issue_label", "row", "polarity", "count", "total"])
    m["polarity"] = m[list(POLARITIES)].idxmax(axis=1)
    m["count"] = m[list(POLARITIES)].max(axis=1)
    split = m.groupby("issue")["polarity"].transform("nunique") > 1
    out = m[split].sort_values(["issue", "polarity", "count"], ascending=[True, True, False])
    return out[["issue", "issue_label", "row", "polarity", "count", "total"]].reset_index(drop=True)


@dataclass(frozen=True)
class _Happenings:
    """One entry per happening under the filters, by happening number (arrays aligned with each other)."""

    hap: np.ndarray  # its number
    first: np.ndarray  # row of its first report
    reports: np.ndarray
    outlets: np.ndarray
    background: np.ndarray  # every report of it is background


def _happenings(ds: Dataset, f: Filters) -> _Happenings:
    return ds.per_filters("happenings", f, lambda data_filters: _compute_happenings(ds, data_filters))


@dataclass(frozen=True)
class _PairOrder:
    """The event rows in (happening, outlet, row) order, as the build stored it, with their columns in that order."""

    order: np.ndarray  # rows
    hap: np.ndarray
    outlet: np.ndarray
    background: np.ndarray
    new_pair: np.ndarray  # the first row of its (happening, outlet) pair


def _pair_order(ds: Dataset) -> _PairOrder:
    def compute() -> _PairOrder:
        order = np.asarray(ds.stored_order("by_pair"))
        hap, outlet = ds.events["hap"].to_numpy()[order], ds.codes("events", "outlet")[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = (hap[1:] != hap[:-1]) | (outlet[1:] != outlet[:-1])
        return _PairOrder(order, hap, outlet, ds.events["background"].to_numpy(dtype=bool)[order], new)
    return ds.memo("events by happening and outlet", compute)


SPARSE_SHARE = 2  # a filter keeping fewer than 1/SPARSE_SHARE of the rows is picked through the inverse order


def _picked_in_pair_order(ds: Dataset, keep: np.ndarray) -> np.ndarray:
    """The rows `keep` selects, in the stored (happening, outlet, row) order: a flag per position of the order
    (most rows kept) or the positions, ascending (a few kept); either picks the order's columns.

    Why not `keep[order]`: that reads ten million flags in random order (40-160 ms at 10M events) and then
    compresses every column of the order. A filter that keeps a few rows scatters them through the inverse
    order (made once per build) into a flag array read in sequence, and the columns are then gathered at
    those positions only."""
    p = _pair_order(ds)
    if np.count_nonzero(keep) * SPARSE_SHARE >= len(p.order):
        return keep[p.order]

    def inverse() -> np.ndarray:
        inv = np.empty(len(p.order), dtype=np.int32)
        inv[p.order] = np.arange(len(p.order), dtype=np.int32)
        return inv
    flags = np.zeros(len(p.order), dtype=bool)
    flags[ds.memo("pair order position of each row", inverse)[np.flatnonzero(keep)]] = True
    return np.flatnonzero(flags)


def _compute_happenings(ds: Dataset, f: Filters) -> _Happenings:
    """The kept rows picked out of the stored (happening, outlet, row) order: each happening is then one run of
    rows, and its counts are sums over runs (no sort, no scatter over ten million rows)."""
    p = _pair_order(ds)
    picked = _picked_in_pair_order(ds, ds.mask("events", f))
    rows, hap, outlet, background = p.order[picked], p.hap[picked], p.outlet[picked], p.background[picked]
    if not len(rows):
        empty = np.zeros(0, dtype=np.int64)
        return _Happenings(empty, empty, empty, empty, np.zeros(0, dtype=bool))
    new_hap = np.ones(len(rows), dtype=bool)
    new_hap[1:] = hap[1:] != hap[:-1]
    new_pair = new_hap.copy()
    new_pair[1:] |= outlet[1:] != outlet[:-1]
    runs = np.flatnonzero(new_hap)
    ends = np.append(runs[1:], len(rows))
    reports = ends - runs
    # counts per run as differences of running sums: numpy's add.reduceat over booleans costs 60 ns a run
    # (600 ms at 10M events), a cumulative sum 1.5 ns a row
    return _Happenings(hap[runs].astype(np.int64), np.minimum.reduceat(rows, runs).astype(np.int64), reports,
                       _run_sums(new_pair, runs, ends), _run_sums(background, runs, ends) == reports)


def _run_sums(flags: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many flags are set in each run [starts[i], ends[i]) of `flags`."""
    total = np.zeros(len(flags) + 1, dtype=np.int64)
    np.cumsum(flags, out=total[1:])
    return total[ends] - total[starts]


def _happening_outlet_pairs(ds: Dataset, keep: np.ndarray) -> np.ndarray:
    """The distinct (happening, outlet) pairs among the event rows `keep` selects: each pair's first row.

    The build stored the rows in (happening, outlet, row) order; a filter state then only picks
    its rows in that order and marks where a pair changes. Hashing ten million pairs instead (pandas'
    unique) costs 1.6 s on this machine; this costs about a tenth of that."""
    p = _pair_order(ds)
    picked = _picked_in_pair_order(ds, keep)
    rows, hap, outlet = p.order[picked], p.hap[picked], p.outlet[picked]
    new = np.ones(len(rows), dtype=bool)
    new[1:] = (hap[1:] != hap[:-1]) | (outlet[1:] != outlet[:-1])
    return rows[new].astype(np.int64)


@remembered
def happenings(ds: Dataset, f: Filters, limit: int | None = None) -> pd.DataFrame:
    """One row per happening, newest first: its first report's fields, how many reports and outlets.

    A happening is background only when every report of it is background.
    """
    h = _happenings(ds, f)
    cols = ["happening_id", "date", "date_precision", "event_type", "actor", "target", "place_name", "summary",
            "outlet", "language", "published", "evidence", "article_id", *REVIEW, "place_id"]
    pick = np.arange(len(h.first))
    if limit is not None and len(pick) > limit:
        pick = _newest(pick, ds.days("events", "date")[h.first], None, limit)
    out = _plain(ds.fetch("events", h.first[pick], cols))
    out["background"], out["reports"], out["outlets"] = h.background[pick], h.reports[pick], h.outlets[pick]
    return out.sort_values("date", ascending=False, na_position="last", kind="stable").reset_index(drop=True)


def bucket_freq(start: pd.Timestamp | None, end: pd.Timestamp | None) -> str:
    """Day bars for a few months, weeks up to two years, months beyond."""
    if start is None or end is None or pd.isna(start) or pd.isna(end):
        return "MS"
    days = (end - start).days
    return "D" if days <= 120 else "W-MON" if days <= 730 else "MS"


@dataclass(frozen=True)
class Timeline:
    bins: pd.DataFrame  # bucket, group, background, happenings, outlets (by event date)
    pubs: pd.DataFrame  # bucket, reports (by publication date)
    freq: str  # D | W-MON | MS
    start: pd.Timestamp | None  # the date range shown
    end: pd.Timestamp | None
    earlier: int  # happenings before `start` left out of the default view (old background mentions)


@remembered
def timeline(ds: Dataset, f: Filters, group: str = "type") -> Timeline:
    """Happenings per time bucket (by event date) and reports per bucket (by publication date).

    Grouped by outlet, a happening counts once per outlet that reported it. Without a date filter
    the view starts at the earliest happening reported as news (or the earliest report), so that a
    2008 background mention does not squeeze 2022 into a sliver; how many were left out is returned.
    """
    dates, groups, background, outlets = _timeline_units(ds, f, group)
    rows = np.flatnonzero(ds.mask("events", f))
    published = ds.days("events", "published")[rows]
    published = published[published != NAT]
    dated = dates != NAT
    news = dates[dated & ~background]
    if f.start:
        lo = pd.Timestamp(f.start)
    else:
        starts = _ends(news, min) + _ends(published, min) or _ends(dates[dated], min)
        lo = _stamp(min(starts, default=None))
    hi = pd.Timestamp(f.end) if f.end else _stamp(max(_ends(dates[dated], max) + _ends(published, max),
                                                      default=None))
    keep = dated.copy()
    earlier = 0
    if lo is not None and not f.start:
        earlier = int(np.count_nonzero(dated & (dates < lo.value)))
        keep &= dates >= lo.value
        published = published[published >= lo.value]
    freq = bucket_freq(lo, hi)
    labels = (ds.events["event_type"] if group == "type" else ds.events["outlet"]).cat.categories
    bins = pd.DataFrame(columns=["bucket", "group", "background", "happenings", "outlets"])
    if keep.any():
        # One integer per (bucket, group, background), counted with bincount: a groupby would cost 5x.
        slot = _slot(dates[keep], freq)
        base, n_groups = int(slot.min()), len(labels)
        key = ((slot - base) * n_groups + groups[keep]) * 2 + background[keep]
        counts = np.bincount(key)
        sums = np.bincount(key, weights=outlets[keep])
        present = np.flatnonzero(counts)
        bins = pd.DataFrame({
            "bucket": _slot_start(present // (2 * n_groups) + base, freq),
            "group": np.asarray(labels, dtype=object)[(present // 2) % n_groups],
            "background": (present % 2).astype(bool), "happenings": counts[present],
            "outlets": sums[present].astype(np.int64)})
    pubs = pd.DataFrame(columns=["bucket", "reports"])
    if len(published):
        slot = _slot(published, freq)
        base = int(slot.min())
        counts = np.bincount(slot - base)
        present = np.flatnonzero(counts)
        pubs = pd.DataFrame({"bucket": _slot_start(present + base, freq), "reports": counts[present]})
    return Timeline(bins, pubs, freq, lo, hi, earlier)


def _timeline_units(ds: Dataset, f: Filters, group: str) -> tuple[np.ndarray, ...]:
    """What the timeline counts: happenings (by type), or happening-outlet pairs (by outlet).

    Returns date (int64 ns), group code, background and outlets per unit.
    """
    days = ds.days("events", "date")
    if group == "type":
        h = _happenings(ds, f)
        return days[h.first], ds.codes("events", "event_type")[h.first], h.background, h.outlets
    first = _happening_outlet_pairs(ds, ds.mask("events", f))
    bg = ds.events["background"].to_numpy(dtype=bool)[first]
    return days[first], ds.codes("events", "outlet")[first], bg, np.ones(len(first), dtype=np.int64)


def _ends(values: np.ndarray, pick) -> list[int]:
    """[the smallest or largest value] (pick: min or max), or [] for no values; numpy does the work."""
    if not len(values):
        return []
    return [int(values.min() if pick is min else values.max())]


def _stamp(ns: int | None) -> pd.Timestamp | None:
    return None if ns is None else pd.Timestamp(ns)


def _slot(ns: np.ndarray, freq: str) -> np.ndarray:
    """The bucket number of int64-nanosecond dates: days, weeks (from Monday) or months since 1970."""
    days = np.asarray(ns, dtype=np.int64) // DAY_NS
    if freq == "D":
        return days
    if freq.startswith("W"):
        return (days + 3) // 7  # 1970-01-01 was a Thursday: week 0 started on Monday 1969-12-29
    if not len(days):
        return days
    # Months through a table of the days in range: numpy's datetime64[M] conversion of a million
    # dates costs 80 ms, the table a few thousand conversions and one gather.
    first = int(days.min())
    month_of = np.arange(first, int(days.max()) + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return month_of[days - first]


def _slot_start(slot: np.ndarray, freq: str) -> np.ndarray:
    """The first day of each bucket number, as datetime64[ns]."""
    if freq == "D":
        return (slot * DAY_NS).astype("datetime64[ns]")
    if freq.startswith("W"):
        return ((slot * 7 - 3) * DAY_NS).astype("datetime64[ns]")
    return slot.astype("datetime64[M]").astype("datetime64[ns]")


@functools.lru_cache(maxsize=64)
def key_dates(start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """The annotated dates in a range (shared: callers copy before adding columns)."""
    rows = [(pd.Timestamp(d), label) for d, label in vocab().key_dates
            if (start is None or d >= start) and (end is None or d <= end)]
    return pd.DataFrame(rows, columns=["date", "label"])


def _located(ds: Dataset, name: str) -> np.ndarray:
    return ds.memo(f"located:{name}", lambda: ds.table(name)["located"].to_numpy(dtype=bool))


@remembered
def map_events(ds: Dataset, f: Filters, limit: int = MAP_POINTS) -> pd.DataFrame:
    """Event points: one per place and event type, with the count and the latest event's fields."""
    cols = ["place_id", "place_name", "event_type", "lat", "lon", "count", "date", "summary", "outlet"]
    pcode, tcode = ds.codes("events", "place_id"), ds.codes("events", "event_type")
    rows = np.flatnonzero(ds.mask("events", f) & _located(ds, "events") & (pcode >= 0))
    if not len(rows):
        return pd.DataFrame(columns=cols)
    n_types = len(ds.events["event_type"].cat.categories)
    size = len(ds.events["place_id"].cat.categories) * n_types
    key = pcode[rows].astype(np.int64) * n_types + tcode[rows]
    counts = np.bincount(key, minlength=size)
    when = ds.days("events", "date")[rows]
    latest = np.full(size, NAT, dtype=np.int64)
    np.maximum.at(latest, key, when)
    newest = when == latest[key]
    rep = _first_rows(key[newest], rows[newest], size)
    present = np.flatnonzero(counts)
    top = present[np.argsort(counts[present], kind="stable")[::-1][:limit]]
    out = _plain(ds.fetch("events", rep[top], ["place_id", "place_name", "event_type", "lat", "lon", "date",
                                               "summary", "outlet"]))
    out["count"] = counts[top]
    return out[cols]


@remembered
def map_places(ds: Dataset, f: Filters, limit: int = MAP_POINTS) -> pd.DataFrame:
    """Place-mention points: one per place, with mentions and articles counted."""
    cols = ["place_id", "name", "kind", "country", "lat", "lon", "mentions", "articles"]
    pc = ds.codes("places", "place_id")
    sel = ds.mask("places", f) & _located(ds, "places") & (pc >= 0)
    size = ds.size("places", "place_id")
    mentions = code_counts(pc, sel, size)
    present = np.flatnonzero(mentions)
    if not len(present):
        return pd.DataFrame(columns=cols)
    top = present[np.argsort(mentions[present], kind="stable")[::-1][:limit]]
    out = _place_rows(ds, top)
    out["mentions"], out["articles"] = mentions[top], _articles_per_place(ds, f, pc, sel, size)[top]
    return out[cols]


def _articles_per_place(ds: Dataset, f: Filters, pc: np.ndarray, sel: np.ndarray, size: int) -> np.ndarray:
    """How many articles mention each place, among the mentions `sel` keeps.

    Every filter but the text search keeps or drops all mentions of one place in one article together,
    so counting each (place, article) pair's first mention is exact and costs one bincount; a text
    search can keep a later mention without the first, so it takes the general path."""
    if f.text:
        return _pairs_per(pc[sel], ds.places["art"].to_numpy()[sel], size)
    def first_mentions() -> np.ndarray:  # stored by the build, unless a review moved a mention elsewhere
        if ds.as_built("places", "place_id"):
            return np.asarray(ds.stored_order("place_article_first"))
        return ~pd.DataFrame({"p": pc, "a": ds.places["art"].to_numpy()}).duplicated().to_numpy()
    first = ds.memo("first mention of a place in an article", first_mentions)
    return code_counts(pc, sel & first, size)


@remembered
def place_evidence(ds: Dataset, f: Filters, place_id: str, n: int = 50) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What a map point stands on: the events at the place, and each mention with its sentence."""
    ev_code = ds.code_of("events", "place_id", place_id)
    ev_rows = np.flatnonzero(ds.mask("events", f) & (ds.codes("events", "place_id") == ev_code))
    ev_rows = _newest(ev_rows, ds.days("events", "date"), None, n)
    pl_code = ds.code_of("places", "place_id", place_id)
    pl_rows = np.flatnonzero(ds.mask("places", f) & (ds.codes("places", "place_id") == pl_code))[:n]
    pl = ds.fetch("places", pl_rows, ["name", "surface", "outlet", "language", "published", "article_id", "start",
                                      "end", "art", *REVIEW, "place_id"])
    mentions = _plain(pl.drop(columns="art"))
    arts = pl["art"].to_numpy()
    present = np.unique(arts[arts >= 0])
    texts = dict(zip(present, ds.fetch("articles", present, ["text"])["text"], strict=True))
    spans: dict[int, list[tuple[int, int]]] = {}
    sentences, offsets = [], []
    for art, start in zip(pl["art"].to_numpy(), pl["start"].to_numpy(), strict=True):
        if art < 0 or pd.isna(start):
            sentences.append("")
            offsets.append(pd.NA)
            continue
        text = str(texts[art])
        s, e = sentence_of(int(start), spans.setdefault(int(art), sentence_spans(text)))
        sentences.append(text[s:e])
        offsets.append(s)
    mentions = mentions.reset_index(drop=True)
    mentions["sentence"] = sentences
    mentions["sentence_start"] = pd.array(offsets, dtype="Int64")  # the mention is at start - sentence_start
    return _plain(ds.fetch("events", ev_rows, EVIDENCE_COLUMNS)), mentions


@remembered
def articles_list(ds: Dataset, f: Filters, limit: int = 5000) -> pd.DataFrame:
    """Articles under the filters, newest first (at most `limit`), with how many rows each gave."""
    rows = _newest_kept(ds.mask("articles", f), ds.days("articles", "published"), None, limit)
    out = _plain(ds.fetch("articles", rows, ["article_id", "published", "outlet", "language", "title", "source"]))
    for name in ("events", "stances", "places"):
        per = ds.memo(f"per article:{name}", lambda name=name: np.bincount(
            (a := ds.table(name)["art"].to_numpy())[a >= 0], minlength=len(ds.articles)))
        out[name] = per[rows]
    return out.reset_index(drop=True)


def options(ds: Dataset) -> dict[str, list[str]]:
    """The values each sidebar filter offers, most frequent first (computed once per build)."""
    return ds.memo("options", lambda: _options(ds))


def _options(ds: Dataset) -> dict[str, list[str]]:
    def by_count(counts: pd.Series) -> list[str]:  # categories nobody has are left out; ties by name
        counts = counts[counts > 0].sort_index(kind="stable").sort_values(ascending=False, kind="stable")
        return [str(v) for v in counts.index if str(v)]

    def counted(name: str, col: str, where: np.ndarray | None = None) -> pd.Series:
        """Rows per value of a categorical column: as the build counted them (`Dataset.code_totals`), or from its
        codes (pandas' value_counts and a boolean .loc on ten million rows took most of a second)."""
        per = ds.code_totals(name, col) if where is None else code_counts(ds.codes(name, col), where,
                                                                           ds.size(name, col))
        return pd.Series(per, index=ds.table(name)[col].cat.categories)

    actors = counted("events", "actor").add(counted("events", "target"), fill_value=0)
    actors = actors.add(counted("stances", "holder"), fill_value=0)
    present = set(by_count(counted("events", "event_type")))
    return {
        "outlets": by_count(counted("articles", "outlet")),
        "languages": by_count(counted("articles", "language")),
        "actors": by_count(actors),
        "issues": by_count(counted("stances", "issue")),
        "event_types": [t for t in vocab().event_types if t in present],
        "countries": by_count(counted("places", "country")),
        "places": by_count(_local_place_totals(ds)),
        "holders": by_count(counted("stances", "holder")),
    }


def _local_place_totals(ds: Dataset) -> pd.Series:
    """Mentions per place below country level. A place's kind is its gazetteer entry's, the same in every mention,
    so while no review changed the mentions the build's totals per place are kept for the places whose first
    mention is not a country; otherwise the mentions are counted."""
    codes, categories = ds.codes("places", "place_id"), ds.places["place_id"].cat.categories
    if ds.as_built_table("places"):
        first = ds.first_rows("places", "place_id")
        local = np.zeros(len(first), dtype=bool)
        found = first >= 0
        local[found] = ds.codes("places", "kind")[first[found]] != ds.code_of("places", "kind", "country")
        return pd.Series(np.where(local, ds.code_totals("places", "place_id"), 0), index=categories)
    where = ds.codes("places", "kind") != ds.code_of("places", "kind", "country")
    return pd.Series(code_counts(codes, where, len(categories)), index=categories)


def place_names(ds: Dataset) -> dict[str, str]:
    def compute() -> dict[str, str]:  # each place's name at its first mention (the build's list, reviews applied)
        first = ds.first_rows("places", "place_id")  # not a DuckDB pass over every mention: 0.02 s, not 0.25, at 10M
        pl = ds.fetch("places", first[first >= 0], ["place_id", "name"])
        return dict(zip(pl["place_id"].astype(str), pl["name"].astype(str), strict=True))
    return ds.memo("place_names", compute)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Categoricals back to plain strings, so results compare, serialise and display simply."""
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype("string")
    return out

