"""kzdash.extract.normalize: whitespace, header lines, repeated headline and boilerplate stripping."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kzdash.extract.normalize import is_boilerplate, load_boilerplate, normalize
from kzdash.extract.records import RawArticle
from kzdash.text.textnorm import fold_key

LANG_DIR = Path(__file__).resolve().parents[2] / "data" / "lang"
CODES = ["ar", "sq", "en", "ru", "uk", "kk", "tr", "de", "fr", "et"]
PHRASES = load_boilerplate(LANG_DIR)
FOLDED = sorted({fold_key(p) for p in PHRASES}, key=len, reverse=True)


def norm(text: str, **fields: str | None):
    return normalize(RawArticle(source="t.txt", raw_text=text, **fields), PHRASES)


@pytest.mark.parametrize(
    ("raw", "header", "starts"),
    [
        ("date 2022-03 Astana said no to the request.", {"date": "2022-03"}, "Astana said"),
        (" date 2022-03-05 Astana said no.\n\nMore.", {"date": "2022-03-05"}, "Astana said"),
        ("date 2021\n\nThe talks ended.", {"date": "2021"}, "The talks"),
        ("date: 2022-03-02\nurl: https://x.kz/a\n\nBody.",
         {"date": "2022-03-02", "url": "https://x.kz/a"}, "Body."),
        ("Published: 4 March 2022\nSource: Kazinform\nBody.",
         {"published": "4 March 2022", "source": "Kazinform"}, "Body."),
        ("lang kk\ntitle Steppe news\nBody text.",
         {"language": "kk", "title": "Steppe news"}, "Body text."),
        ("Source close to the ministry said the talks failed.", {}, "Source close"),
        ("Date 2022 was a hard year for the tenge.", {}, "Date 2022"),
        ("date of the meeting was not announced", {}, "date of the"),
        ("url not given in the press release", {}, "url not given"),
        ("Astana\ndate 2022-03", {}, "Astana\ndate 2022-03"),  # only at the top
    ],
)
def test_header(raw: str, header: dict[str, str], starts: str) -> None:
    art = norm(raw)
    assert art.header == header
    assert art.text.startswith(starts)


def test_header_fills_only_missing_fields() -> None:
    art = norm("date 2022-03\nlang kk\nurl https://x.kz/a\n\nBody.")
    assert (art.published, art.language, art.url) == ("2022-03", "kk", "https://x.kz/a")
    assert "2022-03" in art.published_basis
    art = norm("date 2022-03 Body.", published="2022-03-02", published_basis="dateline")
    assert (art.published, art.published_basis) == ("2022-03-02", "dateline")
    assert art.header == {"date": "2022-03"}


def test_whitespace_and_unicode() -> None:
    art = norm("Cafe\u0301 in Almaty   \r\nopened today.  \r\n\r\n\r\n\r\n\r\nSecond paragraph.\n\n")
    assert art.text == "Café in Almaty\nopened today.\n\nSecond paragraph."


def test_repeated_headline_dropped() -> None:
    art = norm("Astana hosts the summit\n\nAstana hosts the summit\n\nLeaders arrived on Monday.")
    assert art.text == "Astana hosts the summit\n\nLeaders arrived on Monday."
    assert art.title == "Astana hosts the summit"
    assert art.stripped == ["Astana hosts the summit"]


@pytest.mark.parametrize(
    ("text", "given", "title"),
    [
        ("Astana hosts the summit\n\nBody.", None, "Astana hosts the summit"),
        ("\n\n  Headline with spaces  \nBody.", None, "Headline with spaces"),
        ("Leaders arrived on Monday.\nBody.", None, None),  # a sentence, not a headline
        ("x" * 250 + "\nBody.", None, None),
        ("Some first line\nBody.", "Given title", "Given title"),
    ],
)
def test_title(text: str, given: str | None, title: str | None) -> None:
    assert norm(text, title=given).title == title


@pytest.mark.parametrize(
    ("line", "stripped"),
    [
        # numbers and counters
        ("0", True),
        ("118", True),
        ("1.2K views", True),
        ("4 500 просмотров", True),
        ("19/11/2022", False),
        # English
        ("Share this article", True),
        ("Share on Facebook", True),
        ("Read more: Astana and Beijing sign a deal", True),
        ("3 min read", True),
        ("Subscribe to our newsletter", True),
        ("ADVERTISEMENT", True),
        ("Shareholders approved the merger", False),
        ("Related talks resumed. The ministry gave no details", False),
        # Arabic
        ("اقرأ أيضاً:", True),
        ("اقرأ أيضا: قمة في أستانا", True),
        ("شارك على فيسبوك", True),
        ("تصنيفات", True),
        ("time reading iconدقائق القراءة - 5", True),
        ("دقائق القراءة - 5", True),
        ("شاركت كازاخستان في القمة الإقليمية", False),
        # Russian
        ("Читайте также: Астана и Пекин", True),
        ("Поделиться", True),
        ("Реклама", True),
        ("Рекламный рынок вырос на треть", False),
        ("Читайте также. Президент подписал закон о бюджете", False),
        # Albanian
        ("Lexo edhe: Tirana dhe Astana", True),
        ("Shpërndaje", True),
        ("Lexo edhe. Qeveria miratoi ligjin e ri", False),
        # others
        ("Читайте також", True),
        ("Бөлісу", True),
        ("Ayrıca okuyun", True),
        ("Lesen Sie auch: Berlin", True),
        ("Lire aussi", True),
        ("Loe ka", True),
    ],
)
def test_boilerplate_line(line: str, stripped: bool) -> None:
    art = norm(f"Headline of the day\n\n{line}\n\nThe body of the article goes on here.")
    assert (line in art.stripped) is stripped
    assert (line in art.text) is not stripped


def test_long_line_never_stripped() -> None:
    line = "Share " + "the ministry said the agreement covers grain and oil " * 2
    assert len(line) >= 80
    assert line.strip() in norm(f"Title\n\n{line}\n\nBody.").text


@given(st.text(min_size=80))
def test_long_lines_are_never_boilerplate(line: str) -> None:
    if len(line.strip()) >= 80:
        assert not is_boilerplate(line, FOLDED)


@given(st.sampled_from(PHRASES), st.text(alphabet="abcdefgh ", min_size=1, max_size=20))
def test_sentence_then_more_words_is_kept(phrase: str, tail: str) -> None:
    line = f"{phrase}. Then {tail}"
    if len(line) < 80:
        assert not is_boilerplate(line, FOLDED)


def test_stripped_records_every_removed_line() -> None:
    art = norm("Headline\n\n0\n118\nShare\n\nBody one.\n\nاقرأ أيضاً:\n\nتصنيفات")
    assert art.stripped == ["0", "118", "Share", "اقرأ أيضاً:", "تصنيفات"]
    assert art.text == "Headline\n\nBody one."


@pytest.mark.parametrize("code", CODES)
def test_language_files(code: str) -> None:
    data = yaml.safe_load((LANG_DIR / code / "language.yaml").read_text(encoding="utf-8"))
    assert {"name", "script", "proclitics", "suffixes", "stem_endings", "boilerplate"} <= set(data)
    assert data["script"] in {"latin", "cyrillic", "arabic"}
    folded = [fold_key(p) for p in data["boilerplate"]]
    assert folded and len(folded) == len(set(folded)), "no (folded) duplicates"


def test_load_boilerplate(tmp_path: Path) -> None:
    for code, body in {"aa": "boilerplate: [share, tweet]\n", "bb": "name: B\n",
                       "cc": "boilerplate: [tweet, loe ka]\n"}.items():
        (tmp_path / code).mkdir()
        (tmp_path / code / "language.yaml").write_text(body, encoding="utf-8")
    assert load_boilerplate(tmp_path) == ["share", "tweet", "loe ka"]
