"""Intrinsic dimension estimators on manifolds of known dimension embedded in 100-D.

Tolerances for TwoNN and the MLE come from 30 seeds of the same constructions (N = 2000):
TwoNN's relative sd is ~3% (0.026 on the circle, 0.06 on the torus, 0.16 for d = 5), the MLE's
~0.5-1% (0.011 on the torus, 0.04 for d = 5); each test allows about 4 sd.
"""

import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree

from rnnatlas.analysis.dimension import METHODS, intrinsic_dimension, participation_ratio

N = 2000


def _rotation(D: int, rng: np.random.Generator) -> np.ndarray:
    return np.linalg.qr(rng.normal(size=(D, D)))[0]


def _embed(Y: np.ndarray, rng: np.random.Generator, D: int = 100) -> np.ndarray:
    """Y [points, d] placed by a random rotation into D dimensions."""
    return Y @ _rotation(D, rng)[:, : Y.shape[1]].T


@pytest.mark.parametrize("d", [2, 5])
def test_isotropic_gaussian_in_a_rotated_subspace(d):
    rng = np.random.default_rng(d)
    X = _embed(rng.normal(size=(N, d)), rng)
    # sample covariance of N Gaussian points: E[PR] ~ d N / (N + d + 1), 0.3% low at d = 5
    assert intrinsic_dimension(X) == pytest.approx(d, rel=0.02)
    assert intrinsic_dimension(X, "twonn") == pytest.approx(d, rel=0.12)
    assert intrinsic_dimension(X, "mle") == pytest.approx(d, rel=0.04)


def test_participation_ratio_closed_form():
    """Points whose sample covariance has exactly the eigenvalues (4, 1, 1, 0.25, 0, ...)."""
    rng = np.random.default_rng(1)
    eigenvalues = np.array([4.0, 1.0, 1.0, 0.25])
    Z = rng.normal(size=(500, 4))
    Z -= Z.mean(axis=0)
    Z = np.linalg.qr(Z)[0] * np.sqrt(len(Z) - 1)  # centred, sample covariance exactly I
    X = _embed(Z * np.sqrt(eigenvalues), rng, D=50) + 3.0  # an offset changes nothing
    expected = eigenvalues.sum() ** 2 / (eigenvalues**2).sum()  # 6.25^2 / 18.0625 = 2.1626...
    assert participation_ratio(X) == pytest.approx(expected, rel=1e-12)
    assert intrinsic_dimension(X, "pr") == pytest.approx(expected, rel=1e-12)
    # fewer points than features: the small Gram matrix route gives the same
    assert participation_ratio(X[:20]) == pytest.approx(
        participation_ratio(torch.as_tensor(X[:20])), rel=1e-12
    )
    few = X[:20] - X[:20].mean(axis=0)
    lam = np.linalg.eigvalsh(np.cov(few.T))
    assert participation_ratio(X[:20]) == pytest.approx(lam.sum() ** 2 / (lam**2).sum(), 1e-10)


def test_circle_is_one_dimensional():
    rng = np.random.default_rng(2)
    theta = rng.uniform(0, 2 * np.pi, N)
    X = _embed(np.c_[np.cos(theta), np.sin(theta)], rng)
    assert intrinsic_dimension(X, "twonn") == pytest.approx(1.0, abs=0.1)
    assert intrinsic_dimension(X, "mle") == pytest.approx(1.0, abs=0.05)
    assert intrinsic_dimension(X, "pr") == pytest.approx(2.0, rel=0.05)  # linear: spans 2-D


def test_flat_torus_is_two_dimensional():
    # (cos a, sin a, cos b, sin b) is an isometric embedding of the flat torus: uniform density
    rng = np.random.default_rng(3)
    a, b = rng.uniform(0, 2 * np.pi, (2, N))
    X = _embed(np.c_[np.cos(a), np.sin(a), np.cos(b), np.sin(b)], rng)
    assert intrinsic_dimension(X, "twonn") == pytest.approx(2.0, abs=0.25)
    assert intrinsic_dimension(X, "mle") == pytest.approx(2.0, abs=0.06)
    assert intrinsic_dimension(X, "pr") == pytest.approx(4.0, rel=0.05)


