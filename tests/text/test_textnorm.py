"""Folding keeps a faithful map back to the original text."""

from hypothesis import given
from hypothesis import strategies as st

from kzdash.text.textnorm import _TABLE, _translate, fold, fold_key


@given(st.text())
def test_offsets_point_into_the_original(text: str) -> None:
    f = fold(text)
    assert len(f.offsets) == len(f.text)
    assert list(f.offsets) == sorted(set(f.offsets))
    assert all(0 <= o < len(text) for o in f.offsets)


def test_arabic_variants_fold_together() -> None:
    assert fold_key("أوكرانيا") == fold_key("اوكرانيا")
    assert fold_key("منظمة") == fold_key("منظمه")
    assert fold_key("مُوسْكُو") == fold_key("موسكو")  # diacritics
    assert fold_key("كـازاخستان") == fold_key("كازاخستان")  # tatweel
    assert fold_key("٢٠٢٢") == "2022"


def test_span_maps_back_over_dropped_characters() -> None:
    text = "في مُوسْكُو أمس"
    f = fold(text)
    i = f.text.index("موسكو")
    s, e = f.span(i, i + len("موسكو"))
    assert text[s:e] == "مُوسْكُو"


def test_latin_and_cyrillic() -> None:
    assert fold_key("Kazakistan’s") == "kazakistan's"
    assert fold_key("Сёмей") == "семей"


@given(st.text())
def test_list_table_translates_like_the_dict(text: str) -> None:
    low = text.lower()
    assert _translate(low) == low.translate(_TABLE)
