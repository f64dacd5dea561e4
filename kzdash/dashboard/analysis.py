"""Analysis beyond "what was reported": how a holder's positions moved, and who covered what.

Two questions an analyst asks of the tables (kzdash issue 15), as plain DataFrames, no Streamlit:

* **Positions over time** (`positions`): for one holder, every issue's stated positions on a time
  axis. A *statement* is one article × issue × polarity (an article that repeats a stance three
  times states it once); it is dated by the article's publication date, else by the stance's own
  date. Per issue and polarity the first and last statement; per issue every change of side, in
  order; and where outlets disagree at the same time (the same day, else the same week), both sides.
* **Coverage** (`coverage`): which outlets and languages reported each happening, how soon after it
  happened, and which outlets that usually cover its actors or places did not report it.

Speed: like `kzdash.dashboard.queries`, everything counts on the coded index columns with numpy
(sorts and bincounts over the masked rows); text (evidence, summaries) is fetched only for the
rows returned, and long answers are cut to the newest rows with the total kept beside them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kzdash.dashboard.dataset import Dataset
from kzdash.dashboard.filters import Filters
from kzdash.dashboard.queries import DAY_NS, NAT, _happenings, _newest, _pair_order, _plain, remembered
from kzdash.dashboard.vocab import POLARITIES, UNKNOWN_OUTLET, language_name, vocab

MARKS = 3000  # statements drawn on the positions chart (the newest, when there are more)
CHANGES = 300  # changes of side listed (the newest, when there are more)
PERIODS = 100  # disagreeing days or weeks listed (the newest, when there are more)
USUAL = 3  # an outlet "usually covers" an actor or place when it reported at least this many happenings with it
LISTED = 1000  # happenings in the coverage table (the newest, when there are more)
CHART_HAPPENINGS = 40  # happenings (rows) in the coverage chart
MISSING_NAMED = 8  # outlets named in a "did not report" cell; the rest are counted
LAG_RANGE = (-60, 730)  # days; per-outlet median lags are counted in this range (outside it, at its ends)

STATEMENT_COLUMNS = ["stated", "issue", "issue_label", "polarity", "outlet", "language", "article_id", "stances"]
SPAN_COLUMNS = ["issue", "issue_label", "polarity", "first", "last", "statements", "outlets", "first_outlet",
                "first_language", "first_evidence", "first_article_id", "last_outlet", "last_language",
                "last_evidence", "last_article_id"]
CHANGE_COLUMNS = ["issue", "issue_label", "before", "after", "first_seen", "outlet", "language", "evidence",
                  "article_id", "statements", "note"]
DISAGREEMENT_COLUMNS = ["issue", "issue_label", "window", "period", "polarity", "outlets", "statements", "outlet",
                        "language", "evidence", "article_id"]
COVERAGE_COLUMNS = ["happening_id", "date", "event_type", "actor", "target", "place_name", "summary", "reports",
                    "outlets", "reported_by", "languages", "first_published", "lag_days", "usual_missing",
                    "missing", "note", "evidence", "outlet", "language", "published", "article_id"]
PAIR_COLUMNS = ["happening", "happening_id", "date", "outlet", "language", "status", "lag_days"]
REPORTED, SILENT = "reported", "usually covers it, did not report"


# --- positions over time ----------------------------------------------------------------------


@dataclass(frozen=True)
class Positions:
    """A holder's positions over time under the filters (see `positions`)."""

    marks: pd.DataFrame  # STATEMENT_COLUMNS: one per article × issue × polarity, oldest first
    spans: pd.DataFrame  # SPAN_COLUMNS: per issue and polarity, its first and last statement
    changes: pd.DataFrame  # CHANGE_COLUMNS: every change of side, in order (per issue, by date)
    disagreements: pd.DataFrame  # DISAGREEMENT_COLUMNS: per disagreeing day or week, one row per side
    statements: int  # dated statements in all (marks holds at most MARKS of them)
    undated: int  # statements with neither a publication date nor a date of their own
    changes_total: int
    periods_total: int  # disagreeing days and weeks in all


def _stated(ds: Dataset) -> np.ndarray:
    """When each stance was stated (int64 ns): its article's publication date, else its own date."""
    def compute() -> np.ndarray:
        art = ds.stances["art"].to_numpy()
        pub = ds.days("articles", "published")
        own = ds.days("stances", "date")
        from_article = np.where(art >= 0, pub[np.maximum(art, 0)], NAT) if len(pub) else np.full(len(art), NAT)
        return np.where(from_article != NAT, from_article, own)
    return ds.memo("stated:stances", compute)


