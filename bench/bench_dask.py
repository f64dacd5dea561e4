"""Benchmark: build throughput of the local engine and of the Dask engine on 1 and 2 workers.

The corpus is generated (`kzdash.pipeline.benchdata`): marked copies of the bundled sample and of the dev
fixtures in tests/fixtures/dev, each with its own id and shifted date, written under --workdir
(default /tmp/kzdash-bench), never into data/ or a build the dashboard shows.

Every timed run is a whole build of the corpus (read, extract, write; no reuse). Dask is timed two
ways: cold = `build(engine="dask")` as the CLI runs it, starting and stopping a LocalCluster each
time; warm = a build sent to an already running LocalCluster, as with `--scheduler` (started, and
warmed up with a build of WARMUP_ARTICLES, before the timed build; no other cluster runs meanwhile).

The development machines are shared virtual machines whose two vCPUs do not always deliver two
cores' worth of work, so the configurations are interleaved round by round (medians over rounds),
each round starts with a calibration (the same pure-Python loop in 1 process, then in 2 at once:
the parallel speed-up the hardware gives right now) and every run records how many cores other
processes used meanwhile (/proc/stat). Peak memory is measured afterwards, one configuration per
fresh interpreter.

    nice -n -10 python bench/bench_dask.py [--articles 4000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kzdash.pipeline import benchdata  # noqa: E402
from kzdash.pipeline.build import build  # noqa: E402

SOURCES = [ROOT / "data" / "articles", ROOT / "tests" / "fixtures" / "dev"]
WARMUP_ARTICLES = 200  # a warm cluster's first build, untimed
CONFIGS = ("local1", "local2", "dask1-cold", "dask2-cold", "dask1-warm", "dask2-warm")
TICK = os.sysconf("SC_CLK_TCK")


def busy_cpu_seconds() -> float:
    """CPU seconds all processes on the machine have spent busy (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / TICK


def own_cpu_seconds() -> float:
    """CPU seconds of this process, its finished children and its live descendants (Dask workers)."""
    t = os.times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in psutil.Process().children(recursive=True):
        try:
            c = child.cpu_times()
            total += c.user + c.system
        except psutil.NoSuchProcess:
            pass
    return total


def wait_until_quiet(max_background: float, max_wait: float) -> float:
    """Wait (up to max_wait s) until other processes use < max_background cores over 3 s; the last reading."""
    deadline = time.monotonic() + max_wait
    while True:
        b0, o0, t0 = busy_cpu_seconds(), own_cpu_seconds(), time.monotonic()
        time.sleep(3)
        load = (busy_cpu_seconds() - b0 - (own_cpu_seconds() - o0)) / (time.monotonic() - t0)
        if load < max_background or time.monotonic() > deadline:
            return load


def _spin(n: int) -> float:
    t = time.perf_counter()
    s = 0
    for i in range(n):
        s += i * i % 7
    return time.perf_counter() - t


def calibrate(n: int = 8_000_000) -> float:
    """The speed-up two processes get over one on the same pure-Python work, right now."""
    one = _spin(n)
    with mp.get_context("fork").Pool(2) as pool:
        t = time.perf_counter()
        pool.map(_spin, [n, n])
        two = time.perf_counter() - t
    return 2 * one / two


def timed(run) -> dict:
    b0, o0, t0 = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    run()
    wall = time.perf_counter() - t0
    own = own_cpu_seconds() - o0
    return {"seconds": wall, "cpu_seconds": own, "background_cores": max(0.0, busy_cpu_seconds() - b0 - own) / wall}


@contextmanager
def running_cluster(workers: int, warmup: Path, out: Path) -> Iterator[str]:
    """A LocalCluster of `workers` that has built `warmup` once (imports and data loaded on its workers, as on a
    cluster that has been running): its scheduler's address."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster):
        build(warmup, out, progress=False, reuse=False, engine="dask", scheduler=cluster.scheduler_address)
        yield cluster.scheduler_address


def run_rounds(corpus: Path, warmup: Path, out: Path, args: argparse.Namespace) -> dict[str, list[dict]]:
    """Interleaved timed builds of every configuration, plus a calibration per round.

    A warm configuration's cluster is started (and warmed up) before its timed build and closed after it: no
    other cluster runs beside any timed build. Until session 12 both warm clusters ran through every round; an
    idle cluster's scheduler and workers took about 0.05 and 0.035 of a core each (measured, at rest), which
    the other configurations' builds shared their cores with, and which a build on 2 workers feels and one on
    1 worker, with a core to spare, hardly does."""
    def timed_dask(workers: int) -> dict:
        with running_cluster(workers, warmup, out) as address:
            return timed(lambda: build(corpus, out, progress=False, reuse=False, engine="dask", scheduler=address))

    plain = {
        "local1": lambda: build(corpus, out, progress=False, reuse=False, workers=1),
        "local2": lambda: build(corpus, out, progress=False, reuse=False, workers=2),
        "dask1-cold": lambda: build(corpus, out, progress=False, reuse=False, engine="dask", workers=1),
        "dask2-cold": lambda: build(corpus, out, progress=False, reuse=False, engine="dask", workers=2),
    }
    for run in plain.values():  # warm-up: imports, gazetteer cache
        run()
    runs = {name: (lambda run=run: timed(run)) for name, run in plain.items()}
    runs |= {"dask1-warm": lambda: timed_dask(1), "dask2-warm": lambda: timed_dask(2)}
    results: dict[str, list[dict]] = {name: [] for name in ["calibration", *CONFIGS]}
    for r in range(args.rounds):
        wait_until_quiet(args.max_background, args.max_wait)
        results["calibration"].append({"speedup": calibrate()})
        order = CONFIGS[r % len(CONFIGS):] + CONFIGS[:r % len(CONFIGS)]  # rotate: no config always first
        for name in order:
            results[name].append(runs[name]())
            print(f"round {r + 1}: {name} {results[name][-1]['seconds']:.2f} s", file=sys.stderr)
    return results


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it does not carry over a parent's
    size through fork and exec). Also run on Dask workers."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_memory(config: str, corpus: Path, out: Path) -> dict:
    """One build in this fresh process: peak MB of the process that builds and of the largest worker."""
    if config.startswith("local"):
        build(corpus, out, progress=False, reuse=False, workers=int(config[5]))
        # a forked pool worker shares the parent's pages until they are written: counted in both
        worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    else:
        from distributed import Client, LocalCluster

        n = int(config[4])
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0") as c, \
                Client(c) as client:
            build(corpus, out, progress=False, reuse=False, engine="dask", scheduler=c.scheduler_address)
            worker = max(client.run(peak_mb).values())
    return {"client_mb": peak_mb(), "worker_mb": worker}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=4000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "kzdash-bench")
    ap.add_argument("--max-background", type=float, default=0.3,
                    help="a round counts as quiet when other processes used less than this many cores in every run")
    ap.add_argument("--max-wait", type=float, default=600, help="seconds to wait for a quiet machine before a round")
    ap.add_argument("--memory-of", help=argparse.SUPPRESS)  # one configuration's memory, in a fresh interpreter
    args = ap.parse_args()
    corpus = args.workdir / "corpus"
    if args.memory_of:
        print(json.dumps(peak_memory(args.memory_of, corpus, args.workdir / "out-memory")))
        return
    shutil.rmtree(args.workdir, ignore_errors=True)
    templates = benchdata.load_templates(SOURCES)
    size = benchdata.write_corpus(corpus, templates, args.articles)
    benchdata.write_corpus(args.workdir / "warmup", templates, WARMUP_ARTICLES)
    gib = psutil.virtual_memory().total / 2**30
    print(f"machine: {platform.machine()}, {os.cpu_count()} vCPUs, {gib:.1f} GiB, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}")
    print(f"corpus: {args.articles} articles, {size / args.articles / 1024:.1f} KB average, {size / 2**20:.1f} MB")
    results = run_rounds(corpus, args.workdir / "warmup", args.workdir / "out", args)
    memory = {}
    for config in ("local1", "local2", "dask1", "dask2"):
        cmd = [sys.executable, __file__, "--memory-of", config, "--workdir", str(args.workdir)]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
        memory[config] = json.loads(done.stdout.strip().splitlines()[-1])
    report(results, memory, args.articles, args.max_background)
    shutil.rmtree(args.workdir, ignore_errors=True)


def report(results: dict[str, list[dict]], memory: dict, articles: int, max_background: float) -> None:
    rounds = len(results["calibration"])
    quiet = [r for r in range(rounds) if all(results[c][r]["background_cores"] < max_background for c in CONFIGS)]
    print(f"rounds: {rounds}, quiet (other processes < {max_background} cores in every run): {len(quiet)}")
    for title, chosen in (("quiet rounds", quiet), ("all rounds", list(range(rounds)))):
        if chosen:
            _table(results, memory, articles, chosen, title)


def _table(results: dict[str, list[dict]], memory: dict, articles: int, chosen: list[int], title: str) -> None:
    def med(name: str, key: str = "seconds") -> float:
        return statistics.median(results[name][r][key] for r in chosen)

    calib = [results["calibration"][r]["speedup"] for r in chosen]
    print(f"\n{title} ({len(chosen)}): hardware speed-up of 2 processes over 1 on pure-Python work: median "
          f"{statistics.median(calib):.2f}× (per round: {', '.join(f'{c:.2f}' for c in calib)})")
    print("\n| engine | median s | articles/s | vs 1 worker/process (same engine, mode) | CPU s "
          "| other load (max cores) | peak MB builder / worker |")
    print("|---|---|---|---|---|---|---|")
    for name in CONFIGS:
        mode = name.split("-")[-1]
        base = med("local1") if name.startswith("local") else med(f"dask1-{mode}")
        labels = {"local1": "local, in-process", "local2": "local, fork pool of 2"}
        label = labels.get(name, f"Dask {name[4]} worker{'s' * (name[4] != '1')}, {mode}")
        speedup = f"{base / med(name):.2f}×"
        mem = memory[name if name.startswith("local") else name[:5]]
        load = max(results[name][r]["background_cores"] for r in chosen)
        print(f"| {label} | {med(name):.2f} | {articles / med(name):.0f} | {speedup} | {med(name, 'cpu_seconds'):.1f} "
              f"| {load:.2f} | {mem['client_mb']:.0f} / {mem['worker_mb']:.0f} |")
    for one, two in (("local1", "local2"), ("dask1-cold", "dask2-cold"), ("dask1-warm", "dask2-warm")):
        pairs = [results[one][r]["seconds"] / results[two][r]["seconds"] for r in chosen]
        # the same round's runs are minutes apart, the rounds' up to an hour: on a shared VM whose speed drifts, the
        # median of the rounds' own ratios compares like with like (the table's column divides medians of rounds)
        paired = statistics.median(pairs)
        print(f"{two} vs {one}, per round: {', '.join(f'{p:.2f}' for p in pairs)}; median {paired:.2f}×, "
              f"{paired / statistics.median(calib):.0%} of the hardware's speed-up")
    print("\nraw:", json.dumps({"results": results, "memory": memory}))

if __name__ == "__main__":
    main()
