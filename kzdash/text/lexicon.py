"""Phrase matching for small per-language lexicons (actors, cues), on folded text.

One Aho-Corasick automaton per lexicon finds every phrase in one pass; a hit counts when it
starts a word (after at most one proclitic of the language: Arabic "وقال") and ends one (or is
followed by one of the language's suffixes: Russian "заявил-а", Albanian "Kazakistan-it").
Several lexicons can share one automaton (`MatcherGroup`): each raw hit is checked once and every
lexicon still gets exactly the hits it would find alone. A language's whole-text lexicons form one
such group per article (`MatcherGroup.one_pass`, built by `kzdash.extract.article.one_pass`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple, TypeVar

import ahocorasick

from kzdash.text.langdata import morphology
from kzdash.text.textnorm import ALNUM, APOSTROPHE, Folded, fold_key


def _is_acronym(phrase: str) -> bool:
    letters = [c for c in phrase if c.isalpha()]
    return 2 <= len(letters) <= 6 and all(c.isupper() for c in letters) and " " not in phrase.strip()


class PhraseHit(NamedTuple):
    """One phrase found (a NamedTuple: hundreds are made per article, a frozen dataclass is slow to build)."""

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
    if len(hits) < 2:  # nothing can overlap
        return list(hits)
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


class Morph(NamedTuple):
    """A language's proclitics, suffixes and stem endings as sets, with the longest of each."""

    proclitics: frozenset[str]
    suffixes: frozenset[str]
    endings: frozenset[str]
    max_prefix: int  # the longest proclitic
    max_suffix: int  # the longest suffix
    max_rest: int  # the longest suffix or stem ending


@lru_cache(maxsize=64)
def morph(code: str | None) -> Morph:
    proclitics, suffixes, endings = (frozenset(x) for x in morphology(code))
    return Morph(proclitics, suffixes, endings, max(map(len, proclitics), default=0),
                 max(map(len, suffixes), default=0), max(map(len, suffixes | endings), default=0))


def word_around(ftext: str, ks: int, ke: int, max_prefix: int, max_rest: int) -> tuple[int, int] | None:
    """The whole word(s) [ws, we) a raw hit [ks, ke) stands in, or None for a piece of a longer word:
    more letters before it than any proclitic has, or more after it than any ending has (most raw hits
    are such pieces). A hit with no letter or digit on either side is a word as it stands: the common
    case, answered without looking further."""
    n = len(ftext)
    before = ks > 0 and ftext[ks - 1].isalnum()
    after = ke < n and ftext[ke].isalnum()
    if not (before or after or ke < n - 1 and ftext[ke] == "'" and ftext[ke + 1].isalnum()):
        return ks, ke
    if after and (max_rest == 0 or (ke + max_rest < n and ftext[ke:ke + max_rest + 1].isalnum())):
        return None
    if before and (max_prefix == 0 or (ks > max_prefix and ftext[ks - max_prefix - 1:ks].isalnum())):
        return None
    return word_span(ftext, ks, ke)


def bounded(prefix: str, rest: str, proclitics: Iterable[str], suffixes: Iterable[str]) -> bool:
    """A hit is a word when what precedes it is a proclitic (or nothing) and what follows it
    is a suffix, an apostrophe ending (Ankara'da, Russia's) or nothing."""
    if prefix and prefix not in proclitics:
        return False
    return not rest or rest.startswith("'") or rest in suffixes


def word_start(classes: bytes, ks: int) -> int:
    """`word_span` on `Folded.classes`, its walk back: where the word holding position `ks` starts. Apart from
    the walk forward, so that a hit whose letters before it are no proclitic is dropped without it (most
    that get that far)."""
    ws = ks
    while classes[ws - 1] == ALNUM:  # at 0, [-1] is the padding
        ws -= 1
    return ws


def word_end(classes: bytes, ke: int) -> int:
    """`word_span` on `Folded.classes`, its walk forward: where the word(s) going on from position `ke` end."""
    we = ke
    while (c := classes[we]) == ALNUM or c == APOSTROPHE and classes[we + 1] == ALNUM:
        we += 1
    return we


