"""Reviewing under AppTest: a stance rejected with its list's "Review a row" control leaves the matrix, the
counts and the export rows and comes back on "Undo"; a correction moves it; and in hosted mode with a viewer
password only no review control is rendered and a forged review request (session state set by hand) changes
nothing, while the same request from a session that gave the reviewer password is saved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kzdash.dashboard import queries
from kzdash.dashboard.dataset import Dataset
from kzdash.dashboard.filters import Filters

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
VIEWER, REVIEWER = "a long shared passphrase", "another, longer reviewer passphrase"
REQUEST = "kzdash_review_request"


@pytest.fixture(autouse=True)
def _env(sample_dir: Path, tmp_path: Path, monkeypatch) -> Path:
    """The shared sample build, with a review store of this test's own."""
    from kzdash import ui

    store = tmp_path / "reviews.sqlite"
    monkeypatch.setenv("KZDASH_BUILD", str(sample_dir))
    monkeypatch.setenv("KZDASH_REVIEWS", str(store))
    for name in ("KZDASH_MODE", "KZDASH_PASSWORD", "KZDASH_REVIEWER_PASSWORD", "KZDASH_READ_ONLY", "KZDASH_GATE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(ui, "_SHARED", {})
    monkeypatch.setattr(ui, "_request_origin", lambda: ("203.0.113.7", []))
    return store


@pytest.fixture
def target(sample_dir: Path) -> dict:
    """A Kazakhstan stance that is alone in its sentence (its card stands for it only)."""
    ds = Dataset.open(sample_dir)
    rows = queries.stance_rows(ds, Filters(), "KAZ", ["row", "issue", "polarity", "outlet", "evidence", "stance_id"])
    rows = rows[(rows["polarity"] == "support") & ~rows.duplicated(["evidence", "issue"], keep=False)]
    return rows.iloc[0].to_dict()


def opened(page: str, at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(APP, default_timeout=90)
    at.switch_page(f"pages/{page}.py")
    return at.run()


QUOTES = "kzr_quotes"  # the Stances page's review control for its list of quotes


def popovers(at: AppTest) -> list[str]:
    return [p.proto.id.rsplit("-", 1)[-1] for p in at.get("popover")]


def pick_row(at: AppTest, row: int) -> AppTest:
    """Open the quote list's review control and choose the row, as a reviewer does."""
    at.session_state[QUOTES] = True
    at.run()
    return at.selectbox(key=f"{QUOTES}_row").set_value(int(row)).run()


def offered(at: AppTest) -> int:
    """How many rows the open review control offers."""
    return len(at.selectbox(key=f"{QUOTES}_row").options)


def quote_cards(at: AppTest) -> int:
    """The quotes drawn (one block of markup for the whole list)."""
    return sum(h.proto.body.count('<blockquote class="kz-quote"') for h in at.main.get("html"))


def stances_shown(at: AppTest) -> int:
    return int(next(m.value for m in at.metric if m.label == "Stances"))


def matrix_data(at: AppTest) -> str:
    """The stance heatmap's data as sent to the browser."""
    return str(at.get("vega_lite_chart")[0].proto.datasets)


def badges_of(at: AppTest, review: str) -> list[str]:
    """The review labels under the cards of the quote list (not the style sheet that names their classes)."""
    found = re.compile(rf'<div class="kz-review kz-review-{review}">.*?</div>')
    return [b for h in at.main.get("html") if "kz-quote" in h.proto.body for b in found.findall(h.proto.body)]


def export_rows(at: AppTest) -> int:
    """The Data page's row count of the stances download (the same rows the file holds)."""
    line = next(m.value for m in at.markdown if m.value.startswith("**Stances**"))
    return int(re.search(r"(\d+) rows", line).group(1))


def test_reject_from_a_list_then_undo_from_the_sidebar(target: dict) -> None:
    at = opened("stances")
    assert not at.exception, at.exception
    key = f"kzr_stance_{target['row']}"
    assert popovers(at) == [QUOTES]  # one review control for the list, not one per card
    assert f"{QUOTES}_row" not in [s.key for s in at.selectbox]  # the row picker is drawn when it is opened
    heatmap = matrix_data(at)
    quotes = quote_cards(at)
    assert quotes > 1

    pick_row(at, target["row"])  # the reviewer opens "Review a row" and chooses the quote
    rows = offered(at)
    at.text_input(key=f"{key}_note").input("the sentence is <b>about</b> Russia").run()
    at.button(key=f"{key}_reject").click().run()
    assert not at.exception, at.exception
    assert offered(at) == rows - 1 and at.selectbox(key=f"{QUOTES}_row").value is None  # its row left the list
    assert not [b for b in at.button if b.key == f"{key}_reject"]
    assert quote_cards(at) == quotes - 1
    assert matrix_data(at) != heatmap
    assert any("Rejected the stance." in h.proto.body for h in at.sidebar.get("html"))

    overview = opened("overview")
    data = opened("data")
    reviewed_count, reviewed_export = stances_shown(overview), export_rows(data)
    log = next(d.value for d in data.dataframe if "rejected" in getattr(d.value, "columns", []))
    assert log["rejected"].sum() == 1  # rule precision lists the rejection

    at.sidebar.toggle(key="flt_rejected").set_value(False).run()  # "hide rejected" off: back, marked
    assert at.query_params.get("rejected") in ("1", ["1"])
    badges = badges_of(at, "rejected")
    assert len(badges) == 1 and "&lt;b&gt;about&lt;/b&gt;" in badges[0] and "<b>about" not in badges[0]
    at.sidebar.toggle(key="flt_rejected").set_value(True).run()

    at.sidebar.button(key="kzr_undo_last").click().run()
    assert not at.exception, at.exception
    assert offered(at) == rows and quote_cards(at) == quotes and matrix_data(at) == heatmap
    assert stances_shown(opened("overview")) == reviewed_count + 1
    assert export_rows(opened("data")) == reviewed_export + 1


def test_a_correction_from_the_form(target: dict, sample_dir: Path, _env: Path) -> None:
    at = opened("stances")
    key = f"kzr_stance_{target['row']}"
    pick_row(at, target["row"])
    at.selectbox(key=f"{key}_polarity").set_value("oppose")
    next(b for b in at.button if b.label == "Save correction").click().run()
    assert not at.exception, at.exception
    badge = badges_of(at, "corrected")
    assert len(badge) == 1  # under its card, for everyone
    assert any(h.proto.body.startswith('<div class="kz-review kz-review-corrected') for h in at.main.get("html")), \
        "the open control shows the row's review too"
    seen = Dataset.open(sample_dir, reviews=_env)  # what every other session (and the export) now reads
    assert seen.fetch("stances", [target["row"]], ["polarity", "review"]).iloc[0].tolist() == ["oppose", "corrected"]


def test_viewer_password_only_renders_no_control_and_a_forged_review_changes_nothing(
        target: dict, _env: Path, monkeypatch) -> None:
    monkeypatch.setenv("KZDASH_MODE", "hosted")
    monkeypatch.setenv("KZDASH_READ_ONLY", "false")
    monkeypatch.setenv("KZDASH_PASSWORD", VIEWER)
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.text_input[0].input(VIEWER).run()
    count = stances_shown(at)
    for page in ("overview", "stances", "timeline", "map"):
        opened(page, at)
        assert not at.exception, at.exception
        assert not popovers(at), page
        assert not [w for w in at.sidebar.text_input if "eviewer" in w.label]
    forged = {"kind": "stance", "rows": [int(target["row"])], "action": "reject", "correction": None, "note": ""}
    at.session_state[REQUEST] = forged
    at.session_state["kzdash_reviewer_unlocked"] = True  # a forged unlock does not help either
    opened("overview", at)
    assert not at.exception, at.exception
    assert stances_shown(at) == count
    assert not _env.exists()  # nothing was written
    assert any("Not saved" in h.proto.body for h in at.sidebar.get("html"))


def viewer_in_hosted_mode_with_a_reviewer_password(monkeypatch) -> AppTest:
    """A hosted link with a viewer and a reviewer password, opened with the viewer's."""
    monkeypatch.setenv("KZDASH_MODE", "hosted")
    monkeypatch.setenv("KZDASH_READ_ONLY", "false")
    monkeypatch.setenv("KZDASH_PASSWORD", VIEWER)
    monkeypatch.setenv("KZDASH_REVIEWER_PASSWORD", REVIEWER)
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.text_input[0].input(VIEWER).run()
    return at


def test_the_reviewer_password_opens_reviewing(target: dict, _env: Path, monkeypatch) -> None:
    """The positive control of the test above: the same forged request is saved once reviewing is allowed."""
    at = viewer_in_hosted_mode_with_a_reviewer_password(monkeypatch)
    count = stances_shown(at)
    assert not popovers(at)
    box = next(w for w in at.sidebar.text_input if w.label == "Reviewer password")
    box.input(VIEWER).run()  # the viewer password is not the reviewer's
    assert not popovers(at) and at.session_state["kzdash_reviewer_unlocked"] is False
    next(w for w in at.sidebar.text_input if w.label == "Reviewer password").input(REVIEWER).run()
    assert not at.exception, at.exception
    assert popovers(at), "the reviewer password shows the review controls"
    at.session_state[REQUEST] = {"kind": "stance", "rows": [int(target["row"])], "action": "reject",
                                 "correction": None, "note": ""}
    at.run()
    assert stances_shown(at) == count - 1 and _env.exists()


def test_read_only_renders_no_review_control(monkeypatch) -> None:
    monkeypatch.setenv("KZDASH_READ_ONLY", "true")
    at = opened("stances")
    assert not at.exception and not popovers(at)
    assert any("read-only" in c.value for c in at.sidebar.caption)


def test_limits_count_reviewer_passwords_apart(target: dict, monkeypatch) -> None:
    from kzdash import ui

    at = viewer_in_hosted_mode_with_a_reviewer_password(monkeypatch)
    for n in range(4):
        next(w for w in at.sidebar.text_input if w.label == "Reviewer password").input(f"guess {n}").run()
    limiter = next(v for k, v in ui._SHARED.items() if k[0] == "limiter")
    assert limiter.pending(ui.REVIEW_CLIENT + "203.0.113.7", ui._clock()) is not None  # must wait now
    assert limiter.pending("203.0.113.7", ui._clock()) is None  # the viewer password's count is untouched
    assert not popovers(at)
