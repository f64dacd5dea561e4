"""Actors: who is named in a sentence, as taxonomy ids (`data/taxonomy.yaml`).

Three ways to name an actor, all from data: a name in `actors.yaml` (Putin, the Kremlin, OTSK),
a title next to a country ("the Kazakh president", "президент Казахстана", "الرئيس الكازاخستاني"),
or the country itself ("Kazakhstan refused…", from the geoparser's country mentions).
"""

from __future__ import annotations

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
    countries = [p for p in places if p.kind == "country"]
    for h in title_matcher(code).find(folded, code) if code else ():
        s, e = folded.span(h.fs, h.fe)
        # the gap's length first: most countries are far from the title, and slicing each gap costs
        near = [p for p in countries if (p.start - e if p.start >= e else s - p.end) <= TITLE_GAP_CHARS
                and _close(text[e:p.start] if p.start >= e else text[p.end:s])]
        if near:
            p = min(near, key=lambda p: min(abs(p.start - e), abs(s - p.end)))
            lo, hi = min(s, p.start), max(e, p.end)
            out.append(ActorMention(lo, hi, p.country, text[lo:hi], f"title:{h.key}+{p.country}"))
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
    names = [a for a in actors if a.rule.startswith("name:")]
    return [p for p in places if p.kind == "country" or not any(
        a.start <= p.start and p.end <= a.end and (
            (a.end - a.start) > (p.end - p.start) or p.kind == "site") for a in names)]
