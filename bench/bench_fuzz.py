"""Benchmark: a folder of hostile files builds to the end, in bounded memory.

Generates (benchmark data, marked as such in every file) FILES inputs into a temporary folder:
files of repeated place names of 0.1-1.4 MB (the kind that once took the build down), and the
rest a mix of what a hand-collected folder holds: empty, binary, Latin-1, UTF-16, NUL-laced and
oversized files, broken HTML, JSONL and CSV with malformed records, control characters, direction
marks, one enormous line, and ordinary short articles. Builds it once and checks that every input
is either built (an article row) or set aside (a quarantine row with its reason), and prints the
time, the peak memory of the build (main process and largest worker) and the capped articles.

    python bench/bench_fuzz.py [--files 2000] [--big 180] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kzdash.pipeline.build import build  # noqa: E402

MARK = "kzdash benchmark data (bench/bench_fuzz.py), not news."
NAMES = ["Almaty", "Astana", "Moscow", "Kyiv", "Aktau", "Zhanaozen", "Алматы", "Москва", "كازاخستان", "Shymkent"]


def repeated_names(rng: random.Random, size: int) -> str:
    words = []
    total = 0
    while total < size:
        w = rng.choice(NAMES)
        words.append(w)
        total += len(w) + 2
    return MARK + "\n" + ", ".join(words) + "."


def hostile(rng: random.Random, i: int) -> tuple[str, bytes]:
    kind = i % 12
    body = f"{MARK} Protesters gathered in Almaty on 5 January 2022, the president of Kazakhstan said."
    if kind == 0:
        return f"f{i:05d}.txt", b""
    if kind == 1:
        return f"f{i:05d}.txt", bytes(rng.randrange(256) for _ in range(2048))
    if kind == 2:
        return f"f{i:05d}.txt", (body + " Café à Genève.").encode("latin-1")
    if kind == 3:
        return f"f{i:05d}.txt", body.encode("utf-16")
    if kind == 4:
        return f"f{i:05d}.txt", body.encode() + b"\x00" * 64 + body.encode()
    if kind == 5:
        return f"f{i:05d}.html", f"<html><body><div><p>{body}<p><script>x()</script><table><tr><td>".encode()
    if kind == 6:
        good = json.dumps({"text": body, "outlet": "Bench", "published": "2022-01-06"})
        lines = [good, "{not json", json.dumps([1, 2]), good.replace("2022", "2023")]
        return f"f{i:05d}.jsonl", "\n".join(lines).encode()
    if kind == 7:
        return f"f{i:05d}.csv", f'text,outlet\n"{body}",Bench\n"unclosed,Bench\n'.encode()
    if kind == 8:
        return f"f{i:05d}.txt", (body + "\u202e\u200f" + "\x07\x1b[31m" * 10).encode()
    if kind == 9:
        return f"f{i:05d}.txt", ("x" * 300_000 + " " + body).encode()  # one enormous line
    if kind == 10:
        return f"f{i:05d}.txt", b"A" * 6_000_000  # over the 5 MB limit
    return f"f{i:05d}.txt", f"{body} Item {i}.".encode()


def make_folder(folder: Path, files: int, big: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for i in range(big):
        size = int(100_000 + (1_400_000 - 100_000) * i / max(1, big - 1))
        (folder / f"big{i:04d}.txt").write_text(repeated_names(rng, size), encoding="utf-8")
    for i in range(files - big):
        name, data = hostile(rng, i)
        (folder / name).write_bytes(data)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--big", type=int, default=180)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "fuzz", Path(tmp) / "out"
        src.mkdir()
        make_folder(src, args.files, args.big)
        t = time.perf_counter()
        summary = build(src, out, workers=args.workers, progress=False, reuse=False)
        seconds = time.perf_counter() - t
        arts = pd.read_parquet(out / "articles.parquet")
        q = pd.read_parquet(out / "quarantine.parquet")
        inputs = {p.name for p in src.iterdir()}
        built = {s.split("#")[0] for s in arts["source"]}
        set_aside = {s.split("#")[0] for s in q["source"]}
        missing = sorted(inputs - built - set_aside)
        capped = q[q["reason"].str.startswith("capped:")]
        peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"fuzz: {len(inputs)} files ({args.big} of repeated place names, 0.1-1.4 MB)")
        print(f"build: {seconds:.1f} s; {summary.articles} articles, {len(q)} quarantine rows "
              f"({len(capped)} capped notes), {len(missing)} inputs neither built nor set aside {missing[:5]}")
        print(f"peak memory: main process {peak_self:.0f} MB, largest worker {peak_children:.0f} MB")
        return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
