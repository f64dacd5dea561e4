"""Phrase matching for small per-language lexicons (actors, cues), on folded text.

One Aho-Corasick automaton per lexicon finds every phrase in one pass; a hit counts when it
starts a word (after at most one proclitic of the language: Arabic "وقال") and ends one (or is
followed by one of the language's suffixes: Russian "заявил-а", Albanian "Kazakistan-it").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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
        proclitics, suffixes, _ = morphology(code)
        procl, sufx = set(proclitics), set(suffixes)
        ftext = folded.text
        hits = []
        for last, (key, value) in self._auto.iter(ftext, lo, len(ftext) if hi is None else hi):
            ks, ke = last - len(key) + 1, last + 1
            ws, we = word_span(ftext, ks, ke)
            if key in self._acronyms and (ws != ks or (we != ke and ftext[ke] != "'")):
                continue
            if bounded(ftext[ws:ks], ftext[ke:we], procl, sufx):
                hits.append(PhraseHit(ws, we, key, value))
        hits.sort(key=lambda h: (-(len(h.key)), h.fs))
        taken: list[PhraseHit] = []
        for h in hits:
            if all(h.fe <= t.fs or h.fs >= t.fe for t in taken):
                taken.append(h)
        taken.sort(key=lambda h: h.fs)
        return taken
