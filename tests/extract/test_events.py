"""Events: one per dated statement, with its sentence, place, type cue and background flag."""

from __future__ import annotations

from kzdash.extract.actors import find_actors
from kzdash.extract.events import find_events, happening_id, summary
from kzdash.extract.gazetteer import load_gazetteer
from kzdash.extract.geoparse import find_places
from kzdash.extract.temporal import find_dates
from kzdash.text.sentences import sentence_spans
from kzdash.text.textnorm import fold

TEXT = ("Protesters rallied in Almaty on 5 January 2022. Police said the rally in Almaty on 5 January 2022 "
        "was calm. In 2014 Russia annexed Crimea.")


def _events(text: str, published: str | None):
    folded = fold(text)
    places = find_places(text, "en", load_gazetteer(), folded)
    actors = find_actors(text, folded, "en", places)
    dates = find_dates(text, "en", published, folded)
    return find_events(text, folded, "en", sentence_spans(text), dates, places, published, actors)


def test_one_event_per_happening_told_in_an_article_with_its_evidence() -> None:
    events = _events(TEXT, "2022-01-06")
    # the rally told twice (same type, date and place) is one event
    assert [e.date for e in events] == ["2022-01-05", "2014-01-01"]
    first = events[0]
    assert TEXT[first.start:first.end] == "Protesters rallied in Almaty on 5 January 2022."
    assert first.place is not None and first.place.name == "Almaty"
    assert first.event_type == "PROTEST"


def test_background_is_a_date_well_before_publication() -> None:
    events = _events(TEXT, "2022-01-06")
    assert [e.background for e in events] == [False, True]


def test_an_undated_report_takes_the_publication_month_at_lower_confidence() -> None:
    events = _events("Police detained dozens of protesters in Almaty. The weather was cold.", "2022-01-06")
    assert len(events) == 1
    ev = events[0]
    assert (ev.event_type, ev.date, ev.date_precision, ev.date_rule) == ("COERCE", "2022-01-01", "month", "published")
    assert ev.place is not None and ev.place.name == "Almaty" and ev.confidence < 0.5


def test_an_undated_report_without_a_publication_date_has_no_date() -> None:
    (ev,) = _events("Police detained dozens of protesters in Almaty.", None)
    assert ev.date is None and ev.date_precision is None


def test_the_same_happening_shares_an_id_and_the_summary_is_generated() -> None:
    a = _events("Protesters rallied in Almaty on 5 January 2022.", "2022-01-06")[0]
    b = _events("On 5 January 2022 protesters rallied in Almaty again.", "2022-01-07")[0]
    assert happening_id(a) == happening_id(b)
    assert "Almaty" in summary(a) and "2022-01-05" in summary(a)