@dataclass(frozen=True)
class _Statements:
    """Dated statements sorted by (issue, day, polarity, row), as aligned arrays."""

    rows: np.ndarray  # the first stance row of each statement
    issue: np.ndarray
    polarity: np.ndarray
    day: np.ndarray  # days since 1970
    outlet: np.ndarray
    language: np.ndarray
    stances: np.ndarray  # stances it stands for
    undated: int


def _statements(ds: Dataset, f: Filters, holder: str) -> _Statements:
    m = ds.mask("stances", f.replace(actors=())) & (ds.codes("stances", "holder") == ds.code_of("stances", "holder",
                                                                                                 holder))
    rows = np.flatnonzero(m)
    issue, pol = ds.codes("stances", "issue")[rows], ds.codes("stances", "polarity")[rows]
    art = ds.stances["art"].to_numpy()[rows].astype(np.int64)
    n_i, n_p = ds.size("stances", "issue") + 1, ds.size("stances", "polarity") + 1
    key = (art + 1) * (n_i * n_p) + (issue.astype(np.int64) + 1) * n_p + (pol.astype(np.int64) + 1)
    _, first, times = np.unique(key, return_index=True, return_counts=True)
    rows, issue, pol = rows[first], issue[first], pol[first]
    stated = _stated(ds)[rows]
    dated = (stated != NAT) & (issue >= 0) & (pol >= 0)
    rows, issue, pol, times, day = rows[dated], issue[dated], pol[dated], times[dated], stated[dated] // DAY_NS
    order = np.lexsort((rows, pol, day, issue))
    rows = rows[order]
    return _Statements(rows, issue[order], pol[order], day[order], ds.codes("stances", "outlet")[rows],
                       ds.codes("stances", "language")[rows], times[order], int(np.count_nonzero(~dated)))


