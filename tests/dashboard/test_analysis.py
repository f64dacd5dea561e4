"""Positions over time and coverage on the real sample build, checked against plain pandas over the
raw Parquet tables; changes of side and same-time disagreements on small tables made here."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from kzdash.dashboard import analysis as an
from kzdash.dashboard import exports, markup
from kzdash.dashboard.dataset import Dataset
from kzdash.dashboard.filters import Filters
from kzdash.dashboard.vocab import UNKNOWN_OUTLET


@pytest.fixture(scope="module")
def raw(sample_dir: Path) -> dict[str, pd.DataFrame]:
    out = {name: pd.read_parquet(sample_dir / f"{name}.parquet") for name in ("articles", "events", "stances")}
    for df in out.values():
        df["outlet"] = df["outlet"].fillna(UNKNOWN_OUTLET)
    return out


def _kaz_statements(raw) -> pd.DataFrame:
    """KAZ's statements in plain pandas: one per article × issue × polarity, dated by publication, else own date."""
    st = raw["stances"][raw["stances"]["holder"] == "KAZ"].merge(
        raw["articles"][["article_id", "published"]], on="article_id", how="left")
    st["stated"] = pd.to_datetime(st["published"]).fillna(pd.to_datetime(st["date"]))
    return st.drop_duplicates(["article_id", "issue", "polarity"])


# --- positions over time ----------------------------------------------------------------------


def test_kazakhstan_shows_five_issues_with_first_and_last_dates_and_evidence(sample: Dataset, raw) -> None:
    p = an.positions(sample, Filters(), "KAZ")
    assert p.spans["issue"].nunique() >= 5
    plain = _kaz_statements(raw)
    expected = plain.groupby(["issue", "polarity"]).agg(first=("stated", "min"), last=("stated", "max"),
                                                        statements=("article_id", "nunique"),
                                                        outlets=("outlet", "nunique"))
    got = p.spans.set_index(["issue", "polarity"])
    assert set(got.index) == set(expected.index)
    for key, row in got.iterrows():
        assert row["first"] == expected.loc[key, "first"] and row["last"] == expected.loc[key, "last"], key
        assert (row["statements"], row["outlets"]) == (expected.loc[key, "statements"], expected.loc[key, "outlets"])
        for end in ("first", "last"):
            said = plain[(plain["issue"] == key[0]) & (plain["polarity"] == key[1])
                         & (plain["stated"] == row[end])]
            assert row[f"{end}_article_id"] in set(said["article_id"]), (key, end)
            quotes = raw["stances"].loc[raw["stances"]["article_id"] == row[f"{end}_article_id"], "evidence"]
            assert row[f"{end}_evidence"] and row[f"{end}_evidence"] in set(quotes), (key, end)
    assert p.statements == len(plain) == len(p.marks) and p.undated == 0


def test_one_mark_per_article_issue_and_polarity_with_its_outlet(sample: Dataset, raw) -> None:
    p = an.positions(sample, Filters(), "KAZ")
    plain = _kaz_statements(raw).set_index(["article_id", "issue", "polarity"])
    marks = p.marks.set_index(["article_id", "issue", "polarity"])
    assert marks.index.is_unique and set(marks.index) == set(plain.index)
    assert (marks["outlet"] == plain.loc[marks.index, "outlet"].to_numpy()).all()
    assert (marks["stated"] == plain.loc[marks.index, "stated"].to_numpy()).all()
    counts = raw["stances"][raw["stances"]["holder"] == "KAZ"].groupby(["article_id", "issue", "polarity"]).size()
    assert (marks["stances"] == counts.loc[marks.index].to_numpy()).all()
    assert p.marks["stated"].is_monotonic_increasing


