"""End to end in a real browser: `streamlit run app.py` headless, driven by Debian's Chromium.

Skipped (with the reason) where /usr/bin/chromium is absent; .ci/run installs it. The server is
fresh and its first visitor opens a page's own URL (the case where Streamlit would show its own
page list). Screenshots of every page go to tests/screenshots/ for a person to look at; set
KZDASH_UPDATE_README_SHOT=1 to copy the overview to docs/screenshot.png.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "tests" / "screenshots"
PAGES = {"overview": "Overview", "map": "Map", "timeline": "Timeline", "stances": "Stances", "articles": "Articles",
         "data": "Data", "briefing": None}  # the briefing's title is the view's
SEVEN = ["Almaty", "Zhanaozen", "Aktau", "Astana", "Upper Lars", "Donetsk", "Luhansk"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")


@pytest.fixture(scope="module")
def server(sample_dir: Path, start_app):
    with start_app({"KZDASH_BUILD": str(sample_dir)}) as url:
        yield url


@pytest.fixture(scope="module")
def outside() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(server: str, outside: list[str]):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.on("request", lambda r: outside.append(r.url) if not r.url.startswith((server, "data:", "blob:"))
              else None)
        yield pg
        browser.close()


def settle(pg, title: str | None = None, timeout: int = 60_000) -> None:
    """Wait until the page's title is there and the script run is over."""
    pg.wait_for_selector("h1", timeout=timeout)
    if title:
        pg.wait_for_function("t => [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === t)",
                             arg=title, timeout=timeout)
    pg.wait_for_selector("[data-testid='stSidebar'] [data-testid='stPageLink']", timeout=timeout)
    # The run is over when Streamlit's "running" widget is gone and no element of the last run is stale.
    pg.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')"
                         " && !document.querySelector('[data-stale=true]')", timeout=timeout)
    pg.wait_for_timeout(300)


def check_frame(pg, page_key: str) -> None:
    """The same frame everywhere: our links, never Streamlit's own list, no exception, the filter shown."""
    assert pg.locator("[data-testid='stException']").count() == 0, page_key
    assert pg.locator("[data-testid='stSidebarNav']").count() == 0, page_key
    links = pg.locator("[data-testid='stSidebar'] [data-testid='stPageLink'] a")
    assert links.count() == len(PAGES), page_key
    pg.wait_for_selector("[data-testid='stSidebar'] [data-tag][aria-label='Arabic (ar)']", state="attached",
                         timeout=15_000)


