"""One article's work is bounded: past a cap only the text before it is analysed, and a note says so."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kzdash.extract import article
from kzdash.extract.gazetteer import load_gazetteer
from kzdash.extract.records import RawArticle
from kzdash.pipeline.build import build

NAMES = "Almaty, Astana, Moscow and Kyiv. " * 40  # 160 place mentions


def test_place_mentions_past_the_cap_are_not_analysed(monkeypatch) -> None:
    monkeypatch.setattr(article, "MAX_PLACE_MENTIONS", 10)
    result = article.process_article(RawArticle("n.txt", NAMES, language="en"), [], load_gazetteer())
    assert len(result.places) == 10
    assert result.notes == ["capped: 160 place mentions; the first 10 kept and the text analysed up to character 82"]
    assert result.article["text"] == NAMES.strip()  # the stored text stays whole


def test_a_text_past_the_length_cap_is_analysed_up_to_it(monkeypatch) -> None:
    monkeypatch.setattr(article, "MAX_ANALYSED_CHARS", 100)
    text = "Protesters gathered in Almaty. " * 10 + "Later they marched in Aktau."
    result = article.process_article(RawArticle("l.txt", text, language="en"), [], load_gazetteer())
    assert result.notes == [f"capped: {len(text):,} characters; the first 100 analysed"]
    assert {p["name"] for p in result.places} == {"Almaty"}


def test_an_ordinary_article_has_no_note() -> None:
    result = article.process_article(RawArticle("o.txt", NAMES[:200], language="en"), [], load_gazetteer())
    assert result.notes == []


def test_the_build_keeps_the_article_and_notes_the_cap_also_when_reused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(article, "MAX_PLACE_MENTIONS", 10)
    src = tmp_path / "in"
    src.mkdir()
    (src / "names.txt").write_text(NAMES, encoding="utf-8")
    (src / "plain.txt").write_text("Tokayev met Putin in Moscow on 3 March 2022.", encoding="utf-8")
    for round_ in range(2):  # the second build reuses both articles
        summary = build(src, tmp_path / "out", progress=False)
        assert summary.articles == 2 and summary.reused == 2 * round_
        q = pd.read_parquet(tmp_path / "out" / "quarantine.parquet")
        assert list(q["source"]) == ["names.txt"] and q["reason"].iloc[0].startswith("capped: 160 place mentions")
