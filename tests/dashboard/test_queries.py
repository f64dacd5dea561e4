"""Queries on the real sample build, checked against plain pandas over the raw Parquet tables."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kzdash.dashboard import queries as q
from kzdash.dashboard.dataset import Dataset, code_counts, filtered, first_row_per_code
from kzdash.dashboard.filters import Filters
from kzdash.dashboard.reader import article, segments
from kzdash.dashboard.vocab import UNKNOWN_OUTLET, UNTYPED


@pytest.fixture(scope="module")
def raw(sample_dir: Path) -> dict[str, pd.DataFrame]:
    out = {name: pd.read_parquet(sample_dir / f"{name}.parquet") for name in ("articles", "events", "places",
                                                                              "stances")}
    for df in out.values():
        df["outlet"] = df["outlet"].fillna(UNKNOWN_OUTLET)
    out["events"]["event_type"] = out["events"]["event_type"].fillna(UNTYPED)
    return out


def test_no_filter_counts_everything(sample: Dataset, raw) -> None:
    h = q.headline(sample, Filters())
    assert h["articles"] == len(raw["articles"]) > 0
    assert h["events"] == len(raw["events"]) > 0
    assert h["stances"] == len(raw["stances"]) > 0
    assert h["mentions"] == len(raw["places"]) > 0
    assert h["happenings"] == raw["events"]["happening_id"].nunique()
    assert h["places"] == raw["places"]["place_id"].nunique()


def _each_filter(raw) -> list[tuple[Filters, callable]]:
    """One filter per field, with the plain-pandas predicate it must equal on events."""
    ev = raw["events"]
    outlet = ev["outlet"].value_counts().index[-1]
    lang = ev["language"].value_counts().index[-1]
    etype = ev["event_type"].value_counts().index[0]
    country = ev["country"].dropna().value_counts().index[-1]
    place = ev["place_id"].dropna().value_counts().index[0]
    actor = "RUS"
    days = pd.to_datetime(ev["date"])
    mid = days.dropna().sort_values().iloc[len(days.dropna()) // 2].date()
    return [
        (Filters(outlets=(outlet,)), lambda e: e["outlet"] == outlet),
        (Filters(languages=(lang,)), lambda e: e["language"] == lang),
        (Filters(event_types=(etype,)), lambda e: e["event_type"] == etype),
        (Filters(countries=(country,)), lambda e: e["country"] == country),
        (Filters(places=(place,)), lambda e: e["place_id"] == place),
        (Filters(actors=(actor,)), lambda e: (e["actor"] == actor) | (e["target"] == actor)),
        (Filters(start=mid), lambda e: pd.to_datetime(e["date"]) >= pd.Timestamp(mid)),
        (Filters(end=mid), lambda e: pd.to_datetime(e["date"]) <= pd.Timestamp(mid)),
        (Filters(background=False), lambda e: ~e["background"].fillna(False).astype(bool)),
    ]


def test_each_filter_keeps_exactly_the_matching_events(sample: Dataset, raw) -> None:
    for f, predicate in _each_filter(raw):
        expected = set(raw["events"].loc[predicate(raw["events"]).fillna(False).astype(bool), "event_id"])
        got = set(filtered(sample, "events", f)["event_id"].astype(str))
        assert got == expected, f
        assert 0 < len(got) < len(raw["events"]), f  # each filter really narrows on the sample


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2030, 12, 31))),
       st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2030, 12, 31))), st.sampled_from(["events", "stances",
                                                                                              "places", "articles"]))
def test_a_date_range_keeps_the_rows_dated_inside_it(sample: Dataset, raw, start, end, table: str) -> None:
    """The range is tested in one unsigned pass; undated rows are never inside one, and a reversed range is empty."""
    from kzdash.dashboard.dataset import DATE_OF

    f = Filters(start=start, end=end, background=True, rejected=True)
    rows = raw[table]
    if table == "places":  # a mention is dated by its article
        rows = rows[["article_id"]].merge(raw["articles"][["article_id", "published"]], how="left")
    when = pd.to_datetime(rows[DATE_OF[table]])
    inside = when.notna()
    if start:
        inside &= when >= pd.Timestamp(start)
    if end:
        inside &= when <= pd.Timestamp(end)
    assert (sample.mask(table, f) == inside.to_numpy()).all()


def test_filters_combine_as_and(sample: Dataset, raw) -> None:
    (f1, p1), (f2, p2) = _each_filter(raw)[2], _each_filter(raw)[7]
    both = Filters(event_types=f1.event_types, end=f2.end)
    ev = raw["events"]
    expected = set(ev.loc[(p1(ev) & p2(ev)).fillna(False).astype(bool), "event_id"])
    assert set(filtered(sample, "events", both)["event_id"].astype(str)) == expected


def test_a_filter_a_table_lacks_goes_through_its_articles(sample: Dataset, raw) -> None:
    place = raw["places"].loc[raw["places"]["kind"] == "city", "place_id"].value_counts().index[-1]
    arts = set(raw["places"].loc[raw["places"]["place_id"] == place, "article_id"])
    got = filtered(sample, "stances", Filters(places=(place,)))
    assert set(got["article_id"].astype(str)) <= arts
    assert len(got) == raw["stances"]["article_id"].isin(arts).sum()
    issue = raw["stances"]["issue"].value_counts().index[-1]
    with_issue = set(raw["stances"].loc[raw["stances"]["issue"] == issue, "article_id"])
    ev = filtered(sample, "events", Filters(issues=(issue,)))
    assert len(ev) == raw["events"]["article_id"].isin(with_issue).sum()


def _words(raw) -> list[str]:
    text = " ".join(raw["events"]["evidence"].dropna().tolist()[:5])
    return sorted({w for w in text.split() if len(w) > 3})[:200]


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_text_search_equals_a_substring_scan(sample: Dataset, raw, data) -> None:
    word = data.draw(st.sampled_from(_words(raw) + ["Aktau", "zzzq", "KAZ", "توكاييف"]))
    cut = data.draw(st.integers(0, max(0, len(word) - 2)))
    word = word[cut:]  # a part of a word must match too
    ev = raw["events"]
    hay = (ev["summary"].fillna("") + " " + ev["evidence"].fillna("") + " " + ev["place_name"].fillna("")).str.lower()
    expected = set(ev.loc[hay.str.contains(word.lower(), regex=False), "event_id"])
    assert set(filtered(sample, "events", Filters(text=word))["event_id"].astype(str)) == expected


def test_text_search_needs_every_word(sample: Dataset, raw) -> None:
    ev = raw["events"]
    a, b = "kaz", "rus"
    hay = (ev["summary"].fillna("") + " " + ev["evidence"].fillna("") + " " + ev["place_name"].fillna("")).str.lower()
    expected = set(ev.loc[hay.str.contains(a) & hay.str.contains(b), "event_id"])
    assert set(filtered(sample, "events", Filters(text=f"{a} {b}"))["event_id"].astype(str)) == expected


def test_articles_match_search_through_their_rows(sample: Dataset) -> None:
    zhanaozen = filtered(sample, "places", Filters(text="Zhanaozen"))
    assert len(zhanaozen) > 0
    arts = q.articles_list(sample, Filters(text="Zhanaozen"))
    assert set(arts["article_id"]) == set(zhanaozen["article_id"].astype(str))


def test_happenings_count_each_once_with_its_outlets(sample: Dataset, raw) -> None:
    h = q.happenings(sample, Filters())
    ev = raw["events"]
    assert h["happening_id"].is_unique
    assert h["reports"].sum() == len(ev)
    per = ev.groupby("happening_id").agg(outlets=("outlet", "nunique"), bg=("background", "all"))
    assert (h.set_index("happening_id")["outlets"] == per["outlets"].reindex(h["happening_id"]).to_numpy()).all()
    assert (h.set_index("happening_id")["background"] == per["bg"].reindex(h["happening_id"]).to_numpy()).all()


def test_happenings_under_each_filter_count_the_kept_reports(sample: Dataset, raw) -> None:
    """Filters that keep a few rows pick them through the inverse of the stored order, the others by flags
    (`q.SPARSE_SHARE`): both give each happening's kept reports, outlets and first row."""
    sparse = 0
    for f, _ in _each_filter(raw):
        kept = filtered(sample, "events", f, ["happening_id", "outlet", "background", "event_id"])
        h = q.happenings(sample, f).set_index("happening_id")
        per = kept.groupby("happening_id").agg(reports=("event_id", "size"), outlets=("outlet", "nunique"),
                                               bg=("background", "all"))
        assert set(h.index) == set(per.index), f
        assert (h["reports"] == per["reports"].reindex(h.index)).all(), f
        assert (h["outlets"] == per["outlets"].reindex(h.index)).all(), f
        assert (h["background"] == per["bg"].reindex(h.index)).all(), f
        sparse += len(kept) * q.SPARSE_SHARE < len(raw["events"])
    assert sparse >= 3  # the inverse order's path is taken


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_rows_picked_in_the_stored_order_are_the_flagged_ones(sample: Dataset, data) -> None:
    import numpy as np

    n = len(sample.events)
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    order = q._pair_order(sample).order
    assert np.array_equal(order[q._picked_in_pair_order(sample, keep)], order[keep[order]])


