"""Clean a `RawArticle` into an `Article`: Unicode, whitespace, header lines, boilerplate.

Scraped pages carry share prompts, view counters and "read also" links that would otherwise
be matched as places, dates or stances. Only short lines are ever removed, and each removed
line is kept in `Article.stripped` so a reader can see what went. No word of any language is
named here: the phrases come from `data/lang/*/language.yaml` (`load_boilerplate`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from kzdash.extract.records import Article, RawArticle
from kzdash.text.langdata import read_yaml
from kzdash.text.textnorm import fold_key

HEADER_KEYS = {"date", "published", "source", "outlet", "url", "title", "language", "lang"}
DATE_KEYS = {"date", "published"}
MAX_BOILERPLATE = 80  # a line this long or longer is content, whatever it starts with
MAX_TITLE = 200

_DATE = r"\d{4}(?:-\d{2}(?:-\d{2})?)?"
_HEADER = re.compile(r"(?P<key>[A-Za-z]+)(?:\s*(?P<colon>:)\s*|\s+)(?P<value>\S.*)")
_GLUED_DATE = re.compile(rf"(?P<date>{_DATE})(?:\s+(?P<rest>\S.*))?")
_NUMBER = r"\d+(?:[.,]\d+)*\s*[kmкм]?"
_LONE_NUMBER = re.compile(rf"{_NUMBER}")
_EDGES = re.compile(rf"^[\W_]*(?:{_NUMBER}\b)?[\W\d_]*|[\W\d_]+$")  # bullets, counts, " - 3"
_MORE_AFTER_SENTENCE = re.compile(r"[.!?؟…。]+[\"'»”’)\]]*\s+\w")
_SENTENCE_END = (".", "。", "۔")


def load_boilerplate(lang_dir: Path) -> list[str]:
    """Every `boilerplate` phrase of every `<lang_dir>/*/language.yaml`, as written."""
    phrases: list[str] = []
    for path in sorted(Path(lang_dir).glob("*/language.yaml")):
        data = read_yaml(path) or {}
        for phrase in data.get("boilerplate") or []:
            if str(phrase).strip() and str(phrase) not in phrases:
                phrases.append(str(phrase))
    return phrases


_BLANK_LINES = re.compile(r"\n\n\n+")  # "\n{3,}", spelled so that the regex engine looks for its literal start


def normalize(raw: RawArticle, boilerplate: Sequence[str]) -> Article:
    """The cleaned article; pure (the phrases are passed in, nothing is read)."""
    text = unicodedata.normalize("NFC", raw.raw_text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    header, lines = _split_header(lines)
    phrases = _fold_phrases(tuple(boilerplate))
    kept: list[str] = []
    stripped: list[str] = []
    previous = None  # last non-blank line kept, to drop a verbatim repeat (doubled headline)
    for line in lines:
        if not line.strip():
            kept.append("")
        elif line == previous or is_boilerplate(line, phrases):
            stripped.append(line.strip())
        else:
            kept.append(line)
            previous = line
    body = _BLANK_LINES.sub("\n\n", "\n".join(kept)).strip("\n")
    art = Article(
        source=raw.source, text=body, title=raw.title, url=raw.url, outlet=raw.outlet,
        published=raw.published, published_basis=raw.published_basis, language=raw.language,
        header=header, stripped=stripped,
    )
    _fill_from_header(art)
    if art.title is None:
        art.title = _guess_title(body)
    return art


@lru_cache(maxsize=8)
def _fold_phrases(boilerplate: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Folded phrases by their first character (a line is compared with those only), longest first;
    cached because every article passes the same list."""
    by_first: dict[str, tuple[str, ...]] = {}
    for k in sorted({k for k in map(fold_key, boilerplate) if k}, key=len, reverse=True):
        by_first[k[0]] = (*by_first.get(k[0], ()), k)
    return by_first


