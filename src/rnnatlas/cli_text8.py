"""`rnnatlas text8-*`: the steps of Madsen 2019 (text8 autocomplete) that the rules call."""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnatlas.cli_args import json_object, optional_int


def add_commands(sub) -> None:
    p = sub.add_parser("text8-download", help="fetch text8.zip (checked: size and sha256)")
    p.add_argument("--out", type=Path, required=True, help="folder for text8.zip")

    p = sub.add_parser("text8-data", help="the autocomplete dataset: splits + card.json")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--source", choices=["embedded", "zip"], default="embedded")
    p.add_argument("--zip", type=Path, help="text8.zip (source zip)")
    p.add_argument("--vocabulary-bits", type=int, default=14)
    p.add_argument("--max-chars", type=int, default=200)
    p.add_argument("--seed", type=int, default=450849059)
    p.add_argument("--max-characters", type=optional_int, default=None)

    p = sub.add_parser("text8-train", help="train one GRU / LSTM / Nested LSTM autocomplete model")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="model directory")
    p.add_argument("--spec", type=json_object, required=True, help="text8.model as JSON + kind")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume-dir", type=Path, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")

    p = sub.add_parser("text8-evaluate", help="test cross-entropy/accuracy, letters known")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--max-sequences", type=optional_int, default=None)
    p.add_argument("--threads", type=int, default=1)

    p = sub.add_parser("text8-states", help="hidden states of test sequences to Parquet")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--max-sequences", type=optional_int, default=None)
    p.add_argument("--threads", type=int, default=1)

    p = sub.add_parser("text8-connectivity", help="connectivity heatmaps, explorer and demo")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="folder for the tables")
    p.add_argument("--figures", type=Path, required=True)
    p.add_argument("--text", help="lowercase a-z words (default: the article's fixed text)")
    p.add_argument("--demo-text", default="parts of north africa")
    p.add_argument("--plain", action="store_true", help="plain norm (default: squared)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("models", type=Path, nargs="+", help="model directories")

    p = sub.add_parser("text8-figures", help="test table, letters known, training curves")
    p.add_argument("--test", type=Path, nargs="+", required=True, help="test_metrics.parquet")
    p.add_argument("--letters", type=Path, nargs="+", required=True, help="letters_known.parquet")
    p.add_argument("--histories", type=Path, nargs="+", required=True, help="history.parquet")
    p.add_argument("--count-padding", action="store_true", help="the author's padded counts")
    p.add_argument("--out", type=Path, required=True)


def add_report_arguments(p) -> None:
    """The report's text8 inputs (`rnnatlas report --text8-...`)."""
    p.add_argument("--text8-test", type=Path, nargs="*", default=[], help="test_metrics.parquet")
    p.add_argument("--text8-letters", type=Path, nargs="*", default=[])
    p.add_argument("--text8-histories", type=Path, nargs="*", default=[])
    p.add_argument("--text8-demo", type=Path, help="demo.parquet")
    p.add_argument("--text8-card", type=Path, help="the text8 data's card.json")
    p.add_argument("--text8-figures", type=Path, help="folder of the text8 figures")


def report_tables(args: argparse.Namespace) -> dict:
    """The `text8` mapping of build_report from the report's arguments."""
    given = {
        "test": args.text8_test,
        "letters": args.text8_letters,
        "histories": args.text8_histories,
        "demo": args.text8_demo,
        "card": args.text8_card,
        "figures": args.text8_figures,
    }
    return {key: value for key, value in given.items() if value}


def run(args: argparse.Namespace) -> None:
    if args.step == "text8-download":
        from rnnatlas.papers.text8.data import download_text8

        download_text8(args.out)
    elif args.step == "text8-data":
        from rnnatlas.papers.text8.dataset import data_step

        data_step(
            args.out, source=args.source, zip_path=args.zip,
            vocabulary_bits=args.vocabulary_bits, max_chars=args.max_chars, seed=args.seed,
            max_characters=args.max_characters,
        )  # fmt: skip
    elif args.step == "text8-train":
        from rnnatlas.papers.text8.train import train_step

        spec = dict(args.spec)
        spec["batch"] = spec.pop("batch_size", spec.get("batch", 64))
        train_step(
            args.data, args.out, spec, args.seed, args.resume_dir, threads=args.threads,
            name=spec["kind"], device=args.device,
        )  # fmt: skip
    elif args.step == "text8-evaluate":
        from rnnatlas.papers.text8.train import evaluate_step

        evaluate_step(
            args.model, args.data, args.out, max_sequences=args.max_sequences,
            threads=args.threads,
        )  # fmt: skip
    elif args.step == "text8-states":
        from rnnatlas.papers.text8.train import states_step

        states_step(
            args.model, args.data, args.out, max_sequences=args.max_sequences,
            threads=args.threads,
        )  # fmt: skip
    elif args.step == "text8-connectivity":
        from rnnatlas.papers.text8.connectivity import PAPER_TEXT, connectivity_step

        connectivity_step(
            args.models, args.data, args.out, args.figures, text=args.text or PAPER_TEXT,
            squared=not args.plain, demo_text=args.demo_text, threads=args.threads,
        )  # fmt: skip
    elif args.step == "text8-figures":
        from rnnatlas.papers.text8.figures import draw_all
        from rnnatlas.papers.text8.section import load_tables

        tables = load_tables(
            {"test": args.test, "letters": args.letters, "histories": args.histories}
        )
        draw_all(
            tables["test"], tables["letters"], tables["histories"], args.out,
            count_padding=args.count_padding,
        )  # fmt: skip
    else:  # pragma: no cover - argparse only offers the commands above
        raise ValueError(f"unknown text8 step {args.step}")
