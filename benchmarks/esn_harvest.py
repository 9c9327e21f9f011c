"""Time the ESN state harvest: reservoirpy's `run`, a plain batched numpy loop, our `harvest`.

    python benchmarks/esn_harvest.py [--sentences 1000 --units 1000 --seed 0]

Sentences come from the real 4-object CSL training split when rnnatlas.papers.csl.data is importable
(random sequences of 5..19 tokens over 20 words otherwise). All timings are taken in this one
process: reservoirpy once (it is slow), the others best of --repeats. The floors are the bare
dense GEMMs, same shapes: per step, every running sentence (what a per-sentence integrator must
do) or every distinct prefix (what `harvest`, which integrates each shared prefix once, must do).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch
from cpu_clock import busy_cpu_seconds, others_cores, own_cpu_seconds
from threadpoolctl import threadpool_info

from rnnatlas.models.esn import (
    ESN,
    ESNConfig,
    ReservoirWeights,
    build_reservoir,
    harvest,
    run_reservoirpy,
)


def load_sentences(n: int, seed: int) -> tuple[list[np.ndarray], int, str]:
    """(token arrays, vocabulary size, where they came from)."""
    try:
        from rnnatlas.papers.csl.data import CSLGrammar, build_corpus
    except ImportError:
        rng = np.random.default_rng(seed)
        tokens = [rng.integers(0, 20, size=rng.integers(5, 20)) for _ in range(n)]
        return tokens, 20, "random 5..19 tokens, 20 words (rnnatlas.papers.csl.data not importable)"
    train = build_corpus(4, seed=seed)["train"]["tokens"]
    # the split lists one-object sentences first: draw, so any n gets the corpus' length mix
    picks = np.random.default_rng(seed).choice(len(train), size=n, replace=n > len(train))
    tokens = [np.asarray(train[int(i)]) for i in picks]
    return tokens, len(CSLGrammar(4).vocabulary), "CSL 4 objects, train split"


def padded_numpy_loop(weights: ReservoirWeights, tokens: list[np.ndarray]) -> np.ndarray:
    """Second baseline: padded one-hot batch, a matmul for the inputs, every row every step."""
    lengths = np.array([len(t) for t in tokens])
    inputs = np.zeros((len(tokens), lengths.max(), weights.input_dim))
    for row, sentence in enumerate(tokens):
        inputs[row, np.arange(len(sentence)), sentence] = 1.0
    x = np.zeros((len(tokens), weights.units))
    last = np.zeros_like(x)
    for t in range(lengths.max()):
        pre = inputs[:, t] @ weights.Win.T + x @ weights.W.T + weights.bias
        x = (1 - weights.leak) * x + weights.leak * np.tanh(pre)
        ending = lengths - 1 == t
        last[ending] = x[ending]
    return last


def gemm_floor(weights: ReservoirWeights, tokens: list[np.ndarray]) -> None:
    """Only the GEMMs: step t multiplies the rows still running (lengths sorted) by W^T."""
    lengths = np.sort([len(t) for t in tokens])[::-1]
    x = np.zeros((len(tokens), weights.units))
    out = np.empty_like(x)
    W_T = weights.W.T
    for t in range(lengths[0]):
        active = int((lengths > t).sum())
        np.matmul(x[:active], W_T, out=out[:active])


def prefix_gemm_floor(weights: ReservoirWeights, tokens: list[np.ndarray]) -> None:
    """Only the GEMMs `harvest` does: one per level of the prefix tree, its distinct prefixes."""
    distinct = [
        len({tuple(t[: d + 1]) for t in tokens if len(t) > d}) for d in range(max(map(len, tokens)))
    ]
    x = np.zeros((max(distinct), weights.units))
    out = np.empty_like(x)
    W_T = weights.W.T
    for rows in distinct:
        np.matmul(x[:rows], W_T, out=out[:rows])


def torch_gemm_floor(weights: ReservoirWeights, tokens: list[np.ndarray]) -> None:
    """The same GEMMs through torch (its own BLAS, MKL here): is numpy's BLAS the bottleneck?"""
    lengths = np.sort([len(t) for t in tokens])[::-1]
    x = torch.zeros(len(tokens), weights.units, dtype=torch.float64)
    out = torch.empty_like(x)
    W_T = torch.from_numpy(weights.W).T
    for t in range(lengths[0]):
        active = int((lengths > t).sum())
        torch.mm(x[:active], W_T, out=out[:active])


