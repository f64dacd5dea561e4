"""The date expressions the pipeline issue names, each inside a sentence of our own."""

import pytest

from kzdash.extract.temporal import find_dates

CASES = [  # (language, sentence, publication date, expected date/precision)
    ("ar", "وصل الوفد في 21 فبراير إلى العاصمة.", "2022-03-02", "2022-02-21/day"),
    ("ar", "تبدأ الجولة في الثاني من مارس وفق البيان.", "2022-03-01", "2022-03-02/day"),
    ("ar", "وفي صبيحة الخامس من الشهر الجاري عقد المجلس اجتماعا.", "2022-01-12", "2022-01-05/day"),
    ("ar", "ويستمر الحظر حتى 19 الشهر الحالي في المدن.", "2022-01-12", "2022-01-19/day"),
    ("ar", "وقال الوزير أمس إن الوضع مستقر.", "2022-01-12", "2022-01-11/day"),
    ("ar", "وأعلن يوم الجمعة الفائت عن خطة جديدة.", "2022-01-12", "2022-01-07/day"),
    ("sq", "Delegacioni do të niset më 3 mars nga kryeqyteti.", "2022-03-02", "2022-03-03/day"),
    ("sq", "Të martën (1 mars), ministri foli para deputetëve.", "2022-03-02", "2022-03-01/day"),
    ("sq", "Takimi u mbajt më 10 shkurt në kryeqytet.", "2022-03-02", "2022-02-10/day"),
    ("sq", "Pas luftës së gushtit 2008 kufiri u mbyll.", "2022-03-02", "2008-08/month"),
    ("en", "The minister resigned on Friday after the vote.", "2022-01-12", "2022-01-07/day"),
    ("en", "The forum opened on 17 June in the old town.", "2022-06-20", "2022-06-17/day"),
    ("ru", "В понедельник министр провёл переговоры.", "2022-02-26", "2022-02-21/day"),
    ("ru", "Указ был подписан 21 февраля в Кремле.", "2022-02-26", "2022-02-21/day"),
    ("ru", "Протесты начались в январе в нескольких городах.", "2022-02-26", "2022-01/month"),
]


@pytest.mark.parametrize("code,text,published,expected", CASES)
def test_issue_examples(code: str, text: str, published: str, expected: str) -> None:
    found = set()
    for m in find_dates(text, code, published):
        n = {"day": 10, "month": 7, "year": 4}[m.precision]
        found.add(f"{m.date[:n]}/{m.precision}")
    assert expected in found, found


def test_last_week_resolves_within_its_month() -> None:
    (m,) = find_dates("Talks stalled last week.", "en", "2022-06-18")
    assert (m.date, m.precision) == ("2022-06-01", "month")