def _groups(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For arrays sorted by `keys`: each element's group number and each group's first index."""
    n = len(keys[0])
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    new = np.zeros(n, dtype=bool)
    new[0] = True
    for k in keys:
        new[1:] |= k[1:] != k[:-1]
    return np.cumsum(new) - 1, np.flatnonzero(new)


def _labels(ds: Dataset, col: str) -> np.ndarray:
    return np.asarray(ds.stances[col].cat.categories, dtype=object)


def _pol_rank(ds: Dataset) -> np.ndarray:
    """Polarity code -> its place in POLARITIES (support, oppose, neutral), for sorting."""
    return np.array([POLARITIES.index(p) if p in POLARITIES else len(POLARITIES) for p in _labels(ds, "polarity")],
                    dtype=np.int64)


def _day(days: np.ndarray) -> pd.Series:
    return pd.Series((np.asarray(days, dtype=np.int64) * DAY_NS).astype("datetime64[ns]"))


@remembered
def positions(ds: Dataset, f: Filters, holder: str, marks: int = MARKS, changes: int = CHANGES,
              periods: int = PERIODS) -> Positions:
    """`holder`'s stated positions per issue over time (the filters apply; the holder picker, not the
    actors filter, says whose).

    A change of side: per issue, each day's side is the polarity most of that day's statements
    take; a day split evenly keeps the side before it. A change is a day whose side differs from
    the side before it, flagged with that day's first statement of the new side (outlet, evidence,
    article). Outlets disagree at the same time when, for one issue, two outlets state different
    polarities on the same day, or (when no single day of it has both) in the same week (Monday to
    Sunday); each side is listed with its outlets.
    """
    s = _statements(ds, f, holder)
    issues, pols, outlets = _labels(ds, "issue"), _labels(ds, "polarity"), _labels(ds, "outlet")
    languages = _labels(ds, "language")
    label = {i: vocab().issue(str(i)) for i in issues}
    if not len(s.rows):
        return Positions(pd.DataFrame(columns=STATEMENT_COLUMNS), pd.DataFrame(columns=SPAN_COLUMNS),
                         pd.DataFrame(columns=CHANGE_COLUMNS), pd.DataFrame(columns=DISAGREEMENT_COLUMNS), 0,
                         s.undated, 0, 0)
    drawn = _statement_marks(ds, s, marks, issues, pols, outlets, languages, label)
    spans = _spans(ds, s, issues, pols, label)
    found, n_changes = _changes(ds, s, changes, issues, pols, label)
    split, n_periods = _disagreements(ds, s, periods, issues, pols, outlets, label)
    return Positions(drawn, spans, found, split, len(s.rows), s.undated, n_changes, n_periods)


def _statement_marks(ds: Dataset, s: _Statements, n: int, issues, pols, outlets, languages, label) -> pd.DataFrame:
    keep = np.arange(len(s.rows))
    if len(keep) > n:
        keep = np.sort(_newest(keep, s.day, s.rows, n))
    keep = keep[np.lexsort((s.rows[keep], s.day[keep]))]  # oldest first
    out = pd.DataFrame({"stated": _day(s.day[keep]), "issue": issues[s.issue[keep]]})
    out["issue_label"] = out["issue"].map(label)
    out["polarity"] = pols[s.polarity[keep]]
    out["outlet"], out["language"] = outlets[s.outlet[keep]], languages[s.language[keep]]
    out["article_id"] = ds.fetch("stances", s.rows[keep], ["article_id"])["article_id"].astype("string").to_numpy()
    out["stances"] = s.stances[keep]
    return out[STATEMENT_COLUMNS]


def _spans(ds: Dataset, s: _Statements, issues, pols, label) -> pd.DataFrame:
    """First and last statement per issue and polarity, with their evidence."""
    order = np.lexsort((s.rows, s.day, s.polarity, s.issue))
    group, start = _groups(s.issue[order], s.polarity[order])
    end = np.append(start[1:], len(order))
    first, last = order[start], order[end - 1]
    n_out = ds.size("stances", "outlet") + 1
    pairs = np.unique(group.astype(np.int64) * n_out + s.outlet[order] + 1)
    outlets_per = np.bincount(pairs // n_out, minlength=len(start))
    cols = ["evidence", "article_id", "outlet", "language"]
    a, b = _plain(ds.fetch("stances", s.rows[first], cols)), _plain(ds.fetch("stances", s.rows[last], cols))
    out = pd.DataFrame({"issue": issues[s.issue[first]], "polarity": pols[s.polarity[first]],
                        "first": _day(s.day[first]), "last": _day(s.day[last]), "statements": end - start,
                        "outlets": outlets_per})
    out["issue_label"] = out["issue"].map(label)
    for prefix, got in (("first", a), ("last", b)):
        for col in ("outlet", "language", "evidence", "article_id"):
            out[f"{prefix}_{col}"] = got[col].to_numpy()
    out["rank"] = _pol_rank(ds)[s.polarity[first]]
    out = out.sort_values(["issue_label", "rank"], kind="stable").reset_index(drop=True)
    return out[SPAN_COLUMNS]


def _changes(ds: Dataset, s: _Statements, n: int, issues, pols, label) -> tuple[pd.DataFrame, int]:
    """Every change of side per issue, by day (see `positions`)."""
    n_p = ds.size("stances", "polarity")
    group, start = _groups(s.issue, s.day)
    counts = np.bincount(group * n_p + s.polarity, minlength=len(start) * n_p).reshape(len(start), n_p)
    top = counts.max(axis=1)
    tied = (counts == top[:, None]).sum(axis=1) > 1
    side = np.where(tied, -1, counts.argmax(axis=1))
    issue = s.issue[start]
    decided = np.maximum.accumulate(np.where(side >= 0, np.arange(len(side)), -1))
    held = np.where((decided >= 0) & (issue[np.maximum(decided, 0)] == issue), side[np.maximum(decided, 0)], -1)
    before = np.full(len(side), -1)
    before[1:] = np.where(issue[1:] == issue[:-1], held[:-1], -1)
    at = np.flatnonzero((side >= 0) & (before >= 0) & (side != before))
    total = len(at)
    if not total:
        return pd.DataFrame(columns=CHANGE_COLUMNS), 0
    if total > n:  # the newest n
        at = np.sort(at[np.argsort(s.day[start[at]], kind="stable")[::-1][:n]])
    # the first statement of the new side that day: statements are sorted by (issue, day, polarity, row)
    key = group * n_p + s.polarity
    first = np.searchsorted(key, at * n_p + side[at])
    got = _plain(ds.fetch("stances", s.rows[first], ["outlet", "language", "evidence", "article_id"]))
    out = pd.DataFrame({"issue": issues[issue[at]], "before": pols[before[at]], "after": pols[side[at]],
                        "first_seen": _day(s.day[first]), "statements": counts[at, side[at]]})
    out["issue_label"] = out["issue"].map(label)
    for col in ("outlet", "language", "evidence", "article_id"):
        out[col] = got[col].to_numpy()
    out["note"] = [f"{b} → {a}, first seen {d:%Y-%m-%d}, {o}" for b, a, d, o in
                   zip(out["before"], out["after"], out["first_seen"], out["outlet"], strict=True)]
    out = out.sort_values(["issue_label", "first_seen"], kind="stable").reset_index(drop=True)
    return out[CHANGE_COLUMNS], total


def _disagreements(ds: Dataset, s: _Statements, n: int, issues, pols, outlets, label) -> tuple[pd.DataFrame, int]:
    """Days (else weeks) in which two outlets state different polarities on one issue, both sides listed."""
    n_p, n_o = ds.size("stances", "polarity"), ds.size("stances", "outlet") + 1
    week = (s.day + 3) // 7  # weeks from Monday (1970-01-01 was a Thursday), as the timeline buckets them
    found: list[tuple[int, int, str]] = []  # (first index, end index, window)
    split_days: set[tuple[int, int]] = set()
    for window, unit in (("same day", s.day), ("same week", week)):
        group, start = _groups(s.issue, unit)
        end = np.append(start[1:], len(group))
        n_pol = np.count_nonzero(np.bincount(group * n_p + s.polarity, minlength=len(start) * n_p)
                                 .reshape(len(start), n_p), axis=1)
        pairs = np.unique(group.astype(np.int64) * n_o + s.outlet + 1)
        n_out = np.bincount(pairs // n_o, minlength=len(start))
        for g in np.flatnonzero((n_pol >= 2) & (n_out >= 2)):
            lo, hi = int(start[g]), int(end[g])
            if window == "same day":
                split_days.add((int(s.issue[lo]), int(week[lo])))
            elif (int(s.issue[lo]), int(week[lo])) in split_days:
                continue  # a day of this week already shows the disagreement
            found.append((lo, hi, window))
    total = len(found)
    if not total:
        return pd.DataFrame(columns=DISAGREEMENT_COLUMNS), 0
    found.sort(key=lambda p: (int(s.day[p[0]]), p[0]))
    found = found[-n:]
    rank = _pol_rank(ds)
    records, examples = [], []
    for lo, hi, window in found:
        span = np.arange(lo, hi)
        for p in sorted(np.unique(s.polarity[span]), key=lambda c: rank[c]):
            mine = span[s.polarity[span] == p]
            names = sorted({str(outlets[o]) for o in s.outlet[mine]})
            day = int(s.day[lo]) if window == "same day" else int(week[lo]) * 7 - 3
            records.append({"issue": issues[s.issue[lo]], "window": window, "period": day, "polarity": pols[p],
                            "outlets": ", ".join(names), "statements": len(mine)})
            examples.append(s.rows[mine[0]])
    out = pd.DataFrame.from_records(records)
    out["period"] = _day(out["period"].to_numpy())
    out["issue_label"] = out["issue"].map(label)
    got = _plain(ds.fetch("stances", np.asarray(examples), ["outlet", "language", "evidence", "article_id"]))
    for col in ("outlet", "language", "evidence", "article_id"):
        out[col] = got[col].to_numpy()
    return out[DISAGREEMENT_COLUMNS], total


EVIDENCE_COLUMNS = ["date", "outlet", "language", "english", "evidence", "article_id"]


def positions_evidence(p: Positions) -> pd.DataFrame:
    """What a briefing shows and hands out under the positions chart: every change of side (newest
    first), then each position's last statement with its first and last dates, as quote rows."""
    changes = pd.DataFrame({"date": p.changes["first_seen"], "outlet": p.changes["outlet"],
                            "language": p.changes["language"],
                            "english": p.changes["issue_label"] + ": " + p.changes["note"],
                            "evidence": p.changes["evidence"], "article_id": p.changes["article_id"]})
    spans = p.spans
    english = [f"{label}: {pol}, first stated {a:%Y-%m-%d} ({fo}), last {b:%Y-%m-%d}" for label, pol, a, fo, b in
               zip(spans["issue_label"], spans["polarity"], spans["first"], spans["first_outlet"], spans["last"],
                   strict=True)]
    lasts = pd.DataFrame({"date": spans["last"], "outlet": spans["last_outlet"], "language": spans["last_language"],
                          "english": english, "evidence": spans["last_evidence"],
                          "article_id": spans["last_article_id"]})
    out = pd.concat([changes.iloc[::-1], lasts], ignore_index=True) if len(changes) else lasts
    return out[EVIDENCE_COLUMNS].reset_index(drop=True)


