"""Publication date: from metadata, else the page's header, byline, dateline or URL; else null.

A wrong publication date is worse than none (every relative event date hangs on it), so this
never guesses: a day and month with no year in sight stays null, and the build date is never used.
The result is an ISO string at its own precision ("2022-11-19", "2022-07", or None).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kzdash.extract.temporal import PartialDate, _valid, find_dates

TOP_LINES = 10  # bylines, datelines and captions stand in the first lines of a page
SHORT_LINE = 120
TIME_AFTER = re.compile(r"^[\s,،\-–—|/ٍ]*(?:[a-zA-Zа-яА-Яа-яء-ي]{0,6}\.?\s*)?\d{1,2}[:.h]\d{2}")
URL_YMD = re.compile(r"(?<!\d)(20\d{2}|19\d{2})[/_-](\d{1,2})[/_-](\d{1,2})(?!\d)")
URL_COMPACT = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)")
URL_YM = re.compile(r"/(20\d{2}|19\d{2})/(\d{1,2})(?:/|$)")
DAY_SLASH_MONTH = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])")
DATELINE_PREFIX_WORDS = 4
CAPTION_AFTER = re.compile(r"^\s*[-–—|/]\s*[A-Z]{2,}\b")  # "… 17 June 2022 - REUTERS" (a dated photo)
DATELINE_PREFIX = re.compile(r"^\W*[^\W\d_][^\n]*?[,،\-–—]\s*$")  # "ALMATY, " / "أستانا ، "


@dataclass(frozen=True)
class Published:
    value: str | None  # ISO at its precision
    basis: str  # metadata | header | byline | url | dateline+url | none


def from_url(url: str | None) -> PartialDate | None:
    """The date a URL path carries (/2022/06/18/, 20230928-, /2022/11/), or None."""
    if not url:
        return None
    for rx in (URL_YMD, URL_COMPACT):
        m = rx.search(url)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            if _valid(y, mo, d):
                return PartialDate(y, mo, d)
    m = URL_YM.search(url)
    if m and 1 <= int(m.group(2)) <= 12:
        return PartialDate(int(m.group(1)), int(m.group(2)))
    return None


def _top(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The first lines of the text and their (start, end) offsets."""
    lines, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            lines.append((pos, pos + len(line)))
        pos += len(line) + 1
        if len(lines) >= TOP_LINES:
            break
    end = lines[-1][1] if lines else 0
    return text[:end], lines


def _line_of(offset: int, lines: list[tuple[int, int]]) -> tuple[int, int]:
    for s, e in lines:
        if s <= offset <= e:
            return s, e
    return offset, offset


def _agrees(d: PartialDate, hint: PartialDate | None) -> bool:
    if hint is None:
        return True
    if d.year != hint.year:
        return False
    return hint.month is None or d.month is None or d.month == hint.month


def from_text(text: str, code: str | None, hint: PartialDate | None) -> tuple[PartialDate | None, str]:
    """A byline, caption or dateline date in the first lines, consistent with `hint` (URL/header)."""
    top, lines = _top(text)
    best: tuple[int, int, PartialDate] | None = None
    for m in find_dates(top, code, None):
        if m.relative or m.precision != "day":
            continue
        s, e = _line_of(m.start, lines)
        after = top[m.end:m.end + 20]
        score = (2 if TIME_AFTER.match(after) else 0) + (1 if e - s <= SHORT_LINE else 0) + (
            1 if CAPTION_AFTER.match(after) else 0)
        d = PartialDate.parse(m.date)
        if score and d and _agrees(d, hint) and (best is None or score > best[0]):
            best = (score, m.start, d)
    if best:
        return best[2], "byline"
    if hint is None or hint.month is None:
        return None, "none"
    # A dateline gives day and month ("ALMATY, Jan 6", "(19/11"): the year comes from the hint.
    for m in find_dates(top, code, hint):
        if m.precision == "day" and m.rule in ("day-month", "month-day"):
            s, _ = _line_of(m.start, lines)
            d = PartialDate.parse(m.date)
            prefix = top[s:m.start]
            if (d and d.month == hint.month and len(prefix.split()) <= DATELINE_PREFIX_WORDS
                    and DATELINE_PREFIX.match(prefix)):
                return d, "dateline"
    for m in DAY_SLASH_MONTH.finditer(top):
        day, month = int(m.group(1)), int(m.group(2))
        s, _ = _line_of(m.start(), lines)
        if month == hint.month and _valid(hint.year, month, day) and len(top[s:m.start()].split()) <= 8:
            return PartialDate(hint.year, month, day), "dateline"
    return None, "none"


def infer_published(text: str, code: str | None, metadata_value: str | None, url: str | None,
                    header: dict[str, str]) -> Published:
    """The publication date of an article, with the basis it rests on."""
    meta = PartialDate.parse(metadata_value)
    if meta:
        return Published(meta.iso(), "metadata")
    head = PartialDate.parse(header.get("date") or header.get("published"))
    if head and head.day:
        return Published(head.iso(), "header")
    from_link = from_url(url)
    if from_link and from_link.day:
        return Published(from_link.iso(), "url")
    hint = head or from_link
    found, basis = from_text(text, code, hint)
    if found:
        return Published(found.iso(), basis + ("+header" if head and basis == "dateline" else
                                               "+url" if from_link and basis == "dateline" else ""))
    if hint:
        return Published(hint.iso(), "header" if head else "url")
    return Published(None, "none")
