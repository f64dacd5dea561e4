"""Temporal tagger: find date expressions per language and resolve them against the publication date.

Why not dateparser's `search_dates`: it costs 7–100 ms per article, far over the build's speed bar,
and it does not resolve "the fifth of this month" against the article's own date. Here the
language data (`data/lang/<code>/dates.yaml`) is compiled once into a phrase table; an article is
tokenised once, tokens are grouped into units (month, weekday, number, ordinal, connector,
relative phrase), and a handful of language-independent patterns combine the units.

Besides dates proper: counted days ("in two days", "two days later", "накануне", "the 5th day of
the strike", which dates the strike's start), ranges ("5-7 March", "21 و22 فبراير"), days named by
their feast, and header stamps (2022.07.06, "15 Қаң 2022"). Every mention names the rule that read
it (`DateMention.rule`, the events' `date_rule`); a day count in a report dated only by its month
keeps that month (`weekday@pub-month`).
"""

from __future__ import annotations

import bisect
import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

from kzdash.text.langdata import DATA_DIR, folded_list, languages, load, morphology, read_yaml
from kzdash.text.lexicon import PhraseMatcher
from kzdash.text.textnorm import Folded, fold

NUMERIC_DATE_RES = (  # (regex on folded text, order of the groups)
    # 2022-07-06, and the header stamps 2022.07.06 and 2022/07/06 (one separator throughout)
    # (each opens with a digit and looks behind it afterwards, "(\d\d\d\d)(?<![\d./]\d{4})" for
    # "(?<![\d./])(\d{4})": the same matches, but the regex engine skips ahead to the digits; it does so
    # only for a pattern whose first item is one character, so "\d\d\d\d", not "\d{4}")
    (re.compile(r"(\d\d\d\d)(?<![\d./]\d{4})([-./])(\d{1,2})\2(\d{1,2})(?!\d)"), "ymd"),
    (re.compile(r"(\d(?<![\d.]\d)\d?)\s?[./]\s?(\d{1,2})\s?[./]\s?(\d{4})(?!\d)"), "dmy"),
)
GAP_OK = re.compile(r"^[\s,،()\-/]*$")
GAP_AFTER_DAY = re.compile(r"^\.?[\s,،()\-/]*$")  # German "5. März"
MIN_YEAR, MAX_YEAR = 1900, 2099


@dataclass(frozen=True)
class PartialDate:
    """A date known to year, month or day precision (publication dates are often partial)."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, value: object) -> PartialDate | None:
        if value is None:
            return None
        m = re.match(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", str(value))
        if not m:
            return None
        y, mo, d = (int(g) if g else None for g in m.groups())
        if mo is not None and not 1 <= mo <= 12:
            return None
        if d is not None and not _valid(y, mo, d):
            d = None
        return cls(y, mo, d)

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    def as_date(self) -> date | None:
        return date(self.year, self.month, self.day) if self.day and self.month else None

    def iso(self) -> str:
        if self.day and self.month:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"


@dataclass(frozen=True)
class DateMention:
    """A resolved date expression: where it is, what it means, and which rule found it."""

    start: int
    end: int
    surface: str
    date: str  # YYYY-MM-DD; the first day of the month or year at coarser precision
    precision: str  # day | month | year
    relative: bool
    rule: str


class _Unit(NamedTuple):
    """A number or a lexicon phrase of the text (a NamedTuple: dozens per article, a frozen dataclass is
    slow to build)."""

    kind: str  # num, month, weekday, ordinal, conn, rel_day, rel_week, rel_month, rel_year,
    #            this_month, past, future, alone, word
    value: int
    start: int  # folded offsets
    end: int
    entry: str
    ndigits: int = 0


@dataclass(frozen=True)
class DateLexicon:
    code: str
    matcher: PhraseMatcher  # folded phrase -> (unit kind, value)
    number: re.Pattern  # a number with an optional day suffix (17th, 21-го, 1er)
    alone_markers: frozenset[str]
    proclitics: frozenset[str] = frozenset()  # Arabic "و22 فبراير": a number may carry one
    day_units: frozenset[str] = frozenset()  # "day", "days", "дня": counts and "the 5th day"
    count_in: tuple[str, ...] = ()  # "in two days", "через два дня": from the speaker's day
    count_later: tuple[str, ...] = ()  # "two days later": from the day told just before
    count_ago: tuple[str, ...] = ()  # "two days ago": back from publication
    range_words: frozenset[str] = frozenset()  # "5 and 7 March", "с 5 по 7 марта"
    today_words: tuple[str, ...] = ()  # relative days at offset 0 ("today", "اليوم")
    eve_blockers: frozenset[str] = frozenset()  # "the day before THE vote", "накануне ВИЗИТА": an eve
    week_units: frozenset[str] = frozenset()  # "two weeks later", "через две недели": a count of 7 days
    eras: tuple[Era, ...] = ()  # periods counted by day: "the 7th day of the war"


@dataclass(frozen=True)
class Era:
    """A period the press counts by day ("the 7th day of the war"): its first day (day 1, from
    `data/coverage.yaml`), this language's names for it, and word stems one of which must stand in
    the same sentence (the seventh day of another war is another day)."""

    era_id: str
    first_day: date
    names: re.Pattern
    with_stems: tuple[str, ...]


_CATEGORIES = {  # dates.yaml key -> unit kind, and whether the YAML maps value -> forms
    "months": ("month", True),
    "weekdays": ("weekday", True),
    "day_ordinals": ("ordinal", True),
    "month_abbreviations": ("month_abbr", True),
    "number_words": ("count", True),
    "relative_days": ("rel_day", False),
    "anchor_days": ("anchor_day", False),
    "eve_days": ("eve_day", False),
    "relative_weeks": ("rel_week", False),
    "relative_months": ("rel_month", False),
    "relative_years": ("rel_year", False),
}
_FLAT = {"connectors": "conn", "this_month": "this_month", "same_month": "same_month", "past_markers": "past",
         "future_markers": "future", "month_alone_markers": "alone"}
MONTHS = ("month", "month_abbr")  # an abbreviation ("Қаң", "Oca") counts only beside a day


@lru_cache(maxsize=64)
def lexicon(code: str) -> DateLexicon:
    """Compile `dates.yaml` of a language into one phrase matcher (a phrase listed under two keys
    keeps the first: a month beats a connector)."""
    data = load(code, "dates.yaml") if code else {}
    phrases: dict[str, tuple[str, int]] = {}
    for key, (kind, by_value) in _CATEGORIES.items():
        for k, v in (data.get(key) or {}).items():
            pairs = [(f, int(k)) for f in folded_list(v)] if by_value else [(f, int(v)) for f in folded_list(k)]
            for form, value in pairs:
                phrases.setdefault(form, (kind, value))
    for key, kind in _FLAT.items():
        for form in folded_list(data.get(key)):
            phrases.setdefault(form, (kind, 0))
    for phrase, month_day in (data.get("holidays") or {}).items():  # "new year's day: 01-01"
        month, day = (int(x) for x in str(month_day).split("-"))
        for form in folded_list(phrase):
            phrases.setdefault(form, ("holiday", month * 100 + day))
    eras = tuple(_era(era_id, spec) for era_id, spec in (data.get("eras") or {}).items())
    suffixes = "|".join(re.escape(x) for x in folded_list(data.get("day_suffixes")))
    # "\d\d*", not "\d+": a first item of one character lets the regex engine skip ahead to the digits
    number = re.compile(r"(\d\d*)" + (rf"(?:-?(?:{suffixes})(?![^\W\d_]))?" if suffixes else ""))
    return DateLexicon(code, PhraseMatcher(phrases), number,
                       frozenset(folded_list(data.get("month_alone_markers"))),
                       frozenset(morphology(code)[0]) if code else frozenset(),
                       frozenset(folded_list(data.get("day_units"))),
                       tuple(folded_list(data.get("count_in"))), tuple(folded_list(data.get("count_later"))),
                       tuple(folded_list(data.get("count_ago"))), frozenset(folded_list(data.get("range_words"))),
                       tuple(f for f, (kind, value) in phrases.items() if kind == "rel_day" and value == 0),
                       frozenset(folded_list(data.get("eve_blockers"))),
                       frozenset(folded_list(data.get("week_units"))), eras)


@lru_cache(maxsize=1)
def _coverage() -> dict:
    """`data/coverage.yaml`, read once: the dashboard's event years and its eras."""
    data = read_yaml(DATA_DIR / "coverage.yaml")
    return data if isinstance(data, dict) else {}