def is_boilerplate(line: str, phrases: Sequence[str] | Mapping[str, Sequence[str]]) -> bool:
    """True for a short line that is a counter, or opens with a folded boilerplate phrase (`phrases`
    a list of folded phrases, or those by their first character)."""
    line = line.strip()
    if len(line) >= MAX_BOILERPLATE or _MORE_AFTER_SENTENCE.search(line):
        return False
    key = fold_key(line)
    if _LONE_NUMBER.fullmatch(key):
        return True  # "0", "118", "1.2K"
    core = _EDGES.sub("", key)  # "3 min read" -> "min read", "قراءة - 3" -> "قراءة"
    if isinstance(phrases, Mapping):
        return any(_opens_with(t, p) for t in {core, key} if t for p in phrases.get(t[0], ()))
    return any(_opens_with(t, p) for t in {core, key} if t for p in phrases if p[0] == t[0])


def _opens_with(text: str, phrase: str) -> bool:
    """`text` starts with `phrase` as whole words ("share" opens "share this", not "shares")."""
    if not text.startswith(phrase):
        return False
    if len(text) == len(phrase):
        return True
    nxt, last = text[len(phrase)], phrase[-1]
    # A letter of another script also ends the phrase: an icon's alt text glued to a label.
    return not (nxt.isalnum() and _script(nxt) == _script(last))


def _script(ch: str) -> str:
    """First word of the character's Unicode name: LATIN, CYRILLIC, ARABIC, DIGIT…"""
    return unicodedata.name(ch, "").split(" ", 1)[0]


def _split_header(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """Parse `key value` / `key: value` lines at the top; split a date glued to the first line."""
    header: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        parsed = _header_line(line)
        if parsed is None:
            break
        key, value, rest = parsed
        header.setdefault(key, value)
        if rest:  # "date 2022-03 Kazakhstani, one of…": the text starts after the date
            lines = [rest, *lines[i + 1:]]
            i = 0
            break
        i += 1
    return header, lines[i:]


def _header_line(line: str) -> tuple[str, str, str | None] | None:
    """(key, value, rest of the line) for a header line, else None.

    `key: value` takes any value. Without a colon the key must be written in lower case
    (a sentence starting "Source close to…" is not a header) and dates, URLs and language
    codes must look like one; only a date may have text glued after it.
    """
    m = _HEADER.fullmatch(line)
    if not m or m["key"].lower() not in HEADER_KEYS:
        return None
    key, value, colon = m["key"].lower(), m["value"].strip(), bool(m["colon"])
    key = "language" if key == "lang" else key
    if not colon and not m["key"].islower():
        return None
    if key in DATE_KEYS:
        d = _GLUED_DATE.fullmatch(value)
        if d:
            return key, d["date"], d["rest"]
        if not colon:
            return None  # "date" then words: a sentence, not a header
    if colon:
        return key, value, None
    if key == "url" and not re.fullmatch(r"(https?://)?[\w.-]+\.\w+\S*", value):
        return None
    if key == "language" and not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z]{2})?", value):
        return None
    return key, value, None


def _fill_from_header(art: Article) -> None:
    """Header values fill fields the metadata left empty (metadata always wins)."""
    h = art.header
    art.title = art.title or h.get("title")
    art.url = art.url or h.get("url")
    art.outlet = art.outlet or h.get("outlet") or h.get("source")
    if art.language is None and "language" in h and len(h["language"]) <= 3:
        art.language = h["language"].lower()
    date = h.get("date") or h.get("published")
    if art.published is None and date and re.fullmatch(_DATE, date):
        art.published = date
        art.published_basis = f"header line of the text ({date})"


def _guess_title(text: str) -> str | None:
    """The first line, when it reads like a headline: short and not ending a sentence."""
    first = next((line.strip() for line in text.split("\n") if line.strip()), None)
    if first and len(first) < MAX_TITLE and not first.endswith(_SENTENCE_END):
        return first
    return None
