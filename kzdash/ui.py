"""Streamlit helpers shared by app.py and the pages: the frame (page config, our navigation, the
global filters in the sidebar), the URL as the one place filter state lives, and safe HTML output.

Why a "frame" that a page can draw itself: app.py lists the pages with `st.navigation` and draws
the frame before running the page. But a server whose folder has a `pages/` directory starts in
Streamlit's old multipage mode, and the first visitor who opens a page's own URL gets that page
file run alone, without app.py. `page()` notices that app.py did not run and draws the same frame
itself, so every URL shows the same sidebar and filters (`client.showSidebarNavigation = false`
hides Streamlit's automatic page list in both modes; our own links replace it).
"""

from __future__ import annotations

import atexit
import io
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from kzdash.dashboard import access, reviews
from kzdash.dashboard.appdata import SAMPLE_INPUT, build_dir_from_env, ensure_build, has_build, reviews_path
from kzdash.dashboard.dataset import Dataset
from kzdash.dashboard.filters import Filters
from kzdash.dashboard.markup import PRESENTER_STYLE, STYLE, esc, review_badge
from kzdash.dashboard.queries import options, place_names
from kzdash.dashboard.vocab import POLARITIES, confidence_help, country_name, language_name, vocab

ROOT = Path(__file__).resolve().parent.parent
# (file stem = URL path, title, icon)
PAGES = [
    ("overview", "Overview", ":material/dashboard:"),
    ("map", "Map", ":material/map:"),
    ("timeline", "Timeline", ":material/timeline:"),
    ("stances", "Stances", ":material/balance:"),
    ("articles", "Articles", ":material/article:"),
    ("data", "Data", ":material/database:"),
    ("briefing", "Briefing", ":material/co_present:"),
]
_FRAME_DRAWN = "_kzdash_frame_drawn"  # set by app.py right before it runs the page


def navigation() -> StreamlitPage:
    """The app's pages, with Streamlit's own menu hidden (the sidebar draws ours)."""
    # No st.Page icons: a page's Material icon becomes the favicon, which the browser fetches from
    # fonts.gstatic.com; the app makes no outside request (the links below draw the icons from
    # Streamlit's bundled font).
    pages = [st.Page(ROOT / "pages" / f"{stem}.py", title=title, url_path=stem, default=stem == "overview")
             for stem, title, _ in PAGES]
    page = st.navigation(pages, position="hidden")
    _LINKS.pages = dict(zip([stem for stem, _, _ in PAGES], pages, strict=True))  # for page_link, this run
    return page


# The pages app.py registered in this run (a thread runs one script run at a time): a link made from
# the Page object skips resolving the file's real path on disk, which st.page_link does for a path.
_LINKS = threading.local()


def page_ref(stem: str):
    """What st.page_link should point at for a page: its Page object from this run's navigation, else
    (a page opened by its own URL on a fresh server, without app.py) its file."""
    pages = getattr(_LINKS, "pages", None) or {}
    return pages.get(stem) or str(ROOT / "pages" / f"{stem}.py")


def frame() -> tuple[Dataset, Filters]:
    """Page config, data, sidebar; returns what every page needs."""
    _THIS_RUN.__dict__.clear()  # a new run: nothing found out yet (a thread may serve a rerun after a rerun)
    _THIS_RUN.settings = None  # access_settings() keeps its answer for the rest of the run
    f = filters()
    _canonical_url(f)
    st.set_page_config(page_title="kzdash", page_icon=_favicon(), layout="wide",
                       initial_sidebar_state="collapsed" if f.present else "expanded")
    st.html(STYLE)
    gate()  # a hosted link shows nothing before the password or login
    ds = dataset()
    ds.sync_reviews()  # another server process may have saved reviews since this one applied them
    _handle_review_request(ds)  # before anything is counted: the page shows the reviews just saved
    _THIS_RUN.may_review = review_permission().admitted  # what the cards show; a save asks afresh
    sidebar(ds, f)
    _THIS_RUN.frame = (ds, f)  # the page asks for them again: page()
    return ds, f


# One script run of a session runs in that session's own thread, start to end: what frame() found
# out for this run (the settings, whether it may review, its dataset and filters) is kept here, so
# that the page and its lists do not ask again.
_THIS_RUN = threading.local()


_UNLOCKED = "kzdash_unlocked"
_PASSWORD = "kzdash_password"
_ADMITTED_AT = "kzdash_admitted_at"
_LAST_SEEN = "kzdash_last_seen"
_NOTE = "kzdash_gate_note"  # (kind, text) for the password box: a wrong password, a wait, an expiry
_TAG = "kzdash_session_tag"
_clock: Callable[[], float] = time.time  # the gate's clock; tests move it
_SHARED: dict[tuple, Any] = {}  # the process-wide limiter and audit logs, one per setting
_SHARED_LOCK = threading.Lock()
_log = logging.getLogger(__name__)
_proxy_warned = False