def test_the_sample_flags_kazakhstans_change_on_territorial_integrity(sample: Dataset) -> None:
    """Asharq (June) reports Kazakhstan against, an Arabic article of September for: one change, in order."""
    p = an.positions(sample, Filters(), "KAZ")
    row = p.changes[p.changes["issue"] == "ukraine_territorial_integrity"]
    assert len(row) == 1
    row = row.iloc[0]
    assert (row["before"], row["after"], row["first_seen"]) == ("oppose", "support", pd.Timestamp("2022-09-27"))
    assert row["note"].startswith("oppose → support, first seen 2022-09-27, ") and row["evidence"]
    ev = an.positions_evidence(p)
    assert ev["english"].iloc[0].startswith("Ukraine") and "oppose → support" in ev["english"].iloc[0]
    assert len(ev) == len(p.changes) + len(p.spans) and ev["evidence"].str.len().gt(0).all()


def _with_statements(sample_dir: Path, statements: list[tuple[str, str, str, str, str]]) -> Dataset:
    """The sample with its stances replaced by KAZ statements (day, outlet, issue, polarity, evidence), each
    in an article of its own published that day by that outlet."""
    from kzdash.dashboard.appdata import load_tables

    tables = load_tables(str(sample_dir))
    base = tables["articles"].iloc[0]
    arts, stances = [], []
    for i, (day, outlet, issue, polarity, evidence) in enumerate(statements):
        aid = f"made{i:04d}"
        arts.append(base.copy().to_dict() | {"article_id": aid, "outlet": outlet, "published": day,
                                             "language": "en", "input_key": aid, "source": f"{aid}.txt"})
        stances.append({"stance_id": f"s{i}", "article_id": aid, "holder": "KAZ", "issue": issue,
                        "polarity": polarity, "date": "2021-01-01", "evidence": evidence, "start": 0, "end": 10,
                        "confidence": 0.9, "rule": "test", "outlet": outlet, "language": "en"})
    tables["articles"] = pd.concat([tables["articles"], pd.DataFrame(arts)], ignore_index=True)
    tables["stances"] = pd.DataFrame(stances).astype({"start": "int64", "end": "int64"})
    return Dataset.from_tables(tables)


STORY = [  # Monday 2023-09-04 to Sunday 2023-09-10 is one week; 2023-09-11 starts the next
    ("2023-08-01", "Alpha", "sanctions_russia", "support", "A first said yes."),
    ("2023-08-02", "Beta", "sanctions_russia", "support", "B said yes too."),
    ("2023-08-03", "Alpha", "sanctions_russia", "support", "A again."),
    ("2023-08-03", "Beta", "sanctions_russia", "support", "B again."),
    ("2023-09-04", "Beta", "sanctions_russia", "neutral", "B now hedged."),  # support -> neutral
    ("2023-09-04", "Alpha", "sanctions_russia", "neutral", "A hedged as well."),
    ("2023-09-06", "Alpha", "sanctions_russia", "support", "A: yes."),  # a split day: keeps neutral
    ("2023-09-06", "Gamma", "sanctions_russia", "oppose", "G: no."),
    ("2023-09-11", "Alpha", "sanctions_russia", "oppose", "A: no."),  # neutral -> oppose
    ("2023-09-13", "Beta", "sanctions_russia", "support", "B: yes."),  # oppose -> support, same week as 09-11
    ("2023-09-13", "Beta", "partnership_russia", "support", "Another issue, one side only."),
]


def test_changes_of_side_in_order_on_a_table_made_here(sample_dir: Path) -> None:
    p = an.positions(_with_statements(sample_dir, STORY), Filters(), "KAZ")
    ch = p.changes[p.changes["issue"] == "sanctions_russia"]
    assert list(zip(ch["before"], ch["after"], ch["first_seen"].dt.strftime("%Y-%m-%d"), ch["outlet"],
                    strict=True)) == [
        ("support", "neutral", "2023-09-04", "Beta"),  # the day's first article of the new side (row order)
        ("neutral", "oppose", "2023-09-11", "Alpha"),
        ("oppose", "support", "2023-09-13", "Beta")]
    assert list(ch["evidence"]) == ["B now hedged.", "A: no.", "B: yes."]
    assert ch["note"].iloc[0] == "support → neutral, first seen 2023-09-04, Beta"
    assert p.changes_total == 3 and "partnership_russia" not in set(p.changes["issue"])
    spans = p.spans.set_index(["issue", "polarity"])
    assert spans.loc[("sanctions_russia", "support"), "first"] == pd.Timestamp("2023-08-01")
    assert spans.loc[("sanctions_russia", "support"), "last"] == pd.Timestamp("2023-09-13")
    assert spans.loc[("sanctions_russia", "support"), "statements"] == 6


