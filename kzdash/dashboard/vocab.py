"""Human labels for the ids in the tables: actors, issues, event types, countries, languages.

The tables hold ids (`KAZ`, `sanctions_russia`, `ar`); a briefer reads names. Labels come from
`data/taxonomy.yaml` (the reference vocabulary), `data/dashboard.yaml` (short column labels, key
dates) and pycountry; an id without a label is shown as itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from kzdash.pipeline.serving import UNKNOWN_LANGUAGE, UNKNOWN_OUTLET, UNTYPED  # noqa: F401 - the build fills them in
from kzdash.text.langdata import DATA_DIR, read_yaml

POLARITIES = ("support", "oppose", "neutral")


@dataclass(frozen=True)
class Vocab:
    actors: dict[str, str]  # id -> short name ("Kazakhstan")
    issues: dict[str, str]  # id -> the taxonomy's description
    issue_short: dict[str, str]  # id -> a column label
    event_types: tuple[str, ...]
    key_dates: tuple[tuple[date, str], ...]

    def actor(self, code: str | None) -> str:
        if not code:
            return "—"
        return self.actors.get(code) or country_name(code)

    def issue(self, code: str) -> str:
        return self.issue_short.get(code) or self.issues.get(code) or code.replace("_", " ")

    def stance_sentence(self, holder: str, issue: str, polarity: str) -> str:
        """The English line shown beside a quote: "Kazakhstan opposes: Recognise DPR/LPR"."""
        verb = {"support": "supports", "oppose": "opposes"}.get(polarity, "is neutral on")
        return f"{self.actor(holder)} {verb}: {self.issues.get(issue) or self.issue(issue)}"


@lru_cache(maxsize=1)
def vocab() -> Vocab:
    tax = read_yaml(DATA_DIR / "taxonomy.yaml") or {}
    dash = read_yaml(DATA_DIR / "dashboard.yaml") or {}
    actors = {str(k): str(v).split(" (")[0].strip() for k, v in (tax.get("actors") or {}).items()}
    issues = {str(k): str(v) for k, v in (tax.get("issues") or {}).items()}
    types = tuple(str(t) for t in tax.get("event_types") or ()) + (UNTYPED,)
    keys = tuple(sorted((_as_date(d["date"]), str(d["label"])) for d in dash.get("key_dates") or ()))
    return Vocab(actors, issues, {str(k): str(v) for k, v in (dash.get("issue_short") or {}).items()}, types, keys)


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    import pycountry

    if code == "XKX":
        return "Kosovo"  # user-assigned code, not in ISO 3166
    found = pycountry.countries.get(alpha_3=code)
    return getattr(found, "common_name", None) or getattr(found, "name", None) or code


@lru_cache(maxsize=512)
def language_name(code: str) -> str:
    import pycountry

    if code == UNKNOWN_LANGUAGE:
        return "unknown"
    found = pycountry.languages.get(alpha_2=code) if len(code) == 2 else pycountry.languages.get(alpha_3=code)
    return getattr(found, "name", None) or code


@lru_cache(maxsize=1)
def confidence_settings() -> dict[str, dict]:
    """The "confident only" switch per table, as bench/calibrate.py measured it (data/confidence.yaml):
    min_confidence, and the precision of the rows it keeps on the annotated sets."""
    data = read_yaml(DATA_DIR / "confidence.yaml") or {}
    return {name: dict(data.get(name) or {}) for name in ("stances", "events")}


def confidence_floor(table: str) -> float:
    """Rows of `table` below this are hidden by "confident only" (1.0 when nothing was measured)."""
    return float(confidence_settings().get(table, {}).get("min_confidence", 1.0))


def confidence_help() -> str:
    """The switch's help text: what it keeps and how often those rows were right."""
    parts = []
    for table in ("stances", "events"):
        s = confidence_settings().get(table, {})
        if s.get("precision") is None:
            parts.append(f"{table}: none reached the target precision on the annotated sets")
        else:
            floor, right, everything = float(s["min_confidence"]), float(s["precision"]), float(s["precision_all"])
            parts.append(f"{table} with confidence ≥ {floor:.1f}, right {right:.0%} of the time on {s['rows']} "
                         f"annotated rows (all {table}: {everything:.0%})")
    return "Keeps " + "; ".join(parts) + ". Measured by bench/calibrate.py, see docs/confidence.md."

