"""Actor mentions: names from data, titles beside countries, countries, and surnames of people the
article has introduced by title and full name (our own sentences)."""

from __future__ import annotations

import pytest

from kzdash.extract.actors import find_actors
from kzdash.extract.gazetteer import load_gazetteer
from kzdash.extract.geoparse import find_places
from kzdash.text.textnorm import fold


def _actors(text: str, code: str) -> list[tuple[str, str, str]]:
    folded = fold(text)
    places = find_places(text, code, load_gazetteer(), folded)
    return [(a.surface, a.actor, a.rule.split(":")[0]) for a in find_actors(text, folded, code, places)]


@pytest.mark.parametrize("code,text,surname,actor", [
    ("en", "State Department spokesman Ned Price met reporters in Almaty. Later Price said the visit went well.",
     "Price", "USA"),
    ("fr", "Le président du Conseil européen Charles Michel est arrivé à Astana. Michel a ensuite salué l'accord.",
     "Michel", "EU"),
    ("ru", "Официальный представитель МИД Украины Георгий Тихий выступил в Киеве. Позже Тихий призвал к переговорам.",
     "Тихий", "UKR"),
    ("sq", "Zëdhënësi i Departamentit të Shtetit Ned Price foli për gazetarët. Më vonë Price tha se vizita shkoi mirë.",
     "Price", "USA"),
    ("et", "Välisministeeriumi pressiesindaja Ned Price kohtus ajakirjanikega. "
           "Hiljem ütles Price, et visiit läks hästi.",
     "Price", "USA"),
])
def test_a_person_introduced_in_full_is_then_named_by_surname(code: str, text: str, surname: str, actor: str) -> None:
    assert (surname, actor, "surname") in _actors(text, code)


@pytest.mark.parametrize("code,text", [
    # an institution, not a person: no title introduces it, and its last word is a common noun
    ("en", "The White House welcomed the decision. The House of Commons debated it later."),
    ("de", "Das Weiße Haus begrüßte den Schritt. Im Haus der Regierung wurde gefeiert."),
    # the surname before the full name, and the surname written small as a common word
    ("en", "Price rises worried officials. State Department spokesman Ned Price spoke on Monday."),
    ("en", "State Department spokesman Ned Price spoke on Monday. The price of grain rose."),
])
def test_no_surname_without_a_person_introduced_before_it(code: str, text: str) -> None:
    assert not [a for a in _actors(text, code) if a[2] == "surname"]