def access_settings() -> access.Access:
    """This server's access settings (environment and secrets.toml).

    The secrets are read again only when a secrets file changes: Streamlit parses them on every
    access, which under 50 sessions took an eighth of the server's time (a settings check runs on
    every rerun and every review control). Within a script run the answer of its first call is kept
    (frame() starts each run afresh)."""
    known = getattr(_THIS_RUN, "settings", None)
    if known is not None:
        return known
    stamp = tuple(_file_stamp(Path(p)) for p in _secrets_files())
    source = st.secrets  # replaced, not changed, by tests that inject secrets: kept below, compared by identity
    with _SHARED_LOCK:
        cached = _SECRETS_READ.get("secrets")
    if cached is None or cached[0] is not source or cached[1] != stamp:
        cached = (source, stamp, access.read_secrets(lambda: source.to_dict()))
        with _SHARED_LOCK:
            _SECRETS_READ["secrets"] = cached
    settings = access.settings(os.environ, cached[2])
    if hasattr(_THIS_RUN, "settings"):  # inside a run frame() started
        _THIS_RUN.settings = settings
    return settings


_SECRETS_READ: dict[str, tuple] = {}


@lru_cache(maxsize=1)
def _secrets_files() -> tuple[str, ...]:
    """Where Streamlit looks for secrets (its config is read once, at start; a lookup costs tens of µs)."""
    return tuple(st.get_option("secrets.files") or ())


