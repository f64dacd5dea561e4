"""Publication date: from metadata, else the page's header, byline, dateline or URL; else null.

A wrong publication date is worse than none (every relative event date hangs on it), so this
never guesses: a day and month with no year in sight stays null, and the build date is never used.
Each rule that fires names itself in the basis (`published_basis`):

- `metadata`, `header` (a `date` header line), `url` (/2022/06/18/, 20230928-, /14/03/2023/, -15032023-);
- `url+header` / `url+dateline`: a timestamp-like id in the URL (AN-202303140512) that a header month
  or a dateline day confirms;
- `byline`: a date stamp in the first lines (with a time, on a short line, crediting an agency) in
  the article's language; `byline@ru` (the language read) for a short header line in another one
  ("12 мая 2023" on an English page, "Posted: 12th, October 2023" on a Kazakh one);
- `today`: "today, Tuesday 14 March 2023" in the lede, the weekday agreeing with the date;
- `caption+weekday`: a photo caption's full date, and the lede's first weekday on that day or one
  or two days after it (wire stories carry no other date);
- `dateline+url` / `dateline+header`: "ALMATY, Jan 6" with the year and month from the URL or header;
- `dateline+weekday`: "ALMATY, 13 March" and "on Sunday" in the lede, where exactly one year the
  text names puts the dateline on that weekday.

The result is an ISO string at its own precision ("2022-11-19", "2022-07", or None).

When nothing is printed, `reference_day` may still find a day the text fixes (a yearless dateline and
its weekday in the one year of the coverage span that fits; a counted day of a known era called
today): the article's relative dates count from it, and its published date stays null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from kzdash.extract.temporal import (
    DateMention,
    PartialDate,
    _valid,
    _weekday_year,
    calendar_words,
    coverage_years,
    find_dates,
    named_before,
)
from kzdash.text.langdata import folded_list, languages, load
from kzdash.text.textnorm import fold_text

TOP_LINES = 10  # bylines, datelines and captions stand in the first lines of a page
SHORT_LINE = 120
LEDE_CHARS = 1500  # "today, Tuesday 14 March 2023" stands in the first paragraphs
CAPTION_LEDE = 800  # how far after a caption its lede's weekday may stand
CAPTION_DAYS = 2  # a wire photo is taken on the day of the story or a day or two before
CAPTION_TAIL = 80  # a caption ends with its date and a credit
TIME_AFTER = re.compile(r"^[\s,،\-–—|/ٍ]*(?:[a-zA-Zа-яА-Яа-яء-ي]{0,6}\.?\s*)?\d{1,2}[:.h]\d{2}")
URL_YMD = re.compile(r"(?<!\d)(20\d{2}|19\d{2})[/_-](\d{1,2})[/_-](\d{1,2})(?!\d)")
URL_COMPACT = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)")
URL_DMY = re.compile(r"/(\d{1,2})/(\d{1,2})/(20\d{2}|19\d{2})(?=/|$)")  # /14/03/2023/ (day first, as written)
URL_DMY_COMPACT = re.compile(r"[-_/](\d{2})(\d{2})(20[0-3]\d)(?=[-_./]|$)")  # -15032023-
URL_STAMP = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})\d{2,6}(?!\d)")  # AN-202303140512: needs a clue
URL_YM = re.compile(r"/(20\d{2}|19\d{2})/(\d{1,2})(?:/|$)")
DAY_SLASH_MONTH = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])")
YEAR_IN_TEXT = re.compile(r"(?<![\d.,/-])((?:19|20)\d{2})(?![\d.,/-]\d)")
DATELINE_PREFIX_WORDS = 4
CAPTION_AFTER = re.compile(r"^\s*[-–—|/]\s*[A-Z]{2,}\b")  # "… 17 June 2022 - REUTERS" (a dated photo)
DATELINE_PREFIX = re.compile(r"^\W*[^\W\d_][^\n]*?[.,،\-–—]\s*$")  # "ALMATY, " / "أستانا ، " / "Москва. "
STAMP_LINE = 100  # a header stamp line is short
STAMP_WORDS = 2  # and holds few words besides dates, weekdays and a time ("Modified", "Yayınlanma")
TIME = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)")
WORD = re.compile(r"[^\W\d_]+")
DATELINE_RULES = ("day-month", "month-day", "day-month-year", "month-day-year")
DATELINE_AFTER = re.compile(r"^[\s.,)]*(?:[(/\-–—]|[A-ZА-ЯЁ]{2,}|$)")  # "(Wire) –", ". /Корр./", ". AGENCY"
LEAP_YEAR = PartialDate(2000)  # reads a day and month of any year (29 February included)


@dataclass(frozen=True)
class Published:
    value: str | None  # ISO at its precision
    basis: str  # which rule fired (see the module docstring)


def from_url(url: str | None) -> PartialDate | None:
    """The date a URL path carries (/2022/06/18/, 20230928-, /14/03/2023/, -15032023-, /2022/11/), or None."""
    if not url:
        return None
    for rx, order in ((URL_YMD, "ymd"), (URL_COMPACT, "ymd"), (URL_DMY, "dmy"), (URL_DMY_COMPACT, "dmy")):
        m = rx.search(url)
        if m:
            a, b, c = (int(g) for g in m.groups())
            y, mo, d = (a, b, c) if order == "ymd" else (c, b, a)
            if _valid(y, mo, d):
                return PartialDate(y, mo, d)
    m = URL_YM.search(url)
    if m and 1 <= int(m.group(2)) <= 12:
        return PartialDate(int(m.group(1)), int(m.group(2)))
    return None


def url_stamp(url: str | None) -> PartialDate | None:
    """A year-month-day that opens a longer run of digits in the URL (an id made from a timestamp):
    too weak alone, kept when the header's month or a dateline's day agrees."""
    m = URL_STAMP.search(url or "")
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    return PartialDate(y, mo, d) if _valid(y, mo, d) else None


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


@lru_cache(maxsize=128)
def _markers(code: str | None, key: str) -> re.Pattern | None:
    words = folded_list(load(code, "dates.yaml").get(key)) if code else []
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)") if words else None


LONG_LINE = 2000  # characters: a line this long holds no byline, stamp or caption


def _archived(line: str, code: str | None) -> bool:
    """A line marked as old ("archive photo", "صورة أرشيفية"): its date is no date of the page."""
    rx = _markers(code, "archive_markers")
    return bool(rx and rx.search(fold_text(line)))


def _caption(line: str, end: int, code: str | None) -> bool:
    """A photo caption that ends with its date: a caption word or credit on the line ("Photo",
    "Фото", "REUTERS/…"), the date within the line's last CAPTION_TAIL characters."""
    rx = _markers(code, "caption_markers")
    if len(line) - end > CAPTION_TAIL:
        return False
    return bool(CAPTION_AFTER.match(line[end:]) or (rx and rx.search(fold_text(line))))


