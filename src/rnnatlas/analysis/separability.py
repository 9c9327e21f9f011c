"""How well classes separate in a state space: numbers behind "clusters form, then degrade".

Measured in the full state space (not in a 2-D picture): cross-validated k-nearest-neighbour
accuracy and the silhouette of the class labels, per time step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def knn_accuracy(X: np.ndarray, labels: np.ndarray, k: int = 5, folds: int = 5, seed: int = 0):
    """Mean accuracy of a k-NN classifier over stratified folds (chance = majority share)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    X, labels = _check(X, labels)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_val_score(KNeighborsClassifier(n_neighbors=k), X, labels, cv=splitter)
    return float(scores.mean())


def silhouette(X: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette of the labels as clusters (-1..1; above 0: closer to their own class)."""
    from sklearn.metrics import silhouette_score

    X, labels = _check(X, labels)
    return float(silhouette_score(X, labels))


def separability_by_step(
    states: np.ndarray, labels: np.ndarray, steps, k: int = 5, folds: int = 5, seed: int = 0
) -> pd.DataFrame:
    """knn_accuracy and silhouette of states [N, T, units] at each chosen step."""
    states = np.asarray(states)
    rows = []
    for step in steps:
        if not 0 <= step < states.shape[1]:
            raise ValueError(f"step {step} outside the {states.shape[1]} recorded steps")
        X = states[:, step]
        rows.append(
            {
                "step": int(step),
                "knn_accuracy": knn_accuracy(X, labels, k, folds, seed),
                "silhouette": silhouette(X, labels),
                "chance": float(np.bincount(labels).max() / len(labels)),
            }
        )
    return pd.DataFrame(rows)


def _check(X: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X, labels = np.asarray(X), np.asarray(labels)
    if X.ndim != 2 or len(X) != len(labels):
        raise ValueError(f"expected X [N, units] and N labels, got {X.shape} and {labels.shape}")
    if len(np.unique(labels)) < 2:
        raise ValueError("separability needs at least two classes")
    return X, labels.astype(np.int64)