def _words(auto: ahocorasick.Automaton, folded: Folded, lo: int, hi: int, m: Morph) -> list[tuple]:
    """The raw hits of `auto` (keys -> (key, payload)) in folded[lo:hi] that are words, as (ks, fs, fe, key,
    payload, glued), in the order of their ends: the key's start, the word(s) it stands in, and `glued` when
    a proclitic or an ending (not an apostrophe one) is part of the word.

    `word_around` and `bounded` written out in the loop, on `Folded.classes` (an int per character): it
    runs for every raw hit, hundreds per article, and most are pieces of longer words."""
    out = []
    ftext, classes = folded.text, folded.classes
    max_prefix, max_suffix = m.max_prefix, m.max_suffix
    proclitics, suffixes = m.proclitics, m.suffixes
    whole_prefix = bytes([ALNUM]) * (max_prefix + 1)  # more letters before a hit than any proclitic has
    whole_suffix = bytes([ALNUM]) * (max_suffix + 1)  # more letters after it than any suffix has
    for last, (key, payload) in auto.iter(ftext, lo, hi):
        ke = last + 1
        ks = ke - len(key)
        before = classes[ks - 1] == ALNUM
        after = classes[ke]
        if not before and after != ALNUM and not (after == APOSTROPHE and classes[ke + 1] == ALNUM):
            out.append((ks, ks, ke, key, payload, False))  # a whole word as it stands: the common case
            continue
        if after == ALNUM and (max_suffix == 0 or classes[ke:ke + max_suffix + 1] == whole_suffix):
            continue
        if before and (max_prefix == 0 or (ks > max_prefix and classes[ks - max_prefix - 1:ks] == whole_prefix)):
            continue
        ws = word_start(classes, ks)  # a piece with no proclitic before it is no word, whatever follows
        if ws < ks and ftext[ws:ks] not in proclitics:
            continue
        we = word_end(classes, ke)
        if ws == ks and we == ke:
            out.append((ks, ks, ke, key, payload, False))
        elif we == ke or after == APOSTROPHE or ftext[ke:we] in suffixes:  # `bounded` (the proclitic passed)
            out.append((ks, ws, we, key, payload, ws != ks or (we != ke and after != APOSTROPHE)))
    return out


def _longest_hits(hits: list[PhraseHit]) -> list[PhraseHit]:
    """`longest_first` of phrase hits (longest key first, then the earlier); hits already in text order
    with no overlap (the common case) are its answer as they stand.

    `longest_first` written out for PhraseHit (no `span` call per hit): it runs per lexicon and range."""
    end = -1
    for h in hits:
        if h[0] < end:
            break
        end = h[1]
    else:
        return hits
    starts: list[int] = []
    ends: list[int] = []
    taken: list[PhraseHit] = []
    for h in sorted(hits, key=_by_length):
        s, e = h[0], h[1]
        i = bisect_right(starts, s)
        if i > 0 and ends[i - 1] > s or i < len(starts) and starts[i] < e:
            continue
        starts.insert(i, s)
        ends.insert(i, e)
        taken.insert(i, h)
    return taken


def _by_length(h: PhraseHit) -> tuple[int, int]:
    return -len(h[2]), h[0]


_hit = tuple.__new__  # PhraseHit(...) through its generated __new__ costs a Python call per hit


class PhraseMatcher:
    """Find the phrases of one lexicon (folded key -> value) in folded text."""

    def __init__(self, phrases: dict[str, object]):
        self._auto = ahocorasick.Automaton()
        # An entry written in capitals ("СВО", "EAEU") is an acronym: it takes no ending and no
        # proclitic, or "свою" would be "СВО" plus an ending; "NATO'nun" (apostrophe) still counts.
        self._acronyms: set[str] = set()
        self.phrases: dict[str, object] = {}  # folded key -> value (the last entry of a key wins)
        for key, value in phrases.items():
            k = fold_key(key)
            if k:
                self._auto.add_word(k, (k, value))
                self.phrases[k] = value
                if _is_acronym(key):
                    self._acronyms.add(k)
        self._empty = len(self._auto) == 0
        if not self._empty:
            self._auto.make_automaton()
        self._pass: tuple[MatcherGroup, int] | None = None  # the one-pass group it joined, and its place there
        self._scanned: tuple[MatcherGroup, int] | None = None  # the one-pass group whose pass holds its keys

    def find(self, folded: Folded, code: str | None, lo: int = 0, hi: int | None = None) -> list[PhraseHit]:
        """Non-overlapping hits in folded[lo:hi], longest first where they overlap."""
        if self._empty:
            return []
        if self._pass is not None and lo == 0 and hi is None:
            group, i = self._pass
            return list(group.find_once(folded, code)[i])
        return self.find_alone(folded, code, lo, hi)

    def find_alone(self, folded: Folded, code: str | None, lo: int = 0, hi: int | None = None) -> list[PhraseHit]:
        """`find` by this lexicon's own pass, never its one-pass group's: the same hits, cheaper for a text
        no other lexicon reads (a header line, a window), where the group would pass and collect for all."""
        if self._empty:
            return []
        ftext = folded.text
        acronyms = self._acronyms
        return _longest_hits([_hit(PhraseHit, (fs, fe, key, value)) for _, fs, fe, key, value, glued
                              in _words(self._auto, folded, lo, len(ftext) if hi is None else hi, morph(code))
                              if not (glued and key in acronyms)])


