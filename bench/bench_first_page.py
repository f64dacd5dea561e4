"""Benchmark: how long until the first page is interactive, on the bundled sample, in Chromium.

Starts `streamlit run app.py` headless on an already built sample (the first-run build is timed
separately with --fresh), opens the Overview in Debian's Chromium and waits until its title,
metrics and sidebar filters are drawn and the script run is over. Reports the median of --runs
cold starts: from launching the server, and from the browser's request.

    python bench/bench_first_page.py [--runs 3] [--fresh]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_start(build_dir: Path, browser) -> tuple[float, float]:
    """(seconds from launching the server, seconds from the browser's request) to an interactive Overview."""
    port = _port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless=true",
         f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false"],
        cwd=ROOT, env={**os.environ, "KZDASH_BUILD": str(build_dir)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t1 = time.perf_counter()
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_function("() => [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === 'Overview')"
                               " && document.querySelectorAll('[data-testid=stMetric]').length >= 6"
                               " && document.querySelector('[data-testid=stSidebar] input')", timeout=120_000)
        page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=120_000)
        t2 = time.perf_counter()
        page.close()
        return t2 - t0, t2 - t1
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fresh", action="store_true", help="also time the first run that builds the sample")
    ap.add_argument("--build", type=Path, default=None,
                    help="time the first page of this existing build instead (e.g. bench_queries.py --out at 10M)")
    args = ap.parse_args()
    if args.build is not None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            runs = [one_start(args.build, browser) for _ in range(args.runs)]
            browser.close()
        _report(args.runs, runs)
        return
    from playwright.sync_api import sync_playwright

    from kzdash.dashboard.appdata import SAMPLE_INPUT
    from kzdash.pipeline.build import build

    with tempfile.TemporaryDirectory(prefix="kzdash-first-") as tmp:
        built = Path(tmp) / "built"
        t0 = time.perf_counter()
        build(SAMPLE_INPUT, built, progress=False)
        print(f"sample build (what the first run does before the page): {time.perf_counter() - t0:.1f} s")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            if args.fresh:
                total, request = one_start(Path(tmp) / "fresh", browser)
                print(f"fresh checkout (builds the sample first): {total:.1f} s from launch, {request:.1f} s "
                      "from the request")
            runs = [one_start(built, browser) for _ in range(args.runs)]
            browser.close()
    _report(args.runs, runs)


def _report(n: int, runs: list[tuple[float, float]]) -> None:
    print(f"first page interactive, median of {n} cold starts: "
          f"{statistics.median(r[0] for r in runs):.1f} s from launching the server, "
          f"{statistics.median(r[1] for r in runs):.1f} s from the browser's request "
          f"(all: {', '.join(f'{a:.1f}/{b:.1f}' for a, b in runs)})")


if __name__ == "__main__":
    main()
