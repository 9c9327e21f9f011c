"""Time the fixed-point search: all starts in one batched run vs one run per start.

    python benchmarks/fixed_points.py [--units 200 --starts 1024 --iterations 2000
                                       --baseline-starts 16 --threads 1]

The map: h <- tanh(W h + b) of a random 200-unit RNN (W Gaussian with gain 1.2 / sqrt(n), b with
sd 0.1), the autonomous map of the sequential-MNIST networks; starts: states of its own trajectory
from random initial states. Both sides run `rnnatlas.analysis.fixed_points` with the same
settings (Adam iterations, Newton refinement, float64, --threads torch threads):

- ours: the --starts starts in one call (one batched objective, one batched Newton solve);
- baseline: one call per start, as a per-start optimiser loop does (FixedPointFinder-style
  loops, or a scipy.optimize call per start); timed on --baseline-starts starts and scaled to
  --starts (each start costs the same: a fixed number of iterations).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from rnnatlas.analysis.fixed_point_finder import fixed_points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--starts", type=int, default=1024)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--baseline-starts", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    n = args.units
    W = torch.as_tensor(rng.normal(size=(n, n)) * 1.2 / np.sqrt(n))
    b = torch.as_tensor(rng.normal(size=n) * 0.1)

    def step(h):
        return torch.tanh(h @ W.T + b)

    with torch.no_grad():
        h = torch.as_tensor(rng.normal(size=(args.starts, n)))
        for _ in range(50):
            h = step(h)
    starts = h.numpy()
    settings = {"iterations": args.iterations, "newton_iterations": 10}
    start = time.perf_counter()
    ours = fixed_points(step, starts, **settings)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    for row in starts[: args.baseline_starts]:
        fixed_points(step, row[None], **settings)
    base_s = (time.perf_counter() - start) * args.starts / args.baseline_starts
    print(f"{n}-unit RNN, {args.starts} starts, {args.iterations} Adam iterations + Newton, "
          f"{args.threads} thread(s)")  # fmt: skip
    print(f"ours (batched):      {ours_s:8.1f} s; {len(ours.points)} fixed points "
          f"({int(ours.stable.sum())} stable), dropped {ours.dropped}")  # fmt: skip
    print(f"baseline (per start): {base_s:8.1f} s (timed on {args.baseline_starts} starts, "
          "scaled)")  # fmt: skip
    print(f"ratio (baseline / ours): {base_s / ours_s:.1f}x")


if __name__ == "__main__":
    main()