class MatcherGroup:
    """Several lexicons matched in one automaton pass: the same hits, per lexicon, as each one's `find`.

    Each raw hit's word boundaries are checked once for all the lexicons holding its key (the
    stance cues are fifteen lexicons; fifteen passes per sentence range cost more than the rest of it).
    A group whose lexicons all joined one one-pass group takes its hits in ranges from that group's pass
    over the whole text (a hit in a range is one whose key lies inside it) instead of passing again."""

    def __init__(self, matchers: Sequence[PhraseMatcher]):
        self.size = len(matchers)
        self._members = tuple(matchers)
        owners: dict[str, list[tuple[int, object, bool]]] = {}  # key -> (lexicon, value, acronym)
        for i, m in enumerate(matchers):
            for k, value in m.phrases.items():
                owners.setdefault(k, []).append((i, value, k in m._acronyms))
        self._auto = ahocorasick.Automaton()
        for k, own in owners.items():
            self._auto.add_word(k, (k, tuple(own)))
        self._empty = not owners
        if not self._empty:
            self._auto.make_automaton()
        self._whole: dict[int, int] | None = None  # the lexicons `find_once` collects (None: all)

    @classmethod
    def one_pass(cls, matchers: Sequence[PhraseMatcher], ranged: Sequence[PhraseMatcher] = ()) -> MatcherGroup:
        """A group whose lexicons, asked for their hits in a whole text, all take them from one pass
        of the group over it, made at the first ask and kept with the folded text (a lexicon already
        in a group stays there). The `ranged` lexicons are asked in ranges only (by a group of their own):
        their keys ride in the same pass and their whole-text hits are never collected."""
        group = cls([*matchers, *ranged])
        group._whole = {i: i for i in range(len(matchers))}
        for i, m in enumerate([*matchers, *ranged]):
            if m._scanned is None:
                m._scanned = (group, i)
                if i < len(matchers):
                    m._pass = (group, i)
        return group

    def _pass_over(self, folded: Folded, code: str | None) -> list:
        """[raw words of the whole text (`_words`), their ends, per-lexicon hits or None until asked],
        computed once per folded text and language."""
        key = (self, code)
        got = folded.memo.get(key)
        if got is None:
            words = [] if self._empty else _words(self._auto, folded, 0, len(folded.text), morph(code))
            got = folded.memo[key] = [words, [w[0] + len(w[3]) for w in words], None]
        return got

    def find_once(self, folded: Folded, code: str | None) -> list[list[PhraseHit]]:
        """`find` over the whole text, computed once per folded text and language."""
        got = self._pass_over(folded, code)
        if got[2] is None:
            got[2] = self._collect(got[0], got[1], ((0, None),), len(folded.text), self._whole)
        return got[2]

    def _shared(self) -> tuple[MatcherGroup, dict[int, int]] | None:
        """The one-pass group all the lexicons joined (if one), and their places there -> here."""
        passes = [m._scanned for m in self._members]
        if not passes or any(p is None or p[0] is not passes[0][0] for p in passes):
            return None
        return passes[0][0], {p[1]: i for i, p in enumerate(passes)}

    def find(self, folded: Folded, code: str | None,
             ranges: Iterable[tuple[int, int | None]] = ((0, None),)) -> list[list[PhraseHit]]:
        """Per lexicon, its hits in each of `ranges` (disjoint, in order) as `PhraseMatcher.find` gives them."""
        if self._empty:
            return [[] for _ in range(self.size)]
        n = len(folded.text)
        shared = self._shared()
        if shared is not None:
            group, places = shared
            words, ends, _ = group._pass_over(folded, code)
            return self._collect(words, ends, ranges, n, places)
        m = morph(code)
        out: list[list[PhraseHit]] = [[] for _ in range(self.size)]
        for lo, hi in ranges:
            hi = n if hi is None else hi
            words = _words(self._auto, folded, lo, hi, m)
            for i, found in enumerate(self._collect(words, None, ((lo, hi),), n, None)):
                out[i] += found
        return out

    def _collect(self, words: list[tuple], ends: list[int] | None, ranges: Iterable[tuple[int, int | None]],
                 n: int, places: dict[int, int] | None) -> list[list[PhraseHit]]:
        """Per lexicon, its hits among raw `words` (their key ends `ends`, or None: all inside the one range)
        in each range, longest first where they overlap; `places` maps another group's lexicons to ours."""
        out: list[list[PhraseHit]] = [[] for _ in range(self.size)]
        for lo, hi in ranges:
            hi = n if hi is None else hi
            inside = words if ends is None else words[bisect_left(ends, lo + 1):bisect_right(ends, hi)]
            hits: dict[int, list[PhraseHit]] = {}  # lexicon -> its hits in this range
            for ks, fs, fe, key, owners, glued in inside:
                if ks < lo:
                    continue
                for i, value, acronym in owners:
                    if places is not None:
                        i = places.get(i)
                        if i is None:
                            continue
                    if not (acronym and glued):
                        hit = _hit(PhraseHit, (fs, fe, key, value))
                        if (found := hits.get(i)) is None:
                            hits[i] = [hit]
                        else:
                            found.append(hit)
            for i, found in hits.items():
                out[i] += _longest_hits(found)
        return out
