"""Benchmark: whole-build throughput (articles/s) and peak memory on a generated corpus.

The corpus is copies of the bundled sample, cut to 2-4 KB at paragraph boundaries, each with a
unique benchmark header line and a shifted publication date (so every copy is a distinct
article), written to a temporary folder and marked `benchmark copy` in its metadata.csv.
Interpreter start-up is excluded; the gazetteer is loaded from its on-disk cache as in a real
build (the first, uncounted run warms the cache).

    python bench/bench_build.py [--articles 1000] [--runs 3] [--workers N]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kzdash.pipeline.build import build  # noqa: E402

SAMPLE = ROOT / "data" / "articles"


def make_corpus(folder: Path, n: int) -> int:
    """Write n benchmark articles of 2-4 KB; returns the total bytes."""
    meta = list(csv.DictReader((SAMPLE / "metadata.csv").open(encoding="utf-8")))
    texts = []
    for row in meta:
        text = (SAMPLE / row["file"]).read_text(encoding="utf-8")
        cut, size = [], 0
        for para in text.split("\n\n"):
            if size >= 2000:
                break
            cut.append(para)
            size += len(para.encode())
        texts.append((row, "\n\n".join(cut)[:4000]))
    total = 0
    with (folder / "metadata.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "outlet", "url", "published", "language", "basis"])
        for i in range(n):
            row, text = texts[i % len(texts)]
            published = dt.date.fromisoformat(row["published"]) + dt.timedelta(days=i // len(texts))
            name = f"bench_{i:06d}.txt"
            body = f"{text}\n\n[benchmark copy {i}]\n"
            (folder / name).write_text(body, encoding="utf-8")
            total += len(body.encode())
            w.writerow([name, f"Benchmark outlet {i % 7}", "", published.isoformat(), row["language"],
                        "benchmark copy"])
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "corpus", Path(tmp) / "out"
        src.mkdir()
        size = make_corpus(src, args.articles)
        build(SAMPLE, Path(tmp) / "warm", workers=args.workers, progress=False, reuse=False)  # cache, imports
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            summary = build(src, out, workers=args.workers, progress=False, reuse=False)
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"corpus: {args.articles} articles, {size / args.articles / 1024:.1f} KB average")
        print(f"build: median {med:.2f} s over {args.runs} runs -> {args.articles / med:.0f} articles/s "
              f"({summary.places} places, {summary.events} events)")
        print(f"peak memory: main process {peak_self:.0f} MB, largest worker {peak_children:.0f} MB")


if __name__ == "__main__":
    main()
