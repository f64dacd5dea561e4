"""Per-language tables of test sentences (tests/extract/cases/<code>.yaml) run through the extractors.

Each case file holds our own sentences (never the sample's or the evaluation's):
  places: [{text, expect: [ISO3 or place name], absent: [...]}]
  dates:  [{text, published, expect: ["YYYY-MM-DD/day", "YYYY-MM/month", "YYYY/year"], exact: bool}]
  stances: [{text, expect: [[holder, issue, polarity]], absent: [[holder, issue, polarity]], exact: bool}]
  events: [{text, published, expect: [{type, place, date, actor, background}], absent: [...]}]
A place is expected by ISO3 (a country mention) or by its canonical English name; a date by its
value at its precision. Stances and events run the whole per-article pipeline on the text (a short
article in the case's language); an expected event matches an extracted one on the fields it names
(`place` by English name or ISO3, `date` as "YYYY-MM-DD/day", "YYYY-MM/month" or "YYYY/year").
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kzdash.extract.article import process_article
from kzdash.extract.gazetteer import load_gazetteer
from kzdash.extract.geoparse import find_places
from kzdash.extract.records import RawArticle
from kzdash.extract.temporal import find_dates

CASES = Path(__file__).parent / "cases"


def _cases(section: str) -> list:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for i, case in enumerate(data.get(section) or []):
            out.append(pytest.param(path.stem, case, id=f"{path.stem}-{section}-{i}"))
    return out


def _found_places(text: str, code: str) -> set[str]:
    found = set()
    for m in find_places(text, code, load_gazetteer()):
        found.add(m.country if m.kind == "country" else m.name.casefold())
    return found


def _want(item: str) -> str:
    return item if len(item) == 3 and item.isupper() else item.casefold()


@pytest.mark.parametrize("code,case", _cases("places"))
def test_places(code: str, case: dict) -> None:
    found = _found_places(case["text"], code)
    missing = [x for x in case.get("expect", []) if _want(x) not in found]
    wrong = [x for x in case.get("absent", []) if _want(x) in found]
    assert not missing and not wrong, f"found {sorted(found)}; missing {missing}; should be absent {wrong}"


def _as_key(mention) -> str:
    n = {"day": 10, "month": 7, "year": 4}[mention.precision]
    return f"{mention.date[:n]}/{mention.precision}"


@pytest.mark.parametrize("code,case", _cases("dates"))
def test_dates(code: str, case: dict) -> None:
    found = {_as_key(m) for m in find_dates(case["text"], code, str(case.get("published") or "") or None)}
    expect = set(case.get("expect", []))
    if case.get("exact"):
        assert found == expect
    else:
        assert expect <= found, f"found {sorted(found)}; missing {sorted(expect - found)}"


def _article(code: str, case: dict):
    raw = RawArticle(source="case.txt", raw_text=case["text"], language=code,
                     published=str(case.get("published") or "2022-06-15"))
    return process_article(raw, [], load_gazetteer())


@pytest.mark.parametrize("code,case", _cases("stances"))
def test_stances(code: str, case: dict) -> None:
    result = _article(code, case)
    found = {(s["holder"], s["issue"], s["polarity"]) for s in result.stances}
    expect = {tuple(x) for x in case.get("expect", [])}
    wrong = {tuple(x) for x in case.get("absent", [])} & found
    rules = sorted({s["rule"] for s in result.stances})
    if case.get("exact"):
        assert found == expect, f"rules {rules}"
    else:
        assert expect <= found and not wrong, f"found {sorted(found)}; missing {sorted(expect - found)}; " \
                                              f"should be absent {sorted(wrong)}; rules {rules}"


def _event_view(ev: dict) -> dict:
    n = {"day": 10, "month": 7, "year": 4}.get(ev["date_precision"] or "", 0)
    return {"type": ev["event_type"], "place": ev["place_name"], "country": ev["country"],
            "date": f"{str(ev['date'])[:n]}/{ev['date_precision']}" if ev["date"] else None,
            "actor": ev["actor"], "target": ev["target"], "background": ev["background"]}


def _event_matches(view: dict, want: dict) -> bool:
    for key, value in want.items():
        if key == "place":
            if value != view["country"] and str(value).casefold() != str(view["place"]).casefold():
                return False
        elif view.get(key) != value:
            return False
    return True


@pytest.mark.parametrize("code,case", _cases("events"))
def test_events(code: str, case: dict) -> None:
    views = [_event_view(ev) for ev in _article(code, case).events]
    missing = [w for w in case.get("expect", []) if not any(_event_matches(v, w) for v in views)]
    wrong = [w for w in case.get("absent", []) if any(_event_matches(v, w) for v in views)]
    assert not missing and not wrong, f"events {views}; missing {missing}; should be absent {wrong}"
