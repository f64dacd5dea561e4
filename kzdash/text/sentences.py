"""Sentence spans: the unit of evidence for events and stances.

A plain splitter (line breaks, and . ! ? ؟ … followed by space and a non-lower-case letter) is
enough for news prose in the scripts kzdash reads; a model-based one would cost more than the
rest of the build. Offsets are into the article text.
"""

from __future__ import annotations

import re

# Both stops share the one-character look-behind, tested first: most positions fail there at once.
_BOUNDARY = re.compile(r"(?<=[.!?؟…])(?:[\"'»”)\]]*\s+(?=[^\s\da-zа-яәғқңөұүһі])"
                       # pages glue paragraphs without a space ("… de la Crimée.Mardi, le Kremlin …"): a word of
                       # two lower-case letters or more, a stop, then a capitalised word
                       r"|(?<=[a-zà-öø-ÿа-яё]{2}[.!?])(?=[A-ZÀ-ÖØ-ÞА-ЯЁ][a-zà-öø-ÿа-яё]))|\n+")
_TOKEN_BEFORE_DOT = re.compile(r"(\w+)\.[\"'»”)\]]*$")


def _not_an_end(before: str) -> bool:
    """A dot after an initial or a capitalised two-letter abbreviation ("U.S.", "г.", "Dr.") or after a
    one- or two-digit ordinal day ("am 5. Januar", "22. Dezember") ends no sentence; "in 2022." and
    "about it." do."""
    m = _TOKEN_BEFORE_DOT.search(before)
    if not m:
        return False
    token = m.group(1)
    return len(token) == 1 or (len(token) == 2 and (token[0].isupper() or token.isdigit()))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of each sentence, trimmed of surrounding white space."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        if "\n" not in m.group() and _not_an_end(text[max(start, m.start() - 6):m.start()]):
            continue  # "U.S. officials", "18 г. Москва"
        _add(text, start, m.start(), spans)
        start = m.end()
    _add(text, start, len(text), spans)
    return spans


def _add(text: str, s: int, e: int, spans: list[tuple[int, int]]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        spans.append((s, e))


def sentence_of(offset: int, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """The span that holds `offset` (or the nearest before it)."""
    best = spans[0] if spans else (0, 0)
    for s, e in spans:
        if s <= offset:
            best = (s, e)
        else:
            break
    return best
