"""Command line: `kzdash build --input DIR --out DIR` (also `python -m kzdash build ...`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kzdash", description="Multilingual geopolitical news dashboard.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="turn a folder of articles into the Parquet tables")
    b.add_argument("--input", required=True, type=Path, help="folder of articles (txt, md, html, jsonl, csv)")
    b.add_argument("--out", required=True, type=Path, help="folder for the tables (replaced atomically)")
    b.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count, max 4)")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.command == "build":
        from kzdash.build import build

        if not args.input.is_dir():
            print(f"kzdash: --input {args.input} is not a folder", file=sys.stderr)
            return 2
        summary = build(args.input, args.out, workers=args.workers,
                        progress=not args.no_progress and sys.stderr.isatty())
        print(summary.line())
        return 0
    return 2
