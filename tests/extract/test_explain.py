"""`kzdash explain`: the engine's trail per sentence, and why no stance came of a trigger."""

from __future__ import annotations

from kzdash.extract.gazetteer import load_gazetteer
from kzdash.extract.records import RawArticle
from kzdash.pipeline.inspect import explain_raw

TEXT = ("Kazakhstan will not recognise the breakaway republics, the foreign minister said on 3 March 2022. "
        "The annexation was discussed at length in Almaty. "
        "He added that Astana wanted peace talks in Istanbul.")


def trail_of(text: str, near: str | None = None, language: str = "en"):
    load_gazetteer()
    return explain_raw(RawArticle("mine.txt", text, language=language, published="2022-03-04"), near)


def test_every_sentence_has_its_finds_and_the_stance_its_rule() -> None:
    trail = trail_of(TEXT)
    assert trail.source == "mine.txt" and trail.language == "en" and trail.published == "2022-03-04"
    assert len(trail.sentences) == 3
    first = trail.sentences[0]
    assert any(a.startswith("KAZ «Kazakhstan»") for a in first.actors)
    assert any(d.startswith("2022-03-03/day") for d in first.dates)
    assert "negation" in first.hits and "reporting" in first.hits
    [stance] = first.stances
    assert stance.startswith("KAZ recognize_dpr_lpr oppose") and "holder:subject" in stance


def test_a_topic_without_a_verdict_says_why_no_stance() -> None:
    trail = trail_of(TEXT, near="annexation")
    [sentence] = trail.sentences  # only the sentence with the word
    assert sentence.stances == []
    assert any("recognize_annexations: the topic is only named" in w for c in sentence.clauses for w in c.why)
    assert any(p.startswith("Almaty (city") for p in sentence.places)


def test_a_country_after_a_place_preposition_is_no_holder_candidate() -> None:
    trail = trail_of("Россия не признает референдумы в Казахстане, заявил Песков.", language="ru")
    [sentence] = trail.sentences
    assert any(c.startswith("KAZ «Казахстане»: after a place preposition") for c in sentence.candidates)


def test_a_sentence_with_no_issue_says_so() -> None:
    [sentence] = trail_of("The weather in Astana was cold on Monday.").sentences
    assert sentence.stances == [] and sentence.hits.get("topic") is None
    assert [w for c in sentence.clauses for w in c.why] == [
        "no issue trigger in this clause: no topic, act or near pair of any issue matched"]


def test_near_words_that_occur_nowhere_give_no_sentence() -> None:
    assert trail_of(TEXT, near="zzzz").sentences == []