def _agrees(d: PartialDate, hint: PartialDate | None) -> bool:
    if hint is None:
        return True
    if d.year != hint.year:
        return False
    return hint.month is None or d.month is None or d.month == hint.month


def _absolute_days(mentions: list[DateMention]) -> list[DateMention]:
    return [m for m in mentions if not m.relative and m.precision == "day"]


def _foreign_stamps(top: str, lines: list[tuple[int, int]], code: str | None,
                    mentions: list[DateMention]) -> list[DateMention]:
    """Full dates on short header lines written in another language than the article's ("12 мая
    2023" on an English page, "Posted: 12th, October 2023" on a Kazakh one): the first reading
    of the line in any known language, with offsets into `top`."""
    out = []
    for s, e in lines:
        line = top[s:e]
        if e - s > SHORT_LINE or not YEAR_IN_TEXT.search(line) or any(s <= m.start < e for m in mentions):
            continue
        for other in languages():
            found = _absolute_days(find_dates(line, other, None)) if other != code else []
            if found:
                m = found[0]
                out.append(DateMention(s + m.start, s + m.end, m.surface, m.date, m.precision, False,
                                       f"{m.rule}@{other}"))
                break
    return out


def _byline(top: str, lines: list[tuple[int, int]], mentions: list[DateMention], code: str | None,
            hint: PartialDate | None) -> tuple[PartialDate | None, str, list[tuple[DateMention, PartialDate]]]:
    """The best scored date stamp of the first lines, and the photo captions' full dates that scored nothing."""
    best: tuple[int, int, PartialDate, str] | None = None
    unscored = []
    for m in mentions:
        s, e = _line_of(m.start, lines)
        if e - s > LONG_LINE:  # a paragraph, not a stamp or a caption (and folding it per date is quadratic)
            continue
        if _archived(top[s:e], code):
            continue
        after = top[m.end:m.end + 20]
        score = (2 if TIME_AFTER.match(after) else 0) + (1 if e - s <= SHORT_LINE else 0) + (
            1 if CAPTION_AFTER.match(after) else 0)
        d = PartialDate.parse(m.date)
        if d and score and _agrees(d, hint) and (best is None or score > best[0]):
            best = (score, m.start, d, m.rule.partition("@")[2])
        elif d and not score and _agrees(d, hint) and _caption(top[s:e], m.end - s, code):
            unscored.append((m, d))
    if best is None:
        return None, "", unscored
    return best[2], "byline" + (f"@{best[3]}" if best[3] else ""), unscored


