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
    ("ru", "Президент выступил в среду на заседании совета.", "2023-03-17", "2023-03-15/day"),
    ("sq", "Ministri foli të mërkurën në parlament.", "2023-05-12", "2023-05-10/day"),
    ("fr", "Lundi, le gouvernement a annoncé de nouvelles mesures.", "2023-05-10", "2023-05-08/day"),
    ("ar", "وقال المتحدث الأربعاء إن المحادثات مستمرة.", "2023-05-12", "2023-05-10/day"),
    ("en", "The envoys will meet again the next day, officials said.", "2022-03-10", "2022-03-11/day"),
    ("ru", "Накануне мэрия объявила конкурс проектов.", "2023-05-12", "2023-05-11/day"),
    ("sq", "Tregtarët protestuan sot para bashkisë.", "2023-07-10", "2023-07-10/day"),
    ("ru", "Сегодня мэрия открыла новый мост.", "2023-07-10", "2023-07-10/day"),
    ("en", "The warehouse fire broke out yesterday evening.", "2023-07-10", "2023-07-09/day"),
    ("sq", "Koncerti u mbajt mbrëmjen e djeshme në shesh.", "2023-07-10", "2023-07-09/day"),
    ("ru", "Переговоры продолжатся через два дня.", "2023-04-03", "2023-04-05/day"),
    ("en", "The summit is set for 10-11 October 2022 in the capital.", None, "2022-10-11/day"),
    ("ar", "وتعقد الاجتماعات في 10 و11 أكتوبر 2022.", None, "2022-10-10/day"),
    ("ru", "На 5-й день забастовки рабочие вышли на площадь.", "2023-04-14", "2023-04-10/day"),
    ("ar", "ودخلت المحادثات يومها الثالث اليوم.", "2023-05-11", "2023-05-09/day"),
    ("en", "The ferry service resumed on New Year's Day.", "2023-01-04", "2023-01-01/day"),
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


@pytest.mark.parametrize("code,text", [
    ("en", "On the tenth day of the strike, workers protested outside the city hall in Almaty."),
    ("ru", "На 10-й день забастовки рабочие провели митинг в Алматы."),
])
def test_a_day_count_dates_the_start_not_the_sentence(code: str, text: str) -> None:
    """ "The 10th day of the strike" dates the strike's start; the protest told in the sentence is
    not dated by it (it keeps the publication stand-in)."""
    from kzdash.extract.article import process_article
    from kzdash.extract.gazetteer import load_gazetteer
    from kzdash.extract.records import RawArticle

    result = process_article(RawArticle(source="c.txt", raw_text=text, language=code, published="2022-01-14"), [],
                             load_gazetteer())
    got = {(e["event_type"], e["date"], e["date_rule"]) for e in result.events}
    assert (None, "2022-01-05", "day-count") in got
    assert not any(t == "PROTEST" and d == "2022-01-05" for t, d, _ in got)
