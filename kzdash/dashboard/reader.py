"""The article reader's data: the text cut into plain and highlighted segments, and its rows.

Places come from the built `places` table (their offsets are the build's own); actors (names such
as Tokayev, the Kremlin) and dates are found again with the build's own matchers, because the
tables keep actor ids and resolved dates but not where they were written. Segments never overlap,
so the page can escape each one and wrap it in a mark without producing broken markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kzdash.dashboard.dataset import REVIEW_COLUMNS, Dataset
from kzdash.dashboard.vocab import UNKNOWN_LANGUAGE, vocab

KIND_ORDER = {"place": 0, "actor": 1, "date": 2}  # which highlight wins where two overlap
RTL_LANGUAGES = {"ar", "fa", "ur", "he", "ps", "ckb", "yi", "dv", "sd", "ug"}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str  # place | actor | date
    label: str  # what it was read as: "Astana (KAZ)", "Kazakhstan", "2022-01-11"


@dataclass(frozen=True)
class Article:
    meta: dict[str, object]
    text: str
    direction: str  # rtl | auto
    segments: list[tuple[str, Span | None]]
    events: pd.DataFrame
    stances: pd.DataFrame
    places: pd.DataFrame


def direction(language: str | None) -> str:
    return "rtl" if (language or "") in RTL_LANGUAGES else "auto"


def article(ds: Dataset, article_id: str) -> Article | None:
    """Everything the reader shows for one article, or None when there is no such article."""
    found = ds.sql("SELECT row FROM articles WHERE article_id = ? ORDER BY row LIMIT 1", [article_id])
    if found.empty:
        return None
    idx = int(found["row"].iat[0])
    row = ds.fetch("articles", [idx], ds.stored_columns("articles")).iloc[0]
    text = str(row["text"]) if pd.notna(row["text"]) else ""
    lang = str(row["language"]) if pd.notna(row["language"]) else UNKNOWN_LANGUAGE
    parts = {name: ds.fetch(name, np.flatnonzero(ds.table(name)["art"].to_numpy() == idx),
                            [*ds.stored_columns(name), *REVIEW_COLUMNS, "row"])  # a reviewer picks rows by number
             for name in ("events", "stances", "places")}
    spans = place_spans(parts["places"]) + actor_spans(text, lang) + date_spans(text, lang, row["published"])
    meta = {k: (None if pd.isna(row[k]) else row[k]) for k in ("article_id", "title", "outlet", "language",
                                                                  "published", "source", "url", "published_basis")}
    return Article(meta, text, direction(lang), segments(text, spans), parts["events"], parts["stances"],
                   parts["places"])


def place_spans(places: pd.DataFrame) -> list[Span]:
    return [Span(int(s), int(e), "place", f"{n} ({c})") for s, e, n, c in
            zip(places["start"], places["end"], places["name"], places["country"], strict=True)
            if pd.notna(s) and pd.notna(e)]


def actor_spans(text: str, language: str) -> list[Span]:
    from kzdash.extract.actors import find_actors
    from kzdash.text.textnorm import fold

    # Without place mentions only names and institutions are found; countries are highlighted as places.
    found = find_actors(text, fold(text), language, [])
    return [Span(a.start, a.end, "actor", f"{vocab().actor(a.actor)} ({a.actor})") for a in found]


def date_spans(text: str, language: str, published: object) -> list[Span]:
    from kzdash.extract.temporal import find_dates

    pub = None if published is None or pd.isna(published) else pd.Timestamp(published).date().isoformat()
    return [Span(d.start, d.end, "date", d.date[:{"day": 10, "month": 7}.get(d.precision, 4)])
            for d in find_dates(text, language, pub)]


def segments(text: str, spans: list[Span]) -> list[tuple[str, Span | None]]:
    """`text` cut at the spans: (piece, span or None) in order; a span overlapping an earlier one is dropped."""
    chosen: list[Span] = []
    for sp in sorted(spans, key=lambda s: (KIND_ORDER.get(s.kind, 9), s.start)):
        if 0 <= sp.start < sp.end <= len(text) and not any(sp.start < c.end and c.start < sp.end for c in chosen):
            chosen.append(sp)
    out: list[tuple[str, Span | None]] = []
    at = 0
    for sp in sorted(chosen, key=lambda s: s.start):
        if sp.start > at:
            out.append((text[at:sp.start], None))
        out.append((text[sp.start:sp.end], sp))
        at = sp.end
    if at < len(text):
        out.append((text[at:], None))
    return out


# ------------------------------------------------------------------ why each row was made

RULE_PARTS = {  # the labels of a stance's `rule` (kzdash.extract.stances), in words
    "act": "act that takes a side",
    "topic": "issue named",
    "polarity": "verdict",
    "negation": "turned by the negation",
    "outer": "inside the verdict",
    "welcome": "welcomes it",
    "welcome-after": "welcomes it (verb-final)",
    "holder": "holder",
}
HOLDER_RULES = {
    "reported-subject": "the subject of the reported clause",
    "subject": "the subject before the verdict",
    "sentence-subject": "the last actor before the verdict in the sentence",
    "speaker": "the speaker the reporting verb names",
    "speaker-claim": "the speaker, whose claim about a relationship it is",
    "previous-speaker": "the speaker carried over from an earlier sentence",
    "verb-first-subject": "the subject right after a verb-first verdict",
    "welcomer": "the one who welcomes",
}
_RULE_LABEL = re.compile(r"(?:^|\s)(" + "|".join(sorted(map(re.escape, RULE_PARTS), key=len, reverse=True))
                         + r"):|\s(welcomed)\b")


def rule_trail(rule: object) -> str:
    """A stance's rule string read out: "issue named «sanctions» → verdict «will comply» → holder:
    the subject of the reported clause". Unknown parts are kept as they are."""
    if rule is None or (isinstance(rule, float) and rule != rule) or not str(rule).strip():
        return ""
    rule = str(rule)
    marks = list(_RULE_LABEL.finditer(rule))
    if not marks:
        return rule
    parts = [rule[: marks[0].start()].strip()] if rule[: marks[0].start()].strip() else []
    for m, nxt in zip(marks, [*marks[1:], None], strict=True):
        value = rule[m.end(): nxt.start() if nxt else len(rule)].strip()
        if m.group(2):
            parts.append("the welcomed party takes the same side" + (f" ({value})" if value else ""))
            continue
        label = m.group(1)
        if label == "holder":
            parts.append(f"holder: {HOLDER_RULES.get(value, value)}")
        else:
            parts.append(f"{RULE_PARTS[label]} «{value}»")
    return " → ".join(parts)


def with_why(kind: str, rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with a first column saying, in words, which rule and data entry made each one."""
    if rows.empty:
        return rows.assign(why=pd.Series(dtype="string"))
    if kind == "stances":
        why = [rule_trail(r) for r in rows["rule"]]
    elif kind == "events":
        why = [f"type: {t if isinstance(t, str) else 'no event cue'} · date: {d if isinstance(d, str) else '-'}"
               for t, d in zip(rows["type_rule"], rows["date_rule"], strict=True)]
    else:
        why = [f"matched «{s}» as {r}" for s, r in zip(rows["surface"], rows["rule"], strict=True)]
    out = rows.copy()
    out.insert(0, "why", pd.Series(why, index=rows.index, dtype="string"))
    return out


def engine_trail(art: Article) -> str:
    """`kzdash explain` for an article of the build, from its stored text, language and date."""
    from kzdash.extract.explain import render
    from kzdash.pipeline.inspect import explain_raw, stored_article

    return render(explain_raw(stored_article({**art.meta, "text": art.text})))
