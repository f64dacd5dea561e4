"""The gazetteer and the geoparser on sentences of our own."""

from __future__ import annotations

import pytest

from kzdash.extract.gazetteer import load_gazetteer
from kzdash.extract.geoparse import find_places


@pytest.fixture(scope="module")
def gaz():
    return load_gazetteer()


def _names(text: str, code: str, gaz) -> list[tuple[str, str]]:
    return [(m.name, m.kind) for m in find_places(text, code, gaz)]


def test_country_from_natural_earth_in_many_scripts(gaz) -> None:
    for text, code in [("Kazakhstan said.", "en"), ("Казахстан заявил.", "ru"), ("قالت كازاخستان.", "ar")]:
        assert [m.country for m in find_places(text, code, gaz) if m.kind == "country"] == ["KAZ"]


def test_namesakes_follow_the_article(gaz) -> None:
    us = find_places("Moscow, Idaho, is a college town in the United States.", "en", gaz)
    assert any(m.name == "Moscow" and m.country == "USA" for m in us)
    ru = find_places("Moscow and Kazakhstan signed a treaty.", "en", gaz)
    assert any(m.name == "Moscow" and m.country == "RUS" for m in ru)


def test_lower_case_words_are_not_places(gaz) -> None:
    assert not [m for m in find_places("we will nice them and police it", "en", gaz) if m.kind == "city"]


def test_small_unsupported_town_is_dropped(gaz) -> None:
    # Hope, Arkansas, is a GeoNames town; nothing in the sentence points to the United States
    assert not [m for m in find_places("Hope remains for talks in Almaty.", "en", gaz) if m.name == "Hope"]


def test_offsets_and_surface(gaz) -> None:
    text = "Delegates flew to Almaty."
    (m,) = [m for m in find_places(text, "en", gaz) if m.name == "Almaty"]
    assert text[m.start:m.end] == m.surface == "Almaty"
    assert m.kind == "city" and m.country == "KAZ" and abs(m.lat - 43.25) < 0.5


def test_longest_match_wins(gaz) -> None:
    names = [n for n, _ in _names("The United States and the United Kingdom.", "en", gaz)]
    assert "United States of America" in names or "United States" in names
    assert "United Kingdom" in names
