"""Load test: many concurrent sessions of the running app, each changing filters, on loopback.

Starts `streamlit run app.py` on 127.0.0.1 (with this repo's .streamlit/config.toml) against a
build (default: the bundled sample, built into a temporary folder), then opens --sessions real
Streamlit sessions: websocket clients of /_stcore/stream speaking the app's own protocol
(BackMsg/ForwardMsg protobufs from streamlit.proto), as the browser does. Each session reruns the
script with the next filter change, waits for `script_finished`, thinks, and repeats until
--duration is over. Server time per rerun = from sending the rerun to receiving script_finished.
Like the browser, a session sends back the query string the page last wrote (page_info_changed).

What a session changes is a parameter, so the test follows the pages as they change:
  --change 'LABEL=FIELD:V1|V2|...'  set the widget labelled LABEL (found in the page's elements) to
                                   each JSON value in turn; FIELD is the WidgetState field, e.g.
                                   string_array_value (multiselect), string_value (selectbox, text),
                                   double_array_value (slider range), int_value, bool_value
  --query 'a=1&b=2'                 query strings to cycle through (widgets bound to query params)
  --page URL_PATHNAME               pages to cycle through (multipage apps)
  --list-widgets                    print the widgets the first page shows and exit
  --warm                            before the load, one session opens each --page once (as the first
                                   visitor of a fresh server does: modules imported, default answers
                                   made); not counted in the figures
  --per-page RUNS                   one session, no think time: for each --page (default: every page),
                                   RUNS plain reruns after a warm one; prints the elements a rerun
                                   sends (by type) and the server's CPU ms per rerun (psutil)
With none of these, every rerun is a plain rerun of the first page.

Counts: reruns, errors (an exception element, a script that did not finish successfully, a rerun
with no answer within --timeout) and lost sessions (websocket closed or failed). Exit status 1
when there was any error or lost session.

    python bench/load_test.py [--sessions 50] [--duration 60] [--change ...] [--query ...]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parent.parent
ARRAY_FIELDS = {"string_array_value", "double_array_value", "int_array_value"}


@dataclass(frozen=True)
class Change:
    """One kind of rerun a session makes: a widget value, a query string, a page, or nothing."""

    label: str | None = None
    field_name: str | None = None
    value: object = None
    query: str | None = None
    page: str | None = None


@dataclass
class Stats:
    rerun_seconds: list[float] = field(default_factory=list)
    by_page: dict[str, list[float]] = field(default_factory=dict)  # page the rerun showed -> its times
    by_second: list[tuple[float, float]] = field(default_factory=list)  # (when it was sent, its time)
    errors: list[str] = field(default_factory=list)
    lost_sessions: int = 0
    finished_sessions: int = 0


def parse_changes(changes: list[str], queries: list[str], pages: list[str]) -> list[Change]:
    out: list[Change] = []
    for spec in changes:
        label, _, rest = spec.partition("=")
        field_name, _, values = rest.partition(":")
        out += [Change(label=label, field_name=field_name, value=json.loads(v)) for v in values.split("|")]
    out += [Change(query=q) for q in queries]
    out += [Change(page=p) for p in pages]
    return out or [Change()]


def widget_state(widget_id: str, field_name: str, value: object, states) -> None:
    """Append one WidgetState to a WidgetStates message."""
    ws = states.widgets.add()
    ws.id = widget_id
    if field_name in ARRAY_FIELDS:
        getattr(ws, field_name).data.extend(value)
    elif field_name == "json_value":
        ws.json_value = json.dumps(value)
    else:
        setattr(ws, field_name, value)


class Session:
    """One simulated browser tab."""

    def __init__(self, url: str, stats: Stats, timeout: float) -> None:
        self.url, self.stats, self.timeout = url, stats, timeout
        self.widgets: dict[str, str] = {}  # label -> widget id, from the elements the server sent
        self.pages: dict[str, str] = {}  # url pathname -> page script hash
        self.values: dict[str, tuple[str, object]] = {}  # widget id -> (field, value) set so far
        self.query, self.page_hash = "", ""
        self.page_name = "(home)"  # the url pathname of the page the session shows
        self.kinds: dict[str, int] = {}  # element type -> count in the last rerun

    async def rerun(self, ws) -> float | None:
        """Send a rerun with the current state; the server time until script_finished, or None on error."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string, state.page_script_hash = self.query, self.page_hash
        for widget_id, (field_name, value) in self.values.items():
            widget_state(widget_id, field_name, value, state.widget_states)
        t0 = time.perf_counter()
        await ws.send(msg.SerializeToString())
        failed, elements = None, 0
        self.kinds = {}
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await asyncio.wait_for(ws.recv(), self.timeout))
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                elements += 1
                kind_name = fwd.delta.new_element.WhichOneof("type") or "?"
                self.kinds[kind_name] = self.kinds.get(kind_name, 0) + 1
                self._note_element(fwd.delta.new_element)
                if fwd.delta.new_element.WhichOneof("type") == "exception":
                    failed = f"exception: {fwd.delta.new_element.exception.type}"
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "add_block":  # a container, tab, popover
                elements += 1
                block = "block:" + (fwd.delta.add_block.WhichOneof("type") or "?")
                self.kinds[block] = self.kinds.get(block, 0) + 1
            elif kind == "page_info_changed":  # the page rewrote its URL: the browser sends it with the next rerun
                self.query = fwd.page_info_changed.query_string
            elif kind == "ref_hash":  # an element sent before, by its hash (a cached large message)
                elements += 1
                self.kinds["ref_hash"] = self.kinds.get("ref_hash", 0) + 1
            elif kind in ("new_session", "navigation"):
                for page in getattr(fwd, kind).app_pages:
                    self.pages[page.url_pathname] = page.page_script_hash
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue
                if status != "FINISHED_SUCCESSFULLY":
                    failed = failed or f"script finished: {status}"
                elif not elements:
                    failed = "the page sent no elements"
                break
        seconds = time.perf_counter() - t0
        if failed:
            self.stats.errors.append(failed)
            return None
        return seconds

    def _note_element(self, element) -> None:
        body = getattr(element, element.WhichOneof("type") or "", None)
        if body is not None and "id" in body.DESCRIPTOR.fields_by_name and "label" in body.DESCRIPTOR.fields_by_name:
            if body.id:
                self.widgets[body.label] = body.id

    def _record(self, seconds: float) -> None:
        self.stats.rerun_seconds.append(seconds)
        self.stats.by_second.append((time.monotonic() - seconds, seconds))
        self.stats.by_page.setdefault(self.page_name, []).append(seconds)

    def apply(self, change: Change) -> bool:
        """Set the session's state for the next rerun; False when the widget or page is not on the page."""
        if change.label is not None:
            widget_id = self.widgets.get(change.label)
            if widget_id is None:
                return False
            self.values[widget_id] = (change.field_name, change.value)
        if change.query is not None:
            self.query = change.query
        if change.page is not None:
            if change.page not in self.pages:
                return False
            self.page_hash = self.pages[change.page]
            self.page_name = change.page or "(home)"
        return True

    async def run(self, changes: list[Change], deadline: float, think: tuple[float, float], start_delay: float):
        await asyncio.sleep(start_delay)
        try:
            async with websockets.connect(self.url, subprotocols=["streamlit"], max_size=2**28,
                                          open_timeout=self.timeout) as ws:
                first = await self.rerun(ws)
                if first is not None:
                    self._record(first)
                cycle = itertools.cycle(random.sample(changes, len(changes)))
                while time.monotonic() < deadline:
                    await asyncio.sleep(random.uniform(*think))
                    change = next(cycle)
                    if not self.apply(change):
                        self.stats.errors.append(f"not on the page: {change.label or change.page}")
                        continue
                    seconds = await self.rerun(ws)
                    if seconds is not None:
                        self._record(seconds)
            self.stats.finished_sessions += 1
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            self.stats.lost_sessions += 1
            self.stats.errors.append(f"lost session: {type(exc).__name__}: {exc}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(app: Path, port: int, build_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "KZDASH_BUILD": str(build_dir)}
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the app did not become healthy within 60 s")


async def load(url: str, args: argparse.Namespace, changes: list[Change]) -> Stats:
    stats = Stats()
    deadline = time.monotonic() + args.ramp + args.duration
    sessions = [Session(url, stats, args.timeout) for _ in range(args.sessions)]
    await asyncio.gather(*(s.run(changes, deadline, args.think, args.ramp * i / args.sessions)
                           for i, s in enumerate(sessions)))
    return stats


async def warm(url: str, changes: list[Change], timeout: float) -> float:
    """One session opens every page of the change list once; the seconds it took."""
    session, t0 = Session(url, Stats(), timeout), time.perf_counter()
    async with websockets.connect(url, subprotocols=["streamlit"], max_size=2**28) as ws:
        await session.rerun(ws)
        for change in changes:
            if change.page is not None and session.apply(change):
                await session.rerun(ws)
    if session.stats.errors:
        raise RuntimeError(f"warm-up failed: {session.stats.errors}")
    return time.perf_counter() - t0


async def list_widgets(url: str, timeout: float) -> None:
    session = Session(url, Stats(), timeout)
    async with websockets.connect(url, subprotocols=["streamlit"], max_size=2**28) as ws:
        await session.rerun(ws)
    for label, widget_id in session.widgets.items():
        print(f"{label!r}: {widget_id}")
    print("pages:", sorted(session.pages))


async def per_page(url: str, runs: int, pages: list[str], server: psutil.Process, timeout: float) -> None:
    """Single-session cost of each page: elements sent and server CPU per plain rerun (less noisy than load)."""
    session = Session(url, Stats(), timeout)
    async with websockets.connect(url, subprotocols=["streamlit"], max_size=2**28) as ws:
        await session.rerun(ws)
        print(f"{'page':<10} {'elements':>8} {'cpu ms':>7} {'wall ms':>7}  element types")
        for page in pages or sorted(session.pages):
            if not session.apply(Change(page=page)):
                print(f"{page!r}: not a page of this app")
                continue
            for _ in range(2):  # warm: the page's answers remembered, its modules imported
                await session.rerun(ws)
            cpu0, t0 = sum(server.cpu_times()[:2]), time.perf_counter()
            for _ in range(runs):
                await session.rerun(ws)
            cpu = (sum(server.cpu_times()[:2]) - cpu0) / runs * 1000
            wall = (time.perf_counter() - t0) / runs * 1000
            kinds = " ".join(f"{k}:{n}" for k, n in sorted(session.kinds.items(), key=lambda x: -x[1]))
            print(f"{page or '(home)':<10} {sum(session.kinds.values()):>8} {cpu:>7.1f} {wall:>7.1f}  {kinds}")
    if session.stats.errors:
        print("errors:", session.stats.errors)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60, help="seconds of load after the ramp-up")
    ap.add_argument("--ramp", type=float, default=5, help="seconds over which the sessions connect")
    ap.add_argument("--think", type=float, nargs=2, default=(0.5, 1.5), help="pause between reruns (min max)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds a rerun may take before it is an error")
    ap.add_argument("--change", action="append", default=[])
    ap.add_argument("--query", action="append", default=[])
    ap.add_argument("--page", action="append", default=[])
    ap.add_argument("--app", type=Path, default=ROOT / "app.py", help="the Streamlit script to serve")
    ap.add_argument("--build", type=Path, help="tables to serve (default: the sample, built into a temp folder)")
    ap.add_argument("--url", help="an app already running (ws://host:port/_stcore/stream); no server is started")
    ap.add_argument("--list-widgets", action="store_true")
    ap.add_argument("--warm", action="store_true", help="open each page once before the load (see above)")
    ap.add_argument("--per-page", type=int, metavar="RUNS", help="single-session cost per page (see above)")
    args = ap.parse_args()
    changes = parse_changes(args.change, args.query, args.page)
    with tempfile.TemporaryDirectory(prefix="kzdash-load-") as tmp:
        proc = None
        if args.url:
            url = args.url
        else:
            build_dir = args.build
            if build_dir is None:
                sys.path.insert(0, str(ROOT))
                from kzdash.pipeline.build import build

                build_dir = Path(tmp) / "sample"
                build(ROOT / "data" / "articles", build_dir, progress=False)
            port = free_port()
            proc = start_server(args.app, port, build_dir)
            url = f"ws://127.0.0.1:{port}/_stcore/stream"
        try:
            if args.list_widgets:
                asyncio.run(list_widgets(url, args.timeout))
                return 0
            if args.per_page:
                if proc is None:
                    raise SystemExit("--per-page measures the server it starts: leave out --url")
                asyncio.run(per_page(url, args.per_page, args.page, psutil.Process(proc.pid), args.timeout))
                return 0
            if args.warm:
                print(f"warm-up: every page opened once in {asyncio.run(warm(url, changes, args.timeout)):.1f} s")
            server = psutil.Process(proc.pid) if proc else None
            cpu0 = sum(server.cpu_times()[:2]) if server else 0.0
            t0, own0 = time.perf_counter(), time.process_time()
            stats = asyncio.run(load(url, args, changes))
            wall, own_cpu = time.perf_counter() - t0, time.process_time() - own0
            server_cpu = (sum(server.cpu_times()[:2]) - cpu0) if server else float("nan")
            rss = server.memory_info().rss / 2**20 if server else float("nan")
        finally:
            if proc:
                proc.terminate()
                proc.wait(timeout=30)
    report(stats, args, wall, server_cpu, rss, own_cpu)
    return 1 if stats.errors or stats.lost_sessions else 0


