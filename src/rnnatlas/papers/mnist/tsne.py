"""t-SNE of the hidden states of test digits at chosen steps, and how well digits separate there.

Reads a states file of the public contract (one row per digit and step, `target` = the digit),
so it applies to anyone's sequential-MNIST states.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas import states
from rnnatlas.analysis.projection import tsne
from rnnatlas.analysis.separability import separability_by_step
from rnnatlas.io import read_table, write_parquet

log = logging.getLogger("rnnatlas")


def state_cube(path: Path, state: str = "h0") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sequence ids [N], labels [N], states [N, T, units]) from a states file of equal lengths."""
    index, X = states.state_matrix(path, state)
    targets = read_table(path, columns=["target"]).column("target").to_numpy()
    lengths = index.groupby("sequence_id", sort=False).size()
    if lengths.nunique() != 1:
        raise ValueError(f"{path}: sequences of different lengths; expected one length for all")
    steps = int(lengths.iloc[0])
    if not (index["t"].to_numpy().reshape(-1, steps) == np.arange(steps)).all():
        raise ValueError(f"{path}: rows must run t = 0..{steps - 1} within each sequence")
    labels = targets.reshape(-1, steps)[:, 0].astype(np.int64)
    ids = index["sequence_id"].to_numpy().reshape(-1, steps)[:, 0]
    return ids, labels, X.reshape(len(ids), steps, -1)


def tsne_step(
    states_path: Path,
    tsne_path: Path,
    separability_path: Path,
    steps: Sequence[int],
    *,
    points: int = 1000,
    perplexity: float = 30.0,
    seed: int = 0,
    state: str = "h0",
) -> pd.DataFrame:
    """tsne_path (step, sequence_id, label, x, y) for `points` digits per step, and
    separability_path (k-NN accuracy, silhouette, chance) over every test digit per step."""
    ids, labels, cube = state_cube(states_path, state)
    separability = separability_by_step(cube, labels, steps, seed=seed)
    chosen = np.sort(np.random.default_rng(seed).permutation(len(ids))[: min(points, len(ids))])
    frames = []
    for step in steps:
        xy = tsne(cube[chosen, step], perplexity=perplexity, seed=seed)
        frames.append(
            pd.DataFrame(
                {
                    "step": int(step),
                    "sequence_id": ids[chosen],
                    "label": labels[chosen],
                    "x": xy[:, 0],
                    "y": xy[:, 1],
                }
            )
        )
        log.info("t-SNE at step %d done", step)
    table = pd.concat(frames, ignore_index=True)
    write_parquet(tsne_path, table)
    write_parquet(separability_path, separability)
    return separability
