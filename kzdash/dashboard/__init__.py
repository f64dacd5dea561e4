"""The dashboard's data, without Streamlit: loading a build (`appdata`, `dataset`), filters as
URL state (`filters`), page queries (`queries`, `textsearch`, `vocab`), chart specs (`charts`),
escaped HTML (`markup`, `reader`), exports, briefing views, the access gate's checks (`access`)
and upload validation (`upload`). Everything here is testable without a running app.

May import: `kzdash.pipeline`, `kzdash.extract`, `kzdash.text`. Never streamlit: the Streamlit
frame is `kzdash.ui`, and the pages are `app.py` and `pages/`.
"""
