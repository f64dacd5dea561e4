"""The dashboard's filter state and its round trip through the URL.

The address bar is the share link: every global filter and the little view state a page needs
(the stance holder, the article open in the reader, the selected map place, the briefing slide)
live in the query string. Parsing is strict about shape and lenient about junk: a value that does
not fit its field is dropped, so a hand-edited or truncated link still opens; it never raises.
Pages never read the URL themselves; they get a `Filters`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date

MAX_VALUES = 50  # per list field: more is a pasted mistake, not a filter
MAX_TEXT = 200  # search text and outlet names
YEARS = (1900, 2100)

LANGUAGE = re.compile(r"[a-z]{2,3}")  # ISO 639-1, or 639-3 for "und"
ACTOR = re.compile(r"[A-Z][A-Z0-9]{1,7}")  # ISO3 states and short organisation ids (EU, CSTO, UN)
ISSUE = re.compile(r"[a-z][a-z0-9_]{1,63}")
EVENT_TYPE = re.compile(r"[A-Z]{3,12}")
COUNTRY = re.compile(r"[A-Z]{3}")
PLACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}")  # GeoNames ids and curated ids (site-upper-lars)
ARTICLE = re.compile(r"[A-Za-z0-9_-]{1,64}")
ROWS = ("outlet", "language")  # stance matrix rows
GROUPS = ("type", "outlet")  # timeline colour
TRUE, FALSE = {"1", "true", "yes", "on", "show"}, {"0", "false", "no", "off", "hide"}


@dataclass(frozen=True)
class Filters:
    """What the user asked to see. Empty tuples mean "no restriction"."""

    start: date | None = None  # event date range, inclusive
    end: date | None = None
    outlets: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    text: str = ""
    background: bool = True  # include background mentions (past events recalled in an article)
    confident: bool = False  # only stances and events at or above the calibrated confidence (data/confidence.yaml)
    rejected: bool = False  # include rows a reviewer rejected (off: "hide rejected", the default)
    reviewed: bool = False  # only rows with a review (and articles with a reviewed row)
    # view state of single pages
    holder: str = "KAZ"  # Overview and Stances: whose positions
    rows: str = "outlet"  # Stances: matrix rows, outlet or language
    group: str = "type"  # Timeline: colour by event type or outlet
    article: str = ""  # Articles: the article open in the reader
    pick: str = ""  # Map: the selected place
    slide: int = 0  # Briefing: the saved view on screen, from 1 (0: none yet, the first opens with its filters)
    present: bool = False  # Briefing: presenter view (large type, sidebar folded away)

    @classmethod
    def from_query_params(cls, params: Mapping[str, str | Iterable[str]]) -> Filters:
        """Filters from a query mapping (values a string or a list of repeated values); junk is dropped."""
        got: dict[str, object] = {}
        for name, (key, parse) in _SCALARS.items():
            values = _values(params, key)
            parsed = [v for v in (parse(x) for x in values) if v is not None]
            if parsed:
                got[name] = parsed[-1]  # like st.query_params: the last occurrence wins
        for name, (key, pattern) in _LISTS.items():
            got[name] = _parse_list(_values(params, key), pattern, split=pattern is not None)
        start, end = got.get("start"), got.get("end")
        if isinstance(start, date) and isinstance(end, date) and start > end:
            got["start"], got["end"] = end, start
        return cls(**got)  # type: ignore[arg-type]

    def to_query_params(self) -> dict[str, str | list[str]]:
        """The query mapping for this state; fields at their default are left out to keep links short."""
        out: dict[str, str | list[str]] = {}
        default = Filters()
        for name, (key, _) in _SCALARS.items():
            value = getattr(self, name)
            if value != getattr(default, name):
                out[key] = _format_scalar(value)
        for name, (key, pattern) in _LISTS.items():
            values = getattr(self, name)
            if values:
                out[key] = ",".join(values) if pattern is not None else list(values)
        return out

    def replace(self, **changes: object) -> Filters:
        return replace(self, **changes)

    def reset(self) -> Filters:
        """Every filter cleared; the page view state (holder, slide, …) kept."""
        return Filters(**{f.name: getattr(self, f.name) for f in fields(self) if f.name in VIEW_STATE})

    def active(self) -> list[tuple[str, str]]:
        """(label, value) of every filter that restricts the data, for captions and handouts."""
        out: list[tuple[str, str]] = []
        if self.start or self.end:
            out.append(("dates", f"{self.start or '…'} – {self.end or '…'}"))
        for name, label in LIST_LABELS.items():
            if getattr(self, name):
                out.append((label, ", ".join(getattr(self, name))))
        if self.text:
            out.append(("text", self.text))
        if not self.background:
            out.append(("background", "hidden"))
        if self.confident:
            out.append(("confidence", "confident rows only"))
        if self.rejected:
            out.append(("reviews", "rejected rows shown"))
        if self.reviewed:
            out.append(("reviews", "reviewed rows only"))
        return out


VIEW_STATE = {"holder", "rows", "group", "article", "pick", "slide", "present"}
LIST_LABELS = {"outlets": "outlets", "languages": "languages", "actors": "actors", "issues": "issues",
               "event_types": "event types", "countries": "countries", "places": "places"}


def _values(params: Mapping[str, str | Iterable[str]], key: str) -> list[str]:
    try:
        raw = params.get(key)
    except Exception:  # noqa: BLE001 - a strange mapping is junk too
        return []
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    try:
        return [v for v in list(raw)[: MAX_VALUES * 4] if isinstance(v, str)]
    except TypeError:
        return []


def _clean_text(value: str) -> str | None:
    """Free text (an outlet name, a search): trimmed, bounded, no control characters."""
    value = value.strip()
    if not value or len(value) > MAX_TEXT:
        return None
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        return None
    return value


def _parse_list(values: list[str], pattern: re.Pattern[str] | None, *, split: bool) -> tuple[str, ...]:
    """Codes may come comma-joined (`lang=ar,sq`) or repeated; free text only repeated."""
    items = [part for v in values for part in (v.split(",") if split else [v])]
    out: list[str] = []
    for item in items:
        clean = item.strip() if pattern is not None else _clean_text(item)
        if not clean or (pattern is not None and not pattern.fullmatch(clean)):
            continue
        if clean not in out:
            out.append(clean)
        if len(out) == MAX_VALUES:
            break
    return tuple(out)


def _parse_date(value: str) -> date | None:
    try:
        d = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return d if YEARS[0] <= d.year <= YEARS[1] and len(value.strip()) == 10 else None


def _parse_bool(value: str) -> bool | None:
    v = value.strip().lower()
    return True if v in TRUE else False if v in FALSE else None


def _parse_slide(value: str) -> int | None:
    v = value.strip()
    return int(v) if v.isascii() and v.isdigit() and len(v) <= 3 else None


def _matching(pattern: re.Pattern[str]):
    def parse(value: str) -> str | None:
        v = value.strip()
        return v if pattern.fullmatch(v) else None
    return parse


def _one_of(choices: tuple[str, ...]):
    def parse(value: str) -> str | None:
        v = value.strip().lower()
        return v if v in choices else None
    return parse


def _format_scalar(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return value.isoformat() if isinstance(value, date) else str(value)


# field -> (query key, parser); list fields -> (query key, pattern for codes, None for free text)
_SCALARS = {
    "start": ("from", _parse_date), "end": ("to", _parse_date), "text": ("q", _clean_text),
    "background": ("bg", _parse_bool), "confident": ("sure", _parse_bool), "rejected": ("rejected", _parse_bool),
    "reviewed": ("reviewed", _parse_bool), "holder": ("holder", _matching(ACTOR)),
    "rows": ("rows", _one_of(ROWS)),
    "group": ("group", _one_of(GROUPS)), "article": ("article", _matching(ARTICLE)),
    "pick": ("pick", _matching(PLACE)), "slide": ("view", _parse_slide), "present": ("present", _parse_bool),
}
_LISTS: dict[str, tuple[str, re.Pattern[str] | None]] = {
    "outlets": ("outlet", None), "languages": ("lang", LANGUAGE), "actors": ("actor", ACTOR),
    "issues": ("issue", ISSUE), "event_types": ("type", EVENT_TYPE), "countries": ("country", COUNTRY),
    "places": ("place", PLACE),
}
