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
    # issue 13: weekdays, counted days, today/yesterday evening, ranges, the Nth day, named days
    ("ru", "Президент выступил в среду на заседании совета.", "2022-01-21", "2022-01-19/day"),
    ("sq", "Ministri foli të mërkurën në parlament.", "2022-09-16", "2022-09-14/day"),
    ("fr", "Lundi, le gouvernement a annoncé de nouvelles mesures.", "2022-02-23", "2022-02-21/day"),
    ("ar", "وقال المتحدث الأربعاء إن المحادثات مستمرة.", "2022-03-03", "2022-03-02/day"),
    ("en", "The envoys will meet again the next day, officials said.", "2022-03-10", "2022-03-11/day"),
    ("ru", "Накануне МИД вызвал посла для беседы.", "2022-10-07", "2022-10-06/day"),
    ("sq", "Avionët u ngritën sot nga aeroporti i qytetit.", "2022-01-15", "2022-01-15/day"),
    ("ru", "Сегодня генпрокурор назвал новые данные.", "2022-01-15", "2022-01-15/day"),
    ("en", "The drone attack happened yesterday evening near the port.", "2025-02-17", "2025-02-16/day"),
    ("sq", "Shpërthimet u dëgjuan mbrëmjen e djeshme në port.", "2025-02-17", "2025-02-16/day"),
    ("ru", "Вывод войск начнется через два дня.", "2022-01-11", "2022-01-13/day"),
    ("en", "The summit is set for 10-11 October 2022 in the capital.", None, "2022-10-11/day"),
    ("ar", "وتعقد الاجتماعات في 10 و11 أكتوبر 2022.", None, "2022-10-10/day"),
    ("ru", "На 16-й день войны колонна вышла из столицы.", "2022-03-11", "2022-02-24/day"),
    ("ar", "ودخلت العملية يومها السابع اليوم.", "2022-03-02", "2022-02-24/day"),
    ("en", "Fuel prices rose on New Year's Day in the west.", "2022-01-05", "2022-01-01/day"),
]


@pytest.mark.parametrize("code,text,published,expected", CASES)
def test_issue_examples(code: str, text: str, published: str | None, expected: str) -> None:
    found = set()
    for m in find_dates(text, code, published):
        n = {"day": 10, "month": 7, "year": 4}[m.precision]
        found.add(f"{m.date[:n]}/{m.precision}")
    assert expected in found, found


def test_last_week_resolves_within_its_month() -> None:
    (m,) = find_dates("Talks stalled last week.", "en", "2022-06-18")
    assert (m.date, m.precision) == ("2022-06-01", "month")
