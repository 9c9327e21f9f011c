"""Time the Lyapunov spectrum of a random tanh RNN: batched QR method vs a per-trajectory loop.

    python benchmarks/lyapunov.py [--units 200 --radius 1.5 --steps 1000 --transient 100 --ics 10
                                   --k K --threads 1]

The untrained regime of Horoi et al. (2020): h(t+1) = tanh(W h(t)), W Gaussian rescaled to
spectral radius --radius (1.5: chaotic), --ics initial conditions, the full spectrum (k = n)
unless --k. All timings come from this one process, each method run once:

- per-trajectory loop (the baseline): for each initial condition, each step the Jacobian by
  `torch.autograd.functional.jacobian`, J @ Q, QR, log|diag R|;
- `lyapunov_spectrum` on the plain closure h -> tanh(W h), both ways it has to get J Q:
  method="jacobian" (Jacobians of a chunk of steps by one reverse-mode call) and method="jvp"
  (forward mode each step, vmapped over the frame's columns);
- `lyapunov_spectrum` on `rnn_autonomous_map` (analytic Jacobian diag(1 - h^2) W);
- floor: only the batched J @ Q products and QRs, which every batched QR method must do.

All methods run with the same torch threads (--threads, 1 by default: `lyapunov_spectrum`'s own
default; with 2 on a 2-core machine shared with other jobs, every method slows down 10-20x as
OpenMP threads wait on each other at every small QR). All methods evolve the frame during the
transient and start from the same frame. In the chaotic regime rounding differences between a
batched and an unbatched product grow as e^{λ t}, so after a few hundred steps the trajectories
are different samples of the same attractor and the spectra agree only to their statistical
spread; the short check (--check-steps) runs every method on the same start for few enough
steps that the trajectories still coincide.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch
from cpu_clock import busy_cpu_seconds, others_cores, own_cpu_seconds

from rnnatlas.analysis.lyapunov import lyapunov_spectrum, rnn_autonomous_map

TSV = Path("results/benchmarks/lyapunov.tsv")


def initial_frame(n: int, k: int, seed: int) -> torch.Tensor:
    """The frame lyapunov_spectrum starts from (same generator, same draw)."""
    frame = torch.randn(k, n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return torch.linalg.qr(frame.T).Q


def per_trajectory_loop(step, h0: torch.Tensor, n_steps: int, transient: int, k: int, seed: int):
    """The straightforward method, one initial condition at a time."""
    n = h0.shape[1]
    rows = []
    for h in h0:
        Q = initial_frame(n, k, seed)
        sums = torch.zeros(k, dtype=torch.float64)
        for t in range(transient + n_steps):
            J = torch.autograd.functional.jacobian(step, h)
            Q, R = torch.linalg.qr(J @ Q)
            if t >= transient:
                sums += R.diagonal().abs().log()
            with torch.no_grad():
                h = step(h)
        rows.append(sums / n_steps)
    return -np.sort(-torch.stack(rows).numpy(), axis=1)


def floor(W: torch.Tensor, h0: torch.Tensor, n_steps: int, transient: int, k: int, seed: int):
    """Only the batched products J @ Q and the QRs (one fixed Jacobian per initial condition)."""
    B, n = h0.shape
    J = rnn_autonomous_map(W).jacobian(h0)
    Q = initial_frame(n, k, seed).expand(B, n, k).clone()
    for _ in range(transient + n_steps):
        Q = torch.linalg.qr(torch.bmm(J, Q)).Q
    return None


def timed(run):
    """(result, seconds, cores other processes used meanwhile: the machine may be shared)."""
    busy, own, start = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    return result, seconds, others_cores(busy, own, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--radius", type=float, default=1.5)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--transient", type=int, default=100)
    parser.add_argument("--ics", type=int, default=10)
    parser.add_argument("--k", type=int, default=None, help="exponents (default: all)")
    parser.add_argument("--check-steps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads for every method (default 1)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    n = args.units
    k = n if args.k is None else args.k
    g = torch.Generator().manual_seed(args.seed)
    W = torch.randn(n, n, generator=g, dtype=torch.float64) / math.sqrt(n)
    W *= args.radius / torch.linalg.eigvals(W).abs().max()
    h0 = torch.randn(args.ics, n, generator=g, dtype=torch.float64)
    closure = lambda h: torch.tanh(W @ h)  # noqa: E731
    analytic = rnn_autonomous_map(W)
    print(
        f"tanh RNN: {n} units, spectral radius {args.radius}, {args.ics} initial conditions, "
        f"{args.transient} + {args.steps} steps, "
        f"{'full spectrum' if k == n else f'{k} largest exponents'}; torch threads "
        f"{torch.get_num_threads()}"
    )
    lyapunov_spectrum(analytic, h0[:2], 2, transient=1)  # first use of torch.func: imports

    def ours(step, method):
        return lambda s, t: (
            lyapunov_spectrum(
                step, h0, s, transient=t, k=k, seed=args.seed, method=method, num_threads=None
            ).exponents
        )

    methods = {
        "per-trajectory loop": lambda s, t: per_trajectory_loop(closure, h0, s, t, k, args.seed),
        "ours, jacobian": ours(closure, "jacobian"),
        "ours, jvp": ours(closure, "jvp"),
        "ours, analytic J": ours(analytic, "jacobian"),
        "floor: bmm + QR": lambda s, t: floor(W, h0, s, t, k, args.seed),
    }
    auto = "jvp" if args.ics * n * n * (n - k) > 1.5e7 else "jacobian"
    # short check: trajectories still coincide, so every method must give the same numbers
    check = {name: run(args.check_steps, 5) for name, run in methods.items()}
    reference = check["per-trajectory loop"]
    check_diff = {
        name: float(np.abs(out - reference).max()) if out is not None else float("nan")
        for name, out in check.items()
    }

    rows = []
    for name, run in methods.items():
        spectra, seconds, others = timed(lambda run=run: run(args.steps, args.transient))
        rows.append((name, spectra, seconds, others))
        print(f"  {name}: {seconds:.1f} s", flush=True)

    baseline_spectra, baseline = rows[0][1], rows[0][2]
    spread = baseline_spectra.std(axis=0, ddof=1).max()
    header = (
        f"{'method':<22}{'seconds':>9}{'speed-up':>10}{'max |diff|':>12}"
        f"{'mean diff':>11}{'short chk':>11}{'others':>8}"
    )
    print(f"\n{header}")
    table = []
    for name, spectra, seconds, others in rows:
        if spectra is None:
            diff = mean_diff = float("nan")
        else:
            diff = float(np.abs(spectra - baseline_spectra).max())
            mean_diff = float(np.abs(spectra.mean(0) - baseline_spectra.mean(0)).max())
        print(
            f"{name:<22}{seconds:>9.2f}{baseline / seconds:>9.1f}x{diff:>12.1e}"
            f"{mean_diff:>11.1e}{check_diff[name]:>11.1e}{others:>8.2f}"
        )
        table.append((name, seconds, baseline / seconds, diff, mean_diff, check_diff[name], others))
    lam = baseline_spectra.mean(0)
    print(
        f"λ_1 {lam[0]:.4f}, λ_{k} {lam[-1]:.4f} nats/step; largest spread of an exponent "
        f"across initial conditions (sd) {spread:.1e}"
    )
    print("max |diff|, mean diff: against the per-trajectory loop, per initial condition and")
    print(f"for the mean over them ({args.steps} steps: where λ_1 > 0, trajectories decorrelate);")
    print(f"short chk: max |diff| after {args.check_steps} steps, trajectories still equal.")
    print(f"method='auto' (the default) takes '{auto}' here, given no analytic Jacobian.")
    print("others: cores used by other processes during the timed run (machine is shared)")

    TSV.parent.mkdir(parents=True, exist_ok=True)
    with open(TSV, "w") as out:
        out.write(
            "method\tunits\tradius\tics\tk\ttransient\tsteps\tthreads\tseconds\tspeedup\t"
            "max_abs_diff\tmean_abs_diff\tshort_check_diff\tothers_cores\tlambda_max\n"
        )
        for name, seconds, speedup, diff, mean_diff, short, others in table:
            out.write(
                f"{name}\t{n}\t{args.radius}\t{args.ics}\t{k}\t{args.transient}\t{args.steps}\t"
                f"{torch.get_num_threads()}\t{seconds:.4f}\t{speedup:.3f}\t{diff:.3e}\t"
                f"{mean_diff:.3e}\t{short:.3e}\t{others:.3f}\t{lam[0]:.6f}\n"
            )
    print(f"wrote {TSV}")


if __name__ == "__main__":
    main()
