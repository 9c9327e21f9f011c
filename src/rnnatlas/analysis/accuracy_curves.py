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


def length_versus_information(table: pd.DataFrame, n_range=(1, 27), z: float = 1.96) -> dict:
    """hidden(n) - cut(n) over n in n_range, per network: the mean gap over n (of the networks'
    mean), the smallest mean and per-network gaps, and the (network, n) where hidden is behind
    cut by more than `z` binomial standard errors of the difference,
    sqrt((p_hidden (1 - p_hidden) + p_cut (1 - p_cut)) / n_test): a dip inside the test set's
    noise is no evidence either way.

    Ties are no evidence either way: the first rows of every MNIST digit are blank, so at small n
    both variants sit at chance.
    """
    low, high = n_range
    part = table[(table["n"] >= low) & (table["n"] <= high)]
    wide = part.pivot_table(index=["seed", "n"], columns="variant", values="accuracy")
    for needed in ("hidden", "cut"):
        if needed not in wide.columns:
            raise ValueError(f"the variants table has no {needed!r} rows for n in {n_range}")
    tests = part.groupby(["seed", "n"])["n_test"].min()
    gap = (wide["hidden"] - wide["cut"]).rename("gap").to_frame()
    noise = (wide["hidden"] * (1 - wide["hidden"]) + wide["cut"] * (1 - wide["cut"])) / tests
    gap["se"] = np.sqrt(noise)
    gap = gap.reset_index()
    behind = gap[gap["gap"] < -z * gap["se"]]
    per_n = gap.groupby("n")["gap"].mean()
    smallest = gap.loc[gap["gap"].idxmin()]
    return {
        "n_range": [int(low), int(high)],
        "networks": int(gap["seed"].nunique()),
        "mean_gap": float(per_n.mean()),
        "min_gap": float(per_n.min()),
        "min_network_gap": float(smallest["gap"]),
        "min_network_gap_at": (int(smallest["seed"]), int(smallest["n"])),
        "typical_se": float(gap["se"].median()),
        "share_hidden_ahead": float((gap["gap"] > 0).mean()),
        "behind_beyond_noise": [(int(r.seed), int(r.n), float(r.gap)) for r in behind.itertuples()],
        "gap_by_n": {int(n): float(v) for n, v in per_n.items()},
    }


def full_length_accuracy(table: pd.DataFrame) -> tuple[float, float, int]:
    """Mean, sd and count over networks of the accuracy on the full 28-row sequences."""
    full = table[(table["variant"] == "hidden") & (table["n"] == table["n"].max())]
    values = full.groupby("seed")["accuracy"].mean().to_numpy()
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return float(values.mean()), sd, len(values)