# --- coverage ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """Who reported the happenings under the filters (see `coverage`)."""

    table: pd.DataFrame  # COVERAGE_COLUMNS: one row per happening, newest first (at most `limit`)
    pairs: pd.DataFrame  # PAIR_COLUMNS: happening × outlet cells of the newest CHART_HAPPENINGS, for the chart
    outlets: pd.DataFrame  # outlet, language, happenings, share, median_lag_days, missed
    languages: pd.DataFrame  # language, language_name, happenings, share, outlets
    happenings: int  # under the filters (the table lists at most `limit`)
    usual: int  # the "usually covers" threshold used


@dataclass(frozen=True)
class _Reports:
    """The events grouped by happening, for the whole build: happening h's reports are
    order[starts[h]:starts[h + 1]] (the build's stored (happening, outlet, row) order); `date` is the earliest
    event date any report gives. In the same order, per row: its outlet and language, whether it is the first
    row of its (happening, outlet) and of its (happening, language) pair, and its lag in days (LAG_RANGE,
    clipped; NO_LAG when a date is missing), so that a filter's totals are sums over picked rows."""

    order: np.ndarray
    starts: np.ndarray
    date: np.ndarray  # int64 ns per happening (NAT: none dated)
    hap: np.ndarray  # per row, in order
    outlet: np.ndarray
    language: np.ndarray
    new_outlet: np.ndarray
    new_language: np.ndarray
    lag: np.ndarray


