"""Actors: who is named in a sentence, as taxonomy ids (`data/taxonomy.yaml`).

Three ways to name an actor, all from data: a name in `actors.yaml` (Putin, the Kremlin, OTSK),
a title next to a country ("the Kazakh president", "президент Казахстана", "الرئيس الكازاخستاني"),
or the country itself ("Kazakhstan refused…", from the geoparser's country mentions).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

from kzdash.extract.geoparse import PlaceMention
from kzdash.text.langdata import load
from kzdash.text.lexicon import PhraseMatcher
from kzdash.text.textnorm import Folded, fold_key

TITLE_GAP_WORDS = 1  # words between a title and its country: "president of Kazakhstan", "Presidenti i Kazakistanit"
TITLE_GAP_CHARS = 16  # and at most this many characters


@dataclass(frozen=True)
class ActorMention:
    start: int  # original offsets
    end: int
    actor: str
    surface: str
    rule: str  # name:<entry> | title:<entry>+<country> | country:<surface>
    place: bool = False  # the name is also a place named in the text ("Moscow", "Astana"): a capital as metonym


@lru_cache(maxsize=64)
def name_matcher(code: str) -> PhraseMatcher:
    actors = load(code, "actors.yaml").get("actors") or {}
    return PhraseMatcher({name: actor for actor, names in actors.items() for name in names or ()})


@lru_cache(maxsize=64)
def title_matcher(code: str) -> PhraseMatcher:
    titles = load(code, "actors.yaml").get("titles") or []
    return PhraseMatcher({t: "title" for t in titles})


def find_actors(text: str, folded: Folded, code: str | None, places: list[PlaceMention]) -> list[ActorMention]:
    """Actor mentions in text order; a named actor wins over a country mention it contains."""
    out: list[ActorMention] = []
    cities = {(p.start, p.end) for p in places if p.kind != "country"}
    for h in name_matcher(code).find(folded, code) if code else ():
        s, e = folded.span(h.fs, h.fe)
        out.append(ActorMention(s, e, str(h.value), text[s:e], f"name:{h.key}", place=(s, e) in cities))
    titles = [folded.span(h.fs, h.fe) + (h.key,) for h in title_matcher(code).find(folded, code)] if code else []
    out += _surnames(text, folded, out, places, [e for _, e, _ in titles])
    countries = [p for p in places if p.kind == "country"]
    for s, e, key in titles:
        # the gap's length first: most countries are far from the title, and slicing each gap costs
        near = [p for p in countries if (p.start - e if p.start >= e else s - p.end) <= TITLE_GAP_CHARS
                and _close(text[e:p.start] if p.start >= e else text[p.end:s])]
        if near:
            p = min(near, key=lambda p: min(abs(p.start - e), abs(s - p.end)))
            lo, hi = min(s, p.start), max(e, p.end)
            out.append(ActorMention(lo, hi, p.country, text[lo:hi], f"title:{key}+{p.country}"))
    # a country inside a name or a title mention is no mention of its own: with the mentions sorted by
    # start, the furthest end among those starting at or before it says (country mentions are disjoint)
    spans = sorted((a.start, a.end) for a in out)
    starts, reach = [a for a, _ in spans], list(accumulate((b for _, b in spans), max))
    for p in countries:
        i = bisect_right(starts, p.start)
        if not (i and reach[i - 1] >= p.end):
            out.append(ActorMention(p.start, p.end, p.country, p.surface, f"country:{p.surface}{_clitics(p)}"))
    out.sort(key=lambda a: (a.start, -(a.end - a.start)))
    merged: list[ActorMention] = []
    for a in out:  # drop a mention inside a longer one ("Kazakh" inside "the Kazakh president")
        if merged and a.start < merged[-1].end:
            continue
        merged.append(a)
    return merged


TITLE_BEFORE_NAME = 30  # characters from a title to the full name it introduces ("spokesman of the MFA Ivan Petrov")
SURNAME_ENDING = 3  # letters a surname may take after it in a later mention ("Тихого", "Tikhiyning")


def _surnames(text: str, folded: Folded, names: list[ActorMention], places: list[PlaceMention],
              title_ends: list[int]) -> list[ActorMention]:
    """Later mentions of a person by surname alone, once the article has introduced them by title and
    full name ("the ministry's spokesman Georgiy Tikhiy ... Tikhiy also called on"): the press's habit,
    in every language with capital letters. The title tells a person from an institution ("the White
    House ... the House"); only a capitalised last word that is no place counts, after the full name."""
    placed = [(p.start, p.end) for p in places]
    out: list[ActorMention] = []
    seen: set[str] = set()
    for a in names:
        words = a.surface.split()
        if len(words) < 2 or not all(w[:1].isupper() for w in words):
            continue  # a person's name is capitalised word by word; an uncased script gives no such sign
        if not any(0 <= a.start - end <= TITLE_BEFORE_NAME and not any(c in text[end:a.start] for c in ".;\n")
                   for end in title_ends):
            continue
        last = words[-1]
        start = a.end - len(last)
        if any(lo <= start < hi for lo, hi in placed):
            continue  # "МИД Украины": the last word is a country, not a surname
        key = fold_key(last)
        if len(key) < 3 or key in seen:
            continue
        seen.add(key)
        rx = re.compile(rf"(?<!\w){re.escape(key)}\w{{0,{SURNAME_ENDING}}}(?!\w)")
        for m in rx.finditer(folded.text, folded.index(a.end)):
            s, e = folded.span(m.start(), m.end())
            if text[s:s + 1].isupper():
                out.append(ActorMention(s, e, a.actor, text[s:e], f"surname:{a.rule.removeprefix('name:')}"))
    return out


# A country's surfaces repeat across articles ("Kazakhstan", "لأوكرانيا"): folded once each (bounded)
_folded_name = lru_cache(maxsize=4096)(fold_key)


def _clitics(p: PlaceMention) -> str:
    """The proclitics glued before a country's name (Arabic "لأوكرانيا" = ل + أوكرانيا), as " via:ل"."""
    key = p.rule.split(":", 1)[-1]
    word = _folded_name(p.surface)
    if key and word.endswith(key) and len(word) > len(key):
        return f" via:{word[:-len(key)]}"
    return ""


def _close(gap: str) -> bool:
    """A title and a country belong together when at most one short word stands between them."""
    if any(ch in gap for ch in ".;:!?؟\n"):
        return False
    return len(gap.split()) <= TITLE_GAP_WORDS and len(gap) <= TITLE_GAP_CHARS


def mask_places(places: list[PlaceMention], actors: list[ActorMention]) -> list[PlaceMention]:
    """A place inside a longer actor name is part of a person's name ("Vladimir Putin"); a site named
    exactly like an actor is an institution speaking ("the Kremlin said"), not a place."""
    names = [a for a in actors if a.rule.startswith(("name:", "surname:"))]
    return [p for p in places if p.kind == "country" or not any(
        a.start <= p.start and p.end <= a.end and (
            (a.end - a.start) > (p.end - p.start) or p.kind == "site") for a in names)]
