"""Row confidence is the smoothed precision measured for rows made the same way."""

from __future__ import annotations

import pytest

from kzdash.extract import confidence
from kzdash.extract.confidence import PSEUDO_COUNTS, calibrated, event_kind, stance_kind


@pytest.mark.parametrize(("rule", "kind"), [
    ("act:imposed sanctions polarity:will comply holder:subject", "act subject"),
    ("act:recognise~luhansk polarity:refused negation:not holder:reported-subject", "near reported-subject negated"),
    ("topic:فارين من التعبيه polarity:حمايه holder:speaker", "topic speaker"),
    ("topic:talks polarity:welcomed welcomed", "topic welcomed"),
    ("act:x~y polarity:z welcome:welcomes holder:previous-speaker", "near previous-speaker"),
    (None, "act none"),
])
def test_stance_kind(rule, kind: str) -> None:
    assert stance_kind(rule) == kind


@pytest.mark.parametrize(("rule", "kind"), [
    ("day-month-year", "day-month-year"), ("rel_day:вчера", "rel_day"), ("day-الشهر الماضي", "relative-words"),
    ("published", "published"), (None, "none"),
])
def test_event_kind(rule, kind: str) -> None:
    assert event_kind(rule) == kind


def test_calibrated_moves_from_the_prior_toward_what_was_measured(monkeypatch) -> None:
    table = {"stances": {"topic subject": (2, 10), "act speaker": (30, 30)}, "events": {}}
    monkeypatch.setattr(confidence, "_table", lambda: table)
    assert calibrated("stances", "never seen", 0.65) == 0.65  # no measurement: the rule's prior
    low = calibrated("stances", "topic subject", 0.8)
    assert low == round((2 + PSEUDO_COUNTS * 0.8) / (10 + PSEUDO_COUNTS), 2) and low < 0.5
    assert 0.95 < calibrated("stances", "act speaker", 0.65) < 1.0  # many right rows outweigh a low prior


def test_the_shipped_calibration_names_kinds_the_engine_makes() -> None:
    for table, kinds in confidence._table().items():
        for kind, (right, seen) in kinds.items():
            assert 0 <= right <= seen, (table, kind)
            if table == "stances":
                assert kind.split()[0] in ("act", "near", "topic"), kind
