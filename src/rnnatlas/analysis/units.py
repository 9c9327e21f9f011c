"""Internal units of a trained CSL model (Variengien & Hinaut 2020, "internal units" analyses).

Everything here is plain numpy/pandas on a readout matrix ``W [outputs, units]`` (the ESN's
readout without its bias row, or the LSTM's Dense weight without its bias) and on recorded states:

- `winglet`: per output, |W| sorted in decreasing order (the paper's "winglet" plot);
- `top_units`: per output, the k most positive and the k most negative weights;
- `polyvalent_units`: units that appear in at least `min_lists` of those 2 x outputs lists;
- `most_connected`: the units with the largest |W[output]|;
- `abs_delta` / `delta_per_word`: |x_t - x_{t-1}| word by word, and the per-word mean and sd of
  its sum over chosen units across test sentences;
- `output_activations`: the readout over a sentence as a long table for the 3 x 2 grid
  (groups object/position/color x object slots);
- `emphasised_units` / `emphasis_test`: whether the units the readout weighs most carry a
  per-step label (e.g. the clause a word is in) better than as many units drawn at random.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

SIGNS = ("positive", "negative")


def readout_weights(model) -> np.ndarray:
    """Readout weights [outputs, units] of a loaded model, bias excluded (a float64 copy).

    ESN: its readout acts on [1; x] and is stored [1 + units, outputs]; row 0 (the bias) is
    dropped and the rest transposed. SequenceLSTM: the Dense layer's weight [outputs, units]
    (it reads the hidden state h of the last layer); its bias vector is not included.
    """
    from rnnatlas.models.esn import ESN
    from rnnatlas.models.lstm import SequenceLSTM

    if isinstance(model, ESN):
        return model.Wout[1:].detach().cpu().numpy().T.astype(np.float64)
    if isinstance(model, SequenceLSTM):
        return model.readout.weight.detach().cpu().numpy().astype(np.float64)
    raise TypeError(f"readout_weights: expected an ESN or a SequenceLSTM, got {type(model)}")


def _matrix(W) -> np.ndarray:
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] < 1 or W.shape[1] < 1:
        raise ValueError(f"expected a readout matrix [outputs, units], got shape {W.shape}")
    return W


def winglet(W) -> pd.DataFrame:
    """Per output, |W[output]| sorted in decreasing order: DataFrame(output, rank, abs_weight).

    rank 0 is the largest |weight| of that output; rows are ordered by output, then rank.
    """
    W = _matrix(W)
    outputs, units = W.shape
    ordered = -np.sort(-np.abs(W), axis=1)
    return pd.DataFrame(
        {
            "output": np.repeat(np.arange(outputs), units),
            "rank": np.tile(np.arange(units), outputs),
            "abs_weight": ordered.reshape(-1),
        }
    )


def top_units(W, k: int = 5) -> pd.DataFrame:
    """The k most positive and the k most negative weights of every output.

    Returns DataFrame(output, sign, rank, unit, weight), ordered by output, sign ("positive"
    first, then "negative") and rank. "positive" lists the k largest weights in decreasing order,
    "negative" the k smallest in increasing order (rank 0 = the most extreme); they are the
    extremes of each row, so with a row of only positive weights the "negative" list holds its
    smallest positive ones, as in the paper's argsort. Ties are broken by the lower unit index.
    k is clipped to the number of units.
    """
    W = _matrix(W)
    if int(k) != k or k < 1:
        raise ValueError(f"top_units: k must be a positive integer, got {k!r}")
    outputs, units = W.shape
    k = min(int(k), units)
    index = np.arange(units)
    frames = []
    for output in range(outputs):
        row = W[output]
        # lexsort: the last key is the primary one; the unit index breaks ties (lower first)
        for sign, order in (
            ("positive", np.lexsort((index, -row))[:k]),
            ("negative", np.lexsort((index, row))[:k]),
        ):
            frames.append(
                pd.DataFrame(
                    {
                        "output": output,
                        "sign": sign,
                        "rank": np.arange(k),
                        "unit": order,
                        "weight": row[order],
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def polyvalent_units(top: pd.DataFrame, min_lists: int = 5) -> pd.DataFrame:
    """Units present in at least `min_lists` of the (output, sign) lists of `top_units`.

    Returns DataFrame(unit, lists, outputs), sorted by `lists` descending then `unit`. `lists` is
    the number of lists holding the unit; `outputs` names them as "output+sign" joined by commas,
    e.g. "0+,3-,7+" (+ for the positive list, - for the negative one).
    """
    lists = top[["output", "sign", "unit"]].drop_duplicates()
    counts = lists.groupby("unit").size()
    keep = counts[counts >= min_lists]
    rows = []
    for unit, count in keep.items():
        mine = lists[lists["unit"] == unit].sort_values(["output", "sign"], ascending=[True, False])
        names = ",".join(
            f"{o}{'+' if s == 'positive' else '-'}"
            for o, s in zip(mine["output"], mine["sign"], strict=True)
        )
        rows.append({"unit": int(unit), "lists": int(count), "outputs": names})
    frame = pd.DataFrame(rows, columns=["unit", "lists", "outputs"])
    frame = frame.astype({"unit": np.int64, "lists": np.int64, "outputs": str})
    return frame.sort_values(["lists", "unit"], ascending=[False, True], ignore_index=True)


def most_connected(W, output: int, k: int = 10) -> np.ndarray:
    """The k units with the largest |W[output]|, largest first (ties: lower unit index)."""
    W = _matrix(W)
    if not 0 <= output < W.shape[0]:
        raise ValueError(f"most_connected: output {output} out of range [0, {W.shape[0]})")
    weights = np.abs(W[output])
    return np.lexsort((np.arange(len(weights)), -weights))[: max(0, int(k))]


def abs_delta(states, initial=None) -> np.ndarray:
    """|x_t - x_{t-1}| for every step of one sequence [T, units], with x_{-1} = initial.

    initial defaults to zeros: our models start every sentence from the zero state, so the first
    row is |x_0|.
    """
    states = np.asarray(states, dtype=np.float64)
    if states.ndim != 2:
        raise ValueError(f"abs_delta: expected states [T, units], got shape {states.shape}")
    first = np.zeros(states.shape[1]) if initial is None else np.asarray(initial, np.float64)
    if first.shape != (states.shape[1],):
        raise ValueError(f"abs_delta: initial must have shape ({states.shape[1]},)")
    previous = np.vstack([first[None, :], states[:-1]])
    return np.abs(states - previous)


def delta_per_word(
    frame: pd.DataFrame, states, units: Sequence[int] | np.ndarray, sentences: int | None
) -> pd.DataFrame:
    """Mean and sd, per word, of sum_{i in units} |x_t,i - x_{t-1},i| over the first sentences.

    frame: the index columns of a states table (`sequence_id`, `t`, `token`), one row per row of
    states [rows, all units]. The first `sentences` sequences in order of appearance are used
    (all of them when None); within a sequence rows are taken in order of `t` and the step before
    the first one is the zero state. Returns DataFrame(token, mean, sd, count), one row per word,
    in order of first appearance; sd is the population sd (ddof=0, as numpy's std).
    """
    states = np.asarray(states)
    if len(frame) != len(states):
        raise ValueError(f"delta_per_word: {len(frame)} index rows for {len(states)} state rows")
    units = np.asarray(units, dtype=np.intp).reshape(-1)
    ids = frame["sequence_id"].to_numpy()
    chosen_ids = pd.unique(ids)
    if sentences is not None:
        chosen_ids = chosen_ids[: int(sentences)]
    rows = np.flatnonzero(np.isin(ids, chosen_ids))
    # order of appearance of the sequence, then t
    rank = pd.Series(np.arange(len(chosen_ids)), index=chosen_ids)
    rows = rows[np.lexsort((frame["t"].to_numpy()[rows], rank.loc[ids[rows]].to_numpy()))]
    values = np.asarray(states[rows][:, units], dtype=np.float64)
    previous = np.vstack([np.zeros((1, len(units))), values[:-1]])
    starts = np.r_[True, ids[rows][1:] != ids[rows][:-1]]
    previous[starts] = 0.0
    summed = np.abs(values - previous).sum(axis=1)
    tokens = frame["token"].to_numpy()[rows]
    table = pd.DataFrame({"token": tokens, "delta": summed})
    grouped = table.groupby("token", sort=False)["delta"]
    out = pd.DataFrame(
        {
            "mean": grouped.mean(),
            "sd": grouped.std(ddof=0),
            "count": grouped.size().astype(np.int64),
        }
    )
    return out.rename_axis("token").reset_index()


def _label(label) -> tuple[int, str, str]:
    """(slot, group, concept) from a tuple or from the corpus card's "slot0:object:glass"."""
    if isinstance(label, str):
        slot, group, concept = label.split(":")
        return int(slot.removeprefix("slot")), group, concept
    slot, group, concept = label
    return int(slot), str(group), str(concept)


def output_activations(outputs, labels, tokens: Sequence[str] | None = None) -> pd.DataFrame:
    """Readout over one sentence as a long table for the 3 x 2 grid (groups x slots).

    outputs [T, D]; labels: D entries (slot, group, concept) as `CSLGrammar.output_labels()`
    or "slot0:object:glass" strings as in the corpus card. Returns DataFrame(t, slot, group,
    concept, activation) with T x D rows ordered by t then output, plus a `token` column when
    tokens (T words) are given.
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    parsed = [_label(label) for label in labels]
    if outputs.ndim != 2 or outputs.shape[1] != len(parsed):
        raise ValueError(
            f"output_activations: outputs {outputs.shape} do not match {len(parsed)} labels"
        )
    steps, width = outputs.shape
    slots = np.array([slot for slot, _, _ in parsed], dtype=np.int64)
    groups = np.array([group for _, group, _ in parsed], dtype=object)
    concepts = np.array([concept for _, _, concept in parsed], dtype=object)
    frame = pd.DataFrame(
        {
            "t": np.repeat(np.arange(steps), width),
            "slot": np.tile(slots, steps),
            "group": np.tile(groups, steps),
            "concept": np.tile(concepts, steps),
            "activation": outputs.reshape(-1),
        }
    )
    if tokens is not None:
        if len(tokens) != steps:
            raise ValueError(f"output_activations: {len(tokens)} tokens for {steps} steps")
        frame.insert(1, "token", np.repeat(np.asarray(list(tokens), dtype=object), width))
    return frame


__all__ = [
    "abs_delta",
    "delta_per_word",
    "most_connected",
    "output_activations",
    "polyvalent_units",
    "readout_weights",
    "top_units",
    "winglet",
]


def emphasised_units(W, k: int) -> np.ndarray:
    """The k units with the largest summed |readout weight| over all outputs, strongest first."""
    strength = np.abs(_matrix(W)).sum(axis=0)
    return np.argsort(-strength, kind="stable")[:k]


def unit_separability(matrix, labels) -> np.ndarray:
    """Per unit (column of `matrix`), how well its value alone tells the two classes of `labels`
    apart: 2 |AUC - 0.5| (0: not at all, 1: perfectly, whichever class lies higher), the AUC
    from ranks (Mann-Whitney, ties averaged)."""
    from scipy.stats import rankdata

    labels = np.asarray(labels)
    classes = np.unique(labels)
    if len(classes) != 2:
        raise ValueError(f"unit_separability: two classes needed, got {len(classes)}")
    positive = labels == classes[1]
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    ranks = rankdata(np.asarray(matrix, dtype=np.float64), axis=0)
    auc = (ranks[positive].sum(axis=0) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return 2 * np.abs(auc - 0.5)


def emphasis_test(W, matrix, labels, k: int, draws: int = 10_000, seed: int = 0) -> dict:
    """Do the k units the readout emphasises carry a two-class per-step label (e.g. a word's
    clause) more than k units drawn at random? Each unit's `unit_separability` of the label; the
    mean over the emphasised units against the means of `draws` random k-sets (without
    replacement). `percentile`: the share of random sets the emphasised units beat (ties half);
    `spearman`: the rank correlation of readout weight and separability over all units."""
    from scipy.stats import spearmanr

    n_units = _matrix(W).shape[1]
    if not 0 < k < n_units:
        raise ValueError(f"emphasis_test: k must lie in 1..{n_units - 1}, not {k}")
    score = unit_separability(matrix, labels)
    top = emphasised_units(W, k)
    ours = float(score[top].mean())
    rng = np.random.default_rng(seed)
    random = np.array([score[rng.choice(n_units, k, replace=False)].mean() for _ in range(draws)])
    strength = np.abs(_matrix(W)).sum(axis=0)
    return {
        "k": int(k),
        "units": [int(u) for u in top],
        "emphasised": ours,
        "random_mean": float(random.mean()),
        "random_sd": float(random.std(ddof=1)),
        "random_q95": float(np.quantile(random, 0.95)),
        "percentile": float(np.mean(random < ours) + 0.5 * np.mean(random == ours)),
        "spearman": float(spearmanr(strength, score).statistic),
        "draws": int(draws),
        "rows": int(len(labels)),
    }
