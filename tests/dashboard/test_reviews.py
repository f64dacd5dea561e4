"""The review store on the real sample build: actions and undo, keys that survive a rebuild, an edited
article's reviews that need a look, reviewers saving at once, refused corrections, notes as text, rule
precision, the log's CSV."""

from __future__ import annotations

import multiprocessing
import sqlite3
import tempfile
import threading
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sample_builds import EDITED, NEW_WORD, WORD

from kzdash.dashboard.appdata import load_tables
from kzdash.dashboard.dataset import Dataset
from kzdash.dashboard.reviews import (
    MAX_NOTE,
    ReviewError,
    ReviewStore,
    apply_all,
    apply_reviews,
    clean_note,
    default_path,
    evidence_hash,
    key_sql,
    read_log_csv,
    review_status,
    row_key,
    row_keys,
    rule_precision,
    split_cues,
    validate_correction,
)


def in_input_order(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """A build's tables with their rows in input order (the articles' files by name, each article's rows
    as built): the positions these tests pick rows by, whatever months the build's files are."""
    arts = tables["articles"]
    rank = dict(zip(arts["article_id"], arts["source"].rank(method="first").astype(int), strict=True))
    out = {}
    for name, df in tables.items():
        if "article_id" in df:
            df = df.iloc[df["article_id"].map(rank).argsort(kind="stable")].reset_index(drop=True)
        out[name] = df
    return out


@pytest.fixture(scope="module")
def tables(sample_dir: Path) -> dict[str, pd.DataFrame]:
    return in_input_order(load_tables(str(sample_dir)))


@pytest.fixture(scope="module")
def rebuilt(rebuilt_dir: Path) -> dict[str, pd.DataFrame]:
    """The same articles built again into another folder."""
    return in_input_order(load_tables(str(rebuilt_dir)))


@pytest.fixture(scope="module")
def edited(edited_dir: Path) -> dict[str, pd.DataFrame]:
    """The sample with one word of one article changed, and another article removed, rebuilt."""
    return in_input_order(load_tables(str(edited_dir)))


@pytest.fixture
def store(tmp_path: Path) -> ReviewStore:
    return ReviewStore(default_path(tmp_path / "build"))


def source_of(tables: dict[str, pd.DataFrame], article_id: str) -> str:
    arts = tables["articles"]
    return str(arts.loc[arts["article_id"] == article_id, "source"].iloc[0])


def save(store: ReviewStore, tables, kind: str, i: int, action: str, **kw) -> dict:
    row = tables[{"stance": "stances", "event": "events", "place": "places"}[kind]].iloc[i].to_dict()
    return store.save(kind, row, action, reviewer=kw.pop("reviewer", "ann"),
                      source=source_of(tables, row["article_id"]), **kw)


def test_the_store_lives_beside_the_build_in_wal_mode(tmp_path: Path) -> None:
    path = default_path(tmp_path / "build")
    assert path == tmp_path / "build.reviews.sqlite"
    ReviewStore(path)
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sample_keys_are_unique(tables) -> None:
    for kind, name in (("stance", "stances"), ("event", "events"), ("place", "places")):
        keys = row_keys(kind, tables[name])
        assert keys.is_unique, kind
        assert keys.iloc[0] == row_key(kind, tables[name].iloc[0].to_dict()).text


def test_confirm_reject_correct_and_undo(store: ReviewStore, tables) -> None:
    save(store, tables, "stance", 0, "confirm")
    save(store, tables, "stance", 1, "reject", reviewer="bob", note="the holder is the US, not Kazakhstan")
    save(store, tables, "stance", 2, "correct", correction={"polarity": "oppose"})
    save(store, tables, "stance", 2, "correct", correction={"holder": "KAZ"})  # adds to the correction

    out = apply_reviews("stance", tables["stances"], store.current(), tables["articles"])
    assert len(out) == len(tables["stances"])  # a rejected row stays: hiding it is a filter
    assert out["review"].iloc[:3].tolist() == ["confirmed", "rejected", "corrected"]
    assert pd.isna(out["review"].iloc[3])
    assert (out["reviewed_by"].iloc[1], out["review_note"].iloc[1]) == ("bob", "the holder is the US, not Kazakhstan")
    row, orig = out.iloc[2], tables["stances"].iloc[2]
    assert (row["holder"], row["polarity"], row["issue"]) == ("KAZ", "oppose", orig["issue"])
    assert (row["orig_holder"], row["orig_polarity"]) == (orig["holder"], orig["polarity"])
    assert (orig["holder"], orig["polarity"]) == ("RUS", "support")  # the sample row this test corrects
    assert out["holder"].iloc[3:].tolist() == tables["stances"]["holder"].iloc[3:].tolist()

    key = out["review_key"].iloc[2]
    store.undo(key, reviewer="ann")  # takes back the second correction only
    assert dict(store.state(key).correction) == {"polarity": "oppose"}
    store.undo(key, reviewer="ann")
    assert store.state(key).status is None
    with pytest.raises(ReviewError, match="nothing to undo"):
        store.undo(key, reviewer="ann")
    save(store, tables, "stance", 1, "undo")
    assert set(store.current()["review_key"]) == {out["review_key"].iloc[0]}
    assert len(store) == 7  # the log keeps every action, the undos too
    assert store.log()["action"].tolist() == ["confirm", "reject", "correct", "correct", "undo", "undo", "undo"]


def test_before_and_after_say_what_changed(store: ReviewStore, tables) -> None:
    first = save(store, tables, "stance", 2, "correct", correction={"polarity": "oppose"})
    assert (first["before"], first["after"]) == ('{"review": null, "polarity": "support"}',
                                                 '{"review": "corrected", "polarity": "oppose"}')
    second = save(store, tables, "stance", 2, "reject")
    assert (second["before"], second["after"]) == ('{"review": "corrected", "polarity": "oppose"}',
                                                   '{"review": "rejected"}')
    with pytest.raises(ReviewError, match="changes nothing"):
        save(store, tables, "stance", 3, "correct", correction={"holder": tables["stances"]["holder"].iloc[3]})


def test_event_and_place_corrections(store: ReviewStore, tables) -> None:
    events, places = tables["events"], tables["places"]
    i = int(events.index[events["date_precision"] == "day"][0])
    save(store, tables, "event", i, "correct", correction={"date": "2021-11", "date_precision": "month",
                                                            "event_type": "CONSULT", "place_id": "1526384"})
    j = int(places.index[places["place_id"] != "1522867"][0])
    save(store, tables, "place", j, "correct", correction={"place_id": "1522867"})
    applied = apply_all(tables, store.current())
    ev, pl = applied["events"].loc[i], applied["places"].loc[j]
    assert (ev["event_type"], ev["date"], ev["date_precision"], ev["place_id"]) == (
        "CONSULT", date(2021, 11, 1), "month", "1526384")  # the column's own type (datetime.date in a build)
    assert ev["place_name"] == "Almaty" and ev["country"] == "KAZ"  # the place's columns follow its id
    assert (ev["orig_date"], ev["orig_date_precision"]) == (events.loc[i, "date"], "day")
    assert (pl["place_id"], pl["name"], pl["orig_place_id"]) == ("1522867", "Kazakhstan", places.loc[j, "place_id"])
    assert applied["events"].drop(index=i)["review"].isna().all()

    save(store, tables, "event", i, "correct", correction={"place_id": None})  # no place after all
    ev = apply_all(tables, store.current())["events"].loc[i]
    assert pd.isna(ev["place_id"]) and pd.isna(ev["place_name"]) and pd.isna(ev["lat"])
    assert ev["date"] == date(2021, 11, 1)  # the earlier corrections hold


def test_reviews_apply_to_the_dashboards_prepared_tables(store: ReviewStore, tables) -> None:
    """Dataset tables hold categoricals and datetime64 dates: the keys and corrections work on them too."""
    events = tables["events"]
    i = int(events.index[events["date_precision"] == "day"][0])
    save(store, tables, "event", i, "correct", correction={"date": "2021-11-30", "place_id": "1526384"})
    save(store, tables, "stance", 0, "reject")
    ds = Dataset.from_tables(tables)
    full = {name: ds.fetch(name, np.arange(len(ds.table(name))), ds.stored_columns(name))
            for name in ("events", "stances", "articles")}  # index columns as the dataset prepares them
    assert row_keys("event", full["events"]).tolist() == row_keys("event", events).tolist()
    out = apply_reviews("event", full["events"], store.current(), full["articles"])
    assert out.loc[i, "date"] == pd.Timestamp("2021-11-30") and out.loc[i, "place_name"] == "Almaty"
    assert out.loc[i, "review"] == "corrected" and out["review"].notna().sum() == 1
    stances = apply_reviews("stance", full["stances"], store.current(), full["articles"])
    assert stances["review"].tolist()[0] == "rejected" and stances["review"].notna().sum() == 1


def test_reviews_survive_a_rebuild_of_the_same_articles(store: ReviewStore, tables, rebuilt) -> None:
    assert set(rebuilt["articles"]["article_id"]) == set(tables["articles"]["article_id"])
    for i in (0, 14, 40):
        save(store, tables, "stance", i, "reject")
    save(store, tables, "event", 5, "confirm")
    assert tables["places"].loc[8, "place_id"] != "1522867"
    save(store, tables, "place", 8, "correct", correction={"place_id": "1522867"})
    status = review_status(store.current(), rebuilt)
    assert status["status"].tolist() == ["applies"] * 5
    before = apply_all(tables, store.current())
    after = apply_all(rebuilt, store.current())
    for name in ("stances", "events", "places"):
        pd.testing.assert_series_equal(before[name]["review"], after[name]["review"])
    assert after["places"].loc[8, "place_id"] == "1522867"


def test_an_edited_article_marks_its_reviews_needs_a_look(store: ReviewStore, tables, edited) -> None:
    arts = tables["articles"]
    old_id = arts.loc[arts["source"] == EDITED, "article_id"].iloc[0]
    new_arts = edited["articles"]
    new_id = new_arts.loc[new_arts["source"] == EDITED, "article_id"].iloc[0]
    assert new_id != old_id  # the id is a hash of the text

    stances, places = tables["stances"], tables["places"]
    early = int(stances.index[stances["article_id"] == old_id][0])  # before the edited word: same evidence
    cut = arts.loc[arts["source"] == EDITED, "text"].iloc[0].index(WORD)
    late = int(places.index[(places["article_id"] == old_id) & (places["start"] > cut)][0])  # after it: shifted
    kept = int(stances.index[stances["article_id"] != old_id][0])
    save(store, tables, "stance", early, "correct", correction={"polarity": "neutral"}, note="check")
    save(store, tables, "place", late, "reject")
    save(store, tables, "stance", kept, "confirm")
    gone_row = int(stances.index[stances["article_id"] == arts.loc[arts["source"].str.startswith("003"),
                                                                    "article_id"].iloc[0]][0])
    save(store, tables, "stance", gone_row, "reject")

    status = review_status(store.current(), edited).set_index("article_id")["status"]
    assert status.loc[old_id].tolist() == ["needs_look", "needs_look"]
    assert status.loc[stances.loc[kept, "article_id"]] == "applies"
    assert status.loc[stances.loc[gone_row, "article_id"]] == "gone"  # kept and listed, never dropped
    assert len(store.current()) == 4

    out = apply_all(edited, store.current())
    new_stances, new_places = out["stances"], out["places"]
    look = new_stances[new_stances["review"] == "needs_look"]
    assert look["article_id"].tolist() == [new_id] and look["review_note"].tolist() == ["check"]
    assert look["start"].iloc[0] == stances.loc[early, "start"]  # shown on the same claim
    assert look["polarity"].iloc[0] == stances.loc[early, "polarity"]  # the correction is not re-applied
    assert (new_stances["polarity"] == new_stances["orig_polarity"]).all()
    look_place = new_places[new_places["review"] == "needs_look"]
    assert look_place["place_id"].tolist() == [places.loc[late, "place_id"]]
    assert look_place["start"].iloc[0] == places.loc[late, "start"] + len(NEW_WORD) - len(WORD)
    assert new_stances["review"].value_counts().to_dict() == {"needs_look": 1, "confirmed": 1}


def test_changed_evidence_under_the_same_key_needs_a_look(store: ReviewStore, tables) -> None:
    save(store, tables, "event", 3, "confirm")
    changed = {**tables, "events": tables["events"].copy()}
    changed["events"].loc[3, "evidence"] = "other words"
    assert review_status(store.current(), changed)["status"].tolist() == ["needs_look"]
    assert apply_reviews("event", changed["events"], store.current(), tables["articles"])["review"].iloc[3] == \
        "needs_look"


def _save_many(path: str, reviewer: str, rows: list[dict], count: int) -> None:
    store = ReviewStore(path)
    for n in range(count):
        row = rows[n % len(rows)]
        store.save("stance", row, "confirm" if n % 2 else "reject", reviewer=reviewer, note=f"{reviewer} {n}")


def _check_nothing_lost(store: ReviewStore, expected: int) -> None:
    log = store.log()
    assert len(log) == expected and log["seq"].is_unique
    last = log.groupby("review_key")["action"].last()
    current = store.current().set_index("review_key")["review"]
    assert current.to_dict() == {k: {"confirm": "confirmed", "reject": "rejected"}[a] for k, a in last.items()}


def test_reviewers_saving_at_once_in_threads_lose_nothing(store: ReviewStore, tables) -> None:
    rows = [tables["stances"].iloc[i].to_dict() for i in range(3)]  # all threads on the same rows
    threads = [threading.Thread(target=_save_many, args=(str(store.path), f"r{t}", rows, 25)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _check_nothing_lost(store, 100)


def test_reviewers_saving_at_once_in_processes_lose_nothing(store: ReviewStore, tables) -> None:
    rows = [tables["stances"].iloc[i].to_dict() for i in range(3)]
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_save_many, args=(str(store.path), f"p{p}", rows, 50)) for p in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    _check_nothing_lost(store, 100)
    assert store.log()["reviewer"].value_counts().to_dict() == {"p0": 50, "p1": 50}


@pytest.mark.parametrize(("kind", "correction", "message"), [
    ("stance", {"holder": "XYZ"}, "holder 'XYZ' is not in the vocabulary"),
    ("stance", {"holder": "kaz"}, "not in the vocabulary"),
    ("stance", {"issue": "world_peace"}, "issue 'world_peace'"),
    ("stance", {"polarity": "maybe"}, "polarity 'maybe'"),
    ("stance", {"polarity": ""}, "non-empty"),
    ("stance", {"holder": None}, "non-empty"),
    ("stance", {"holder": ["KAZ"]}, "non-empty"),
    ("stance", {"event_type": "AID"}, "may set holder, issue, polarity, not event_type"),
    ("stance", {}, "at least one field"),
    ("event", {"event_type": "BOMB"}, "event_type 'BOMB'"),
    ("event", {"date": "2022-13-01"}, "not a calendar date"),
    ("event", {"date": "2022-02-30"}, "not a calendar date"),
    ("event", {"date": "1 March 2022"}, "is not a day"),
    ("event", {"date": "2022-03", "date_precision": "day"}, "is not a day"),
    ("event", {"date_precision": "week"}, "date_precision 'week'"),
    ("event", {"place_id": "atlantis"}, "not in the gazetteer"),
    ("place", {"place_id": None}, "non-empty"),
    ("place", {"holder": "KAZ"}, "may set place_id, not holder"),
])
def test_invalid_corrections_are_refused(store: ReviewStore, tables, kind: str, correction: dict,
                                         message: str) -> None:
    i = int(tables["events"].index[tables["events"]["date_precision"] == "day"][0]) if kind == "event" else 0
    with pytest.raises(ReviewError, match=message.replace("(", r"\(")):
        save(store, tables, kind, i, "correct", correction=correction)
    assert len(store) == 0


@pytest.mark.parametrize(("action", "kw", "message"), [
    ("approve", {}, "unknown action"),
    ("confirm", {"correction": {"polarity": "oppose"}}, "only a 'correct' action"),
    ("confirm", {"reviewer": "  "}, "reviewer's name"),
    ("confirm", {"reviewer": "x" * 201}, "at most 200"),
    ("confirm", {"note": "x" * (MAX_NOTE + 1)}, "at most 2,000 characters"),
    ("undo", {}, "nothing to undo"),
])
def test_invalid_actions_are_refused(store: ReviewStore, tables, action: str, kw: dict, message: str) -> None:
    with pytest.raises(ReviewError, match=message):
        save(store, tables, "stance", 0, action, **kw)
    with pytest.raises(ReviewError, match="unknown kind"):
        store.save("article", tables["stances"].iloc[0].to_dict(), "confirm", reviewer="ann")
    assert len(store) == 0


@pytest.mark.parametrize(("given", "expected"), [
    ({"date": "2022-03", "date_precision": "month"}, {"date": "2022-03-01", "date_precision": "month"}),
    ({"date": "2022-03-17", "date_precision": "month"}, {"date": "2022-03-01", "date_precision": "month"}),
    ({"date": "2014", "date_precision": "year"}, {"date": "2014-01-01", "date_precision": "year"}),
    ({"date": "2022-03-17"}, {"date": "2022-03-17", "date_precision": "day"}),  # the row's precision
    ({"date_precision": "year"}, {"date": "2022-01-01", "date_precision": "year"}),  # the row's date, coarser
    ({"place_id": None}, {"place_id": None}),  # an event may lose its place
    ({"event_type": "OTHER"}, {"event_type": "OTHER"}),
])
def test_valid_event_corrections_are_normalised(given: dict, expected: dict) -> None:
    row = {"date": "2022-02-10", "date_precision": "day"}
    assert validate_correction("event", given, row) == expected


@pytest.mark.parametrize("note", [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)"> & &amp; **bold** [link](javascript:alert(1))',
    "Проверить: это заявление МИД, а не президента.\nВторая строка",
    "الموقف منسوب إلى المتحدث، لا إلى الرئيس",
])
def test_a_note_stays_literal_text(store: ReviewStore, tables, note: str) -> None:
    save(store, tables, "stance", 0, "reject", note=note)
    assert store.log()["note"].tolist() == [note]
    out = apply_reviews("stance", tables["stances"], store.current(), tables["articles"])
    assert out["review_note"].iloc[0] == note


def test_a_note_loses_control_characters_only() -> None:
    assert clean_note("a\x00b\x1b[31mc\u202ed\r\ne\tf\u200b") == "ab[31mcd\ne\tf"
    assert clean_note(None) == "" and clean_note("  x  ") == "x"
    assert clean_note("y" * MAX_NOTE) == "y" * MAX_NOTE


def test_rule_precision_counts(store: ReviewStore, tables) -> None:
    stances, events = tables["stances"], tables["events"]
    rule = stances["rule"].iloc[0]
    same = stances.index[stances["rule"] == rule]
    save(store, tables, "stance", int(same[0]), "confirm")
    save(store, tables, "stance", 20, "reject")
    save(store, tables, "stance", 21, "correct", correction={"polarity": "oppose"})
    i = int(events.index[events["date_precision"] == "day"][0])
    save(store, tables, "event", i, "correct", correction={"date": "2021-01-05"})
    save(store, tables, "event", i + 1, "reject")
    got = rule_precision(tables, store.current())
    assert set(got["table"]) == {"stances", "events", "places"}
    assert got.groupby(["table", "rule_column"])["fired"].sum().to_dict() == {
        ("events", "date_rule"): len(events), ("events", "type_rule"): len(events),
        ("places", "rule"): len(tables["places"]), ("stances", "rule"): len(stances)}

    def line(table: str, column: str, value: str) -> dict:
        return got[(got["table"] == table) & (got["rule_column"] == column) & (got["rule"] == value)].iloc[0].to_dict()

    first = line("stances", "rule", rule)
    assert (first["fired"], first["confirmed"], first["rejected"], first["precision"]) == (len(same), 1, 0, 1.0)
    assert line("stances", "rule", stances["rule"].iloc[20])["rejected"] == 1
    corrected = line("stances", "rule", stances["rule"].iloc[21])
    assert (corrected["corrected"], corrected["precision"]) == (1, 0.0)
    # the corrected date blames the date rule; its type rule was right
    assert line("events", "date_rule", events["date_rule"].iloc[i])["corrected"] == 1
    type_line = line("events", "type_rule", events["type_rule"].iloc[i])
    assert type_line["confirmed"] >= 1 and type_line["corrected"] == 0
    assert got[["confirmed", "rejected", "corrected"]].sum().to_dict() == {"confirmed": 2, "rejected": 3,
                                                                           "corrected": 2}
    assert got["rejected"].iloc[0] >= 1  # the worst rules first
    assert got.loc[got["confirmed"] + got["rejected"] + got["corrected"] == 0, "precision"].isna().all()

    by_cue = rule_precision(tables, store.current(), cues=True)
    cue = split_cues(rule)[0]
    assert by_cue[(by_cue["table"] == "stances") & (by_cue["rule"] == cue)]["confirmed"].iloc[0] >= 1


def test_split_cues() -> None:
    assert split_cues("act:njohe~donetsk polarity:nuk do te njohe holder:subject") == [
        "act:njohe~donetsk", "polarity:nuk do te njohe", "holder:subject"]
    assert split_cues("topic:روس الذين يفرون polarity:ستحمي") == ["topic:روس الذين يفرون", "polarity:ستحمي"]
    assert split_cues("month") == ["month"]


def test_log_csv_round_trip(store: ReviewStore, tables) -> None:
    save(store, tables, "stance", 0, "reject", note='=HYPERLINK("http://x.example","click"), "quoted"\nline 2')
    save(store, tables, "stance", 1, "correct", correction={"polarity": "neutral"}, note="-1 + 2")
    save(store, tables, "place", 0, "confirm", reviewer="@ann", note="'already quoted")
    save(store, tables, "event", 2, "confirm", note="")
    store.undo(store.log()["review_key"].iloc[0], reviewer="bob", note="Ошибся; 撤销")
    data = store.review_log_csv()
    assert b"'=HYPERLINK" in data and b",\"=" not in data  # no cell a spreadsheet would run
    back = read_log_csv(data)
    pd.testing.assert_frame_equal(back, store.log(), check_dtype=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["confirm", "reject", "correct", "undo"]),
                          st.sampled_from(["support", "oppose", "neutral"])), max_size=12))
