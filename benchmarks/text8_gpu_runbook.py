"""GPU run-book for the text8 paper scale: training throughput of GRU, LSTM and Nested LSTM at
Madsen's size, per numeric variant, and the projected time of the paper's 14,278 steps.

    python benchmarks/text8_gpu_runbook.py                  # on a machine with a CUDA GPU
    python benchmarks/text8_gpu_runbook.py --device cpu --units 32 --classes 200 --length 40

Paper size (the defaults): 2 x 600 units (Nested LSTM: 1 layer of depth 2), 16,386 classes,
batch 64 x 200 characters, Adam, masked cross-entropy. Variants:
  fp32      eager float32, TF32 off: the numbers the pipeline's CPU tests pin down
  tf32      float32 storage, TF32 matrix products (Ampere and later; ~1e-3 relative change)
  bf16      autocast to bfloat16 (mixed precision; changes the numbers beyond float tolerance)
  compiled  fp32 with the Nested LSTM step compiled (torch.compile; the same numbers within
            float tolerance, tests/test_nested_lstm.py), GRU and LSTM already run fused kernels
Each row: seconds per optimizer step (after one warm-up step, and for `compiled` after the
compilation), characters per second, the projected time of 14,278 steps against the paper's
~22,400 s per model, and the last step's loss relative to fp32's (how far the variant drifts).
The last lines name the fastest variant per model that keeps the numbers (fp32 or compiled),
which the pipeline can use (text8.model.compile_cell), and the fastest overall.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch

from rnnatlas.models.autocomplete import CELLS, AutocompleteModel
from rnnatlas.papers.text8.metrics import masked_cross_entropy

PAPER_STEPS = 14_278
PAPER_SECONDS = 22_400
VARIANTS = ("fp32", "tf32", "bf16", "compiled")
KEEPS_NUMBERS = ("fp32", "compiled")  # within float tolerance of the CPU-tested path


def _numerics(variant: str, device: torch.device):
    """TF32 switches and the autocast context of a variant."""
    tf32 = variant == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    if variant == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def measure(cell: str, variant: str, args, device: torch.device) -> tuple[float, float]:
    """(seconds per step, the last step's loss) of 1 + `args.steps` Adam steps from a fixed
    seed: the last loss shows how far the variant's training has drifted from fp32's."""
    torch.manual_seed(0)
    model = AutocompleteModel(cell, units=args.units, classes=args.classes).to(device)
    if variant == "compiled":
        model.compile_cells()
    optimizer = torch.optim.Adam(model.parameters())
    generator = torch.Generator().manual_seed(1)
    tokens = torch.randint(1, 28, (args.batch, args.length), generator=generator).to(device)
    targets = torch.randint(2, args.classes, (args.batch, args.length), generator=generator)
    targets = targets.to(device)
    context = _numerics(variant, device)

    def step() -> float:
        optimizer.zero_grad()
        with context:
            loss = masked_cross_entropy(model(tokens).float(), targets)
        loss.backward()
        optimizer.step()
        return loss.item()

    step()  # warm-up: allocations, kernel selection, compilation
    _synchronize(device)
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    _synchronize(device)
    return (time.perf_counter() - start) / args.steps, loss


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=600)
    parser.add_argument("--classes", type=int, default=16_386)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--cells", default=",".join(CELLS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"{name}; torch {torch.__version__}; {args.units} units, {args.classes:,} classes, "
          f"batch {args.batch} x {args.length} characters, {args.steps} timed steps")  # fmt: skip
    header = f"{'model':6s} {'variant':9s} {'s/step':>8s} {'chars/s':>10s} {'14,278 steps':>13s} "
    print(header + f"{'vs paper':>9s} {'loss vs fp32':>13s}")
    results: dict[tuple[str, str], float] = {}
    for cell in args.cells.split(","):
        reference = None
        for variant in args.variants.split(","):
            if variant == "compiled" and cell != "nlstm":
                continue  # torch's GRU/LSTM kernels are fused already
            per_step, loss = measure(cell, variant, args, device)
            reference = loss if variant == "fp32" else reference
            change = f"{abs(loss - reference) / abs(reference):13.1e}" if reference else " " * 13
            projected = PAPER_STEPS * per_step
            rate = args.batch * args.length / per_step
            print(f"{cell:6s} {variant:9s} {per_step:8.4f} {rate:10.0f} {projected:12.0f}s "
                  f"{projected / PAPER_SECONDS:8.2f}x {change}")  # fmt: skip
            results[cell, variant] = per_step
    print(f"(paper: ~{PAPER_SECONDS:,} s per model for {PAPER_STEPS:,} steps, Madsen 2019)")
    for cell in args.cells.split(","):
        timed = {v: s for (c, v), s in results.items() if c == cell}
        exact = {v: s for v, s in timed.items() if v in KEEPS_NUMBERS}
        if exact:
            best = min(exact, key=exact.get)
            setting = "compile_cell: true" if best == "compiled" else "compile_cell: false"
            print(f"{cell}: fastest keeping the numbers: {best} (text8.model.{setting}); "
                  f"fastest overall: {min(timed, key=timed.get)}")  # fmt: skip


if __name__ == "__main__":
    main()
