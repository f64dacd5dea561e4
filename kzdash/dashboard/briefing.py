"""Saved briefing views: a title, a note and a share link each, read from `data/briefing/views.yaml`.

A view's link is what the address bar shows for a page ("timeline?from=2022-01-01"), so a briefer
saves a view by copying the link; the link is parsed by `Filters`, like any other. A page with tabs
(Stances, Timeline) keeps the open tab out of the address bar, so a view names it with `tab:`
("positions" on Stances, "coverage" on Timeline).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from kzdash.dashboard.filters import Filters
from kzdash.text.langdata import DATA_DIR, read_yaml

VIEWS_FILE = DATA_DIR / "briefing" / "views.yaml"
PAGES = ("overview", "map", "timeline", "stances", "articles", "data")


@dataclass(frozen=True)
class View:
    title: str
    note: str
    link: str
    tab: str = ""  # the page's tab the view shows ("" for its first)

    @property
    def page(self) -> str:
        """The page the view shows (overview when the link names none we know)."""
        path = urlsplit(self.link).path.strip("/").split("/")[-1]
        return path if path in PAGES else "overview"

    @property
    def filters(self) -> Filters:
        return Filters.from_query_params(parse_qs(urlsplit(self.link).query, keep_blank_values=False))


def load_views(path: Path = VIEWS_FILE) -> list[View]:
    """The saved views; an entry without a title or link is skipped. Read again when the file changes."""
    path = Path(path)
    return list(_read_views(path, path.stat().st_mtime_ns if path.is_file() else None))


@lru_cache(maxsize=8)
def _read_views(path: Path, stamp: int | None) -> tuple[View, ...]:
    data = read_yaml(path) if stamp is not None else None
    out = []
    for item in (data or {}).get("views") or []:
        if isinstance(item, dict) and item.get("title") and item.get("link"):
            out.append(View(str(item["title"]), str(item.get("note") or ""), str(item["link"]),
                            str(item.get("tab") or "").strip().lower()))
    return tuple(out)
