"""The stance engine's logic on a small invented language file (real languages: tests/cases)."""

from __future__ import annotations

import pytest

from kzdash import actors as actors_mod
from kzdash import langdata, stances
from kzdash.actors import find_actors
from kzdash.sentences import sentence_spans
from kzdash.stances import find_stances
from kzdash.textnorm import fold

LANGUAGE = "name: Test\nscript: latin\nproclitics: []\nsuffixes: []\nstem_endings: []\nboilerplate: []\n"
ACTORS = """
actors:
  KAZ: [Tokayev, Astana officials]
  USA: [White House, Washington officials]
  RUS: [Kremlin, Peskov]
titles: [president]
"""
CUES = """
reporting_verbs: [said, told reporters]
continuation: [he added]
negation: [not, never]
issues:
  recognize_dpr_lpr: [recognise the separatist republics]
  send_troops_ukraine_war: [send troops to Ukraine]
  ukraine_peace_talks: [peace talks]
polarity:
  support: [backs, calls for]
  oppose: [refuses to, rejects]
welcome: [welcomed]
"""


@pytest.fixture()
def lang(tmp_path, monkeypatch):
    d = tmp_path / "zz"
    d.mkdir()
    (d / "language.yaml").write_text(LANGUAGE, encoding="utf-8")
    (d / "actors.yaml").write_text(ACTORS, encoding="utf-8")
    (d / "cues.yaml").write_text(CUES, encoding="utf-8")
    monkeypatch.setattr(langdata, "LANG_DIR", tmp_path)
    for f in (langdata.load, langdata.morphology, actors_mod.name_matcher, actors_mod.title_matcher, stances.cues):
        f.cache_clear()
    yield "zz"
    for f in (langdata.load, langdata.morphology, actors_mod.name_matcher, actors_mod.title_matcher, stances.cues):
        f.cache_clear()


def _stances(text: str, code: str) -> list[tuple[str, str, str]]:
    folded = fold(text)
    actors = find_actors(text, folded, code, [])
    return [(s.holder, s.issue, s.polarity) for s in find_stances(folded, code, sentence_spans(text), actors)]


@pytest.mark.parametrize("text,expected", [
    ("Tokayev refuses to recognise the separatist republics.", [("KAZ", "recognize_dpr_lpr", "oppose")]),
    ("Tokayev said he would not recognise the separatist republics.", [("KAZ", "recognize_dpr_lpr", "oppose")]),
    ("Tokayev never rejects peace talks.", [("KAZ", "ukraine_peace_talks", "support")]),
    ("Tokayev calls for peace talks.", [("KAZ", "ukraine_peace_talks", "support")]),
    ("The Kremlin backs peace talks, Peskov told reporters.", [("RUS", "ukraine_peace_talks", "support")]),
    # the speaker's position, whoever else is named
    ("Peskov said Tokayev rejects peace talks.", [("RUS", "ukraine_peace_talks", "oppose")]),
    # welcoming someone's refusal is opposing the same thing
    ("The White House welcomed Tokayev's refusal, as he refuses to send troops to Ukraine.",
     [("KAZ", "send_troops_ukraine_war", "oppose"), ("USA", "send_troops_ukraine_war", "oppose")]),
    # a continuation keeps the last speaker
    ("Tokayev said the war must end. He added that peace talks are the only way.",
     [("KAZ", "ukraine_peace_talks", "support")]),
    ("Nothing here is about an issue, Tokayev said.", []),
])
def test_stances(lang: str, text: str, expected: list) -> None:
    assert _stances(text, lang) == expected


def test_no_language_no_stances() -> None:
    assert find_stances(fold("x"), None, [(0, 1)], []) == []
