"""Briefing: a presenter view that steps through saved views (data/briefing/views.yaml: a share
link, a title and a note each) with buttons or the arrow keys, in large type and a palette that
survives a black-and-white projector. Filters can be changed live from the sidebar; the view
number stays in the URL, so the place is kept. Each view exports its chart (SVG, PNG) and a
one-page HTML handout of its evidence."""

from __future__ import annotations

import time
from functools import partial
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from kzdash.environment import dashboard_import_guard

with dashboard_import_guard():  # a broken install names its package (page opened by its own URL)
    from kzdash import ui
    from kzdash.dashboard import analysis, briefing, charts, exports, markup, queries

ds, f = ui.page()
views = briefing.load_views()
if not views:
    st.info("No saved views: add some to data/briefing/views.yaml.")
    st.stop()


def go(n: int) -> None:
    """Open saved view n (from 1) with its own filters; the presenter setting is kept."""
    ui.show(views[n - 1].filters.replace(slide=n, present=ui.filters().present))


if not 1 <= f.slide <= len(views):  # opened without a view: start at the first, with its saved filters
    go(1)
    st.rerun()
n = f.slide
view = views[n - 1]
pal = charts.palette("print")
if f.present:
    ui.presenter_style()

nav = st.columns([1.4, 1.4, 3, 1.8, 1.8], vertical_alignment="center")
nav[0].button("Previous", icon=":material/arrow_back:", shortcut="Left", disabled=n == 1,
              on_click=go, args=(n - 1,), width="stretch")
nav[1].button("Next", icon=":material/arrow_forward:", shortcut="Right", disabled=n == len(views),
              on_click=go, args=(n + 1,), width="stretch")
if st.session_state.get("jump") != n:
    st.session_state["jump"] = n
nav[2].selectbox("View", range(1, len(views) + 1), key="jump", label_visibility="collapsed",
                 format_func=lambda j: f"{j} / {len(views)} · {views[j - 1].title}",
                 on_change=lambda: go(st.session_state["jump"]))
ui.bound_toggle("present", "Presenter view", f, where=nav[3])
own = view.filters.replace(slide=n, present=f.present)
nav[4].button("Saved filters", icon=":material/restore:", disabled=own == f, on_click=go, args=(n,),
              help="Back to the filters saved with this view.", width="stretch")

st.title(f"{n}. {view.title}")
ui.html(f'<p style="font-size:1.2em">{markup.esc(view.note)}</p>')
ui.filter_caption(f)

evidence: pd.DataFrame
export_chart = None  # made only when a download asks for it
if view.page == "stances" and view.tab == "positions":
    p = analysis.positions(ds, f, f.holder)
    if not p.marks.empty:
        ui.vega_chart(ds, ("briefing-positions", f), lambda: charts.positions_spec(p, pal), width="stretch")
        export_chart = partial(charts.positions_chart, p, pal, width=900)
        ui.html(markup.position_spans(p.spans))
    evidence = analysis.positions_evidence(p)
elif view.page == "timeline" and view.tab == "coverage":
    cov = analysis.coverage(ds, f)
    if cov.happenings:
        ui.vega_chart(ds, ("briefing-coverage", f), lambda: charts.coverage_spec(cov, pal))
        export_chart = partial(charts.coverage_chart, cov, pal)
        st.dataframe(cov.languages, hide_index=True)
    evidence = cov.table.head(12)
elif view.page == "timeline":
    t = queries.timeline(ds, f, f.group)
    keys = queries.key_dates(t.start.date() if t.start is not None else None,
                             t.end.date() if t.end is not None else None)
    if not t.bins.empty:
        ui.vega_chart(ds, ("briefing-timeline", f), lambda: charts.timeline_spec(t, keys, f.group, pal, brush=False),
                      width="stretch")
        export_chart = partial(charts.timeline_chart, t, keys, f.group, pal, brush=False, width=900)
    evidence = queries.happenings(ds, f, limit=12)  # the page shows 4, the handout 12
elif view.page == "stances":
    m = queries.stance_matrix(ds, f, f.holder, f.rows)
    if not m.empty:
        ui.vega_chart(ds, ("briefing-stances", f), lambda: charts.stance_heatmap_spec(m, pal, select=False))
        export_chart = partial(charts.stance_heatmap, m, pal, select=False)
    evidence = queries.stance_evidence(ds, f, f.holder, rows=f.rows)
elif view.page == "map":
    ev, pl = queries.map_events(ds, f), queries.map_places(ds, f)
    ui.countries()  # the outlines file must exist before the browser asks for it
    ui.deck_chart(ds, ("briefing-map", f), lambda: charts.map_deck(ev, pl, ui.COUNTRIES_URL, pal), height=520)
    ui.html(markup.legend(charts.type_legend(pal, list(ev["event_type"]))))
    export_chart = partial(charts.static_map, ev, pl, ui.countries(), pal)
    evidence = queries.place_evidence(ds, f, f.pick)[0] if f.pick else queries.latest_events(ds, f, 12)
    if evidence.empty:
        evidence = queries.latest_events(ds, f, 12)
else:
    h = queries.headline(ds, f)
    with st.container(horizontal=True):  # one block for the row of counts
        for label, key in [("Happenings", "happenings"), ("Outlets", "outlets"), ("Places", "places"),
                           ("Stances", "stances")]:
            st.metric(label, h[key])
    evidence = queries.latest_events(ds, f, 12)

st.subheader("Evidence")
cards = ds.remember(("briefing-evidence", n, f), lambda: "".join(  # one block for the four cards, made once
    markup.coverage_card(row) if "reported_by" in row
    else markup.quote(row["evidence"], row["language"], english=row["english"], meta=row["outlet"])
    if "english" in row else markup.event_card(row)
    for row in evidence.head(4).to_dict("records")))
if cards:
    ui.html(cards)

link = view.page + "?" + urlencode(f.to_query_params(), doseq=True)
with st.expander("Export this view", expanded=not f.present):
    c = st.columns(3)
    if export_chart is not None:
        c[0].download_button("Chart as SVG", lambda: exports.chart_svg(export_chart()), key="svg",
                             file_name=f"kzdash-view-{n}.svg", mime="image/svg+xml", on_click="ignore")
        c[1].download_button("Chart as PNG", lambda: exports.chart_png(export_chart()), key="png",
                             file_name=f"kzdash-view-{n}.png", mime="image/png", on_click="ignore")

    def handout() -> str:
        png = exports.png_base64(exports.chart_png(export_chart())) if export_chart is not None else None
        return markup.handout(view.title, view.note, f.active(), png, evidence, link,
                              time.strftime("%Y-%m-%d %H:%M"))

    c[2].download_button("Handout (HTML, one page)", handout, key="handout", file_name=f"kzdash-view-{n}.html",
                         mime="text/html", on_click="ignore")
