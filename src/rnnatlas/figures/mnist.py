"""Figures of the sequential-MNIST paper (Horoi, Geadah, Lajoie & Wolf 2020)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rnnatlas.analysis.accuracy_curves import summarise_variants
from rnnatlas.figures import style

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
    ax.set_xlabel("n (rows)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_xlim(0, 28)
    ax.set_title(f"Sequential MNIST: accuracy versus n (mean ± sd, {networks} networks)")
    ax.legend(fontsize=8, loc="lower right")
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
    """λ_max per network across training epochs (table: seed, epoch, lambda_max), with 0 marked."""
    import matplotlib.pyplot as plt

    style.setup()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for seed, part in table.groupby("seed"):
        part = part.sort_values("epoch")
        ax.plot(part["epoch"], part["lambda_max"], "-o", ms=4, lw=1.2, label=f"network {seed}")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xlabel("training epoch (0 = untrained)")
    ax.set_ylabel("λ_max of h ← tanh(W h + b) (nats / step)")
    ax.set_title("Largest Lyapunov exponent of the autonomous dynamics")
    if table["seed"].nunique() <= 10:
        ax.legend(fontsize=8)
    return style.save(fig, out_dir, name)


def attractor_trajectories(
    projected: pd.DataFrame, out_dir: Path, name: str = "attractors", max_lines: int = 200
) -> list[Path]:
    """PCA projection of autonomous trajectories (columns trajectory, step, pc1, pc2, label),
    colored by digit, the last point of each marked."""
    import matplotlib.pyplot as plt

    style.setup()
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    cmap = plt.get_cmap("tab10")
    ids = projected["trajectory"].unique()[:max_lines]
    for trajectory in ids:
        part = projected[projected["trajectory"] == trajectory].sort_values("step")
        color = cmap(int(part["label"].iloc[0]))
        ax.plot(part["pc1"], part["pc2"], lw=0.5, alpha=0.5, color=color)
        ax.scatter(part["pc1"].iloc[-1], part["pc2"].iloc[-1], s=8, color=color, zorder=3)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title(f"Autonomous dynamics from the states at row 28 ({len(ids)} digits)")
    handles = [plt.Line2D([], [], color=cmap(d), label=str(d)) for d in range(10)]
    ax.legend(handles=handles, fontsize=7, title="digit", ncol=2)
    return style.save(fig, out_dir, name)
