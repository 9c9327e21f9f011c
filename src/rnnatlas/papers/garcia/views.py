"""The views of one use case from a states file: Garcia et al.'s per-step table and projection.

Any states file with one row per (sequence, step) works: the expected predictions come from its
`prediction` column when that holds a probability vector per step (the Garcia classifiers), or
from the model's readout applied to the states (e.g. the sequential-MNIST RNN, whose states file
records the predicted class). Writes `views.parquet` (analysis.trajectories.views_table, the
states file named in its metadata) and `projection.parquet` (x, y per row of the views table;
null for rows left out of the projection).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.analysis.projection import pca, tsne
from rnnatlas.analysis.trajectories import expected_predictions, views_table
from rnnatlas.io import read_table, write_parquet
from rnnatlas.states import state_matrix

log = logging.getLogger("rnnatlas")


def _predictions(states_path: Path, rows: int, model_path: Path | None, matrix: np.ndarray):
    """Per-row class probabilities: the file's prediction vectors, else the model's readout."""
    column = read_table(states_path, ["prediction"]).column("prediction").combine_chunks()
    if hasattr(column.type, "list_size"):
        return column.flatten().to_numpy(zero_copy_only=False).reshape(rows, -1), "states file"
    if model_path is None:
        raise ValueError(
            f"{states_path}: its prediction column holds classes, not probabilities; give the "
            "model whose readout makes the expected predictions"
        )
    from rnnatlas.models import load

    readout = load(model_path).readout
    weight, bias = readout.weight.detach().numpy(), readout.bias.detach().numpy()
    activation = "sigmoid" if weight.shape[0] == 1 else "softmax"
    return expected_predictions(matrix, weight, bias, activation), f"readout of {model_path}"


def project(matrix: np.ndarray, spec: Mapping) -> tuple[np.ndarray, dict]:
    """2-D coordinates of the rows: t-SNE (perplexity lowered to what the rows allow, said in the
    returned note) or PCA."""
    method = spec["method"]
    seed = int(spec["random_state"])
    if method == "pca":
        return pca(matrix, seed), {"method": "pca", "random_state": seed}
    if method != "tsne":
        raise ValueError(f"projection method must be tsne or pca, not {method!r}")
    perplexity = min(float(spec["perplexity"]), (len(matrix) - 1) / 3.0 - 1e-6)
    coordinates = tsne(matrix, perplexity, seed, float(spec.get("early_exaggeration", 12.0)))
    note = {"method": "tsne", "random_state": seed, "perplexity": perplexity,
            "perplexity_asked": float(spec["perplexity"])}  # fmt: skip
    return coordinates, note


def views_step(
    states_path: Path,
    out: Mapping[str, Path],
    classes: Sequence[str],
    projection: Mapping,
    state: str = "h",
    model_path: Path | None = None,
    steps: int | None = None,
    sequences: int | None = None,
    filters: Mapping | None = None,
) -> dict:
    """Write out["views"] and out["projection"] for `states_path`; returns the projection note.

    steps: keep t < steps (e.g. MNIST's 28 rows before the zero rows); sequences: keep the first
    sequences (by id); filters: distance_jump, confidence_change thresholds."""
    index, matrix = state_matrix(states_path, state)
    predictions, source = _predictions(Path(states_path), len(index), model_path, matrix)
    targets = read_table(states_path, ["target"]).column("target").to_numpy()
    keep = np.ones(len(index), dtype=bool)
    if steps is not None:
        keep &= index["t"].to_numpy() < int(steps)
    if sequences is not None:
        chosen = np.sort(index["sequence_id"].unique())[: int(sequences)]
        keep &= index["sequence_id"].isin(chosen).to_numpy()
    index, matrix = index[keep].reset_index(drop=True), matrix[keep]
    predictions, targets = predictions[keep], targets[keep]
    if predictions.shape[1] != len(classes):
        raise ValueError(
            f"{states_path}: {predictions.shape[1]} expected predictions per step, but "
            f"{len(classes)} classes {list(classes)}"
        )
    limits = dict(filters or {})
    table = views_table(
        index, matrix, predictions, classes,
        jump=float(limits.get("distance_jump", 0.40)),
        change=float(limits.get("confidence_change", 0.30)), targets=targets,
    )  # fmt: skip
    coordinates, note = project(matrix, projection)
    meta = {"states": str(states_path), "state": state, "expected_predictions": source,
            "classes": list(classes), "projection": note}  # fmt: skip
    write_parquet(out["views"], table, metadata=meta)
    frame = pd.DataFrame({"sequence_id": table["sequence_id"], "t": table["t"],
                          "x": coordinates[:, 0], "y": coordinates[:, 1]})  # fmt: skip
    write_parquet(out["projection"], frame, metadata=meta)
    log.info("garcia views: %d rows of %s, %s", len(table), states_path, note)
    return meta
