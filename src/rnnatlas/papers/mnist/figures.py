"""Figures of the sequential-MNIST paper (Horoi, Geadah, Lajoie & Wolf 2020)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.analysis.accuracy_curves import summarise_variants
from rnnatlas.figures import style
from rnnatlas.io import read_parquet
from rnnatlas.papers.mnist.claims import ZERO_LYAPUNOV
from rnnatlas.papers.mnist.reference import PAPER_ACCURACY

VARIANT_COLORS = {"cut": "#d95f02", "hidden": "#1b9e77", "extended": "#7570b3"}
VARIANT_LABELS = {
    "cut": "cut: first n rows, read out at n",
    "hidden": "hidden: rows after n zeroed, read out at 28",
    "extended": "extended: n zero rows appended, read out at 28 + n",
}


def accuracy_vs_n(table: pd.DataFrame, out_dir: Path, name: str = "accuracy_vs_n") -> list[Path]:
    """Test accuracy (mean ± sd over networks) versus n for every variant."""
    import matplotlib.pyplot as plt

    style.setup()
    summary = summarise_variants(table)
    networks = int(table["seed"].nunique())
    fig, ax = plt.subplots(figsize=(7.2, 4.4))
    for variant in summary["variant"].unique():
        part = summary[summary["variant"] == variant].sort_values("n")
        color = VARIANT_COLORS.get(variant, "#444444")
        mean, sd = 100 * part["mean"].to_numpy(), 100 * part["std"].to_numpy()
        ax.plot(
            part["n"], mean, "-o", ms=3, color=color, label=VARIANT_LABELS.get(variant, variant)
        )
        ax.fill_between(part["n"], mean - sd, mean + sd, color=color, alpha=0.2, lw=0)
    ax.axhline(10, color="#999999", ls=":", lw=1, label="chance (10 %)")
    ax.plot(28, PAPER_ACCURACY, "*", ms=13, color="black", zorder=5,
            label=f"paper: {PAPER_ACCURACY:g} % on the full 28 rows")  # fmt: skip
    ax.set_xlabel("n (rows)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_xlim(0, 28.5)
    ax.set_title(f"Sequential MNIST: accuracy versus n (mean ± sd, {networks} networks)")
    # beside the axes, never over the curves
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.set_size_inches(9.4, 4.4)
    fig.tight_layout()
    return style.save(fig, out_dir, name)


def tsne_panels(
    embeddings: pd.DataFrame, separability: pd.DataFrame, out_dir: Path, name: str = "tsne"
) -> list[Path]:
    """One t-SNE panel per time step (columns step, x, y, label), colored by digit; the title
    carries the full-space k-NN accuracy and silhouette of that step."""
    import matplotlib.pyplot as plt

    style.setup()
    steps = sorted(embeddings["step"].unique())
    fig, axes = plt.subplots(1, len(steps), figsize=(4.2 * len(steps), 4.4), squeeze=False,
                             layout="constrained")  # fmt: skip
    cmap = plt.get_cmap("tab10")
    stats = separability.set_index("step")
    for ax, step in zip(axes[0], steps, strict=True):
        part = embeddings[embeddings["step"] == step]
        for digit in range(10):
            points = part[part["label"] == digit]
            ax.scatter(points["x"], points["y"], s=4, color=cmap(digit), linewidths=0,
                       label=str(digit))  # fmt: skip
        title = f"after row {step + 1}" if step < 28 else f"{step + 1 - 28} zero rows after row 28"
        if step in stats.index:
            row = stats.loc[step]
            title += (
                f"\nk-NN acc {100 * row['knn_accuracy']:.1f} %, silhouette {row['silhouette']:.2f}"
            )
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [
        plt.Line2D([], [], ls="", marker="o", color=cmap(d), label=str(d)) for d in range(10)
    ]
    fig.legend(handles=handles, loc="outside right center", title="digit", fontsize=8)
    fig.suptitle("t-SNE of the hidden states of test digits", fontsize=11)
    return style.save(fig, out_dir, name)


def lyapunov_before_after(table: pd.DataFrame, out_dir: Path, name: str = "lyapunov") -> list[Path]:
    """λ_max per network across training epochs (table: seed, epoch, lambda_max; several rows
    per (seed, epoch) = initial conditions, drawn as mean ± sd), with 0 marked."""
    import matplotlib.pyplot as plt

    style.setup()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    summary = table.groupby(["seed", "epoch"])["lambda_max"].agg(["mean", "std"]).reset_index()
    for seed, part in summary.groupby("seed"):
        part = part.sort_values("epoch")
        ax.errorbar(part["epoch"], part["mean"], yerr=part["std"].fillna(0), fmt="-o", ms=4,
                    lw=1.2, capsize=2, label=f"network {seed}")  # fmt: skip
    ax.axhline(0.0, color="black", lw=0.8)
    # the band the claim calls "about 0", visible beside the untrained networks' -0.5: a linear
    # scale inside +-0.01, logarithmic outside
    ax.axhspan(-ZERO_LYAPUNOV, ZERO_LYAPUNOV, color="#1a7f37", alpha=0.15, lw=0,
               label=f"|λ_max| ≤ {ZERO_LYAPUNOV} (the claim's 'about 0')")  # fmt: skip
    ax.set_yscale("symlog", linthresh=ZERO_LYAPUNOV)
    ax.set_xlabel("training epoch (0 = untrained)")
    ax.set_ylabel("λ_max of h ← tanh(W h + b) (nats / step)")
    ax.set_title("Largest Lyapunov exponent of the autonomous dynamics\n"
                 "(> 0 chaos, 0 limit cycle, < 0 fixed point)", fontsize=10)  # fmt: skip
    if table["seed"].nunique() <= 10:
        ax.legend(fontsize=8)
    return style.save(fig, out_dir, name)


def attractor_trajectories(
    trajectories: pd.DataFrame, summary: dict, out_dir: Path, name: str = "attractors"
) -> list[Path]:
    """Two PCA panels of one network's autonomous run from the row-28 states (trajectories:
    part "transient"/"attractor", trajectory, step, pc1, pc2, label): the opening steps of a
    few digits over the attractor (gray), and the attractor's points colored by digit."""
    import matplotlib.pyplot as plt

    style.setup()
    cmap = plt.get_cmap("tab10")
    attractor = trajectories[trajectories["part"] == "attractor"]
    transient = trajectories[trajectories["part"] == "transient"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
    for ax in (left, right):
        ax.scatter(attractor["pc1"], attractor["pc2"], s=2, color="#cccccc", linewidths=0)
    for _, part in transient.groupby("trajectory"):
        part = part.sort_values("step")
        color = cmap(int(part["label"].iloc[0]))
        left.plot(part["pc1"], part["pc2"], lw=0.6, alpha=0.7, color=color)
        left.scatter(part["pc1"].iloc[:1], part["pc2"].iloc[:1], s=14, color=color, marker="s")
    last = attractor[attractor["step"] == attractor["step"].max()]
    for digit in range(10):
        points = last[last["label"] == digit]
        right.scatter(points["pc1"], points["pc2"], s=7, color=cmap(digit), linewidths=0)
    explained = summary.get("pca_explained", [float("nan")] * 2)
    for ax in (left, right):
        ax.set_xlabel(f"PC 1 ({100 * explained[0]:.0f} % of the attractor's variance)")
        ax.set_ylabel(f"PC 2 ({100 * explained[1]:.0f} %)")
    kinds = _set_kinds(summary)
    left.set_title(f"first {transient['step'].max()} steps without input from row 28\n"
                   f"(squares: the row-28 states; gray: the attractor)", fontsize=9)  # fmt: skip
    right.set_title(f"where each digit is after {summary.get('steps', '?')} steps\n"
                    f"attractor: {kinds}", fontsize=9)  # fmt: skip
    handles = [
        plt.Line2D([], [], ls="", marker="o", color=cmap(d), label=str(d)) for d in range(10)
    ]
    fig.legend(handles=handles, loc="outside right center", title="digit", fontsize=8)
    return style.save(fig, out_dir, name)


def _set_kinds(summary: Mapping) -> str:
    return ", ".join(
        f"{count} {kind.replace('_', ' ')}" for kind, count in summary.get("set_kinds", {}).items()
    )


def attractors_per_network(
    trajectories: Mapping[int, pd.DataFrame],
    summaries: Mapping[int, Mapping],
    out_dir: Path,
    name: str = "attractors_all",
) -> list[Path]:
    """One small panel per network: where each test digit is at the end of the autonomous run,
    in that network's first two principal axes, colored by digit, titled with its invariant
    sets (the claim "two limit cycles" is judged on every network, not one)."""
    import matplotlib.pyplot as plt

    style.setup()
    cmap = plt.get_cmap("tab10")
    seeds = list(trajectories)
    columns = min(5, len(seeds))
    rows = -(-len(seeds) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.6 * rows + 0.6),
                             squeeze=False, layout="constrained")  # fmt: skip
    for ax in axes.flat[len(seeds) :]:
        ax.set_axis_off()
    for ax, seed in zip(axes.flat, seeds, strict=False):
        attractor = trajectories[seed]
        attractor = attractor[attractor["part"] == "attractor"]
        last = attractor[attractor["step"] == attractor["step"].max()]
        ax.scatter(attractor["pc1"], attractor["pc2"], s=1, color="#dddddd", linewidths=0)
        ax.scatter(last["pc1"], last["pc2"], s=4, c=[cmap(int(d)) for d in last["label"]],
                   linewidths=0)  # fmt: skip
        ax.set_title(f"network {seed}: {_set_kinds(summaries[seed]) or '?'}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [
        plt.Line2D([], [], ls="", marker="o", color=cmap(d), label=str(d)) for d in range(10)
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=10, fontsize=8, title="digit")
    fig.suptitle("Every network's attractor: the digits' states at the end of the run without "
                 "input (PC 1 / PC 2 of each network)", fontsize=10)  # fmt: skip
    return style.save(fig, out_dir, name)