def _today_stamp(text: str, code: str | None, hint: PartialDate | None) -> PartialDate | None:
    """ "today, Tuesday 14 March 2023" in the lede: a full date after a today word and its weekday."""
    lede = text[:LEDE_CHARS]
    for m in _absolute_days(find_dates(lede, code, None)):
        weekday, today = named_before(lede, code, m.start)
        d = PartialDate.parse(m.date)
        if today and d and weekday == d.as_date().isoweekday() and _agrees(d, hint):
            return d
    return None


def _first_weekday(text: str, code: str | None, ref: date) -> tuple[int, DateMention] | None:
    """The first date of `text` if it is a bare weekday (no "last"/"next"), with its ISO weekday."""
    found = find_dates(text, code, ref.isoformat())
    if not found or found[0].rule != "weekday" or found[0].precision != "day":
        return None
    return date.fromisoformat(found[0].date).isoweekday(), found[0]


def _caption_weekday(text: str, code: str | None, captions: list[tuple[DateMention, PartialDate]],
                     lines: list[tuple[int, int]]) -> PartialDate | None:
    """A caption's full date and the first weekday of the lede after it, on that day or just after."""
    for m, d in captions:
        cap = d.as_date()
        _, line_end = _line_of(m.start, lines)
        lede = text[line_end:line_end + CAPTION_LEDE]
        first = _first_weekday(lede, code, cap)
        if cap is None or first is None:
            continue
        ahead = (first[0] - cap.isoweekday()) % 7
        if ahead <= CAPTION_DAYS:
            day = cap + timedelta(days=ahead)
            return PartialDate(day.year, day.month, day.day)
        return None  # the weekday contradicts the caption: no day can be trusted
    return None


def _datelines(top: str, code: str | None, lines: list[tuple[int, int]],
               hint: PartialDate | None) -> list[tuple[DateMention, PartialDate]]:
    """ "ALMATY, Jan 6", "Москва. 9 марта.": a day and month after at most a few words that open a
    line; read in `hint`'s year (else in a leap year, for the day and month only)."""
    out = []
    for m in find_dates(top, code, hint or LEAP_YEAR):
        if m.precision == "day" and m.rule in ("day-month", "month-day"):
            s, _ = _line_of(m.start, lines)
            prefix = top[s:m.start]
            d = PartialDate.parse(m.date)
            if d and len(prefix.split()) <= DATELINE_PREFIX_WORDS and DATELINE_PREFIX.match(prefix):
                out.append((m, d))
    return out


def _dateline_weekday(d: PartialDate, after: str, code: str | None, years: frozenset[int]) -> PartialDate | None:
    """ "ALMATY, 13 March – … on Sunday": the one year of `years` in which the dateline falls on the
    weekday that opens `after` (the text after it; a wire story's weekday is its dateline's day). None
    when no year or more than one fits, or when the first date there is no bare weekday."""
    first = _first_weekday(after, code, date(2000, d.month, d.day))
    year = _weekday_year(d.month, d.day, first[0], years) if first else None
    return PartialDate(year, d.month, d.day) if year else None


def _years_named(text: str) -> frozenset[int]:
    return frozenset(int(y) for y in YEAR_IN_TEXT.findall(text))


def from_text(text: str, code: str | None, hint: PartialDate | None) -> tuple[PartialDate | None, str]:
    """A byline, caption or dateline date in the first lines, consistent with `hint` (URL/header)."""
    top, lines = _top(text)
    mentions = _absolute_days(find_dates(top, code, None))
    mentions += _foreign_stamps(top, lines, code, mentions)
    found, basis, captions = _byline(top, lines, mentions, code, hint)
    if found:
        return found, basis
    found = _today_stamp(text, code, hint)
    if found:
        return found, "today"
    found = _caption_weekday(text, code, captions, lines)
    if found and _agrees(found, hint):
        return found, "caption+weekday"
    datelines = _datelines(top, code, lines, hint)
    if hint is not None and hint.month is not None:
        # A dateline gives day and month ("ALMATY, Jan 6", "(19/11"): the year comes from the hint.
        for _, d in datelines:
            if d.month == hint.month:
                return d, "dateline"
        for m in DAY_SLASH_MONTH.finditer(top):
            day, month = int(m.group(1)), int(m.group(2))
            s, _ = _line_of(m.start(), lines)
            if month == hint.month and _valid(hint.year, month, day) and len(top[s:m.start()].split()) <= 8:
                return PartialDate(hint.year, month, day), "dateline"
    if hint is None and datelines:
        # a year the text does not name is never taken for a publication date, and a weekday that may
        # be the day before the dateline (13 March 2023 followed a Sunday) cannot tell 2022 from 2023
        m, d = datelines[0]
        para_end = text.find("\n", m.end)
        found = _dateline_weekday(d, text[m.end:para_end if para_end > 0 else len(text)], code, _years_named(text))
        if found:
            return found, "dateline+weekday"
    return None, "none"