def shoot(pg, name: str) -> Path:
    """A screenshot of the whole page (Streamlit scrolls inside its main block, so grow the window)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = pg.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    pg.set_viewport_size({"width": 1400, "height": max(1000, min(int(height) + 40, 4200))})
    pg.wait_for_timeout(700)
    path = SHOTS / f"{name}.png"
    pg.screenshot(path=str(path))
    pg.set_viewport_size({"width": 1400, "height": 1000})
    return path


def _place_id(sample_dir: Path, name: str) -> str:
    places = pd.read_parquet(sample_dir / "places.parquet")
    return str(places.loc[places["name"] == name, "place_id"].iloc[0])


def test_a_page_url_on_a_fresh_server_opens_that_page(server: str, page, sample_dir: Path) -> None:
    t0 = time.perf_counter()
    page.goto(f"{server}/map?lang=ar&pick={_place_id(sample_dir, 'Zhanaozen')}", wait_until="domcontentloaded")
    settle(page, "Map")
    print(f"\nfirst page (map, fresh server) interactive after {time.perf_counter() - t0:.1f} s")
    check_frame(page, "map")
    assert page.get_by_text("Evidence: Zhanaozen").count() == 1


@pytest.mark.parametrize("key", list(PAGES))
def test_every_page_opens_from_its_own_url(server: str, page, key: str) -> None:
    query = "view=2&lang=ar" if key == "briefing" else "lang=ar"  # a saved view with a live change
    page.goto(f"{server}/{key}?{query}", wait_until="domcontentloaded")
    settle(page, PAGES[key])
    if key in ("map", "briefing"):  # view 2 of the briefing is a map
        page.wait_for_selector("[data-testid='stDeckGlJsonChart'] canvas", timeout=60_000)
        page.wait_for_timeout(1500)
    if key in ("timeline", "stances"):
        page.wait_for_selector("[data-testid='stVegaLiteChart'] svg g.mark-rect", state="attached", timeout=60_000)
        page.wait_for_timeout(500)
    check_frame(page, key)
    assert f"/{key}" in page.url and "lang=ar" in page.url
    shoot(page, key)
    if key == "overview" and os.environ.get("KZDASH_UPDATE_README_SHOT"):
        shutil.copy(SHOTS / "overview.png", ROOT / "docs" / "screenshot.png")


def test_every_page_opens_from_the_navigation(server: str, page) -> None:
    page.goto(f"{server}/?lang=ar", wait_until="domcontentloaded")
    settle(page, "Overview")
    for key, title in PAGES.items():
        page.locator("[data-testid='stSidebar'] [data-testid='stPageLink'] a", has_text=key.capitalize()).click()
        settle(page, title)
        check_frame(page, key) if key != "briefing" else None
        assert page.locator("[data-testid='stException']").count() == 0, key
        assert (f"/{key}" in page.url) or (key == "overview" and re.search(r":\d+/(\?|$)", page.url)), page.url
        if key != "briefing":
            assert "lang=ar" in page.url, key  # the links carry the filters


def test_map_shows_the_seven_places_each_leading_to_evidence(server: str, page) -> None:
    page.goto(f"{server}/map", wait_until="domcontentloaded")
    settle(page, "Map")
    page.wait_for_selector("[data-testid='stButtonGroup'] button", timeout=30_000)
    chips = page.locator("[data-testid='stButtonGroup'] button")
    names = {t.strip() for t in chips.all_inner_texts()}
    assert set(SEVEN) <= names, set(SEVEN) - names
    for name in ("Upper Lars", "Aktau"):  # all seven are checked the same way, faster, in test_pages.py
        page.locator("[data-testid='stButtonGroup'] button", has_text=re.compile(f"^{re.escape(name)}$")).click()
        page.get_by_text(f"Evidence: {name}").wait_for(timeout=30_000)
        settle(page, "Map")
        assert page.locator("blockquote.kz-quote").count() > 0, name
        assert page.locator("blockquote.kz-quote mark").count() > 0, name  # the mention is marked in its sentence
        assert "pick=" in page.url  # the selection is part of the share link
    shoot(page, "map-evidence")


def _mercator(lat: float, lon: float, zoom: float) -> tuple[float, float]:
    """deck.gl's Web Mercator pixel coordinates (512-pixel world at zoom 0)."""
    world = 512 * 2 ** zoom
    y = (1 - math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / math.pi) / 2 * world
    return (lon + 180) / 360 * world, y


def test_a_map_point_has_a_tooltip_and_a_click_leads_to_its_evidence(server: str, page, sample_dir: Path) -> None:
    from kzdash.dashboard.charts import DEFAULT_VIEW

    events = pd.read_parquet(sample_dir / "events.parquet")
    lat, lon = events.loc[events["place_name"] == "Zhanaozen", ["lat", "lon"]].iloc[0]
    page.goto(f"{server}/map", wait_until="domcontentloaded")
    settle(page, "Map")
    page.wait_for_selector("[data-testid='stDeckGlJsonChart'] canvas", timeout=60_000)
    page.wait_for_timeout(2000)
    box = page.locator("[data-testid='stDeckGlJsonChart']").bounding_box()
    (cx, cy), (px, py) = _mercator(*DEFAULT_VIEW[:2], DEFAULT_VIEW[2]), _mercator(lat, lon, DEFAULT_VIEW[2])
    x, y = box["x"] + box["width"] / 2 + px - cx, box["y"] + box["height"] / 2 + py - cy
    page.mouse.move(x, y)
    page.wait_for_selector(".deck-tooltip", timeout=10_000)
    tip = page.locator(".deck-tooltip").inner_text()
    assert "PROTEST" in tip and "Zhanaozen" in tip and re.search(r"\d{4}-\d{2}-\d{2}", tip)  # date, type, summary
    page.mouse.click(x, y)
    page.get_by_text("Evidence: Zhanaozen").wait_for(timeout=30_000)
    assert "pick=" in page.url