def test_timeline_bins_add_up(sample: Dataset, raw) -> None:
    t = q.timeline(sample, Filters(), "type")
    dated = q.happenings(sample, Filters()).dropna(subset=["date"])
    assert t.bins["happenings"].sum() + t.earlier == len(dated)
    news = dated.loc[~dated["background"], "date"]
    assert t.start == min(news.min(), pd.to_datetime(raw["events"]["published"]).min())
    assert t.earlier == (dated["date"] < t.start).sum() > 0  # the sample's 2008-2014 background mentions
    assert t.pubs["reports"].sum() == raw["events"]["published"].notna().sum()
    assert t.freq in ("D", "W-MON", "MS")
    everything = q.timeline(sample, Filters(start=date(1990, 1, 1)), "type")
    assert everything.earlier == 0 and everything.bins["happenings"].sum() == len(dated)
    by_outlet = q.timeline(sample, Filters(), "outlet")
    assert set(by_outlet.bins["group"]) <= set(raw["events"]["outlet"])
    narrow = q.timeline(sample, Filters(start=date(2022, 1, 1), end=date(2022, 1, 31)), "type")
    assert narrow.freq == "D" and narrow.bins["bucket"].min() >= pd.Timestamp("2022-01-01")


def test_bucket_freq_grows_with_the_range() -> None:
    t = pd.Timestamp
    assert q.bucket_freq(t("2022-01-01"), t("2022-03-01")) == "D"
    assert q.bucket_freq(t("2022-01-01"), t("2023-06-01")) == "W-MON"
    assert q.bucket_freq(t("2008-01-01"), t("2022-06-01")) == "MS"