NO_LAG = np.iinfo(np.int16).min


def _reports(ds: Dataset) -> _Reports:
    def compute() -> _Reports:
        p = _pair_order(ds)
        size = ds.size("events", "happening_id")
        starts = np.zeros(size + 1, dtype=np.int64)
        np.cumsum(np.bincount(p.hap, minlength=size), out=starts[1:])
        # earliest date per happening: numpy's minimum.at (one pass, 0.1 s at ten million rows) rather than a
        # reduceat over its 3.7 million runs (1.3 s)
        when = ds.days("events", "date")[p.order]
        top = np.iinfo(np.int64).max
        date = np.full(size, top, dtype=np.int64)
        np.minimum.at(date, p.hap, np.where(when == NAT, top, when))
        date[date == top] = NAT
        del when
        pub, day = ds.days("events", "published")[p.order], date[p.hap]
        lo, hi = LAG_RANGE
        # dates are whole days, so their difference divides exactly: a float division is exact and ten times
        # faster than numpy's integer floor division
        lag = np.where((pub != NAT) & (day != NAT), np.clip((pub - day) / DAY_NS, lo, hi), NO_LAG).astype(np.int16)
        del pub, day
        language = ds.codes("events", "language")[p.order]
        new_language = np.asarray(ds.stored_order("language_first"))[p.order]
        return _Reports(p.order, starts, date, p.hap, p.outlet, language, p.new_pair, new_language, lag)
    return ds.memo("reports by happening", compute)


def _usual(ds: Dataset, usual: int) -> tuple[np.ndarray, np.ndarray]:
    """(actor × outlet, place × outlet) booleans: the outlet reported at least `usual` happenings in the build
    with that actor (as actor or target) or at that place. The unknown outlet usually covers nothing."""
    def compute() -> tuple[np.ndarray, np.ndarray]:
        # Distinct (happening, outlet, actor or place) triples, counted per (outlet, actor or place). In the
        # build's (happening, outlet) order a pair's rows are one run, so (pair, value) keys come nearly
        # sorted and a stable sort (timsort: merging runs) sorts them fast; hashing them (pandas' unique)
        # took 20 s at ten million events.
        # The key is (pair << bits) | code: shifts and masks, where a division and a remainder by the number of
        # codes cost seconds at ten million rows; a row's actor and target keys sit side by side, so the keys
        # stay nearly sorted (concatenated, they were two long runs for the sort to merge).
        p = _pair_order(ds)
        pair = np.cumsum(p.new_pair, dtype=np.int64) - 1
        pair_outlet = p.outlet[p.new_pair].astype(np.int64)
        n_o = ds.size("events", "outlet")
        result = []
        for cols, size_col in ((("actor", "target"), "actor"), (("place_id",), "place_id")):
            n_x = ds.size("events", size_col)
            if not n_x:
                result.append(np.zeros((0, n_o), dtype=bool))
                continue
            bits = max(1, n_x.bit_length())
            codes = np.stack([ds.codes("events", col)[p.order] for col in cols], axis=1)
            key = ((pair << bits)[:, None] | codes.astype(np.int64)).ravel()
            key = key[(codes >= 0).ravel()]
            del codes
            key.sort(kind="stable")
            distinct = key[np.append(True, key[1:] != key[:-1])] if len(key) else key
            del key
            counts = np.bincount(pair_outlet[distinct >> bits] * n_x + (distinct & ((1 << bits) - 1)),
                                 minlength=n_o * n_x).reshape(n_o, n_x).T
            result.append(counts >= usual)
        unknown = ds.code_of("events", "outlet", UNKNOWN_OUTLET)
        for r in result:
            if unknown >= 0:
                r[:, unknown] = False
        return result[0], result[1]
    return ds.memo(f"usual outlets:{usual}", compute)


