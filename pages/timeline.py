"""Timeline: happenings over time by event date (each counted once, with how many outlets reported
it), reports by publication date in their own lane, background mentions faded, key dates marked.
Dragging across the chart narrows the date filter for every page. A second tab shows coverage:
which outlets and languages reported each happening, how soon, and which usual outlets did not."""

from __future__ import annotations

import streamlit as st

from kzdash.environment import dashboard_import_guard

with dashboard_import_guard():  # a broken install names its package (page opened by its own URL)
    from kzdash import ui
    from kzdash.dashboard import analysis, charts, exports, markup, queries

ds, f = ui.page()
st.title("Timeline")
ui.filter_caption(f)
OVER_TIME, COVERAGE = "Happenings over time", "Coverage"
LISTED = 2000  # happenings in the table
time_tab, coverage_tab = st.tabs([OVER_TIME, COVERAGE], key="timeline_tab", on_change="rerun")


def over_time() -> None:
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
                              lambda: charts.timeline_spec(t, keys, group, charts.palette("screen")),
                              on_select="rerun", selection_mode=[charts.BRUSH], width="stretch")
        picked = charts.brush_range(event.selection if event else None)
        if picked:
            lo, hi = picked[0].date(), picked[1].date()
            if (lo, hi) != (f.start, f.end):
                ui.update(start=lo, end=hi)
                st.rerun()

    st.subheader("Happenings")
    h = queries.happenings(ds, f, limit=LISTED)
    n_happenings, n_reports = queries.happening_count(ds, f)
    st.caption(f"{n_happenings} happenings from {n_reports} reports"
               + (f" · the newest {LISTED} are listed" if n_happenings > LISTED else ""))
    ui.table(ds, ("happenings", f), lambda: h[["date", "event_type", "summary", "place_name", "reports", "outlets",
                                               "background", "published", "review"]],
             hide_index=True, width="stretch", height=260,
             column_config={"date": st.column_config.DateColumn("event date"),
                            "published": st.column_config.DateColumn("first published")})
    with st.expander("Evidence of the latest happenings", expanded=False):
        ui.review_list(ds, "event", "happenings", (f,), lambda: [(row, markup.event_card(row), ui.event_label(row))
                                                                 for row in h.head(15).to_dict("records")])


def coverage() -> None:
    cov = analysis.coverage(ds, f)
    if not cov.happenings:
        st.info("No happenings under these filters.")
        return
    listed = f" · the newest {len(cov.table)} are listed" if cov.happenings > len(cov.table) else ""
    st.caption(f"{cov.happenings} happenings{listed}. The filters choose the happenings; who reported each counts "
               "all its reports in the build. Days to report: first publication minus the happening's date (the "
               "earliest its reports give). An outlet *usually covers* a happening when it reported at least "
               f"{cov.usual} happenings in the build with one of its actors or targets, or at one of its places.")
    ui.vega_chart(ds, ("coverage", f), lambda: charts.coverage_spec(cov, charts.palette("screen")))
    cols = st.columns(2)
    cols[0].markdown("**By language**")
    cols[0].dataframe(cov.languages, hide_index=True, width="stretch",
                      column_config={"share": st.column_config.ProgressColumn("share", format="percent")})
    cols[1].markdown("**By outlet** · missed: listed happenings it usually would have reported")
    cols[1].dataframe(cov.outlets, hide_index=True, width="stretch",
                      column_config={"share": st.column_config.ProgressColumn("share", format="percent")})
    st.dataframe(cov.table[["date", "event_type", "summary", "reported_by", "languages", "lag_days", "usual_missing",
                            "note"]], hide_index=True, width="stretch", height=320,
                 column_config={"date": st.column_config.DateColumn("event date"),
                                "lag_days": st.column_config.NumberColumn("days to report"),
                                "usual_missing": "usually covers it, did not report", "reported_by": "reported by"})
    st.download_button("Coverage as CSV", lambda: exports.csv_bytes(cov.table), file_name="kzdash-coverage.csv",
                       mime="text/csv", key="coverage_csv", on_click="ignore", icon=":material/download:")
    with st.expander("Evidence of the latest happenings", expanded=False):
        for row in cov.table.head(15).to_dict("records"):
            ui.html(markup.coverage_card(row))


if time_tab.open:
    with time_tab:
        over_time()
if coverage_tab.open:
    with coverage_tab:
        coverage()
