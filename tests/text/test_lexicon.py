"""The phrase matcher: word boundaries, proclitics and endings, acronyms, longest hit wins."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kzdash.text.lexicon import MatcherGroup, PhraseHit, PhraseMatcher, _longest_hits, longest_first
from kzdash.text.textnorm import fold

MATCHER = PhraseMatcher({
    "Kazakhstan": "KAZ", "Казахстан": "KAZ", "كازاخستان": "KAZ", "Kazakistan": "KAZ",
    "ОДКБ": "CSTO", "EAEU": "EAEU", "СВО": "war", "Russia": "RUS", "Russian Federation": "RUS-long",
    "заявил": "said", "قال": "said",
})


@pytest.mark.parametrize(("code", "text", "expected"), [
    ("en", "Kazakhstan said", ["KAZ"]),
    ("en", "Kazakhstani officials", []),  # a longer word is not the name
    ("en", "the Russian Federation and Russia", ["RUS-long", "RUS"]),  # the longer phrase wins
    ("ru", "Казахстана и ОДКБ", ["KAZ", "CSTO"]),  # a Russian case ending
    ("ru", "Казахстанский", []),  # not an ending of the language: another word
    ("ru", "про свою позицию", []),  # «СВО» is an acronym: no ending turns «свою» into it
    ("ru", "после СВО", ["war"]),
    ("ru", "Токаев заявила", ["said"]),
    ("ar", "وقال الرئيس", ["said"]),  # the conjunction proclitic
    ("ar", "وكازاخستان", ["KAZ"]),
    ("ar", "مقال", []),  # "قال" inside a longer word
    ("sq", "Kazakistani dhe Kazakistanit", ["KAZ", "KAZ"]),
    ("tr", "EAEU'ya katıldı", ["EAEU"]),  # an apostrophe ending after an acronym
    ("tr", "EAEUya", []),
    ("xx", "Kazakhstan", ["KAZ"]),  # an unknown language: exact forms only
    ("xx", "Kazakhstans", []),
])
def test_find(code: str, text: str, expected: list[str]) -> None:
    folded = fold(text)
    assert [h.value for h in MATCHER.find(folded, code)] == expected


def test_find_within_a_range_only() -> None:
    folded = fold("Russia said. Kazakhstan said.")
    lo = folded.text.index("kazakhstan")
    assert [h.value for h in MATCHER.find(folded, "en", lo)] == ["KAZ"]
    assert [h.value for h in MATCHER.find(folded, "en", 0, lo)] == ["RUS"]


def test_empty_lexicon_finds_nothing() -> None:
    assert PhraseMatcher({}).find(fold("anything"), "en") == []


def _naive(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The quadratic reference: longest first, skip anything overlapping what was taken."""
    taken: list[tuple[int, int]] = []
    for s, e in sorted(spans, key=lambda x: (-(x[1] - x[0]), x[0])):
        if all(e <= ts or s >= te for ts, te in taken):
            taken.append((s, e))
    return sorted(taken)


@given(st.lists(st.tuples(st.integers(0, 60), st.integers(1, 12)).map(lambda t: (t[0], t[0] + t[1])),
                max_size=40))
def test_longest_first_equals_the_pairwise_check(spans: list[tuple[int, int]]) -> None:
    got = longest_first(spans, lambda x: x, lambda x: (-(x[1] - x[0]), x[0]))
    assert got == _naive(spans)
    assert all(a[1] <= b[0] for a, b in zip(got, got[1:], strict=False))  # text order, no overlap


# A second lexicon sharing keys with MATCHER: "Russia" with another value, "сво" written in lower case
# (no acronym here, so it may take an ending), and a key of its own.
OTHER = {"Russia": "other-RUS", "сво": "own", "Astana": "AST", "заявил": "other-said"}
TEXTS = [
    ("en", "Kazakhstan said Russia and Astana agreed; the Russian Federation did not. Kazakhstani officials"),
    ("ru", "Казахстана и ОДКБ: про свою позицию после СВО Токаев заявила. Казахстанский"),
    ("ar", "وقال الرئيس وكازاخستان مقال"),
    ("tr", "EAEU'ya katıldı, EAEUya değil"),
    ("sq", "Kazakistani dhe Kazakistanit"),
    ("xx", "Kazakhstan Kazakhstans Russia"),
]


def _values(hits) -> list[tuple[int, int, object]]:
    return [(h.fs, h.fe, h.value) for h in hits]


