"""kzdash: a plain view of the built tables (the dashboard pages come next).

First run on a fresh checkout builds the bundled sample's tables into build/sample.
"""

from __future__ import annotations

import streamlit as st

from kzdash.appdata import SAMPLE_INPUT, build_dir_from_env, ensure_build, load_tables

st.set_page_config(page_title="kzdash", layout="wide")
st.title("kzdash")
st.caption("Kazakhstan between Russia, Ukraine and the West, as the news reports it: "
           "events, places and stances, each with its evidence.")

build_dir = build_dir_from_env()  # never from the URL: a shared link must not choose paths
if not (build_dir / "articles.parquet").is_file():
    with st.spinner(f"Building the tables from {SAMPLE_INPUT} (first run)…"):
        ensure_build(SAMPLE_INPUT, build_dir)
tables = load_tables(str(build_dir))
cols = st.columns(5)
for col, name in zip(cols, ("articles", "places", "events", "stances", "quarantine"), strict=False):
    col.metric(name.capitalize(), len(tables[name]))
for name in ("events", "places", "articles", "quarantine"):
    st.subheader(name.capitalize())
    df = tables[name].drop(columns=["text", "stripped"], errors="ignore")
    st.dataframe(df, hide_index=True, width="stretch")
