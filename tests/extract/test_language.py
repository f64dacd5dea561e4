"""Language identification on whole texts of our own, in every supported language."""

import pytest

from kzdash.extract.language import _has_letters, detect_language

TEXTS = {
    "ar": "أعلنت الحكومة أن المحادثات مع الجيران ستستمر الأسبوع المقبل في العاصمة رغم الخلافات.",
    "sq": "Qeveria njoftoi se bisedimet me fqinjët do të vazhdojnë javën e ardhshme në kryeqytet.",
    "en": "The government said talks with its neighbours would continue next week in the capital.",
    "ru": "Правительство заявило, что переговоры с соседями продолжатся на следующей неделе в столице.",
    "uk": "Уряд заявив, що переговори із сусідами триватимуть наступного тижня у столиці країни.",
    "kk": "Үкімет көршілермен келіссөздер келесі аптада елордада жалғасатынын мәлімдеді.",
    "tr": "Hükümet, komşularla görüşmelerin gelecek hafta başkentte devam edeceğini açıkladı.",
    "de": "Die Regierung erklärte, die Gespräche mit den Nachbarn würden nächste Woche fortgesetzt.",
    "fr": "Le gouvernement a déclaré que les pourparlers avec les voisins se poursuivraient la semaine prochaine.",
    "et": "Valitsus teatas, et läbirääkimised naabritega jätkuvad järgmisel nädalal pealinnas.",
}


@pytest.mark.parametrize("code", sorted(TEXTS))
def test_detects_each_language(code: str) -> None:
    assert detect_language(TEXTS[code]) == code


def test_decides_on_the_whole_text() -> None:
    # a short Ukrainian line can pass for Kazakh; the whole text decides
    text = "Так.\n" + TEXTS["uk"] + " " + TEXTS["uk"]
    assert detect_language(text) == "uk"


@pytest.mark.parametrize("text", ["", "   ", "12345 67", "!!"])
def test_no_text_no_language(text: str) -> None:
    assert detect_language(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("", False), ("12 3 — 45", False), ("ab 12", False), ("a1b2c", True), ("ي ب ت", True), ("Ж", False),
    ("  xyz" + "1" * 5000, True),
])
def test_three_letters_are_enough_to_judge(text: str, expected: bool) -> None:
    assert _has_letters(text, 3) is expected
    assert _has_letters(text, 3) is (sum(ch.isalpha() for ch in text) >= 3)  # the count it stands for
