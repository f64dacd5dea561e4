"""Temporal tagger: find date expressions per language and resolve them against the publication date.

Why not dateparser's `search_dates`: it costs 7–100 ms per article, far over the build's speed bar,
and it does not resolve "the fifth of this month" against the article's own date. Here the
language data (`data/lang/<code>/dates.yaml`) is compiled once into a phrase table; an article is
tokenised once, tokens are grouped into units (month, weekday, number, ordinal, connector,
relative phrase), and a handful of language-independent patterns combine the units.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from kzdash.text.langdata import folded_list, languages, load
from kzdash.text.lexicon import PhraseMatcher
from kzdash.text.textnorm import Folded, fold

NUMERIC_DATE_RES = (  # (regex on folded text, order of the groups)
    (re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)"), "ymd"),
    (re.compile(r"(?<![\d.])(\d{1,2})\s?[./]\s?(\d{1,2})\s?[./]\s?(\d{4})(?!\d)"), "dmy"),
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


@dataclass(frozen=True)
class _Unit:
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


_CATEGORIES = {  # dates.yaml key -> unit kind, and whether the YAML maps value -> forms
    "months": ("month", True),
    "weekdays": ("weekday", True),
    "day_ordinals": ("ordinal", True),
    "relative_days": ("rel_day", False),
    "relative_weeks": ("rel_week", False),
    "relative_months": ("rel_month", False),
    "relative_years": ("rel_year", False),
}
_FLAT = {"connectors": "conn", "this_month": "this_month", "past_markers": "past",
         "future_markers": "future", "month_alone_markers": "alone"}


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
    suffixes = "|".join(re.escape(x) for x in folded_list(data.get("day_suffixes")))
    number = re.compile(r"(\d+)" + (rf"(?:-?(?:{suffixes})(?![^\W\d_]))?" if suffixes else ""))
    return DateLexicon(code, PhraseMatcher(phrases), number,
                       frozenset(folded_list(data.get("month_alone_markers"))))


def _valid(y: int, m: int | None, d: int | None) -> bool:
    if m is None or not 1 <= m <= 12:
        return False
    return d is not None and 1 <= d <= calendar.monthrange(y, m)[1]


def _units(folded: Folded, lex: DateLexicon, consumed: list[tuple[int, int]]) -> list[_Unit]:
    """Numbers and lexicon phrases of the folded text, in order (other words are left out: the
    gap text between units tells whether two units are adjacent)."""
    text = folded.text
    units = [_Unit(kind, value, h.fs, h.fe, h.key)
             for h in lex.matcher.find(folded, lex.code or None) for kind, value in (h.value,)]
    taken = [(u.start, u.end) for u in units] + consumed
    for m in lex.number.finditer(text):
        s, e = m.start(), m.end()
        if (s and text[s - 1].isalnum() and not text[s - 1].isdigit()) or any(a <= s < b for a, b in taken):
            continue  # inside a word ("A320") or a numeric date already read
        digits = m.group(1)
        units.append(_Unit("num", int(digits), s, e, m.group(0), len(digits)))
    units = [u for u in units if not any(a <= u.start < b for a, b in consumed)]
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

    def __init__(self, text: str, units: list[_Unit]):
        self.text, self.u = text, units

    def adjacent(self, i: int, j: int) -> bool:
        if j >= len(self.u):
            return False
        gap = self.text[self.u[i].end:self.u[j].start]
        after_day = self.u[i].kind == "num"  # German "5. März", Estonian "2021. aasta märtsis"
        return bool((GAP_AFTER_DAY if after_day else GAP_OK).match(gap))

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


def _resolve(parts: dict, pub: PartialDate | None, anchor: date | None = None) -> tuple[date, str, bool] | None:
    """(date, precision, relative) for the matched parts, or None when it cannot be resolved.

    `anchor`: the date (day or month precision) mentioned just before, for a day and month with no year."""
    form = parts["form"]
    if form == "dm" and (year := _narrative_year(parts, anchor)) is not None:
        return date(year, parts["m"], parts["d"]), "day", True
    y, m, d = parts.get("y"), parts.get("m"), parts.get("d")
    if form in ("dmy", "md-y"):
        return (date(y, m, d), "day", False) if _valid(y, m, d) else None
    if form == "my":
        return date(y, m, 1), "month", False
    if form == "y":
        return date(y, 1, 1), "year", False
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
    if base is None:
        return None
    if form == "rel_day":
        return base + timedelta(days=parts["off"]), "day", True
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


def _match_at(mt: _Matcher, i: int) -> tuple[int, dict, str] | None:
    u = mt.u[i]
    day = mt.day(i)
    if day is not None:
        j = mt.skip_conn(i)
        if mt.kind(j) == "month":
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
        if mt.kind(j) == "rel_month":  # "the 5th of last month"
            return j, {"form": "d-rel-month", "d": day, "off": mt.u[j].value}, f"day-{mt.u[j].entry}"
    if u.kind == "month":
        j = mt.skip_conn(i)
        if j < len(mt.u) and mt.u[j].kind == "num" and mt.u[j].ndigits <= 2 and mt.day(j):
            k = mt.skip_conn(j)
            y = mt.year(k)
            if y:
                return k, {"form": "md-y", "y": y, "m": u.value, "d": mt.u[j].value}, "month-day-year"
            return j, {"form": "dm", "m": u.value, "d": mt.u[j].value}, "month-day"
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
            if mt.kind(k) == "month":
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
    if u.kind in ("rel_day", "rel_week", "rel_month", "rel_year"):
        return i, {"form": u.kind, "off": u.value}, f"{u.kind}:{u.entry}"
    if u.kind == "weekday":
        # "20 Kasım Pazar günü": the explicit date just before says it better
        if i > 0 and mt.kind(i - 1) in ("month", "num") and mt.adjacent(i - 1, i):
            return None
        # "Tuesday (1 March)": the explicit date that follows says it better
        for j in range(i + 1, min(i + 4, len(mt.u))):
            if not mt.adjacent(j - 1, j):
                break
            if mt.kind(j) == "month" or (mt.day(j) is not None and mt.kind(mt.skip_conn(j)) == "month"):
                return None
        mark = mt.marker(i, i)
        end = i + 1 if mt.kind(i + 1) in ("past", "future") and mt.adjacent(i, i + 1) else i
        return end, {"form": "weekday", "wd": u.value, "marker": mark}, "weekday"
    return None


def _anchor_before(found: list[DateMention], start: int) -> date | None:
    """The latest date of day or month precision mentioned within NARRATIVE_REACH before `start`."""
    before = [d for d in found if d.end <= start and start - d.end <= NARRATIVE_REACH and d.precision != "year"]
    if not before:
        return None
    return date.fromisoformat(max(before, key=lambda d: d.end).date)


def find_dates(text: str, code: str | None, published: object = None,
               folded: Folded | None = None) -> list[DateMention]:
    """Every date expression of `text` (language `code`) resolved against `published`.

    Expressions that cannot be resolved (a relative word with no publication day, a day and month
    with no year in sight) are left out.
    """
    pub = published if isinstance(published, PartialDate) else PartialDate.parse(published)
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
            vals = dict(zip(order, (int(g) for g in m.groups()), strict=False))
            res = _resolve({"form": "dmy", **vals}, pub)
            if res:
                emit(m.start(), m.end(), res, f"numeric-{order}")
            consumed.append((m.start(), m.end()))  # an impossible date is no year either
    # an unknown language: absolute numeric dates and years only
    lex = lexicon(code if code and code in languages() else "")
    units = _units(folded, lex, consumed)
    mt = _Matcher(ftext, units)
    i = 0
    while i < len(units):
        hit = _match_at(mt, i)
        if hit is None:
            i += 1
            continue
        last, parts, rule = hit
        if parts.pop("needs_marker", False) and lex.alone_markers:
            before = i > 0 and mt.kind(i - 1) in ("alone", "past", "future") and mt.adjacent(i - 1, i)
            after = mt.kind(i + 1) in ("alone", "past", "future") and mt.adjacent(i, i + 1)
            if not (before or after):
                i += 1
                continue
        anchor = _anchor_before(out, folded.span(units[i].start, units[i].start)[0]) if parts["form"] == "dm" else None
        res = _resolve(parts, pub, anchor)
        if res:
            emit(units[i].start, units[last].end, res, rule)
        i = last + 1
    out.sort(key=lambda d: d.start)
    return out
