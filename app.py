"""kzdash: the dashboard over the built tables.

Lists the pages with `st.navigation` (Streamlit's own menu hidden), draws the shared frame (our
page links and the global filters in the sidebar, state in the URL), then runs the chosen page.
First run on a fresh checkout builds the bundled sample's tables into build/sample. A broken
install shows which package is missing and what to run, not a redacted ImportError.
"""

from __future__ import annotations

from kzdash.environment import dashboard_import_guard

with dashboard_import_guard():
    from kzdash import ui

    with ui.run_slot():  # a few runs at a time: see ui.run_slot
        page = ui.navigation()
        ui.frame()
        ui.mark_frame_drawn()
        page.run()
    ui.settle_heap_soon()  # once per process, after its first page is drawn
