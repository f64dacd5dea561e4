"""What the pages ask of the data, as plain DataFrames: no Streamlit, tested on the real sample.

Every function takes the prepared `Dataset` and the user's `Filters`; the pages only lay the
answers out. Counting rules a reader must be able to trust live here: reports of one happening
count once (with the number of outlets that reported it), stance cells count stances per holder,
issue and polarity, and every row keeps the article it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from kzdash.dataset import Dataset, filtered
from kzdash.filters import Filters
from kzdash.sentences import sentence_of, sentence_spans
from kzdash.vocab import POLARITIES, vocab

EVIDENCE_COLUMNS = ["date", "event_type", "summary", "place_name", "outlet", "language", "published", "evidence",
                    "background", "article_id", "event_id"]


def headline(ds: Dataset, f: Filters) -> dict[str, int]:
    """The counts a briefer quotes first."""
    ev = filtered(ds, "events", f)
    pl = filtered(ds, "places", f)
    st = filtered(ds, "stances", f)
    arts = filtered(ds, "articles", f)
    return {
        "articles": len(arts),
        "outlets": int(arts["outlet"].nunique()),
        "events": len(ev),
        "happenings": int(ev["happening_id"].nunique()),
        "places": int(pl["place_id"].nunique()),
        "mentions": len(pl),
        "stances": len(st),
    }


def latest_events(ds: Dataset, f: Filters, n: int = 10) -> pd.DataFrame:
    """The most recent events by event date (then publication), each with its evidence sentence."""
    ev = filtered(ds, "events", f)
    top = ev.sort_values(["date", "published"], ascending=False, na_position="last").head(n)
    return _plain(top[EVIDENCE_COLUMNS])


LOCAL_KINDS = ("city", "site", "region")


def top_places(ds: Dataset, f: Filters, n: int = 10, kinds: tuple[str, ...] = LOCAL_KINDS) -> pd.DataFrame:
    """Most mentioned places below country level (countries would top every list), with event counts."""
    pl = filtered(ds, "places", f)
    pl = pl[pl["kind"].isin(kinds)]
    if pl.empty:
        return pd.DataFrame(columns=["place_id", "name", "kind", "country", "mentions", "articles", "events"])
    g = pl.groupby("place_id", observed=True).agg(
        name=("name", "first"), kind=("kind", "first"), country=("country", "first"),
        mentions=("place_id", "size"), articles=("art", "nunique"))
    ev = filtered(ds, "events", f)
    g["events"] = ev["place_id"].value_counts().reindex(g.index).fillna(0).astype(int)
    g = g.sort_values(["mentions", "events"], ascending=False).head(n).reset_index()
    return _plain(g)


def stance_rows(ds: Dataset, f: Filters, holder: str) -> pd.DataFrame:
    """The holder's stances under the filters (the holder picker, not the actors filter, picks whose)."""
    st = filtered(ds, "stances", f.replace(actors=()))
    return st[st["holder"] == holder]


def stance_matrix(ds: Dataset, f: Filters, holder: str, rows: str = "outlet") -> pd.DataFrame:
    """Per row (outlet or language) and issue: support, oppose and neutral counts, and net lean in [-1, 1]."""
    st = stance_rows(ds, f, holder)
    counts = (st.groupby([rows, "issue", "polarity"], observed=True).size()
              .unstack("polarity", fill_value=0).reindex(columns=list(POLARITIES), fill_value=0))
    counts = counts.reset_index().rename(columns={rows: "row"})
    counts["total"] = counts[list(POLARITIES)].sum(axis=1)
    counts["net"] = (counts["support"] - counts["oppose"]) / counts["total"].where(counts["total"] > 0, 1)
    counts["issue_label"] = counts["issue"].map(lambda i: vocab().issue(str(i)))
    return _plain(counts[["row", "issue", "issue_label", *POLARITIES, "total", "net"]])


def stance_evidence(ds: Dataset, f: Filters, holder: str, issue: str | None = None, row: str | None = None,
                    rows: str = "outlet", n: int = 50) -> pd.DataFrame:
    """The quotes behind a matrix cell (or a whole row or column), each with its English line.

    One sentence that gives the same stance twice (the engine reads "CSTO, EAEU and SCO" as three
    mentions of one issue) is listed once, with `times` saying how many stances it stands for.
    """
    st = stance_rows(ds, f, holder)
    if issue:
        st = st[st["issue"] == issue]
    if row:
        st = st[st[rows] == row]
    st = _plain(st[["date", "holder", "issue", "polarity", "outlet", "language", "evidence", "article_id",
                    "stance_id", "start"]])
    key = ["article_id", "start", "issue", "polarity"]
    st["times"] = st.groupby(key, dropna=False)["stance_id"].transform("size")
    st = st.drop_duplicates(key).sort_values("date", ascending=False, na_position="last").head(n)
    out = st.drop(columns=["start"]).reset_index(drop=True)
    out["english"] = [vocab().stance_sentence(h, i, p) for h, i, p in zip(out["holder"], out["issue"],
                                                                          out["polarity"], strict=True)]
    return out


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


