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


def _found(text: str, code: str, gaz) -> set[str]:
    return {m.name for m in find_places(text, code, gaz)}


def test_small_town_of_the_region_is_found(gaz) -> None:
    # towns below the 15 000 cut: Kazakhstan from 1 000 people, Russia from 5 000
    assert "Shetpe" in _found("Kazakhstan reported that Shetpe was flooded.", "en", gaz)
    assert "Sudzha" in _found("Украинские военные вошли в Суджу, сообщили в России.", "ru", gaz)


def test_small_town_needs_more_than_a_capital(gaz) -> None:
    # no country named, at a sentence start, between quotes, written in lower case elsewhere,
    # next to a capitalised word (a person's name): no town
    assert "Shetpe" not in _found("Floods hit Shetpe on Monday.", "en", gaz)
    assert "Shetpe" not in _found("Shetpe was flooded, Kazakhstan reported.", "en", gaz)
    assert "Shetpe" not in _found("In Kazakhstan, the «Shetpe» brand grew.", "en", gaz)
    assert "Temir" not in _found("Қазақстанда жаңа Темір жол салынды, темір бағасы өсті.", "kk", gaz)
    assert "Kurchatov" not in _found("In Kazakhstan, Igor Kurchatov is remembered.", "en", gaz)


def test_small_town_never_stands_in_for_a_bigger_namesake(gaz) -> None:
    # a village called Lugansk in Kazakhstan; the article names Kazakhstan, not Ukraine
    assert "Lugansk" not in _found("Kazakhstan will not recognise Lugansk.", "en", gaz)
    # a village called Kazakhstan is not a key beside the country
    assert [gaz.places[e.place_id].kind for e in gaz.lookup("kazakhstan")] == ["country"]


def test_phrase_of_several_words_blocks_the_place_inside(gaz) -> None:
    assert "Shanghai" not in _found("Kazakhstan chairs the Shanghai Cooperation Organisation.", "en", gaz)
    assert "Shanghai" in _found("Kazakh traders flew to Shanghai in China.", "en", gaz)


def test_near_name_needs_a_place_near_the_site_in_its_sentence(gaz) -> None:
    same = find_places("The Caspian Pipeline Consortium said its berth at Novorossiysk was hit.", "en", gaz)
    (site,) = [m for m in same if m.kind == "site"]
    assert site.name == "CPC Marine Terminal" and site.rule.startswith("near:") and "+near:" in site.rule
    apart = "The Caspian Pipeline Consortium met investors. Novorossiysk was calm."
    assert "CPC Marine Terminal" not in _found(apart, "en", gaz)


def test_weekday_and_month_names_are_not_towns(gaz) -> None:
    # Salı (Tuesday) is also Shali in Chechnya; Russia is named, so only the weekday rule stops it
    assert "Shali" not in _found("Rusya ve Kazakistan Salı günü görüştü.", "tr", gaz)


def test_curated_row_beats_a_geonames_namesake(gaz) -> None:
    # Maison-Blanche is a quarter of Paris in GeoNames; France is named
    assert "White House" in _found("La Maison Blanche a répondu à la France.", "fr", gaz)


def test_region_in_genitive_is_the_region_not_its_capital(gaz) -> None:
    found = _found("Конвой направится в Киевскую область, а затем в Херсонской области.", "ru", gaz)
    assert {"Kyiv Oblast", "Kherson Oblast"} <= found and not {"Kyiv", "Kherson"} & found


def test_region_named_before_picks_among_namesakes(gaz) -> None:
    (m,) = [m for m in find_places("В Ростовской области: в городе Донецк открыли пункты.", "ru", gaz)
            if m.kind == "city"]
    assert m.country == "RUS"


def test_republics_are_placed_at_their_seats(gaz) -> None:
    found = _found("Москва признала Донецкую и Луганскую народные республики.", "ru", gaz)
    assert {"Donetsk", "Luhansk"} <= found and not {"Donetsk Oblast", "Luhansk Oblast"} & found


def test_places_keep_their_rule(gaz) -> None:
    for m in find_places("Air raid alerts sounded across the Kyiv and Odesa regions.", "en", gaz):
        assert m.rule and (m.kind != "region" or "+list:regions" in m.rule)


def test_town_followed_by_its_region_is_no_persons_name(gaz) -> None:
    # "Донецк Ростовской": a capitalised word after the town, but a place itself
    found = find_places("Лагерь для беженцев открыли в городе Донецк Ростовской области.", "ru", gaz)
    assert [(m.name, m.country) for m in found if m.kind == "city"] == [("Donetsk", "RUS")]


def test_month_name_with_an_ending_is_the_city(gaz) -> None:
    # Kazakh қазан is October (lower case in a date) and Қазан is Kazan: "Қазан-да" is "in Kazan"
    found = find_places("Тоқаев 22 қазанда Қазанда өткен саммитке қатысты.", "kk", gaz)
    assert [m.name for m in found if m.kind == "city"] == ["Kazan"]


def test_the_articles_country_only_breaks_ties_between_named_countries(gaz) -> None:
    # the United States is named, Russia is not: Moscow is still Moscow, not Moscow, Idaho
    (m,) = [m for m in find_places("The U.S. and Britain imposed new sanctions on Moscow.", "en", gaz)
            if m.kind == "city"]
    assert m.country == "RUS"
