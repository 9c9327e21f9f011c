"""Fixed points, cycles and phases on trajectories whose attractors are known by construction."""

import math

import numpy as np
import pytest
import torch

from rnnatlas.analysis.attractors import classify_trajectory, cycle_phase, distinct_attractors


def _spiral(p: int, theta0: float, r0: float, T: int = 200, n: int = 2) -> np.ndarray:
    """Iterate r -> sqrt(r), θ -> θ + 2π/p: every orbit is drawn onto one p-cycle of the unit
    circle (r - 1 halves each step, so it reaches 1 to rounding in ~55 steps), at the angles
    θ0 + 2πk/p. Placed in the first two of n coordinates."""
    r, theta = r0, theta0
    out = np.zeros((T, n))
    for t in range(T):
        out[t, :2] = r * math.cos(theta), r * math.sin(theta)
        r, theta = math.sqrt(r), theta + 2 * math.pi / p
    return out


def test_rotation_by_2pi_over_p_is_a_cycle_of_period_p():
    for p in (2, 3, 7, 12):
        traj = _spiral(p, 0.3, 2.5)
        result = classify_trajectory(traj)
        assert result["kind"] == "cycle" and result["period"] == p
        np.testing.assert_allclose(result["points"], traj[-p:])
        angles = np.angle(result["points"][:, 0] + 1j * result["points"][:, 1])
        np.testing.assert_allclose(np.abs(result["points"][:, 0] + 1j * result["points"][:, 1]), 1)
        steps = np.round(np.diff(angles) / (2 * math.pi / p)) % p
        np.testing.assert_array_equal(steps, 1)  # consecutive points, one rotation apart
        assert result["residual"] <= 1e-6 and result["t_end"] == 199


def _logistic(r: float, T: int = 2000) -> list:
    x = [0.2]
    for _ in range(T - 1):
        x.append(r * x[-1] * (1 - x[-1]))
    return x


def test_logistic_map_period_doubling():
    """x -> r x (1 - x): a fixed point 1 - 1/r at r = 2.8, a 2-cycle at r = 3.2 with closed-form
    points ((r + 1) ± sqrt((r - 3)(r + 1))) / (2r), a 4-cycle at r = 3.5, chaos at r = 3.9."""
    for r, period in ((2.8, 1), (3.2, 2), (3.5, 4), (3.9, 0)):
        result = classify_trajectory(torch.tensor(_logistic(r), dtype=torch.float64), tol=1e-9)
        assert result["period"] == period, r
        if r == 2.8:
            np.testing.assert_allclose(result["points"], [[1 - 1 / r]], atol=1e-12)
        if r == 3.2:
            expected = (4.2 + np.array([-1, 1]) * math.sqrt(0.2 * 4.2)) / 6.4
            np.testing.assert_allclose(np.sort(result["points"][:, 0]), expected, atol=1e-12)


def test_stable_fixed_point():
    c = np.array([0.3, -1.0, 2.0])
    x = np.array([5.0, 5.0, -5.0])
    traj = []
    for _ in range(100):
        traj.append(x)
        x = 0.5 * x + c  # fixed point 2c, approached as 0.5^t
    result = classify_trajectory(np.array(traj))
    assert result["kind"] == "fixed_point" and result["period"] == 1
    np.testing.assert_allclose(result["points"], [2 * c], atol=1e-12)
    assert cycle_phase(np.array(traj), result) == 0


def test_quasi_periodic_rotation_is_neither():
    # rotation by the golden mean: |p α - q| >= 1 / (sqrt(5) p) for every p, so no state returns
    # within 2π · 0.45 / p ≈ 0.01 of itself for p <= 250, far above tol
    golden = (math.sqrt(5) - 1) / 2
    t = np.arange(1000)
    traj = np.c_[np.cos(2 * math.pi * golden * t), np.sin(2 * math.pi * golden * t)]
    result = classify_trajectory(traj)
    assert result["kind"] == "neither" and result["period"] == 0
    assert result["points"].shape == (0, 2)
    assert result["residual"] > 1e-3
    with pytest.raises(ValueError, match="no cycle"):
        cycle_phase(traj, result)
    # a period longer than max_period is not found either
    assert classify_trajectory(_spiral(9, 0.0, 1.0), max_period=8)["kind"] == "neither"


def test_distinct_cycles_and_one_cycle_at_several_phases():
    p, theta0, T = 5, 0.4, 200
    # the same 5-cycle entered at five different phases, from different radii, in 4-D
    same = [_spiral(p, theta0 + 2 * math.pi * j / p, 0.2 + 0.5 * j, T, n=4) for j in range(p)]
    others = [
        _spiral(3, theta0, 2.0, T, n=4),  # another period
        _spiral(5, theta0 + 0.1, 2.0, T, n=4),  # same period, other angles: another cycle
        _spiral(3, theta0 + 2 * math.pi / 3, 0.5, T, n=4),  # the period-3 cycle again
        np.zeros((T, 4)),  # a fixed point
        np.zeros((T, 4)) + 1e-8,  # the same fixed point within tol
    ]
    results = [classify_trajectory(traj) for traj in same + others]
    assert [r["period"] for r in results] == [5] * 5 + [3, 5, 3, 1, 1]
    labels = distinct_attractors(results)
    np.testing.assert_array_equal(labels, [0, 0, 0, 0, 0, 1, 2, 1, 3, 3])
    # phases on the representative (the first trajectory's points): a start 2πj/p further on
    # means j steps further along the cycle, at every reference time
    representative = results[0]
    end_phases = np.array([cycle_phase(traj, representative) for traj in same])
    np.testing.assert_array_equal((end_phases - end_phases[0]) % p, np.arange(p))
    for t_ref in (0, 10, 57, -1):
        phases = [cycle_phase(traj, representative, t_ref=t_ref) for traj in same]
        # by construction the state at time t sits at angle theta0 + 2π (j + t) / p, and
        # points[i] (time T - p + i) at theta0 + 2π (T - p + i) / p
        expected = [(j + t_ref % T - (T - p)) % p for j in range(p)]
        assert phases == expected, t_ref
    with pytest.raises(ValueError, match="not on it"):
        cycle_phase(others[1], representative)
    assert cycle_phase(others[1], representative["points"], tol=None) in range(p)


