"""Confidence that means something: how often rows made the same way were right.

The stance and event engines give each row a prior confidence from the strength of its rule. That
prior is then replaced by the precision measured for rows of the same kind on the annotated sets
(`bench/calibrate.py --fit` writes the counts to `data/calibration.yaml`): a stance's kind is its
trigger (act, near pair, topic with a verdict) and holder rule; an event's is the family of its
date rule. Counts are smoothed toward the prior (Beta pseudo-counts), so a kind seen twice moves
only a little, and a kind never seen keeps its prior.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kzdash.text.langdata import DATA_DIR, read_yaml

CALIBRATION = DATA_DIR / "calibration.yaml"
PSEUDO_COUNTS = 4  # how many rows the prior weighs against the measured ones
_HOLDER = re.compile(r"\bholder:(\S+)")


def stance_kind(rule: str | None) -> str:
    """"act holder:subject", "near holder:speaker", "topic welcomed", …: what calibration groups by."""
    rule = rule or ""
    trigger = "topic" if rule.startswith("topic:") else "near" if "~" in rule.split(" polarity:")[0] else "act"
    holder = _HOLDER.search(rule)
    who = holder.group(1) if holder else "welcomed" if " welcomed" in rule else "none"
    return f"{trigger} {who}" + (" negated" if " negation:" in rule else "")


def event_kind(date_rule: str | None) -> str:
    """The date rule's family: "day-month-year", "weekday", "rel_day", "published"…"""
    family = (date_rule or "none").split(":")[0]
    return family if family.isascii() else "relative-words"


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, tuple[int, int]]]:
    data = (read_yaml(CALIBRATION) if CALIBRATION.is_file() else None) or {}  # none yet: every prior stands
    return {table: {str(k): (int(v[0]), int(v[1])) for k, v in (data.get(table) or {}).items()}
            for table in ("stances", "events")}


def calibrated(table: str, kind: str, prior: float) -> float:
    """The smoothed precision of rows of this kind (`table` is "stances" or "events")."""
    right, seen = _table()[table].get(kind, (0, 0))
    return round((right + PSEUDO_COUNTS * prior) / (seen + PSEUDO_COUNTS), 2)
