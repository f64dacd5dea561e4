"""Reviewing in a real browser (Debian's Chromium): reject a stance with the quote list's "Review a row"
control and see the matrix and the CSV export change, undo it, then correct it and see both change again.
Skipped where /usr/bin/chromium is absent. The server gets a review store of its own; a screenshot goes to
tests/screenshots/."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "tests" / "screenshots"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")


@pytest.fixture(scope="module")
def server(sample_dir: Path, tmp_path_factory, start_app):
    store = tmp_path_factory.mktemp("browser_reviews") / "reviews.sqlite"
    with start_app({"KZDASH_BUILD": str(sample_dir), "KZDASH_REVIEWS": str(store)}) as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        pg = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        yield pg
        browser.close()


def settle(pg, title: str, timeout: int = 60_000) -> None:
    """Wait until the page's title is there and the script run is over."""
    pg.wait_for_function("t => [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === t)",
                         arg=title, timeout=timeout)
    pg.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')"
                         " && !document.querySelector('[data-stale=true]')", timeout=timeout)
    pg.wait_for_timeout(400)


@pytest.fixture(scope="module")
def target(sample_dir: Path) -> dict:
    from kzdash.dashboard import queries
    from kzdash.dashboard.dataset import Dataset
    from kzdash.dashboard.filters import Filters

    ds = Dataset.open(sample_dir)
    rows = queries.stance_rows(ds, Filters(), "KAZ", ["row", "issue", "polarity", "outlet", "evidence", "stance_id"])
    rows = rows[(rows["polarity"] == "support") & ~rows.duplicated(["evidence", "issue"], keep=False)]
    return rows.iloc[0].to_dict()


def matrix(pg, server: str) -> list[str]:
    """The stance matrix's cell texts ("support / oppose / neutral") as drawn."""
    pg.goto(f"{server}/stances", wait_until="domcontentloaded")
    settle(pg, "Stances")
    texts = pg.locator("[data-testid='stVegaLiteChart'] svg g.mark-text text")
    texts.first.wait_for(state="attached", timeout=60_000)
    pg.wait_for_timeout(800)
    return texts.all_text_contents()


def export(pg, server: str) -> pd.DataFrame:
    """The stances CSV as the Data page's download button gives it."""
    pg.goto(f"{server}/data", wait_until="domcontentloaded")
    settle(pg, "Data")
    with pg.expect_download(timeout=30_000) as got:
        pg.locator(".st-key-csv_stances button").click()
    return pd.read_csv(io.BytesIO(Path(got.value.path()).read_bytes()), dtype=str, keep_default_na=False)


def label(target: dict) -> str:
    """How the row picker names the target's quote (pages/stances.py)."""
    from kzdash import ui
    from kzdash.dashboard.vocab import vocab

    return f"{target['polarity']} · {vocab().issue(target['issue'])} · {target['outlet']} · " \
           f"{ui.snippet(target['evidence'])}"


def open_review(pg, key: str, target: dict) -> None:
    """Open the quote list's "Review a row" control and choose the target's quote."""
    picker = pg.locator(".st-key-kzr_quotes_row")
    if not picker.is_visible():  # still open after the last action: a click would close it
        button = pg.locator(".st-key-kzr_quotes button").first
        button.scroll_into_view_if_needed()
        button.click()
    picker.wait_for(timeout=30_000)
    picker.locator("input").click()
    picker.locator("input").fill(label(target)[:80])  # the list narrows to the rows whose name starts so
    pg.get_by_role("option").filter(has_text=label(target)).first.click()
    pg.locator(f".st-key-{key}_reject button").wait_for(timeout=30_000)
    settle(pg, "Stances")


def test_reject_then_correct_a_stance(server: str, page, target: dict) -> None:
    key = f"kzr_stance_{target['row']}"
    before_matrix, before_csv = matrix(page, server), export(page, server)
    assert target["stance_id"] in set(before_csv["stance_id"])

    matrix(page, server)
    open_review(page, key, target)
    page.locator(f".st-key-{key}_note input").fill("the sentence is about another country")
    page.locator(f".st-key-{key}_note input").press("Enter")
    page.wait_for_timeout(1_000)  # on a loaded machine the note's rerun may start after a first look finds none
    settle(page, "Stances")
    page.locator(f".st-key-{key}_reject button").click()
    page.get_by_text("Rejected the stance.").wait_for(timeout=30_000)
    settle(page, "Stances")
    assert page.locator(f".st-key-{key}_reject").count() == 0  # the row left the list and its picker
    rejected_matrix, rejected_csv = matrix(page, server), export(page, server)
    assert rejected_matrix != before_matrix
    assert len(rejected_csv) == len(before_csv) - 1 and target["stance_id"] not in set(rejected_csv["stance_id"])

    page.goto(f"{server}/stances?rejected=1", wait_until="domcontentloaded")  # "hide rejected" off
    settle(page, "Stances")
    assert page.locator(".kz-review-rejected", has_text="another country").count() == 1
    open_review(page, key, target)  # a rejected row can be corrected instead
    page.locator(f".st-key-{key}_polarity input").click()
    page.locator(f".st-key-{key}_polarity input").fill("oppose")  # typing opens the list, narrowed
    page.get_by_role("option", name="oppose", exact=True).click()
    page.get_by_role("button", name="Save correction").click()
    page.get_by_text("Corrected the stance.").wait_for(timeout=30_000)
    settle(page, "Stances")
    SHOTS.mkdir(parents=True, exist_ok=True)
    corrected = {**target, "polarity": "oppose"}  # the picker names the row as it now reads
    open_review(page, key, corrected)  # the corrected card with its label and the open review panel
    page.locator(".st-key-kzr_quotes").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "review.png"))
    page.keyboard.press("Escape")

    corrected_matrix, corrected_csv = matrix(page, server), export(page, server)
    assert corrected_matrix not in (before_matrix, rejected_matrix)
    assert len(corrected_csv) == len(before_csv)
    mine = corrected_csv[corrected_csv["stance_id"] == target["stance_id"]].iloc[0]
    assert (mine["polarity"], mine["review"]) == ("oppose", "corrected")

    matrix(page, server)  # the card again (a fresh session: the sidebar's "Undo" belongs to the last one)
    open_review(page, key, corrected)
    page.locator(f".st-key-{key}_undo button").click()  # undo the correction
    page.get_by_text("Undid the last review of the stance.").wait_for(timeout=30_000)
    assert matrix(page, server) == rejected_matrix  # back to the rejection before it
