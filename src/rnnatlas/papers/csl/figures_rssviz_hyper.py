"""RSSviz across hyperparameters: one panel per (input scaling, spectral radius, leak rate)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rnnatlas.analysis.projection import CLAUSES
from rnnatlas.figures import style
from rnnatlas.papers.csl.figures_rssviz import CLAUSE_COLORS


def draw_grid(table: pd.DataFrame, panels: pd.DataFrame, out_dir: Path, name: str) -> list[Path]:
    """Rows: (input scaling, spectral radius); columns: leak rate; colors: clause."""
    import matplotlib.pyplot as plt

    style.setup()
    rows = panels[["input_scaling", "spectral_radius"]].drop_duplicates().to_records(index=False)
    leaks = sorted(panels["leak"].unique())
    fig, axes = plt.subplots(len(rows), len(leaks), figsize=(3.4 * len(leaks), 3.3 * len(rows)),
                             squeeze=False, layout="constrained")  # fmt: skip
    for i, (scaling, radius) in enumerate(rows):
        for j, rate in enumerate(leaks):
            ax = axes[i, j]
            keys = (
                (table["input_scaling"] == scaling)
                & (table["spectral_radius"] == radius)
                & (table["leak"] == rate)
            )
            part = table[keys].drop_duplicates("unique_id")
            for clause in CLAUSES:
                points = part[part["clause"] == clause]
                ax.scatter(points["x"], points["y"], s=3, color=CLAUSE_COLORS[clause],
                           linewidths=0, label=clause)  # fmt: skip
            info = panels[
                (panels["input_scaling"] == scaling)
                & (panels["spectral_radius"] == radius)
                & (panels["leak"] == rate)
            ].iloc[0]
            ax.set_title(f"sr {radius:g}, leak {rate:g}, in {scaling:g}\n"
                         f"T={info['trustworthiness']:.2f}", fontsize=8)  # fmt: skip
            ax.set_xticks([])
            ax.set_yticks([])
    handles = [
        plt.Line2D([], [], ls="", marker="o", color=CLAUSE_COLORS[c], label=c) for c in CLAUSES[1:]
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8)
    fig.suptitle("Untrained reservoir states (UMAP per panel), colored by clause", fontsize=11)
    return style.save(fig, out_dir, name)
