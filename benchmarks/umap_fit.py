"""Time and size the UMAP fit behind RSSviz, and how it grows with the number of sentences.

    python benchmarks/umap_fit.py [--sentences 200,400,800 --seed 0]

Variengien & Hinaut (2020) fit UMAP (2 components, random_state=42, umap-learn defaults
otherwise) on the unique reservoir states after every word of 200 CSL test sentences, from an
ESN of 1000 units with the paper's hyperparameters. Here the sentences are nested random draws
from the 1000-sentence test split (4 objects), so each size adds sentences to the previous one.

Each size runs in a fresh process (this script with the hidden --one flag, reading its states
from a .npy file) so that the peak RSS belongs to that fit alone. In it, in order: warm-up fits
on a few hundred of its states (numba compiles umap's and pynndescent's kernels on first call:
reported apart, excluded from the timings), the timed seeded fit (increase of the peak RSS
across it, the peak first reset to the current RSS), the same fit again under tracemalloc (its
peak), the unseeded fit (random_state=None: umap then lets numba and pynndescent use every
thread) and trustworthiness of both embeddings. Fit times are split into the k-NN/fuzzy graph,
the spectral init and the SGD layout.
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
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import numpy as np
from cpu_clock import busy_cpu_seconds, others_cores, own_cpu_seconds

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
    from rnnatlas.models.esn import ESNConfig, ReservoirWeights, build_reservoir, harvest
    from rnnatlas.papers.csl.data import CSLGrammar, build_corpus

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


def _status_kib(field: str) -> float:
    """A size from /proc/self/status (VmRSS: resident now, VmHWM: its peak); nan elsewhere."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float("nan")


def _maxrss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _reset_peak_rss() -> bool:
    """Lower this address space's high-water mark (VmHWM) to the current RSS (Linux >= 4.0).

    Without this, numba's compilation during the warm-up leaves a peak that hides the fit's.
    """
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def timed(run):
    """(result, seconds, cores other processes used meanwhile: the machine may be shared)."""
    busy, own, start = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    return result, seconds, others_cores(busy, own, seconds)


@contextmanager
def stage_clock(umap_module):
    """Seconds inside umap's spectral init and its SGD layout; the rest of a fit is the graph.

    Wraps the two names umap_.py calls them by, for the duration of one fit.
    """
    stages = {"init": "spectral_layout", "layout": "optimize_layout_euclidean"}
    seconds = dict.fromkeys(stages, 0.0)
    originals = {stage: getattr(umap_module, name) for stage, name in stages.items()}

    def clocked(stage, func):
        def call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                seconds[stage] += time.perf_counter() - start

        return call

    for stage, name in stages.items():
        setattr(umap_module, name, clocked(stage, originals[stage]))
    try:
        yield seconds
    finally:
        for stage, name in stages.items():
            setattr(umap_module, name, originals[stage])


