"""Overview: what a briefer shows first. Headline counts, the latest events with their evidence,
the most mentioned places, and the chosen holder's stances (Kazakhstan by default)."""

from __future__ import annotations

import streamlit as st

from kzdash.environment import dashboard_import_guard

with dashboard_import_guard():  # a broken install names its package (page opened by its own URL)
    from kzdash import ui
    from kzdash.dashboard import markup, queries
    from kzdash.dashboard.vocab import POLARITIES, vocab

ds, f = ui.page()
st.title("Overview")
ui.filter_caption(f)

h = queries.headline(ds, f)
with st.container(horizontal=True):  # one block for the row of counts, not a column each
    st.metric("Articles", h["articles"])
    st.metric("Outlets", h["outlets"])
    st.metric("Happenings", h["happenings"], help="Reports of one happening count once.")
    st.metric("Event reports", h["events"])
    st.metric("Places", h["places"], help=f"{h['mentions']} mentions")
    st.metric("Stances", h["stances"])

left, right = st.columns([5, 4], gap="large")
small = {c: st.column_config.NumberColumn(c, width="small") for c in ("mentions", "events", *POLARITIES)}
with left:
    st.subheader("Latest events")
    latest = queries.latest_events(ds, f, n=8)
    if latest.empty:
        st.info("No events under these filters.")
    ui.review_list(ds, "event", "latest", (f,), lambda: [(row, markup.event_card(row), ui.event_label(row))
                                                         for row in latest.to_dict("records")])
    st.page_link(ui.page_ref("timeline"), label="All happenings on the timeline", icon=":material/timeline:",
                 query_params=f.to_query_params())

with right:
    st.subheader("Top places")
    ui.table(ds, ("top-places", f), lambda: queries.top_places(ds, f, n=8)[["name", "kind", "country", "mentions",
                                                                             "events"]],
             hide_index=True, width="stretch", column_config=small)
    st.page_link(ui.page_ref("map"), label="On the map, with evidence", icon=":material/map:",
                 query_params=f.to_query_params())

    holders = queries.options(ds)["holders"]
    holder = ui.bound_select("holder", "Stances of", holders, f, fmt=lambda c: f"{vocab().actor(c)} ({c})")
    m = queries.stance_matrix(ds, f, holder, "outlet")
    if m.empty:
        st.info("No stances of this holder under these filters.")
    else:
        ui.table(ds, ("stance-summary", f, holder),
                 lambda: m.groupby(["issue_label"])[list(POLARITIES)].sum().reset_index()
                 .sort_values("support", ascending=False).rename(columns={"issue_label": "issue"}),
                 hide_index=True, width="stretch", column_config=small)
    st.page_link(ui.page_ref("stances"), label="Stance matrix by outlet, with quotes", icon=":material/balance:",
                 query_params=f.to_query_params())
