"""Generated corpora for benchmarks and engine tests: copies of real articles, marked as such.

A copy gets a unique marker line, a publication date shifted by whole days and a benchmark
outlet, so every copy is a distinct article (its own id) with the extraction work of the original.
Each copy is marked in the text (`[benchmark copy N]`), the outlet (`Benchmark outlet N`) and the
metadata basis (`benchmark copy`). Corpora are written to temporary folders by `bench/` and the
tests, never into `data/` or a build the dashboard shows.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kzdash.pipeline.ingest import SIDECAR

BASIS = "benchmark copy"
OUTLET = "Benchmark outlet"
OUTLETS = 7  # copies cycle through this many benchmark outlets
FIELDS = ["file", "outlet", "url", "published", "language", "basis"]


@dataclass(frozen=True)
class Template:
    """One real article a corpus is copied from: its text and its metadata.csv row."""

    text: str
    suffix: str
    url: str
    published: str
    language: str


def load_templates(folders: Sequence[Path], max_chars: int | None = None) -> list[Template]:
    """The articles listed in each folder's metadata.csv; `max_chars` cuts at a paragraph boundary."""
    out = []
    for folder in folders:
        with (Path(folder) / SIDECAR).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                path = Path(folder) / row["file"]
                text = path.read_text(encoding="utf-8")
                out.append(Template(_cut(text, max_chars) if max_chars else text, path.suffix,
                                    row.get("url") or "", row.get("published") or "", row.get("language") or ""))
    return out


def _cut(text: str, max_chars: int) -> str:
    """Whole paragraphs up to about `max_chars` (at least the first one)."""
    kept, size = [], 0
    for para in text.split("\n\n"):
        if kept and size + len(para) > max_chars:
            break
        kept.append(para)
        size += len(para) + 2
    return "\n\n".join(kept)


def write_corpus(folder: Path, templates: Sequence[Template], n: int) -> int:
    """Write `n` marked copies (round-robin over `templates`) plus metadata.csv; returns the bytes written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    with (folder / SIDECAR).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        for i in range(n):
            t = templates[i % len(templates)]
            name = f"bench_{i:06d}{t.suffix}"
            body = f"{t.text.rstrip()}\n\n[{BASIS} {i}]\n"
            (folder / name).write_text(body, encoding="utf-8")
            total += len(body.encode())
            writer.writerow({"file": name, "outlet": f"{OUTLET} {i % OUTLETS}", "url": t.url,
                             "published": _shift(t.published, i // len(templates)), "language": t.language,
                             "basis": BASIS})
    return total


def _shift(published: str, days: int) -> str:
    """A metadata date moved by whole days, keeping its precision; empty stays empty."""
    if len(published) == 10:
        return (dt.date.fromisoformat(published) + dt.timedelta(days=days)).isoformat()
    return published
