"""Benchmark: server time per filter change for every page, at a million events.

Generates a large build (1M events, 1M place mentions, 300k stances, 100k articles; BENCHMARK
DATA: every outlet is "bench outlet N", every summary starts "[benchmark]") into a temporary
folder the app never reads, then times what each page computes after a filter change: the
queries and the chart specifications (Streamlit's own transport and the browser are left out).
Each figure is the median of --runs runs; the first text search, which builds the word index,
is reported on its own.

    python bench/bench_queries.py [--events 1000000] [--runs 5] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kzdash.dashboard import charts, queries  # noqa: E402
from kzdash.dashboard.dataset import Dataset, count  # noqa: E402
from kzdash.dashboard.filters import Filters  # noqa: E402
from kzdash.dashboard.vocab import vocab  # noqa: E402

WORDS = ("president said government troops border protest aid sanctions talks agreement refugees mobilisation "
         "военные граница переговоры санкции беженцы протест президент заявил "
         "الرئيس الحدود العقوبات اللاجئين المساعدات الاحتجاجات "
         "Президент шекара наразылық көмек kufiri protesta ndihma sanksione").split()
ACTORS = ["KAZ", "RUS", "UKR", "USA", "EU", "CSTO", "DPR", "LPR", "UN", "CHN", "GEO"]
LANGS = ["ar", "ru", "en", "kk", "uk", "sq", "tr", "de", "fr", "et"]


def generate(n_events: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Benchmark tables with the contract's columns and realistic repetition (several outlets per happening)."""
    rng = np.random.default_rng(seed)
    n_art, n_places, n_hap = max(n_events // 10, 10), 5000, max(n_events * 2 // 5, 1)
    n_mentions, n_stances = n_events, max(n_events * 3 // 10, 1)
    day0 = np.datetime64("2020-01-01")
    art_ids = np.array([f"bench{i:08d}" for i in range(n_art)])
    art_outlet = np.array([f"bench outlet {i}" for i in range(60)])[rng.integers(0, 60, n_art)]
    art_lang = np.array(LANGS)[rng.integers(0, len(LANGS), n_art)]
    art_pub = day0 + rng.integers(0, 1800, n_art).astype("timedelta64[D]")
    sentences = np.array([" ".join(rng.choice(WORDS, 18)) + f" bench{i}" for i in range(50_000)])
    articles = pd.DataFrame({
        "article_id": art_ids, "source": [f"bench_{i}.txt" for i in range(n_art)], "outlet": art_outlet,
        "language": art_lang, "language_basis": "benchmark", "published": pd.Series(art_pub).dt.strftime("%Y-%m-%d"),
        "published_basis": "benchmark", "title": [f"[benchmark] article {i}" for i in range(n_art)], "url": None,
        "text": sentences[rng.integers(0, len(sentences), n_art)], "stripped": "", "input_key": art_ids})
    place_ids = np.array([f"bench-place-{i}" for i in range(n_places)])
    place_lat, place_lon = rng.uniform(35, 60, n_places), rng.uniform(25, 90, n_places)
    place_country = np.array(["KAZ", "RUS", "UKR", "GEO", "USA", "CHN", "BLR", "UZB"])[rng.integers(0, 8, n_places)]
    place_kind = np.array(["city", "city", "city", "region", "site", "country"])[rng.integers(0, 6, n_places)]
    hap_type = np.array(vocab().event_types)[rng.integers(0, len(vocab().event_types), n_hap)]
    hap_place = rng.integers(0, n_places, n_hap)
    hap_actor = np.array(ACTORS)[rng.integers(0, len(ACTORS), n_hap)]
    hap_date = day0 + rng.integers(-400, 1800, n_hap).astype("timedelta64[D]")
    hap = rng.integers(0, n_hap, n_events)
    ev_art = rng.integers(0, n_art, n_events)
    ev_type = hap_type[hap]
    events = pd.DataFrame({
        "event_id": [f"bench-e{i}" for i in range(n_events)], "article_id": art_ids[ev_art],
        "event_type": np.where(ev_type == "OTHER", None, ev_type), "date": hap_date[hap], "date_precision": "day",
        "date_rule": "benchmark", "actor": hap_actor[hap], "target": np.array(ACTORS)[rng.integers(0, 11, n_events)],
        "place_id": place_ids[hap_place[hap]], "place_name": [f"Bench place {p}" for p in hap_place[hap]],
        "country": place_country[hap_place[hap]], "lat": place_lat[hap_place[hap]], "lon": place_lon[hap_place[hap]],
        "summary": [f"[benchmark] {t} at place {p}" for t, p in zip(ev_type, hap_place[hap], strict=True)],
        "evidence": np.char.add(sentences[rng.integers(0, len(sentences), n_events)],
                                [f" e{i}" for i in range(n_events)]),  # unique, as real sentences are
        "start": 0, "end": 100,
        "confidence": 0.8, "type_rule": "benchmark", "background": rng.random(n_events) < 0.2,
        "happening_id": [f"bench-h{h}" for h in hap], "published": pd.Series(art_pub[ev_art]).dt.strftime("%Y-%m-%d"),
        "outlet": art_outlet[ev_art], "language": art_lang[ev_art]})
    m_art, m_place = rng.integers(0, n_art, n_mentions), rng.integers(0, n_places, n_mentions)
    places = pd.DataFrame({
        "article_id": art_ids[m_art], "place_id": place_ids[m_place], "name": [f"Bench place {p}" for p in m_place],
        "kind": place_kind[m_place], "country": place_country[m_place], "lat": place_lat[m_place],
        "lon": place_lon[m_place], "start": 0, "end": 10, "surface": [f"bench{p}" for p in m_place],
        "rule": "benchmark", "confidence": 0.9, "outlet": art_outlet[m_art], "language": art_lang[m_art]})
    s_art = rng.integers(0, n_art, n_stances)
    issues = np.array(list(vocab().issues))
    stances = pd.DataFrame({
        "stance_id": [f"bench-s{i}" for i in range(n_stances)], "article_id": art_ids[s_art],
        "holder": np.array(ACTORS)[rng.integers(0, 4, n_stances)], "issue": issues[rng.integers(0, len(issues),
                                                                                            n_stances)],
        "polarity": np.array(["support", "oppose", "neutral"])[rng.integers(0, 3, n_stances)],
        "date": art_pub[s_art], "evidence": sentences[rng.integers(0, len(sentences), n_stances)],
        "start": rng.integers(0, 1000, n_stances), "end": 1100, "confidence": 0.6, "rule": "benchmark",
        "outlet": art_outlet[s_art], "language": art_lang[s_art]})
    quarantine = pd.DataFrame({"source": ["bench_bad.txt"], "line": [None], "reason": ["benchmark: empty file"]})
    return {"articles": articles, "events": events, "places": places, "stances": stances, "quarantine": quarantine}


def write(tables: dict[str, pd.DataFrame], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_parquet(out / f"{name}.parquet", index=False)
    (out / "build.json").write_text(json.dumps({"benchmark": True, "rows": {k: len(v) for k, v in tables.items()}}),
                                    encoding="utf-8")


def pages(ds: Dataset) -> dict[str, Callable[[Filters], object]]:
    """What each page computes after a filter change: its queries and its chart specs."""
    keys = queries.key_dates()

    def overview(f: Filters) -> object:
        queries.options(ds)
        return (queries.headline(ds, f), queries.latest_events(ds, f, 8), queries.top_places(ds, f, 8),
                queries.stance_matrix(ds, f, f.holder))

    def map_page(f: Filters) -> object:
        ev, pl = queries.map_events(ds, f), queries.map_places(ds, f)
        deck = charts.map_deck(ev, pl, "app/static/countries.geojson").to_json()
        pick = pl.loc[pl["kind"] != "country", "place_id"].iloc[0] if len(pl) else "none"
        return deck, queries.place_evidence(ds, f, pick)

    def timeline(f: Filters) -> object:
        t = queries.timeline(ds, f, "type")
        spec = charts.vega_spec(charts.timeline_chart(t, keys, "type")) if len(t.bins) else None
        return spec, queries.happenings(ds, f, limit=2000), queries.happening_count(ds, f)

    def stances(f: Filters) -> object:
        m = queries.stance_matrix(ds, f, f.holder, f.rows)
        spec = charts.vega_spec(charts.stance_heatmap(m)) if len(m) else None
        return spec, queries.disagreements(ds, f, f.holder, f.rows), queries.stance_evidence(ds, f, f.holder)

    def articles(f: Filters) -> object:
        return queries.articles_list(ds, f), count(ds, "articles", f)

    def data(f: Filters) -> object:
        return [count(ds, name, f) for name in ("events", "places", "stances", "articles")]

    return {"overview": overview, "map": map_page, "timeline": timeline, "stances": stances, "articles": articles,
            "data": data}


CHANGES = {
    "no filter": Filters(),
    "one year": Filters(start=date(2022, 1, 1), end=date(2022, 12, 31)),
    "outlet + language": Filters(outlets=("bench outlet 3", "bench outlet 7"), languages=("ar", "ru")),
    "type + country": Filters(event_types=("PROTEST", "MOBILIZE"), countries=("KAZ",)),
    "issue (through articles)": Filters(issues=("sanctions_russia",)),
    "text": Filters(text="sanctions"),
    "text, two words + year": Filters(text="border troops", start=date(2021, 1, 1), end=date(2021, 12, 31)),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None, help="where to write the benchmark build (default: a temp dir)")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="kzdash-bench-")) / "build"
    t0 = time.perf_counter()
    tables = generate(args.events)
    write(tables, out)
    print(f"benchmark build: {len(tables['events']):,} events, {len(tables['places']):,} mentions, "
          f"{len(tables['stances']):,} stances, {len(tables['articles']):,} articles in {out} "
          f"({time.perf_counter() - t0:.1f} s)")
    from kzdash.dashboard.appdata import load_tables

    t0 = time.perf_counter()
    ds = Dataset.from_tables(load_tables(str(out)), {"benchmark": True})
    print(f"load and prepare (once per build): {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    queries.options(ds)
    print(f"sidebar options (once per build): {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    ds.warm().join()
    print(f"word indexes of every searched column (built in the background when the app loads): "
          f"{time.perf_counter() - t0:.1f} s")
    funcs = pages(ds)
    print(f"\nmedian of {args.runs} runs, milliseconds per filter change (queries + chart specs)")
    print(f"{'change':28s}" + "".join(f"{p:>10s}" for p in funcs))
    worst = dict.fromkeys(funcs, 0.0)
    for label, f in CHANGES.items():
        row = []
        for page, fn in funcs.items():
            fn(f)  # imports and first-use allocations
            times = []
            for _ in range(args.runs):
                ds.forget_masks()  # a filter change starts from no mask
                t0 = time.perf_counter()
                fn(f)
                times.append((time.perf_counter() - t0) * 1000)
            med = statistics.median(times)
            worst[page] = max(worst[page], med)
            row.append(med)
        print(f"{label:28s}" + "".join(f"{v:10.0f}" for v in row))
    print(f"{'worst':28s}" + "".join(f"{worst[p]:10.0f}" for p in funcs))
    print("\nbudget 300 ms per filter change:", "met" if max(worst.values()) < 300 else "NOT met")
    import resource

    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
