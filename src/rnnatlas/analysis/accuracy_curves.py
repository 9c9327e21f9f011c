"""Accuracy versus rows of information for the sequential-MNIST variants (Horoi et al. 2020).

The variants table has one row per (network, variant, n): seed, variant, n, steps, accuracy.
At equal information n the *hidden* variant keeps the trained length (28 steps) and *cut* stops
after n steps; the paper reads the gap as "sequence length, not information, sets accuracy".
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def summarise_variants(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, sd (ddof 1; 0 for one network) and count of accuracy per (variant, n)."""
    missing = {"variant", "n", "accuracy", "seed"} - set(table.columns)
    if missing:
        raise ValueError(f"variants table lacks column(s) {sorted(missing)}")
    grouped = table.groupby(["variant", "n"])["accuracy"]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    out["std"] = out["std"].fillna(0.0)
    return out


def length_versus_information(table: pd.DataFrame, n_range=(1, 27), slack: float = 0.01) -> dict:
    """hidden(n) - cut(n) over n in n_range, per network: the mean gap over n, its smallest value,
    and the share of (network, n) where hidden is not behind cut by more than `slack`.

    Ties are no evidence either way: the first rows of every MNIST digit are blank, so at small n
    both variants sit at chance.
    """
    low, high = n_range
    part = table[(table["n"] >= low) & (table["n"] <= high)]
    wide = part.pivot_table(index=["seed", "n"], columns="variant", values="accuracy")
    for needed in ("hidden", "cut"):
        if needed not in wide.columns:
            raise ValueError(f"the variants table has no {needed!r} rows for n in {n_range}")
    gap = (wide["hidden"] - wide["cut"]).rename("gap").reset_index()
    per_n = gap.groupby("n")["gap"].mean()
    return {
        "n_range": [int(low), int(high)],
        "networks": int(gap["seed"].nunique()),
        "mean_gap": float(per_n.mean()),
        "min_gap": float(per_n.min()),
        "share_hidden_ahead": float((gap["gap"] > 0).mean()),
        "share_hidden_not_behind": float((gap["gap"] >= -slack).mean()),
        "slack": float(slack),
        "gap_by_n": {int(n): float(v) for n, v in per_n.items()},
    }


def full_length_accuracy(table: pd.DataFrame) -> tuple[float, float, int]:
    """Mean, sd and count over networks of the accuracy on the full 28-row sequences."""
    full = table[(table["variant"] == "hidden") & (table["n"] == table["n"].max())]
    values = full.groupby("seed")["accuracy"].mean().to_numpy()
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return float(values.mean()), sd, len(values)
