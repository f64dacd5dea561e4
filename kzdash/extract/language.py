"""Language identification for articles whose metadata does not say.

lingua in low-accuracy mode, restricted to the languages kzdash has data for plus common
neighbours (all 75 languages would take 1.1 GB; these take ~40 MB and ~1 ms an article).
The decision is made on the whole text, never a line: short Ukrainian lines pass for Kazakh.
"""

from __future__ import annotations

from functools import lru_cache

# ISO 639-1 code -> lingua name. Neighbours are there so that, say, Belarusian or Bulgarian
# text is not forced into Russian; they have no data files and degrade gracefully.
DETECTED = {
    "ar": "ARABIC", "sq": "ALBANIAN", "en": "ENGLISH", "ru": "RUSSIAN", "uk": "UKRAINIAN",
    "kk": "KAZAKH", "tr": "TURKISH", "de": "GERMAN", "fr": "FRENCH", "et": "ESTONIAN",
    "be": "BELARUSIAN", "bg": "BULGARIAN", "fa": "PERSIAN", "az": "AZERBAIJANI", "it": "ITALIAN",
    "es": "SPANISH", "pl": "POLISH", "ur": "URDU", "mk": "MACEDONIAN", "sr": "SERBIAN",
}
SAMPLE_CHARS = 3000  # enough text for a stable decision, bounded cost on long articles


@lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    langs = [getattr(Language, name) for name in DETECTED.values()]
    return LanguageDetectorBuilder.from_languages(*langs).with_low_accuracy_mode().build()


@lru_cache(maxsize=1)
def _codes() -> dict[str, str]:
    return {name: code for code, name in DETECTED.items()}


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when there is no text to judge."""
    sample = text[:SAMPLE_CHARS]
    if not _has_letters(sample, 3):
        return None
    found = _detector().detect_language_of(sample)
    return _codes().get(found.name) if found is not None else None


def _has_letters(text: str, n: int) -> bool:
    """Whether `text` holds at least `n` letters (stops at the n-th, not counting a whole page)."""
    for ch in text:
        if ch.isalpha():
            n -= 1
            if n <= 0:
                return True
    return n <= 0