def test_noise_below_tol_is_ignored_and_above_is_not():
    tol = 1e-6
    clean = _spiral(4, 0.2, 1.5, 300, n=10)
    rng = np.random.default_rng(0)
    quiet = clean + rng.uniform(-0.4 * tol, 0.4 * tol, size=clean.shape)  # differences < 0.8 tol
    loud = clean + rng.uniform(-5 * tol, 5 * tol, size=clean.shape)
    results = [classify_trajectory(t, tol=tol) for t in (clean, quiet, loud)]
    assert [r["period"] for r in results] == [4, 4, 0]
    assert results[1]["residual"] < tol
    np.testing.assert_array_equal(distinct_attractors(results, tol=tol), [0, 0, -1])
    assert cycle_phase(quiet, results[0]) == cycle_phase(clean, results[0])


def test_bad_input_fails_with_a_message():
    with pytest.raises(ValueError, match="T >= 2"):
        classify_trajectory(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="NaN"):
        classify_trajectory(np.full((10, 2), np.nan))
    with pytest.raises(ValueError, match="tail"):
        classify_trajectory(np.zeros((10, 2)), tail=20)
    with pytest.raises(ValueError, match="classify_trajectory"):
        distinct_attractors([{"kind": "loop"}])
    with pytest.raises(ValueError, match="t_ref"):
        cycle_phase(np.zeros((10, 2)), np.zeros((1, 2)), t_ref=10)
    with pytest.raises(ValueError, match="n = 2"):
        cycle_phase(np.zeros((10, 2)), np.zeros((1, 3)))


def _circle_tails(centre: np.ndarray, radius: float, phases: np.ndarray, L: int, n: int = 5):
    """Tails on a circle of the plane of the first two axes, rotated by an irrational angle per
    step (a quasi-periodic invariant curve: no period exists)."""
    steps = np.arange(L) * (2 * math.pi * (math.sqrt(5) - 1) / 2)
    angles = phases[:, None] + steps[None, :]
    tails = np.zeros((len(phases), L, n)) + centre
    tails[:, :, 0] += radius * np.cos(angles)
    tails[:, :, 1] += radius * np.sin(angles)
    return tails


def test_invariant_sets_separates_two_quasi_periodic_circles():
    from rnnatlas.analysis.attractors import invariant_sets

    rng = np.random.default_rng(0)
    first = _circle_tails(np.zeros(5), 1.0, rng.uniform(0, 6.3, 30), L=20)
    second = _circle_tails(np.array([0, 0, 3.0, 0, 0]), 0.5, rng.uniform(0, 6.3, 20), L=20)
    order = rng.permutation(50)
    tails = np.concatenate([first, second])[order]
    labels, scale = invariant_sets(tails)
    truth = (order >= 30).astype(int)
    truth = truth if truth[0] == 0 else 1 - truth  # labels count by first appearance
    np.testing.assert_array_equal(labels, truth)
    assert 0 < scale < 2.5  # below the gap between the circles (3 - 1 - 0.5 = 1.5 ... 3)
    for tail in tails:  # each classic period test fails on these curves: no period exists
        assert classify_trajectory(tail, tol=1e-6)["kind"] == "neither"


def test_invariant_sets_fixed_points_and_single_set():
    from rnnatlas.analysis.attractors import invariant_sets

    tails = np.zeros((4, 3, 2))
    tails[2:] += 1.0  # two fixed points
    labels, scale = invariant_sets(tails)
    np.testing.assert_array_equal(labels, [0, 0, 1, 1])
    assert scale == 0.0
    one = _circle_tails(np.zeros(3), 1.0, np.linspace(0, 6, 12), L=10, n=3)
    assert set(invariant_sets(one)[0]) == {0}
    with pytest.raises(ValueError, match="L >= 2"):
        invariant_sets(np.zeros((3, 1, 2)))


def test_curve_angle_recovers_the_phase_up_to_a_common_offset():
    from rnnatlas.analysis.attractors import curve_angle

    rng = np.random.default_rng(1)
    phases = rng.uniform(-math.pi, math.pi, 40)
    states = _circle_tails(np.ones(4), 2.0, phases, L=1, n=4)[:, 0]
    # evenly spaced: their mean is the circle's centre
    even = np.linspace(0, 2 * math.pi, 50, endpoint=False)
    reference = _circle_tails(np.ones(4), 2.0, even, L=1, n=4)[:, 0]
    angles = curve_angle(states, reference)

    def spread(offset):  # the largest circular distance of the offsets from the first
        return np.abs(np.angle(np.exp(1j * (offset - offset[0])))).max()

    # the same offset for every state (a mirror image allowed: then angle = offset - phase)
    assert min(spread(angles - phases), spread(angles + phases)) < 1e-9
