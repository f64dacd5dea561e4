"""Timeline: happenings over time by event date (each counted once, with how many outlets reported
it), reports by publication date in their own lane, background mentions faded, key dates marked.
Dragging across the chart narrows the date filter for every page."""

from __future__ import annotations

import streamlit as st

from kzdash.environment import dashboard_import_guard

with dashboard_import_guard():  # a broken install names its package (page opened by its own URL)
    from kzdash import ui
    from kzdash.dashboard import charts, markup, queries

ds, f = ui.page()
st.title("Timeline")
ui.filter_caption(f)

top = st.columns([2, 2, 1])
group = ui.bound_select("group", "Colour by", ["type", "outlet"], f, radio=True, where=top[0], horizontal=True,
                        fmt=lambda g: {"type": "event type", "outlet": "outlet"}[g])
t = queries.timeline(ds, f, group)
if f.start or f.end:
    top[2].button("Clear dates", icon=":material/close:", on_click=lambda: ui.update(start=None, end=None))
note = {"D": "one bar per day", "W-MON": "one bar per week", "MS": "one bar per month"}[t.freq]
note += " · drag across the chart to narrow the dates"
if t.earlier:
    some = "1 earlier happening is" if t.earlier == 1 else f"{t.earlier} earlier happenings are"
    note += f" · {some} left of {t.start:%Y-%m-%d} (background mentions): set a start date to see them"
top[1].caption(note)
if t.bins.empty:
    st.info("No dated happenings under these filters.")
else:
    keys = queries.key_dates(t.start.date() if t.start is not None else None,
                             t.end.date() if t.end is not None else None)
    event = ui.vega_chart(ds, ("timeline", f, group),
                          lambda: charts.timeline_chart(t, keys, group, charts.palette("screen")),
                          on_select="rerun", selection_mode=[charts.BRUSH], width="stretch")
    picked = charts.brush_range(event.selection if event else None)
    if picked:
        lo, hi = picked[0].date(), picked[1].date()
        if (lo, hi) != (f.start, f.end):
            ui.update(start=lo, end=hi)
            st.rerun()

st.subheader("Happenings")
LISTED = 2000
h = queries.happenings(ds, f, limit=LISTED)
n_happenings, n_reports = queries.happening_count(ds, f)
st.caption(f"{n_happenings} happenings from {n_reports} reports"
           + (f" · the newest {LISTED} are listed" if n_happenings > LISTED else ""))
table = h[["date", "event_type", "summary", "place_name", "reports", "outlets", "background", "published", "review"]]
st.dataframe(table, hide_index=True, width="stretch", height=260,
             column_config={"date": st.column_config.DateColumn("event date"),
                            "published": st.column_config.DateColumn("first published")})
with st.expander("Evidence of the latest happenings", expanded=False):
    for row in h.head(15).to_dict("records"):
        ui.review_control(ds, "event", row, card=markup.event_card(row))
