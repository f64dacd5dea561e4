"""Reports of one happening share an id across articles; different happenings do not."""

from __future__ import annotations

from unittest.mock import patch

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kzdash.pipeline import happenings
from kzdash.pipeline.happenings import grouped_ids, grouped_ids_of_file, happening_ids

ALMATY = ("1526384", "KAZ", 43.25, 76.92)
ALMATY_AIRPORT = ("site-ala", "KAZ", 43.35, 77.04)  # ~15 km away
AKTAU = ("610611", "KAZ", 43.65, 51.2)
KAZAKHSTAN = ("KAZ", "KAZ", 48.0, 68.0)


def _events(rows: list[tuple]) -> pd.DataFrame:
    out = []
    for i, (etype, date, precision, actor, place) in enumerate(rows):
        pid, country, lat, lon = place if place else (None, None, None, None)
        out.append({"event_id": f"a{i}-e0", "event_type": etype, "date": pd.Timestamp(date).date() if date else None,
                    "date_precision": precision, "actor": actor, "place_id": pid, "country": country,
                    "lat": lat, "lon": lon})
    return pd.DataFrame(out, columns=["event_id", "event_type", "date", "date_precision", "actor", "place_id",
                                      "country", "lat", "lon"])


@pytest.mark.parametrize("a,b,same", [
    # the same protest, told by two outlets a day apart ("yesterday" vs the date)
    (("PROTEST", "2022-01-05", "day", "KAZ", ALMATY), ("PROTEST", "2022-01-04", "day", None, ALMATY), True),
    # a nearby site and a month-precise report of it
    (("PROTEST", "2022-01-05", "day", "KAZ", ALMATY), ("PROTEST", "2022-01-01", "month", "KAZ", ALMATY_AIRPORT), True),
    # the country and a city in it
    (("MOBILIZE", "2022-01-06", "day", "CSTO", KAZAKHSTAN), ("MOBILIZE", "2022-01-06", "day", "CSTO", ALMATY), True),
    # different type, different actor, far apart, days apart, no date
    (("PROTEST", "2022-01-05", "day", "KAZ", ALMATY), ("ASSAULT", "2022-01-05", "day", "KAZ", ALMATY), False),
    (("MOBILIZE", "2022-01-06", "day", "CSTO", ALMATY), ("MOBILIZE", "2022-01-06", "day", "RUS", ALMATY), False),
    (("PROTEST", "2022-01-05", "day", "KAZ", ALMATY), ("PROTEST", "2022-01-05", "day", "KAZ", AKTAU), False),
    (("PROTEST", "2022-01-05", "day", "KAZ", ALMATY), ("PROTEST", "2022-01-09", "day", "KAZ", ALMATY), False),
    (("PROTEST", None, None, "KAZ", ALMATY), ("PROTEST", None, None, "KAZ", ALMATY), False),
    (("PROTEST", "2022-01-05", "day", "KAZ", ALMATY), ("PROTEST", "2022-02-01", "month", "KAZ", ALMATY), False),
])
def test_pairs(a: tuple, b: tuple, same: bool) -> None:
    events = _events([a, b])
    ids = happening_ids(events, {"KAZ"})
    assert (ids.iloc[0] == ids.iloc[1]) is same


def test_a_group_needs_every_member_to_agree() -> None:
    # 4th and 6th agree with the 5th but not with each other: two happenings, not one chain
    events = _events([("PROTEST", "2022-01-04", "day", "KAZ", ALMATY), ("PROTEST", "2022-01-05", "day", "KAZ", ALMATY),
                      ("PROTEST", "2022-01-06", "day", "KAZ", ALMATY)])
    assert happening_ids(events, set()).nunique() == 2


DAYS = st.dates(min_value=pd.Timestamp("2022-01-01").date(), max_value=pd.Timestamp("2022-03-31").date())


@settings(deadline=None)  # speed is bench/'s business: a loaded machine must not fail a property test
@given(st.lists(st.tuples(st.sampled_from(["PROTEST", "ASSAULT"]), DAYS, st.sampled_from(["KAZ", "RUS", None]),
                          st.sampled_from([ALMATY, AKTAU, None])), max_size=12))
def test_ids_do_not_depend_on_row_order(rows: list) -> None:
    events = _events([(t, str(d), "day", a, p) for t, d, a, p in rows])
    ids = happening_ids(events, set())
    shuffled = events.iloc[::-1]
    again = happening_ids(shuffled, set())
    groups = {frozenset(events.event_id[ids == h]) for h in ids.unique()}
    groups_again = {frozenset(shuffled.event_id[again == h]) for h in again.unique()}
    assert groups == groups_again
    # and every member of a group has the same type
    for h in ids.unique():
        assert events.event_type[ids == h].nunique() == 1


@settings(deadline=None, max_examples=40)
@given(st.lists(st.tuples(st.sampled_from(["PROTEST", "ASSAULT", None]), st.one_of(st.none(), DAYS),
                          st.sampled_from(["day", "month", "year"]), st.sampled_from(["KAZ", "RUS", None]),
                          st.sampled_from([ALMATY, AKTAU, KAZAKHSTAN, None])), max_size=40),
       st.integers(min_value=1, max_value=7))
def test_grouping_a_file_in_bounded_memory_gives_the_same_ids(tmp_path_factory, rows: list, batch: int) -> None:
    """The build groups its events file through DuckDB, block by block as they stream out sorted
    (a block may straddle two streamed batches): the same ids as grouping the table in memory."""
    events = _events([(t, str(d) if d else None, p if d else None, a, pl) for t, d, p, a, pl in rows])
    folder = tmp_path_factory.mktemp("grouping")
    pq.write_table(pa.Table.from_pandas(events, preserve_index=False), folder / "events.parquet")
    in_memory = grouped_ids(pa.Table.from_pandas(events, preserve_index=False), {"KAZ"})
    with patch.object(happenings, "FILE_BATCH_ROWS", batch):
        from_file = grouped_ids_of_file(folder / "events.parquet", {"KAZ"}, spill=folder / "spill")
    assert from_file.tolist() == in_memory.tolist()
