"""Garcia et al.'s per-step views (expected predictions, normalised state distances, the three
filters) on hand-worked sequences."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rnnatlas.analysis.projection import pca
from rnnatlas.analysis.trajectories import (
    expected_predictions,
    flags,
    state_distances,
    views_table,
)


def test_expected_predictions_by_hand():
    states = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    weight = np.array([[math.log(3.0), 0.0]])  # one sigmoid output reading unit 0
    ep = expected_predictions(states, weight, [0.0], activation="sigmoid")
    # logits 0, ln 3, 0 -> p = 0.5, 0.75, 0.5
    np.testing.assert_allclose(ep, [[0.5, 0.5], [0.25, 0.75], [0.5, 0.5]])
    weight = np.array([[1.0, 0.0], [0.0, 0.5], [0.0, 0.0]])  # three softmax classes
    ep = expected_predictions(states, weight, [0.0, 0.0, math.log(2.0)])
    # row 2: logits (0, 1, ln 2) -> e^0, e^1, 2 over their sum
    np.testing.assert_allclose(ep[2], np.array([1.0, math.e, 2.0]) / (3.0 + math.e))
    np.testing.assert_allclose(ep[0], [0.25, 0.25, 0.5])
    with pytest.raises(ValueError, match="reads 2 units"):
        expected_predictions(np.zeros((2, 3)), weight)


def test_distances_are_normalised_by_the_one_largest_step():
    # sequence 7: (0,0) -> (3,4) -> (3,4); sequence 2: (0,0) -> (0,10); rows shuffled
    index = pd.DataFrame({"sequence_id": [7, 2, 7, 7, 2], "t": [1, 0, 0, 2, 1]})
    states = np.array([[3.0, 4.0], [0.0, 0.0], [0.0, 0.0], [3.0, 4.0], [0.0, 10.0]])
    distances = state_distances(index["sequence_id"], index["t"], states)
    # raw steps: 5, -, -, 0, 10 -> divided by 10
    np.testing.assert_allclose(distances, [0.5, np.nan, np.nan, 0.0, 1.0])
    with pytest.raises(ValueError, match="0, 1, ..., T-1"):
        state_distances([1, 1], [0, 2], np.zeros((2, 2)))


def test_the_three_filters_by_hand():
    ids, t = [0, 0, 0, 0], [0, 1, 2, 3]
    predictions = np.array([[0.9, 0.1], [0.8, 0.2], [0.45, 0.55], [0.4, 0.6]])
    distances = np.array([np.nan, 0.1, 0.4, 0.39])
    marks = flags(ids, t, predictions, distances)
    # EP changes 0.1, 0.35, 0.05; argmax 0, 0, 1, 1; jumps at distances >= 0.40
    assert marks["confidence_change"].tolist() == [False, False, True, False]
    assert marks["argmax_flip"].tolist() == [False, False, True, False]
    assert marks["distance_jump"].tolist() == [False, False, True, False]


def test_views_table_has_one_row_per_state():
    index = pd.DataFrame({"sequence_id": [0, 0, 1], "t": [0, 1, 0], "token": ["a", "b", "c"]})
    states = np.array([[0.0], [2.0], [1.0]])
    predictions = np.array([[0.2, 0.8], [0.7, 0.3], [0.5, 0.5]])
    table = views_table(index, states, predictions, ["neg", "pos"])
    assert table.columns.tolist() == [
        "sequence_id", "t", "token", "distance", "ep_neg", "ep_pos", "argmax", "confidence",
        "distance_jump", "confidence_change", "argmax_flip",
    ]  # fmt: skip
    assert table["argmax"].tolist() == ["pos", "neg", "neg"]
    np.testing.assert_allclose(table["confidence"], [0.8, 0.7, 0.5])
    assert table["argmax_flip"].tolist() == [False, True, False]
    np.testing.assert_allclose(table["distance"], [np.nan, 1.0, np.nan])


def test_pca_recovers_the_axis_of_largest_spread():
    rng = np.random.default_rng(0)
    along = rng.normal(size=200)
    X = np.column_stack([np.zeros(200), 5.0 * along, 0.01 * rng.normal(size=200)])
    coordinates = pca(X)
    # the first axis is the second column (centred), up to sign; the third column's 0.01 sd
    # noise tilts it by ~ its sample covariance with the first over 25: well below 1e-4
    np.testing.assert_allclose(np.abs(coordinates[:, 0]), np.abs(5.0 * (along - along.mean())),
                               atol=1e-4)  # fmt: skip


def _steps(sequence_id, jumps, changes, flips=()):
    n = len(jumps)
    return pd.DataFrame({
        "sequence_id": sequence_id, "t": np.arange(n), "distance_jump": jumps,
        "confidence_change": changes, "argmax_flip": [t in flips for t in range(n)],
    })  # fmt: skip


def test_jump_coincidence_against_shuffled_jumps():
    from rnnatlas.analysis.trajectories import jump_coincidence

    # 10 moving steps (t = 1..10); changes at t = 3 and 7, the jumps exactly there
    marks = np.zeros(11, dtype=bool)
    marks[[3, 7]] = True
    views = _steps(0, marks, marks)
    result = jump_coincidence(views, shuffles=4000, seed=1)
    assert result["observed"] == 1.0 and result["jumps"] == 2 and result["steps"] == 10
    # two random steps of ten: on average 2/10 of them are changes; both are with p 1/C(10,2)
    assert abs(result["null_mean"] - 0.2) < 0.01
    assert abs(result["p_value"] - 1 / 45) < 0.008
    none = jump_coincidence(_steps(0, np.zeros(5, bool), marks[:5]))
    assert none["jumps"] == 0 and none["observed"] is None


def test_decision_points_by_hand():
    from rnnatlas.analysis.trajectories import decision_points

    views = pd.concat([
        _steps(0, [False] * 8, [False] * 8, flips=(2, 5)),  # the class settles after t = 5
        _steps(1, [False] * 4, [False] * 4),  # never flips
    ])  # fmt: skip
    views["argmax"], views["target"] = "a", "a"
    table = decision_points(views)
    assert table["settled_at"].tolist() == [5, 0]
    assert table["fraction"].tolist() == [5 / 8, 0.0]
    assert table["correct"].tolist() == [True, True]
