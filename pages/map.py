"""Map: events as points coloured by type and sized by count, place mentions as rings, country
outlines from Natural Earth (no internet, no token). Selecting a point or a place lists its events
and the sentences that mention it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kzdash.environment import dashboard_import_guard

with dashboard_import_guard():  # a broken install names its package (page opened by its own URL)
    from kzdash import ui
    from kzdash.dashboard import charts, markup, queries

CHIPS = 60  # the most mentioned places offered as evidence chips

ds, f = ui.page()
st.title("Map")
ui.filter_caption(f)

events = queries.map_events(ds, f)
places = queries.map_places(ds, f)
pal = charts.palette("screen")
top = st.columns([3, 1])
basemap = top[1].toggle("Basemap (needs internet)", value=False,
                        help="Off: country outlines shipped with the app, no outside request.")
center = charts.DEFAULT_VIEW
if f.pick and f.pick in set(places["place_id"]):
    row = places.set_index("place_id").loc[f.pick]
    center = (float(row["lat"]), float(row["lon"]), 4.0)
ui.countries()  # makes sure the outlines file exists before the browser asks for it
selection = ui.deck_chart(ds, ("map", f, basemap),
                          lambda: charts.map_deck(events, places, ui.COUNTRIES_URL, pal, center=center,
                                                  basemap=basemap),
                          on_select="rerun", selection_mode="single-object", height=560,
                          alt="Map of events and place mentions")
ui.html(ds.remember(("map-legend", f), lambda: markup.legend(charts.type_legend(pal, list(events["event_type"]))
                                                              + [("place mentions (ring)", "#ffffff")])))
if max(len(events), len(places)) >= queries.MAP_POINTS:
    st.caption(f"The {queries.MAP_POINTS} largest points of each layer are drawn; narrow the filters to see the rest.")
picked = charts.picked_place(selection.selection if selection else None)
if picked and picked != f.pick:
    f = ui.update(pick=picked)



def _listing() -> tuple:
    """The places table, the chips and the names for one filter state (remembered: shared by sessions)."""
    ev_counts = events.groupby("place_id")["count"].sum()
    listing = places.assign(events=places["place_id"].map(ev_counts).fillna(0).astype(int))
    local = listing[listing["kind"] != "country"].head(CHIPS)  # countries' evidence is everywhere: not chips
    return (ui.arrow(listing.head(2000)[["name", "kind", "country", "mentions", "articles", "events"]]),
            list(local["place_id"]), dict(zip(places["place_id"], places["name"], strict=True)))


table, chips, names = ds.remember(("map-listing", f), _listing)
st.subheader("Places on the map")
st.dataframe(table, hide_index=True, width="stretch", height=240)
choice = ui.bound_select("pick", "Evidence for (or select a point on the map)", chips, f,
                         fmt=lambda p: names.get(p, p), pills=True, optional=True)
if choice:
    ev, mentions = queries.place_evidence(ds, f, choice)
    st.subheader(f"Evidence: {names.get(choice, choice)}")
    st.caption(f"{len(ev)} events at this place · {len(mentions)} mentions")
    ui.review_list(ds, "event", "place_events", (f, choice), lambda: [(row, markup.event_card(row), ui.event_label(row))
                                                                      for row in ev.to_dict("records")])

    def mention_cards() -> list[tuple[dict, str, str]]:
        cards = []
        for row in mentions.to_dict("records"):
            meta = f"mention “{row['surface']}” · {row['outlet']} · {row['language']} · article {row['article_id']}"
            at = None if pd.isna(row["sentence_start"]) else (row["start"] - row["sentence_start"],
                                                               row["end"] - row["sentence_start"])
            cards.append((row, markup.quote(row["sentence"], row["language"], meta=meta, mark=at),
                          f"“{row['surface']}” · {row['outlet']} · {ui.snippet(row['sentence'])}"))
        return cards

    ui.review_list(ds, "place", "mentions", (f, choice), mention_cards)
