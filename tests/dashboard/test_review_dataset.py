"""Reviews applied by the dashboard's dataset, on the real sample: a rejected row leaves the matrix, the
counts and the export and comes back on undo; corrections move rows and reach `fetch`; the filters
"hide rejected" and "reviewed only"; reviews found again after a rebuild (Dataset.open of another
folder) and marked "needs a look" when their article was edited. No Streamlit here."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sample_builds import EDITED, REMOVED

from kzdash.dashboard import exports, queries
from kzdash.dashboard.dataset import Dataset, filtered
from kzdash.dashboard.filters import Filters
from kzdash.dashboard.reviews import ReviewError, ReviewStore

ALL = Filters()


@pytest.fixture
def ds(sample_dir: Path, tmp_path: Path) -> Dataset:
    """The sample build with a review store of its own (the build is shared, the store is not)."""
    return Dataset.open(sample_dir, reviews=tmp_path / "reviews.sqlite")


def kaz_stance(ds: Dataset, polarity: str = "support") -> dict:
    """A Kazakhstan stance that is the only one of its sentence (a card that stands for one row)."""
    rows = queries.stance_rows(ds, ALL, "KAZ", ["row", "issue", "polarity", "outlet", "stance_id", "evidence"])
    rows = rows[rows["polarity"] == polarity]
    single = rows[~rows.duplicated(["evidence", "issue"], keep=False)]
    return single.iloc[0].to_dict()


def cell(ds: Dataset, f: Filters, row: dict) -> pd.Series:
    m = queries.stance_matrix(ds, f, "KAZ", "outlet")
    hit = m[(m["row"] == row["outlet"]) & (m["issue"] == row["issue"])]
    return hit.iloc[0] if len(hit) else pd.Series({"support": 0, "oppose": 0, "neutral": 0, "total": 0})


def exported_ids(ds: Dataset, f: Filters = ALL) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(exports.csv_bytes(filtered(ds, "stances", f))), dtype=str, keep_default_na=False)


def test_a_rejected_stance_leaves_the_matrix_the_counts_and_the_export_and_undo_brings_it_back(ds: Dataset) -> None:
    row = kaz_stance(ds)
    matrix = queries.stance_matrix(ds, ALL, "KAZ", "outlet")
    before = (cell(ds, ALL, row)["support"], queries.headline(ds, ALL)["stances"], len(exported_ids(ds)))
    assert row["stance_id"] in set(exported_ids(ds)["stance_id"])

    ds.save_review("stance", row["row"], "reject", reviewer="ann", note="not Kazakhstan's <b>position</b>")
    assert cell(ds, ALL, row)["support"] == before[0] - 1
    assert queries.headline(ds, ALL)["stances"] == before[1] - 1
    csv = exported_ids(ds)
    assert len(csv) == before[2] - 1 and row["stance_id"] not in set(csv["stance_id"])
    assert row["stance_id"] not in set(queries.stance_evidence(ds, ALL, "KAZ")["stance_id"])

    shown = exported_ids(ds, Filters(rejected=True))  # "hide rejected" off: back, marked
    mine = shown[shown["stance_id"] == row["stance_id"]].iloc[0]
    assert (mine["review"], mine["reviewed_by"], mine["review_note"]) == (
        "rejected", "ann", "not Kazakhstan's <b>position</b>")
    assert shown.loc[shown["stance_id"] != row["stance_id"], "review"].eq("").all()
    assert cell(ds, Filters(rejected=True), row)["support"] == before[0]
    reviewed = filtered(ds, "stances", Filters(reviewed=True, rejected=True))
    assert reviewed["stance_id"].tolist() == [row["stance_id"]]
    assert filtered(ds, "stances", Filters(reviewed=True)).empty  # reviewed only, rejected hidden: nothing

    ds.save_review("stance", row["row"], "undo", reviewer="ann")
    assert (cell(ds, ALL, row)["support"], queries.headline(ds, ALL)["stances"], len(exported_ids(ds))) == before
    pd.testing.assert_frame_equal(queries.stance_matrix(ds, ALL, "KAZ", "outlet"), matrix)
    assert exported_ids(ds)["review"].eq("").all()


def test_a_correction_moves_the_stance_and_the_export_says_so(ds: Dataset) -> None:
    row = kaz_stance(ds)
    total = queries.headline(ds, ALL)["stances"]
    before = cell(ds, ALL, row)
    ds.save_review("stance", row["row"], "correct", reviewer="bob", correction={"polarity": "oppose"})
    after = cell(ds, ALL, row)
    assert (after["support"], after["oppose"]) == (before["support"] - 1, before["oppose"] + 1)
    assert queries.headline(ds, ALL)["stances"] == total  # moved, not removed
    got = ds.fetch("stances", [row["row"]], ["polarity", "review", "reviewed_by"]).iloc[0].tolist()
    assert got == ["oppose", "corrected", "bob"]
    csv = exported_ids(ds)
    assert csv.loc[csv["stance_id"] == row["stance_id"], "polarity"].tolist() == ["oppose"]
    assert ds.original_row("stances", row["row"])["polarity"] == "support"  # the build's value is kept

    ds.save_review("stance", row["row"], "correct", reviewer="bob", correction={"holder": "RUS"})  # adds to it
    assert row["stance_id"] not in set(queries.stance_rows(ds, ALL, "KAZ", ["stance_id"])["stance_id"])
    moved = queries.stance_rows(ds, ALL, "RUS", ["stance_id", "polarity"])
    assert moved.loc[moved["stance_id"] == row["stance_id"], "polarity"].tolist() == ["oppose"]
    assert "RUS" in queries.options(ds)["holders"]

    ds.save_review("stance", row["row"], "undo", reviewer="bob")
    ds.save_review("stance", row["row"], "undo", reviewer="bob")
    back = cell(ds, ALL, row)
    assert (back["support"], back["oppose"]) == (before["support"], before["oppose"])
    assert ds.fetch("stances", [row["row"]], ["holder", "polarity"]).iloc[0].tolist() == ["KAZ", "support"]


def test_event_and_place_corrections_reach_the_pages(ds: Dataset) -> None:
    events = filtered(ds, "events", ALL, ["row", "date_precision", "place_id", "place_name"])
    ev = events[(events["date_precision"] == "day") & (events["place_id"].astype(str) != "1526384")].iloc[0]
    almaty = queries.place_evidence(ds, ALL, "1526384")[0]
    ds.save_review("event", ev["row"], "correct", reviewer="ann",
                   correction={"date": "2021-11", "date_precision": "month", "place_id": "1526384"})
    got = ds.fetch("events", [ev["row"]], ["date", "date_precision", "place_id", "place_name", "country", "lat",
                                           "review"]).iloc[0]
    assert (got["date"], got["date_precision"], got["place_id"], got["place_name"], got["country"]) == (
        pd.Timestamp("2021-11-01"), "month", "1526384", "Almaty", "KAZ")
    assert got["lat"] == pytest.approx(43.25, abs=0.1) and got["review"] == "corrected"
    now = queries.place_evidence(ds, ALL, "1526384")[0]
    assert len(now) == len(almaty) + 1 and "Almaty" in set(now["place_name"])
    assert queries.timeline(ds, Filters(start=pd.Timestamp("2021-11-01").date(),
                                        end=pd.Timestamp("2021-11-30").date())).bins["happenings"].sum() >= 1

    places = filtered(ds, "places", ALL, ["row", "place_id", "name"])
    pl = places[places["place_id"].astype(str) != "1522867"].iloc[0]
    assert ds.as_built("places", "place_id")
    ds.save_review("place", pl["row"], "correct", reviewer="ann", correction={"place_id": "1522867"})
    assert ds.fetch("places", [pl["row"]], ["place_id", "name", "kind"]).iloc[0].tolist() == [
        "1522867", "Kazakhstan", "country"]
    assert ds.places["place_id"].iloc[pl["row"]] == "1522867"
    # the build's stored first mention of each (place, article) no longer holds: articles are counted afresh
    assert not ds.as_built("places", "place_id")
    got = queries.map_places(ds, ALL).set_index("place_id")["articles"]
    mentions = filtered(ds, "places", ALL, ["place_id", "art", "lat", "lon"]).dropna(subset=["lat", "lon"])
    want = mentions.groupby(mentions["place_id"].astype(str))["art"].nunique()
    assert got.sort_index().to_dict() == want[want.index.isin(got.index)].sort_index().to_dict()
    assert got["1522867"] == want["1522867"]


def test_a_save_is_refused_for_a_row_that_is_not_there(ds: Dataset) -> None:
    with pytest.raises(ReviewError, match="no row"):
        ds.save_review("stance", len(ds.stances) + 5, "reject", reviewer="ann")
    with pytest.raises(ReviewError, match="no row"):
        ds.save_review("stance", -1, "reject", reviewer="ann")
    with pytest.raises(ReviewError, match="unknown kind"):
        ds.save_review("article", 0, "reject", reviewer="ann")
    with pytest.raises(ReviewError):
        ds.save_review("stance", 0, "correct", reviewer="ann", correction={"polarity": "<script>"})
    assert ds.current_reviews().empty


def test_another_process_saving_is_seen_on_the_next_sync(sample_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "reviews.sqlite"
    mine = Dataset.open(sample_dir, reviews=path)
    assert not path.exists()  # nothing is written before the first save
    theirs = Dataset.open(sample_dir, reviews=path)
    row = kaz_stance(mine)
    count = queries.headline(mine, ALL)["stances"]
    theirs.save_review("stance", row["row"], "reject", reviewer="bob")
    assert queries.headline(mine, ALL)["stances"] == count  # not yet looked
    assert mine.sync_reviews() and not mine.sync_reviews()
    assert queries.headline(mine, ALL)["stances"] == count - 1


def test_the_data_page_numbers(ds: Dataset) -> None:
    row = kaz_stance(ds)
    other = kaz_stance(ds, "oppose")
    ds.save_review("stance", row["row"], "reject", reviewer="ann")
    ds.save_review("stance", other["row"], "confirm", reviewer="ann")
    rules = ds.rule_precision()
    assert rules["rejected"].sum() == 1 and rules["confirmed"].sum() == 1
    assert (rules["fired"] >= rules["confirmed"] + rules["rejected"]).all()
    full = ds.sql("SELECT count(*) AS n FROM stances WHERE rule = ?", [rules["rule"].iloc[0]])["n"].iat[0]
    assert rules["fired"].iloc[0] == full  # counted over the whole build, not the reviewed articles
    log = pd.read_csv(io.BytesIO(ds.review_log_csv()))
    assert log["action"].tolist() == ["reject", "confirm"]
    assert set(ds.current_reviews()["status"]) == {"applies"}


# --- across builds -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rebuilt(rebuilt_dir: Path) -> Path:
    return rebuilt_dir


@pytest.fixture(scope="module")
def edited(edited_dir: Path) -> Path:
    return edited_dir


def test_reviews_survive_a_rebuild_opened_by_the_dashboard(ds: Dataset, rebuilt: Path) -> None:
    row = kaz_stance(ds)
    ds.save_review("stance", row["row"], "reject", reviewer="ann")
    places = filtered(ds, "places", ALL, ["row", "place_id"])
    pl = int(places.loc[places["place_id"].astype(str) != "1522867", "row"].iloc[0])
    ds.save_review("place", pl, "correct", reviewer="ann", correction={"place_id": "1522867"})
    count = queries.headline(ds, ALL)["stances"]

    again = Dataset.open(rebuilt, reviews=ds.review_path)
    assert queries.headline(again, ALL)["stances"] == count
    assert row["stance_id"] not in set(filtered(again, "stances", ALL)["stance_id"])
    assert set(again.current_reviews()["status"]) == {"applies"}
    for name in ("stances", "places", "events"):
        assert again.table(name)["review"].astype(str).tolist() == ds.table(name)["review"].astype(str).tolist()
    assert again.places["place_id"].astype(str).tolist() == ds.places["place_id"].astype(str).tolist()


def test_an_edited_article_marks_its_reviews_needs_a_look(ds: Dataset, edited: Path) -> None:
    arts = ds.sql("SELECT row, article_id, source FROM articles ORDER BY row")
    old_art = int(arts.loc[arts["source"] == EDITED, "row"].iloc[0])
    gone_art = int(arts.loc[arts["source"] == REMOVED, "row"].iloc[0])
    stances = ds.stances
    early = int(np.flatnonzero(stances["art"].to_numpy() == old_art)[0])  # before the edited word
    kept = int(np.flatnonzero(~np.isin(stances["art"].to_numpy(), [old_art, gone_art]))[0])
    gone = int(np.flatnonzero(stances["art"].to_numpy() == gone_art)[0])
    ds.save_review("stance", early, "reject", reviewer="ann", note="check")
    ds.save_review("stance", kept, "confirm", reviewer="ann")
    ds.save_review("stance", gone, "reject", reviewer="ann")
    claim = ds.fetch("stances", [early], ["holder", "issue", "polarity", "start", "evidence"]).iloc[0]

    new = Dataset.open(edited, reviews=ds.review_path)
    status = new.current_reviews().set_index("review")["status"]
    assert sorted(new.current_reviews()["status"]) == ["applies", "gone", "needs_look"]
    assert status.loc["confirmed"] == "applies"
    look = filtered(new, "stances", Filters(reviewed=True), ["holder", "issue", "polarity", "start", "review",
                                                             "review_note"])
    assert look["review"].astype(str).value_counts().to_dict() == {"needs_look": 1, "confirmed": 1}
    shown = look[look["review"] == "needs_look"].iloc[0]
    assert (shown["holder"], shown["issue"], shown["polarity"], shown["start"], shown["review_note"]) == (
        claim["holder"], claim["issue"], claim["polarity"], claim["start"], "check")  # the same claim
    # a rejection that needs a look is not applied: the row is still counted and exported
    assert len(filtered(new, "stances", ALL)) == len(new.stances)
    gone_log = new.current_reviews()
    assert gone_log.loc[gone_log["status"] == "gone", "source"].tolist() == [REMOVED]


def test_filters_keep_the_review_switches_in_the_url() -> None:
    f = Filters(rejected=True, reviewed=True)
    assert f.to_query_params() == {"rejected": "1", "reviewed": "1"}
    assert Filters.from_query_params(f.to_query_params()) == f
    assert Filters().to_query_params() == {}  # hide rejected is the default: not in the link
    assert Filters.from_query_params({"rejected": "show", "reviewed": "junk"}) == Filters(rejected=True)
    assert ("reviews", "reviewed rows only") in f.active() and f.reset() == Filters()


def test_store_saves_from_the_dataset_are_keyed_like_the_store(ds: Dataset, sample_dir: Path) -> None:
    """The dataset keys a row by its values as built, so the store's own tools read its reviews."""
    row = kaz_stance(ds)
    ds.save_review("stance", row["row"], "correct", reviewer="ann", correction={"polarity": "neutral"})
    store = ReviewStore(ds.review_path)
    current = store.current()
    assert current["polarity"].tolist() == ["support"] and current["set_polarity"].tolist() == ["neutral"]
    assert current["source"].notna().all()