def test_twonn_and_mle_match_independent_implementations():
    """Facco et al.'s fit and Levina-Bickel's estimator, written out with a k-d tree."""
    rng = np.random.default_rng(4)
    X = _embed(rng.normal(size=(500, 3)), rng, D=30)
    dist, _ = cKDTree(X).query(X, k=21)  # column 0: the point itself
    # TwoNN: drop the largest 10% of mu = r2/r1, fit -log(1 - F(mu)) = d log(mu) through 0
    mu = np.sort(dist[:, 2] / dist[:, 1])
    keep = int(len(mu) * 0.9)
    x, y = np.log(mu[:keep]), -np.log(1 - np.arange(1, keep + 1) / len(mu))
    assert intrinsic_dimension(X, "twonn") == pytest.approx(x @ y / (x @ x), rel=1e-10)
    # MLE: per point (k - 1) / sum_j log(T_k / T_j) over its k = 20 neighbours, harmonic mean
    T = dist[:, 1:]
    pointwise = 19 / np.log(T[:, -1:] / T[:, :-1]).sum(axis=1)
    assert intrinsic_dimension(X, "mle") == pytest.approx(1 / np.mean(1 / pointwise), rel=1e-10)


def test_duplicates_are_dropped_with_a_warning():
    rng = np.random.default_rng(5)
    theta = rng.uniform(0, 2 * np.pi, 500)
    X = _embed(np.c_[np.cos(theta), np.sin(theta)], rng, D=10)
    with_copies = np.vstack([X, X[:50], np.repeat(X[:1], 30, axis=0)])
    with pytest.warns(UserWarning, match="dropped 80 duplicate points"):
        value = intrinsic_dimension(with_copies, "mle")
    assert value == pytest.approx(intrinsic_dimension(X, "mle"), rel=1e-12)


def test_one_feature_and_other_skdim_estimators():
    x = np.random.default_rng(6).uniform(size=(1000, 1))
    assert intrinsic_dimension(x, "twonn") == pytest.approx(1.0, abs=0.15)
    assert "danco" in METHODS and "lpca" in METHODS
    rng = np.random.default_rng(7)
    X = _embed(rng.normal(size=(1000, 3)), rng, D=20) + 1e-3 * rng.normal(size=(1000, 20))
    assert intrinsic_dimension(X, "lPCA") == 3  # any skdim estimator, case-insensitive


def test_bad_input_fails_with_a_message():
    X = np.random.default_rng(9).normal(size=(50, 4))
    with pytest.raises(ValueError, match="unknown intrinsic-dimension method 'pca2'"):
        intrinsic_dimension(X, "pca2")
    with pytest.raises(ValueError, match="at least 2 points"):
        intrinsic_dimension(X[:1])
    with pytest.raises(ValueError, match="at least 3 distinct points"):
        intrinsic_dimension(X[:2], "twonn")
    with pytest.raises(ValueError, match="at least 21 distinct points.*n_neighbors"):
        intrinsic_dimension(X[:15], "mle")
    assert intrinsic_dimension(X[:15], "mle", n_neighbors=5) > 0
    with pytest.raises(ValueError, match="zero variance"):
        intrinsic_dimension(np.ones((10, 3)))
    with pytest.raises(ValueError, match="2-D"):
        intrinsic_dimension(np.zeros(10))
    with pytest.raises(ValueError, match="NaN"):
        intrinsic_dimension(np.full((10, 2), np.nan))
    with pytest.raises(TypeError, match="takes no argument"):
        intrinsic_dimension(X, "twonn", n_neighbours=5)