def measure_one(path: Path, traced: bool) -> dict:
    """All measurements for one size, in this (fresh) process."""
    import numba
    import umap
    import umap.umap_
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

    def measured_fit(seed: int | None) -> dict:
        gc.collect()
        reset = _reset_peak_rss()
        rss, hwm, maxrss = _status_kib("VmRSS"), _status_kib("VmHWM"), _maxrss_kib()
        with stage_clock(umap.umap_) as stages:
            model, seconds, others = timed(lambda: fit(seed))
        hwm_after, maxrss_after = _status_kib("VmHWM"), _maxrss_kib()
        # ru_maxrss of an exec'd child starts at its parent's peak (Linux carries it over exec)
        # and clear_refs cannot lower that floor: VmHWM is the same peak for this address space
        # alone. ru_maxrss is the fallback where /proc is missing.
        use_hwm = reset and np.isfinite(hwm)
        increase = hwm_after - hwm if use_hwm else maxrss_after - maxrss
        return {
            "model": model,
            "s": seconds,
            "graph_s": seconds - stages["init"] - stages["layout"],
            "init_s": stages["init"],
            "layout_s": stages["layout"],
            "others_cores": others,
            "drss_mib": increase / 1024,
            "drss_from": "VmHWM" if use_hwm else "ru_maxrss",
            "rss_before_kib": rss,
            "vmhwm_before_kib": hwm,
            "vmhwm_after_kib": hwm_after,
            "ru_maxrss_before_kib": maxrss,
            "ru_maxrss_after_kib": maxrss_after,
            "numba_threads": numba.get_num_threads(),
        }

    def say(message: str) -> None:
        print(f"  [{len(X)} unique states] {message}", file=sys.stderr, flush=True)

    # warm-up on a subset that takes the same k-NN path as X, for both seeded and unseeded code
    rows = np.random.default_rng(0).choice(len(X), min(len(X), WARMUP_ROWS), replace=False)
    path_kw = {"force_approximation_algorithm": approximate}
    _, warm_seeded, _ = timed(lambda: fit(42, X[rows], **path_kw))
    _, warm_unseeded, _ = timed(lambda: fit(None, X[rows], **path_kw))
    say(f"warm-up {warm_seeded:.1f} s seeded + {warm_unseeded:.1f} s unseeded")

    seeded = measured_fit(42)
    say(f"seeded fit {seeded['s']:.1f} s")

    # the pipeline's own fit: the same UMAP, its exact k-NN graph computed by scikit-learn
    from rnnatlas.analysis.projection import fit_umap

    _, warm_ours, _ = timed(lambda: fit_umap(X[rows]))
    ours, ours_s, _ = timed(lambda: fit_umap(X))
    ours_trust = trustworthiness(X, ours.embedding, n_neighbors=10)
    say(f"rnnatlas fit_umap {ours_s:.1f} s (warm-up {warm_ours:.1f} s)")

    traced_peak, traced_s, same = float("nan"), float("nan"), None
    if traced:
        # a second, identical fit: tracemalloc slows allocation-heavy code (exact k-NN's
        # per-pair Python calls: 2-3x), so it must not run during the timed one
        tracemalloc.start()
        again, traced_s, _ = timed(lambda: fit(42))
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        same = bool(np.array_equal(seeded["model"].embedding_, again.embedding_))
        say(f"tracemalloc fit {traced_s:.1f} s")

    unseeded = measured_fit(None)
    say(f"unseeded fit {unseeded['s']:.1f} s")

    embedding = seeded["model"].embedding_
    trust, trust_s, _ = timed(lambda: trustworthiness(X, embedding, n_neighbors=10))
    trust_unseeded = trustworthiness(X, unseeded["model"].embedding_, n_neighbors=10)
    result = {
        "knn": "nndescent" if approximate else "exact",
        "warmup_seeded_s": warm_seeded,
        "warmup_unseeded_s": warm_unseeded,
    }
    for prefix, measured in (("seeded", seeded), ("unseeded", unseeded)):
        measured.pop("model")
        result.update({f"{prefix}_{key}": value for key, value in measured.items()})
    result.update(
        {
            "tracemalloc_peak_bytes": traced_peak,
            "tracemalloc_fit_s": traced_s,
            "seeded_repeat_identical": same,
            "trustworthiness": trust,
            "trustworthiness_s": trust_s,
            "trustworthiness_unseeded": trust_unseeded,
            "ours_s": ours_s,
            "ours_warmup_s": warm_ours,
            "ours_trustworthiness": ours_trust,
        }
    )
    return result


def run_size(X: np.ndarray, scratch: Path, n: int, traced: bool) -> dict:
    states, results = scratch / f"states_{n}.npy", scratch / f"result_{n}.json"
    np.save(states, X)
    command = [sys.executable, __file__, "--one", str(states), "--result", str(results)]
    subprocess.run(command + ([] if traced else ["--no-tracemalloc"]), check=True)
    return json.loads(results.read_text())


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base > 0 and np.isfinite(value) else "-"