def _chart_marks(page, url: str, title: str, marks: str):
    """Open a page and wait until its chart has drawn `marks` (a CSS selector inside the chart's SVG)."""
    page.goto(url, wait_until="domcontentloaded")
    settle(page, title)
    found = page.locator(f"[data-testid='stVegaLiteChart'] svg {marks}")
    found.first.wait_for(state="attached", timeout=60_000)
    page.wait_for_timeout(1000)
    return found


def test_the_timeline_brush_narrows_the_dates(server: str, page) -> None:
    marks = _chart_marks(page, f"{server}/timeline", "Timeline", "g.mark-rect")
    box = marks.nth(1).bounding_box()
    y, x0, x1 = box["y"] + box["height"] / 2, box["x"] + 40, box["x"] + box["width"] * 0.3
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move(x1, y, steps=8)
    page.mouse.up()
    page.wait_for_url(re.compile(r"from=\d{4}-\d{2}-\d{2}&to=\d{4}-\d{2}-\d{2}"), timeout=30_000)
    settle(page, "Timeline")
    assert page.get_by_text("Clear dates").count() == 1


def test_a_stance_cell_click_lists_its_quotes(server: str, page) -> None:
    cells = _chart_marks(page, f"{server}/stances", "Stances", "g.mark-rect path")
    assert page.get_by_role("heading", name=re.compile(r"^Quotes$")).count() == 1  # nothing chosen: all quotes
    box = cells.first.bounding_box()
    page.mouse.click(box["x"] + 6, box["y"] + 6)  # a corner of the cell, off its counts
    page.get_by_role("heading", name=re.compile(r"^Quotes: .+ — .+")).wait_for(timeout=30_000)
    settle(page, "Stances")
    assert page.locator("[data-testid='stException']").count() == 0


def test_briefing_steps_through_three_saved_views(server: str, page) -> None:
    from kzdash.dashboard.briefing import load_views

    views = load_views()
    page.goto(f"{server}/briefing", wait_until="domcontentloaded")
    settle(page, f"1. {views[0].title}")
    shoot(page, "briefing-1")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("ArrowRight")  # the keyboard steps too
    settle(page, f"2. {views[1].title}")
    assert "view=2" in page.url  # (view 2 is the map: its screenshot is briefing.png)
    page.get_by_role("button", name=re.compile("Next")).click()
    settle(page, f"3. {views[2].title}")
    assert "view=3" in page.url
    page.get_by_text("Presenter view").click()
    settle(page, f"3. {views[2].title}")
    assert "present=1" in page.url and "view=3" in page.url
    shoot(page, "briefing-3-presenter")
    page.evaluate("document.activeElement && document.activeElement.blur()")  # keys go to inputs otherwise
    page.keyboard.press("ArrowLeft")
    settle(page, f"2. {views[1].title}")
    assert "present=1" in page.url  # the presenter setting is kept while stepping


def test_arabic_reads_right_to_left(server: str, page, sample_dir: Path) -> None:
    arts = pd.read_parquet(sample_dir / "articles.parquet")
    aid = arts.loc[arts["language"] == "ar", "article_id"].iloc[0]
    page.goto(f"{server}/articles?article={aid}", wait_until="domcontentloaded")
    settle(page, "Articles")
    reader = page.locator(".kz-reader")
    assert reader.evaluate("e => getComputedStyle(e).direction") == "rtl"
    box = reader.bounding_box()
    first = page.locator(".kz-reader mark").first.bounding_box()
    assert first["x"] + first["width"] > box["x"] + box["width"] / 2  # the first words sit on the right
    shoot(page, "articles-arabic")


def test_no_request_left_the_machine(outside: list[str]) -> None:
    assert outside == []
