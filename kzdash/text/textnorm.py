"""Matching form of a text, with a map back to the original offsets.

Every matcher (gazetteer, dates, actors, cues) works on the *matching form*: lower case,
Arabic letter variants folded (hamza/alef forms, ta marbuta, alef maqsura), diacritics and
tatweel dropped, typographic apostrophes and dashes unified, Cyrillic ё folded to е.
Dropping characters changes lengths, so `fold` returns, for each character of the folded
string, its offset in the original: evidence offsets always point into the article text.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np

# One-character substitutions (applied after lower-casing).
_SUBSTITUTE = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي",
    "ک": "ك", "ی": "ي",
    "ё": "е",
    "’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "ʻ": "'", "ʹ": "'",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-",
    "«": '"', "»": '"', "“": '"', "”": '"', "„": '"',
    "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    "ı": "i",
    # Albanian is often typed without its diacritics ("Rusise" for "Rusisë"); folding both
    # letters costs other languages nothing a matcher would notice.
    "ë": "e", "ç": "c",
}
# Arabic-Indic and Persian digits read as ASCII digits.
_SUBSTITUTE.update({chr(0x0660 + i): str(i) for i in range(10)})
_SUBSTITUTE.update({chr(0x06F0 + i): str(i) for i in range(10)})
# Characters removed entirely: Arabic diacritics (harakat), tatweel, zero-width marks, soft hyphen.
_DROP = set("\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0653\u0654\u0655\u0670\u0640"
            "\u200c\u200d\u200e\u200f\u00ad\ufeff")


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    if ch in _DROP:
        return ""
    low = ch.lower()
    if len(low) != 1:  # 'İ'.lower() is two characters; keep one so the map stays simple
        low = low[0]
    low = _SUBSTITUTE.get(low, low)
    if low in _DROP:
        return ""
    if unicodedata.category(low) == "Mn":  # combining accents left after NFC (rare)
        return ""
    return low


# The fast path: lower() then one translate() (C speed); one character in, at most one out.
_TABLE = {ord(k): v for k, v in _SUBSTITUTE.items()}
_TABLE.update({ord(ch): None for ch in _DROP})
_TABLE.update({cp: None for cp in range(0x0300, 0x0370)})  # combining diacritical marks
# str.translate looks each character up in the table; a dict raises KeyError (internally) for every
# character it does not hold, which is most of a non-Latin text. A list indexed by code point holds
# every character up to the last one folded (identity where nothing changes), so lookups never fail;
# characters past it are kept as they are, and the few table keys beyond (the BOM) are removed after.
_LIST_END = 0x3000
_LIST_TABLE = [_TABLE.get(cp, chr(cp)) for cp in range(_LIST_END)]
_HIGH = {chr(k): v or "" for k, v in _TABLE.items() if k >= _LIST_END}


# For a whole article the substitutions run as one numpy lookup on the code points (str.translate of a
# non-ASCII text makes Python objects per character: several times slower on an article); the dropped
# characters are then cut out where `_DROP_RE` finds them, which `fold` does anyway for its offsets.
_POINT_TABLE = np.array([ord(v) if v else cp for cp, v in enumerate(_LIST_TABLE)], dtype=np.uint32)  # dropped: kept
_NUMPY_FROM = 512  # characters: below it str.translate is as quick (numpy has its set-up cost)
# one character in, one out; nothing substituted into a dropped character; past the table, only drops
assert all(v is None or len(v) == 1 and _TABLE.get(ord(v), "") is not None for v in _LIST_TABLE)
assert all(not to for to in _HIGH.values())


def _translate(low: str) -> str:
    """`low.translate(_TABLE)`, faster."""
    if len(low) >= _NUMPY_FROM:
        return _DROP_RE.sub("", _substituted(low))
    out = low.translate(_LIST_TABLE)
    for ch, to in _HIGH.items():
        if ch in out:
            out = out.replace(ch, to)
    return out


def _substituted(low: str) -> str:
    """`low` with its characters substituted as `_TABLE` says, the dropped ones left in place (the same
    length): each code point below `_LIST_END` looked up in one step, those past it kept."""
    points = np.frombuffer(low.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    out = _POINT_TABLE.take(points, mode="clip")
    if points.max() >= _LIST_END:  # rare (CJK, emoji): `take` clipped them to the table's last entry
        high = points >= _LIST_END
        out[high] = points[high]
    return out.tobytes().decode("utf-32-le", "surrogatepass")


_DROPPED = "[" + "".join(re.escape(chr(k)) for k, v in _TABLE.items() if v is None) + "]"
_DROP_RE = re.compile(_DROPPED + _DROPPED + "*")  # "[…]+", spelled so that the engine skips to the first one

# What `Folded.classes` holds per character, looked up by code point in one numpy step (a str.translate
# of a non-Latin text goes character by character through Python objects: several times slower).
OTHER, ALNUM, APOSTROPHE = 0, 1, 2
_CLASS_TABLE = np.array([APOSTROPHE if cp == ord("'") else ALNUM if chr(cp).isalnum() else OTHER
                         for cp in range(_LIST_END)], dtype=np.uint8)


def _char_class(ch: str) -> int:
    return APOSTROPHE if ch == "'" else ALNUM if ch.isalnum() else OTHER


def char_classes(text: str) -> bytes:
    """Per character of `text`: ALNUM (`str.isalnum`), APOSTROPHE or OTHER, then two OTHER bytes of padding
    (so `classes[i - 1]` at 0 and `classes[i + 1]` at the end read OTHER, as no character is there)."""
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    out = _CLASS_TABLE.take(points, mode="clip")
    if len(points) and points.max() >= _LIST_END:  # past the table's end (rare: CJK, emoji): one by one
        for i in np.flatnonzero(points >= _LIST_END).tolist():
            out[i] = _char_class(text[i])
    return out.tobytes() + b"\0\0"


@dataclass(frozen=True)
class Folded:
    """A folded text and, per folded character, the offset of its source character."""

    text: str
    offsets: Sequence[int]
    original_length: int
    # what matchers computed once for this text (`lexicon.MatcherGroup.one_pass`): lives as long as it
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def classes(self) -> bytes:
        """`char_classes` of the text: the matchers test word boundaries on it, an int per character
        (indexing the text makes a new string per non-Latin character)."""
        return char_classes(self.text)

    def index(self, original: int) -> int:
        """The first folded index whose source offset is >= `original` (the inverse of the map)."""
        offsets = self.offsets
        if type(offsets) is range and offsets.step == 1:  # nothing dropped (most texts): no search
            return min(max(original - offsets.start, 0), len(offsets))
        return bisect.bisect_left(offsets, original)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) for the folded [start, end)."""
        if start >= len(self.offsets):
            return self.original_length, self.original_length
        return self.offsets[start], (self.offsets[end - 1] + 1 if end > start else self.offsets[start])


