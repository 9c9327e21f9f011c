"""`rnnatlas <step> ...`: the command line the Snakemake rules call (one subcommand per step)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from rnnatlas import cli_memory, cli_text8
from rnnatlas.cli_args import json_object as _json
from rnnatlas.cli_args import parse_json as _parse_json


def _pair(text: str) -> list[int]:
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected 'one_object,two_object', got {text!r}")
    return [int(p) for p in parts]


def _ints(text: str) -> list[int]:
    return [int(p) for p in text.split(",") if p]


def _add_corpus(sub) -> None:
    p = sub.add_parser("csl-corpus", help="build a CSL corpus (splits + card.json)")
    p.add_argument("--out", type=Path, required=True, help="corpus directory")
    p.add_argument("--n-objects", type=int, required=True)
    p.add_argument("--center", action="store_true", help="Juven's 'center' synonym of middle")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train", type=_pair, default=[300, 700])
    p.add_argument("--test", type=_pair, default=[300, 700])
    p.add_argument("--validation", type=_pair, default=[80, 200])
    p.add_argument("--protocol", choices=["variengien", "juven"], default="variengien",
                   help="juven: Juven & Hinaut's 50/50 draws (sizes from --*-total)")  # fmt: skip
    p.add_argument("--train-total", type=int, default=1000, help="juven protocol only")
    p.add_argument("--test-total", type=int, default=1000, help="juven protocol only")


def _add_train(sub) -> None:
    p = sub.add_parser("csl-train", help="train and evaluate one ESN or LSTM on a CSL corpus")
    p.add_argument("--data", type=Path, required=True, help="corpus directory")
    p.add_argument("--out", type=Path, required=True, help="model directory")
    p.add_argument("--name", required=True, help="model name in config (csl.models)")
    p.add_argument("--spec", type=_json, required=True, help="model config as JSON")
    p.add_argument("--decode", type=_json, default={"beta": 1.0, "threshold": 1.3})
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume-dir", type=Path, help="resumable training state (LSTM)")
    p.add_argument("--threads", type=int, default=1)


def _add_sweep(sub) -> None:
    p = sub.add_parser("csl-sweep", help="ESN error versus units or training sentences")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="Parquet table")
    p.add_argument("--sweep", choices=["units", "sentences"], required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--spec", type=_json, required=True)
    p.add_argument("--values", type=_ints, required=True)
    p.add_argument("--seeds", type=_ints, required=True)
    p.add_argument("--decode", type=_json, default={"beta": 1.0, "threshold": 1.3})
    p.add_argument("--threads", type=int, default=1)


def _add_bow(sub) -> None:
    p = sub.add_parser("csl-bow", help="bag-of-words memorisation baseline")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--corpus", type=_json, required=True, help="csl.corpus config as JSON")
    p.add_argument("--runs", type=int, required=True)
    p.add_argument("--decode", type=_json, default={"beta": 1.0, "threshold": 1.3})


def _add_collect(sub) -> None:
    p = sub.add_parser("csl-collect", help="gather metrics.json files into tables")
    p.add_argument("--runs-out", type=Path, required=True)
    p.add_argument("--summary-out", type=Path, required=True)
    p.add_argument("metrics", type=Path, nargs="+")


def _add_states(sub) -> None:
    p = sub.add_parser("csl-states", help="dump hidden states of a split to Parquet")
    p.add_argument("--model", type=Path, required=True, help="model directory")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--split", default="test", choices=["train", "validation", "test"])


def _add_figures(sub) -> None:
    p = sub.add_parser("csl-figures", help="draw the CSL figures and tables")
    p.add_argument("--runs", type=Path, required=True, help="runs.parquet of csl-collect")
    p.add_argument("--units", type=Path, required=True)
    p.add_argument("--sentences", type=Path, required=True)
    p.add_argument("--bow", type=Path, required=True)
    p.add_argument("--histories", type=Path, nargs="*", default=[])
    p.add_argument("--out", type=Path, required=True, help="figure directory")


def _floats(text: str) -> list[float]:
    return [float(p) for p in text.split(",") if p]


def _json_list(text: str) -> list:
    return _parse_json(text, list, "list")


def _add_rssviz(sub) -> None:
    p = sub.add_parser("csl-rssviz", help="RSSviz: UMAP layout of a model's dumped test states")
    p.add_argument("--states", type=Path, required=True, help="states Parquet file")
    p.add_argument("--model", type=Path, required=True, help="model directory")
    p.add_argument("--data", type=Path, required=True, help="corpus directory")
    p.add_argument("--out", type=Path, required=True, help="analysis directory")
    p.add_argument("--sentences", type=int, default=200)
    p.add_argument("--state", help="state column (default: x for an ESN, c0 for an LSTM)")
    p.add_argument("--umap", type=_json, default={})
    p.add_argument("--random-state", type=int, default=42)
    p.add_argument("--trajectories", type=_json_list, default=[], help="JSON list of sentences")
    p.add_argument("--decode", type=_json, default={"beta": 1.0, "threshold": 1.3})
    p.add_argument("--trust-neighbors", type=int, default=10)

    p = sub.add_parser("csl-rssviz-figures", help="draw the RSSviz views + interactive HTML")
    p.add_argument("--embedding", type=Path, required=True)
    p.add_argument("--outputs", type=_json_list, required=True, help="output labels, JSON list")
    p.add_argument("--title", required=True)
    p.add_argument("--prefix", required=True, help="file name prefix of the figures")
    p.add_argument("--out", type=Path, required=True, help="figure directory")

    p = sub.add_parser("csl-rssviz-training", help="animated RSSviz across training")
    p.add_argument("--embedding", type=Path, required=True)
    p.add_argument("--states", type=Path, required=True)
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="analysis directory")
    p.add_argument("--figures", type=Path, required=True)
    p.add_argument("--name", required=True, help="figure name (GIF + film strip)")
    p.add_argument("--title", help="figure title (default: the name)")
    p.add_argument("--stages", type=_ints, required=True, help="ESN: sentences; LSTM: epochs")
    p.add_argument("--outputs", type=_json_list, required=True)
    p.add_argument("--decode", type=_json, default={"beta": 1.0, "threshold": 1.3})
    p.add_argument("--state", default="c0")
    p.add_argument("--umap", type=_json, default={})
    p.add_argument("--random-state", type=int, default=42)

    p = sub.add_parser("csl-rssviz-hyper", help="RSSviz of untrained reservoirs over a grid")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--spec", type=_json, required=True, help="the ESN's config as JSON")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--figures", type=Path, required=True)
    p.add_argument("--spectral-radius", type=_floats, required=True)
    p.add_argument("--leak", type=_floats, required=True)
    p.add_argument("--input-scaling", type=_floats, required=True)
    p.add_argument("--sentences", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--umap", type=_json, default={})
    p.add_argument("--random-state", type=int, default=42)
    p.add_argument("--trust-neighbors", type=int, default=10)


def _add_units(sub) -> None:
    p = sub.add_parser("csl-units", help="internal units: readout weights and unit activity")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--states", type=Path, required=True)
    p.add_argument("--tables", type=Path, required=True)
    p.add_argument("--figures", type=Path, required=True)
    p.add_argument("--sentence", required=True)
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--polyvalent-min", type=int, default=5)
    p.add_argument("--connected-output", type=int, default=0)
    p.add_argument("--connected-k", type=int, default=10)
    p.add_argument("--delta-sentences", type=int, default=100)
    p.add_argument("--state")
    p.add_argument("--seed", type=int, default=42)


def _add_mnist(sub) -> None:
    p = sub.add_parser("mnist-download", help="fetch the four MNIST IDX files (checked)")
    p.add_argument("--out", type=Path, required=True, help="folder for the .gz files")

    p = sub.add_parser("mnist-data", help="sequential-MNIST splits + card.json")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--source", choices=["embedded", "idx"], default="embedded")
    p.add_argument("--idx-dir", type=Path, help="the downloaded IDX files (source idx)")
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("mnist-train", help="train one vanilla RNN on sequential MNIST")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="model directory")
    p.add_argument("--spec", type=_json, required=True, help="mnist.model as JSON")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume-dir", type=Path, required=True)
    p.add_argument("--threads", type=int, default=1)

    p = sub.add_parser("mnist-variants", help="accuracy of every network on cut/hidden/extended")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="Parquet table")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("models", type=Path, nargs="+", help="model directories")

    p = sub.add_parser("mnist-states", help="hidden states of the test digits to Parquet")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--extend", type=int, default=28)
    p.add_argument("--threads", type=int, default=1)

    p = sub.add_parser("mnist-tsne", help="t-SNE and separability of the states at chosen steps")
    p.add_argument("--states", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--steps", type=_ints, required=True)
    p.add_argument("--points", type=int, default=1000)
    p.add_argument("--perplexity", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("mnist-dynamics", help="Lyapunov, attractors and phase of one network")
    p.add_argument("--model", type=Path, required=True, help="model directory (+ checkpoints/)")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--lyapunov", type=_json, default={}, help="mnist.dynamics.lyapunov as JSON")
    p.add_argument("--attractors", type=_json, default={}, help="mnist.dynamics.attractors")
    p.add_argument("--seed", type=int, default=0, help="seeds the k-NN folds and subsamples")
    p.add_argument("--threads", type=int, default=1)

    p = sub.add_parser("state-dimension", help="intrinsic dimension of a states file per step")
    p.add_argument("--states", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="Parquet table")
    p.add_argument("--state", default="h0", help="state column")
    p.add_argument("--methods", type=lambda text: text.split(","), default=["participation_ratio"])
    p.add_argument("--stride", type=int, default=1)
    p.add_argument("--points", type=int, help="at most this many sequences per step")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("mnist-figures", help="draw the sequential-MNIST figures")
    p.add_argument("--variants", type=Path, required=True)
    p.add_argument("--tsne", type=Path, required=True, help="folder of tsne/separability.parquet")
    p.add_argument("--dynamics", type=Path, nargs="+", required=True, help="dynamics folders")
    p.add_argument("--dimension", type=Path, required=True, help="dimension.parquet")
    p.add_argument("--attractor-seed", type=int, required=True, help="network of the PCA view")
    p.add_argument("--out", type=Path, required=True)


def _add_report(sub) -> None:
    p = sub.add_parser("report", help="claims.json and the HTML report")
    p.add_argument("--config", type=_json, required=True, help="the validated config as JSON")
    p.add_argument("--runs", type=Path, required=True)
    p.add_argument("--units", type=Path, required=True)
    p.add_argument("--sentences", type=Path, required=True)
    p.add_argument("--bow", type=Path, required=True)
    p.add_argument("--figures", type=Path, required=True)
    p.add_argument("--cards", type=Path, nargs="*", default=[])
    p.add_argument("--out", type=Path, required=True, help="report directory")
    p.add_argument("--presets-root", type=Path, default=Path("."), help="holds config.yaml")
    p.add_argument("--analysis", type=Path, help="results/analysis/csl: visual analyses' tables")
    p.add_argument("--mnist-variants", type=Path, help="sequential MNIST variants.parquet")
    p.add_argument("--mnist-separability", type=Path, help="sequential MNIST separability")
    p.add_argument("--mnist-figures", type=Path, help="folder of the sequential MNIST figures")
    p.add_argument("--mnist-dynamics", type=Path, nargs="*", default=[], help="dynamics folders")
    p.add_argument("--mnist-dimension", type=Path, help="sequential MNIST dimension.parquet")
    cli_text8.add_report_arguments(p)
    cli_memory.add_report_arguments(p)


def _add_checks(sub) -> None:
    p = sub.add_parser("check-config", help="validate config files (merged in order)")
    p.add_argument("files", type=Path, nargs="+")
    p = sub.add_parser("check-states", help="validate a states Parquet file against the schema")
    p.add_argument("path", type=Path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnnatlas", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="step", required=True)
    for add in (
        _add_corpus,
        _add_train,
        _add_sweep,
        _add_bow,
        _add_collect,
        _add_states,
        _add_figures,
        _add_rssviz,
        _add_units,
        _add_mnist,
        cli_text8.add_commands,
        cli_memory.add_commands,
        _add_report,
        _add_checks,
    ):
        add(sub)
    return parser


def run(args: argparse.Namespace) -> None:
    from rnnatlas.papers.csl import steps as csl_steps

    if args.step == "csl-corpus":
        csl_steps.corpus_step(
            args.out, args.n_objects, args.center, args.seed, args.train, args.test,
            args.validation, protocol=args.protocol,
            totals=(args.train_total, args.test_total),
        )  # fmt: skip
    elif args.step == "csl-train":
        csl_steps.train_step(
            args.data, args.out, args.name, args.spec, args.seed, args.decode,
            resume_dir=args.resume_dir, threads=args.threads,
        )  # fmt: skip
    elif args.step == "csl-sweep":
        import torch

        torch.set_num_threads(args.threads)
        csl_steps.sweep_step(
            args.data, args.out, args.sweep, args.name, args.spec, args.values, args.seeds,
            args.decode,
        )  # fmt: skip
    elif args.step == "csl-bow":
        c = args.corpus
        csl_steps.bow_step(args.out, c["n_objects"], c["center"], args.runs, c, args.decode)
    elif args.step == "csl-collect":
        csl_steps.collect_step(args.metrics, args.runs_out, args.summary_out)
    elif args.step == "csl-states":
        csl_steps.states_step(args.model, args.data, args.out, split=args.split)
    elif args.step == "csl-figures":
        from rnnatlas.papers.csl.figures import draw_all

        draw_all(args.runs, args.units, args.sentences, args.bow, args.histories, args.out)
    elif args.step.startswith("csl-rssviz") or args.step == "csl-units":
        _run_visual(args)
    elif args.step.startswith("mnist-") or args.step == "state-dimension":
        _run_mnist(args)
    elif args.step.startswith("text8-"):
        cli_text8.run(args)
    elif args.step.startswith("memory-"):
        cli_memory.run(args)
    elif args.step == "report":
        from rnnatlas.report.build import build_report

        build_report(
            args.config, args.runs, args.units, args.sentences, args.bow, args.figures,
            args.cards, args.out, presets_root=args.presets_root, analysis=args.analysis,
            mnist=_mnist_tables(args), text8=cli_text8.report_tables(args),
            memory=cli_memory.report_tables(args),
        )  # fmt: skip
    elif args.step == "check-config":
        from rnnatlas.config import load_config

        load_config(args.files)
        print("configuration valid:", ", ".join(map(str, args.files)))
    elif args.step == "check-states":
        from rnnatlas.states import metadata, validate

        schema = validate(args.path)
        print(f"{args.path}: valid states file; columns {schema.names}")
        print(f"metadata: {metadata(args.path)}")


def _run_visual(args: argparse.Namespace) -> None:
    """The visual analyses of the CSL paper (RSSviz, its animation and grid, internal units)."""
    if args.step == "csl-rssviz":
        from rnnatlas.papers.csl.rssviz import rssviz_step

        rssviz_step(
            args.states, args.model, args.data, args.out, sentences=args.sentences,
            state=args.state, umap=args.umap, random_state=args.random_state,
            trajectories=args.trajectories, decode=args.decode,
            trust_neighbors=args.trust_neighbors,
        )  # fmt: skip
    elif args.step == "csl-rssviz-figures":
        import pandas as pd

        from rnnatlas.figures.interactive import rssviz_html
        from rnnatlas.papers.csl.figures_rssviz import draw_views

        table = pd.read_parquet(args.embedding)
        draw_views(table, args.outputs, args.title, args.out, args.prefix)
        fitted = table[table["role"] == "fit"].drop_duplicates("unique_id")
        rssviz_html(fitted, args.out / f"{args.prefix}.html", f"RSSviz: {args.title}")
    elif args.step == "csl-rssviz-training":
        from rnnatlas.papers.csl.rssviz_training import training_step

        card = json.loads((args.model / "model.json").read_text())
        training_step(
            card["kind"], args.embedding, args.states, args.model, args.data, args.out,
            args.figures, args.name, stages=args.stages, outputs=args.outputs,
            decode=args.decode, state=args.state, umap=args.umap,
            random_state=args.random_state, title=args.title,
        )  # fmt: skip
    elif args.step == "csl-rssviz-hyper":
        from rnnatlas.papers.csl.rssviz_hyper import hyper_step

        hyper_step(
            args.data, args.spec, args.out, args.figures, spectral_radius=args.spectral_radius,
            leak=args.leak, input_scaling=args.input_scaling, sentences=args.sentences,
            seed=args.seed, umap=args.umap, random_state=args.random_state,
            trust_neighbors=args.trust_neighbors,
        )  # fmt: skip
    elif args.step == "csl-units":
        from rnnatlas.papers.csl.units import units_step

        units_step(
            args.model, args.data, args.states, args.tables, args.figures, args.sentence,
            top_k=args.top_k, polyvalent_min=args.polyvalent_min,
            connected_output=args.connected_output, connected_k=args.connected_k,
            delta_sentences=args.delta_sentences, state=args.state, seed=args.seed,
        )  # fmt: skip


def _mnist_tables(args: argparse.Namespace) -> dict:
    given = {
        "variants": args.mnist_variants,
        "separability": args.mnist_separability,
        "figures": args.mnist_figures,
        "dimension": args.mnist_dimension,
    }
    tables = {k: v for k, v in given.items() if v is not None}
    if args.mnist_dynamics:
        tables["dynamics"] = args.mnist_dynamics
    return tables


def _run_mnist(args: argparse.Namespace) -> None:
    """The sequential-MNIST steps (Horoi et al. 2020)."""
    from rnnatlas.papers.mnist import steps as mnist_steps

    if args.step == "mnist-download":
        from rnnatlas.papers.mnist.data import download_mnist

        download_mnist(args.out)
    elif args.step == "mnist-data":
        mnist_steps.data_step(
            args.out, source=args.source, idx_dir=args.idx_dir,
            test_fraction=args.test_fraction, seed=args.seed,
        )  # fmt: skip
    elif args.step == "mnist-train":
        mnist_steps.train_step(
            args.data, args.out, args.spec, args.seed, args.resume_dir, threads=args.threads
        )
    elif args.step == "mnist-variants":
        mnist_steps.variants_step(args.models, args.data, args.out, threads=args.threads)
    elif args.step == "mnist-states":
        mnist_steps.states_step(
            args.model, args.data, args.out, extend=args.extend, threads=args.threads
        )
    elif args.step == "mnist-tsne":
        from rnnatlas.papers.mnist.tsne import tsne_step

        tsne_step(
            args.states, args.out, args.steps, points=args.points,
            perplexity=args.perplexity, seed=args.seed,
        )  # fmt: skip
    elif args.step == "mnist-dynamics":
        from rnnatlas.papers.mnist.dynamics import dynamics_step

        dynamics_step(
            args.model, args.data, args.out, lyapunov=args.lyapunov, attractors=args.attractors,
            seed=args.seed, threads=args.threads,
        )  # fmt: skip
    elif args.step == "state-dimension":
        from rnnatlas.papers.mnist.dimension import dimension_by_step

        dimension_by_step(
            args.states, args.out, state=args.state, methods=args.methods, stride=args.stride,
            points=args.points, seed=args.seed,
        )  # fmt: skip
    elif args.step == "mnist-figures":
        from rnnatlas.papers.mnist.figures import draw_all

        draw_all(
            args.variants, args.tsne, args.dynamics, args.dimension, args.attractor_seed, args.out
        )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        run(args)
    except (ValueError, FileNotFoundError) as err:
        # Expected user errors: one clear line, no traceback.
        print(f"rnnatlas {args.step}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
