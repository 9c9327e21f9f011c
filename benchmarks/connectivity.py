"""Time the connectivity of one text: batched backward passes vs one backward pass per output step.

    python benchmarks/connectivity.py [--length 200 --units 128 --layers 2 --embedding UNITS
                                       --classes 1026 --cell gru --repeats 3 --threads 1]

Paper size (Madsen 2019's GRU): --units 600 --classes 16386. The model is an untrained stand-in
with the autocomplete contract (Embedding(28, E, padding_idx=0) -> GRU/LSTM -> Linear; the speed
does not depend on the weights' values), read on the paper's fixed text cut or repeated to
--length characters, with random target words. All timings come from this one process, each the
best of --repeats runs:

- per-step loop (the baseline): one forward pass, then one backward pass per output step t̃ of
  its target logit (retain_graph=True) w.r.t. the embedded text, then the chain rule through the
  embedding matrix and the squared norm, as `connectivity` does;
- per-step loop, readout: the same, but each backward starts from W_k . h(t̃) rather than from
  the logits (no [T, C] x [C, H] product per step);
- `connectivity` on the contract alone (`embedding`, `logits_from_embeddings`), by default
  (passes of at most 64 output steps over prefixes) and with steps_per_pass=T (one pass);
- `connectivity` on the model that also exposes `hidden_from_embeddings` and `readout`, as
  rnnatlas.models.autocomplete does: only the picked logits are computed.

max |diff| is against the baseline (absolute, and relative to the largest connectivity).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from cpu_clock import busy_cpu_seconds, others_cores, own_cpu_seconds
from torch import nn

from rnnatlas.analysis.connectivity import connectivity

TSV = Path("results/benchmarks/connectivity.tsv")
TEXT = (
    "context the formal study of grammar is an important part of education from a young age "
    "through advanced learning though the rules taught in schools are not a grammar in the sense "
    "most linguists use"
)


class StandIn(nn.Module):
    """The autocomplete models' contract (`embedding`, `logits_from_embeddings`), plus
    `hidden_from_embeddings` and `readout` like rnnatlas.models.autocomplete."""

    def __init__(self, cell: str, embedding: int, units: int, layers: int, classes: int):
        super().__init__()
        self.embedding = nn.Embedding(28, embedding, padding_idx=0)
        rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.rnn = rnn(embedding, units, num_layers=layers, batch_first=True)
        self.readout = nn.Linear(units, classes)

    def hidden_from_embeddings(self, emb: torch.Tensor) -> torch.Tensor:
        return self.rnn(emb)[0]

    def logits_from_embeddings(self, emb: torch.Tensor) -> torch.Tensor:
        return self.readout(self.hidden_from_embeddings(emb))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.logits_from_embeddings(self.embedding(tokens))


class ContractOnly(nn.Module):
    """The same model seen through the contract alone."""

    def __init__(self, model: StandIn):
        super().__init__()
        self.model = model
        self.embedding = model.embedding

    def logits_from_embeddings(self, emb: torch.Tensor) -> torch.Tensor:
        return self.model.logits_from_embeddings(emb)


def symbols(text: str) -> torch.Tensor:
    return torch.tensor([1 if c == " " else ord(c) - ord("a") + 2 for c in text])


def per_step_loop(
    model: StandIn, tokens: torch.Tensor, targets: torch.Tensor, readout: bool = False
) -> np.ndarray:
    """The straightforward method: one backward pass per output step on a shared graph."""
    n = len(tokens)
    with torch.no_grad():
        embedded = model.embedding(tokens[None])
    embedded.requires_grad_(True)
    if readout:  # only the target logits: z_k(t) = W_k . h(t) + b_k
        hidden = model.hidden_from_embeddings(embedded)[0]
        picked = (hidden * model.readout.weight[targets]).sum(-1)
    else:
        picked = model.logits_from_embeddings(embedded)[0, torch.arange(n), targets]
    grads = torch.zeros(n, n, embedded.shape[-1])
    for t_out in range(n):
        (grad,) = torch.autograd.grad(picked[t_out], embedded, retain_graph=True)
        grads[t_out] = grad[0]
    with torch.no_grad():
        onehot = grads @ model.embedding.weight.T
        return onehot.square().sum(-1).numpy()


def best_of(repeats: int, run):
    """(result, best seconds, cores other processes used during the best run)."""
    best = (None, float("inf"), 0.0)
    for _ in range(repeats):
        busy, own, start = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
        if seconds < best[1]:
            best = (result, seconds, others_cores(busy, own, seconds))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=200, help="characters of text")
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--embedding", type=int, default=None, help="default: --units")
    parser.add_argument("--classes", type=int, default=1026)
    parser.add_argument("--cell", choices=["gru", "lstm"], default="gru")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    n = args.length
    text = (TEXT + " ") * (n // (len(TEXT) + 1) + 1)
    tokens = symbols(text[:n])
    targets = torch.randint(2, args.classes, (n,))
    width = args.embedding or args.units
    model = StandIn(args.cell, width, args.units, args.layers, args.classes).eval()
    contract = ContractOnly(model).eval()
    print(
        f"{args.cell.upper()} {args.layers}x{args.units}, embedding {width}, {args.classes} "
        f"classes; {n} characters; torch threads {torch.get_num_threads()}; "
        f"best of {args.repeats}"
    )
    connectivity(contract, tokens[:4], targets[:4])  # first call: imports, allocator warm-up

    methods = {
        "per-step loop": lambda: per_step_loop(model, tokens, targets),
        "per-step loop, readout": lambda: per_step_loop(model, tokens, targets, readout=True),
        "ours, contract": lambda: connectivity(contract, tokens, targets),
        "ours, contract, 1 pass": lambda: connectivity(contract, tokens, targets, steps_per_pass=n),
        "ours, readout": lambda: connectivity(model, tokens, targets),
    }
    rows = []
    for name, run in methods.items():
        result, seconds, others = best_of(args.repeats, run)
        rows.append((name, result, seconds, others))
        print(f"  {name}: {seconds:.2f} s", flush=True)

    reference, baseline = rows[0][1], rows[0][2]
    scale = float(reference.max())
    print(
        f"\n{'method':<24}{'seconds':>9}{'speed-up':>10}{'max |diff|':>12}{'relative':>10}"
        f"{'others':>8}"
    )
    table = []
    for name, result, seconds, others in rows:
        diff = float(np.abs(result - reference).max())
        print(
            f"{name:<24}{seconds:>9.2f}{baseline / seconds:>9.1f}x{diff:>12.1e}"
            f"{diff / scale:>10.1e}{others:>8.2f}"
        )
        table.append((name, seconds, baseline / seconds, diff, diff / scale, others))
    print(f"relative: max |diff| / the largest connectivity of the text ({scale:.3e})")
    print("others: cores used by other processes during the timed run (machine is shared)")

    TSV.parent.mkdir(parents=True, exist_ok=True)
    tmp = TSV.with_name(f".{TSV.name}.tmp")
    with open(tmp, "w") as out:
        out.write(
            "method\tcell\tlayers\tunits\tembedding\tclasses\tlength\tthreads\tseconds\tspeedup\t"
            "max_abs_diff\tmax_rel_diff\tothers_cores\n"
        )
        for name, seconds, speedup, diff, relative, others in table:
            out.write(
                f"{name}\t{args.cell}\t{args.layers}\t{args.units}\t{width}\t{args.classes}\t{n}\t"
                f"{torch.get_num_threads()}\t{seconds:.4f}\t{speedup:.3f}\t{diff:.3e}\t{relative:.3e}\t"
                f"{others:.3f}\n"
            )
    tmp.replace(TSV)
    print(f"wrote {TSV}")


if __name__ == "__main__":
    main()