def test_key_dates_are_in_range() -> None:
    kd = q.key_dates(date(2022, 2, 1), date(2022, 2, 28))
    assert len(kd) > 0 and kd["date"].between(pd.Timestamp("2022-02-01"), pd.Timestamp("2022-02-28")).all()


def test_stance_matrix_counts_every_stance_of_the_holder(sample: Dataset, raw) -> None:
    for holder in raw["stances"]["holder"].unique():
        m = q.stance_matrix(sample, Filters(), holder, "outlet")
        mine = raw["stances"][raw["stances"]["holder"] == holder]
        assert m["total"].sum() == len(mine)
        assert (m["support"] + m["oppose"] + m["neutral"] == m["total"]).all()
        for _, cell in m.iterrows():
            ev = q.stance_evidence(sample, Filters(), holder, cell["issue"], cell["row"], "outlet", n=1000)
            assert ev["times"].sum() == cell["total"]
            assert not ev.duplicated(["article_id", "evidence", "issue", "polarity"]).any()
            assert ev["english"].str.len().gt(0).all()
    by_lang = q.stance_matrix(sample, Filters(), "KAZ", "language")
    assert set(by_lang["row"]) <= set(raw["stances"]["language"])


def test_disagreements_are_issues_with_split_main_polarity(sample: Dataset, raw) -> None:
    s = raw["stances"][raw["stances"]["holder"] == "KAZ"]
    main = s.groupby(["issue", "outlet"])["polarity"].agg(lambda p: p.value_counts().idxmax())
    split = {i for i, g in main.groupby(level=0) if g.nunique() > 1}
    d = q.disagreements(sample, Filters(), "KAZ")
    assert set(d["issue"]) == split


