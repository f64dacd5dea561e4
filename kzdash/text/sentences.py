"""Sentence spans: the unit of evidence for events and stances.

A plain splitter (line breaks, and . ! ? ؟ … followed by space and a non-lower-case letter) is
enough for news prose in the scripts kzdash reads; a model-based one would cost more than the
rest of the build. Offsets are into the article text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# A stop or a line break (consumed: a pattern opening with one character class lets the regex engine
# skip from one to the next instead of trying every position); after a stop, what makes it a sentence end
# (group 1, the boundary); after a line break, the rest of the run of them (the boundary the whole match).
_BOUNDARY = re.compile(r"[.!?؟…\n](?:(?<=[.!?؟…])((?:[\"'»”)\]]*\s+(?=[^\s\da-zа-яәғқңөұүһі])"
                       # pages glue paragraphs without a space ("… de la Crimée.Mardi, le Kremlin …"): a word of
                       # two lower-case letters or more, a stop, then a capitalised word
                       r"|(?<=[a-zà-öø-ÿа-яё]{2}[.!?])(?=[A-ZÀ-ÖØ-ÞА-ЯЁ][a-zà-öø-ÿа-яё])))|(?<=\n)\n*)")
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


def boundaries(text: str) -> Iterator[tuple[int, int]]:
    """[start, end) of each candidate sentence boundary: the white space (or nothing) after a stop, a run
    of line breaks."""
    for m in _BOUNDARY.finditer(text):
        yield m.span(1) if m.start(1) >= 0 else m.span()


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of each sentence, trimmed of surrounding white space."""
    spans: list[tuple[int, int]] = []
    start = 0
    for b, end in boundaries(text):
        if "\n" not in text[b:end] and _not_an_end(text[max(start, b - 6):b]):
            continue  # "U.S. officials", "18 г. Москва"
        _add(text, start, b, spans)
        start = end
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
