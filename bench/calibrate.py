"""Calibrate stance and event `confidence` against annotated articles: precision per band.

Builds the annotated sets (dev: written for the project; realdev: real pages, texts made locally
as ../shared/eval/realdev/README.md says), labels every stance row right when its (holder, issue,
polarity) is in the article's gold, and every dated event row right when its date agrees with a
gold event date at the gold's precision (the scorer's rules; rows the scorer leaves out, such as
holders outside the taxonomy and publication-date stand-ins, are left out here too). Writes:

- docs/confidence.md: precision per confidence band and at or above each threshold;
- with --fit, first data/calibration.yaml: per kind of row (a stance's trigger and holder rule, an
  event's date rule family; `kzdash.extract.confidence`), how many were right of how many, from
  which every row's confidence is then computed; the sets are built again with it;
- data/confidence.yaml: the threshold of the sidebar's "confident only" switch (the lowest whose
  rows reach TARGET_PRECISION), with the precision measured there, which the switch's help text quotes.

    python bench/calibrate.py [--fit] [--eval ../shared/eval] [--realdev .realdev]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kzdash.extract import confidence  # noqa: E402
from kzdash.extract.confidence import event_kind, stance_kind  # noqa: E402
from kzdash.pipeline.build import build  # noqa: E402

BANDS = [(0.0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01)]
TARGET_PRECISION = 0.9  # "confident only" keeps rows at least this often right on the annotated sets


def gold_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def scorer(eval_dir: Path):
    """The evaluation's own score.py, so that rows are found and judged exactly as it does."""
    spec = importlib.util.spec_from_file_location("kzdash_eval_score", eval_dir / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def date_hits(gold: dict, day: str, precision: str) -> bool:
    """score.py's date rule (a function nested in its score(), so not importable)."""
    n = {"day": 10, "month": 7, "year": 4}[gold["precision"]]
    finer = {"day": {"day"}, "month": {"day", "month"}, "year": {"day", "month", "year"}}
    return precision in finer[gold["precision"]] and day[:n] == gold["date"][:n]


def labelled_rows(build_dir: Path, golds: list[dict], actors: set[str], name: str, locate) -> pd.DataFrame:
    """(kind, confidence, right) for every scored stance and dated event row of the set."""
    articles = pd.read_parquet(build_dir / "articles.parquet")
    stances = pd.read_parquet(build_dir / "stances.parquet")
    events = pd.read_parquet(build_dir / "events.parquet")
    rows = []
    for g in golds:
        aid = locate(articles, g)
        if aid is None:
            continue
        gold_s = {(s["holder"], s["issue"], s["polarity"]) for s in g["stances"]}
        mine = stances[stances.article_id == aid]
        best: dict[tuple, tuple[float, str]] = {}  # one judgement per (holder, issue, polarity), as scored
        for r in mine.itertuples():
            if str(r.holder) in actors:
                key = (str(r.holder), str(r.issue), str(r.polarity))
                best[key] = max(best.get(key, (0.0, "")), (float(r.confidence), stance_kind(r.rule)))
        rows += [("stance", conf, key in gold_s, name, kind) for key, (conf, kind) in best.items()]
        ev = events[(events.article_id == aid) & (events.date_rule.astype("string").fillna("") != "published")]
        dated: dict[tuple, tuple[float, str]] = {}
        for r in ev.itertuples():
            if pd.notna(r.date):
                key = (str(r.date)[:10], str(r.date_precision))
                dated[key] = max(dated.get(key, (0.0, "")), (float(r.confidence), event_kind(r.date_rule)))
        rows += [("event", conf, any(date_hits(gd, *key) for gd in g["event_dates"]), name, kind)
                 for key, (conf, kind) in dated.items()]
    return pd.DataFrame(rows, columns=["kind", "confidence", "right", "set", "rule_kind"])


def fit(rows: pd.DataFrame) -> None:
    """Write data/calibration.yaml: right and seen per kind of row."""
    table = {}
    for kind, name in (("stance", "stances"), ("event", "events")):
        sub = rows[rows.kind == kind]
        table[name] = {str(k): [int(g.right.sum()), int(len(g))] for k, g in sorted(sub.groupby("rule_kind"))}
    header = ("# Written by bench/calibrate.py --fit on the annotated sets: per kind of row, [right, seen].\n"
              "# kzdash.extract.confidence makes each row's confidence from them (smoothed toward its prior).\n")
    body = yaml.safe_dump(table, sort_keys=False, allow_unicode=True, default_flow_style=None)
    confidence.CALIBRATION.write_text(header + body, encoding="utf-8")
    confidence._table.cache_clear()


def labelled(sets: dict, tmp: Path, actors: set[str], locate) -> pd.DataFrame:
    frames = []
    for name, (folder, gold) in sets.items():
        if not (folder / "metadata.csv").is_file():
            print(f"calibrate: {name}: no texts at {folder}; left out", file=sys.stderr)
            continue
        out = tmp / name
        build(folder, out, progress=False, reuse=False)
        frames.append(labelled_rows(out, gold_lines(gold), actors, name, locate))
    return pd.concat(frames, ignore_index=True)


def band_table(rows: pd.DataFrame) -> list[dict]:
    out = []
    for lo, hi in BANDS:
        band = rows[(rows.confidence >= lo) & (rows.confidence < hi)]
        at_least = rows[rows.confidence >= lo]
        out.append({"band": f"{lo:.1f}–{min(hi, 1.0):.1f}", "rows": len(band),
                    "precision": band.right.mean() if len(band) else None,
                    "rows_at_or_above": len(at_least),
                    "precision_at_or_above": at_least.right.mean() if len(at_least) else None})
    return out


def threshold(rows: pd.DataFrame) -> dict:
    """The lowest band floor whose rows at or above it reach TARGET_PRECISION."""
    for lo, _ in BANDS:
        kept = rows[rows.confidence >= lo]
        if len(kept) and kept.right.mean() >= TARGET_PRECISION:
            return {"min_confidence": lo, "precision": round(float(kept.right.mean()), 2), "rows": int(len(kept)),
                    "of_rows": int(len(rows)), "precision_all": round(float(rows.right.mean()), 2)}
    return {"min_confidence": 1.0, "precision": None, "rows": 0, "of_rows": int(len(rows)),
            "precision_all": round(float(rows.right.mean()), 2) if len(rows) else None}


def fmt(x: float | None) -> str:
    return "–" if x is None or x != x else f"{x:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fit", action="store_true", help="re-fit data/calibration.yaml first")
    ap.add_argument("--eval", type=Path, default=ROOT.parent / "shared" / "eval")
    ap.add_argument("--realdev", type=Path, default=ROOT / ".realdev")
    args = ap.parse_args()
    taxonomy = yaml.safe_load((args.eval / "taxonomy.yaml").read_text(encoding="utf-8"))
    actors = set(taxonomy["actors"])
    sets = {"dev": (args.eval / "dev", args.eval / "dev_gold.jsonl"),
            "realdev": (args.realdev, args.eval / "realdev" / "gold.jsonl")}
    with tempfile.TemporaryDirectory() as tmp:
        locate = scorer(args.eval).locate
        rows = labelled(sets, Path(tmp), actors, locate)
        if args.fit:
            fit(rows)
            rows = labelled(sets, Path(tmp), actors, locate)
    lines = ["# Confidence, calibrated", "",
             "Made by `bench/calibrate.py` on the annotated sets "
             f"({', '.join(sorted(rows.set.unique()))}; {len(rows)} judged rows): a stance row is right when its "
             "holder, issue and polarity are in the article's gold; a dated event row when its date agrees with a "
             "gold event date at the gold's precision. Rows the scorer ignores are left out here too.", ""]
    settings = {}
    for kind in ("stance", "event"):
        sub = rows[rows.kind == kind]
        settings[f"{kind}s"] = threshold(sub)
        by_set = ", ".join(f"{s} {fmt(sub[sub.set == s].right.mean())} ({(sub.set == s).sum()} rows)"
                           for s in sorted(sub.set.unique()))
        lines += [f"## {kind.capitalize()}s", "", f"Precision of all rows: {fmt(sub.right.mean())} ({by_set}).", "",
                  "| confidence | rows | precision | rows at or above | precision at or above |",
                  "|---|---|---|---|---|"]
        lines += [f"| {b['band']} | {b['rows']} | {fmt(b['precision'])} | {b['rows_at_or_above']} | "
                  f"{fmt(b['precision_at_or_above'])} |" for b in band_table(sub)]
        t = settings[f"{kind}s"]
        lines += ["", f"\"Confident only\" keeps {kind}s with confidence ≥ {t['min_confidence']:.1f}: "
                      f"{t['rows']} of {t['of_rows']} rows, precision {fmt(t['precision'])} "
                      f"(target {TARGET_PRECISION:.2f}).", ""]
    (ROOT / "docs" / "confidence.md").write_text("\n".join(lines), encoding="utf-8")
    header = ("# Written by bench/calibrate.py (see docs/confidence.md): the sidebar's \"confident only\" switch\n"
              "# keeps rows at or above min_confidence; precision is what was measured there on the annotated sets.\n")
    (ROOT / "data" / "confidence.yaml").write_text(header + yaml.safe_dump(settings, sort_keys=False),
                                                   encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
