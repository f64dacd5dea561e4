"""Data: what was built and when, the inputs set aside with the reason, downloads of the filtered
tables (CSV, Parquet, GeoJSON for places and events), and adding articles from the browser (not in
read-only mode): bad files are set aside with their reason, the rest is built in, and a failed
build leaves the last good one in place. In hosted mode: the access log's last entries."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kzdash.environment import dashboard_import_guard

with dashboard_import_guard():  # a broken install names its package (page opened by its own URL)
    from kzdash import ui
    from kzdash.dashboard import exports, upload
    from kzdash.dashboard.appdata import build_dir_from_env, seed_workspace, upload_input
    from kzdash.dashboard.dataset import count, filtered

NOTES = "add_articles_notes"

ds, f = ui.page()
st.title("Data")
ui.filter_caption(f)

st.subheader("Build")
info = ds.info
with st.container(horizontal=True):  # one block for the row of counts, not a column each
    for name in ("articles", "places", "events", "stances", "quarantine"):
        st.metric(name.capitalize(), len(ds.table(name)))
st.caption(f"Built {info.get('built_at', 'at an unknown time')} from {info.get('input', 'an unknown folder')}"
           f" · code and data fingerprint {info.get('fingerprint', '—')}")

target = upload_input(ds.info)
rejected = upload.rejections(target) if target is not None else []
st.subheader("Set aside (quarantine)")
if ds.quarantine.empty and not rejected:
    st.caption("Nothing was set aside: every input was read.")
if not ds.quarantine.empty:
    st.dataframe(ds.quarantine, hide_index=True, width="stretch")
if rejected:
    st.caption("Files refused at upload (never stored or built):")
    st.dataframe(pd.DataFrame([{"source": q.source, "reason": q.reason} for q in rejected]), hide_index=True,
                 width="stretch", key="refused")

st.subheader("Add articles")
if not ui.access_settings().can_build:
    st.caption("This link is read-only: articles cannot be added and nothing can be rebuilt from the browser.")
elif target is None:
    st.caption("This build was made from a folder this server cannot write to; add articles there and rebuild.")
else:
    accepted = ", ".join(sorted(upload.ACCEPTED_EXT))
    with st.form("add_articles", clear_on_submit=True):
        files = st.file_uploader(f"Articles ({accepted}; at most {upload.MAX_FILE_BYTES // 1_000_000} MB each)",
                                 accept_multiple_files=True, key="uploads")
        send = st.form_submit_button("Add and rebuild", icon=":material/upload:")
    if send and files:
        seed_workspace(target)
        report = upload.save_uploads([upload.Upload(u.name, u.getvalue()) for u in files], target)
        notes = [("warning", f"Set aside {q.source}: {q.reason}") for q in report.rejected]
        if report.already_there:
            notes.append(("info", f"{len(report.already_there)} file(s) were added before: kept once."))
        if report.accepted:
            bar = st.progress(0.0, text="Rebuilding…")
            result = upload.rebuild(target, build_dir_from_env(),
                                    progress=lambda done, total: bar.progress(done / max(total, 1),
                                                                              text=f"Rebuilding: {done} of {total}"))
            notes.append(("success", f"Added {len(report.accepted)} file(s). {result.message}") if result.ok
                         else ("error", result.message))
        st.session_state[NOTES] = notes
        st.rerun()  # the page again, over the new tables, with what happened
    for kind, text in st.session_state.get(NOTES, []):
        getattr(st, kind)(text)

st.subheader("Download the filtered tables")
st.caption("Rows under the current filters; article bodies are left out of the per-row files.")
for name in ("events", "places", "stances", "articles"):
    c = st.container(horizontal=True, vertical_alignment="center")  # one block a row, not four columns
    c.markdown(f"**{name.capitalize()}** · {count(ds, name, f)} rows", width=220)
    # The files are made when a button is pressed (deferred), not on every filter change.
    c.download_button("CSV", lambda name=name: exports.csv_bytes(filtered(ds, name, f)),
                      file_name=f"kzdash-{name}.csv", mime="text/csv", key=f"csv_{name}", on_click="ignore")
    c.download_button("Parquet", lambda name=name: exports.parquet_bytes(filtered(ds, name, f)),
                      file_name=f"kzdash-{name}.parquet", mime="application/octet-stream",
                      key=f"parquet_{name}", on_click="ignore")
    if name in ("events", "places"):
        c.download_button("GeoJSON", lambda name=name: exports.geojson_bytes(filtered(ds, name, f)),
                          file_name=f"kzdash-{name}.geojson", mime="application/geo+json",
                          key=f"geojson_{name}", on_click="ignore")

st.subheader("Reviews")
current = ds.current_reviews()
if current.empty:
    st.caption("No reviews yet: reviewers review a row with “Review a row” above each list of events, stances "
               "and places.")
else:
    st.caption(f"{len(current)} reviewed rows · " + " · ".join(
        f"{n} {s.replace('needs_look', 'need a look')}" for s, n in current["review"].value_counts().items()))
    st.markdown("**Rule precision on this corpus** · per rule that fired, how many of its rows reviewers "
                "confirmed, rejected or corrected: a rule with rejections points at the language-data entry to fix.")
    st.dataframe(ds.rule_precision(), hide_index=True, width="stretch", key="rule_precision",
                 column_config={"precision": st.column_config.NumberColumn(format="%.2f")})
    looks = current[current["status"] != "applies"]
    st.markdown(f"**Reviews that need a look** · {len(looks)}")
    if looks.empty:
        st.caption("Every review applies to its row as it was reviewed.")
    else:
        st.caption("needs_look: the row's evidence changed or its article was edited (the review is shown on the "
                   "nearest row of the same claim, not applied); gone: the article is no longer in the build.")
        st.dataframe(looks[["status", "kind", "review", "reviewer", "reviewed_at", "article_id", "source", "holder",
                            "issue", "polarity", "event_type", "date", "place_id", "note"]],
                     hide_index=True, width="stretch", key="review_looks")
st.download_button("Review log (CSV)", lambda: ds.review_log_csv(), file_name="kzdash-review-log.csv",
                   mime="text/csv", key="review_log", on_click="ignore",
                   help="Every action: who, when, the row, before, after, the note.")

if ui.access_settings().mode == "hosted":
    st.subheader("Access log")
    st.caption("The password gate's last entries, newest first: admissions, wrong passwords, refused tries "
               "(the address must wait or is locked out) and sessions asked again. Times in UTC; "
               "what was typed is never recorded.")
    entries = ui.access_log_entries(50)
    if entries:
        columns = ["time", "client", "outcome", "failures", "wait_s", "reason", "session"]
        st.dataframe(pd.DataFrame(entries).reindex(columns=columns), hide_index=True, width="stretch",
                     key="access_log")
    else:
        st.caption("No entries yet.")
