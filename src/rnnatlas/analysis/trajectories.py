"""Per-step views of a sequence classifier's hidden states (Garcia, Munz & Weiskopf 2021), for any
states file with one row per (sequence, step):

- `expected_predictions`: the output layer applied to the state after every step (the paper's
  "expected prediction", EP: what the model would answer if the sequence ended there);
- `state_distances`: the Euclidean distance from each state to the previous one of its sequence,
  divided by the single largest such distance over all sequences (null at t = 0);
- `flags`: the paper's three filters: a distance jump (normalised distance >= 0.40), a confidence
  change (some class's EP moves by >= 0.30) and an argmax flip (the EP's class changes);
- `views_table`: all of it as one tidy table, one row per (sequence_id, t).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

DISTANCE_JUMP = 0.40  # normalised distance at which a step counts as a jump (the paper's)
CONFIDENCE_CHANGE = 0.30  # EP change at which a step counts as a confidence change (the paper's)


def expected_predictions(states, weight, bias=None, activation: str = "softmax") -> np.ndarray:
    """EP [rows, classes] of states [rows, units] through a Dense layer `weight` [outputs, units]
    (torch's layout) and `bias` [outputs]: the softmax of the logits, or for one sigmoid output
    (activation "sigmoid") the two-class (1 - p, p)."""
    states = np.asarray(states, dtype=np.float64)
    weight = np.atleast_2d(np.asarray(weight, dtype=np.float64))
    if weight.shape[1] != states.shape[1]:
        raise ValueError(
            f"expected_predictions: the layer reads {weight.shape[1]} units, the states have "
            f"{states.shape[1]}"
        )
    logits = states @ weight.T + (0.0 if bias is None else np.asarray(bias, dtype=np.float64))
    if activation == "sigmoid":
        if logits.shape[1] != 1:
            raise ValueError(f"a sigmoid reads one output, the layer has {logits.shape[1]}")
        p = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        return np.column_stack([1.0 - p, p])
    if activation != "softmax":
        raise ValueError(f"activation must be softmax or sigmoid, not {activation!r}")
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _order(sequence_id, t) -> np.ndarray:
    """Row order by (sequence_id, t), and a check that the steps of each sequence are 0..T-1."""
    sequence_id, t = np.asarray(sequence_id), np.asarray(t)
    order = np.lexsort((t, sequence_id))
    ids, steps = sequence_id[order], t[order]
    starts = np.r_[True, ids[1:] != ids[:-1]]
    expected = np.arange(len(ids)) - np.maximum.accumulate(np.where(starts, np.arange(len(ids)), 0))
    if not np.array_equal(steps, expected):
        raise ValueError("the steps of every sequence must run 0, 1, ..., T-1 without gaps")
    return order


def state_distances(sequence_id, t, states) -> np.ndarray:
    """Per row: ||h_t - h_{t-1}|| within its sequence divided by the largest over all rows (the
    paper's normalisation by one global maximum); NaN at t = 0. Rows may come in any order."""
    states = np.asarray(states, dtype=np.float64)
    order = _order(sequence_id, t)
    ordered = states[order]
    steps = np.asarray(t)[order]
    raw = np.full(len(states), np.nan)
    moving = steps > 0
    raw[moving] = np.linalg.norm(ordered[moving] - ordered[np.flatnonzero(moving) - 1], axis=1)
    top = np.nanmax(raw) if moving.any() else np.nan
    scaled = raw / top if np.isfinite(top) and top > 0 else raw
    distances = np.empty_like(scaled)
    distances[order] = scaled
    return distances


def flags(
    sequence_id,
    t,
    predictions,
    distances,
    jump: float = DISTANCE_JUMP,
    change: float = CONFIDENCE_CHANGE,
) -> pd.DataFrame:
    """The three filters per row (False at t = 0): `distance_jump` (distance >= jump),
    `confidence_change` (some class's EP moved by >= change since t - 1) and `argmax_flip` (the
    EP's class differs from t - 1's)."""
    predictions = np.asarray(predictions, dtype=np.float64)
    order = _order(sequence_id, t)
    ordered = predictions[order]
    moving = np.asarray(t)[order] > 0
    previous = np.flatnonzero(moving) - 1
    delta = np.zeros(len(ordered))
    delta[moving] = np.abs(ordered[moving] - ordered[previous]).max(axis=1)
    flip = np.zeros(len(ordered), dtype=bool)
    flip[moving] = ordered[moving].argmax(axis=1) != ordered[previous].argmax(axis=1)
    confidence_change, argmax_flip = np.empty(len(ordered), bool), np.empty(len(ordered), bool)
    confidence_change[order], argmax_flip[order] = delta >= change, flip
    return pd.DataFrame(
        {
            "distance_jump": np.nan_to_num(np.asarray(distances, dtype=np.float64)) >= jump,
            "confidence_change": confidence_change,
            "argmax_flip": argmax_flip,
        }
    )


def views_table(
    index: pd.DataFrame,
    states,
    predictions,
    classes: Sequence[str],
    jump: float = DISTANCE_JUMP,
    change: float = CONFIDENCE_CHANGE,
    targets=None,
) -> pd.DataFrame:
    """One row per row of `index` (sequence_id, t, token): token, the true class (`target`, a
    class name, when `targets` gives class indices per row), distance, the EP of every class
    (`ep_<class>`), its argmax (class name) and confidence, and the three filter flags."""
    predictions = np.asarray(predictions, dtype=np.float64)
    if predictions.shape != (len(index), len(classes)):
        raise ValueError(
            f"views_table: predictions of shape {predictions.shape}; expected "
            f"({len(index)}, {len(classes)}) for classes {list(classes)}"
        )
    ids, steps = index["sequence_id"].to_numpy(), index["t"].to_numpy()
    distances = state_distances(ids, steps, states)
    table = pd.DataFrame({"sequence_id": ids, "t": steps, "token": index["token"].to_numpy()})
    if targets is not None:
        table["target"] = np.asarray(classes, dtype=object)[np.asarray(targets, dtype=int)]
    table["distance"] = distances
    for column, name in enumerate(classes):
        table[f"ep_{name}"] = predictions[:, column]
    table["argmax"] = np.asarray(classes, dtype=object)[predictions.argmax(axis=1)]
    table["confidence"] = predictions.max(axis=1)
    marks = flags(ids, steps, predictions, distances, jump, change)
    for column in marks:
        table[column] = marks[column].to_numpy()
    return table


def jump_coincidence(views: pd.DataFrame, shuffles: int = 1000, seed: int = 0) -> dict:
    """How often a distance jump comes with a change of the expected prediction (a confidence
    change or an argmax flip) at the same step, against the same jumps put at random steps of
    their sequence (`shuffles` permutations within each sequence, t > 0). Returns the observed
    share, the permutation mean and sd, and the one-sided p-value (share of permutations at
    least as high, with the +1 correction)."""
    moving = views[views["t"] > 0].sort_values(["sequence_id", "t"])
    sequences = moving["sequence_id"].to_numpy()
    jumps = moving["distance_jump"].to_numpy(bool)
    change = (moving["confidence_change"] | moving["argmax_flip"]).to_numpy(bool)
    if not jumps.any():
        return {"jumps": 0, "steps": int(len(moving)), "changes": int(change.sum()),
                "observed": None, "null_mean": None, "null_sd": None, "p_value": None}  # fmt: skip
    observed = float(change[jumps].mean())
    rng = np.random.default_rng(seed)
    null = np.empty(shuffles)
    for k in range(shuffles):
        # sorted by sequence, a lexsort on (random keys, sequence) permutes within each sequence
        within = np.lexsort((rng.random(len(jumps)), sequences))
        null[k] = change[jumps[within]].mean()
    return {
        "jumps": int(jumps.sum()),
        "steps": int(len(moving)),
        "changes": int(change.sum()),
        "observed": observed,
        "null_mean": float(null.mean()),
        "null_sd": float(null.std(ddof=1)),
        "p_value": float((np.sum(null >= observed) + 1) / (shuffles + 1)),
    }


def decision_points(views: pd.DataFrame) -> pd.DataFrame:
    """Per sequence: its length, the step after which the expected prediction's class no longer
    changes (0 if it never flips), that step as a fraction of the length, and whether that final
    class is the true one (when `target` is known)."""
    rows = []
    for sequence_id, part in views.sort_values(["sequence_id", "t"]).groupby("sequence_id"):
        flips = np.flatnonzero(part["argmax_flip"].to_numpy(bool))
        settled = int(part["t"].to_numpy()[flips[-1]]) if len(flips) else 0
        length = len(part)
        row = {"sequence_id": sequence_id, "length": length, "settled_at": settled,
               "fraction": settled / length}  # fmt: skip
        if "target" in part:
            row["correct"] = bool(part["argmax"].iloc[-1] == part["target"].iloc[-1])
        rows.append(row)
    return pd.DataFrame(rows)
