"""Class separability in state space, on point clouds whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from rnnatlas.analysis.projection import tsne
from rnnatlas.analysis.separability import (
    knn_accuracy,
    separability_by_step,
    silhouette,
)


def _blobs(spread: float, n: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = np.eye(3, 10) * 10
    labels = np.repeat(np.arange(3), n)
    return centers[labels] + spread * rng.normal(size=(3 * n, 10)), labels


def test_well_separated_blobs_score_perfectly_and_noise_scores_chance():
    X, y = _blobs(0.1)
    assert knn_accuracy(X, y) == 1.0
    assert silhouette(X, y) > 0.95
    noise = np.random.default_rng(1).normal(size=X.shape)
    assert knn_accuracy(noise, y) == pytest.approx(1 / 3, abs=0.12)
    assert abs(silhouette(noise, y)) < 0.05


def test_silhouette_of_a_hand_worked_case():
    # two pairs on a line: a=0,1 (class 0), b=10,11 (class 1)
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    y = np.array([0, 0, 1, 1])
    # point 0: a = 1, b = mean(10, 11) = 10.5 -> s = 1 - 1/10.5; point 1: a = 1, b = 9.5
    expected = np.mean([1 - 1 / 10.5, 1 - 1 / 9.5, 1 - 1 / 9.5, 1 - 1 / 10.5])
    assert silhouette(X, y) == pytest.approx(expected)


def test_separability_by_step_forms_then_degrades():
    X_early, y = _blobs(30.0)
    X_mid, _ = _blobs(0.1)
    states = np.stack([X_early, X_mid, X_early], axis=1)  # [N, 3 steps, units]
    table = separability_by_step(states, y, steps=[0, 1, 2]).set_index("step")
    assert table.loc[1, "knn_accuracy"] > table.loc[0, "knn_accuracy"]
    assert table.loc[1, "silhouette"] > table.loc[2, "silhouette"]
    assert table["chance"].tolist() == pytest.approx([1 / 3] * 3)
    with pytest.raises(ValueError, match="outside"):
        separability_by_step(states, y, steps=[3])


def test_tsne_keeps_separated_blobs_apart():
    X, y = _blobs(0.1, n=40)
    embedding = tsne(X, perplexity=10)
    assert embedding.shape == (120, 2)
    assert knn_accuracy(embedding, y) == 1.0
    with pytest.raises(ValueError, match="perplexity"):
        tsne(X[:20], perplexity=10)