def print_tables(rows: list[dict]) -> None:
    base = rows[0]
    print(f"\nseeded fit (random_state=42, the paper's), growth relative to {base['sentences']}")
    print(
        f"{'sentences':>9}{'states':>8}{'unique':>8}{'kNN':>11}{'fit s':>8}{'x':>7}"
        f"{'graph':>7}{'init':>7}{'layout':>7}{'dRSS MiB':>10}{'x':>7}"
        f"{'traced MiB':>12}{'x':>7}{'others':>8}"
    )
    for r in rows:
        print(
            f"{r['sentences']:>9}{r['states']:>8}{r['unique']:>8}{r['knn']:>11}"
            f"{r['seeded_s']:>8.2f}{ratio(r['seeded_s'], base['seeded_s']):>7}"
            f"{r['seeded_graph_s']:>7.2f}{r['seeded_init_s']:>7.2f}{r['seeded_layout_s']:>7.2f}"
            f"{r['seeded_drss_mib']:>10.1f}"
            f"{ratio(r['seeded_drss_mib'], base['seeded_drss_mib']):>7}"
            f"{r['tracemalloc_peak_mib']:>12.1f}"
            f"{ratio(r['tracemalloc_peak_mib'], base['tracemalloc_peak_mib']):>7}"
            f"{r['seeded_others_cores']:>8.2f}"
        )

    print("\nbaseline: random_state=None (umap's parallel path), same data, same process")
    print(
        f"{'sentences':>9}{'seeded s':>10}{'unseeded s':>12}{'seeded/unseeded':>17}"
        f"{'graph':>7}{'init':>7}{'layout':>7}{'dRSS MiB':>10}{'threads':>9}{'others':>8}"
    )
    for r in rows:
        print(
            f"{r['sentences']:>9}{r['seeded_s']:>10.2f}{r['unseeded_s']:>12.2f}"
            f"{ratio(r['seeded_s'], r['unseeded_s']):>17}"
            f"{r['unseeded_graph_s']:>7.2f}{r['unseeded_init_s']:>7.2f}"
            f"{r['unseeded_layout_s']:>7.2f}{r['unseeded_drss_mib']:>10.1f}"
            f"{r['unseeded_numba_threads']:>9}{r['unseeded_others_cores']:>8.2f}"
        )

    print("\nthe pipeline's fit (rnnatlas fit_umap: same UMAP, exact k-NN graph from scikit-learn)")
    print(f"{'sentences':>9}{'umap s':>9}{'ours s':>9}{'speed-up':>10}{'T umap':>9}{'T ours':>9}")
    for r in rows:
        print(
            f"{r['sentences']:>9}{r['seeded_s']:>9.2f}{r['ours_s']:>9.2f}"
            f"{ratio(r['seeded_s'], r['ours_s']):>10}{r['trustworthiness']:>9.4f}"
            f"{r['ours_trustworthiness']:>9.4f}"
        )

    print("\ntrustworthiness (sklearn, n_neighbors=10) of each embedding")
    print(f"{'sentences':>9}{'seeded':>9}{'seconds':>9}{'unseeded':>10}")
    for r in rows:
        print(
            f"{r['sentences']:>9}{r['trustworthiness']:>9.4f}{r['trustworthiness_s']:>9.2f}"
            f"{r['trustworthiness_unseeded']:>10.4f}"
        )

    warm = ", ".join(
        f"{r['sentences']}: {r['warmup_seeded_s']:.1f}+{r['warmup_unseeded_s']:.1f} s {r['knn']}"
        for r in rows
    )
    print(f"\nwarm-up fits (numba JIT, seeded + unseeded, excluded above) per process: {warm}")
    print("  (numba caches some kernels on disk: a first run in a new environment takes longer)")
    print("kNN: umap takes exact k-NN below 4096 points, pynndescent's NN-descent above")
    print("graph / init / layout: k-NN and fuzzy graph, spectral init (scipy eigsh), SGD epochs;")
    print("  exact k-NN runs sklearn's pairwise_distances with umap's numba euclidean as a Python")
    print("  callable, one call per pair: O(n^2), single-threaded whatever the random_state")
    print("  a fixed random_state makes umap force n_jobs=1: NN-descent and the layout run on")
    print("  one thread, so seeded/unseeded above 1x is what the paper's reproducibility costs")
    print("dRSS: increase of the peak RSS across the fit, the peak reset to the current RSS just")
    print("  before (VmHWM; ru_maxrss can't be used: a child's starts at its parent's peak)")
    print("traced: tracemalloc peak during a second, identical seeded fit: bytes allocated, not")
    print("  touched (NN-descent reserves a fixed ~1 GiB update buffer per fit, mostly untouched)")
    print("others: cores used by other processes during the timed fit (machine may be shared)")
    if any("ru_maxrss" in (r["seeded_drss_from"], r["unseeded_drss_from"]) for r in rows):
        print("note: peak RSS could not be reset (no /proc/self/clear_refs): dRSS under-counts")
    if any(r["seeded_repeat_identical"] is False for r in rows):
        print("note: the two seeded fits of one size gave different embeddings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", default="200,400,800", help="comma-separated sizes")
    parser.add_argument("--seed", type=int, default=0, help="corpus, reservoir and draw seed")
    parser.add_argument("--out", type=Path, default=TSV)
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="skip the traced fit (the slowest extra)"
    )
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one is not None:  # child process: one size
        result = measure_one(args.one, traced=not args.no_tracemalloc)
        args.result.write_text(json.dumps(result))
        return

    started = time.perf_counter()
    sizes = sorted({int(s) for s in args.sentences.split(",")})
    print(
        f"umap-learn {version('umap-learn')}, pynndescent {version('pynndescent')}, "
        f"numba {version('numba')}, scikit-learn {version('scikit-learn')}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"harvesting ESN states (1000 units, paper hyperparameters) for {sizes} sentences")
    data = unique_states(sizes, args.seed)

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for n in sizes:
            total, X = data[n]
            print(f"{n} sentences: {total} states, {len(X)} unique; fitting in a fresh process")
            rows.append({"sentences": n, "states": total, "unique": len(X)})
            rows[-1].update(run_size(X, Path(scratch), n, traced=not args.no_tracemalloc))
    for row in rows:
        row["tracemalloc_peak_mib"] = row["tracemalloc_peak_bytes"] / 2**20
    print_tables(rows)

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
