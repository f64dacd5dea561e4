"""Per-language data files (`data/lang/<code>/*.yaml`), loaded once and folded for matching.

The schema of each file is declared here (`SCHEMAS`) so that a test can reject unknown keys.
Nothing is read at import time; `load` caches per (code, file).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from kzdash.text.textnorm import fold_key

DATA_DIR = Path(os.environ.get("KZDASH_DATA", Path(__file__).resolve().parents[2] / "data"))
LANG_DIR = DATA_DIR / "lang"

SCHEMAS: dict[str, set[str]] = {
    "language.yaml": {"name", "script", "proclitics", "suffixes", "stem_endings", "boilerplate", "word_order",
                      "place_prepositions"},
    "dates.yaml": {
        "months", "weekdays", "day_ordinals", "connectors", "day_suffixes", "relative_days",
        "relative_weeks", "relative_months", "relative_years", "this_month", "past_markers",
        "future_markers", "month_alone_markers", "month_abbreviations", "anchor_days", "day_units",
        "number_words", "count_in", "count_later", "count_ago", "range_words", "holidays", "archive_markers",
        "eve_days", "eve_blockers", "caption_markers", "week_units", "same_month", "eras",
    },
    "places.yaml": {"aliases", "demonyms", "not_places", "region_words", "republic_words"},
    "actors.yaml": {"actors", "titles"},
    "cues.yaml": {
        "reporting_verbs", "continuation", "negation", "issues", "polarity", "events",
        "welcome", "background", "clause_breaks", "not_negation", "coordinators",
        "negation_reach", "addressing", "qualifiers", "articles", "requested_by", "hearsay",
    },
}


class _DataLoader(yaml.SafeLoader):
    """YAML 1.1 reads `no`, `yes`, `on`, `off` as booleans; in word lists they are words."""


_DataLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path) -> object:
    """A data file's YAML, with every plain scalar that is not a number kept as text."""
    with Path(path).open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_DataLoader)  # noqa: S506 - a SafeLoader subclass


class LangDataError(ValueError):
    """A language data file that does not follow its schema."""


@lru_cache(maxsize=1)
def languages() -> list[str]:
    """Codes of every language that has a folder with a `language.yaml`."""
    if not LANG_DIR.is_dir():
        return []
    return sorted(p.name for p in LANG_DIR.iterdir() if (p / "language.yaml").is_file())


@lru_cache(maxsize=256)
def load(code: str, filename: str) -> dict[str, Any]:
    """The raw mapping of `data/lang/<code>/<filename>` (empty when the file does not exist)."""
    path = LANG_DIR / code / filename
    if not path.is_file():
        return {}
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise LangDataError(f"{path}: expected a mapping at the top level")
    unknown = set(data) - SCHEMAS.get(filename, set(data))
    if unknown:
        raise LangDataError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    return data


def folded_list(values: Any) -> list[str]:
    """A YAML list (or a single string, or None) as folded, de-duplicated keys, longest first."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    keys = {fold_key(str(v)) for v in values if str(v).strip()}
    return sorted(keys, key=lambda k: (-len(k), k))


def word_order(code: str | None) -> str:
    """`svo` (default), `sov` (verb-final) or `v2` (German: the finite verb second, its participle or
    infinitive, often the verdict, at the clause's end)."""
    return str(load(code, "language.yaml").get("word_order") or "svo").lower() if code else "svo"


def verb_final(code: str | None) -> bool:
    """Subject-object-verb languages (`word_order: sov`): the subject is the first actor of a clause,
    and a welcome or a reporting verb follows what it is about."""
    return word_order(code) == "sov"


@lru_cache(maxsize=64)
def morphology(code: str | None) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(proclitics, suffixes, stem_endings) of a language, folded, longest first.

    An unknown or missing language gets the union over the languages that share nothing:
    empty lists, so only exact forms match.
    """
    if not code:
        return (), (), ()
    data = load(code, "language.yaml")
    return (
        tuple(folded_list(data.get("proclitics"))),
        tuple(folded_list(data.get("suffixes"))),
        tuple(folded_list(data.get("stem_endings"))),
    )