@pytest.mark.parametrize(("code", "text"), TEXTS)
def test_group_finds_what_each_lexicon_finds_alone(code: str, text: str) -> None:
    alone = [MATCHER, PhraseMatcher(OTHER)]
    folded = fold(text)
    middle = len(folded.text) // 2
    ranges = [(0, middle), (middle + 1, None)]
    grouped = MatcherGroup(alone).find(folded, code, ranges)
    for m, got in zip(alone, grouped, strict=True):
        expected = m.find(folded, code, 0, middle) + m.find(folded, code, middle + 1)
        assert _values(got) == _values(expected)


@pytest.mark.parametrize(("code", "text"), TEXTS)
def test_one_pass_gives_each_lexicon_its_own_hits_once_per_text(code: str, text: str) -> None:
    fresh = [PhraseMatcher({"Kazakhstan": "KAZ", "ОДКБ": "CSTO", "СВО": "war", "قال": "said"}), PhraseMatcher(OTHER)]
    folded = fold(text)
    alone = [_values(m.find(folded, code)) for m in fresh]
    group = MatcherGroup.one_pass(fresh)
    again = fold(text)
    assert [_values(m.find(again, code)) for m in fresh] == alone
    assert list(again.memo) == [(group, code)]  # one pass served both lexicons
    assert _values(fresh[0].find(again, code, 0, 5)) == _values(fresh[0].find(folded, code, 0, 5))  # a range: alone


@pytest.mark.parametrize(("code", "text"), TEXTS)
def test_a_lexicon_alone_finds_what_its_one_pass_gives_it(code: str, text: str) -> None:
    """`find_alone` (a header line, a window: a text no other lexicon reads) passes by itself, with the
    hits the group's pass would give that lexicon."""
    fresh = [PhraseMatcher({"Kazakhstan": "KAZ", "ОДКБ": "CSTO", "СВО": "war", "قال": "said"}), PhraseMatcher(OTHER)]
    MatcherGroup.one_pass(fresh)
    alone = fold(text)
    got = [_values(m.find_alone(alone, code)) for m in fresh]
    assert not alone.memo  # no group pass over it
    shared = fold(text)
    assert got == [_values(m.find(shared, code)) for m in fresh]
    assert shared.memo


@given(st.lists(st.tuples(st.integers(0, 60), st.integers(1, 12), st.sampled_from(["ab", "abc", "b", "xyzw"])),
                max_size=12))
def test_phrase_hits_in_order_take_the_short_cut_to_the_same_answer(raw: list[tuple[int, int, str]]) -> None:
    hits = [PhraseHit(s, s + n, key, key) for s, n, key in raw]
    expected = longest_first(hits, lambda h: (h.fs, h.fe), lambda h: (-len(h.key), h.fs))
    assert _longest_hits(list(hits)) == expected
    ordered = sorted(expected)  # disjoint and in text order: the short cut's own case
    assert _longest_hits(list(ordered)) == longest_first(ordered, lambda h: (h.fs, h.fe), lambda h: (-len(h.key), h.fs))


@pytest.mark.parametrize(("code", "text"), TEXTS)
def test_a_group_riding_in_a_one_pass_finds_its_range_hits_as_if_alone(code: str, text: str) -> None:
    """Lexicons asked in ranges only (`ranged`) take their hits from the one pass over the whole text:
    those of keys inside each range, as a pass over the range would give them; nothing of theirs is
    collected for the whole text."""
    def lexicons() -> list[PhraseMatcher]:
        return [PhraseMatcher({"Kazakhstan": "KAZ", "ОДКБ": "CSTO", "СВО": "war", "قال": "said"}),
                PhraseMatcher(OTHER)]

    alone, riding = lexicons(), lexicons()
    whole = MatcherGroup.one_pass([PhraseMatcher({"Astana": "AST", "EAEU": "EAEU"})], ranged=riding)
    folded = fold(text)
    middle = len(folded.text) // 2
    for ranges in ([(0, None)], [(0, middle), (middle + 1, None)], [(middle, middle + 3)], []):
        assert [_values(x) for x in MatcherGroup(riding).find(folded, code, ranges)] == \
               [_values(x) for x in MatcherGroup(alone).find(folded, code, ranges)]
    assert list(folded.memo) == [(whole, code)]  # the one pass served every range
    assert whole.find_once(folded, code)[1:] == [[], []]  # the riding lexicons' whole-text hits: not collected