def test_outlets_disagreeing_the_same_day_or_week_are_both_shown(sample_dir: Path) -> None:
    p = an.positions(_with_statements(sample_dir, STORY), Filters(), "KAZ")
    d = p.disagreements
    day = d[d["period"] == pd.Timestamp("2023-09-06")]
    assert set(day["window"]) == {"same day"}
    assert dict(zip(day["polarity"], day["outlets"], strict=True)) == {"support": "Alpha", "oppose": "Gamma"}
    week = d[d["period"] == pd.Timestamp("2023-09-11")]  # the Monday of the week of 11 and 13 September
    assert set(week["window"]) == {"same week"}
    assert dict(zip(week["polarity"], week["outlets"], strict=True)) == {"support": "Beta", "oppose": "Alpha"}
    assert set(d["evidence"]) >= {"A: yes.", "G: no.", "A: no.", "B: yes."}
    # the week of 4-10 September already shows its split day: not listed again as a week
    assert len(d.groupby(["issue", "period"])) == p.periods_total == 2
    # same day, one outlet: not a disagreement between outlets
    alone = _with_statements(sample_dir, [("2023-09-06", "Alpha", "sanctions_russia", "support", "x"),
                                          ("2023-09-06", "Alpha", "sanctions_russia", "oppose", "y")])
    assert an.positions(alone, Filters(), "KAZ").disagreements.empty


def test_positions_follow_the_filters(sample: Dataset, raw) -> None:
    plain = _kaz_statements(raw)
    for f, keep in [(Filters(languages=("sq",)), plain["language"] == "sq"),
                    (Filters(outlets=("Asharq",)), plain["outlet"] == "Asharq"),
                    (Filters(issues=("shelter_russian_draftees",)), plain["issue"] == "shelter_russian_draftees"),
                    (Filters(start=pd.Timestamp("2022-06-01").date()), pd.to_datetime(plain["date"]) >= "2022-06-01")]:
        p = an.positions(sample, f, "KAZ")
        assert len(p.marks) == keep.sum() > 0, f
        assert set(p.marks["article_id"]) == set(plain.loc[keep, "article_id"]), f
    # the actors filter does not change whose positions are shown (the holder picker does)
    assert len(an.positions(sample, Filters(actors=("RUS",)), "KAZ").marks) == len(plain)
    assert set(an.positions(sample, Filters(), "RUS").marks["issue"]) == set(
        raw["stances"].loc[raw["stances"]["holder"] == "RUS", "issue"])


def test_empty_positions_are_empty_frames(sample: Dataset) -> None:
    for p in (an.positions(sample, Filters(text="zzzqqqxx"), "KAZ"), an.positions(sample, Filters(), "ZZZ")):
        for frame, cols in ((p.marks, an.STATEMENT_COLUMNS), (p.spans, an.SPAN_COLUMNS),
                            (p.changes, an.CHANGE_COLUMNS), (p.disagreements, an.DISAGREEMENT_COLUMNS)):
            assert frame.empty and list(frame.columns) == cols
        assert p.statements == p.changes_total == p.periods_total == 0
        assert an.positions_evidence(p).empty


# --- coverage ---------------------------------------------------------------------------------


