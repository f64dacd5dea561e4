"""Plain records passed between pipeline stages.

They are dataclasses (not pandas rows) so each stage can be tested on its own and a bad
input can be described precisely (`Quarantined`) instead of raising.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RawArticle:
    """An article as read from disk, before any cleaning."""

    source: str  # path relative to the input folder; "file.jsonl#3" for a JSONL/CSV record
    raw_text: str  # text as read (HTML already reduced to its main text)
    title: str | None = None
    url: str | None = None
    outlet: str | None = None
    published: str | None = None  # ISO date from metadata as given ("2022-03-02" or "2022-03")
    published_basis: str | None = None  # free text: how the metadata established it
    language: str | None = None  # ISO 639-1 from metadata, else None
    line: int | None = None  # line/record number for JSONL/CSV records


@dataclass
class Quarantined:
    """An input that could not be read, with one line a person can act on."""

    source: str
    line: int | None
    reason: str


@dataclass
class Article:
    """An article after `kzdash.extract.normalize.normalize`."""

    source: str
    text: str
    title: str | None
    url: str | None
    outlet: str | None
    published: str | None
    published_basis: str | None
    language: str | None
    header: dict[str, str] = field(default_factory=dict)  # "date 2022-03" -> {"date": "2022-03"}
    stripped: list[str] = field(default_factory=list)  # lines removed as boilerplate or repeats


@dataclass
class ArticleResult:
    """The rows one article contributes to each table."""

    article: dict
    places: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    stances: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # work that was capped (kept in the quarantine table)
