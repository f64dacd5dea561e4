"""HTML for text that comes from articles: always escaped first, then wrapped in our own tags.

Article text is data, never markup. Everything here passes each piece of it through
`html.escape` before it is placed between tags we write, so `<script>`, `**bold**` or `$x$` in an
article reach the reader as those characters. Pages render these strings with `st.html`, which
does not run them through Markdown either. Direction: Arabic-script text is laid out right to
left (`dir="rtl"`), everything else gets `dir="auto"`, which follows the first strong letter.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import pandas as pd

from kzdash.dashboard.reader import Span, direction

STYLE = """<style>
.kz-quote{margin:.2rem 0 .6rem;padding:.45rem .8rem;border-inline-start:4px solid #8a8f9c;background:#f6f6f3;
  font-size:1.02rem;line-height:1.7;unicode-bidi:plaintext}
.kz-pair{display:grid;grid-template-columns:1fr 1fr;gap:.8rem;align-items:start;margin-bottom:.5rem}
.kz-english{font-size:.95rem;padding:.45rem 0;color:#262730}
.kz-meta{color:#5c6070;font-size:.82rem}
.kz-card{border-bottom:1px solid #e3e3e0;padding:.35rem 0 .5rem}
.kz-card b{font-weight:600}
.kz-table{border-collapse:collapse;width:100%;font-size:.92rem}
.kz-table td,.kz-table th{border-top:1px solid #e3e3e0;padding:.3rem .5rem;vertical-align:top;text-align:start}
.kz-reader{font-size:1.08rem;line-height:2.0;white-space:normal;unicode-bidi:plaintext;max-width:60rem}
mark.kz-place{background:#fde68a;border-bottom:2px solid #7a5c00;padding:0 .1em}
mark.kz-actor{background:#c7dcff;border-bottom:2px dotted #1d3f8f;padding:0 .1em}
mark.kz-date{background:#d4f0c0;border-bottom:3px double #2f5d12;padding:0 .1em}
.kz-review{display:inline-block;margin:.1rem 0 .3rem;padding:.05rem .5rem;border-radius:.6rem;font-size:.8rem;
  border:1px solid #8a8f9c;background:#f0f0ec;color:#262730}
.kz-review-confirmed{border-color:#2f5d12;background:#e3f3d6}
.kz-review-rejected{border-color:#8f1d1d;background:#fbe0e0;text-decoration:none}
.kz-review-corrected{border-color:#1d3f8f;background:#dfe9fb}
.kz-review-needs_look{border-color:#7a5c00;background:#fdf3c8}
.kz-legend span{display:inline-block;margin:0 .8rem .3rem 0;font-size:.85rem}
.kz-dot{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;margin-inline-end:.3rem;vertical-align:-.1rem;
  border:1px solid #333}
</style>"""

PRESENTER_STYLE = """<style>
html,body,[data-testid="stAppViewContainer"]{font-size:20px}
[data-testid="stHeader"]{background:transparent}
h1{font-size:2.6rem !important} h2{font-size:2rem !important}
.kz-quote{font-size:1.25rem;background:#ffffff;border-inline-start:6px solid #000}
.kz-english{font-size:1.15rem;color:#000}
</style>"""


def esc(value: object) -> str:
    """Escaped text, line breaks kept as <br> (so no blank line can end an HTML block)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value)).replace("\r\n", "\n").replace("\n", "<br>")


def _lang_attrs(language: object) -> str:
    lang = str(language) if isinstance(language, str) and language.isalpha() else ""
    return f'dir="{direction(lang)}"' + (f' lang="{lang}"' if lang else "")


def quote(text: object, language: object, english: object = None, meta: object = None,
          mark: tuple[int, int] | None = None) -> str:
    """An evidence sentence in its own language and direction, with the English line beside it;
    `mark` (offsets into the sentence) highlights the words the row stands on."""
    body = esc(text)
    if mark and isinstance(text, str) and 0 <= mark[0] < mark[1] <= len(text):
        s, e = mark
        body = f'{esc(text[:s])}<mark class="kz-place">{esc(text[s:e])}</mark>{esc(text[e:])}'
    q = f'<blockquote class="kz-quote" {_lang_attrs(language)}>{body}</blockquote>'
    m = f'<div class="kz-meta">{esc(meta)}</div>' if meta else ""
    if english is None:
        return f"<div>{q}{m}</div>"
    return f'<div class="kz-pair"><div>{q}</div><div><div class="kz-english">{esc(english)}</div>{m}</div></div>'


def event_card(row: dict) -> str:
    """An event as a briefer reads it: when, what, where, who reported it, and the sentence behind it."""
    when = day(row.get("date")) or "date unknown"
    bg = " · background mention" if bool(row.get("background")) else ""
    head = (f'<div><b>{esc(when)}</b> · {esc(row.get("event_type"))} · {esc(row.get("summary"))}</div>'
            f'<div class="kz-meta">{esc(row.get("outlet"))} · {esc(row.get("language"))} · published '
            f'{esc(day(row.get("published")) or "unknown")}{bg}</div>')
    return f'<div class="kz-card">{head}{quote(row.get("evidence"), row.get("language"))}</div>'


def position_spans(spans: pd.DataFrame) -> str:
    """Each issue's positions with the first and last statement of each: date, outlet and evidence."""
    rows = []
    for r in spans.to_dict("records"):
        cells = []
        for end in ("first", "last"):
            meta = f'{day(r[end])} · {r[f"{end}_outlet"]} · article {r[f"{end}_article_id"]}'
            cells.append(f'<td><div class="kz-meta">{esc(meta)}</div>'
                         f'<div {_lang_attrs(r[f"{end}_language"])}>{esc(r[f"{end}_evidence"])}</div></td>')
        rows.append(f'<tr><td><b>{esc(r["issue_label"])}</b></td><td>{esc(r["polarity"])}</td>{"".join(cells)}'
                    f'<td>{esc(r["statements"])} / {esc(r["outlets"])}</td></tr>')
    return ('<table class="kz-table"><thead><tr><th>issue</th><th>position</th><th>first stated</th>'
            '<th>last stated</th><th>articles / outlets</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")


def side_changes(changes: pd.DataFrame) -> str:
    """Every change of side, in order: "support → neutral, first seen <date>, <outlet>" over its evidence."""
    cards = []
    for r in changes.to_dict("records"):
        head = f'<div><b>{esc(r["issue_label"])}</b>: {esc(r["note"])}</div>'
        meta = f'{r["language"]} · article {r["article_id"]}'
        cards.append(f'<div class="kz-card">{head}{quote(r["evidence"], r["language"], meta=meta)}</div>')
    return "".join(cards)


def position_disagreements(rows: pd.DataFrame) -> str:
    """Days or weeks in which outlets stated different positions on one issue: each side with its outlets."""
    cards = []
    for (label, window, period), group in rows.groupby(["issue_label", "window", "period"], sort=False):
        sides = "".join(f'<div><b>{esc(r["polarity"])}</b>: {esc(r["outlets"])} ({esc(r["statements"])} articles)'
                        f'</div>{quote(r["evidence"], r["language"], meta=_example(r))}'
                        for r in group.to_dict("records"))
        when = f"{window}, {'week of ' if window == 'same week' else ''}{day(period)}"
        cards.append(f'<div class="kz-card"><div><b>{esc(label)}</b> · {esc(when)}</div>{sides}</div>')
    return "".join(cards)


def _example(row: dict) -> str:
    return f"{row['outlet']} · article {row['article_id']}"


def coverage_card(row: dict) -> str:
    """A happening with who reported it, how soon, who usually would have and did not, and its evidence."""
    lag = row.get("lag_days")
    soon = "" if lag is None or pd.isna(lag) else f" · first report {int(lag)} days after"
    lines = [f'<div><b>{esc(day(row.get("date")) or "date unknown")}</b> · {esc(row.get("event_type"))} · '
             f'{esc(row.get("summary"))}</div>',
             f'<div class="kz-meta">reported by {esc(row.get("reported_by"))} ({esc(row.get("languages"))}){esc(soon)}'
             "</div>"]
    if row.get("usual_missing"):
        lines.append(f'<div class="kz-meta">usually covers this, did not report it: {esc(row["usual_missing"])}</div>')
    if row.get("note"):
        lines.append(f'<div class="kz-meta">{esc(row["note"])}</div>')
    return f'<div class="kz-card">{"".join(lines)}{quote(row.get("evidence"), row.get("language"))}</div>'


REVIEW_LABELS = {"confirmed": "confirmed", "rejected": "rejected", "corrected": "corrected",
                 "needs_look": "review needs a look (the evidence changed)"}


def review_badge(review: object, by: object = None, note: object = None) -> str:
    """A row's current review as a small label: status, reviewer, note. The note and the name are text
    a person typed: escaped like article text. "" when the row has no review."""
    if review is None or (not isinstance(review, str) and pd.isna(review)) or str(review) not in REVIEW_LABELS:
        return ""
    parts = [REVIEW_LABELS[str(review)]]
    if isinstance(by, str) and by:
        parts.append(f"by {by}")
    if isinstance(note, str) and note:
        parts.append(f"“{note}”")
    return f'<div class="kz-review kz-review-{review}">{esc(" · ".join(parts))}</div>'


def day(value: object) -> str:
    """A date as YYYY-MM-DD, or "" when there is none (NaT, None, NaN)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def reader(segments: Iterable[tuple[str, Span | None]], text_direction: str, language: object = None) -> str:
    """The article with places, actors and dates marked; each piece escaped on its own."""
    parts = []
    for piece, span in segments:
        if span is None:
            parts.append(esc(piece))
        else:
            parts.append(f'<mark class="kz-{esc(span.kind)}" title="{esc(span.kind)}: {esc(span.label)}">'
                         f"{esc(piece)}</mark>")
    lang = f' lang="{esc(language)}"' if isinstance(language, str) and language.isalpha() else ""
    return f'<div class="kz-reader" dir="{esc(text_direction)}"{lang}>{"".join(parts)}</div>'


def legend(items: Iterable[tuple[str, str]]) -> str:
    """Coloured dots with labels (colours are ours, labels escaped)."""
    spans = "".join(f'<span><i class="kz-dot" style="background:{esc(colour)}"></i>{esc(label)}</span>'
                    for label, colour in items)
    return f'<div class="kz-legend">{spans}</div>'


def reader_legend() -> str:
    return ('<div class="kz-legend"><span><mark class="kz-place">place</mark></span>'
            '<span><mark class="kz-actor">actor</mark></span><span><mark class="kz-date">date</mark></span></div>')


def handout(title: str, note: str, filters: list[tuple[str, str]], chart_png_base64: str | None,
            evidence: pd.DataFrame, link: str, made: str) -> str:
    """A one-page HTML handout of a briefing view: title, note, filters, the chart, and its evidence."""
    rows = []
    for r in evidence.head(12).to_dict("records"):
        rows.append(f'<tr><td>{esc(day(r.get("date")))}</td><td>{esc(r.get("outlet"))}</td>'
                    f'<td>{esc(r.get("summary") or r.get("english"))}</td>'
                    f'<td {_lang_attrs(r.get("language"))}>{esc(r.get("evidence"))}</td></tr>')
    flt = "; ".join(f"{esc(k)}: {esc(v)}" for k, v in filters) or "none"
    img = (f'<img alt="chart" src="data:image/png;base64,{chart_png_base64}">' if chart_png_base64 else "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>
@page {{ size: A4; margin: 12mm; }}
body {{ font-family: "Noto Sans", "DejaVu Sans", sans-serif; color: #000; font-size: 10pt; margin: 0; }}
h1 {{ font-size: 16pt; margin: 0 0 4pt; }} p {{ margin: 2pt 0 6pt; }}
.meta {{ color: #333; font-size: 8.5pt; }}
img {{ max-width: 100%; max-height: 90mm; display: block; margin: 6pt 0; }}
table {{ border-collapse: collapse; width: 100%; font-size: 8.5pt; }}
td, th {{ border-top: 0.5pt solid #777; padding: 2pt 4pt; vertical-align: top; text-align: start; }}
td[dir=rtl] {{ text-align: right; }}
</style></head>
<body>
<h1>{esc(title)}</h1>
<p>{esc(note)}</p>
<p class="meta">Filters: {flt} · view: {esc(link)} · made {esc(made)} by kzdash</p>
{img}
<table><thead><tr><th>date</th><th>outlet</th><th>what (English)</th><th>evidence (original)</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
</body></html>"""
