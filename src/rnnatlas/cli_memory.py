"""`rnnatlas memory-*`: the memory-signature steps (Koppula, Sim & Chin 2018)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnatlas.cli_args import optional_int


def add_commands(sub) -> None:
    p = sub.add_parser("memory-signature", help="memory signature of a states file's states")
    p.add_argument("--states", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="Parquet table")
    p.add_argument("--family", required=True, help="csl, mnist or text8 (a label)")
    p.add_argument("--model", required=True, help="the model's name (a label)")
    p.add_argument("--max-lag", type=int, required=True)
    p.add_argument("--decoder", default="logistic", choices=["logistic", "mlp", "linear"])
    p.add_argument("--max-samples", type=optional_int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--inputs", default="token", choices=["token", "pixel_mean", "row_cluster"])
    p.add_argument("--data", type=Path, help="sequential-MNIST data (the row classes)")
    p.add_argument("--bins", type=int, default=4, help="row classes (blank + bins - 1)")
    p.add_argument("--threads", type=int, default=1)

    p = sub.add_parser("memory-ngram", help="signature of a character n-gram model (text8)")
    p.add_argument("--data", type=Path, required=True, help="the text8 data folder")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--max-lag", type=int, required=True)
    p.add_argument("--max-samples", type=optional_int, default=None)
    p.add_argument("--characters", type=int, default=20_000, help="test characters read")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("memory-capacity", help="linear ESN: our signature vs reservoirpy's MC")
    p.add_argument("--out", type=Path, required=True, help="JSON")
    p.add_argument("--units", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("memory-figures", help="signature figures of every family")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("tables", type=Path, nargs="+", help="signature Parquet tables")


def add_report_arguments(p) -> None:
    """The report's memory inputs (`rnnatlas report --memory-...`)."""
    p.add_argument("--memory-signatures", type=Path, nargs="*", default=[])
    p.add_argument("--memory-capacity", type=Path, help="capacity.json")
    p.add_argument("--memory-figures", type=Path, help="folder of the memory figures")


def report_tables(args: argparse.Namespace) -> dict:
    given = {
        "signatures": args.memory_signatures,
        "capacity": args.memory_capacity,
        "figures": args.memory_figures,
    }
    return {key: value for key, value in given.items() if value}


def run(args: argparse.Namespace) -> None:
    from rnnatlas.papers.memory import steps as memory_steps

    if args.step == "memory-signature":
        memory_steps.signature_step(
            args.states, args.out, family=args.family, model=args.model, max_lag=args.max_lag,
            decoder=args.decoder, max_samples=args.max_samples, seed=args.seed,
            inputs=args.inputs, data_dir=args.data, bins=args.bins, threads=args.threads,
        )  # fmt: skip
    elif args.step == "memory-ngram":
        memory_steps.ngram_step(
            args.data, args.out, n=args.n, max_lag=args.max_lag, max_samples=args.max_samples,
            test_characters=args.characters, seed=args.seed,
        )  # fmt: skip
    elif args.step == "memory-capacity":
        memory_steps.capacity_step(args.out, units=args.units, seed=args.seed)
    elif args.step == "memory-figures":
        import pandas as pd

        from rnnatlas.papers.memory.figures import draw_all

        draw_all(pd.concat([pd.read_parquet(t) for t in args.tables], ignore_index=True), args.out)
    else:  # pragma: no cover - argparse only offers the commands above
        raise ValueError(f"unknown memory step {args.step}")
