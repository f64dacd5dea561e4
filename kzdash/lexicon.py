"""Phrase matching for small per-language lexicons (actors, cues), on folded text.

One Aho-Corasick automaton per lexicon finds every phrase in one pass; a hit counts when it
starts a word (after at most one proclitic of the language: Arabic "وقال") and ends one (or is
followed by one of the language's suffixes: Russian "заявил-а", Albanian "Kazakistan-it").
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import ahocorasick

from kzdash.langdata import morphology
from kzdash.textnorm import Folded, fold_key


def _is_acronym(phrase: str) -> bool:
    letters = [c for c in phrase if c.isalpha()]
    return 2 <= len(letters) <= 6 and all(c.isupper() for c in letters) and " " not in phrase.strip()


@dataclass(frozen=True)
class PhraseHit:
    fs: int  # folded span of the whole word(s), clitics and endings included
    fe: int
    key: str
    value: object


def word_span(ftext: str, ks: int, ke: int) -> tuple[int, int]:
    """Extend a folded key span [ks, ke) to the whole words it sits in."""
    ws, we, n = ks, ke, len(ftext)
    while ws > 0 and ftext[ws - 1].isalnum():
        ws -= 1
    while we < n and (ftext[we].isalnum() or (ftext[we] == "'" and we + 1 < n and ftext[we + 1].isalnum())):
        we += 1
    return ws, we


T = TypeVar("T")


def longest_first(hits: Sequence[T], span: Callable[[T], tuple[int, int]],
                  priority: Callable[[T], tuple]) -> list[T]:
    """The hits that survive where spans overlap, taken in `priority` order (longest first), in text order.

    Taken spans never overlap, so sorted by start they are also sorted by end and one bisection
    finds the only two neighbours a new span could touch (the pairwise check was quadratic)."""
    order = sorted(hits, key=priority)
    starts: list[int] = []
    ends: list[int] = []
    taken: list[T] = []
    for h in order:
        s, e = span(h)
        i = bisect_right(starts, s)
        if i > 0 and ends[i - 1] > s:
            continue
        if i < len(starts) and starts[i] < e:
            continue
        starts.insert(i, s)
        ends.insert(i, e)
        taken.insert(i, h)
    return taken


@lru_cache(maxsize=64)
def _morph_sets(code: str | None) -> tuple[frozenset[str], frozenset[str], int, int]:
    """Proclitics, suffixes and the longest of each, for the cheap rejections in `find`."""
    proclitics, suffixes, _ = morphology(code)
    return (frozenset(proclitics), frozenset(suffixes), max(map(len, proclitics), default=0),
            max(map(len, suffixes), default=0))


def bounded(prefix: str, rest: str, proclitics: Iterable[str], suffixes: Iterable[str]) -> bool:
    """A hit is a word when what precedes it is a proclitic (or nothing) and what follows it
    is a suffix, an apostrophe ending (Ankara'da, Russia's) or nothing."""
    if prefix and prefix not in proclitics:
        return False
    return not rest or rest.startswith("'") or rest in suffixes


class PhraseMatcher:
    """Find the phrases of one lexicon (folded key -> value) in folded text."""

    def __init__(self, phrases: dict[str, object]):
        self._auto = ahocorasick.Automaton()
        # An entry written in capitals ("СВО", "EAEU") is an acronym: it takes no ending and no
        # proclitic, or "свою" would be "СВО" plus an ending; "NATO'nun" (apostrophe) still counts.
        self._acronyms: set[str] = set()
        for key, value in phrases.items():
            k = fold_key(key)
            if k:
                self._auto.add_word(k, (k, value))
                if _is_acronym(key):
                    self._acronyms.add(k)
        self._empty = len(self._auto) == 0
        if not self._empty:
            self._auto.make_automaton()

    def find(self, folded: Folded, code: str | None, lo: int = 0, hi: int | None = None) -> list[PhraseHit]:
        """Non-overlapping hits in folded[lo:hi], longest first where they overlap."""
        if self._empty:
            return []
        procl, sufx, max_prefix, max_suffix = _morph_sets(code)
        ftext = folded.text
        n = len(ftext)
        hits = []
        for last, (key, value) in self._auto.iter(ftext, lo, n if hi is None else hi):
            ks, ke = last - len(key) + 1, last + 1
            # cheap rejection first: most raw hits sit inside longer words
            if ks > 0 and ftext[ks - 1].isalnum() and (
                    max_prefix == 0 or (ks > max_prefix and ftext[ks - max_prefix - 1:ks].isalnum())):
                continue  # more letters before the phrase than any proclitic has
            if ke < n and ftext[ke].isalnum() and (
                    max_suffix == 0 or (ke + max_suffix < n and ftext[ke:ke + max_suffix + 1].isalnum())):
                continue  # more letters after the phrase than any ending has
            if (ks == 0 or not ftext[ks - 1].isalnum()) and (ke == n or not (ftext[ke].isalnum() or ftext[ke] == "'")):
                hits.append(PhraseHit(ks, ke, key, value))  # a whole word as it stands: the common case
                continue
            ws, we = word_span(ftext, ks, ke)
            if key in self._acronyms and (ws != ks or (we != ke and ftext[ke] != "'")):
                continue
            if bounded(ftext[ws:ks], ftext[ke:we], procl, sufx):
                hits.append(PhraseHit(ws, we, key, value))
        return longest_first(hits, lambda h: (h.fs, h.fe), lambda h: (-len(h.key), h.fs))