def dimension_by_step(
    table: pd.DataFrame,
    attractor_twonn: float | None,
    out_dir: Path,
    name: str = "dimension",
    all_twonn: Sequence[float] = (),
) -> list[Path]:
    """Intrinsic dimension of the test digits' states per step (table: t, method, dimension),
    the end of the digit marked, the attractor's TwoNN dimension as a dashed line and, when
    `all_twonn` gives every network's, their range as a band."""
    import matplotlib.pyplot as plt

    style.setup()
    fig, ax = plt.subplots(figsize=(6.8, 4.2))
    labels = {"participation_ratio": "PCA participation ratio", "twonn": "TwoNN"}
    for method, part in table.groupby("method"):
        part = part.sort_values("t")
        ax.plot(part["t"] + 1, part["dimension"], "-o", ms=2.5, label=labels.get(method, method))
    ax.axvline(28, color="#999999", ls=":", lw=1, label="row 28 (then zero rows)")
    if attractor_twonn is not None:
        ax.axhline(attractor_twonn, color="black", ls="--", lw=1,
                   label=f"this network's attractor (TwoNN {attractor_twonn:.2f})")  # fmt: skip
    finite = [v for v in all_twonn if v is not None and np.isfinite(v)]
    if len(finite) > 1:
        ax.axhspan(min(finite), max(finite), color="black", alpha=0.12, lw=0,
                   label=f"attractors of all {len(finite)} networks "
                   f"({min(finite):.2f}–{max(finite):.2f})")  # fmt: skip
    ax.set_xlabel("step (rows fed)")
    ax.set_ylabel("intrinsic dimension")
    ax.set_ylim(bottom=0)
    ax.set_title("Intrinsic dimension of the hidden states (200 units)")
    ax.legend(fontsize=8)
    return style.save(fig, out_dir, name)


