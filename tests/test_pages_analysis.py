"""The Stances page's "Positions over time" tab, the Timeline page's "Coverage" tab and their briefing
views under AppTest, on the bundled sample: they render, follow the sidebar filters, and show
article text as text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture(autouse=True)
def _use_build(sample_dir: Path, monkeypatch) -> None:
    from kzdash import ui

    monkeypatch.setenv("KZDASH_BUILD", str(sample_dir))
    monkeypatch.setattr(ui, "_SHARED", {})


def open_tab(page: str, key: str, tab: str, params: dict | None = None) -> AppTest:
    """Open /<page>?<params>, then click the tab (its state lives in the session, not the URL)."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params = dict(params or {})
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    at.session_state[key] = tab
    return at.run()


def _bodies(at: AppTest, marker: str) -> list[str]:
    return [h.proto.body for h in at.html if marker in h.proto.body]


def test_positions_tab_shows_each_issue_with_first_and_last_dates_and_evidence(sample_dir: Path) -> None:
    at = open_tab("stances", "stances_tab", "Positions over time", {"holder": "KAZ"})
    assert not at.exception, at.exception
    assert [t.label for t in at.tabs] == ["Outlets × issues", "Positions over time"]
    assert [s.value for s in at.subheader] == ["First and last statement of each position", "Changes of side",
                                               "Outlets disagreeing at the same time"]
    table = _bodies(at, 'class="kz-table"')
    assert len(table) == 1
    stances = pd.read_parquet(sample_dir / "stances.parquet")
    kaz = stances[stances["holder"] == "KAZ"]
    assert table[0].count("<tr>") - 1 == len(kaz.drop_duplicates(["issue", "polarity"])) >= 5
    assert "2022-03-02" in table[0] and "2022-11-19" in table[0]
    changes = [b for b in _bodies(at, "<div class=\"kz-card\">") if "oppose → support, first seen 2022-09-27" in b]
    assert changes and "kz-quote" in changes[0]
    before = table[0]
    at.sidebar.multiselect(key="flt_languages").set_value(["sq"]).run()
    assert not at.exception and at.query_params.get("lang") == "sq"
    after = _bodies(at, 'class="kz-table"')[0]
    assert after != before and after.count("<tr>") - 1 == len(kaz[kaz["language"] == "sq"].drop_duplicates(
        ["issue", "polarity"]))


def test_coverage_tab_lists_every_happening_and_exports_it(sample_dir: Path) -> None:
    at = open_tab("timeline", "timeline_tab", "Coverage")
    assert not at.exception, at.exception
    events = pd.read_parquet(sample_dir / "events.parquet")
    table = next(d.value for d in at.dataframe if "reported_by" in d.value.columns)
    assert len(table) == events["happening_id"].nunique()
    assert any(b.label == "Coverage as CSV" for b in at.get("download_button"))
    assert any("usually covers" in c.value for c in at.caption)
    at.sidebar.multiselect(key="flt_languages").set_value(["sq"]).run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "reported_by" in d.value.columns)
    assert len(table) == events.loc[events["language"] == "sq", "happening_id"].nunique()
    assert table["note"].str.contains("reported only in Albanian-language outlets").all()


def test_briefing_views_for_positions_and_coverage() -> None:
    from kzdash.dashboard.briefing import load_views

    views = load_views()
    tabs = {v.tab: n for n, v in enumerate(views, start=1) if v.tab}
    assert set(tabs) == {"positions", "coverage"}
    for tab, n in tabs.items():
        at = AppTest.from_file(APP, default_timeout=90)
        at.query_params = {"view": str(n)}
        at.switch_page("pages/briefing.py")
        at.run()
        assert not at.exception, at.exception
        assert views[n - 1].title in at.title[0].value
        evidence = "".join(_bodies(at, '<blockquote class="kz-quote"'))  # the four cards are one block
        if tab == "positions":
            assert _bodies(at, 'class="kz-table"') and evidence.count('<blockquote class="kz-quote"') >= 4
        else:
            cards = evidence.split('<div class="kz-card">')[1:]
            assert len(cards) == 4 and all("reported by" in b for b in cards)
