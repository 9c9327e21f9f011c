"""Time memory-signature decoders: all lags in one fit vs one scikit-learn fit per lag.

    python benchmarks/memory_signature.py [--states 200000 --units 600 --lags 20 --vocab 27
                                           --sequences 200 --threads 1 --baseline-lags all]

States: a leaky tanh reservoir (spectral radius 0.95, leak 0.3) driven by i.i.d. uniform symbols,
--sequences sequences of --states / --sequences steps each. Decoders for lags 0..--lags, the input
symbol at t - k from the state at t, multinomial logistic regression with C = 1, tol 1e-4 and
at most 100 iterations on both sides, on the same standardised float32 features and the same
held-out sequences (rnnatlas.analysis.memory_signature's own split):

- ours: `memory_signature(decoder="logistic")`, every lag a block of heads of one weight matrix,
  one L-BFGS-B run on the summed (independent) objectives;
- baseline: `sklearn.linear_model.LogisticRegression` fitted once per lag (same objective, same
  solver), the features already prepared (the preparation is timed once and added).

--baseline-lags N times the baseline on N evenly spaced lags only and scales its time to all
lags (the per-lag cost varies: lag 0 converges early; lags without memory run to max_iter), for
sizes where the full baseline takes too long. All timings in this one process, with --threads
torch and BLAS threads on both sides; "others" is the cores other processes used meanwhile.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from cpu_clock import busy_cpu_seconds, others_cores, own_cpu_seconds
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from rnnatlas.analysis.memory_signature import PROBABILITY_FLOOR, _samples, memory_signature

TSV = Path("results/benchmarks/memory_signature.tsv")


def reservoir_states(rows: int, units: int, vocab: int, sequences: int, seed: int):
    """(states float32 [rows, units], symbols [rows], sequence ids [rows]), sequences run as
    one batch: h <- (1 - a) h + a tanh(W h + W_in[x])."""
    length = rows // sequences
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(units, units, generator=g) / units**0.5
    W *= 0.95 / torch.linalg.eigvals(W).abs().max()
    W_in = torch.randn(vocab, units, generator=g)
    symbols = torch.randint(0, vocab, (sequences, length), generator=g)
    hidden = torch.zeros(sequences, units)
    states = torch.empty(sequences, length, units)
    drive = W_in[symbols]
    for t in range(length):
        hidden = 0.7 * hidden + 0.3 * torch.tanh(hidden @ W.T + drive[:, t])
        states[:, t] = hidden
    ids = np.repeat(np.arange(sequences), length)
    return states.reshape(-1, units).numpy(), symbols.reshape(-1).numpy(), ids


def timed(run):
    """(result, seconds, cores other processes used meanwhile: the machine may be shared)."""
    busy, own, start = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    return result, seconds, others_cores(busy, own, seconds)


def per_lag_sklearn(samples, lags: list[int], max_iter: int) -> dict[int, tuple]:
    """{lag: (accuracy, cross-entropy, iterations)} from one LogisticRegression per lag."""
    train, test = ~samples.is_test, samples.is_test
    out = {}
    for lag in lags:
        on_train = train & samples.valid[:, lag]
        on_test = test & samples.valid[:, lag]
        model = LogisticRegression(C=1.0, tol=1e-4, max_iter=max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(samples.features[on_train], samples.targets[on_train, lag])
        truth = samples.targets[on_test, lag]
        p = model.predict_proba(samples.features[on_test])
        column = np.searchsorted(model.classes_, truth)
        accuracy = float(np.mean(model.classes_[p.argmax(1)] == truth))
        picked = np.maximum(p[np.arange(len(truth)), column], PROBABILITY_FLOOR)
        out[lag] = (accuracy, float(-np.log(picked).mean()), int(model.n_iter_[0]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=200_000)
    parser.add_argument("--units", type=int, default=600)
    parser.add_argument("--lags", type=int, default=20, help="K: lags 0..K")
    parser.add_argument("--vocab", type=int, default=27)
    parser.add_argument("--sequences", type=int, default=200)
    parser.add_argument("--max-iter", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--baseline-lags", type=int, default=None, help="time the baseline on N lags, scale up"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    K = args.lags

    (states, symbols, ids), generate_s, _ = timed(
        lambda: reservoir_states(args.states, args.units, args.vocab, args.sequences, args.seed)
    )
    print(
        f"{len(states):,} states of {args.units} units ({args.sequences} sequences, generated "
        f"in {generate_s:.1f} s), {args.vocab} symbols, lags 0..{K}, threads {args.threads}",
        flush=True,
    )
    ours, ours_s, ours_others = timed(
        lambda: memory_signature(
            states, symbols, K, sequence_ids=ids, seed=args.seed, max_iter=args.max_iter
        )
    )
    solver = ours.attrs["solver"]
    print(
        f"  ours: {ours_s:.1f} s ({solver['iterations']} L-BFGS iterations, "
        f"{solver['evaluations']} evaluations: {solver['message']})",
        flush=True,
    )

    samples, prepare_s, _ = timed(
        lambda: _samples(
            states, symbols, K, ids, "logistic", 0.25, args.seed, None, 0, standardize=True
        )
    )
    count = K + 1 if args.baseline_lags is None else min(args.baseline_lags, K + 1)
    lags = sorted({int(round(x)) for x in np.linspace(0, K, count)})
    baseline, fits_s, base_others = timed(lambda: per_lag_sklearn(samples, lags, args.max_iter))
    baseline_s = prepare_s + fits_s * (K + 1) / len(lags)
    scaled = "" if len(lags) == K + 1 else f" (fitted {len(lags)} lags, scaled to {K + 1})"
    print(f"  scikit-learn per lag: {baseline_s:.1f} s{scaled}", flush=True)

    table = ours.set_index("lag")
    print(f"\n{'lag':>4}{'ours acc':>10}{'sk acc':>9}{'ours CE':>9}{'sk CE':>8}{'sk iters':>9}")
    accuracy_diff, ce_diff = [], []
    for lag in lags:
        acc, ce, iterations = baseline[lag]
        accuracy_diff.append(abs(table.loc[lag, "accuracy"] - acc))
        ce_diff.append(abs(table.loc[lag, "cross_entropy"] - ce))
        print(
            f"{lag:>4}{table.loc[lag, 'accuracy']:>10.4f}{acc:>9.4f}"
            f"{table.loc[lag, 'cross_entropy']:>9.4f}{ce:>8.4f}{iterations:>9}"
        )
    speedup = baseline_s / ours_s
    print(
        f"\nours {ours_s:.1f} s, scikit-learn per lag {baseline_s:.1f} s: {speedup:.1f}x faster; "
        f"accuracy max |diff| {max(accuracy_diff):.4f}, cross-entropy max |diff| "
        f"{max(ce_diff):.4f} nats"
    )
    print(
        f"others: cores used by other processes during ours {ours_others:.2f}, during the "
        f"baseline {base_others:.2f} (machine is shared)"
    )

    TSV.parent.mkdir(parents=True, exist_ok=True)
    with open(TSV, "w") as out:
        out.write(
            "method\tstates\tunits\tlags\tvocab\tthreads\tseconds\tspeedup\t"
            "max_abs_accuracy_diff\tmax_abs_ce_diff\tothers_cores\n"
        )
        out.write(
            f"sklearn per lag\t{len(states)}\t{args.units}\t{K}\t{args.vocab}\t{args.threads}\t"
            f"{baseline_s:.3f}\t1.000\t0\t0\t{base_others:.3f}\n"
        )
        out.write(
            f"ours, all lags\t{len(states)}\t{args.units}\t{K}\t{args.vocab}\t{args.threads}\t"
            f"{ours_s:.3f}\t{speedup:.3f}\t{max(accuracy_diff):.4f}\t{max(ce_diff):.4f}\t"
            f"{ours_others:.3f}\n"
        )
    print(f"wrote {TSV}")


if __name__ == "__main__":
    main()
