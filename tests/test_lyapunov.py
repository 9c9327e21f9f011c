"""Lyapunov spectra by the QR method against maps whose exponents are known in closed form."""

import math

import numpy as np
import pytest
import torch

from rnnatlas.analysis.lyapunov import (
    LyapunovResult,
    kaplan_yorke_dimension,
    lyapunov_spectrum,
    rnn_autonomous_map,
)

F64 = torch.float64


def _orthogonal_scaled(n: int, norm: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(n, n, generator=g, dtype=F64)
    return norm * W / torch.linalg.matrix_norm(W, 2)


def test_linear_diagonal_map_is_exact():
    # the frame evolves during the transient too, so it is aligned with the coordinate axes to
    # (0.5/1.5)^100 ~ 1e-48 before counting starts: the answer is exact up to rounding
    a = torch.tensor([1.5, -0.5, 0.2], dtype=F64)
    expected = np.log([1.5, 0.5, 0.2])
    h0 = torch.tensor([[1.0, 1.0, 1.0], [0.3, -2.0, 5.0]])
    for every in (1, 7):
        result = lyapunov_spectrum(lambda h: a * h, h0, 200, reorthonormalize_every=every)
        assert isinstance(result, LyapunovResult)
        assert result.exponents.shape == (2, 3) and result.mean.shape == (3,)
        np.testing.assert_allclose(result.exponents, np.tile(expected, (2, 1)), atol=1e-12)
    for method in ("jacobian", "jvp"):
        top = lyapunov_spectrum(lambda h: a * h, h0[0], 200, k=2, method=method)
        assert top.exponents.shape == (1, 2) and top.method == method
        np.testing.assert_allclose(top.exponents[0], expected[:2], atol=1e-12)


def test_rotation_times_scaling_has_both_exponents_ln_r():
    # J = r * rotation: every QR gives R = r * I (up to signs), at every step
    r, theta = 0.95, 0.7
    M = r * torch.tensor(
        [[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]], dtype=F64
    )
    result = lyapunov_spectrum(lambda h: M @ h, torch.tensor([1.0, 0.0]), 500)
    np.testing.assert_allclose(result.exponents, [[math.log(r)] * 2], atol=1e-12)
    np.testing.assert_allclose(result.running_max, math.log(r), atol=1e-12)


def test_logistic_map_at_r4():
    """λ = ln 2, and for a finite run a closed form that telescopes.

    The tent map (λ = ln 2 too) is no use in floating point: x -> 2x is exact in binary, so
    every orbit reaches 0 within ~53 steps. x -> 4x(1-x) has rounding errors that keep it
    chaotic. With x = sin^2(θ) one has |f'(x_n)| = 2 sqrt(x_{n+1}(1-x_{n+1})) / sqrt(x_n(1-x_n)),
    so the N-step estimate is exactly ln 2 + [g(x_N) - g(x_0)] / N, g(x) = ln(x(1-x)) / 2:
    that is checked to 1e-10 (rounding of the computed orbit perturbs each term by ~1e-16 / x
    near 0 or 1). Against ln 2 itself the error is that bracket / N: at N = 20000 it is below
    1e-4 unless x_0 or x_N lies within ~1e-4 of 0 or 1; the assertion allows 5e-4.
    """
    x0 = torch.tensor([[0.1], [0.2], [0.3], [0.7]], dtype=F64)
    N = 20_000
    result = lyapunov_spectrum(lambda x: 4 * x * (1 - x), x0, N, transient=0)
    x_start, x_end = x0[:, 0].numpy(), result.final_state[:, 0]
    g = lambda x: 0.5 * np.log(x * (1 - x))  # noqa: E731
    closed_form = math.log(2) + (g(x_end) - g(x_start)) / N
    np.testing.assert_allclose(result.exponents[:, 0], closed_form, atol=1e-10)
    np.testing.assert_allclose(result.exponents[:, 0], math.log(2), atol=5e-4)


def test_henon_map():
    """a = 1.4, b = 0.3: λ1 ≈ 0.41922 (Sprott, Chaos and Time-Series Analysis, 2003).

    det J = -b at every point, so |R_11 R_22| = b at every step and λ1 + λ2 = ln 0.3 up to
    rounding (1e-12). λ1 itself fluctuates along finite orbits: per initial condition the
    spread is ~0.003 at 20000 steps, ~0.0015 for the mean of four; 0.01 is ~6 of those.
    """

    def henon(v):  # written for one state [2] or a batch [B, 2] alike: called on the batch
        return torch.stack([1 - 1.4 * v[..., 0] ** 2 + v[..., 1], 0.3 * v[..., 0]], -1)

    h0 = torch.tensor([[0.1, 0.1], [0.2, 0.0], [0.0, 0.2], [-0.1, 0.1]])
    result = lyapunov_spectrum(henon, h0, 20_000)
    np.testing.assert_allclose(result.exponents.sum(axis=1), math.log(0.3), atol=1e-12)
    assert abs(result.mean[0] - 0.41922) < 0.01
    assert abs(result.mean[1] - (math.log(0.3) - 0.41922)) < 0.01
    # running estimate: one value per step, ending on the final λ1 of each initial condition
    assert result.running_max.shape == (4, 20_000)
    np.testing.assert_array_equal(result.running_steps, np.arange(1, 20_001))
    np.testing.assert_allclose(result.running_max[:, -1], result.exponents[:, 0], atol=1e-12)
    assert np.ptp(result.running_max[:, -1000:], axis=1).max() < 0.01  # converged
    # Kaplan-Yorke dimension 1 + λ1 / |λ2| ≈ 1.26 (the attractor's box dimension is ≈ 1.26)
    assert abs(kaplan_yorke_dimension(result.mean) - 1.26) < 0.01


def test_contracting_tanh_network():
    """‖W‖₂ = 0.8: ‖J‖₂ = ‖diag(1 - h²) W‖₂ <= 0.8, so every exponent is <= ln 0.8 < 0.

    The orbit settles on the unique fixed point h*, where the exponents are ln|μ_i| of the
    eigenvalues of J(h*). Their sum (log volume) is exact each step, to rounding; single
    exponents converge as O(1/N) where moduli coincide (complex pairs): 2.5e-3 at N = 2000.
    """
    n = 20
    W = _orthogonal_scaled(n, 0.8, seed=1)
    b = 0.5 * torch.randn(n, generator=torch.Generator().manual_seed(2), dtype=F64)
    h0 = torch.randn(3, n, generator=torch.Generator().manual_seed(3), dtype=F64)
    step = rnn_autonomous_map(W, b)
    result = lyapunov_spectrum(step, h0, 2000)
    assert (result.exponents < 0).all()
    assert (result.exponents[:, 0] <= math.log(0.8)).all()
    J = step.jacobian(torch.as_tensor(result.final_state[:1]))[0].numpy()
    moduli = -np.sort(-np.log(np.abs(np.linalg.eigvals(J))))
    np.testing.assert_allclose(result.exponents, np.tile(moduli, (3, 1)), atol=2.5e-3)
    np.testing.assert_allclose(
        result.exponents.sum(axis=1), math.log(abs(np.linalg.det(J))), atol=1e-10
    )
    # the analytic Jacobian of rnn_autonomous_map agrees with autograd on a plain closure
    plain = lyapunov_spectrum(lambda h: torch.tanh(W @ h + b), h0, 2000)
    np.testing.assert_allclose(plain.exponents, result.exponents, atol=1e-12)


def test_batched_equals_one_initial_condition_at_a_time():
    # a chaotic RNN (spectral radius 1.5), kept short so that rounding differences between a
    # batched and an unbatched matrix product (~1e-16, amplified by e^{0.3 t}) stay << 1e-9
    n = 30
    g = torch.Generator().manual_seed(4)
    W = 1.5 * torch.randn(n, n, generator=g, dtype=F64) / math.sqrt(n)
    h0 = torch.randn(4, n, generator=g, dtype=F64)
    per_state = lambda h: torch.tanh(W @ h)  # noqa: E731  [n] -> [n] only
    batched = lambda H: torch.tanh(torch.einsum("ij,bj->bi", W, H))  # noqa: E731  [B, n] only
    together = lyapunov_spectrum(per_state, h0, 40, transient=5)
    assert together.exponents.shape == (4, n)
    assert np.ptp(together.exponents[:, 0]) > 0.01  # the rows do differ
    for i in range(4):
        alone = lyapunov_spectrum(per_state, h0[i], 40, transient=5)
        np.testing.assert_allclose(alone.exponents[0], together.exponents[i], atol=1e-9)
    np.testing.assert_allclose(together.mean, together.exponents.mean(axis=0))
    as_batch = lyapunov_spectrum(batched, h0, 40, transient=5)
    np.testing.assert_allclose(as_batch.exponents, together.exponents, atol=1e-9)
    forced = lyapunov_spectrum(per_state, h0, 40, transient=5, batched=False)
    np.testing.assert_allclose(forced.exponents, together.exponents, atol=1e-9)
    # J Q by forward mode each step instead of Jacobians of a chunk: the same numbers
    by_jacobian = lyapunov_spectrum(per_state, h0, 40, transient=5, method="jacobian", k=7)
    for step in (per_state, batched):
        by_jvp = lyapunov_spectrum(step, h0, 40, transient=5, method="jvp", k=7)
        np.testing.assert_allclose(by_jvp.exponents, by_jacobian.exponents, atol=1e-9)
        np.testing.assert_allclose(by_jvp.running_max, by_jacobian.running_max, atol=1e-9)


def test_auto_method_forms_jacobians_unless_that_costs_more_than_forward_mode():
    n = 200
    W = _orthogonal_scaled(n, 1.5, seed=6)
    h0 = torch.randn(10, n, generator=torch.Generator().manual_seed(6), dtype=F64)
    plain = lambda h: torch.tanh(W @ h)  # noqa: E731
    picks = {
        (k, analytic): lyapunov_spectrum(
            rnn_autonomous_map(W) if analytic else plain, h0, 3, transient=0, k=k
        ).method
        for k in (1, n)
        for analytic in (False, True)
    }
    # B n^2 (n - k) = 7.96e7 > 1.5e7 only for k = 1 without an analytic Jacobian
    assert picks == {
        (1, False): "jvp",
        (1, True): "jacobian",
        (n, False): "jacobian",
        (n, True): "jacobian",
    }
    with pytest.raises(ValueError, match="method"):
        lyapunov_spectrum(plain, h0, 3, method="qr")


def test_same_seed_same_result_and_float32_on_request():
    W = _orthogonal_scaled(10, 1.3, seed=5)
    h0 = torch.linspace(-1, 1, 10)
    threads = torch.get_num_threads()
    one = lyapunov_spectrum(rnn_autonomous_map(W), h0, 50, k=3, seed=7)
    assert torch.get_num_threads() == threads  # runs on one thread, then restores the setting
    two = lyapunov_spectrum(rnn_autonomous_map(W), h0, 50, k=3, seed=7)
    np.testing.assert_array_equal(one.exponents, two.exponents)
    single = lyapunov_spectrum(
        rnn_autonomous_map(W, dtype=torch.float32), h0.float(), 50, k=3, seed=7, dtype=None
    )
    assert single.exponents.dtype == np.float32


def test_kaplan_yorke_by_hand():
    assert kaplan_yorke_dimension([0.5, -1.0]) == 1.5
    assert kaplan_yorke_dimension([-1.0, -0.1]) == 0.0
    assert kaplan_yorke_dimension([0.0, 0.2]) == 2.0
    assert kaplan_yorke_dimension([0.3, 0.1, -0.2, -0.8]) == pytest.approx(3 + 0.2 / 0.8)


def test_bad_input_fails_with_a_message():
    step = lambda h: 0.5 * h  # noqa: E731
    with pytest.raises(ValueError, match="h0 must be"):
        lyapunov_spectrum(step, torch.zeros(2, 3, 4), 10)
    with pytest.raises(ValueError, match="k must be"):
        lyapunov_spectrum(step, torch.zeros(3), 10, k=4)
    with pytest.raises(ValueError, match="n_steps"):
        lyapunov_spectrum(step, torch.zeros(3), 0)
    with pytest.raises(ValueError, match="same shape"):
        lyapunov_spectrum(lambda h: h[:2], torch.zeros(3), 10)
    with pytest.raises(ValueError, match="finite"):
        lyapunov_spectrum(lambda h: h**2, torch.full((2,), 3.0), 100, transient=0)
    with pytest.raises(ValueError, match="dtype"):  # a float32 map given a float64 state
        lyapunov_spectrum(lambda h: 0.5 * h.float(), torch.zeros(3), 10)
