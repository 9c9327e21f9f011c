"""RSSviz views (Variengien & Hinaut 2020), each drawn from an embedding table (csl_rssviz)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.analysis.projection import CLAUSES, error_class_name
from rnnatlas.figures import style

CLAUSE_COLORS = dict(
    zip(CLAUSES, ("#000000", "#1b9e77", "#e7298a", "#7570b3", "#d95f02"), strict=True)
)
ACTIVATION_RANGE = (-0.3, 1.3)  # the paper's inferno color scale
BACKGROUND = {"s": 6, "color": "#d0d0d0", "linewidths": 0, "zorder": 1}
VIEWS = ("trajectories", "final_states", "clauses", "outputs", "error_map")


def fitted(table: pd.DataFrame) -> pd.DataFrame:
    """The states the layout was fitted on, one point per unique state."""
    fit = table[table["role"] == "fit"]
    return fit.drop_duplicates("unique_id")


def _axes(ax, title: str) -> None:
    ax.set_title(title)
    ax.set_xlabel("UMAP 1")
    ax.set_ylabel("UMAP 2")
    ax.set_aspect("equal", adjustable="datalim")


def trajectories(table: pd.DataFrame, title: str, out_dir: Path, name: str) -> list[Path]:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    background = fitted(table)
    ax.scatter(background["x"], background["y"], **BACKGROUND, label="test states")
    paths = table[table["role"] == "trajectory"]
    colors = plt.get_cmap("tab10").colors
    for k, (_, path) in enumerate(paths.groupby("sequence_id", sort=False)):
        color = colors[k % len(colors)]
        label = path["sentence"].iloc[0].removeprefix("BEGIN ").removesuffix(" END")
        ax.plot(path["x"], path["y"], "-o", color=color, ms=4, lw=1.4, zorder=3, alpha=0.9,
                label=label)  # fmt: skip
    _axes(ax, f"{title}: trajectories of {paths['sequence_id'].nunique()} sentences")
    style.legend_below(ax, ncol=1, fontsize=7)
    fig.tight_layout()
    ax.autoscale_view()  # the final limits and size, before labels are placed by display position
    placed: list[tuple[float, float]] = []  # label anchors, in display points
    for k, (_, path) in enumerate(paths.groupby("sequence_id", sort=False)):
        color = colors[k % len(colors)]
        for _, row in path.iterrows():
            offset = _free_offset(ax, row["x"], row["y"], placed)
            ax.annotate(row["token"], (row["x"], row["y"]), fontsize=7, color=color, zorder=4,
                        xytext=offset, textcoords="offset points")  # fmt: skip
    return style.save(fig, out_dir, name)


# Where a word label may sit around its point (points right/up), tried in order.
LABEL_OFFSETS = ((3, 3), (3, -9), (-16, 3), (-16, -9), (3, 10), (3, -16))


def _free_offset(ax, x: float, y: float, placed: list[tuple[float, float]]) -> tuple[int, int]:
    """The first label offset whose anchor is clear of the labels already placed (about a short
    word's width and a line's height apart), else the last one; records it in `placed`."""
    px, py = ax.transData.transform((x, y)) * 72 / ax.figure.dpi
    choice = LABEL_OFFSETS[-1]
    for dx, dy in LABEL_OFFSETS:
        if all(abs(px + dx - qx) > 18 or abs(py + dy - qy) > 8 for qx, qy in placed):
            choice = (dx, dy)
            break
    placed.append((px + choice[0], py + choice[1]))
    return choice


def final_states(table: pd.DataFrame, title: str, out_dir: Path, name: str) -> list[Path]:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 6))
    background = fitted(table)
    ax.scatter(background["x"], background["y"], **BACKGROUND, label="all states")
    final = table[(table["role"] == "fit") & table["final"]]
    for clauses, color in ((1, "#1b9e77"), (2, "#d95f02")):
        part = final[final["n_clauses"] == clauses]
        ax.scatter(part["x"], part["y"], s=14, color=color, zorder=3,
                   label=f"final state, {clauses}-object sentence ({len(part)})")  # fmt: skip
    _axes(ax, f"{title}: final states (after END)")
    ax.legend(fontsize=8)
    return style.save(fig, out_dir, name)


def clauses(table: pd.DataFrame, title: str, out_dir: Path, name: str) -> list[Path]:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 6))
    points = fitted(table)
    for clause in CLAUSES:
        part = points[points["clause"] == clause]
        if len(part):
            size = 60 if clause == "initial state" else 8
            ax.scatter(part["x"], part["y"], s=size, color=CLAUSE_COLORS[clause], linewidths=0,
                       label=f"{clause} ({len(part)})", zorder=3 if size > 8 else 2)  # fmt: skip
    _axes(ax, f"{title}: states by clause")
    ax.legend(fontsize=8, markerscale=1.5)
    return style.save(fig, out_dir, name)


def outputs(
    table: pd.DataFrame, labels: Sequence[str], title: str, out_dir: Path, name: str
) -> list[Path]:
    """One panel per chosen output unit, inferno over the paper's -0.3..1.3 widened to the
    activations' 1st-99th percentiles (a readout's outputs leave that range), its histogram
    underneath with the paper's range marked."""
    import matplotlib.pyplot as plt

    points = fitted(table)
    fig, axes = plt.subplots(2, len(labels), figsize=(5.6 * len(labels), 7.4),
                             gridspec_kw={"height_ratios": [4, 1.2]}, squeeze=False,
                             layout="constrained")  # fmt: skip
    for k, label in enumerate(labels):
        ax, hist = axes[0, k], axes[1, k]
        values = points[label].to_numpy()
        low = min(ACTIVATION_RANGE[0], float(np.percentile(values, 1)))
        high = max(ACTIVATION_RANGE[1], float(np.percentile(values, 99)))
        order = np.argsort(values)  # strongest activations drawn on top
        sc = ax.scatter(points["x"].to_numpy()[order], points["y"].to_numpy()[order],
                        c=values[order], cmap="inferno", vmin=low, vmax=high, s=8,
                        linewidths=0)  # fmt: skip
        _axes(ax, f"output {label}")
        below, above = bool(values.min() < low), bool(values.max() > high)
        beyond = {(True, True): "both", (True, False): "min", (False, True): "max"}.get(
            (below, above), "neither"
        )
        fig.colorbar(sc, ax=ax, shrink=0.8, label="activation", extend=beyond)
        bins = np.linspace(min(low, values.min()), max(high, values.max()), 40)
        hist.hist(values, bins=bins, color="#555555")
        hist.axvspan(*ACTIVATION_RANGE, color="#f0a030", alpha=0.2, lw=0,
                     label="the paper's colour range")  # fmt: skip
        hist.legend(fontsize=7, frameon=False)
        hist.set_xlabel(f"activation of {label}")
        hist.set_ylabel("states")
    fig.suptitle(f"{title}: states colored by output activation")
    return style.save(fig, out_dir, name)