def phase_decoding(table: pd.DataFrame, out_dir: Path, name: str = "phase") -> list[Path]:
    """k-NN accuracy of the digit from the phase on the attractor and from the full state
    versus steps without input (table: seed, t, phase_accuracy, state_accuracy, chance)."""
    import matplotlib.pyplot as plt

    style.setup()
    fig, ax = plt.subplots(figsize=(6.8, 4.2))
    for index, (_, part) in enumerate(table.groupby("seed")):
        part = part.sort_values("t")
        x = part["t"] + 1
        for column, style_, color, label in (
            ("state_accuracy", "-o", "#1b9e77", "full state"),
            ("phase_accuracy", "--s", "#7570b3", "phase on the attractor"),
        ):
            ax.plot(x, 100 * part[column], style_, ms=3, color=color, alpha=0.8,
                    label=label if index == 0 else None)  # fmt: skip
    ax.axhline(100 * table["chance"].max(), color="#999999", ls=":", lw=1, label="chance")
    ax.set_xscale("log")
    ax.set_xlabel("steps without input after row 28 (+1, log scale)")
    ax.set_ylabel("k-NN accuracy of the digit (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"Is the digit kept as a phase? ({table['seed'].nunique()} networks)")
    ax.legend(fontsize=8)
    return style.save(fig, out_dir, name)


def draw_all(
    variants: Path,
    tsne: Path,
    separability: Path,
    dynamics: Sequence[Mapping[str, Path]],
    dimension: Path,
    attractor_seed: int,
    out_dir: Path,
) -> list[Path]:
    """Every sequential-MNIST figure (name.png and name.svg in out_dir) from the rule outputs.

    dynamics: one mapping per network from the keys of `dynamics.DYNAMICS_OUTPUTS` to its files.
    """
    from rnnatlas.papers.mnist.dynamics import read_dynamics_files

    tables = read_dynamics_files(dynamics)
    summaries = tables["summaries"]
    if attractor_seed not in summaries:
        raise ValueError(
            f"no dynamics of network {attractor_seed} among {sorted(summaries)}: pass a seed "
            "of mnist.seeds as the attractor seed"
        )
    position = list(summaries).index(attractor_seed)
    trajectories = read_parquet(dynamics[position]["trajectories"])
    chosen = summaries[attractor_seed]
    paths = accuracy_vs_n(read_parquet(variants), out_dir)
    paths += tsne_panels(read_parquet(tsne), read_parquet(separability), out_dir)
    paths += lyapunov_before_after(tables["lyapunov"], out_dir)
    paths += attractor_trajectories(trajectories, chosen, out_dir)
    every = {
        seed: read_parquet(run["trajectories"])
        for seed, run in zip(summaries, dynamics, strict=True)
    }
    paths += attractors_per_network(every, summaries, out_dir)
    paths += dimension_by_step(
        read_parquet(dimension), chosen.get("attractor_twonn"), out_dir,
        all_twonn=[summary.get("attractor_twonn") for summary in summaries.values()],
    )  # fmt: skip
    paths += phase_decoding(tables["phase"], out_dir)
    return paths