def test_map_layers_add_up(sample: Dataset, raw) -> None:
    ev = raw["events"]
    assert q.map_events(sample, Filters())["count"].sum() == ev["lat"].notna().sum()
    pl = raw["places"]
    mp = q.map_places(sample, Filters())
    assert mp["mentions"].sum() == pl["lat"].notna().sum()
    assert mp["place_id"].is_unique


SEVEN = ["Almaty", "Zhanaozen", "Aktau", "Astana", "Upper Lars", "Donetsk", "Luhansk"]


def test_map_places_lead_to_their_evidence(sample: Dataset) -> None:
    mp = q.map_places(sample, Filters())
    assert set(SEVEN) <= set(mp["name"])
    for name in SEVEN:
        pid = mp.loc[mp["name"] == name, "place_id"].iloc[0]
        events, mentions = q.place_evidence(sample, Filters(), pid)
        assert len(mentions) > 0
        for surface, sentence in zip(mentions["surface"], mentions["sentence"], strict=True):
            assert surface in sentence
        assert (events["place_name"] == name).all()


def test_top_places_and_latest_events(sample: Dataset, raw) -> None:
    top = q.top_places(sample, Filters(), n=5)
    assert len(top) == 5 and (top["kind"] != "country").all()
    assert top["mentions"].is_monotonic_decreasing
    latest = q.latest_events(sample, Filters(), n=3)
    assert latest["date"].iloc[0] == pd.to_datetime(raw["events"]["date"]).max()
    assert latest["evidence"].notna().all()


def test_empty_result_is_empty_not_an_error(sample: Dataset) -> None:
    f = Filters(text="zzzqqqxx")
    assert q.headline(sample, f)["events"] == 0
    for result in (q.latest_events(sample, f), q.top_places(sample, f), q.stance_matrix(sample, f, "KAZ"),
                   q.disagreements(sample, f, "KAZ"), q.happenings(sample, f), q.map_events(sample, f),
                   q.map_places(sample, f), q.articles_list(sample, f), q.timeline(sample, f).bins):
        assert len(result) == 0


def test_reader_segments_rebuild_the_text(sample: Dataset, raw) -> None:
    for aid in raw["articles"]["article_id"]:
        a = article(sample, aid)
        assert "".join(t for t, _ in a.segments) == a.text
        kinds = {s.kind for _, s in a.segments if s}
        assert {"place", "date"} <= kinds
        for piece, span in a.segments:
            if span and span.kind == "place":
                assert piece in set(a.places["surface"])
        assert a.direction == ("rtl" if a.meta["language"] == "ar" else "auto")
    assert article(sample, "no-such-article") is None


def test_segments_drop_overlaps() -> None:
    from kzdash.dashboard.reader import Span

    text = "Tokayev met Putin in Astana on 5 May"
    spans = [Span(21, 27, "place", "Astana"), Span(18, 27, "date", "x"), Span(0, 7, "actor", "KAZ"),
             Span(31, 36, "date", "2022-05-05")]
    got = [(t, s.kind if s else None) for t, s in segments(text, spans)]
    assert got == [("Tokayev", "actor"), (" met Putin in ", None), ("Astana", "place"), (" on ", None),
                   ("5 May", "date")]


def test_two_outlets_reporting_one_happening_count_once(sample_dir: Path) -> None:
    from kzdash.dashboard.appdata import load_tables

    tables = load_tables(str(sample_dir))
    ev = tables["events"]
    alone = ~ev["happening_id"].duplicated(keep=False)  # a happening with one report so far, reported as news
    fresh = ev[~ev["background"].astype(bool) & alone].iloc[[0]]
    other_art = tables["articles"].loc[tables["articles"]["article_id"] != fresh["article_id"].iloc[0]].iloc[0]
    copy = fresh.assign(event_id="copy", article_id=other_art["article_id"], outlet="Other Outlet", background=True)
    before = q.headline(Dataset.from_tables(tables), Filters())
    tables["events"] = pd.concat([ev, copy], ignore_index=True)
    ds = Dataset.from_tables(tables)
    h = q.happenings(ds, Filters()).set_index("happening_id").loc[fresh["happening_id"].iloc[0]]
    assert (h["reports"], h["outlets"], h["background"]) == (2, 2, False)
    after = q.headline(ds, Filters())
    assert (after["events"], after["happenings"]) == (before["events"] + 1, before["happenings"])
    only_copy = q.happenings(ds, Filters(outlets=("Other Outlet",)))
    assert len(only_copy) == 1 and bool(only_copy["background"].iloc[0])