def test_coverage_lists_every_happening_with_its_outlets(sample: Dataset, raw) -> None:
    cov = an.coverage(sample, Filters())
    ev = raw["events"]
    assert cov.happenings == ev["happening_id"].nunique() == len(cov.table)
    t = cov.table.set_index("happening_id")
    assert set(t.index) == set(ev["happening_id"])
    for hid, group in ev.groupby("happening_id"):
        row = t.loc[hid]
        assert row["reported_by"] == ", ".join(sorted(group["outlet"].unique())), hid
        assert row["languages"] == ", ".join(sorted(group["language"].unique())), hid
        assert (row["reports"], row["outlets"]) == (len(group), group["outlet"].nunique())
        happened = pd.to_datetime(group["date"]).min()
        first = pd.to_datetime(group["published"]).min()
        assert row["date"] == happened and row["first_published"] == first
        assert row["lag_days"] == (first - happened).days
    assert cov.table["date"].is_monotonic_decreasing  # newest first


def _usual_outlets(ev: pd.DataFrame, n: int) -> dict[str, set[str]]:
    """Per happening, the named outlets with at least n happenings in the build sharing one of its actors or
    places, in plain pandas."""
    pairs = pd.concat([ev[["happening_id", "outlet", c]].rename(columns={c: "x"}).assign(kind=k)
                       for c, k in (("actor", "a"), ("target", "a"), ("place_id", "p"))]).dropna(subset=["x"])
    per = pairs.drop_duplicates().groupby(["kind", "x", "outlet"])["happening_id"].nunique()
    usual = per[per >= n].reset_index()
    usual = usual[usual["outlet"] != UNKNOWN_OUTLET]
    out: dict[str, set[str]] = {}
    for hid, group in pairs.groupby("happening_id"):
        keys = set(zip(group["kind"], group["x"], strict=True))
        out[hid] = {o for k, x, o in zip(usual["kind"], usual["x"], usual["outlet"], strict=True) if (k, x) in keys}
    return out


def test_usual_outlets_that_did_not_report_and_language_notes(sample: Dataset, raw) -> None:
    cov = an.coverage(sample, Filters())
    ev = raw["events"]
    usual = _usual_outlets(ev, cov.usual)
    t = cov.table.set_index("happening_id")
    seen_silent = 0
    for hid, group in ev.groupby("happening_id"):
        silent = sorted(usual.get(hid, set()) - set(group["outlet"]))
        assert t.loc[hid, "usual_missing"] == ", ".join(silent), hid
        assert t.loc[hid, "missing"] == len(silent)
        seen_silent += bool(silent)
        langs = set(group["language"])
        note = t.loc[hid, "note"]
        if langs == {"sq"}:
            assert "reported only in Albanian-language outlets" in note
            if silent:  # the sample's named outlets are Arabic-language
                assert "not reported by any Arabic-language outlet in the build" in note
        if "ar" in langs:
            assert "not reported by any Arabic-language outlet" not in note
    assert seen_silent > 0
    assert cov.usual == an.USUAL and an.coverage(sample, Filters(), usual=100).table["missing"].sum() == 0


def test_coverage_filters_choose_happenings_and_count_all_their_reports(sample_dir: Path) -> None:
    from kzdash.dashboard.appdata import load_tables

    tables = load_tables(str(sample_dir))
    ev = tables["events"]
    sq = ev[ev["language"] == "sq"].iloc[[0]]
    ar_article = tables["articles"].loc[tables["articles"]["language"] == "ar"].iloc[0]
    copy = sq.assign(event_id="copy", article_id=ar_article["article_id"], outlet="Other Outlet", language="ar",
                     published="2022-03-05", evidence="a copy in another language")
    tables["events"] = pd.concat([ev, copy], ignore_index=True)
    ds = Dataset.from_tables(tables)
    hid = sq["happening_id"].iloc[0]
    cov = an.coverage(ds, Filters(languages=("sq",)))
    expected = set(ev.loc[ev["language"] == "sq", "happening_id"])
    assert set(cov.table["happening_id"]) == expected and cov.happenings == len(expected)
    row = cov.table.set_index("happening_id").loc[hid]
    assert "Other Outlet" in row["reported_by"] and row["languages"] == "ar, sq" and row["reports"] == 2
    assert "reported only in" not in row["note"]
    other = an.coverage(ds, Filters(outlets=("Other Outlet",)))
    assert list(other.table["happening_id"]) == [hid]
    assert an.coverage(ds, Filters(start=pd.Timestamp("2022-06-01").date())).table["date"].min() >= pd.Timestamp(
        "2022-06-01")
    langs = cov.languages.set_index("language")
    assert langs.loc["sq", "happenings"] == len(expected) and langs.loc["ar", "happenings"] == 1
    outlets = cov.outlets.set_index("outlet")
    assert outlets.loc["Other Outlet", "happenings"] == 1
    assert outlets.loc["Other Outlet", "median_lag_days"] == (pd.Timestamp("2022-03-05") - row["date"]).days