def test_any_actions_then_undo_all_leave_no_review(tables, steps) -> None:
    rows = [tables["stances"].iloc[i].to_dict() for i in range(3)]
    with tempfile.TemporaryDirectory() as tmp:
        store = ReviewStore(Path(tmp) / "r.sqlite")
        model: dict[int, list] = {0: [], 1: [], 2: []}  # the live actions per row, as a stack
        for i, action, polarity in steps:
            try:
                store.save("stance", rows[i], action, reviewer="h",
                           correction={"polarity": polarity} if action == "correct" else None)
            except ReviewError:
                continue  # nothing to undo, or a correction to the value the row already shows
            if action == "undo":
                model[i].pop()
            else:
                model[i].append(action)
        assert sorted(store.current()["review_key"]) == sorted(
            row_key("stance", rows[i]).text for i, stack in model.items() if stack)
        for i, stack in model.items():
            for _ in stack:
                store.save("stance", rows[i], "undo", reviewer="h")
        assert store.current().empty
        out = apply_reviews("stance", tables["stances"], store.current(), tables["articles"])
        assert out["review"].isna().all() and (out["polarity"] == out["orig_polarity"]).all()


def test_current_reviews_join_in_duckdb(store: ReviewStore, tables) -> None:
    """The lead's path: register the current reviews and join on the key DuckDB computes itself."""
    save(store, tables, "stance", 4, "reject")
    save(store, tables, "stance", 9, "correct", correction={"issue": "ukraine_peace_talks", "polarity": "oppose"})
    save(store, tables, "event", 6, "confirm")  # an event with no type: its key says OTHER
    assert pd.isna(tables["events"]["event_type"].iloc[6])
    con = duckdb.connect()
    con.register("reviews", store.current_arrow())
    ds = Dataset.from_tables(tables)
    for kind, name in (("stance", "stances"), ("event", "events")):
        prepared = ds.fetch(name, np.arange(len(ds.table(name))), ds.stored_columns(name))
        for frame in (tables[name], prepared):
            con.register(name, frame)
            keys = con.sql(f"SELECT {key_sql(kind, 't')} AS k FROM {name} t").df()["k"].tolist()
            assert keys == row_keys(kind, tables[name]).tolist()
    hashes = con.sql("SELECT left(sha256(coalesce(evidence, '')), 16) FROM stances").df().iloc[:, 0].tolist()
    assert hashes == [evidence_hash(e) for e in tables["stances"]["evidence"]]  # the "applies" check in SQL
    joined = con.sql(f"SELECT s.stance_id, r.review, coalesce(r.set_polarity, s.polarity) AS polarity "
                     f"FROM stances s JOIN reviews r ON r.review_key = {key_sql('stance', 's')} "
                     f"ORDER BY s.stance_id").fetchall()
    ids = tables["stances"]["stance_id"]
    assert sorted(joined) == sorted([(ids.iloc[4], "rejected", tables["stances"]["polarity"].iloc[4]),
                                     (ids.iloc[9], "corrected", "oppose")])


def test_an_empty_store_answers_every_question(store: ReviewStore, tables) -> None:
    assert store.current().empty and list(store.current().columns)[:2] == ["review_key", "kind"]
    assert read_log_csv(store.review_log_csv()).empty
    got = rule_precision(tables, store.current())
    assert got["fired"].sum() == len(tables["stances"]) + 2 * len(tables["events"]) + len(tables["places"])
    assert got["precision"].isna().all() and (got[["confirmed", "rejected", "corrected"]] == 0).all().all()
    out = apply_all(tables, store.current())
    assert out["stances"]["review"].isna().all() and len(out["places"]) == len(tables["places"])