def fold(text: str) -> Folded:
    """Fold `text` into its matching form, keeping the offset map."""
    low = text.lower()
    if len(low) != len(text):  # a character whose lower case is longer: slow, exact path
        out: list[str] = []
        offsets: list[int] = []
        for i, ch in enumerate(text):
            f = _fold_char(ch)
            if f:
                out.append(f)
                offsets.append(i)
        return Folded("".join(out), tuple(offsets), len(text))
    if len(low) >= _NUMPY_FROM:  # an article: substituted in one step, the dropped characters cut out below
        whole, pieces = _substituted(low), []
    else:
        whole, pieces = _translate(low), None
        if len(whole) == len(text):
            return Folded(whole, range(len(text)), len(text))
    offsets: list[int] = []  # every index but the dropped ones, built from ranges (C speed)
    prev = 0
    for m in _DROP_RE.finditer(low):
        offsets.extend(range(prev, m.start()))
        if pieces is not None:
            pieces.append(whole[prev:m.start()])
        prev = m.end()
    if pieces is None:
        offsets.extend(range(prev, len(low)))
        return Folded(whole, offsets, len(text))
    if not prev:  # nothing dropped
        return Folded(whole, range(len(text)), len(text))
    offsets.extend(range(prev, len(low)))
    pieces.append(whole[prev:])
    return Folded("".join(pieces), offsets, len(text))


def fold_text(text: str) -> str:
    """`fold(text).text`, without the offset map (for short strings only compared: lines, lexicon entries)."""
    low = text.lower()
    if len(low) != len(text):
        return "".join(map(_fold_char, text))
    return _translate(low)


def fold_key(text: str) -> str:
    """Folded form of a lexicon entry, with runs of spaces collapsed."""
    return " ".join(fold_text(text).split())