def test_coverage_limits_the_listed_rows_and_the_chart(sample: Dataset) -> None:
    cov = an.coverage(sample, Filters(), limit=5, chart=3)
    assert len(cov.table) == 5 and cov.happenings > 5
    full = an.coverage(sample, Filters())
    assert list(cov.table["happening_id"]) == list(full.table["happening_id"].head(5))
    assert cov.pairs["happening_id"].nunique() == 3
    assert set(cov.pairs["status"]) <= {an.REPORTED, an.SILENT}
    reported = cov.pairs[cov.pairs["status"] == an.REPORTED]
    assert reported["lag_days"].notna().all()


@pytest.mark.parametrize("share", [0.05, 0.3, 0.9])
def test_the_chosen_happenings_reports_are_their_runs_of_the_stored_order(sample: Dataset, share: float) -> None:
    """A few happenings' reports are laid end to end from their runs, many are flagged: the same rows."""
    import numpy as np

    r = an._reports(sample)
    chosen = np.random.default_rng(7).random(len(r.starts) - 1) < share
    assert np.array_equal(r.order[an._chosen_rows(r, chosen)], r.order[chosen[r.hap]])


def test_empty_coverage_is_empty_frames(sample: Dataset) -> None:
    cov = an.coverage(sample, Filters(text="zzzqqqxx"))
    assert cov.happenings == 0
    assert cov.table.empty and list(cov.table.columns) == an.COVERAGE_COLUMNS
    assert cov.pairs.empty and cov.outlets.empty and cov.languages.empty


def test_coverage_exports_as_csv(sample: Dataset) -> None:
    cov = an.coverage(sample, Filters())
    back = pd.read_csv(io.BytesIO(exports.csv_bytes(cov.table)))
    assert list(back["happening_id"]) == list(cov.table["happening_id"])
    assert {"reported_by", "languages", "lag_days", "usual_missing", "note", "evidence"} <= set(back.columns)


# --- article text stays text ------------------------------------------------------------------

HOSTILE = "<script>alert('x')</script> **bold** <img src=x onerror=alert(1)>"


def test_evidence_and_outlet_names_are_escaped(sample_dir: Path) -> None:
    ds = _with_statements(sample_dir, [
        ("2023-09-04", "<b>Evil</b> Outlet", "sanctions_russia", "support", HOSTILE),
        ("2023-09-05", "<b>Evil</b> Outlet", "sanctions_russia", "oppose", HOSTILE),  # a change of side
        ("2023-09-05", "Plain", "sanctions_russia", "oppose", HOSTILE),
        ("2023-09-05", "<i>Other</i>", "sanctions_russia", "support", HOSTILE)])  # outlets disagree that day
    p = an.positions(ds, Filters(), "KAZ")
    cov_row = {"date": pd.Timestamp("2022-01-01"), "event_type": "PROTEST", "summary": HOSTILE,
               "reported_by": "<b>Evil</b> Outlet", "languages": "en", "lag_days": 2,
               "usual_missing": "<i>Other</i>", "note": HOSTILE, "evidence": HOSTILE, "language": "en"}
    for html in (markup.position_spans(p.spans), markup.side_changes(p.changes),
                 markup.position_disagreements(p.disagreements), markup.coverage_card(cov_row)):
        assert html and "<script" not in html and "<img" not in html and "<b>Evil" not in html
        assert "&lt;script&gt;" in html or "&lt;b&gt;Evil" in html
    assert "&lt;b&gt;Evil&lt;/b&gt; Outlet" in markup.side_changes(p.changes)
