"""Command line: `kzdash build --input DIR --out DIR` and `kzdash explain FILE_OR_ARTICLE_ID`
(also `python -m kzdash ...`)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kzdash", description="Multilingual geopolitical news dashboard.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="turn a folder of articles into the Parquet tables")
    b.add_argument("--input", required=True,
                   help="folder of articles (txt, md, html, jsonl, csv): a path or an fsspec URL such as s3://bucket/in")
    b.add_argument("--out", required=True, help="folder for the tables (replaced atomically): a path or an fsspec URL")
    b.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local: this machine's processes (default); dask: a Dask cluster")
    b.add_argument("--scheduler", default=None,
                   help="with --engine dask: address of a running scheduler (default: start a local cluster)")
    b.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: CPU count, max 4); ignored with --scheduler")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    e = sub.add_parser("explain", help="why each place, date, event and stance of one article was (or was not) found")
    e.add_argument("target", help="an article file, or an article id (or its first characters) of a build")
    e.add_argument("--build", default=None, help="the build to look an id up in (default: $KZDASH_BUILD, "
                   "else the bundled sample's build)")
    e.add_argument("--near", default=None, help='only sentences with these words, and why no stance came of them')
    args = parser.parse_args(argv)
    if args.command == "explain":
        return _explain(args.target, args.build, args.near)
    if args.command == "build":
        from kzdash.environment import BUILD_IMPORTS, broken_dependencies

        broken = broken_dependencies(BUILD_IMPORTS)
        for dependency in broken:
            print(dependency.line(), file=sys.stderr)
        if broken:
            return 2
        from kzdash.pipeline.build import build
        from kzdash.pipeline.fsurl import is_folder

        if args.scheduler and args.engine != "dask":
            print("kzdash: --scheduler needs --engine dask", file=sys.stderr)
            return 2
        try:
            found = is_folder(args.input)
        except (ImportError, ValueError) as exc:  # e.g. s3:// without s3fs installed
            print(f"kzdash: --input {args.input}: {exc}", file=sys.stderr)
            return 2
        if not found:
            print(f"kzdash: --input {args.input} is not a folder", file=sys.stderr)
            return 2
        summary = build(args.input, args.out, workers=args.workers, engine=args.engine, scheduler=args.scheduler,
                        progress=not args.no_progress and sys.stderr.isatty())
        print(summary.line())
        return 0
    return 2


def _explain(target: str, build: str | None, near: str | None) -> int:
    from pathlib import Path

    from kzdash.dashboard.appdata import build_dir_from_env
    from kzdash.extract.explain import render
    from kzdash.pipeline.inspect import NotFound, explain_target

    build_dir = Path(build) if build else build_dir_from_env()  # the build the dashboard shows
    try:
        trails, origin = explain_target(target, build_dir, near)
    except NotFound as exc:
        print(f"kzdash explain: {exc}", file=sys.stderr)
        return 2
    print(f"# {origin}")
    for trail in trails:
        print(render(trail))
    return 0