def error_map(table: pd.DataFrame, title: str, out_dir: Path, name: str) -> list[Path]:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 6))
    background = fitted(table)
    ax.scatter(background["x"], background["y"], **BACKGROUND)
    final = table[(table["role"] == "fit") & table["final"]]
    cmap = plt.get_cmap("tab10")
    counts = final["error_class"].value_counts()
    # the most frequent class (usually all correct) first and faint, the rare errors on top
    for rank, code in enumerate(sorted(counts.index, key=lambda c: -counts[c])):
        part = final[final["error_class"] == code]
        ax.scatter(part["x"], part["y"], s=10 if rank == 0 else 20, color=cmap(int(code)),
                   alpha=0.35 if rank == 0 else 0.95, zorder=3 + rank, linewidths=0,
                   label=f"{code}: {error_class_name(int(code))} ({len(part)})")  # fmt: skip
    _axes(ax, f"{title}: error map of the final states")
    ax.legend(fontsize=7, title="class = obj1 score + 3 × obj2 score", title_fontsize=7,
              loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)  # fmt: skip
    fig.set_size_inches(10, 6)
    fig.tight_layout()
    return style.save(fig, out_dir, name)


def draw_views(
    table: pd.DataFrame, output_labels: Sequence[str], title: str, out_dir: Path, prefix: str
) -> list[Path]:
    """Every static RSSviz view of one model: {prefix}_{view}.png/.svg."""
    style.setup()
    paths = []
    paths += trajectories(table, title, out_dir, f"{prefix}_trajectories")
    paths += final_states(table, title, out_dir, f"{prefix}_final_states")
    paths += clauses(table, title, out_dir, f"{prefix}_clauses")
    paths += outputs(table, output_labels, title, out_dir, f"{prefix}_outputs")
    paths += error_map(table, title, out_dir, f"{prefix}_error_map")
    return paths
