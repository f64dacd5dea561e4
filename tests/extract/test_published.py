"""Publication dates: metadata, header, byline, URL, dateline; never a guess."""

import pytest

from kzdash.extract.published import from_url, infer_published


@pytest.mark.parametrize("url,expected", [
    ("https://example.com/world/2022/06/18/story", "2022-06-18"),
    ("https://example.com/news/20230928-kazakhstan-oil", "2023-09-28"),
    ("https://example.com/2022/11/kazakhstan-continues", "2022-11"),
    ("https://example.com/politics/kazakhstan-story-48213", None),
    ("https://example.com/2022/13/x", None),
    (None, None),
])
def test_from_url(url, expected) -> None:
    got = from_url(url)
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