def _main_language(ds: Dataset) -> np.ndarray:
    """Each outlet code's most frequent language code among its reports."""
    def compute() -> np.ndarray:
        n_o, n_l = ds.size("events", "outlet"), ds.size("events", "language")
        out, lang = ds.codes("events", "outlet"), ds.codes("events", "language")
        ok = (out >= 0) & (lang >= 0)
        counts = np.bincount(out[ok].astype(np.int64) * n_l + lang[ok], minlength=n_o * n_l).reshape(n_o, n_l)
        return counts.argmax(axis=1) if n_l else np.zeros(n_o, dtype=np.int64)
    return ds.memo("outlet languages", compute)


def _language_label(code: str) -> str:
    return f"{language_name(code)}-language" if code != "und" else "unknown-language"


@remembered
def coverage(ds: Dataset, f: Filters, limit: int = LISTED, usual: int = USUAL,
             chart: int = CHART_HAPPENINGS) -> Coverage:
    """Happenings × outlets and languages: who reported each happening, how soon, and who did not.

    The filters choose the happenings (one with any report the filters keep); each one's coverage
    counts all its reports in the build, so a search in one language still shows who reported it
    in the others. Lag: the first publication minus the happening's date (the earliest event date
    its reports give), in days. An outlet *usually covers* a happening's actors or places when it
    reported at least `usual` happenings in the build with one of its actors or targets, or at one
    of its places; those that did not report this one are listed (the unknown outlet never is).
    Language notes: "reported only in X-language outlets" when every report is in one language (and
    the build has others); "not reported by any X-language outlet" for each language of a silent
    usual outlet in which nothing reported it.
    """
    r = _reports(ds)
    size = ds.size("events", "happening_id")
    present = _happenings(ds, f).hap  # ascending
    chosen = np.zeros(size, dtype=bool)
    chosen[present] = True
    outlet_names = np.asarray(ds.events["outlet"].cat.categories, dtype=object)
    lang_names = np.asarray(ds.events["language"].cat.categories, dtype=object)
    if not len(present):
        return Coverage(pd.DataFrame(columns=COVERAGE_COLUMNS), pd.DataFrame(columns=PAIR_COLUMNS),
                        pd.DataFrame(columns=["outlet", "language", "happenings", "share", "median_lag_days",
                                              "missed"]),
                        pd.DataFrame(columns=["language", "language_name", "happenings", "share", "outlets"]), 0,
                        usual)
    shown = present
    if len(present) > limit:  # only the happenings that can be among the newest `limit`
        when = r.date[present]
        shown = present[when >= np.partition(when, len(when) - limit)[len(when) - limit]]
    shown = shown[np.lexsort((shown, _newest_first(r.date[shown])))][:limit]  # ties: by happening id
    table, reported, silent, lags = _coverage_rows(ds, r, shown, usual, outlet_names, lang_names)
    pairs = _pairs(table.head(chart), reported[:chart], silent[:chart], lags[:chart], outlet_names,
                   lang_names[_main_language(ds)])
    by_outlet, by_language = _coverage_totals(ds, r, chosen, len(present), silent, outlet_names, lang_names)
    return Coverage(table, pairs, by_outlet, by_language, len(present), usual)


def _newest_first(ns: np.ndarray) -> np.ndarray:
    """A sort key that puts dates (int64 ns) newest first and NaT last."""
    ns = np.asarray(ns, dtype=np.int64)
    return np.where(ns == NAT, np.iinfo(np.int64).max, -np.maximum(ns, NAT + 1))


