"""Folding keeps a faithful map back to the original text."""

import bisect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kzdash.text.textnorm import _NUMPY_FROM, _TABLE, _translate, char_classes, fold, fold_key, fold_text


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


@given(st.text(min_size=_NUMPY_FROM, max_size=2 * _NUMPY_FROM))
def test_long_texts_translate_like_the_dict(text: str) -> None:
    """An article's length takes the numpy path: the same folding, dropped characters and all."""
    low = text.lower()
    assert _translate(low) == low.translate(_TABLE)


@given(st.text(min_size=_NUMPY_FROM, max_size=2 * _NUMPY_FROM))
def test_a_long_text_folds_and_maps_back_like_a_short_one(text: str) -> None:
    """An article's length is folded by code point: the same folded text and offsets as the table says."""
    low = text.lower()
    if len(low) != len(text):
        return  # the character-by-character path, the same for any length
    folded = fold(text)
    assert folded.text == low.translate(_TABLE)
    assert list(folded.offsets) == [i for i, ch in enumerate(low) if _TABLE.get(ord(ch), ch) is not None]


@pytest.mark.parametrize("piece", ["Kazakhstan’s «peace» — talks ", "مُوسْكُو كـازاخستان ٢٠٢٢ ", "Сёмей\u00adқала ",
                                   "x\ud800y\ufeff東京 🇰🇿 ", "\u0301\u064b\u200d"])
def test_long_texts_of_many_scripts_translate_like_the_dict(piece: str) -> None:
    low = (piece * (_NUMPY_FROM // len(piece) + 2)).lower()
    assert len(low) >= _NUMPY_FROM
    assert _translate(low) == low.translate(_TABLE)
    assert fold(low).text == low.translate(_TABLE)


_WORDS = ["Kazakhstan's", "Казахстан-ы", "وكازاخستان، 12", "Kazakistan'ın", "Ankara'da 5.", "Қазақстан",
          "東京 and 🇰🇿", "x\ud800y", "", "'", "a'", "\u0640ـ\u064b"]


@pytest.mark.parametrize("text", _WORDS)
def test_char_classes_are_isalnum_and_apostrophes(text: str) -> None:
    want = bytes(2 if ch == "'" else 1 if ch.isalnum() else 0 for ch in text) + b"\0\0"
    assert char_classes(text) == want
    assert fold(text).classes == char_classes(fold(text).text)


@given(st.text(max_size=60))
def test_char_classes_of_any_text(text: str) -> None:
    assert char_classes(text) == bytes(2 if ch == "'" else 1 if ch.isalnum() else 0 for ch in text) + b"\0\0"


@given(st.text(max_size=60))
def test_fold_text_is_the_folded_text(text: str) -> None:
    assert fold_text(text) == fold(text).text


@given(st.text(max_size=40), st.integers(-3, 50))
def test_index_inverts_the_offsets(text: str, original: int) -> None:
    folded = fold(text)
    assert folded.index(original) == bisect.bisect_left(list(folded.offsets), original)

