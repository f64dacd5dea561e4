"""Data: what was built and when, the inputs set aside with the reason, and downloads of the
filtered tables (CSV, Parquet, GeoJSON for places and events)."""

from __future__ import annotations

import streamlit as st

from kzdash import exports, ui
from kzdash.dataset import count, filtered

ds, f = ui.page()
st.title("Data")
ui.filter_caption(f)

st.subheader("Build")
info = ds.info
cols = st.columns(5)
for col, name in zip(cols, ("articles", "places", "events", "stances", "quarantine"), strict=True):
    col.metric(name.capitalize(), len(ds.table(name)))
st.caption(f"Built {info.get('built_at', 'at an unknown time')} from {info.get('input', 'an unknown folder')}"
           f" · code and data fingerprint {info.get('fingerprint', '—')}")

st.subheader("Set aside (quarantine)")
if ds.quarantine.empty:
    st.caption("Nothing was set aside: every input was read.")
else:
    st.dataframe(ds.quarantine, hide_index=True, width="stretch")

st.subheader("Download the filtered tables")
st.caption("Rows under the current filters; article bodies are left out of the per-row files.")
for name in ("events", "places", "stances", "articles"):
    c = st.columns([2, 1, 1, 1])
    c[0].markdown(f"**{name.capitalize()}** · {count(ds, name, f)} rows")
    # The files are made when a button is pressed (deferred), not on every filter change.
    c[1].download_button("CSV", lambda name=name: exports.csv_bytes(filtered(ds, name, f)),
                         file_name=f"kzdash-{name}.csv", mime="text/csv", key=f"csv_{name}", on_click="ignore")
    c[2].download_button("Parquet", lambda name=name: exports.parquet_bytes(filtered(ds, name, f)),
                         file_name=f"kzdash-{name}.parquet", mime="application/octet-stream",
                         key=f"parquet_{name}", on_click="ignore")
    if name in ("events", "places"):
        c[3].download_button("GeoJSON", lambda name=name: exports.geojson_bytes(filtered(ds, name, f)),
                             file_name=f"kzdash-{name}.geojson", mime="application/geo+json",
                             key=f"geojson_{name}", on_click="ignore")