def reference_day(text: str, code: str | None, dates: list[DateMention]) -> Published | None:
    """When the page prints no date: a day the text itself fixes, from which its relative dates
    ("on Tuesday", "yesterday", "2 January") count. It is never the publication date (the page does
    not say when it was published) and only dates events; each such date names its basis.

    - `era+weekday`: "today, Wednesday, as the war entered its seventh day": a counted day of a
      known era (data/coverage.yaml), with a today word or that day's weekday in its paragraph and
      no other weekday there;
    - `dateline+weekday`: "MOSCOW, 19 January … said on Wednesday": a yearless dateline and the first
      date after it, a bare weekday, where exactly one year of data/coverage.yaml and of the years
      the text names puts the dateline on that weekday (a wire story's weekday is its dateline's day).
    """
    for m in dates:
        if not m.rule.startswith("era-day"):
            continue
        s, e = text.rfind("\n", 0, m.start) + 1, text.find("\n", m.end)
        again = find_dates(text[s:e if e >= 0 else len(text)], code, m.date)
        said = [x for x in again if x.rule.startswith(("weekday", "rel_day"))]
        if said and all(x.date == m.date for x in said if x.rule.startswith("weekday")) \
                and any(x.date == m.date for x in said):
            return Published(m.date, "era+weekday")
    top, lines = _top(text)
    datelines = _datelines(top, code, lines, None)
    if not datelines:
        return None
    m, d = datelines[0]
    day = _dateline_weekday(d, text[m.end:m.end + LEDE_CHARS], code, coverage_years() | _years_named(text))
    return Published(day.iso(), "dateline+weekday") if day else None


def _stamp_confirmed(stamp: PartialDate, text: str, code: str | None, hint: PartialDate | None) -> str | None:
    """How a URL timestamp id is confirmed: by the header's month, or by a dateline's day and month."""
    if hint is not None and hint.month is not None:
        return "url+header" if (hint.year, hint.month) == (stamp.year, stamp.month) else None
    top, lines = _top(text)
    for _, d in _datelines(top, code, lines, None):
        if (d.month, d.day) == (stamp.month, stamp.day):
            return "url+dateline"
    return None


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
    stamp = url_stamp(url)
    if stamp and (hint is None or _agrees(stamp, hint)):
        basis = _stamp_confirmed(stamp, text, code, hint)
        if basis:
            return Published(stamp.iso(), basis)
    found, basis = from_text(text, code, hint)
    if found:
        return Published(found.iso(), basis + ("+header" if head and basis == "dateline" else
                                               "+url" if from_link and basis == "dateline" else ""))
    if hint:
        return Published(hint.iso(), "header" if head else "url")
    return Published(None, "none")


def header_spans(text: str, code: str | None, dates: list[DateMention]) -> set[tuple[int, int]]:
    """The dates that stamp the page rather than tell of an event, as (start, end) spans for the
    events to skip: a short header line of dates with a time and a label or two ("Изменено 2
    марта, 11:05"), with a weekday ("5 Aralık 2023, Salı", a page's today widget) or with
    nothing else ("12 мая 2023"); and a dateline ("АСТАНА, 4 июня. /Корр./"). A short caption
    with a place ("Astana, 5 March 2022") stays an event."""
    top, lines = _top(text)
    months, weekdays = calendar_words()
    stamps: set[tuple[int, int]] = set()
    for s, e in lines:
        inside = [d for d in dates if s <= d.start and d.end <= e]
        if not inside or e - s > STAMP_LINE:
            continue
        line = top[s:e]
        rest = line
        for d in sorted(inside, key=lambda d: -d.start):
            rest = rest[:d.start - s] + " " + rest[d.end - s:]
        words = [w for w in WORD.findall(fold_text(rest)) if w not in months]
        named_day = any(w in weekdays for w in words) or any(d.rule.startswith("weekday") for d in inside)
        words = [w for w in words if w not in weekdays]
        if (TIME.search(line) and len(words) <= 2 * STAMP_WORDS) or (named_day and len(words) <= STAMP_WORDS) \
                or (not words and len(re.findall(r"\d+", line)) >= 2):
            stamps.update((d.start, d.end) for d in inside)
    for d in dates:
        if d.precision != "day" or d.start > len(top) or d.rule.partition("@")[0] not in DATELINE_RULES:
            continue
        s, _ = _line_of(d.start, lines)
        prefix = top[s:d.start]
        if prefix and len(prefix.split()) <= DATELINE_PREFIX_WORDS and DATELINE_PREFIX.match(prefix) \
                and DATELINE_AFTER.match(top[d.end:d.end + 8]):
            stamps.add((d.start, d.end))
    return stamps
