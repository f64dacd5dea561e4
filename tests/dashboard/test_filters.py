"""Filters <-> query parameters: the share link restores the view exactly, and junk never breaks it."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kzdash.dashboard.filters import ACTOR, COUNTRY, EVENT_TYPE, ISSUE, LANGUAGE, MAX_VALUES, PLACE, Filters


@pytest.mark.parametrize(("params", "expected"), [
    ({}, Filters()),
    ({"from": "2022-01-01", "to": "2022-03-31"}, Filters(start=date(2022, 1, 1), end=date(2022, 3, 31))),
    ({"from": "2022-03-31", "to": "2022-01-01"}, Filters(start=date(2022, 1, 1), end=date(2022, 3, 31))),
    ({"from": "2022-13-01", "to": "yesterday"}, Filters()),
    ({"from": "20220101"}, Filters()),
    ({"from": "1066-10-14"}, Filters()),
    ({"lang": "ar,sq"}, Filters(languages=("ar", "sq"))),
    ({"lang": ["ar", "sq", "ar"]}, Filters(languages=("ar", "sq"))),
    ({"lang": "AR,arabic,,x"}, Filters()),
    ({"outlet": ["The Najaf Post", "Asharq"]}, Filters(outlets=("The Najaf Post", "Asharq"))),
    ({"outlet": "Reuters, London"}, Filters(outlets=("Reuters, London",))),
    ({"outlet": ["  ", "bad\x00name", "x" * 201]}, Filters()),
    ({"actor": "KAZ,RUS,kaz,<script>"}, Filters(actors=("KAZ", "RUS"))),
    ({"issue": "sanctions_russia,Sanctions"}, Filters(issues=("sanctions_russia",))),
    ({"type": "PROTEST,AID,protest"}, Filters(event_types=("PROTEST", "AID"))),
    ({"country": "KAZ,KZ,KAZA"}, Filters(countries=("KAZ",))),
    ({"place": "site-upper-lars,1522867,../etc"}, Filters(places=("site-upper-lars", "1522867"))),
    ({"q": "  Tokayev  "}, Filters(text="Tokayev")),
    ({"q": "\x07"}, Filters()),
    ({"bg": "0"}, Filters(background=False)),
    ({"bg": "hide"}, Filters(background=False)),
    ({"bg": "maybe"}, Filters()),
    ({"sure": "1"}, Filters(confident=True)),
    ({"sure": "perhaps"}, Filters()),
    ({"holder": "RUS", "rows": "language", "group": "outlet"}, Filters(holder="RUS", rows="language", group="outlet")),
    ({"holder": "russia", "rows": "issue", "group": "colour"}, Filters()),
    ({"article": "969562bc9d58ce826f9b", "pick": "607610", "view": "2"},
     Filters(article="969562bc9d58ce826f9b", pick="607610", slide=2)),
    ({"article": "<b>x</b>", "pick": "a b", "view": "-1"}, Filters()),
    ({"view": ["1", "oops", "3"]}, Filters(slide=3)),
    ({"unknown": "x", "from": ["2022-01-01", "junk"]}, Filters(start=date(2022, 1, 1))),
    ({"lang": 5, "outlet": None, "type": [1, "AID"]}, Filters(event_types=("AID",))),
])
def test_parse_table(params: dict, expected: Filters) -> None:
    assert Filters.from_query_params(params) == expected


def test_lists_are_capped() -> None:
    many = ",".join(f"A{i:02d}" for i in range(MAX_VALUES + 20))
    assert len(Filters.from_query_params({"actor": many}).actors) == MAX_VALUES


@pytest.mark.parametrize(("filters", "expected"), [
    (Filters(), {}),
    (Filters(languages=("ar", "sq"), outlets=("Asharq",), start=date(2022, 1, 5)),
     {"lang": "ar,sq", "outlet": ["Asharq"], "from": "2022-01-05"}),
    (Filters(background=False, slide=4, holder="RUS", present=True),
     {"bg": "0", "view": "4", "holder": "RUS", "present": "1"}),
])
def test_to_query_params_is_short(filters: Filters, expected: dict) -> None:
    assert filters.to_query_params() == expected


def test_reset_keeps_view_state() -> None:
    f = Filters(languages=("ar",), text="x", holder="RUS", slide=2, background=False)
    assert f.reset() == Filters(holder="RUS", slide=2)


def test_active_describes_restrictions() -> None:
    f = Filters(start=date(2022, 1, 1), event_types=("AID", "PROTEST"), text="Aktau", background=False)
    assert f.active() == [("dates", "2022-01-01 – …"), ("event types", "AID, PROTEST"), ("text", "Aktau"),
                          ("background", "hidden")]
    assert Filters().active() == []


def _codes(pattern) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.from_regex(pattern, fullmatch=True), max_size=5, unique=True).map(tuple)


_free_text = st.text(min_size=1, max_size=40).map(str.strip).filter(
    lambda s: s and not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in s))
_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


@st.composite
def filters(draw) -> Filters:
    a, b = draw(st.none() | _dates), draw(st.none() | _dates)
    if a and b and a > b:
        a, b = b, a
    return Filters(
        start=a, end=b, outlets=tuple(draw(st.lists(_free_text, max_size=4, unique=True))),
        languages=draw(_codes(LANGUAGE)), actors=draw(_codes(ACTOR)), issues=draw(_codes(ISSUE)),
        event_types=draw(_codes(EVENT_TYPE)), countries=draw(_codes(COUNTRY)), places=draw(_codes(PLACE)),
        text=draw(st.just("") | _free_text), background=draw(st.booleans()),
        confident=draw(st.booleans()), holder=draw(st.from_regex(ACTOR, fullmatch=True)),
        rows=draw(st.sampled_from(["outlet", "language"])),
        group=draw(st.sampled_from(["type", "outlet"])), article=draw(st.just("") | st.from_regex(
            r"[0-9a-f]{20}", fullmatch=True)), pick=draw(st.just("") | st.from_regex(PLACE, fullmatch=True)),
        slide=draw(st.integers(0, 999)), present=draw(st.booleans()))


@settings(deadline=None)
@given(filters())
def test_round_trip(f: Filters) -> None:
    assert Filters.from_query_params(f.to_query_params()) == f


_junk_value = st.text(max_size=30) | st.lists(st.text(max_size=30), max_size=4) | st.integers() | st.none()


_KEYS = ["from", "to", "outlet", "lang", "actor", "issue", "type", "country", "place", "q", "bg", "holder", "rows",
         "group", "article", "pick", "view", "present", "other"]


@settings(deadline=None)
@given(st.dictionaries(st.sampled_from(_KEYS), _junk_value))
def test_junk_never_raises_and_what_is_kept_round_trips(params: dict) -> None:
    f = Filters.from_query_params(params)
    assert Filters.from_query_params(f.to_query_params()) == f