def _gather(r: _Reports, haps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The report rows of `haps`, and for each its position in `haps`."""
    lo, hi = r.starts[haps], r.starts[haps + 1]
    length = hi - lo
    pos = np.repeat(np.arange(len(haps)), length)
    offsets = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    return r.order[np.repeat(lo, length) + offsets], pos


def _coverage_rows(ds: Dataset, r: _Reports, shown: np.ndarray, usual: int, outlet_names, lang_names):
    rows, pos = _gather(r, shown)
    n, n_o, n_l = len(shown), ds.size("events", "outlet"), ds.size("events", "language")
    out_c, lang_c = ds.codes("events", "outlet")[rows], ds.codes("events", "language")[rows]
    pub = ds.days("events", "published")[rows]
    reported = np.zeros((n, n_o), dtype=bool)
    reported[pos, out_c] = True
    spoke = np.zeros((n, n_l), dtype=bool)
    spoke[pos, lang_c] = True
    top = np.iinfo(np.int64).max
    first_pub = np.full((n, n_o), top, dtype=np.int64)
    np.minimum.at(first_pub, (pos, out_c), np.where(pub == NAT, top, pub))
    date = r.date[shown]
    lags = np.where((first_pub != top) & (date != NAT)[:, None], (first_pub - date[:, None]) // DAY_NS, np.nan)
    actors, places = _usual(ds, usual)
    usual_rows = np.zeros((len(rows), n_o), dtype=bool)
    for col, table in (("actor", actors), ("target", actors), ("place_id", places)):
        code = ds.codes("events", col)[rows]
        ok = code >= 0
        usual_rows[ok] |= table[code[ok]]
    usually = np.logical_or.reduceat(usual_rows, np.searchsorted(pos, np.arange(n)), axis=0) if len(rows) else \
        np.zeros((n, n_o), dtype=bool)
    silent = usually & ~reported
    main = _main_language(ds)
    several = ds.memo("several languages", lambda: len(np.unique(ds.codes("events", "language"))) > 1)
    first = np.minimum.reduceat(rows, np.searchsorted(pos, np.arange(n))) if n else rows  # its lowest row
    head = _plain(ds.fetch("events", first, ["happening_id", "event_type", "actor", "target", "place_name", "summary",
                                             "evidence", "outlet", "language", "published", "article_id"]))
    firsts = first_pub.min(axis=1)
    by_name = np.argsort(outlet_names.astype(str), kind="stable")  # columns in name order: rows come out sorted
    names, reported_s, silent_s = outlet_names[by_name], reported[:, by_name], silent[:, by_name]
    table = pd.DataFrame({
        "happening_id": head["happening_id"].to_numpy(), "date": pd.to_datetime(np.where(date == NAT, NAT, date)),
        "reports": r.starts[shown + 1] - r.starts[shown], "outlets": reported.sum(axis=1),
        "reported_by": _joined(reported_s, names), "languages": _joined(spoke, lang_names),
        "first_published": pd.to_datetime(np.where(firsts == top, NAT, firsts)),
        "lag_days": pd.array([None if f_ == top or d == NAT else int((f_ - d) // DAY_NS)
                              for f_, d in zip(firsts, date, strict=True)], dtype="Int64"),
        "missing": silent.sum(axis=1),
    })
    table["usual_missing"] = _joined(silent_s, names, MISSING_NAMED)
    # languages of the silent usual outlets in which nothing reported the happening
    quiet = (silent.astype(np.int64) @ (main[:, None] == np.arange(n_l)[None, :])) > 0
    quiet &= ~spoke
    labels = [_language_label(str(c)) for c in lang_names]
    notes = []
    for i in range(n):
        said = np.flatnonzero(spoke[i])
        parts = [f"reported only in {labels[said[0]]} outlets"] if several and len(said) == 1 else []
        parts += [f"not reported by any {labels[c]} outlet in the build" for c in np.flatnonzero(quiet[i])]
        notes.append("; ".join(parts))
    table["note"] = notes
    for col in ("event_type", "actor", "target", "place_name", "summary", "evidence", "outlet", "language",
                "published", "article_id"):
        table[col] = head[col].to_numpy()
    return table[COVERAGE_COLUMNS], reported, silent, lags


def _joined(matrix: np.ndarray, names: np.ndarray, most: int | None = None) -> list[str]:
    """Per row of a boolean matrix, the names of its True columns joined by commas (the first `most`, then
    "and n more"); one nonzero over the matrix instead of one per row."""
    i, j = np.nonzero(matrix)
    cuts = np.searchsorted(i, np.arange(1, len(matrix)))
    out = []
    for picked in np.split(names[j], cuts):
        if most is not None and len(picked) > most:
            out.append(", ".join(picked[:most]) + f" and {len(picked) - most} more")
        else:
            out.append(", ".join(picked))
    return out


def _pairs(table: pd.DataFrame, reported: np.ndarray, silent: np.ndarray, lags: np.ndarray, outlet_names,
           outlet_languages) -> pd.DataFrame:
    """Happening × outlet cells for the chart: who reported it (with the lag) and who usually would have."""
    if not len(table):
        return pd.DataFrame(columns=PAIR_COLUMNS)
    i, o = np.nonzero(reported | silent)
    labels = [f"{d:%Y-%m-%d} · {t} · {str(s)[:70]}" if not pd.isna(d) else f"undated · {t} · {str(s)[:70]}"
              for d, t, s in zip(table["date"], table["event_type"], table["summary"], strict=True)]
    out = pd.DataFrame({"happening": np.asarray(labels, dtype=object)[i],
                        "happening_id": table["happening_id"].to_numpy()[i], "date": table["date"].to_numpy()[i],
                        "outlet": outlet_names[o], "status": np.where(reported[i, o], REPORTED, SILENT)})
    out["lag_days"] = pd.array([None if np.isnan(x) else int(x) for x in lags[i, o]], dtype="Int64")
    out["language"] = outlet_languages[o]  # the outlet's main language
    return out[PAIR_COLUMNS]


def _chosen_rows(r: _Reports, chosen: np.ndarray) -> np.ndarray:
    """The positions in `r`'s order of the chosen happenings' reports: a flag per position when they are many,
    else the positions themselves (their runs laid end to end), so a few happenings do not cost a pass over
    every row of the build."""
    haps = np.flatnonzero(chosen)
    lo, hi = r.starts[haps], r.starts[haps + 1]
    length = hi - lo
    total = int(length.sum())
    if total * 2 >= len(r.hap):
        return chosen[r.hap]
    return np.repeat(lo - (np.cumsum(length) - length), length) + np.arange(total)


def _coverage_totals(ds: Dataset, r: _Reports, chosen: np.ndarray, n_chosen: int, silent: np.ndarray,
                     outlet_names, lang_names) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per outlet and per language: how many of the chosen happenings it reported (all their reports in
    the build) and the median lag of its reports; per outlet, how many of the listed happenings it
    usually would have reported and did not (`missed`). Counted over the build's (happening, outlet)
    order: the chosen happenings' rows are runs of it, and a pair is counted at its first row."""
    picked = _chosen_rows(r, chosen)
    n_o, n_l = ds.size("events", "outlet"), ds.size("events", "language")
    out_c, lang_c, lag = r.outlet[picked], r.language[picked], r.lag[picked]
    per_outlet = np.bincount(out_c[r.new_outlet[picked]], minlength=n_o)
    per_lang = np.bincount(lang_c[r.new_language[picked]], minlength=n_l)
    ok = lag != NO_LAG
    lo, hi = LAG_RANGE
    width = hi - lo + 1
    hist = np.bincount(out_c[ok].astype(np.int64) * width + (lag[ok] - lo), minlength=n_o * width).reshape(n_o, width)
    cum = hist.cumsum(axis=1)
    median = (cum < ((cum[:, -1] + 1) // 2)[:, None]).sum(axis=1) + lo
    missed = silent.sum(axis=0)
    main = _main_language(ds)
    present = np.flatnonzero((per_outlet > 0) | (missed > 0))
    outlets = pd.DataFrame({"outlet": outlet_names[present], "language": lang_names[main[present]],
                            "happenings": per_outlet[present], "share": per_outlet[present] / max(n_chosen, 1),
                            "median_lag_days": pd.array([int(m) if c else None for m, c in
                                                         zip(median[present], cum[present, -1], strict=True)],
                                                        dtype="Int64"),
                            "missed": missed[present]})
    outlets = outlets.sort_values(["happenings", "outlet"], ascending=[False, True], kind="stable")
    spoken = np.flatnonzero(per_lang)
    # outlets that reported one of them in that language
    n_outlets = (np.bincount(out_c.astype(np.int64) * n_l + lang_c, minlength=n_o * n_l).reshape(n_o, n_l) > 0
                 ).sum(axis=0)
    languages = pd.DataFrame({"language": lang_names[spoken],
                              "language_name": [language_name(str(c)) for c in lang_names[spoken]],
                              "happenings": per_lang[spoken], "share": per_lang[spoken] / max(n_chosen, 1),
                              "outlets": n_outlets[spoken]})
    languages = languages.sort_values(["happenings", "language"], ascending=[False, True], kind="stable")
    return outlets.reset_index(drop=True), languages.reset_index(drop=True)
