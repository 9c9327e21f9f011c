"""Time and size the UMAP fit behind RSSviz, and how it grows with the number of sentences.

    python benchmarks/umap_fit.py [--sentences 200,400,800 --seed 0]

Variengien & Hinaut (2020) fit UMAP (2 components, random_state=42, umap-learn defaults
otherwise) on the unique reservoir states after every word of 200 CSL test sentences, from an
ESN of 1000 units with the paper's hyperparameters. Here the sentences are nested random draws
from the 1000-sentence test split (4 objects), so each size adds sentences to the previous one.

Each size runs in a fresh process (this script with the hidden --one flag, reading its states
from a .npy file) so that peak RSS belongs to that fit alone. In it, in order: warm-up fits on
a few hundred of its states (numba compiles umap's and pynndescent's kernels on first call:
reported apart, excluded from the timings), the timed seeded fit (increase of ru_maxrss across
it), the same fit again under tracemalloc (its peak), the unseeded fit (random_state=None: umap
then lets numba and pynndescent use every thread) and trustworthiness of both embeddings.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np

# umap computes exact k-NN below this many points and runs pynndescent's NN-descent above it;
# the two paths compile different kernels and allocate very differently
UMAP_EXACT_KNN_BELOW = 4096
WARMUP_ROWS = 300
TSV = Path("results/benchmarks/umap_fit.tsv")
PAPER_ESN = dict(
    units=1000,
    spectral_radius=1.1,
    density=0.85,
    leak=0.05,
    input_scaling=1.0,
    input_density=0.1,
    bias=True,
)


def unique_states(sizes: list[int], seed: int) -> dict[int, tuple[int, np.ndarray]]:
    """For each size: (number of states, unique states), the first `size` of one shuffled draw."""
    from rnnatlas.data.csl import CSLGrammar, build_corpus
    from rnnatlas.models.esn import ESNConfig, ReservoirWeights, build_reservoir, harvest

    test = build_corpus(4, seed=seed)["test"]["tokens"]
    if max(sizes) > len(test):
        raise SystemExit(f"the test split has {len(test)} sentences, asked for {max(sizes)}")
    # the split lists one-object sentences first: shuffle, so every size gets the length mix
    order = np.random.default_rng(seed).permutation(len(test))[: max(sizes)]
    tokens = [np.asarray(test[int(i)]) for i in order]
    cfg = ESNConfig(**PAPER_ESN, seed=seed)
    weights = ReservoirWeights.from_reservoir(build_reservoir(cfg, len(CSLGrammar(4).vocabulary)))
    states = harvest(weights, tokens, record="all")  # [T_i, units] per sentence, one per word
    out = {}
    for n in sizes:
        every = np.concatenate(states[:n])
        out[n] = (len(every), np.unique(every, axis=0))
    return out


def _busy_cpu_seconds() -> float:
    """CPU seconds used by all processes since boot (Linux /proc/stat; 0 elsewhere)."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return 0.0
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _rss_kib() -> float:
    """Current resident set size (Linux /proc; nan elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024


def _maxrss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def timed(run):
    """(result, seconds, cores other processes used meanwhile: the machine may be shared)."""
    busy, own, start = _busy_cpu_seconds(), _own_cpu_seconds(), time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    foreign = (_busy_cpu_seconds() - busy) - (_own_cpu_seconds() - own)
    return result, seconds, max(0.0, foreign / seconds)


def measure_one(path: Path) -> dict:
    """All measurements for one size, in this (fresh) process."""
    import numba
    import umap
    from sklearn.manifold import trustworthiness

    # a seed makes umap force n_jobs=1 and say so on every fit: that is the point measured here
    warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
    X = np.load(path)
    all_threads = numba.config.NUMBA_NUM_THREADS
    approximate = len(X) >= UMAP_EXACT_KNN_BELOW

    def fit(seed: int | None, data: np.ndarray = X, **kwargs):
        if seed is None:
            # a seeded fit calls numba.set_num_threads(1) and nothing sets it back
            numba.set_num_threads(all_threads)
        return umap.UMAP(n_components=2, random_state=seed, **kwargs).fit(data)

    def say(message: str) -> None:
        print(f"  [{len(X)} unique states] {message}", file=sys.stderr, flush=True)

    # warm-up on a subset that takes the same k-NN path as X, for both seeded and unseeded code
    rows = np.random.default_rng(0).choice(len(X), min(len(X), WARMUP_ROWS), replace=False)
    path_kw = {"force_approximation_algorithm": approximate}
    _, warm_seeded, _ = timed(lambda: fit(42, X[rows], **path_kw))
    _, warm_unseeded, _ = timed(lambda: fit(None, X[rows], **path_kw))
    say(f"warm-up {warm_seeded:.1f} s seeded + {warm_unseeded:.1f} s unseeded")

    gc.collect()
    rss_before, maxrss_before = _rss_kib(), _maxrss_kib()
    seeded, fit_s, fit_others = timed(lambda: fit(42))
    maxrss_after = _maxrss_kib()
    say(f"seeded fit {fit_s:.1f} s")

    # separate run: tracemalloc slows allocation-heavy code, keep it out of the timed fit
    tracemalloc.start()
    again, traced_fit_s, _ = timed(lambda: fit(42))
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    same = bool(np.array_equal(seeded.embedding_, again.embedding_))
    say(f"tracemalloc fit {traced_fit_s:.1f} s")

    unseeded, unseeded_s, unseeded_others = timed(lambda: fit(None))
    unseeded_threads = numba.get_num_threads()
    say(f"unseeded fit {unseeded_s:.1f} s")

    trust, trust_s, _ = timed(lambda: trustworthiness(X, seeded.embedding_, n_neighbors=10))
    trust_unseeded = trustworthiness(X, unseeded.embedding_, n_neighbors=10)
    return {
        "knn": "nndescent" if approximate else "exact",
        "warmup_seeded_s": warm_seeded,
        "warmup_unseeded_s": warm_unseeded,
        "fit_s": fit_s,
        "fit_others_cores": fit_others,
        "rss_before_kib": rss_before,
        "maxrss_before_kib": maxrss_before,
        "maxrss_after_kib": maxrss_after,
        "tracemalloc_peak_bytes": traced_peak,
        "tracemalloc_fit_s": traced_fit_s,
        "seeded_repeat_identical": same,
        "unseeded_fit_s": unseeded_s,
        "unseeded_others_cores": unseeded_others,
        "unseeded_numba_threads": unseeded_threads,
        "trustworthiness": trust,
        "trustworthiness_s": trust_s,
        "trustworthiness_unseeded": trust_unseeded,
    }


def run_size(X: np.ndarray, scratch: Path, n: int) -> dict:
    states, results = scratch / f"states_{n}.npy", scratch / f"result_{n}.json"
    np.save(states, X)
    command = [sys.executable, __file__, "--one", str(states), "--result", str(results)]
    subprocess.run(command, check=True)
    return json.loads(results.read_text())


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base > 0 else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", default="200,400,800", help="comma-separated sizes")
    parser.add_argument("--seed", type=int, default=0, help="corpus, reservoir and draw seed")
    parser.add_argument("--out", type=Path, default=TSV)
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one is not None:  # child process: one size
        args.result.write_text(json.dumps(measure_one(args.one)))
        return

    started = time.perf_counter()
    sizes = sorted({int(s) for s in args.sentences.split(",")})
    print(
        f"umap-learn {version('umap-learn')}, pynndescent {version('pynndescent')}, "
        f"numba {version('numba')}, scikit-learn {version('scikit-learn')}, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"harvesting ESN states (1000 units, paper hyperparameters) for {sizes} sentences",
        flush=True,
    )
    data = unique_states(sizes, args.seed)

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for n in sizes:
            total, X = data[n]
            print(
                f"{n} sentences: {total} states, {len(X)} unique; fitting in a fresh process",
                flush=True,
            )
            rows.append({"sentences": n, "states": total, "unique": len(X)})
            rows[-1].update(run_size(X, Path(scratch), n))

    for row in rows:
        row["delta_maxrss_mib"] = (row["maxrss_after_kib"] - row["maxrss_before_kib"]) / 1024
        row["peak_over_rss_mib"] = (row["maxrss_after_kib"] - row["rss_before_kib"]) / 1024
        row["tracemalloc_peak_mib"] = row["tracemalloc_peak_bytes"] / 2**20
    base = rows[0]

    print(f"\nseeded fit (random_state=42), growth relative to {base['sentences']} sentences")
    head = (
        f"{'sentences':>9}{'states':>8}{'unique':>8}{'kNN':>11}{'fit s':>8}{'x':>7}"
        f"{'dRSS MiB':>10}{'x':>7}{'RSS0->pk':>10}{'traced MiB':>12}{'x':>7}{'others':>8}"
    )
    print(head)
    for r in rows:
        print(
            f"{r['sentences']:>9}{r['states']:>8}{r['unique']:>8}{r['knn']:>11}"
            f"{r['fit_s']:>8.2f}{ratio(r['fit_s'], base['fit_s']):>7}"
            f"{r['delta_maxrss_mib']:>10.1f}"
            f"{ratio(r['delta_maxrss_mib'], base['delta_maxrss_mib']):>7}"
            f"{r['peak_over_rss_mib']:>10.1f}{r['tracemalloc_peak_mib']:>12.1f}"
            f"{ratio(r['tracemalloc_peak_mib'], base['tracemalloc_peak_mib']):>7}"
            f"{r['fit_others_cores']:>8.2f}"
        )

    print("\nbaseline random_state=None (parallel) and trustworthiness (n_neighbors=10)")
    head = (
        f"{'sentences':>9}{'seeded s':>10}{'unseeded s':>12}{'threads':>9}{'seeded/unseeded':>17}"
        f"{'others':>8}{'trust':>8}{'trust s':>9}{'trust unseeded':>16}"
    )
    print(head)
    for r in rows:
        print(
            f"{r['sentences']:>9}{r['fit_s']:>10.2f}{r['unseeded_fit_s']:>12.2f}"
            f"{r['unseeded_numba_threads']:>9}{ratio(r['fit_s'], r['unseeded_fit_s']):>17}"
            f"{r['unseeded_others_cores']:>8.2f}{r['trustworthiness']:>8.4f}"
            f"{r['trustworthiness_s']:>9.2f}{r['trustworthiness_unseeded']:>16.4f}"
        )

    warm = ", ".join(
        f"{r['sentences']}: {r['warmup_seeded_s']:.1f}+{r['warmup_unseeded_s']:.1f} s {r['knn']}"
        for r in rows
    )
    print(f"\nwarm-up fits (numba JIT, seeded + unseeded, excluded above) per process: {warm}")
    print("  (numba caches some kernels on disk: a first run in a new environment takes longer)")
    print("kNN: umap takes exact k-NN below 4096 points, pynndescent's NN-descent above;")
    print("  a fixed random_state makes umap force n_jobs=1: NN-descent and the layout run on")
    print("  one thread; seeded/unseeded above 1x is what the paper's reproducibility costs")
    print("dRSS: ru_maxrss after - before the fit; RSS0->pk: ru_maxrss after - RSS before (MiB),")
    print("  the larger when an earlier peak (imports, JIT) hides part of the fit's own")
    print("traced: tracemalloc peak during a second, identical seeded fit (allocated, not touched)")
    print("others: cores used by other processes during the timed fit (machine may be shared)")
    if not all(r["seeded_repeat_identical"] for r in rows):
        print("note: the two seeded fits of one size gave different embeddings")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    columns = list(rows[0])
    lines = ["\t".join(columns)]
    lines += [
        "\t".join(str(round(r[c], 6) if isinstance(r[c], float) else r[c]) for c in columns)
        for r in rows
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}; total runtime {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
