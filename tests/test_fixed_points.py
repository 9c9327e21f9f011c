"""Fixed points of maps whose fixed points and spectra are known in closed form."""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import brentq

from rnnatlas.analysis.fixed_point_finder import fixed_points


def test_a_linear_map_has_one_fixed_point_with_the_matrix_spectrum():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    A *= 0.8 / np.max(np.abs(np.linalg.eigvals(A)))  # spectral radius 0.8
    b = rng.normal(size=4)
    At, bt = torch.as_tensor(A), torch.as_tensor(b)
    found = fixed_points(lambda x: x @ At.T + bt, rng.normal(size=(16, 4)), iterations=300)
    assert len(found.points) == 1 and found.dropped["duplicate"] == 15
    np.testing.assert_allclose(found.points[0], np.linalg.solve(np.eye(4) - A, b), atol=1e-9)
    expected = np.linalg.eigvals(A)
    expected = expected[np.argsort(-np.abs(expected), kind="stable")]
    np.testing.assert_allclose(np.sort_complex(found.jacobian_eigenvalues[0]),
                               np.sort_complex(expected), atol=1e-9)  # fmt: skip
    assert abs(np.abs(found.jacobian_eigenvalues[0][0]) - 0.8) < 1e-9 and found.stable[0]


def test_tanh_of_two_x_has_an_unstable_origin_and_two_stable_points():
    # x = tanh(2x): 0 (derivative 2) and +-x* with x* the positive root (derivative 2 (1 - x*^2))
    root = brentq(lambda v: math.tanh(2 * v) - v, 0.5, 1.0)
    starts = np.linspace(-1.5, 1.5, 31)[:, None]
    found = fixed_points(lambda x: torch.tanh(2 * x), starts, iterations=500)
    order = np.argsort(found.points[:, 0])
    np.testing.assert_allclose(found.points[order, 0], [-root, 0.0, root], atol=1e-10)
    slopes = found.jacobian_eigenvalues[order, 0].real
    np.testing.assert_allclose(slopes, [2 * (1 - root**2), 2.0, 2 * (1 - root**2)], atol=1e-8)
    assert found.stable[order].tolist() == [True, False, True]


def test_a_growing_rotation_has_a_complex_pair_outside_the_unit_circle():
    # F(x) = r R(theta) x: the origin, eigenvalues r e^{+-i theta}; r > 1: unstable (the kind of
    # point a limit cycle surrounds)
    r, theta = 1.05, 0.3
    M = torch.tensor([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    M = (r * M).double()
    found = fixed_points(lambda x: x @ M.T, np.random.default_rng(1).normal(size=(8, 2)) * 0.1,
                         iterations=200)  # fmt: skip
    assert len(found.points) == 1
    np.testing.assert_allclose(found.points[0], [0.0, 0.0], atol=1e-10)
    eigenvalues = found.jacobian_eigenvalues[0]
    np.testing.assert_allclose(np.abs(eigenvalues), [r, r], atol=1e-10)
    np.testing.assert_allclose(sorted(np.angle(eigenvalues)), [-theta, theta], atol=1e-10)
    assert not found.stable[0]


def test_a_map_without_fixed_points_returns_none():
    # x + 1 moves every point: nothing is slow enough
    found = fixed_points(lambda x: x + 1.0, np.zeros((4, 3)), iterations=50, newton_iterations=2)
    assert len(found.points) == 0 and found.dropped["slow"] == 4
    assert found.jacobian_eigenvalues.shape == (0, 3)


def test_the_public_entry_point():
    import rnnatlas.analysis as analysis

    found = analysis.fixed_points(lambda x: 0.5 * x, np.ones((2, 2)), iterations=10)
    np.testing.assert_allclose(found.points, [[0.0, 0.0]], atol=1e-12)