def happenings(ds: Dataset, f: Filters) -> pd.DataFrame:
    """One row per happening: its first report's fields, how many reports and how many outlets.

    A happening is background only when every report of it is background.
    """
    ev = filtered(ds, "events", f)
    cols = ["happening_id", "date", "date_precision", "event_type", "actor", "target", "place_name", "summary",
            "outlet", "published", "evidence", "article_id"]
    if ev.empty:
        return pd.DataFrame(columns=[*cols, "background", "reports", "outlets"])
    codes = ev["happening_id"].cat.codes.to_numpy()
    size = len(ev["happening_id"].cat.categories)
    reports = np.bincount(codes, minlength=size)
    fresh = np.bincount(codes, weights=~ev["background"].to_numpy(dtype=bool), minlength=size) > 0
    n_out = len(ev["outlet"].cat.categories) or 1
    pairs = pd.unique(codes.astype(np.int64) * n_out + ev["outlet"].cat.codes.to_numpy())
    outlets = np.bincount(pairs // n_out, minlength=size)
    first = ev.drop_duplicates("happening_id")
    fc = first["happening_id"].cat.codes.to_numpy()
    out = _plain(first[cols])
    out["background"] = ~fresh[fc]
    out["reports"] = reports[fc]
    out["outlets"] = outlets[fc]
    return out.sort_values("date", ascending=False, na_position="last").reset_index(drop=True)


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


def timeline(ds: Dataset, f: Filters, group: str = "type") -> Timeline:
    """Happenings per time bucket (by event date) and reports per bucket (by publication date).

    Grouped by outlet, a happening counts once per outlet that reported it. Without a date filter
    the view starts at the earliest happening reported as news (or the earliest report), so that a
    2008 background mention does not squeeze 2022 into a sliver; how many were left out is returned.
    """
    h = happenings(ds, f) if group == "type" else _happenings_per_outlet(ds, f)
    published = filtered(ds, "events", f)["published"].dropna()
    dated = h.dropna(subset=["date"])
    news = dated.loc[~dated["background"].astype(bool), "date"]
    lo = pd.Timestamp(f.start) if f.start else (_min(news.min(), published.min()) or _min(dated["date"].min()))
    hi = pd.Timestamp(f.end) if f.end else _max(dated["date"].max(), published.max())
    earlier = int((dated["date"] < lo).sum()) if lo is not None and not f.start else 0
    if lo is not None and not f.start:
        dated, published = dated[dated["date"] >= lo], published[published >= lo]
    freq = bucket_freq(lo, hi)
    key = "event_type" if group == "type" else "outlet"
    bins = pd.DataFrame(columns=["bucket", "group", "background", "happenings", "outlets"])
    if not dated.empty:
        b = dated.assign(bucket=_bucket(dated["date"], freq), group=dated[key].astype(str))
        bins = (b.groupby(["bucket", "group", "background"]).agg(happenings=("happening_id", "size"),
                                                                 outlets=("outlets", "sum")).reset_index())
    pubs = (pd.DataFrame({"bucket": _bucket(published, freq)}).groupby("bucket").size().rename("reports")
            .reset_index() if len(published) else pd.DataFrame(columns=["bucket", "reports"]))
    return Timeline(bins, pubs, freq, lo, hi, earlier)


def _min(*values: object) -> pd.Timestamp | None:
    found = [pd.Timestamp(v) for v in values if v is not None and pd.notna(v)]
    return min(found) if found else None


def _max(*values: object) -> pd.Timestamp | None:
    found = [pd.Timestamp(v) for v in values if v is not None and pd.notna(v)]
    return max(found) if found else None


def _happenings_per_outlet(ds: Dataset, f: Filters) -> pd.DataFrame:
    ev = filtered(ds, "events", f)
    first = ev.drop_duplicates(["happening_id", "outlet"])
    out = _plain(first[["happening_id", "date", "event_type", "outlet"]])
    out["background"] = first["background"].to_numpy(dtype=bool)
    out["outlets"] = 1
    return out


def _bucket(s: pd.Series, freq: str) -> pd.Series:
    s = pd.to_datetime(s)
    if freq == "D":
        return s.dt.floor("D")
    if freq.startswith("W"):
        return (s - pd.to_timedelta(s.dt.day_of_week, unit="D")).dt.floor("D")
    return s.dt.to_period("M").dt.to_timestamp()


def key_dates(start: date | None = None, end: date | None = None) -> pd.DataFrame:
    rows = [(pd.Timestamp(d), label) for d, label in vocab().key_dates
            if (start is None or d >= start) and (end is None or d <= end)]
    return pd.DataFrame(rows, columns=["date", "label"])


def map_events(ds: Dataset, f: Filters, limit: int = 5000) -> pd.DataFrame:
    """Event points: one per place and event type, with the count and the latest event's fields."""
    ev = filtered(ds, "events", f)
    ev = ev[ev["lat"].notna() & ev["lon"].notna()]
    cols = ["place_id", "place_name", "event_type", "lat", "lon", "count", "date", "summary", "outlet"]
    if ev.empty:
        return pd.DataFrame(columns=cols)
    ev = ev.sort_values("date", ascending=False, na_position="last")
    g = ev.groupby(["place_id", "event_type"], observed=True, sort=False)
    out = g.agg(place_name=("place_name", "first"), lat=("lat", "first"), lon=("lon", "first"),
                count=("event_id", "size"), date=("date", "first"), summary=("summary", "first"),
                outlet=("outlet", "first")).reset_index()
    out = out.sort_values("count", ascending=False).head(limit)
    return _plain(out[cols]).reset_index(drop=True)


def map_places(ds: Dataset, f: Filters, limit: int = 5000) -> pd.DataFrame:
    """Place-mention points: one per place, with mentions and articles counted."""
    pl = filtered(ds, "places", f)
    pl = pl[pl["lat"].notna() & pl["lon"].notna()]
    cols = ["place_id", "name", "kind", "country", "lat", "lon", "mentions", "articles"]
    if pl.empty:
        return pd.DataFrame(columns=cols)
    g = pl.groupby("place_id", observed=True).agg(
        name=("name", "first"), kind=("kind", "first"), country=("country", "first"), lat=("lat", "first"),
        lon=("lon", "first"), mentions=("place_id", "size"), articles=("art", "nunique")).reset_index()
    g = g.sort_values("mentions", ascending=False).head(limit)
    return _plain(g[cols]).reset_index(drop=True)


def place_evidence(ds: Dataset, f: Filters, place_id: str, n: int = 50) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What a map point stands on: the events at the place, and each mention with its sentence."""
    ev = filtered(ds, "events", f)
    ev = ev[ev["place_id"] == place_id].sort_values("date", ascending=False, na_position="last").head(n)
    pl = filtered(ds, "places", f)
    pl = pl[pl["place_id"] == place_id].head(n)
    mentions = _plain(pl[["name", "surface", "outlet", "language", "published", "article_id", "start", "end"]])
    texts = ds.articles["text"].to_numpy()
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
    mentions["sentence"] = sentences
    mentions["sentence_start"] = pd.array(offsets, dtype="Int64")  # the mention is at start - sentence_start
    return _plain(ev[EVIDENCE_COLUMNS]), mentions


def articles_list(ds: Dataset, f: Filters) -> pd.DataFrame:
    """Articles under the filters, newest first, with how many rows were extracted from each."""
    arts = filtered(ds, "articles", f)
    out = _plain(arts[["article_id", "published", "outlet", "language", "title", "source"]])
    idx = arts.index.to_numpy()
    for name in ("events", "stances", "places"):
        counts = np.bincount(ds.table(name)["art"].to_numpy().clip(0), minlength=len(ds.articles))
        out[name] = counts[idx] if len(ds.table(name)) else 0
    return out.sort_values("published", ascending=False, na_position="last").reset_index(drop=True)


def options(ds: Dataset) -> dict[str, list[str]]:
    """The values each sidebar filter offers, most frequent first."""
    def by_count(series: pd.Series) -> list[str]:  # categoricals also count their unseen values: skip those
        counts = series.value_counts()
        return [str(v) for v, c in counts.items() if c > 0 and str(v)]

    types = [t for t in vocab().event_types if t in set(ds.events["event_type"].astype(str))]
    actors = by_count(pd.concat([ds.events["actor"].astype("string"), ds.events["target"].astype("string"),
                                 ds.stances["holder"].astype("string")]).dropna())
    return {
        "outlets": by_count(ds.articles["outlet"]),
        "languages": by_count(ds.articles["language"]),
        "actors": actors,
        "issues": by_count(ds.stances["issue"]),
        "event_types": types,
        "countries": by_count(ds.places["country"].dropna()),
        "places": by_count(ds.places.loc[ds.places["kind"] != "country", "place_id"]),
    }


def place_names(ds: Dataset) -> dict[str, str]:
    pl = ds.places.drop_duplicates("place_id")
    return dict(zip(pl["place_id"].astype(str), pl["name"].astype(str), strict=True))


def date_bounds(ds: Dataset) -> tuple[date | None, date | None]:
    d = ds.events["date"].dropna()
    return (d.min().date(), d.max().date()) if len(d) else (None, None)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Categoricals back to plain strings, so results compare, serialise and display simply."""
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype("string")
    return out
