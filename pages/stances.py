"""Stances: for a chosen holder, outlets (or languages) × issues with support / oppose / neutral
counts, where outlets disagree, and under each cell the quotes in their own language beside an
English line. A second tab puts the holder's positions on a time axis: first and last statement of
each position, every change of side, and where outlets disagree at the same time."""

from __future__ import annotations

import streamlit as st

from kzdash.environment import dashboard_import_guard

with dashboard_import_guard():  # a broken install names its package (page opened by its own URL)
    from kzdash import ui
    from kzdash.dashboard import analysis, charts, markup, queries
    from kzdash.dashboard.vocab import vocab

ds, f = ui.page()
st.title("Stances")
ui.filter_caption(f)

top = st.columns([2, 2])
holders = queries.options(ds)["holders"]
holder = ui.bound_select("holder", "Whose positions", holders, f, where=top[0],
                         fmt=lambda c: f"{vocab().actor(c)} ({c})")
MATRIX, OVER_TIME = "Outlets × issues", "Positions over time"
matrix_tab, time_tab = st.tabs([MATRIX, OVER_TIME], key="stances_tab", on_change="rerun")


def matrix() -> None:
    rows = ui.bound_select("rows", "Compare", ["outlet", "language"], f, radio=True, where=top[1], horizontal=True,
                           fmt=lambda r: {"outlet": "outlets", "language": "languages"}[r])
    m = queries.stance_matrix(ds, f, holder, rows)
    if m.empty:
        st.info(f"No stances of {vocab().actor(holder)} under these filters.")
        return
    event = ui.vega_chart(ds, ("stance-heatmap", f, holder, rows),
                          lambda: charts.stance_heatmap_spec(m, charts.palette("screen")),
                          on_select="rerun", selection_mode=[charts.CELL])
    cells = [(r, i) for r, i in zip(m["row"], m["issue"], strict=True)]
    clicked = charts.cell_choice(event.selection if event else None)
    labels = {c: f"{c[0]} — {vocab().issue(c[1])}" for c in cells}
    key = "stance_cell"
    if clicked in labels and st.session_state.get(key) != clicked:
        st.session_state[key] = clicked
    cell = st.selectbox("Quotes for", cells, key=key, format_func=labels.get, index=None,
                        placeholder="click a cell, or choose one (all quotes are listed otherwise)")

    st.subheader("Where they disagree")
    d = queries.disagreements(ds, f, holder, rows)
    if d.empty:
        st.caption(f"Every {rows} that reports an issue reports the same main polarity.")
    else:
        ui.table(ds, ("disagreements", f, holder, rows), lambda: d[["issue_label", "row", "polarity", "count", "total"]]
                 .rename(columns={"issue_label": "issue", "row": rows, "polarity": "main polarity"}),
                 hide_index=True, width="stretch")

    st.subheader("Quotes" + (f": {labels[cell]}" if cell else ""))

    def quote_cards() -> list[tuple[dict, str, str]]:
        quotes = queries.stance_evidence(ds, f, holder, cell[1] if cell else None, cell[0] if cell else None, rows)
        cards = []
        for row in quotes.to_dict("records"):
            when = markup.day(row["date"]) or "undated"
            times = f" · ×{row['times']}" if row["times"] > 1 else ""
            meta = (f"{row['polarity']}{times} · {row['outlet']} · {row['language']} · {when} · "
                    f"article {row['article_id']}")
            cards.append((row, markup.quote(row["evidence"], row["language"], english=row["english"], meta=meta),
                          f"{row['polarity']} · {vocab().issue(row['issue'])} · "
                          f"{row['outlet']} · {ui.snippet(row['evidence'])}"))
        return cards

    ui.review_list(ds, "stance", "quotes", (f, holder, cell, rows), quote_cards)


def over_time() -> None:
    p = analysis.positions(ds, f, holder)
    name = vocab().actor(holder)
    if p.marks.empty:
        st.info(f"No dated stances of {name} under these filters.")
        return
    drawn = f"the newest {len(p.marks)} of {p.statements}" if p.statements > len(p.marks) else str(p.statements)
    st.caption(f"{drawn} statements (one per article, issue and position), dated by the article's publication "
               "date, else by the stance's own date" + (f" · {p.undated} undated left out" if p.undated else ""))
    ui.vega_chart(ds, ("positions", f, holder), lambda: charts.positions_spec(p, charts.palette("screen")),
                  width="stretch")
    st.subheader("First and last statement of each position")
    ui.html(markup.position_spans(p.spans))
    st.subheader("Changes of side")
    st.caption("Per issue, each day's side is the position most of that day's articles state; a day split evenly "
               "keeps the side before it. A change is flagged with the first article of the new side that day.")
    if p.changes.empty:
        st.caption(f"No change of side: every issue kept its side in {name}'s statements under these filters.")
    else:
        if p.changes_total > len(p.changes):
            st.caption(f"the newest {len(p.changes)} of {p.changes_total} changes")
        ui.html(markup.side_changes(p.changes))
    st.subheader("Outlets disagreeing at the same time")
    if p.disagreements.empty:
        st.caption("No day or week in which two outlets state different positions on one issue.")
    else:
        if p.periods_total > p.disagreements.groupby(["issue", "period"]).ngroups:
            st.caption(f"the newest of {p.periods_total} disagreeing days and weeks")
        ui.html(markup.position_disagreements(p.disagreements))


if matrix_tab.open:
    with matrix_tab:
        matrix()
if time_tab.open:
    with time_tab:
        over_time()