def report(stats: Stats, args: argparse.Namespace, wall: float, server_cpu: float, rss: float, own_cpu: float) -> None:
    times = sorted(stats.rerun_seconds)
    q = statistics.quantiles(times, n=100) if len(times) >= 2 else times * 99 or [float("nan")] * 99
    print(f"sessions: {args.sessions} ({stats.finished_sessions} finished, {stats.lost_sessions} lost), "
          f"{args.duration:.0f} s after a {args.ramp:.0f} s ramp, think {args.think[0]}-{args.think[1]} s")
    print(f"reruns: {len(times)} ({len(times) / wall:.1f}/s); server time per rerun: p50 {q[49] * 1000:.0f} ms, "
          f"p95 {q[94] * 1000:.0f} ms, max {max(times, default=float('nan')) * 1000:.0f} ms")
    print(f"errors: {len(stats.errors)}; server CPU {server_cpu:.1f} s over {wall:.0f} s, RSS {rss:.0f} MB at the end; "
          f"this client's CPU {own_cpu:.1f} s")
    for reason, count in sorted({e: stats.errors.count(e) for e in stats.errors}.items(), key=lambda x: -x[1])[:10]:
        print(f"  {count} × {reason}")
    if stats.by_second:
        t0 = min(t for t, _ in stats.by_second)
        windows = {}
        for t, sec in stats.by_second:
            windows.setdefault(int((t - t0) // 10) * 10, []).append(sec)
        print("per 10 s from the first rerun (p50/p95 ms): " + "; ".join(
            f"{w}s {statistics.median(v) * 1000:.0f}/"
            f"{(statistics.quantiles(v, n=20)[18] if len(v) >= 2 else v[0]) * 1000:.0f}"
            for w, v in sorted(windows.items())))
    if len(stats.by_page) > 1:
        print("per page: " + "; ".join(
            f"{page} {len(t)} reruns p50 {statistics.median(t) * 1000:.0f} ms p95 "
            f"{(statistics.quantiles(t, n=20)[18] if len(t) >= 2 else t[0]) * 1000:.0f} ms"
            for page, t in sorted(stats.by_page.items())))


if __name__ == "__main__":
    sys.exit(main())