@lru_cache(maxsize=1)
def era_days() -> dict[str, date]:
    """The first day of each era of `data/coverage.yaml` (`eras`: id -> ISO day)."""
    return {str(k): date.fromisoformat(str(v)) for k, v in (_coverage().get("eras") or {}).items()}


def _era(era_id: str, spec: dict) -> Era:
    names = folded_list(spec.get("names"))
    return Era(era_id, era_days()[era_id], re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)"),
               tuple(folded_list(spec.get("with"))))


def _valid(y: int, m: int | None, d: int | None) -> bool:
    if m is None or not 1 <= m <= 12:
        return False
    return d is not None and 1 <= d <= calendar.monthrange(y, m)[1]


def _proclitic_before(text: str, s: int, lex: DateLexicon) -> bool:
    """A number glued to a proclitic ("و22" = "and 22") is still a number."""
    ws = s
    while ws > 0 and text[ws - 1].isalpha():
        ws -= 1
    return text[ws:s] in lex.proclitics


class _Spans:
    """Is an offset inside any of these spans? A bisect, not a scan: a long text has thousands of
    numbers and spans, and a scan per number made dates quadratic in the text's length."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans = sorted(spans)
        self.starts = [a for a, _ in spans]
        self.reach: list[int] = []  # the furthest end of any span starting at or before starts[i]
        for _, b in spans:
            self.reach.append(max(b, self.reach[-1]) if self.reach else b)

    def cover(self, pos: int) -> bool:
        i = bisect.bisect_right(self.starts, pos) - 1
        return i >= 0 and self.reach[i] > pos


def _units(folded: Folded, lex: DateLexicon, consumed: list[tuple[int, int]], alone: bool = False) -> list[_Unit]:
    """Numbers and lexicon phrases of the folded text, in order (other words are left out: the
    gap text between units tells whether two units are adjacent). `alone`: no other stage reads this
    folded text, so the date lexicon passes over it by itself (`PhraseMatcher.find_alone`)."""
    text = folded.text
    find = lex.matcher.find_alone if alone else lex.matcher.find
    units = [_Unit(kind, value, h.fs, h.fe, h.key)
             for h in find(folded, lex.code or None) for kind, value in (h.value,)
             if kind != "month_abbr" or h.fe - h.fs == len(h.key)]  # an abbreviation takes no ending: қарсы
    taken = _Spans([(u.start, u.end) for u in units] + consumed)
    for m in lex.number.finditer(text):
        s, e = m.start(), m.end()
        if (s and text[s - 1].isalnum() and not text[s - 1].isdigit() and not _proclitic_before(text, s, lex)) \
                or taken.cover(s):
            continue  # inside a word ("A320") or a numeric date already read
        digits = m.group(1)
        units.append(_Unit("num", int(digits), s, e, m.group(0), len(digits)))
    if consumed:  # numeric dates read before: nothing of theirs is read again
        already = _Spans(consumed)
        units = [u for u in units if not already.cover(u.start)]
    units.sort(key=lambda u: u.start)
    merged: list[_Unit] = []
    for u in units:  # one month named twice, "شباط/فبراير": one unit
        prev = merged[-1] if merged else None
        if (prev and prev.kind == u.kind == "month" and prev.value == u.value
                and GAP_OK.match(text[prev.end:u.start])):
            merged[-1] = _Unit("month", u.value, prev.start, u.end, f"{prev.entry}/{u.entry}")
        else:
            merged.append(u)
    return merged


class _Matcher:
    """Patterns over the unit list; each `try_*` returns (last unit index, parts, rule) or None."""

    def __init__(self, text: str, units: list[_Unit], lex: DateLexicon):
        self.text, self.u, self.lex = text, units, lex
        self.connectors = {u.entry for u in units if u.kind == "conn"}

    def adjacent(self, i: int, j: int) -> bool:
        if j >= len(self.u):
            return False
        gap = self.text[self.u[i].end:self.u[j].start]
        # German "5. März", Estonian "2021. aasta märtsis"; an abbreviated month "Jan. 6", "15 янв. 2022"
        dot_ok = self.u[i].kind == "num" or (self.u[i].kind in MONTHS and len(self.u[i].entry) <= 4)
        return bool((GAP_AFTER_DAY if dot_ok else GAP_OK).match(gap))

    def kind(self, j: int) -> str | None:
        return self.u[j].kind if 0 <= j < len(self.u) else None

    def skip_conn(self, i: int) -> int:
        """Index of the next non-connector unit after i, if the chain is adjacent (≤ 2 connectors)."""
        j = i + 1
        for _ in range(3):
            if not self.adjacent(j - 1, j):
                return len(self.u)
            if self.kind(j) != "conn":
                return j
            j += 1
        return len(self.u)

    def day(self, j: int) -> int | None:
        if j >= len(self.u):
            return None
        unit = self.u[j]
        if unit.kind == "num" and unit.ndigits <= 2 and 1 <= unit.value <= 31:
            return unit.value
        if unit.kind == "ordinal":
            return unit.value
        return None

    def ordinal(self, j: int) -> int | None:
        """A number written as an ordinal: "5th", "5-й", "5." (German), "fifth", else None."""
        unit = self.u[j]
        if unit.kind == "ordinal":
            return unit.value
        if unit.kind == "num" and unit.ndigits <= 3 and unit.value and (
                unit.entry != str(unit.value) or self.text[unit.end:unit.end + 1] == "."):
            return unit.value
        return None

    def range_gap(self, i: int, j: int) -> bool:
        """Units i and j stand as the two ends of a range: "5-7", "5 and 7", "с 5 по 7", "21 و22"."""
        if j >= len(self.u):
            return False
        gap = self.text[self.u[i].end:self.u[j].start].strip(" ,")
        if self.u[i].kind == "num":  # German "vom 5. bis 7. März": the day's own dot
            gap = gap.removeprefix(".").strip()
        return gap in ("-", "–", "—") or gap in self.lex.range_words

    def next_word(self, pos: int) -> tuple[str, int] | None:
        """The word after `pos` (over spaces, dots and hyphens) and its end."""
        m = _NEXT_WORD.match(self.text, pos)
        return (m.group(1), m.end()) if m else None

    def prev_words(self, pos: int, n: int = 2) -> list[str]:
        """Up to n words before `pos`, nearest first."""
        return [w[::-1] for w in _WORD.findall(self.text[max(0, pos - 40):pos][::-1])[:n]]

    def day_word_near(self, i: int) -> int | None:
        """Where the day count ends when a day noun stands beside the ordinal i ("5th day", "5-й
        день", "اليوم الرابع", "dita e 5-të"), else None. "the seventh day of March" is a date."""
        units = self.lex.day_units
        if not units or self.kind(self.skip_conn(i)) in MONTHS:
            return None
        after = self.next_word(self.u[i].end)
        if after and after[0] in units:
            return after[1]
        before = self.prev_words(self.u[i].start)
        if before and (before[0] in units or (len(before) > 1 and len(before[0]) <= 2 and before[1] in units)):
            return self.u[i].end
        return None

    def count(self, i: int) -> tuple[dict, str] | None:
        """ "in two days", "через 2 дня", "two days later", "три дня назад", "بعد يومين": (parts, rule)."""
        unit, lex = self.u[i], self.lex
        if not lex.day_units:
            return None
        days = 1
        if unit.kind == "count" and (unit.entry in lex.day_units or unit.entry in lex.week_units):
            end = unit.end  # a dual noun is its own count: يومين, أسبوعين
            days = 7 if unit.entry in lex.week_units else 1
        else:
            after = self.next_word(unit.end)
            if not after or (after[0] not in lex.day_units and after[0] not in lex.week_units):
                return None
            end = after[1]
            days = 7 if after[0] in lex.week_units else 1
            following = self.next_word(end)
            if following and following[0] in self.connectors:  # "in 3 days of fighting" is a span
                return None
        raw_before, raw_after = self.text[max(0, unit.start - 30):unit.start], self.text[end:end + 30]
        before, after_text = raw_before.rstrip(), raw_after.lstrip()
        for key, markers, sign in (("in", lex.count_in, 1), ("ago", lex.count_ago, -1),
                                   ("later", lex.count_later, 1)):
            for mk in markers:
                if _ends_with_word(before, mk):
                    fs = unit.start - (len(raw_before) - len(before)) - len(mk)
                    return {"form": "count", "off": sign * unit.value * days, "from": key, "fs": fs, "fe": end}, \
                        f"count-{key}:{mk}"
                if _starts_with_word(after_text, mk):
                    fe = end + (len(raw_after) - len(after_text)) + len(mk)
                    return {"form": "count", "off": sign * unit.value * days, "from": key, "fs": unit.start,
                            "fe": fe}, f"count-{key}:{mk}"
        return None

    def year(self, j: int) -> int | None:
        if j >= len(self.u):
            return None
        unit = self.u[j]
        if unit.kind == "num" and unit.ndigits == 4 and MIN_YEAR <= unit.value <= MAX_YEAR:
            return unit.value
        return None

    def marker(self, i: int, last: int) -> str | None:
        """'past' or 'future' when a marker stands right before i or right after `last`."""
        if i > 0 and self.kind(i - 1) in ("past", "future") and self.adjacent(i - 1, i):
            return self.kind(i - 1)
        j = last + 1
        if self.kind(j) in ("conn",) and self.adjacent(last, j):
            j += 1
        if self.kind(j) in ("past", "future") and self.adjacent(j - 1, j):
            return self.kind(j)
        return None


_NEXT_WORD = re.compile(r"[\s.\-]*([^\W\d_]+)")
_WORD = re.compile(r"[^\W\d_]+")


def _ends_with_word(text: str, phrase: str) -> bool:
    return text.endswith(phrase) and (len(text) == len(phrase) or not text[-len(phrase) - 1].isalnum())


def _starts_with_word(text: str, phrase: str) -> bool:
    return text.startswith(phrase) and (len(text) == len(phrase) or not text[len(phrase)].isalnum())


NARRATIVE_REACH = 400  # characters back to the date a story is being told from
NARRATIVE_SPAN = timedelta(days=62)  # how far after that date a day and month without a year may fall


def _narrative_year(parts: dict, anchor: date | None) -> int | None:
    """The year of a story told from an earlier date: after "on 2 January 2022 protests began", a
    bare "on 5 January" continues 2022 even in a report published in 2023. Used only when the day
    and month fall within two months after that date: a narrative moves forward, not back."""
    if anchor is None or not _valid(anchor.year, parts["m"], parts["d"]):
        return None
    candidate = date(anchor.year, parts["m"], parts["d"])
    return anchor.year if anchor <= candidate <= anchor + NARRATIVE_SPAN else None


ANCHORED = ("anchor_day", "count", "day_count")
DAY_FORMS = ("rel_day", "weekday") + ANCHORED  # forms that count days: at month precision when only the month is known


def _resolve(parts: dict, pub: PartialDate | None, anchor: date | None = None) -> tuple[date, str, bool] | None:
    """(date, precision, relative) for the matched parts, or None when it cannot be resolved.

    `anchor`: the date (day or month precision) mentioned just before, for a day and month with no year."""
    form = parts["form"]
    if form == "d-same-month":
        ok = anchor is not None and _valid(anchor.year, anchor.month, parts["d"])
        return (date(anchor.year, anchor.month, parts["d"]), "day", True) if ok else None
    if form == "dm" and (year := _narrative_year(parts, anchor)) is not None:
        return date(year, parts["m"], parts["d"]), "day", True
    y, m, d = parts.get("y"), parts.get("m"), parts.get("d")
    if form in ("dmy", "md-y"):
        return (date(y, m, d), "day", False) if _valid(y, m, d) else None
    if form == "my":
        return date(y, m, 1), "month", False
    if form == "y":
        return date(y, 1, 1), "year", False
    if form in ANCHORED:  # counted from the day told before (or in the sentence), else from publication
        ref = parts.get("ref") or (pub.as_date() if pub else None)
        if ref is not None:
            return ref + timedelta(days=parts["off"]), "day", True
        if pub is not None and pub.month and form != "day_count":
            return date(pub.year, pub.month, 1), "month", True
        return None
    if pub is None:
        return None
    if form == "dm":  # day and month, year from the publication date (a recent past is likelier)
        y = pub.year
        if pub.month and not _valid(y, m, d):
            return None
        if pub.month and (m - pub.month) > 2:
            y -= 1
        if not _valid(y, m, d):
            return None
        return date(y, m, d), "day", True
    if form == "m":
        y = pub.year
        mark = parts.get("marker")
        if pub.month:
            if mark == "past" and m >= pub.month:
                y -= 1
            elif mark == "future" and m <= pub.month:
                y += 1
            elif mark is None and m - pub.month > 2:
                y -= 1
        return date(y, m, 1), "month", True
    if form == "rel_year":
        return date(pub.year + parts["off"], 1, 1), "year", True
    if form == "m-rel-year":
        return date(pub.year + parts["off"], m, 1), "month", True
    if form == "dm-rel-year":
        y = pub.year + parts["off"]
        return (date(y, m, d), "day", True) if _valid(y, m, d) else None
    if pub.month is None:
        return None
    if form == "rel_month":
        idx = pub.year * 12 + (pub.month - 1) + parts["off"]
        return date(idx // 12, idx % 12 + 1, 1), "month", True
    if form == "d-rel-month":
        idx = pub.year * 12 + (pub.month - 1) + parts["off"]
        y, m = idx // 12, idx % 12 + 1
        return (date(y, m, d), "day", True) if _valid(y, m, d) else None
    base = pub.as_date()
    if base is None:  # "on Monday" in a report dated only by its month: that month
        return (date(pub.year, pub.month, 1), "month", True) if form in ("rel_day", "weekday") else None
    if form == "rel_day":
        return base + timedelta(days=parts["off"]), "day", True
    if form == "weekday-week":  # that weekday of the week `off` weeks from publication's (weeks start on Monday)
        week = base + timedelta(weeks=parts["off"])
        return week + timedelta(days=parts["wd"] - 1 - week.weekday()), "day", True
    if form == "rel_week":
        anchor = base + timedelta(weeks=parts["off"])
        monday = anchor - timedelta(days=anchor.weekday())
        sunday = monday + timedelta(days=6)
        if monday.month != sunday.month:
            return None
        return date(anchor.year, anchor.month, 1), "month", True
    if form == "weekday":
        wd, mark = parts["wd"] - 1, parts.get("marker")
        if mark == "future":
            ahead = (wd - base.weekday()) % 7 or 7
            return base + timedelta(days=ahead), "day", True
        back = (base.weekday() - wd) % 7
        if mark == "past" and back == 0:
            back = 7
        return base - timedelta(days=back), "day", True
    return None


# Unit kinds no date opens with (only read beside one): most units of a text, answered at once.
_NO_DATE_START = frozenset({"alone", "conn", "past", "future", "same_month"})


def _match_at(mt: _Matcher, i: int) -> tuple[int, dict, str] | None:
    u = mt.u[i]
    if u.kind in _NO_DATE_START:
        return None
    day = mt.day(i)
    if day is not None:
        j = mt.skip_conn(i)
        if mt.kind(j) in MONTHS:
            k = mt.skip_conn(j)
            y = mt.year(k)
            if y:
                return k, {"form": "dmy", "y": y, "m": mt.u[j].value, "d": day}, "day-month-year"
            if mt.kind(k) == "rel_year":  # "5 января прошлого года"
                return k, {"form": "dm-rel-year", "m": mt.u[j].value, "d": day, "off": mt.u[k].value}, \
                    f"day-month-{mt.u[k].entry}"
            return j, {"form": "dm", "m": mt.u[j].value, "d": day}, "day-month"
        if mt.kind(j) == "this_month":
            return j, {"form": "d-rel-month", "d": day, "off": 0}, "day-this-month"
        if mt.kind(j) == "same_month":  # "on the 6th of the same month": the month told just before
            return j, {"form": "d-same-month", "d": day}, "day-same-month"
        if mt.kind(j) == "rel_month":  # "the 5th of last month"
            return j, {"form": "d-rel-month", "d": day, "off": mt.u[j].value}, f"day-{mt.u[j].entry}"
    n = mt.ordinal(i)
    # "on the 5th day of the strike": it began n - 1 days before. A first day says nothing the date
    # does not ("في الأيام الأولى من عام 2022" is "in the first days of 2022", no count at all)
    if n is not None and n >= 2 and (end := mt.day_word_near(i)) is not None:
        return i, {"form": "day_count", "off": 1 - n, "fe": end}, "day-count"  # n - 1 days before
    if u.kind == "count" or (u.kind == "num" and u.ndigits <= 3 and u.entry == str(u.value)):
        counted = mt.count(i)
        if counted:
            return i, counted[0], counted[1]
    if u.kind in ("month", "month_abbr"):  # "March 5", "Қаң 15" ("15 Қаң 2022" is read above)
        j = mt.skip_conn(i)
        if j < len(mt.u) and mt.u[j].kind == "num" and mt.u[j].ndigits <= 2 and mt.day(j):
            k = mt.skip_conn(j)
            y = mt.year(k)
            if y:
                return k, {"form": "md-y", "y": y, "m": u.value, "d": mt.u[j].value}, "month-day-year"
            return j, {"form": "dm", "m": u.value, "d": mt.u[j].value}, "month-day"
        if u.kind == "month_abbr":
            return None  # an abbreviation alone is a word
        y = mt.year(j)
        if y:
            return j, {"form": "my", "y": y, "m": u.value}, "month-year"
        if mt.kind(j) == "rel_year":  # "в январе прошлого года"
            return j, {"form": "m-rel-year", "m": u.value, "off": mt.u[j].value}, f"month-{mt.u[j].entry}"
        mark = mt.marker(i, i)
        end = i
        if mark and mt.kind(i + 1) in ("past", "future", "conn"):
            end = i + 1 if mt.kind(i + 1) in ("past", "future") else i + 2
        return end, {"form": "m", "m": u.value, "marker": mark, "needs_marker": True}, "month"
    y = mt.year(i)
    if y:
        j = mt.skip_conn(i)
        if j > i + 1 and mt.day(j) is not None:  # Kazakh "2022 жылғы 2 қаңтарда"
            k = mt.skip_conn(j)
            if mt.kind(k) in MONTHS:
                return k, {"form": "dmy", "y": y, "m": mt.u[k].value, "d": mt.day(j)}, "year-day-month"
        if j > i + 1 and mt.kind(j) == "month":
            return j, {"form": "my", "y": y, "m": mt.u[j].value}, "year-month"
        return i, {"form": "y", "y": y}, "year"
    if u.kind in ("this_month", "rel_month"):  # Kazakh "осы айдың 5-інде": the month first
        j = mt.skip_conn(i)
        d = mt.day(j)
        suffixed = j < len(mt.u) and mt.u[j].kind == "num" and (
            mt.u[j].entry != str(mt.u[j].value) or mt.text[mt.u[j].end:mt.u[j].end + 1] in ("'", "."))
        if d is not None and suffixed and mt.kind(mt.skip_conn(j)) not in ("month", "this_month", "rel_month"):
            # only a day written as a day ("5-інде"): "last month 12 people" is a count
            return j, {"form": "d-rel-month", "d": d, "off": u.value}, f"{u.entry}-day"
    if u.kind == "rel_year":  # Kazakh "өткен жылдың наурыз айында": the year first
        j = mt.skip_conn(i)
        if mt.kind(j) == "month":
            return j, {"form": "m-rel-year", "m": mt.u[j].value, "off": u.value}, f"{u.entry}-month"
    if u.kind == "rel_day" and u.entry in mt.lex.day_units and mt.adjacent(i, i + 1) \
            and (n := mt.ordinal(i + 1)) is not None:  # Arabic "اليوم الرابع" is "the fourth day", not "today"
        if mt.kind(mt.skip_conn(i + 1)) in MONTHS:
            return None  # "اليوم الرابع من مارس": the day of a date, read at the ordinal
        return i + 1, {"form": "day_count", "off": 1 - n}, "day-count"
    if u.kind == "holiday":  # a day named by its feast: the year as for a day and month
        j = mt.skip_conn(i)
        y = mt.year(j)
        parts = {"form": "dmy", "y": y} if y else {"form": "dm"}
        return (j if y else i), {**parts, "m": u.value // 100, "d": u.value % 100}, f"holiday:{u.entry}"
    if u.kind in ("anchor_day", "eve_day"):  # "the next day", "накануне": from the day told just before
        after = mt.next_word(u.end) if u.kind == "eve_day" else None
        if after and after[0] in mt.lex.eve_blockers:
            return None  # the eve of an event, not a day: "накануне визита", "the day before the vote"
        return i, {"form": "anchor_day", "off": u.value}, f"anchor_day:{u.entry}"
    if u.kind == "rel_week" and mt.kind(i + 1) == "weekday" and _WEEK_GAP.match(mt.text[u.end:mt.u[i + 1].start]):
        # "last week on Monday", "на прошлой неделе в понедельник": the weekday of that week
        return i + 1, {"form": "weekday-week", "wd": mt.u[i + 1].value, "off": u.value}, f"{u.entry}+weekday"
    if u.kind in ("rel_day", "rel_week", "rel_month", "rel_year"):
        return i, {"form": u.kind, "off": u.value}, f"{u.kind}:{u.entry}"
    if u.kind == "weekday":
        # "20 Kasım Pazar günü": the explicit date just before says it better
        if i > 0 and mt.adjacent(i - 1, i) and (mt.kind(i - 1) in MONTHS or (
                mt.day(i - 1) is not None and i > 1 and mt.kind(i - 2) in MONTHS and mt.adjacent(i - 2, i - 1))):
            return None  # (a count before it, "3.200 jeudi", is no date)
        # "Tuesday (1 March)": the explicit date that follows says it better
        for j in range(i + 1, min(i + 4, len(mt.u))):
            if not mt.adjacent(j - 1, j):
                break
            if mt.kind(j) in MONTHS or (mt.day(j) is not None and mt.kind(mt.skip_conn(j)) in MONTHS):
                return None
        if (j := _week_beside(mt, i, i + 1)) is not None:  # "on Monday last week", "الاثنين من الأسبوع الماضي"
            return j, {"form": "weekday-week", "wd": u.value, "off": mt.u[j].value}, f"weekday+{mt.u[j].entry}"
        mark = mt.marker(i, i)
        end = i + 1 if mt.kind(i + 1) in ("past", "future") and mt.adjacent(i, i + 1) else i
        return end, {"form": "weekday", "wd": u.value, "marker": mark}, "weekday" + (f"+{mark}" if mark else "")
    return None


_WEEK_GAP = re.compile(r"^\s+(?:[^\W\d_]{1,2}\s+)?$")  # "Monday last week", "в понедельник на прошлой неделе"


def _week_beside(mt: _Matcher, i: int, j: int) -> int | None:
    """The relative week (unit index) right after weekday i, over a connector or one short word."""
    if mt.kind(j) == "conn" and mt.adjacent(i, j):
        i, j = j, j + 1
    if mt.kind(j) == "rel_week" and _WEEK_GAP.match(mt.text[mt.u[i].end:mt.u[j].start]):
        return j
    return None


def _range_first(mt: _Matcher, i: int) -> tuple[dict, str] | None:
    """ "5-7 March": day i stands before a day that opens a day-month date."""
    d = mt.day(i)
    if d is None:  # most units
        return None
    j = i + 1
    if mt.kind(j) in ("alone", "conn") and mt.day(j + 1) is not None:
        j += 1  # the range word is also a date word: "nga 5 deri më 7 mars", "من 5 إلى 7 مارس"
    if mt.day(j) is None or not mt.range_gap(i, j):
        return None
    nxt = _match_at(mt, j)
    if not nxt or nxt[1]["form"] not in ("dm", "dmy", "dm-rel-year"):
        return None
    parts = dict(nxt[1], d=d)
    return parts, "range-first"


def _range_second(mt: _Matcher, last: int, parts: dict) -> tuple[dict, dict, int] | None:
    """ "March 5-7" / "March 5 and 7, 2022": a bare day after the month-day, (first, second, last unit)."""
    j = last + 1
    d2 = mt.day(j)
    if d2 is None or not mt.range_gap(last, j) or mt.kind(mt.skip_conn(j)) in MONTHS:
        return None
    k = mt.skip_conn(j)
    y = mt.year(k)
    if y:
        return dict(parts, form="md-y", y=y), dict(parts, form="md-y", y=y, d=d2), k
    return parts, dict(parts, d=d2), j


def _anchor_before(found: list[DateMention], start: int) -> date | None:
    """The latest date of day or month precision mentioned within NARRATIVE_REACH before `start`."""
    before = [d for d in found if d.end <= start and start - d.end <= NARRATIVE_REACH and d.precision != "year"]
    if not before:
        return None
    return date.fromisoformat(max(before, key=lambda d: d.end).date)


def _day_before(found: list[DateMention], start: int, lo: int) -> date | None:
    """The latest day-precision date mentioned in [lo, start): what "the next day" counts from (a
    day itself counted from another, "накануне", is none: counts do not chain)."""
    before = [d for d in found if lo <= d.start and d.end <= start and d.precision == "day"
              and not d.rule.startswith(("anchor_day", "count", "day-count", "era-start"))]
    return date.fromisoformat(max(before, key=lambda d: d.end).date) if before else None


def _sentence_start(text: str, pos: int) -> int:
    """Where the sentence holding `pos` starts (a cheap look back to the last full stop or line break)."""
    return max(text.rfind(". ", 0, pos), text.rfind("\n", 0, pos), text.rfind("! ", 0, pos),
               text.rfind("? ", 0, pos)) + 1


ERA_BEFORE, ERA_AFTER = 120, 40  # how far an era's name may stand before a day count, and after its day noun


def _sentence_end(text: str, pos: int) -> int:
    """Where the sentence holding `pos` ends (the next full stop or line break, else the text's end)."""
    ends = [i for i in (text.find(". ", pos), text.find("\n", pos), text.find("! ", pos), text.find("? ", pos))
            if i >= 0]
    return min(ends, default=len(text))


def _era_near(text: str, fs: int, fe: int, lex: DateLexicon) -> tuple[Era, tuple[int, int]] | None:
    """The era a day count counts ("the 7th day of the war", "війна … сьомий день"): the nearest of
    its names in reach, in a sentence that also holds one of its `with` words; else None."""
    if not lex.eras:
        return None
    s0, e0 = _sentence_start(text, fs), _sentence_end(text, fe)
    sentence = text[s0:e0]
    best: tuple[int, Era, tuple[int, int]] | None = None
    for era in lex.eras:
        if not any(stem in sentence for stem in era.with_stems):
            continue
        for m in era.names.finditer(text, max(s0, fs - ERA_BEFORE), min(e0, fe + ERA_AFTER)):
            if fs <= m.start() < fe:
                continue
            distance = fs - m.end() if m.end() <= fs else m.start() - fe
            if best is None or distance < best[0]:
                best = (distance, era, (m.start(), m.end()))
    return (best[1], best[2]) if best else None


def _reference(parts: dict, found: list[DateMention], text: str, start: int) -> date | None:
    """The day an anchored form counts from: "the next day" and "two days later" from the day told
    within NARRATIVE_REACH before; "in two days" and "the 5th day" from a day told earlier in the same
    sentence; "two days ago" (and any form with nothing before it) from the publication day (None)."""
    form, origin = parts["form"], parts.get("from")
    if form == "anchor_day" or origin == "later":
        return _day_before(found, start, start - NARRATIVE_REACH)
    if origin == "in" or form == "day_count":
        return _day_before(found, start, _sentence_start(text, start))
    return None


@lru_cache(maxsize=1)
def coverage_years() -> frozenset[int]:
    """The years of `data/coverage.yaml` (`event_years`, first and last): the candidates, beside the
    years a text names, for a day and month an undated article fixes by its weekday only."""
    span = _coverage().get("event_years")
    return frozenset(range(int(span[0]), int(span[1]) + 1)) if span else frozenset()


def _weekday_beside(mt: _Matcher, first: int, last: int) -> int | None:
    """The ISO weekday written right beside the date of units first..last, over punctuation and at
    most one short word: "Saturday (15 January)", "в среду, 19 января", "6 октября, в четверг"."""
    for a, b, named in ((first - 1, first, first - 1), (last, last + 1, last + 1)):
        if a >= 0 and mt.kind(named) == "weekday" and _GAP_NAMED.match(mt.text[mt.u[a].end:mt.u[b].start]):
            return mt.u[named].value
    return None


def _weekday_year(m: int, d: int, weekday: int, years: frozenset[int]) -> int | None:
    """The one year of `years` that puts day d of month m on `weekday`, else None."""
    fits = [y for y in years if _valid(y, m, d) and date(y, m, d).isoweekday() == weekday]
    return fits[0] if len(fits) == 1 else None


def _undated_days(out: list[DateMention], pending: list[tuple[int, int, dict, str, int | None]],
                  years: frozenset[int], emit) -> None:
    """Days and months of an article with no publication date, once the whole text is read.

    A story's explicit date earlier in the text (at any distance) dates a bare day and month within
    two months after it, as `_narrative_year` does nearby. Else a weekday written beside a day and
    month fixes its year when exactly one year of `years` fits (`+weekday`), and the other bare days
    of the article take their year from the nearest such day as from a publication date
    (`@weekday-year`). Nothing here counts a relative word: there is still no publication day."""
    told = [d for d in out if d.precision != "year" and not d.relative]
    fixed: list[tuple[int, date]] = []
    rest = []
    for fs, fe, parts, rule, weekday in pending:
        before = [d for d in told if d.end <= fs]
        anchor = date.fromisoformat(max(before, key=lambda d: d.end).date) if before else None
        if (y := _narrative_year(parts, anchor)) is not None:
            emit(fs, fe, (date(y, parts["m"], parts["d"]), "day", True), rule + "@story-year")
        elif weekday and (y := _weekday_year(parts["m"], parts["d"], weekday, years)) is not None:
            fixed.append((fs, date(y, parts["m"], parts["d"])))
            emit(fs, fe, (fixed[-1][1], "day", True), rule + "+weekday")
        else:
            rest.append((fs, fe, parts, rule))
    for fs, fe, parts, rule in rest if fixed else ():
        near = min(fixed, key=lambda f: abs(f[0] - fs))[1]
        res = _resolve(parts, PartialDate(near.year, near.month, near.day))
        if res:
            emit(fs, fe, res, rule + "@weekday-year")


def find_dates(text: str, code: str | None, published: object = None,
               folded: Folded | None = None) -> list[DateMention]:
    """Every date expression of `text` (language `code`) resolved against `published`.

    Expressions that cannot be resolved (a relative word with no publication day, a day and month
    with no year in sight) are left out.
    """
    pub = published if isinstance(published, PartialDate) else PartialDate.parse(published)
    alone = folded is None  # a text of its own (a header, a lede): only the dates are looked for in it
    folded = folded or fold(text)
    ftext = folded.text
    out: list[DateMention] = []

    def emit(fs: int, fe: int, resolved: tuple[date, str, bool], rule: str) -> None:
        s, e = folded.span(fs, fe)
        d, precision, relative = resolved
        out.append(DateMention(s, e, text[s:e], d.isoformat(), precision, relative, rule))

    consumed: list[tuple[int, int]] = []
    for rx, order in NUMERIC_DATE_RES:
        for m in rx.finditer(ftext):
            if any(a <= m.start() < b for a, b in consumed):
                continue
            vals = dict(zip(order, (int(g) for g in m.groups() if g.isdigit()), strict=False))
            res = _resolve({"form": "dmy", **vals}, pub)
            if res:
                emit(m.start(), m.end(), res, f"numeric-{order}")
            consumed.append((m.start(), m.end()))  # an impossible date is no year either
    # an unknown language: absolute numeric dates and years only
    lex = lexicon(code if code and code in languages() else "")
    units = _units(folded, lex, consumed, alone)
    mt = _Matcher(ftext, units, lex)
    pending: list[tuple[int, int, dict, str, int | None]] = []
    era_names: set[tuple[int, int]] = set()
    i = 0
    while i < len(units):
        hit = _match_at(mt, i)
        if hit is None:
            first = _range_first(mt, i)
            if first:  # "5-7 March", "5 и 7 марта": the first day takes the month (and year) of the second
                parts, rule = first
                res = _resolve(parts, pub, _anchor_before(out, folded.span(units[i].start, units[i].start)[0]))
                if res:
                    emit(units[i].start, units[i].end, res, rule)
            i += 1
            continue
        last, parts, rule = hit
        if parts.pop("needs_marker", False) and lex.alone_markers:
            before = i > 0 and mt.kind(i - 1) in ("alone", "past", "future") and mt.adjacent(i - 1, i)
            after = mt.kind(i + 1) in ("alone", "past", "future") and mt.adjacent(i, i + 1)
            if not (before or after):
                i += 1
                continue
        start = folded.span(units[i].start, units[i].start)[0]
        fs, fe = parts.pop("fs", units[i].start), parts.pop("fe", units[last].end)
        if parts["form"] == "day_count" and (near := _era_near(ftext, fs, fe, lex)) is not None:
            era, (ns, ne) = near  # "the war entered its 7th day": that day, and the war's first
            emit(fs, fe, (era.first_day - timedelta(days=parts["off"]), "day", True), f"era-day:{era.era_id}")
            if (ns, ne) not in era_names:
                era_names.add((ns, ne))
                emit(ns, ne, (era.first_day, "day", True), f"era-start:{era.era_id}")
            i = last + 1
            continue
        second = _range_second(mt, last, parts) if rule == "month-day" else None
        if second:  # "March 5-7, 2022": the year after the second day is the first's too
            parts, second_parts, last = second
        anchor = _anchor_before(out, start) if parts["form"] in ("dm", "d-same-month") else None
        if parts["form"] in ANCHORED:
            parts["ref"] = _reference(parts, out, text, start)
        res = _resolve(parts, pub, anchor)
        if res:
            emit(fs, fe, res, rule + ("@pub-month" if parts["form"] in DAY_FORMS and res[1] == "month" else ""))
        elif pub is None and parts["form"] == "dm":  # no year in sight yet: read again once the text is read
            pending.append((fs, fe, parts, rule, _weekday_beside(mt, i, last)))
        if second:
            res2 = _resolve(second_parts, pub, anchor)
            j = last if second_parts["form"] == "dm" else last - 1  # the second day's unit
            if res2:
                emit(units[j].start, units[j].end, res2, "range-second")
        i = last + 1
    if pending:
        named = {u.value for u in units if u.kind == "num" and u.ndigits == 4 and MIN_YEAR <= u.value <= MAX_YEAR}
        named.update(int(d.date[:4]) for d in out if not d.relative)
        _undated_days(out, pending, coverage_years() | named, emit)
    out.sort(key=lambda d: d.start)
    return out


_GAP_NAMED = re.compile(r"^[\s,،()\-/]*(?:[^\W\d_]{1,2}\s+)?$")  # "сегодня, во вторник"


def named_before(text: str, code: str | None, pos: int) -> tuple[int | None, bool]:
    """(ISO weekday, "today" word) named right before `pos`: "اليوم الثلاثاء 14 مارس 2023" gives
    (6, True) for the date's start; (None, False) when no weekday stands there."""
    window = text[max(0, pos - 60):pos]
    folded = fold(window)
    lex = lexicon(code if code and code in languages() else "")
    hits = sorted(lex.matcher.find_alone(folded, lex.code or None), key=lambda h: h.fs)
    end = len(folded.text)
    weekday, today = None, False
    for h in reversed(hits):
        kind, value = h.value
        if not _GAP_NAMED.match(folded.text[h.fe:end]):
            break
        if weekday is None and kind == "weekday":
            weekday, end = value, h.fs
            if any(folded.text[h.fs:h.fe].startswith(w + " ") for w in lex.today_words):
                return weekday, True  # one phrase: Arabic "اليوم السبت" is "ال" + "يوم السبت"
        elif weekday is not None and kind == "rel_day" and value == 0:
            today = True
            break
        else:
            break
    return weekday, today


@lru_cache(maxsize=1)
def calendar_words() -> tuple[frozenset[str], frozenset[str]]:
    """(month words, weekday words) of every known language, folded: what a header stamp holds
    besides numbers ("5 Aralık 2023, Salı", "الثلاثاء 5 ديسمبر / December 2023")."""
    months: set[str] = set()
    weekdays: set[str] = set()
    for code in languages():
        data = load(code, "dates.yaml")
        for key, words in (("months", months), ("month_abbreviations", months), ("weekdays", weekdays)):
            for forms in (data.get(key) or {}).values():
                for form in folded_list(forms):
                    words.update(w for w in form.split() if len(w) > 2)  # not the "в" of "в среду"
    return frozenset(months), frozenset(weekdays)
