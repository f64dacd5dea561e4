"""Articles: a reader with places, actors and dates marked in the text (right to left where the
language is), the article's metadata, and the rows extracted from it. Text is escaped, never HTML."""

from __future__ import annotations

import streamlit as st

from kzdash.environment import dashboard_import_guard

with dashboard_import_guard():  # a broken install names its package (page opened by its own URL)
    from kzdash import ui
    from kzdash.dashboard import markup, queries, reader
    from kzdash.dashboard.dataset import count

ds, f = ui.page()
st.title("Articles")
ui.filter_caption(f)

PICKABLE = 500  # the newest articles offered in the picker; filters narrow the rest


def _listing() -> tuple:
    """The articles table and the picker's titles for one filter state (remembered: shared by sessions)."""
    listing = queries.articles_list(ds, f)
    titles = {r["article_id"]: f"{markup.day(r['published']) or 'undated'} · {r['outlet']} · "
                              f"{r['title'] if isinstance(r['title'], str) else r['source']}"
              for r in listing.head(PICKABLE).to_dict("records")}
    return ui.arrow(listing[["published", "outlet", "language", "title", "events", "stances", "places"]]), titles


table, titles = ds.remember(("articles-listing", f), _listing)
total = count(ds, "articles", f)
if not table.num_rows and not f.article:
    st.info("No articles under these filters.")
    st.stop()
with st.expander(f"{total} articles under these filters", expanded=False):
    st.dataframe(table, hide_index=True, width="stretch")
    if total > PICKABLE:
        st.caption(f"The picker offers the newest {PICKABLE}; narrow the filters to reach the others.")
chosen = ui.bound_select("article", "Article", list(titles), f, fmt=lambda a: titles.get(a, a))
art = ds.remember(("reader", chosen), lambda: reader.article(ds, chosen))  # shared, read-only: its marks cost a re-read
if art is None:
    st.warning("That article is not in this build.")
    st.stop()

meta, text = st.columns([1, 3], gap="large")
with meta:
    st.markdown("**About this article**")
    rows = [(k, v) for k, v in art.meta.items() if v is not None]
    ui.html("".join(f'<div class="kz-meta"><b>{markup.esc(k)}</b>: {markup.esc(v)}</div>' for k, v in rows))
    ui.html(markup.reader_legend())
    st.caption(f"{len(art.places)} place mentions · {len(art.events)} events · {len(art.stances)} stances")
with text:
    if art.meta.get("title"):
        ui.html(f'<h3 dir="{art.direction}">{markup.esc(art.meta["title"])}</h3>')
    ui.html(markup.reader(art.segments, art.direction, art.meta.get("language")))

st.subheader("Extracted from this article")
tabs = st.tabs(["Events", "Stances", "Places"])
drop = ["art", "article_id", "outlet", "language", "row"]
days = {c: st.column_config.DateColumn(c) for c in ("date", "published")}
for tab, kind, rows in zip(tabs, ("events", "stances", "places"), (art.events, art.stances, art.places), strict=True):
    shown = ds.remember(("reader-rows", chosen, kind),  # "why": the rule that made each row
                        lambda kind=kind, rows=rows: ui.arrow(reader.with_why(kind, rows).drop(columns=drop,
                                                                                                errors="ignore")))
    picked = tab.dataframe(shown, hide_index=True, width="stretch", column_config=days, key=f"rows_{kind}",
                           on_select="rerun", selection_mode="single-row")
    chosen_rows = picked.selection.rows if picked else []
    if chosen_rows and chosen_rows[0] < len(rows):
        with tab:
            ui.review_control(ds, kind[:-1], rows.iloc[chosen_rows[0]].to_dict())
    elif ui.review_permission().admitted:
        tab.caption("Select a row to review it.")
with st.expander("The engine's full trail for this article (as `kzdash explain` prints it)"):
    st.caption("Per sentence: places, actors, dates, issue triggers, verdicts, negations, holder candidates, "
               "and why each stance was or was not made. Runs the extraction again (a few seconds).")
    if st.button("Show the trail", key="kz-trail"):
        with st.spinner("Extracting…"):
            st.code(reader.engine_trail(art), language=None, wrap_lines=True)
