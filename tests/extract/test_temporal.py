"""The date engine's patterns and resolution rules (language data from data/lang/en)."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kzdash.extract.published import infer_published, reference_day
from kzdash.extract.temporal import PartialDate, era_days, find_dates
from kzdash.text.langdata import languages, load


def _found(text: str, published: str | None, code: str = "en") -> list[tuple[str, str, str]]:
    return [(m.surface, m.date, m.precision) for m in find_dates(text, code, published)]


@pytest.mark.parametrize("text,published,expected", [
    ("It happened yesterday.", "2022-01-12", [("yesterday", "2022-01-11", "day")]),
    # no day to count back from: a report dated by its month puts yesterday in that month
    ("It happened yesterday.", "2022-01", [("yesterday", "2022-01-01", "month")]),
    ("It happened yesterday.", None, []),
    ("Talks on the 5th of this month.", "2022-01-12", [("5th of this month", "2022-01-05", "day")]),
    ("Signed on 17 June.", "2022-06-20", [("17 June", "2022-06-17", "day")]),
    ("Signed on 17 June.", None, []),  # no year in sight
    ("Signed on June 17, 2021.", None, [("June 17, 2021", "2021-06-17", "day")]),
    ("In December they met.", "2022-01-05", [("December", "2021-12-01", "month")]),  # the recent past
    ("In March they met.", "2022-06-05", [("March", "2022-03-01", "month")]),
    ("They may meet.", "2022-06-05", []),  # "may" alone is a verb
    ("It began on Friday.", "2022-01-12", [("Friday", "2022-01-07", "day")]),  # 12 Jan 2022 = Wednesday
    ("It began on Wednesday.", "2022-01-12", [("Wednesday", "2022-01-12", "day")]),
    ("It began last Wednesday.", "2022-01-12", [("Wednesday", "2022-01-05", "day")]),
    ("It begins next Monday.", "2022-01-12", [("Monday", "2022-01-17", "day")]),
    ("On Tuesday, 1 March 2022, he spoke.", "2022-03-02", [("1 March 2022", "2022-03-01", "day")]),
    ("Founded in 2014.", None, [("2014", "2014-01-01", "year")]),
    ("Last month prices rose.", "2023-04", [("Last month", "2023-03-01", "month")]),
    ("Last year prices rose.", "2023-01-10", [("Last year", "2022-01-01", "year")]),
    ("Posted 18.06.2022 at noon.", None, [("18.06.2022", "2022-06-18", "day")]),
    ("Posted 2022-06-19.", None, [("2022-06-19", "2022-06-19", "day")]),
    ("Posted 31.02.2022.", None, []),  # no such day
    ("In March last year prices rose.", "2023-01-10", [("March last year", "2022-03-01", "month")]),
    ("On 5 March last year prices rose.", "2023-01-10", [("5 March last year", "2022-03-05", "day")]),
    ("Last month 12 people were detained.", "2022-11-20", [("Last month", "2022-10-01", "month")]),
])
def test_find_dates(text: str, published: str | None, expected: list) -> None:
    assert _found(text, published) == expected


def test_offsets_point_at_the_surface() -> None:
    text = "Prices rose on 5 March 2022 in Almaty."
    (m,) = find_dates(text, "en", None)
    assert text[m.start:m.end] == m.surface == "5 March 2022"
    assert m.rule == "day-month-year" and not m.relative


def test_unknown_language_still_finds_absolute_dates() -> None:
    assert _found("Kokkulepe allkirjastati 05.03.2022 ja 2014.", None, "xx") == [
        ("05.03.2022", "2022-03-05", "day"), ("2014", "2014-01-01", "year")]


@pytest.mark.parametrize("value,expected", [
    ("2022-03-02", (2022, 3, 2, "day")), ("2022-03", (2022, 3, None, "month")),
    ("2022", (2022, None, None, "year")), ("2022-02-30", (2022, 2, None, "month")),
])
def test_partial_dates(value: str, expected: tuple) -> None:
    p = PartialDate.parse(value)
    assert (p.year, p.month, p.day, p.precision) == expected


@pytest.mark.parametrize("value", [None, "", "soon", "22-03-2022"])
def test_partial_date_rejects(value) -> None:
    assert PartialDate.parse(value) is None


@pytest.mark.parametrize("code,text,published,expected", [
    # a story told from a dated start: the bare day and month continue its year
    ("en", "On 2 January 2022 protests began. On 5 January the city hall burned.", "2023-01-05",
     ["2022-01-02", "2022-01-05"]),
    ("ru", "2 января 2022 года начались протесты. 5 января горела мэрия, а 19 января миротворцы ушли.",
     "2023-01-05", ["2022-01-02", "2022-01-05", "2022-01-19"]),
    ("kk", "2022 жылғы 2 қаңтарда наразылық басталды. 6 қаңтарда ұйым шешім қабылдады.", "2023-01-05",
     ["2022-01-02", "2022-01-06"]),
    ("de", "Am 2. Januar 2022 begannen Proteste. Am 6. Januar kamen Truppen.", "2023-01-05",
     ["2022-01-02", "2022-01-06"]),
    ("fr", "Le 2 janvier 2022, les manifestations ont commencé. Le 6 janvier, des troupes sont arrivées.",
     "2023-01-05", ["2022-01-02", "2022-01-06"]),
    ("sq", "Më 2 janar 2022 nisën protestat. Më 6 janar mbërritën trupat.", "2023-01-05",
     ["2022-01-02", "2022-01-06"]),
    ("ar", "في 2 يناير 2022 بدأت الاحتجاجات. وفي 6 يناير وصلت القوات.", "2023-01-05",
     ["2022-01-02", "2022-01-06"]),
    # a narrative does not run backwards: an earlier day and month is the publication's year
    ("en", "In March 2014 Russia annexed Crimea. On 5 January protests began.", "2022-01-10",
     ["2014-03-01", "2022-01-05"]),
    # nor beyond two months: a later day and month is read from the publication date
    ("en", "On 2 January 2022 protests began. On 20 September talks resumed.", "2022-10-01",
     ["2022-01-02", "2022-09-20"]),
    # a bare year is not a story's start
    ("en", "In 2021 talks stalled. On 5 January protests began.", "2022-01-10", ["2021-01-01", "2022-01-05"]),
])
def test_a_day_and_month_continue_the_story_they_follow(code: str, text: str, published: str,
                                                        expected: list[str]) -> None:
    assert [m.date for m in find_dates(text, code, published)] == expected


def test_a_distant_start_does_not_carry() -> None:
    filler = " The officials met again and discussed many things at length." * 8
    text = "On 2 January 2022 protests began." + filler + " On 5 January the city hall burned."
    assert [m.date for m in find_dates(text, "en", "2023-01-05")] == ["2022-01-02", "2023-01-05"]


@pytest.mark.parametrize("code", languages())
def test_every_era_a_language_names_has_a_first_day(code: str) -> None:
    """`eras` of data/lang/<code>/dates.yaml: ids of data/coverage.yaml, each with names and words."""
    for era_id, spec in (load(code, "dates.yaml").get("eras") or {}).items():
        assert era_id in era_days(), f"{code}: era {era_id} has no first day in data/coverage.yaml"
        assert set(spec) == {"names", "with"} and spec["names"] and spec["with"], f"{code} {era_id}: {spec}"


@given(st.integers(min_value=2, max_value=900))
def test_an_era_count_dates_its_day_and_its_first(n: int) -> None:
    """"the n-th day of the war": day n counts the first day as day 1, whatever the publication date."""
    found = {m.rule.split(":")[0]: m.date for m in
             find_dates(f"On the {n}th day of the Russian invasion, Ukraine held the line.", "en", "2026-01-10")}
    first = era_days()["russia_ukraine_war"]
    assert found == {"era-day": (first + timedelta(days=n - 1)).isoformat(), "era-start": first.isoformat()}


@pytest.mark.parametrize("text,basis,day", [
    ("Grain exports grow\n\nASTANA, March 14 - The ministry said on Tuesday that exports grew.", "dateline+weekday",
     "2023-03-14"),
    ("Troops stay home\n\nKazakhstan said today, Friday, as the Russian invasion of Ukraine entered its 100th day,"
     " that it sends no troops.", "era+weekday", "2022-06-03"),
])
def test_a_reference_day_is_found_and_named(text: str, basis: str, day: str) -> None:
    """With no printed date, the day the text fixes, and why; never a publication date."""
    ref = reference_day(text, "en", find_dates(text, "en", None))
    assert ref is not None and (ref.value, ref.basis) == (day, basis)
    assert infer_published(text, "en", None, None, {}).value is None


@pytest.mark.parametrize("text", [
    "Grain exports grow\n\nASTANA, March 14 - The ministry said on Wednesday that exports grew.",  # no year fits
    "Grain exports grow\n\nASTANA, March 14 - The ministry said exports grew.",  # no weekday
    "Troops stay home\n\nKazakhstan said on Thursday, as the Russian invasion of Ukraine entered its 100th day,"
    " that it sends no troops.",  # the weekday disagrees with the count
    "Troops stay home\n\nOn the 100th day of the Russian invasion, Kazakhstan sent aid.",  # nothing says it is today
])
def test_no_reference_day_without_agreement(text: str) -> None:
    assert reference_day(text, "en", find_dates(text, "en", None)) is None
