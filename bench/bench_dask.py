"""Benchmark: build throughput of the local engine and of the Dask engine on 1 and 2 workers.

The corpus is generated (`kzdash.benchdata`): marked copies of the bundled sample and of the dev
fixtures in tests/fixtures/dev, each with its own id and shifted date, written under --workdir
(default /tmp/kzdash-bench), never into data/ or a build the dashboard shows.

Each configuration runs in a fresh interpreter (so peak memory is its own): one uncounted warm-up
build, then --runs timed builds of the whole corpus (read, extract, write), no reuse. Two Dask
modes are timed:
  cold: `build(engine="dask")` as the CLI runs it, starting and stopping a LocalCluster each time;
  warm: builds sent to an already running LocalCluster (`--scheduler`), as on an existing cluster.

    python bench/bench_dask.py [--articles 4000] [--runs 3] [--configs local,dask1,dask2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kzdash import benchdata  # noqa: E402
from kzdash.build import build  # noqa: E402

SOURCES = [ROOT / "data" / "articles", ROOT / "tests" / "fixtures" / "dev"]
CONFIGS = {"local": ("local", 2), "dask1": ("dask", 1), "dask2": ("dask", 2)}


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _worker_peak_mb() -> float:
    """Run on a Dask worker: its own peak resident memory."""
    return _peak_mb(resource.RUSAGE_SELF)


def time_builds(corpus: Path, out: Path, runs: int, **kwargs) -> list[float]:
    build(corpus, out, progress=False, reuse=False, **kwargs)  # warm-up: imports, gazetteer cache
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        build(corpus, out, progress=False, reuse=False, **kwargs)
        times.append(time.perf_counter() - t)
    return times


def run_config(name: str, corpus: Path, out: Path, runs: int) -> dict:
    """One configuration, measured in this (fresh) process."""
    engine, workers = CONFIGS[name]
    result: dict = {"config": name, "workers": workers}
    result["cold"] = time_builds(corpus, out, runs, engine=engine, workers=workers)
    result["peak_client_mb"] = _peak_mb(resource.RUSAGE_SELF)
    result["peak_worker_mb"] = _peak_mb(resource.RUSAGE_CHILDREN)
    if engine == "dask":
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
                Client(cluster) as client:
            result["warm"] = time_builds(corpus, out, runs, engine="dask", scheduler=cluster.scheduler_address)
            peaks = client.run(_worker_peak_mb).values()
            result["peak_worker_mb"] = max(result["peak_worker_mb"], *peaks)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=4000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--configs", default="local,dask1,dask2")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "kzdash-bench")
    ap.add_argument("--child", help=argparse.SUPPRESS)  # one configuration, in a fresh interpreter
    args = ap.parse_args()
    corpus = args.workdir / "corpus"
    if args.child:
        print(json.dumps(run_config(args.child, corpus, args.workdir / f"out-{args.child}", args.runs)))
        return
    shutil.rmtree(args.workdir, ignore_errors=True)
    size = benchdata.write_corpus(corpus, benchdata.load_templates(SOURCES), args.articles)
    gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {gib:.1f} GiB, Python {platform.python_version()}")
    print(f"corpus: {args.articles} articles, {size / args.articles / 1024:.1f} KB average, {size / 2**20:.1f} MB")
    rows = []
    for name in args.configs.split(","):
        cmd = [sys.executable, __file__, "--child", name, "--articles", str(args.articles), "--runs", str(args.runs),
               "--workdir", str(args.workdir)]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    _report(rows, args.articles, args.runs)
    shutil.rmtree(args.workdir, ignore_errors=True)


def _report(rows: list[dict], articles: int, runs: int) -> None:
    base = {mode: next((r[mode] for r in rows if r["config"] == "dask1" and mode in r), None)
            for mode in ("cold", "warm")}
    print(f"\n| engine | mode | median s ({runs} runs) | articles/s | vs Dask 1 worker | peak MB client / worker |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        for mode in ("cold", "warm"):
            if mode not in r:
                continue
            med = statistics.median(r[mode])
            speedup = f"{statistics.median(base[mode]) / med:.2f}×" if base[mode] else "–"
            label = "local (fork pool, 2 processes)" if r["config"] == "local" else f"dask, {r['workers']} worker(s)"
            print(f"| {label} | {mode} | {med:.2f} | {articles / med:.0f} | {speedup} | "
                  f"{r['peak_client_mb']:.0f} / {r['peak_worker_mb']:.0f} |")
    print("\nraw:", json.dumps(rows))


if __name__ == "__main__":
    main()
