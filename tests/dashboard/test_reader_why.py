"""A stance's rule string read out in words, for the Articles page's "why" column."""

from __future__ import annotations

import pandas as pd
import pytest

from kzdash.dashboard.reader import rule_trail, with_why


@pytest.mark.parametrize(("rule", "expected"), [
    ("topic:sanctions polarity:comply holder:subject",
     "issue named «sanctions» → verdict «comply» → holder: the subject before the verdict"),
    ("act:recognise~luhansk polarity:refused negation:not holder:reported-subject",
     "act that takes a side «recognise~luhansk» → verdict «refused» → turned by the negation «not» → "
     "holder: the subject of the reported clause"),
    # keys of several words (Arabic, Russian) stay whole
    ("topic:فارين من التعبيه polarity:حمايه holder:speaker",
     "issue named «فارين من التعبيه» → verdict «حمايه» → holder: the speaker the reporting verb names"),
    ("act:не признает polarity:отказался outer:отказался welcomed",
     "act that takes a side «не признает» → verdict «отказался» → inside the verdict «отказался» → "
     "the welcomed party takes the same side"),
    ("topic:talks welcome-after:welcomed holder:welcomer",
     "issue named «talks» → welcomes it (verb-final) «welcomed» → holder: the one who welcomes"),
    ("holder:some-new-rule", "holder: some-new-rule"),  # an unknown holder rule is shown as it is
    ("no labels here", "no labels here"),
    (None, ""),
    (float("nan"), ""),
])
def test_rule_trail(rule, expected: str) -> None:
    assert rule_trail(rule) == expected


def test_with_why_puts_the_reason_first() -> None:
    events = pd.DataFrame({"type_rule": ["protested", None], "date_rule": ["weekday", "published"], "x": [1, 2]})
    out = with_why("events", events)
    assert list(out.columns) == ["why", "type_rule", "date_rule", "x"]
    assert list(out["why"]) == ["type: protested · date: weekday", "type: no event cue · date: published"]
    places = pd.DataFrame({"surface": ["Алматы"], "rule": ["name:алматы"]})
    assert list(with_why("places", places)["why"]) == ["matched «Алматы» as name:алматы"]
    assert list(with_why("stances", pd.DataFrame(columns=["rule"])).columns) == ["rule", "why"]