@pytest.mark.parametrize("freq", ["D", "W-MON", "MS"])
def test_buckets_start_where_they_should(freq: str) -> None:
    days = pd.date_range("2021-12-20", "2022-03-10", freq="D")
    starts = pd.DatetimeIndex(q._slot_start(q._slot(days.as_unit("ns").asi8, freq), freq))
    assert (starts <= days).all() and ((days - starts).days < {"D": 1, "W-MON": 7, "MS": 31}[freq]).all()
    if freq == "W-MON":
        assert (starts.day_of_week == 0).all()
    if freq == "MS":
        assert (starts.day == 1).all()


def test_answers_are_shared_per_state_and_equal_fresh_ones(sample: Dataset) -> None:
    """A hosted link's viewers share answers: the same state gives the same object, another state
    its own, and a remembered answer equals one computed from nothing."""
    sample.forget_masks()
    ar, sq = Filters(languages=("ar",)), Filters(languages=("sq",))
    first = q.map_events(sample, ar)
    assert q.map_events(sample, ar) is first
    assert q.map_events(sample, sq) is not first
    assert q.stance_matrix(sample, ar, "KAZ", "outlet") is q.stance_matrix(sample, ar, "KAZ", "outlet")
    assert q.stance_matrix(sample, ar, "KAZ", "language") is not q.stance_matrix(sample, ar, "KAZ", "outlet")
    sample.forget_masks()
    again = q.map_events(sample, ar)
    assert again is not first
    pd.testing.assert_frame_equal(again, first)


def test_remembered_answers_stay_within_their_bounds(sample: Dataset, monkeypatch) -> None:
    from kzdash.dashboard import dataset as dataset_module

    sample.forget_masks()
    monkeypatch.setattr(dataset_module, "VIEWS_KEPT", 3)
    for lang in ("ar", "sq", "en", "ru", "de"):
        q.headline(sample, Filters(languages=(lang,)))
    assert len(sample._views) == 3
    monkeypatch.setattr(dataset_module, "VIEWS_BYTES", 10_000)
    every = Filters(rejected=True)  # every row (not the unfiltered state, which is kept apart)
    big = q.articles_list(sample, every)  # the sample's texts: more than a tenth of the budget
    assert dataset_module.approx_bytes(big) > 1_000
    assert q.articles_list(sample, every) is not big  # too big to keep: computed again
    assert sample._stored_bytes[False] <= 10_000
    sample.forget_masks()
    assert sample._stored_bytes[False] == 0 and not sample._views


def test_unfiltered_answers_are_kept_for_the_build_until_the_reviews_change(sample: Dataset) -> None:
    """The state every session opens first is computed once per build: forgetting the recent states'
    masks keeps it; another version of the reviews drops it; it equals an answer computed afresh."""
    sample.forget_masks()
    first = q.timeline(sample, Filters(), "type")
    sample.forget_masks()
    assert q.timeline(sample, Filters(), "type") is first
    assert q.timeline(sample, Filters(holder="RUS"), "type") is not first  # view state: its own entry
    assert q.headline(sample, Filters(languages=("ar",))) is not q.headline(sample, Filters(languages=("sq",)))
    sample.apply_reviews()
    again = q.timeline(sample, Filters(), "type")
    assert again is not first
    pd.testing.assert_frame_equal(again.bins, first.bins)
    pd.testing.assert_frame_equal(again.pubs, first.pubs)