def _file_stamp(path: Path) -> tuple[str, float, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return str(path), info.st_mtime, info.st_size


def _shared(key: tuple, make: Callable[[], Any]) -> Any:
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = make()
        return _SHARED[key]


def _limiter(settings: access.Access) -> access.Limiter:
    """One limiter per server process: it holds across sessions (a new tab does not reset the count)."""
    return _shared(("limiter", settings.limits), lambda: access.Limiter(settings.limits))


def audit_log(settings: access.Access) -> access.AuditLog:
    """The access log of this server (beside the build folder unless `audit_log` says where)."""
    path = access.audit_path(settings, build_dir_from_env())
    return _shared(("audit", str(path), settings.audit_max_bytes),
                   lambda: access.AuditLog(path, settings.audit_max_bytes))


def _request_origin() -> tuple[str | None, list[str]]:
    """The connection's address (None on localhost) and the X-Forwarded-For header values."""
    return st.context.ip_address, st.context.headers.get_all("X-Forwarded-For")


def client(settings: access.Access) -> str:
    """Whom a failure counts against (kzdash.dashboard.access.client_key)."""
    global _proxy_warned
    peer, forwarded = _request_origin()
    if forwarded and not settings.trust_proxy and not _proxy_warned:
        _proxy_warned = True
        _log.warning("kzdash: requests arrive with X-Forwarded-For but trust_proxy is off: unless the proxy is "
                     "on this machine, attempt limits count its address for every client (see README, Hosting)")
    return access.client_key(peer, forwarded, proxies=settings.trust_proxy)


def _session_tag() -> str:
    """A random tag per browser session, so the log tells tabs from one address apart."""
    if _TAG not in st.session_state:
        st.session_state[_TAG] = secrets.token_hex(4)
    return st.session_state[_TAG]


def _audit(settings: access.Access, entry: dict) -> None:
    """Append to the access log; a log that cannot be written is reported on the server, never to the page."""
    try:
        audit_log(settings).write(entry)
    except OSError as exc:
        _log.warning("kzdash: access log not written: %s", exc)


def _check_password() -> None:
    """On entering a password: count it against this client, admit or say why not; the box empties."""
    given = st.session_state.get(_PASSWORD) or ""
    st.session_state[_PASSWORD] = ""  # the password is kept nowhere, and the same one can be entered again
    settings = access_settings()
    if not given or settings.gate != "password" or settings.problem:
        return
    now, who = _clock(), client(settings)
    result = _limiter(settings).attempt(who, now, lambda: access.password_matches(given, settings.password))
    _audit(settings, access.audit_entry(now, who, result, session=_session_tag()))
    admitted = result.outcome == "admitted"
    st.session_state[_UNLOCKED] = admitted
    if admitted:
        st.session_state[_ADMITTED_AT] = st.session_state[_LAST_SEEN] = now
        st.session_state.pop(_NOTE, None)
    else:
        st.session_state[_NOTE] = ("error", result.message)


def _still_admitted(settings: access.Access) -> bool:
    """An admitted session stays admitted until idle or too old (then it is asked again)."""
    if not st.session_state.get(_UNLOCKED):
        return False
    now = _clock()
    admitted_at = st.session_state.setdefault(_ADMITTED_AT, now)
    why = access.expired(admitted_at, st.session_state.get(_LAST_SEEN, now), now, idle=settings.idle,
                         max_age=settings.max_age)
    if why:
        st.session_state[_UNLOCKED] = False
        st.session_state.pop(_REVIEWER_UNLOCKED, None)  # a reviewer is asked again with the viewer password
        st.session_state[_NOTE] = ("info", access.expiry_message(why, settings))
        _audit(settings, access.audit_entry(now, client(settings), None, session=_session_tag(), outcome="expired",
                                            note=why))
        return False
    st.session_state[_LAST_SEEN] = now
    return True


def gate() -> None:
    """Stop the run here unless this session may see data (kzdash.dashboard.access decides; off locally)."""
    settings = access_settings()
    password_gate = settings.gate == "password" and not settings.problem
    logged_in = settings.gate == "oidc" and bool(getattr(st.user, "is_logged_in", False))
    unlocked = _still_admitted(settings) if password_gate else False
    decision = access.decide(settings, unlocked=unlocked, logged_in=logged_in)
    if decision.admitted:
        return
    st.title("kzdash")
    st.info(decision.reason)
    if password_gate:
        st.text_input("Password", type="password", key=_PASSWORD, on_change=_check_password)
        kind, text = st.session_state.get(_NOTE) or ("", "")
        if not text:  # a new tab from an address that must wait is told so before it tries
            pending = _limiter(settings).pending(client(settings), _clock())
            kind, text = ("error", pending.message) if pending else ("", "")
        if text:
            getattr(st, kind)(text)  # our own sentences with numbers only: nothing the visitor typed or sent
    elif settings.gate == "oidc" and not settings.problem:
        st.button("Log in", on_click=st.login)
    st.stop()


def access_log_entries(n: int = 50) -> list[dict]:
    """The last `n` access-log entries, newest first (for the Data page in hosted mode)."""
    try:
        return audit_log(access_settings()).tail(n)[::-1]
    except OSError:
        return []


@lru_cache(maxsize=1)
def _favicon():
    """A drawn favicon (an emoji or Material icon would be fetched from a CDN)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.ellipse((4, 4, 60, 60), fill=(38, 39, 48, 255))
    draw.ellipse((18, 18, 46, 46), outline=(253, 230, 138, 255), width=5)
    png = io.BytesIO()
    img.save(png, format="PNG")
    return png.getvalue()  # PNG bytes: Streamlit would encode an image object again on every rerun


def run_slots(setting: str | None) -> threading.BoundedSemaphore | None:
    """The server's run slots from KZDASH_RUN_SLOTS: 2 when unset or not a number, none (no limit) for 0."""
    try:
        slots = int(setting) if setting not in (None, "") else 2
    except ValueError:
        _log.warning("KZDASH_RUN_SLOTS=%r is not a number: 2 run slots", setting)
        slots = 2
    return threading.BoundedSemaphore(slots) if slots > 0 else None


# How many script runs of this server go on at once; the others wait their turn (see run_slot).
_RUN_SLOTS = run_slots(os.environ.get("KZDASH_RUN_SLOTS"))


def run_slot() -> AbstractContextManager:
    """Hold one of the server's run slots for a whole script run.

    Every session's run is a thread of one Python process, and every message a run draws is sent by
    the one event-loop thread. With fifty runs at once, each holds the GIL a fraction of the time and
    the event loop gets one turn in fifty-one: every page is late, and late pages pile up. A few runs
    at a time (and the rest waiting, without asking for the GIL) finish in arrival order and leave
    the event loop its share. A run waiting for DuckDB or the disk releases the GIL, so two slots keep
    both cores busy. KZDASH_RUN_SLOTS=0 turns the limit off."""
    return _RUN_SLOTS or nullcontext()


def mark_frame_drawn() -> None:
    st.session_state[_FRAME_DRAWN] = True


def page() -> tuple[Dataset, Filters]:
    """Called first by every page: the frame app.py drew, or the frame drawn here when app.py did not run."""
    if not st.session_state.pop(_FRAME_DRAWN, False):
        _LINKS.pages = None  # no navigation in this run: links by file
        return frame()
    drawn = getattr(_THIS_RUN, "frame", None)  # app.py drew the frame (and tidied the URL) in this run
    return drawn if drawn is not None else (dataset(), filters())


@st.cache_resource(show_spinner=False, max_entries=2)  # a rebuild's dataset replaces the previous one
def _load(build_dir: str, stamp: float, review_store: str) -> Dataset:
    ds = Dataset.open(build_dir, reviews=review_store)
    ds.warm()  # word indexes for the text search, built in the background (seconds at a million rows)
    return ds


_HEAP_SETTLED = False
_HEAP_LOCK = threading.Lock()


def settle_heap_soon() -> None:
    """After a run has drawn its page: settle the heap (below) in a thread of its own, once per process.

    Loading every page's modules (altair and pydeck among them) and the first full collection take
    about a second; done in the first run, they held up the first page a visitor of a fresh server
    sees, which needs none of them."""
    global _HEAP_SETTLED
    with _HEAP_LOCK:
        if _HEAP_SETTLED:
            return
        _HEAP_SETTLED = True
    threading.Thread(target=_settle_heap, name="kzdash-settle-heap", daemon=True).start()


def _settle_heap() -> None:
    """Keep Python's cyclic garbage collector off what lives as long as the server (once per process).

    Every script run makes short-lived objects, so the collector runs all the time, and each of its
    full passes walks everything loaded (pandas, altair, pyarrow, the tables: ~0.3 s holding the GIL,
    which every session waits for). Measured under bench/load_test.py (50 sessions, 30 s): about a
    quarter of the server's time went to collections, ten full ones of 0.2-0.5 s. Here the modules the
    pages use are loaded, what exists is frozen out of collection (gc.freeze), and young objects are
    collected in larger batches: most die by reference counting before a pass looks at them.
    Reference counting still frees everything at once; cycles are still collected, less often."""
    import gc

    import kzdash.dashboard.analysis
    import kzdash.dashboard.briefing
    import kzdash.dashboard.charts
    import kzdash.dashboard.exports
    import kzdash.dashboard.reader
    import kzdash.dashboard.upload  # noqa: F401 - loaded before the freeze, not after it

    gc.collect()
    gc.freeze()
    atexit.register(gc.unfreeze)  # at exit everything is collectable again (extension modules check)
    gc.set_threshold(50_000, 20, 100)


def dataset() -> Dataset:
    """The build the app shows ($KZDASH_BUILD, never the URL), built from the bundled sample on first run."""
    build_dir = build_dir_from_env()
    if not has_build(build_dir):
        with st.status(f"First run: building the tables from {SAMPLE_INPUT.name}/ …", expanded=True) as status:
            st.write("Reading, geocoding and dating the bundled sample articles (about 10 s).")
            ensure_build(SAMPLE_INPUT, build_dir)
            status.update(label="Tables built", state="complete", expanded=False)
    stamp = (build_dir / "build.json").stat().st_mtime if (build_dir / "build.json").is_file() else 0.0
    return _load(str(build_dir), stamp, str(reviews_path(build_dir)))


def filters() -> Filters:
    """The filter state in the address bar (the one place it lives)."""
    return Filters.from_query_params({k: st.query_params.get_all(k) for k in st.query_params})


def _canonical_url(f: Filters) -> None:
    """Rewrite the address bar to what the filters kept (junk dropped, one spelling), so it stays a true share link."""
    want = {k: [v] if isinstance(v, str) else list(v) for k, v in f.to_query_params().items()}
    have = {k: st.query_params.get_all(k) for k in st.query_params}
    if want != have:
        st.query_params.from_dict(f.to_query_params())


def update(**changes: object) -> Filters:
    """Write changed filters to the address bar; the share link follows every change."""
    f = filters().replace(**changes)
    st.query_params.from_dict(f.to_query_params())
    return f


def show(f: Filters) -> None:
    """Replace the whole state (a briefing view, the reset button)."""
    st.query_params.from_dict(f.to_query_params())


# --- the sidebar -------------------------------------------------------------------------------

_LIST_WIDGETS = [  # field, label, option key, label function
    ("outlets", "Outlets", "outlets", str),
    ("languages", "Languages", "languages", lambda c: f"{language_name(c)} ({c})"),
    ("actors", "Actors", "actors", lambda c: f"{vocab().actor(c)} ({c})"),
    ("issues", "Issues", "issues", lambda c: vocab().issue(c)),
    ("event_types", "Event types", "event_types", lambda c: c.capitalize() if c != "OTHER" else "other (untyped)"),
    ("countries", "Countries", "countries", lambda c: f"{country_name(c)} ({c})"),
]


def _widget_key(field: str) -> str:
    return f"flt_{field}"


def _sync(key: str, value: object) -> None:
    """Make a widget show the URL's value (the URL may have changed by a link, a view, or back)."""
    if st.session_state.get(key, object()) != value:
        st.session_state[key] = value


def _from_widget(field: str, convert=lambda v: v) -> None:
    update(**{field: convert(st.session_state[_widget_key(field)])})


def sidebar(ds: Dataset, f: Filters) -> None:
    opts = options(ds)
    names = place_names(ds)
    with st.sidebar:
        st.markdown("### kzdash\n:small[Kazakhstan between Russia, Ukraine and the West, as the news reports it.]")
        link_params = f.to_query_params()
        for stem, title, icon in PAGES:
            st.page_link(page_ref(stem), label=title, icon=icon, query_params=link_params)
        st.markdown("---\n**Filters** · shared by every page")  # rule and heading as one element
        for field, label in (("start", "Event date from"), ("end", "Event date to")):
            _sync(_widget_key(field), getattr(f, field))
            st.date_input(label, value=None, key=_widget_key(field), format="YYYY-MM-DD",
                           min_value=date(1900, 1, 1), max_value=date(2100, 12, 31),
                           on_change=partial(_from_widget, field))
        _sync(_widget_key("text"), f.text)
        st.text_input("Search text", key=_widget_key("text"), placeholder="a word in any language",
                      on_change=partial(_from_widget, "text", lambda v: (v or "").strip()[:200]),
                      help="Every word must occur (inside a word too) in the summary, evidence or place name.")
        for field, label, opt_key, fmt in _LIST_WIDGETS:
            current = list(getattr(f, field))
            choices = opts[opt_key] + [v for v in current if v not in opts[opt_key]]
            _sync(_widget_key(field), current)
            st.multiselect(label, choices, key=_widget_key(field), format_func=fmt,
                           on_change=partial(_from_widget, field, tuple))
        place_choices = opts["places"] + [p for p in f.places if p not in opts["places"]]
        _sync(_widget_key("places"), list(f.places))
        st.multiselect("Places", place_choices, key=_widget_key("places"),
                       format_func=lambda p: names.get(p, p), on_change=partial(_from_widget, "places", tuple))
        _sync(_widget_key("background"), not f.background)
        st.toggle("Hide background mentions", key=_widget_key("background"),
                  help="Past events an article recalls (e.g. 2014 in a 2022 report).",
                  on_change=partial(_from_widget, "background", lambda v: not v))
        _sync(_widget_key("confident"), f.confident)
        st.toggle("Confident rows only", key=_widget_key("confident"), help=confidence_help(),
                  on_change=partial(_from_widget, "confident", bool))
        _sync(_widget_key("rejected"), not f.rejected)
        st.toggle("Hide rejected rows", key=_widget_key("rejected"),
                  help="Rows a reviewer rejected are left out of every page, count and export.",
                  on_change=partial(_from_widget, "rejected", lambda v: not v))
        _sync(_widget_key("reviewed"), f.reviewed)
        st.toggle("Reviewed rows only", key=_widget_key("reviewed"),
                  help="Only rows a reviewer confirmed, rejected or corrected, or whose review needs a look.",
                  on_change=partial(_from_widget, "reviewed", bool))
        st.button("Reset filters", on_click=lambda: show(filters().reset()), icon=":material/restart_alt:",
                  disabled=not f.active())
        review_sidebar()
        info = ds.info
        build = f"\n\nBuild {str(info.get('built_at', ''))[:16]} · {len(ds.articles)} articles" if info else ""
        st.caption("The address bar is the share link: it reopens this view with these filters." + build)


# --- page widgets bound to the URL -------------------------------------------------------------

def bound_select(field: str, label: str, choices: list[str], f: Filters, fmt=str, *, radio: bool = False,
                 pills: bool = False, optional: bool = False, where=st, **kwargs) -> str:
    """A selectbox (or radio, or pills) whose value lives in the URL as `field` of the filters.

    `optional`: nothing chosen is a valid state (shown with a placeholder), stored as "".
    """
    current = getattr(f, field)
    if current and current not in choices:
        choices = [current, *choices]
    key = f"view_{field}"
    if current:
        _sync(key, current)
    elif optional:
        _sync(key, None)
    elif choices:
        _sync(key, choices[0])

    def changed() -> None:
        update(**{field: st.session_state[key] or ""})

    if pills:
        value = where.pills(label, choices, key=key, format_func=fmt, on_change=changed, selection_mode="single",
                            **kwargs)
    else:
        widget = where.radio if radio else where.selectbox
        value = widget(label, choices, key=key, format_func=fmt, on_change=changed, **kwargs)
    return value or ""


COUNTRIES_FILE = ROOT / "static" / "countries.geojson"  # served by Streamlit (server.enableStaticServing)
COUNTRIES_URL = "app/static/countries.geojson"


@st.cache_resource(show_spinner="Preparing country outlines (first map only)…")
def countries() -> dict:
    """Natural Earth outlines, simplified once and written where the app's own server serves them."""
    from kzdash.dashboard.charts import write_countries

    return write_countries(COUNTRIES_FILE)


def bound_toggle(field: str, label: str, f: Filters, where=st, **kwargs) -> bool:
    """A toggle whose value lives in the URL as the boolean `field` of the filters."""
    key = f"view_{field}"
    _sync(key, bool(getattr(f, field)))
    return where.toggle(label, key=key, on_change=lambda: update(**{field: bool(st.session_state[key])}), **kwargs)


def html(markup: str) -> None:
    """Our escaped markup (see kzdash.dashboard.markup) into the page, without Markdown processing."""
    st.html(markup)


def presenter_style() -> None:
    st.html(PRESENTER_STYLE)


def filter_caption(f: Filters) -> None:
    """One line saying which filters shape what is shown."""
    active = f.active()
    text = " · ".join(f"{k}: {v}" for k, v in active) if active else "no filters: everything in the build"
    html(f'<div class="kz-meta">Filters — {esc(text)}</div>')  # values come from the URL: escaped


# --- charts remembered across sessions ---------------------------------------------------------


def vega_chart(ds: Dataset, key: tuple, make_chart, **kwargs):
    """`st.altair_chart` for a chart remembered by `key` (the filters and settings it was made from):
    the chart is built once per state and shared by every session (see Dataset.remember)."""
    from kzdash.dashboard.charts import vega_spec  # altair is loaded by the pages that draw charts, not by every page

    spec = ds.remember(("vega", *key), lambda: _arrow_datasets(vega_spec(make_chart())))
    return st.vega_lite_chart(spec=dict(spec), **kwargs)  # Streamlit edits the top level only


def _arrow_datasets(spec: dict) -> dict:
    """The spec with its named datasets as Arrow IPC bytes, the form Streamlit sends them in.

    Streamlit converts each dataset (a list of records) to Arrow on every call, and takes bytes as
    they are: converted once here, a remembered chart costs every later rerun only its JSON."""
    from streamlit.dataframe_util import convert_anything_to_arrow_bytes

    datasets = spec.get("datasets")
    if not isinstance(datasets, dict):
        return spec
    return {**spec, "datasets": {name: convert_anything_to_arrow_bytes(values) if isinstance(values, list) else values
                                 for name, values in datasets.items()}}


def arrow(frame):
    """A table as Arrow, the form Streamlit sends: converted once when remembered (see `table`)."""
    from streamlit.dataframe_util import convert_pandas_df_to_arrow_table

    return convert_pandas_df_to_arrow_table(frame.reset_index(drop=True))


def table(ds: Dataset, key: tuple, make_frame, **kwargs):
    """`st.dataframe` for a table remembered by `key` (the filters and settings it was made from): the
    pandas work that shapes it and the conversion to Arrow Streamlit would do on every rerun happen once
    per state, shared by every session. `make_frame` returns the pandas DataFrame to show."""
    return st.dataframe(ds.remember(("table", *key), lambda: arrow(make_frame())), **kwargs)


def deck_chart(ds: Dataset, key: tuple, make_deck, **kwargs):
    """`st.pydeck_chart` for a map remembered by `key`: its JSON is written once per state."""
    return st.pydeck_chart(ds.remember(("deck", *key), make_deck), **kwargs)


# --- reviews: confirm, reject, correct, undo ---------------------------------------------------
#
# A review button's callback only files a request in the session; `frame()` handles it at the start
# of the next run, after the gate, and asks `access.may_review` itself: a request that did not come
# from a rendered control (a forged session value, a widget message for a control never shown) is
# refused the same way. The dataset applies the saved reviews for every session.

_REVIEW_REQUEST = "kzdash_review_request"  # {"kind", "rows", "action", "correction", "note"}
_REVIEW_DONE = "kzdash_review_done"  # (level, text, undo request or None): the sidebar says what happened
_REVIEWER_UNLOCKED = "kzdash_reviewer_unlocked"
_REVIEWER_PASSWORD = "kzdash_reviewer_password"
_REVIEWER_NAME = "kzdash_reviewer_name"
_REVIEWER_NOTE = "kzdash_reviewer_gate_note"
REVIEW_CLIENT = "review:"  # the limiter counts reviewer-password failures apart from the viewer password's
MAX_ROWS_PER_REQUEST = 100  # a card may stand for a few rows (one sentence giving one stance twice)
DONE_WORDS = {"confirm": "Confirmed", "reject": "Rejected", "correct": "Corrected", "undo": "Undid the last review of"}


def _email() -> str | None:
    """The OIDC login's email, when this session is logged in."""
    settings = access_settings()
    if settings.gate != "oidc" and not settings.reviewers:  # no login in play: st.user would parse the
        return None  # secrets file for its auth section, on every run of every session
    try:
        if getattr(st.user, "is_logged_in", False):
            email = st.user.get("email")
            return str(email) if email else None
    except Exception:  # noqa: BLE001 - no auth configured: nobody is logged in
        return None
    return None


def review_permission() -> access.Decision:
    """Whether this session may review now (kzdash.dashboard.access.may_review), asked afresh each time."""
    settings = access_settings()
    logged_in = settings.gate == "oidc" and bool(getattr(st.user, "is_logged_in", False))
    admitted = access.decide(settings, unlocked=bool(st.session_state.get(_UNLOCKED)), logged_in=logged_in).admitted
    email = _email()
    return access.may_review(settings, admitted=admitted,
                             reviewer_unlocked=st.session_state.get(_REVIEWER_UNLOCKED) is True, email=email)


def reviewer_name() -> str:
    """Who is reviewing: the login's email, else the name typed in the sidebar, else the local user."""
    email = _email()
    if email:
        return email
    typed = str(st.session_state.get(_REVIEWER_NAME) or "").strip()
    if typed:
        return typed
    if access_settings().mode == "hosted":
        return "reviewer"
    import getpass

    try:
        return getpass.getuser() or "local user"
    except (KeyError, OSError):
        return "local user"


def _handle_review_request(ds: Dataset) -> None:
    """Save the review a control asked for in the previous interaction, if this session may review."""
    request = st.session_state.pop(_REVIEW_REQUEST, None)
    if request is None:
        return
    decision = review_permission()
    if not decision.admitted:
        st.session_state[_REVIEW_DONE] = ("error", f"Not saved. {decision.reason}", None)
        _log.warning("kzdash: a review request from a session that may not review was refused")
        return
    try:
        kind, action = str(request["kind"]), str(request["action"])
        rows = [int(r) for r in request["rows"]][:MAX_ROWS_PER_REQUEST]
        correction = request.get("correction") if action == "correct" else None
        note = request.get("note") or None
        if kind not in reviews.KINDS or action not in reviews.ACTIONS or not rows:
            raise reviews.ReviewError("not a review")
        who = reviewer_name()
        for row in rows:
            ds.save_review(kind, row, action, reviewer=who, correction=correction, note=note)
    except (reviews.ReviewError, KeyError, TypeError, ValueError) as exc:
        st.session_state[_REVIEW_DONE] = ("error", f"Not saved: {exc}", None)
        return
    n = f"{len(rows)} {kind}s" if len(rows) > 1 else f"the {kind}"
    undo = None if action == "undo" else {"kind": kind, "rows": rows, "action": "undo"}
    st.session_state[_REVIEW_DONE] = ("success", f"{DONE_WORDS[action]} {n}.", undo)


def _request(kind: str, rows: list[int], action: str, key: str, current: dict | None = None) -> None:
    """A review control's callback: file the request (frame() checks and saves it)."""
    correction = _correction(kind, key, current or {}) if action == "correct" else None
    if action == "correct" and not correction:
        st.session_state[_REVIEW_DONE] = ("error", "Nothing to correct: the values were not changed.", None)
        return
    st.session_state[_REVIEW_REQUEST] = {"kind": kind, "rows": list(rows), "action": action,
                                         "correction": correction,
                                         "note": str(st.session_state.get(f"{key}_note") or "")}


def _redo(request: dict) -> None:
    st.session_state[_REVIEW_REQUEST] = dict(request)


def _correction(kind: str, key: str, current: dict) -> dict:
    """The fields of the correction form that differ from what the row shows."""
    out = {}
    for field in reviews.CORRECTABLE[kind]:
        if f"{key}_{field}" not in st.session_state:
            continue
        value = st.session_state[f"{key}_{field}"]
        value = value.strip() if isinstance(value, str) else value
        if field == "place_id" and value == "":
            value = None
        if value != current.get(field):
            out[field] = value
    if "date" in out or "date_precision" in out:  # a date is read at its precision: send both
        out.setdefault("date", current.get("date"))
        out.setdefault("date_precision", current.get("date_precision"))
    return out


def _plain(value: object) -> object:
    return None if not isinstance(value, str | list) and reviews._missing(value) else value


def _may_review_now() -> bool:
    """What frame() found for this run (a save asks afresh), else asked now."""
    known = getattr(_THIS_RUN, "may_review", None)
    return known if known is not None else review_permission().admitted


def review_list(ds: Dataset, kind: str, key: str, state: tuple, make_items) -> None:
    """A list of event, stance or place cards drawn as one block of our escaped markup, each card with
    its current review label, and for a reviewer one "Review a row" button above the list that picks a
    row and offers confirm, reject, correct and undo (with a note).

    One element per list instead of a few per card: a rerun's cost grows with the elements it sends.
    `make_items()` returns (row, card markup, picker label) per card; `row` holds the fetched columns
    (`row`, `review`, `reviewed_by`, `review_note`, the correctable fields) and, when a card stands for
    several rows (one sentence giving one stance twice), `rows`: all of them. The cards are made once
    per `state` (what the list was made from: filters, settings) and shared by every session; a saved
    review starts a new dataset version, so they are made again."""
    made = ds.remember(("review-list", key, *state), lambda: _made_list(make_items()))
    if made is None:
        return
    rows, markup = made
    if rows and _may_review_now():  # above the list: the panel opens over the cards, not below the page's end
        _review_picker(ds, kind, rows, key)
    html(markup)


def _made_list(items: list[tuple[dict, str, str]]) -> tuple[dict[int, tuple[dict, str]], str] | None:
    """The picker's rows (row number -> row, label) and the list's markup; None for an empty list."""
    if not items:
        return None
    rows = {}
    for row, _, label in items:
        number = _plain(row.get("row"))
        if number is not None:
            rows[int(number)] = (row, label)
    return rows, "".join(card + review_badge(row.get("review"), row.get("reviewed_by"), row.get("review_note"))
                         for row, card, _ in items)


def _review_picker(ds: Dataset, kind: str, rows: dict[int, tuple[dict, str]], key: str) -> None:
    """The list's "Review a row" button; its panel (drawn only while open) picks a row and reviews it."""
    pop = st.popover("Review a row", key=f"kzr_{key}", on_change="rerun", type="tertiary",
                     icon=":material/rate_review:")
    if not pop.open:
        return
    pick = f"kzr_{key}_row"
    if st.session_state.get(pick) not in rows:  # its row left the list (rejected and hidden, filters changed)
        st.session_state.pop(pick, None)
    with pop:
        chosen = st.selectbox("Row", list(rows), key=pick, index=None, placeholder="choose the row to review",
                              format_func=lambda n: rows[n][1])
        if chosen is None:
            return
        row, _ = rows[chosen]
        badge = review_badge(row.get("review"), row.get("reviewed_by"), row.get("review_note"))
        if badge:
            st.html(badge)  # our escaped markup
        stands_for = row.get("rows")
        _review_form(ds, kind, row, [int(r) for r in (stands_for if stands_for is not None else [chosen])],
                     f"kzr_{kind}_{chosen}")


def snippet(text: object, n: int = 60) -> str:
    """The first words of a text for a picker's label (plain text there, never markup)."""
    words = " ".join(str(text).split()) if isinstance(text, str) else ""
    return words if len(words) <= n else words[:n].rsplit(" ", 1)[0] + "…"


def event_label(row: dict) -> str:
    """How the row picker names an event card: date, type, outlet, the start of its summary."""
    from kzdash.dashboard.markup import day

    return f"{day(row.get('date')) or 'undated'} · {row.get('event_type')} · {row.get('outlet')} · " \
           f"{snippet(row.get('summary') or row.get('evidence'))}"


def review_control(ds: Dataset, kind: str, row: dict, *, key: str = "") -> None:
    """One row's current review for everyone and, for a reviewer, a Review button (confirm, reject,
    correct, undo, with a note): for a row the reader picked (the Articles page's tables)."""
    badge = review_badge(row.get("review"), row.get("reviewed_by"), row.get("review_note"))
    number = _plain(row.get("row"))
    allowed = number is not None and _may_review_now()
    if not badge and not allowed:
        return
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        if badge:
            st.html(badge, width="content")  # our escaped markup (kzdash.dashboard.markup.review_badge)
        if allowed:
            status = _plain(row.get("review"))
            name = f"kzr_{key}{kind}_{int(number)}"
            pop = st.popover("Review" + (f" · {status}".replace("needs_look", "needs a look") if status else ""),
                             key=name, on_change="rerun", type="tertiary", icon=":material/rate_review:")
            if pop.open:
                with pop:
                    _review_form(ds, kind, row, [int(number)], name)


def _review_form(ds: Dataset, kind: str, row: dict, rows: list[int], key: str) -> None:
    """Note, confirm / reject / undo, and the correction form for one row (inside an open popover)."""
    from kzdash.dashboard.markup import day

    status = _plain(row.get("review"))
    current = {f: _plain(row.get(f)) for f in reviews.CORRECTABLE[kind]}
    if "date" in current:
        current["date"] = day(current["date"]) or None
    st.text_input("Note (optional)", key=f"{key}_note", max_chars=reviews.MAX_NOTE,
                  placeholder="why: it is text, shown as typed")
    with st.container(horizontal=True, gap="small"):
        st.button("Confirm", key=f"{key}_confirm", icon=":material/check:", on_click=_request,
                  args=(kind, rows, "confirm", key))
        st.button("Reject", key=f"{key}_reject", icon=":material/close:", on_click=_request,
                  args=(kind, rows, "reject", key))
        st.button("Undo", key=f"{key}_undo", icon=":material/undo:", disabled=status in (None, "needs_look"),
                  on_click=_request, args=(kind, rows, "undo", key))
    with st.form(f"{key}_form", border=False):
        st.caption("Correct")
        _correction_fields(ds, kind, key, current)
        st.form_submit_button("Save correction", icon=":material/edit:", on_click=_request,
                              args=(kind, rows, "correct", key, current))


def _select(label: str, choices: list, key: str, value: object, fmt=str) -> None:
    choices = list(choices)
    if value not in choices:
        choices = [value, *choices]
    st.selectbox(label, choices, index=choices.index(value), key=key, format_func=fmt)


def _correction_fields(ds: Dataset, kind: str, key: str, current: dict) -> None:
    """The correction form's fields, offering the vocabulary's values (the store checks them again)."""
    v = vocab()
    if kind == "stance":
        _select("Holder", sorted(v.actors), f"{key}_holder", current["holder"], lambda c: f"{v.actor(c)} ({c})")
        _select("Issue", sorted(v.issues), f"{key}_issue", current["issue"], lambda c: v.issue(c) if c else "")
        _select("Polarity", list(POLARITIES), f"{key}_polarity", current["polarity"])
        return
    names = place_names(ds)
    places = sorted(names, key=lambda p: names[p])
    if kind == "event":
        _select("Event type", list(v.event_types), f"{key}_event_type", current["event_type"])
        st.text_input("Date (YYYY-MM-DD, YYYY-MM or YYYY)", value=current["date"] or "", key=f"{key}_date")
        _select("Date precision", list(reviews.PRECISIONS), f"{key}_date_precision", current["date_precision"])
        _select("Place", ["", *places], f"{key}_place_id", current["place_id"] or "",
                lambda p: names.get(p, p) if p else "(no place)")
    else:
        _select("Place", places, f"{key}_place_id", current["place_id"], lambda p: names.get(p, p) if p else "")


def _check_reviewer_password() -> None:
    """On entering the reviewer password: counted like the viewer's, apart from it; the box empties."""
    given = st.session_state.get(_REVIEWER_PASSWORD) or ""
    st.session_state[_REVIEWER_PASSWORD] = ""
    settings = access_settings()
    if not given or not settings.reviewer_password or settings.review_problem:
        return
    now, who = _clock(), REVIEW_CLIENT + client(settings)
    result = _limiter(settings).attempt(who, now, lambda: access.reviewer_matches(given, settings))
    _audit(settings, access.audit_entry(now, who, result, session=_session_tag()))
    st.session_state[_REVIEWER_UNLOCKED] = result.outcome == "admitted"
    if result.outcome == "admitted":
        st.session_state.pop(_REVIEWER_NOTE, None)
    else:
        st.session_state[_REVIEWER_NOTE] = result.message


def review_sidebar() -> None:
    """The sidebar's review section: who reviews, the reviewer password when needed, the last action."""
    settings = access_settings()
    st.markdown("---\n**Review**")
    decision = review_permission()
    if decision.admitted:
        if _email():
            html(f'<div class="kz-meta">Reviewing as {esc(_email())}</div>')
        else:
            st.text_input("Reviewer name", key=_REVIEWER_NAME, max_chars=reviews.MAX_REVIEWER,
                          placeholder=reviewer_name(), help="Kept with each review in the review log.")
        st.caption("Above each list of events, stances and places: “Review a row” to confirm, reject, correct "
                   "or undo.")
    elif (settings.mode == "hosted" and not settings.read_only and settings.reviewer_password
          and not settings.review_problem and not settings.problem):
        st.text_input("Reviewer password", type="password", key=_REVIEWER_PASSWORD,
                      on_change=_check_reviewer_password, help="A second password, for reviewers only.")
        if st.session_state.get(_REVIEWER_NOTE):
            st.error(st.session_state[_REVIEWER_NOTE])  # our own sentence with numbers only
    else:
        st.caption(decision.reason)
    done = st.session_state.get(_REVIEW_DONE)
    if done:
        level, text, undo = done
        html(f'<div class="kz-review kz-review-{"confirmed" if level == "success" else "rejected"}">'
             f"{esc(text)}</div>")
        if undo and decision.admitted:
            st.button("Undo", key="kzr_undo_last", icon=":material/undo:", on_click=_redo, args=(undo,))
