"""Benchmark: where a build's time goes, in figures that load on a shared machine stretches less
than wall time: CPU seconds of the main process and of the workers, and the workers' timeline
(before the first article, gaps while they wait for work, after the last article).

The corpus is `bench_build.py`'s. Each worker logs when it starts and ends every article (a line
in a temporary file), so idle time between batches shows as gaps however slow the machine is.

    python bench/bench_build_cpu.py [--articles 1000] [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_build import SAMPLE, make_corpus  # noqa: E402

import kzdash.pipeline.engines as engines  # noqa: E402
from kzdash.pipeline.build import build  # noqa: E402

LOG = Path(tempfile.gettempdir()) / f"kzdash-bench-timeline-{os.getpid()}.txt"
_work = engines._work


def _timed_work(raw):  # noqa: ANN001, ANN202 - the pool's task, as engines._work
    """engines._work, logging (worker pid, start, end) per article."""
    start = time.time()
    out = _work(raw)
    with LOG.open("a") as fh:
        fh.write(f"{os.getpid()} {start} {time.time()}\n")
    return out


def _cpu() -> tuple[float, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    engines._work = _timed_work  # forked workers inherit it
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "corpus"
        src.mkdir()
        make_corpus(src, args.articles)
        build(SAMPLE, Path(tmp) / "warm", progress=False, reuse=False)
        for run in range(args.runs):
            LOG.unlink(missing_ok=True)
            (m0, k0), t0 = _cpu(), time.time()
            build(src, Path(tmp) / "out", progress=False, reuse=False)
            (m1, k1), t1 = _cpu(), time.time()
            spans: dict[str, list[tuple[float, float]]] = {}
            for line in LOG.read_text().splitlines():
                pid, a, b = line.split()
                spans.setdefault(pid, []).append((float(a), float(b)))
            first = min(a for v in spans.values() for a, _ in v)
            last = max(b for v in spans.values() for _, b in v)
            gaps = [nxt[0] - cur[1] for v in spans.values() for cur, nxt in zip(sorted(v), sorted(v)[1:], strict=False)]
            print(f"run {run}: {t1 - t0:.2f} s ({args.articles / (t1 - t0):.0f} articles/s); CPU main process "
                  f"{m1 - m0:.2f} s, workers {k1 - k0:.2f} s; load {os.getloadavg()[0]:.1f}")
            print(f"  workers: first article after {first - t0:.2f} s, last {t1 - last:.2f} s before the end; "
                  f"{sum(gaps):.2f} s of gaps, the longest {max(gaps, default=0):.2f} s")
    LOG.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
