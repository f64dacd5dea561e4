"""Article text becomes escaped HTML with the right direction; nothing in it can become markup."""

from __future__ import annotations

import pandas as pd
import pytest

from kzdash.dashboard import markup
from kzdash.dashboard.reader import Span, segments

NASTY = '<script>alert("x")</script> **bold** [link](javascript:alert(1)) $x^2$ <img src=x onerror=alert(1)>'


@pytest.mark.parametrize("render", [
    lambda t: markup.quote(t, "en"),
    lambda t: markup.quote(t, "ar", english=t, meta=t),
    lambda t: markup.quote(t, "ar", mark=(0, 8)),
    lambda t: markup.event_card({"date": "2022-01-05", "event_type": "PROTEST", "summary": t, "outlet": t,
                                 "language": "ar", "evidence": t, "published": None, "background": True}),
    lambda t: markup.reader(segments(t, [Span(0, 8, "place", t)]), "rtl", "ar"),
    lambda t: markup.legend([(t, "#000000")]),
    lambda t: markup.handout(t, t, [("text", t)], None, pd.DataFrame([{"date": None, "outlet": t, "summary": t,
                                                                          "evidence": t, "language": "ar"}]), t, t),
])
def test_no_markup_survives(render) -> None:
    out = render(NASTY)
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;" in out
    assert "**bold**" in out  # Markdown stays literal text (st.html does not run Markdown)


def test_direction_follows_the_language() -> None:
    assert 'dir="rtl" lang="ar"' in markup.quote("نص", "ar")
    assert 'dir="auto" lang="sq"' in markup.quote("tekst", "sq")
    assert 'dir="auto"' in markup.quote("text", None) and "lang=" not in markup.quote("text", None)
    assert 'dir="rtl" lang="ar"' in markup.reader([("نص", None)], "rtl", "ar")
    assert 'dir="auto"' in markup.quote("x", 'en" onmouseover="x')  # a junk language code is not an attribute


def test_mark_highlights_exactly_the_mention() -> None:
    out = markup.quote("في أكتاو <b>", "ar", mark=(3, 8))
    assert '<mark class="kz-place">أكتاو</mark>' in out and "&lt;b&gt;" in out
    assert "<mark" not in markup.quote("short", "en", mark=(3, 99))  # offsets outside the text are ignored


def test_line_breaks_cannot_end_the_html_block() -> None:
    assert "\n" not in markup.esc("a\n\n# heading\r\nb") and markup.esc(None) == "" and markup.esc(float("nan")) == ""