def test_answers_computed_by_two_sessions_at_once_are_counted_once(sample: Dataset, monkeypatch) -> None:
    """Two sessions computing the same new state at the same moment (the second stopped waiting for the
    first): one entry, its size counted once."""
    import threading

    from kzdash.dashboard import dataset as dataset_module

    monkeypatch.setattr(dataset_module, "FLIGHT_WAIT", 0.05)
    sample.forget_masks()
    both_inside = threading.Barrier(2)

    def slow() -> str:
        both_inside.wait(timeout=10)  # both compute before either stores
        return "x" * 1000

    threads = [threading.Thread(target=sample.remember, args=(("same",), slow)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sample._views) == 1
    assert sample._stored_bytes[False] == 1000
    sample.forget_masks()


@pytest.mark.parametrize("table", ["stances", "events"])
def test_confident_only_keeps_the_rows_at_or_above_the_calibrated_floor(sample: Dataset, raw, table: str,
                                                                         monkeypatch) -> None:
    from kzdash.dashboard import vocab

    rows = raw[table]
    floor = float(rows["confidence"].median())  # a floor that splits the sample's rows
    monkeypatch.setattr(vocab, "confidence_settings", lambda: {table: {"min_confidence": floor}})
    sample.forget_masks()
    key = "stance_id" if table == "stances" else "event_id"
    got = set(filtered(sample, table, Filters(confident=True))[key].astype(str))
    assert got == set(rows.loc[rows["confidence"] >= floor, key].astype(str))
    assert 0 < len(got) < len(rows)
    assert Filters(confident=True).active() == [("confidence", "confident rows only")]


def test_the_switch_quotes_what_was_measured() -> None:
    from kzdash.dashboard.vocab import confidence_help, confidence_settings

    text = confidence_help()
    for table, s in confidence_settings().items():
        if s.get("precision") is not None:
            floor, right = float(s["min_confidence"]), float(s["precision"])
            assert f"{table} with confidence ≥ {floor:.1f}, right {right:.0%}" in text


def test_sessions_asking_for_one_new_answer_together_compute_it_once(sample: Dataset) -> None:
    """Fifty viewers changing to the same state at once: the first computes, the others wait for its
    value (not fifty computations, each holding all of them up); a failure there is tried again here."""
    import threading
    import time

    sample.forget_masks()
    calls, started = [], threading.Event()

    def slow() -> str:
        calls.append(1)
        started.set()
        time.sleep(0.3)
        return "answer"

    got: list[str] = []
    first = threading.Thread(target=lambda: got.append(sample.remember(("together",), slow)))
    first.start()
    started.wait(5)
    others = [threading.Thread(target=lambda: got.append(sample.remember(("together",), slow))) for _ in range(8)]
    for t in others:
        t.start()
    for t in [first, *others]:
        t.join(10)
    assert got == ["answer"] * 9 and len(calls) == 1

    def broken() -> str:
        started.set()
        time.sleep(0.2)
        raise RuntimeError("the first attempt failed")

    started.clear()
    errors: list[Exception] = []
    failing = threading.Thread(target=lambda: errors.append(_raised(lambda: sample.remember(("flaky",), broken))))
    failing.start()
    started.wait(5)
    assert sample.remember(("flaky",), lambda: "second try") == "second try"  # waited, then computed here
    failing.join(10)
    assert isinstance(errors[0], RuntimeError)


def _raised(call) -> Exception | None:
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the test looks at what was raised
        return exc
    return None


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.one_of(st.just(None), st.integers(0, 40)), st.integers(0, 5)),
                min_size=0, max_size=300), st.integers(1, 12))
def test_the_newest_kept_rows_are_the_newest_of_the_kept_ones(rows, n: int) -> None:
    """Without listing the kept rows first: the same rows, in the same order (NaT last, ties by the second key)."""
    import numpy as np

    keep = np.array([k for k, _, _ in rows], dtype=bool)
    first = np.array([q.NAT if d is None else d * q.DAY_NS for _, d, _ in rows], dtype=np.int64)
    second = np.array([s for _, _, s in rows], dtype=np.int64)
    expected = q._newest(np.flatnonzero(keep), first, second, n)
    got = q._newest_kept(keep, first, second, n)
    assert np.array_equal(got, expected)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(-1, 20)), max_size=200))
def test_distinct_codes_of_the_kept_rows(rows) -> None:
    import numpy as np

    keep = np.array([k for k, _ in rows], dtype=bool)
    codes = np.array([c for _, c in rows], dtype=np.int32)
    for step in (1 << 18, 7):  # one chunk, and many
        with _chunk_rows(step):
            assert q._distinct(codes, keep, 21) == len({c for k, c in rows if k and c >= 0})


