"""Intrinsic dimension of the hidden states at every time step of a states file.

Works on any file of the states contract: at step t, the states of every sequence that has a
step t form one point cloud. Horoi et al. (2020): the digit is first held as multi-dimensional
clusters, then compressed onto an attractor of far lower dimension.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from rnnatlas import states
from rnnatlas.analysis.dimension import METHODS, intrinsic_dimension
from rnnatlas.io import write_parquet

log = logging.getLogger("rnnatlas")


def dimension_by_step(
    states_path: Path,
    out_path: Path | None = None,
    *,
    state: str = "h0",
    methods: Sequence[str] = ("participation_ratio", "twonn"),
    stride: int = 1,
    points: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per (t, method): t, method, dimension, points (the cloud's size), distinct.

    stride: every stride-th step (t = 0, stride, ...) and always the last one. points: at most
    this many sequences per step, drawn with `seed` (None: all). A step whose cloud has too few
    distinct points for a method (e.g. t = 0 of MNIST, whose first rows are blank) gets NaN.
    """
    unknown = [m for m in methods if m not in METHODS and m != "pr"]
    if unknown:
        raise ValueError(f"unknown dimension method(s) {unknown}; choose from {METHODS}")
    if isinstance(stride, bool) or int(stride) != stride or stride < 1:
        raise ValueError(f"stride must be an integer >= 1, got {stride!r}")
    index, X = states.state_matrix(states_path, state)
    t = index["t"].to_numpy()
    last = int(t.max())
    steps = sorted(set(range(0, last + 1, int(stride))) | {last})
    rng = np.random.default_rng(seed)
    rows = []
    for step in tqdm(steps, desc=f"dimension of {state}", unit="step", mininterval=2):
        cloud = X[t == step].astype(np.float64)
        if points is not None and len(cloud) > points:
            cloud = cloud[np.sort(rng.permutation(len(cloud))[:points])]
        distinct = len(np.unique(cloud, axis=0))
        for method in methods:
            rows.append(
                {
                    "t": step,
                    "method": method,
                    "dimension": _dimension_or_nan(cloud, method, distinct),
                    "points": len(cloud),
                    "distinct": distinct,
                }
            )
    table = pd.DataFrame(rows)
    if out_path is not None:
        write_parquet(out_path, table)
    return table


def _dimension_or_nan(cloud: np.ndarray, method: str, distinct: int) -> float:
    if distinct < 3:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicates are expected early in a sequence
        try:
            return intrinsic_dimension(cloud, method)
        except ValueError as error:  # too few distinct neighbours for this estimator
            log.info("dimension %s undefined on %d distinct points: %s", method, distinct, error)
            return float("nan")