def torch_module_states(module: ESN, tokens: list[np.ndarray]) -> np.ndarray:
    """ESN.states on a padded one-hot batch (every row every step), last real state kept."""
    lengths = torch.tensor([len(t) for t in tokens])
    inputs = torch.zeros(len(tokens), int(lengths.max()), module.input_dim, dtype=torch.float64)
    for row, sentence in enumerate(tokens):
        inputs[row, torch.arange(len(sentence)), torch.as_tensor(sentence)] = 1.0
    with torch.no_grad():
        x = module.states(inputs)["x"]
    return x[torch.arange(len(tokens)), lengths - 1].numpy()


def best_time(run: Callable[[], object], repeats: int) -> tuple[float, object, float]:
    """Fastest of `repeats` runs, its result, and the cores other processes used meanwhile.

    On a shared machine the fastest run is the least disturbed one; the last number says how
    disturbed it still was (0.0 = machine to ourselves, 1.0 = one core taken by others).
    """
    best, result, others = np.inf, None, 0.0
    for _ in range(repeats):
        busy, own, start = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
        if seconds < best:
            best, others = seconds, others_cores(busy, own, seconds)
    return best, result, others


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    tokens, vocabulary, source = load_sentences(args.sentences, args.seed)
    reservoir = build_reservoir(ESNConfig(units=args.units, seed=args.seed), vocabulary)
    weights = ReservoirWeights.from_reservoir(reservoir)
    lengths = [len(t) for t in tokens]
    blas = {pool["filepath"].rsplit("/", 1)[-1]: pool["num_threads"] for pool in threadpool_info()}
    print(f"sentences: {len(tokens)} ({source}), {sum(lengths)} tokens, longest {max(lengths)}")
    print(f"reservoir: {args.units} units, paper hyperparameters; thread pools: {blas}")

    timings = {}
    timings["reservoirpy run"] = best_time(
        lambda: run_reservoirpy(reservoir, tokens, vocabulary), 1
    )
    reference = timings["reservoirpy run"][1]
    runs = {
        "numpy padded loop": lambda: padded_numpy_loop(weights, tokens),
        "harvest, 2 row chunks": lambda: harvest(weights, tokens, workers=2),
        "harvest": lambda: harvest(weights, tokens),
        "harvest record=all": lambda: harvest(weights, tokens, record="all"),
        "torch ESN.states": lambda: torch_module_states(ESN(weights, 1), tokens),
        "floor, every token": lambda: gemm_floor(weights, tokens),
        "floor, distinct prefix": lambda: prefix_gemm_floor(weights, tokens),
        "floor, torch GEMMs": lambda: torch_gemm_floor(weights, tokens),
    }
    for name, run in runs.items():
        timings[name] = best_time(run, args.repeats)

    floor = timings["floor, distinct prefix"][0]
    baseline = timings["reservoirpy run"][0]
    header = f"{'method':<22}{'seconds':>9}{'speed-up':>10}{'max |diff|':>12}{'/ floor':>9}"
    print(f"\n{header}{'others':>8}")
    for name, (seconds, states, others) in timings.items():
        if isinstance(states, list):  # record="all": compare the last state of each sentence
            states = np.stack([s[-1] for s in states])
        diff = f"{np.abs(states - reference).max():.1e}" if states is not None else "-"
        print(
            f"{name:<22}{seconds:>9.3f}{baseline / seconds:>9.1f}x{diff:>12}"
            f"{seconds / floor:>8.2f}x{others:>8.2f}"
        )
    print("/ floor: against the GEMMs harvest must do (one per distinct prefix and step);")
    print("'floor, every token' is what any per-sentence integrator must do.")
    print("others: cores used by other processes during the timed run (machine is shared)")


if __name__ == "__main__":
    main()
