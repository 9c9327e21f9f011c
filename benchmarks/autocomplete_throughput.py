"""Training throughput of the autocomplete models: our Nested LSTM versus torch's fused LSTM.

    python benchmarks/autocomplete_throughput.py [--units 128 --classes 1026 --batch 64
                                                  --length 200 --steps 5 --threads 1 --device cpu]

Paper size (Madsen 2019): --units 600 --classes 16386 (batch 64, 200 characters). Each model
(rnnatlas.models.autocomplete: GRU 2 layers, LSTM 2 layers, both torch's fused kernels; Nested
LSTM 1 layer depth 2, our cell stepped in Python) runs --steps optimizer steps (masked
cross-entropy, Adam) on random full-length observations after one warm-up step; characters per
second = batch x length x steps / seconds. The ratio is each model's throughput over the fused
LSTM's, measured in this run. The paper-scale GPU projection (with mixed precision and a
compiled cell) is benchmarks/text8_gpu_runbook.py.
"""

from __future__ import annotations

import argparse
import time

import torch
from cpu_clock import busy_cpu_seconds, others_cores, own_cpu_seconds

from rnnatlas.models.autocomplete import AutocompleteModel
from rnnatlas.papers.text8.metrics import masked_cross_entropy


def throughput(cell: str, args, device: torch.device) -> tuple[float, float]:
    """(characters per second, seconds per step) of `args.steps` training steps."""
    torch.manual_seed(0)
    model = AutocompleteModel(cell, units=args.units, classes=args.classes).to(device)
    optimizer = torch.optim.Adam(model.parameters())
    tokens = torch.randint(1, 28, (args.batch, args.length), device=device)
    targets = torch.randint(2, args.classes, (args.batch, args.length), device=device)

    def step() -> None:
        optimizer.zero_grad()
        loss = masked_cross_entropy(model(tokens), targets)
        loss.backward()
        optimizer.step()

    step()  # warm-up: allocations, kernel selection
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return args.batch * args.length * args.steps / seconds, seconds / args.steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--classes", type=int, default=1026)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    busy, own, wall = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    rates = {cell: throughput(cell, args, device) for cell in ("lstm", "gru", "nlstm")}
    print(f"{args.units} units, {args.classes} classes, batch {args.batch} x {args.length} chars, "
          f"{args.steps} steps, {args.threads} thread(s), {device}")  # fmt: skip
    header = ("model", "chars/s", "s/step", "vs fused LSTM")
    print(f"{header[0]:8s} {header[1]:>10s} {header[2]:>8s} {header[3]:>14s}")
    for cell, (rate, per_step) in rates.items():
        print(f"{cell:8s} {rate:10.0f} {per_step:8.3f} {rate / rates['lstm'][0]:13.2f}x")
    seconds = time.perf_counter() - wall
    print(f"other processes kept {others_cores(busy, own, seconds):.2f} cores busy meanwhile")


if __name__ == "__main__":
    main()
