"""Publication dates: metadata, header, byline, URL, dateline; never a guess."""

from pathlib import Path

import pytest
import yaml

from kzdash.extract.article import process_article
from kzdash.extract.gazetteer import load_gazetteer
from kzdash.extract.published import from_url, infer_published, url_stamp
from kzdash.extract.records import RawArticle


@pytest.mark.parametrize("url,expected", [
    ("https://example.com/world/2022/06/18/story", "2022-06-18"),
    ("https://example.com/news/20230928-kazakhstan-oil", "2023-09-28"),
    ("https://example.com/2022/11/kazakhstan-continues", "2022-11"),
    ("https://example.com/politics/kazakhstan-story-48213", None),
    ("https://example.com/2022/13/x", None),
    (None, None),
    # day first in the path, as some outlets write it; a day-month-year slug
    ("https://example.ru/politics/14/03/2023/640f1a2b3c", "2023-03-14"),
    ("https://example.ru/politics/04/10/2022/640f1a2b3c", "2022-10-04"),
    ("https://example.ua/ukr/world/some-story-15032023-381245", "2023-03-15"),
    ("https://example.ua/ukr/world/some-story-31022023-381245", None),  # no 31 February
    # an article number is no date
    ("https://example.com/amp/58312907.html", None),
])
def test_from_url(url, expected) -> None:
    got = from_url(url)
    assert (got.iso() if got else None) == expected


@pytest.mark.parametrize("url,expected", [
    ("https://example.fr/actu/story_AN-202303140512.html", "2023-03-14"),
    ("https://example.fr/actu/story_AN-202313140512.html", None),  # no 13th month
    ("https://example.com/news/2483911.html", None),
])
def test_url_stamp(url, expected) -> None:
    """A timestamp-like id: read, but used only when a header month or a dateline confirms it."""
    got = url_stamp(url)
    assert (got.iso() if got else None) == expected


@pytest.mark.parametrize("text,code,meta,url,header,expected,basis", [
    ("Body.", "en", "2022-03-02", None, {}, "2022-03-02", "metadata"),
    ("Body.", "en", None, None, {"date": "2022-03"}, "2022-03", "header"),
    ("Kazakhstan news\nPublished September 29, 2022 at 4:12 p.m.\nBody text follows here.", "en",
     None, None, {}, "2022-09-29", "byline"),
    ("Заголовок\n26.02.2022 13:40\nТекст статьи.", "ru", None, None, {}, "2022-02-26", "byline"),
    ("Headline\nALMATY, Jan 6 (Wire) - Troops arrived.", "en", None,
     "https://example.com/2022/01/06/troops", {}, "2022-01-06", "url"),
    ("Headline\nALMATY, Jan 6 (Wire) - Troops arrived.", "en", None,
     "https://example.com/2022/01/troops", {}, "2022-01-06", "dateline+url"),
    # a weekday and a date opening a sentence is no dateline
    ("Headline\nOn Tuesday (1 March), the president spoke.", "en", None, None, {"date": "2022-03"},
     "2022-03", "header"),
    # a dated photo caption credits an agency
    ("Headline\nThe two presidents attend a session of a forum in a city of the country - 17 June 2022 - REUTERS"
     "\nBody.", "en", None, None, {}, "2022-06-17", "byline"),
    # a day and a month with no year in sight stays null
    ("Headline\nASTANA, June 15 - Officials said.", "en", None, "https://example.com/x", {}, None, "none"),
    # an event date deep in a long first paragraph is no byline
    ("Talks " + "went on and on " * 12 + "until 2 January 2022 when they ended.", "en", None, None, {}, None, "none"),
])
def test_infer_published(text, code, meta, url, header, expected, basis) -> None:
    got = infer_published(text, code, meta, url, header)
    assert (got.value, got.basis) == (expected, basis)


def test_byline_must_agree_with_the_url() -> None:
    text = "Headline\nPhoto: 17 June 2021 archive\nBody."
    got = infer_published(text, "en", None, "https://example.com/2022/06/story", {})
    assert got.value == "2022-06"  # the caption's 2021 date disagrees with the URL: not used


CASES = Path(__file__).parent / "cases"


def _published_cases() -> list:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for i, case in enumerate(data.get("published") or []):
            out.append(pytest.param(path.stem, case, id=f"{path.stem}-published-{i}"))
    return out


def _event_dates(events: list[dict]) -> set[str]:
    """The event dates an article states (stand-ins for the publication date left out, as the scorer does)."""
    n = {"day": 10, "month": 7, "year": 4}
    return {f"{str(e['date'])[:n[e['date_precision']]]}/{e['date_precision']}"
            for e in events if e["date"] and e["date_rule"] != "published"}


@pytest.mark.parametrize("code,case", _published_cases())
def test_published_through_the_pipeline(code: str, case: dict) -> None:
    """Each language's `published:` cases (tests/extract/cases/<code>.yaml), our own pages: the
    publication date and the rule that found it, and the event dates it lets the article state."""
    raw = RawArticle(source="case.txt", raw_text=case["text"], url=case.get("url"), language=code)
    result = process_article(raw, [], load_gazetteer())
    got = (result.article["published"], result.article["published_basis"])
    expect = None if case["expect"] is None else str(case["expect"])
    assert got == (expect, case["basis"])
    dates = _event_dates(result.events)
    missing = [d for d in case.get("dates", []) if d not in dates]
    wrong = [d for d in case.get("absent_dates", []) if d in dates]
    assert not missing and not wrong, f"event dates {sorted(dates)}; missing {missing}; should be absent {wrong}"


def test_every_published_rule_has_a_case() -> None:
    """Every basis the module names is exercised by a case of some language."""
    bases = {str(case.values[1]["basis"]) for case in _published_cases()}
    assert {"byline", "byline@en", "byline@ru", "today", "caption+weekday", "dateline+weekday", "url", "url+header",
            "url+dateline", "none"} <= bases
