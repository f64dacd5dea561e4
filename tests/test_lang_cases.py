"""Per-language tables of test sentences (tests/cases/<code>.yaml) run through the extractors.

Each case file holds our own sentences (never the sample's or the evaluation's):
  places: [{text, expect: [ISO3 or place name], absent: [...]}]
  dates:  [{text, published, expect: ["YYYY-MM-DD/day", "YYYY-MM/month", "YYYY/year"], exact: bool}]
A place is expected by ISO3 (a country mention) or by its canonical English name; a date by its
value at its precision.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kzdash.gazetteer import load_gazetteer
from kzdash.geoparse import find_places
from kzdash.temporal import find_dates

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
