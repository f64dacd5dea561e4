"""Stances: for a chosen holder, outlets (or languages) × issues with support / oppose / neutral
counts, where outlets disagree, and under each cell the quotes in their own language beside an
English line."""

from __future__ import annotations

import streamlit as st

from kzdash.environment import dashboard_import_guard

with dashboard_import_guard():  # a broken install names its package (page opened by its own URL)
    from kzdash import ui
    from kzdash.dashboard import charts, markup, queries
    from kzdash.dashboard.vocab import vocab

ds, f = ui.page()
st.title("Stances")
ui.filter_caption(f)

top = st.columns([2, 2])
holders = queries.options(ds)["holders"]
holder = ui.bound_select("holder", "Whose positions", holders, f, where=top[0],
                         fmt=lambda c: f"{vocab().actor(c)} ({c})")
rows = ui.bound_select("rows", "Compare", ["outlet", "language"], f, radio=True, where=top[1], horizontal=True,
                       fmt=lambda r: {"outlet": "outlets", "language": "languages"}[r])
m = queries.stance_matrix(ds, f, holder, rows)
if m.empty:
    st.info(f"No stances of {vocab().actor(holder)} under these filters.")
    st.stop()

event = ui.vega_chart(ds, ("stance-heatmap", f, holder, rows),
                     lambda: charts.stance_heatmap(m, charts.palette("screen")),
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
    st.dataframe(d[["issue_label", "row", "polarity", "count", "total"]].rename(
        columns={"issue_label": "issue", "row": rows, "polarity": "main polarity"}), hide_index=True,
        width="stretch")

st.subheader("Quotes" + (f": {labels[cell]}" if cell else ""))
quotes = queries.stance_evidence(ds, f, holder, cell[1] if cell else None, cell[0] if cell else None, rows)
for row in quotes.to_dict("records"):
    when = markup.day(row["date"]) or "undated"
    times = f" · ×{row['times']}" if row["times"] > 1 else ""
    meta = f"{row['polarity']}{times} · {row['outlet']} · {row['language']} · {when} · article {row['article_id']}"
    ui.review_control(ds, "stance", row, rows=row["rows"],
                      card=markup.quote(row["evidence"], row["language"], english=row["english"], meta=meta))
