"""Every language data file loads, follows its schema and names only known ids."""

from __future__ import annotations

from collections import Counter

import pycountry
import pytest
import yaml

from kzdash.text.langdata import DATA_DIR, LANG_DIR, SCHEMAS, LangDataError, languages, load
from kzdash.text.textnorm import fold_key

TAXONOMY = yaml.safe_load((DATA_DIR / "taxonomy.yaml").read_text(encoding="utf-8"))
# Actor ids: the taxonomy's, and any state by its ISO 3166-1 alpha-3 code (Kosovo: XKX).
ACTORS = set(TAXONOMY["actors"]) | {c.alpha_3 for c in pycountry.countries} | {"XKX"}
ISSUES = set(TAXONOMY["issues"])
EVENT_TYPES = set(TAXONOMY["event_types"])
FILES = [(code, path.name) for code in languages() for path in sorted((LANG_DIR / code).glob("*.yaml"))]


def test_core_languages_are_there() -> None:
    assert {"ar", "sq", "en", "ru"} <= set(languages())


def test_every_file_has_a_known_name() -> None:
    for code, name in FILES:
        assert name in SCHEMAS, f"data/lang/{code}/{name}: not a known data file ({', '.join(SCHEMAS)})"


@pytest.mark.parametrize("code,name", FILES)
def test_file_loads_without_unknown_keys(code: str, name: str) -> None:
    load.cache_clear()
    load(code, name)  # raises LangDataError on an unknown key


def test_unknown_key_is_rejected(tmp_path, monkeypatch) -> None:
    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / "dates.yaml").write_text("monthz: {}\n", encoding="utf-8")
    monkeypatch.setattr("kzdash.text.langdata.LANG_DIR", tmp_path)
    load.cache_clear()
    with pytest.raises(LangDataError, match="monthz"):
        load("xx", "dates.yaml")
    load.cache_clear()


def _lists(obj, path=()):
    """Every list in a YAML tree, with where it is."""
    if isinstance(obj, list) and any(isinstance(v, dict) for v in obj):
        for i, v in enumerate(obj):
            yield from _lists(v, path + (str(i),))
    elif isinstance(obj, list):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _lists(v, path + (str(k),))


@pytest.mark.parametrize("code,name", FILES)
def test_no_duplicates_within_a_list(code: str, name: str) -> None:
    for where, values in _lists(load(code, name)):
        dupes = [k for k, n in Counter(fold_key(str(v)) for v in values).items() if n > 1]
        assert not dupes, f"data/lang/{code}/{name} {'/'.join(where)}: duplicates {dupes}"


@pytest.mark.parametrize("code", languages())
def test_ids_are_known(code: str) -> None:
    actors = load(code, "actors.yaml").get("actors") or {}
    assert set(actors) <= ACTORS, f"unknown actor ids {set(actors) - ACTORS}"
    cues = load(code, "cues.yaml")
    assert set(cues.get("issues") or {}) <= ISSUES, f"unknown issues {set(cues.get('issues') or {}) - ISSUES}"
    assert set(cues.get("events") or {}) <= EVENT_TYPES
    assert set(cues.get("polarity") or {}) <= {"support", "oppose", "neutral"}


@pytest.mark.parametrize("code", languages())
def test_issue_cues_are_well_formed(code: str) -> None:
    """An issue is a list of words or a mapping of topic/support/oppose/near; a near group pairs words with anchors."""
    for issue, spec in (load(code, "cues.yaml").get("issues") or {}).items():
        if isinstance(spec, list):
            continue
        assert isinstance(spec, dict), f"{code} {issue}: {spec!r:.80}"
        assert set(spec) <= {"topic", "support", "oppose", "near"}, f"{code} {issue}: {sorted(spec)}"
        groups = spec.get("near") or []
        for group in [groups] if isinstance(groups, dict) else groups:
            assert {"words", "anchors"} <= set(group) <= {"words", "anchors", "polarity", "holder"}, \
                f"{code} {issue}: {group}"
            assert group.get("polarity", "support") in {"support", "oppose"}
            assert group.get("holder", "before") in {"before", "after", "agent"}, f"{code} {issue}: {group}"


@pytest.mark.parametrize("code", languages())
def test_dates_are_well_formed(code: str) -> None:
    dates = load(code, "dates.yaml")
    assert set(map(int, dates.get("months") or {})) <= set(range(1, 13))
    assert set(map(int, dates.get("weekdays") or {})) <= set(range(1, 8))
    assert set(map(int, dates.get("day_ordinals") or {})) <= set(range(1, 32))
    for key in ("relative_days", "relative_weeks", "relative_months", "relative_years"):
        assert all(isinstance(v, int) for v in (dates.get(key) or {}).values()), key


@pytest.mark.parametrize("code", languages())
def test_language_file(code: str) -> None:
    data = load(code, "language.yaml")
    assert data.get("name") and data.get("script") in {"latin", "cyrillic", "arabic"}


@pytest.mark.parametrize("code,name", FILES)
def test_list_entries_are_text(code: str, name: str) -> None:
    for where, values in _lists(load(code, name)):
        odd = [v for v in values if not isinstance(v, str)]
        assert not odd, f"data/lang/{code}/{name} {'/'.join(where)}: not text {odd} (quote them)"


def test_yaml_words_are_not_booleans(tmp_path) -> None:
    from kzdash.text.langdata import read_yaml

    (tmp_path / "x.yaml").write_text("negation: [no, not, yes, on, off, true]\nn: 5\n", encoding="utf-8")
    assert read_yaml(tmp_path / "x.yaml") == {"negation": ["no", "not", "yes", "on", "off", "true"], "n": 5}