@contextmanager
def _chunk_rows(step: int):
    """Passes over whole columns taken `step` rows at a time (kzdash.dashboard.dataset.CHUNK_ROWS)."""
    import kzdash.dashboard.dataset as dataset

    before, dataset.CHUNK_ROWS = dataset.CHUNK_ROWS, step
    try:
        yield
    finally:
        dataset.CHUNK_ROWS = before


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["int8", "int16", "int32"]), st.lists(st.tuples(st.booleans(), st.integers(-1, 30)),
                                                            max_size=200), st.booleans())
def test_code_counts_count_the_kept_rows_per_code(dtype: str, rows, everything: bool) -> None:
    import numpy as np

    codes = np.array([c for _, c in rows], dtype=dtype)
    keep = None if everything else np.array([k for k, _ in rows], dtype=bool)
    expected = [sum(1 for k, c in rows if (everything or k) and c == code) for code in range(31)]
    for step in (1 << 18, 5):
        with _chunk_rows(step):
            assert code_counts(codes, keep, 31).tolist() == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 6), st.integers(0, 3)), max_size=120),
       st.integers(1, 4), st.integers(1, 9))
def test_the_newest_kept_rows_are_found_chunk_by_chunk(rows, n: int, step: int) -> None:
    """The n newest kept rows by (date, then second key), ties and all, whatever the chunk size."""
    import numpy as np

    keep = np.array([k for k, _, _ in rows], dtype=bool)
    first = np.array([d for _, d, _ in rows], dtype=np.int64)
    second = np.array([e for _, _, e in rows], dtype=np.int64)
    with _chunk_rows(step):
        got = q._newest_kept(keep, first, second, n)
    want = q._newest(np.flatnonzero(keep), first, second, n)
    assert [(first[r], second[r]) for r in got] == [(first[r], second[r]) for r in want]
    assert all(keep[r] for r in got) and len(set(got.tolist())) == len(got)


def test_pages_answers_do_not_depend_on_the_chunk_size(sample_dir: Path) -> None:
    """The overview's answers from passes of 3 rows at a time equal those of one pass."""
    answers = []
    for step in (1 << 18, 3):
        with _chunk_rows(step):
            ds, f = Dataset.open(sample_dir), Filters()
            answers.append((q.headline(ds, f), q.top_places(ds, f, n=8).to_dict("records"),
                            q.latest_events(ds, f, n=8)["event_id"].tolist(), q.options(ds)))
    assert answers[0] == answers[1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-1, 9), max_size=100))
def test_each_codes_first_row_ignores_the_missing_ones(codes) -> None:
    """A row whose code is -1 is no code's first row (it must not land in the last code's slot)."""
    import numpy as np

    expected = [next((i for i, c in enumerate(codes) if c == code), -1) for code in range(10)]
    assert first_row_per_code(np.array(codes, dtype=np.int16), 10).tolist() == expected


def test_the_builds_category_totals_and_first_rows_equal_counted_ones(sample: Dataset) -> None:
    """index.json carries each coded column's rows and first row per category; the dashboard uses them while no
    review changed the table, and they equal what counting the codes gives (the filter lists too)."""
    import numpy as np

    assert ("places", "place_id") in sample._built and ("events", "event_type") in sample._built
    for (table, col), built in sample._built.items():
        codes, size = sample.codes(table, col), sample.size(table, col)
        assert np.array_equal(built["counts"], code_counts(codes, None, size)), (table, col)
        assert np.array_equal(built["first"], first_row_per_code(codes, size)), (table, col)
    counted = Dataset.open(sample.database.parent)
    counted._built = {}
    assert q._options(counted) == q._options(sample)


def test_place_names_are_each_places_name_at_its_first_mention(sample: Dataset) -> None:
    stored = sample.sql("SELECT place_id, name, row FROM places WHERE place_id IS NOT NULL ORDER BY row")
    expected = stored.drop_duplicates("place_id").set_index("place_id")["name"].astype(str).to_dict()
    assert len(expected) > 5 and q.place_names(sample) == expected
