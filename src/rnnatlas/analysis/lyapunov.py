"""Lyapunov spectra of discrete-time maps by the QR (Benettin) method.

Horoi et al. (2020) look at the autonomous vanilla RNN h(t+1) = tanh(W h(t) + b) before and after
training and read its maximal Lyapunov exponent: > 0 chaos, = 0 a limit cycle or quasi-periodic
motion, < 0 a stable fixed point. `lyapunov_spectrum` computes the first k exponents of any
differentiable torch map; `rnn_autonomous_map` builds the paper's map from (W, b).

The method. Along a trajectory h(t+1) = f(h(t)) an orthonormal frame Q [n, k] is carried by the
Jacobians: A = J(h(t)) Q, A = Q' R (QR), Q <- Q'. The i-th exponent is the time average of
log|R_ii|. During the `transient` steps the state and the frame both evolve (the trajectory
settles onto its attractor and the frame onto the Lyapunov vectors) but nothing is accumulated,
so a linear map's exponents come out exact to rounding instead of with an O(1/n_steps) bias.

How it is computed, for all initial conditions together (no Python loop over them). Two ways
to get J Q, chosen by `method`:
- "jacobian": the trajectory costs only forward calls, so it is run first, a chunk of steps at
  a time; the Jacobians of the whole chunk are then taken in one vectorized reverse-mode call
  (or by the map's analytic ``jacobian``), and only the batched product J Q and the QR remain
  in the per-step loop. Small maps (Hénon, logistic, tens of units) run at ~100 µs per step.
- "jvp": J Q as k forward-mode products per step (`torch.func.jvp` vmapped over the frame's
  columns); it never forms J, which pays when k << n, but costs ~1 ms of overhead per step.
"auto" takes "jvp" only when no analytic Jacobian is given and forming J would cost more than
that overhead: B n^2 (n - k) above ~1.5e7 (e.g. the largest exponent of a 200-unit RNN from 10
initial conditions: 1.4 ms per step instead of 8). For the full spectrum of a 200-unit RNN both
run at the speed of the QRs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import jacrev, jvp, vmap

# the Jacobians of one chunk of steps are held at once: this many bytes of them at most
_CHUNK_BYTES = 2**25
# method="auto" takes jvp when forming J costs more than this, in B n^2 (n - k)
_JVP_ABOVE = 1.5e7
METHODS = ("auto", "jacobian", "jvp")


@dataclass(frozen=True)
class LyapunovResult:
    """Exponents in nats per step (divide by the step's duration for a flow's per-time rates).

    exponents: [B, k], one row per initial condition, sorted in decreasing order (B = 1 when
        h0 was a single state [n]).
    mean: [k], the mean of the rows of `exponents` over the initial conditions.
    running_max: [B, R], the running estimate of the largest exponent, (sum of log|R_11| so far)
        / (steps so far), after each of the R re-orthonormalizations that followed the transient.
    running_steps: [R], the number of steps after the transient each column of `running_max`
        refers to (1, 2, ..., n_steps when reorthonormalize_every = 1).
    final_state: [B, n], the state after transient + n_steps steps (to continue a run).
    method: "jacobian" or "jvp", how J Q was computed.
    """

    exponents: np.ndarray
    mean: np.ndarray
    running_max: np.ndarray
    running_steps: np.ndarray
    final_state: np.ndarray
    n_steps: int
    transient: int
    reorthonormalize_every: int
    method: str

    @property
    def max_exponent(self) -> np.ndarray:
        """[B], the largest exponent of each initial condition."""
        return self.exponents[:, 0]

    @property
    def std(self) -> np.ndarray:
        """[k], the spread of the exponents over initial conditions (0 for a single one)."""
        return self.exponents.std(axis=0, ddof=1) if len(self.exponents) > 1 else 0 * self.mean


class TanhRNNMap:
    """The autonomous vanilla RNN h -> tanh(W h + b), with its analytic Jacobian.

    Calling it works on one state [n] or a batch [B, n]. `jacobian(H)` [B, n] -> [B, n, n] is
    diag(1 - tanh(W h + b)^2) W, which `lyapunov_spectrum` uses instead of autograd.
    """

    def __init__(self, W, b=None, dtype: torch.dtype = torch.float64):
        self.W = torch.as_tensor(W).detach().to(dtype)
        if self.W.ndim != 2 or self.W.shape[0] != self.W.shape[1]:
            raise ValueError(f"W must be a square matrix [n, n], got shape {tuple(self.W.shape)}")
        n = self.W.shape[0]
        self.b = torch.zeros(n, dtype=dtype) if b is None else torch.as_tensor(b).detach().to(dtype)
        if self.b.shape != (n,):
            raise ValueError(f"b must have shape [{n}] to match W, got {tuple(self.b.shape)}")

    def __call__(self, h: torch.Tensor) -> torch.Tensor:
        return torch.tanh(h @ self.W.T + self.b)

    def jacobian(self, H: torch.Tensor) -> torch.Tensor:
        slope = 1 - self(H) ** 2  # [B, n]
        return slope[:, :, None] * self.W


def rnn_autonomous_map(W, b=None, *, dtype: torch.dtype = torch.float64) -> TanhRNNMap:
    """The step h -> tanh(W h + b) of a vanilla RNN run without input (Horoi et al. 2020).

    W: [n, n] recurrent weights (torch or numpy; e.g. ``rnn.weight_hh_l0``), b: [n] bias (for a
    torch nn.RNN, ``bias_ih_l0 + bias_hh_l0``: with zero input both act as one bias), or None.
    Both are copied (detached) to `dtype`.
    """
    return TanhRNNMap(W, b, dtype=dtype)


def _as_batched_map(step: Callable, H: torch.Tensor, batched: bool | None) -> Callable:
    """A map [B, n] -> [B, n] acting on each row as `step` acts on one state.

    batched=None probes once: a map that accepts one state and gives the same answer when called
    on the batch directly is called directly (fastest); one that only works per state is
    vectorized with vmap; one that only works on batches is called on the batch.
    """
    per_state = vmap(step)
    if batched is True:
        candidates = [step]
    elif batched is False:
        candidates = [per_state]
    else:
        try:
            by_state = per_state(H)
        except Exception:  # not vmappable over single states: take it as a batched map
            by_state = None
        try:
            direct = step(H)
        except Exception:
            direct = None
        if by_state is None and direct is None:
            raise ValueError(
                "step failed both on one state [n] (under torch.func.vmap) and on the batch "
                f"[B, n] = {list(H.shape)}; call it yourself on h0 to see why"
            )
        same = (
            by_state is not None
            and isinstance(direct, torch.Tensor)
            and direct.shape == by_state.shape
            and torch.allclose(direct, by_state, rtol=1e-12, atol=0.0)
        )
        candidates = [step] if by_state is None or same else [per_state]
    mapped = candidates[0]
    out = mapped(H)
    if not isinstance(out, torch.Tensor) or out.shape != H.shape:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"step must map a state to a state of the same shape: [B, n] = {list(H.shape)} "
            f"gave {got}"
        )
    if out.dtype != H.dtype:
        raise ValueError(
            f"step returned {out.dtype} for a {H.dtype} state: make it compute in {H.dtype} "
            "(e.g. module.double()), or pass dtype=None to keep h0's dtype"
        )
    return mapped


def _autograd_jacobian(F: Callable) -> Callable:
    """[B, n] -> [B, n, n] for a row-wise map F [B, n] -> [B, n]: one reverse pass per output.

    Rows do not interact, so d(sum_b F(H)[b, i]) / dH[b, j] = J_b[i, j].
    """
    summed = jacrev(lambda H: F(H).sum(0))
    return lambda H: summed(H).transpose(0, 1)


def lyapunov_spectrum(
    step: Callable[[torch.Tensor], torch.Tensor],
    h0,
    n_steps: int,
    *,
    transient: int = 100,
    k: int | None = None,
    reorthonormalize_every: int = 1,
    seed: int = 0,
    dtype: torch.dtype | None = torch.float64,
    batched: bool | None = None,
    jacobian: Callable[[torch.Tensor], torch.Tensor] | None = None,
    method: str = "auto",
    num_threads: int | None = 1,
) -> LyapunovResult:
    """The k largest Lyapunov exponents of h(t+1) = step(h(t)), in nats per step.

    step: a differentiable torch map Tensor[n] -> Tensor[n], or a batched one Tensor[B, n] ->
        Tensor[B, n] that treats rows independently (`batched=None` finds out which; True or
        False says so). It is called without gradient tracking.
    h0: one initial state [n] or B of them [B, n], run together (torch, numpy or a list).
    n_steps: steps over which the exponents are averaged, after `transient` steps.
    transient: steps run first (state and tangent frame both evolve), not counted.
    k: how many exponents (the k largest); all n by default.
    reorthonormalize_every: QR every this many steps (and after the last step); larger values
        are cheaper but let the frame collapse towards the leading direction in between.
    seed: seeds the random orthonormal initial frame [n, k], shared by all initial conditions,
        so a batched run gives the same exponents as separate runs (and a run with k < n the
        same first k columns as one with k = n).
    dtype: the dtype of the whole computation (float64 by default; step must compute in it);
        None keeps h0's dtype.
    jacobian: a batched Jacobian [B, n] -> [B, n, n] of step; by default step's own
        `.jacobian` (as `rnn_autonomous_map` has) or else reverse-mode autograd.
    method: "jacobian" (J of a chunk of steps at once, then J Q), "jvp" (J Q by forward mode
        each step, J never formed) or "auto" (see the module's docstring).
    num_threads: torch's intra-op threads during the run, restored after (None: leave them).
        One by default: the per-step QRs and products are small, more threads gain nothing
        (measured at 200 units), and on a busy machine threads waiting on each other at every
        step make the run 10-20x slower.

    Returns a LyapunovResult: exponents [B, k] (each row sorted in decreasing order), their mean
    over initial conditions [k], and the running estimate of the largest exponent.
    """
    for name, value, least in (
        ("n_steps", n_steps, 1),
        ("transient", transient, 0),
        ("reorthonormalize_every", reorthonormalize_every, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    H = torch.as_tensor(h0).detach()
    if dtype is not None:
        H = H.to(dtype)
    if not H.is_floating_point():
        raise ValueError(f"h0 must hold floating-point numbers, got {H.dtype}")
    if H.ndim not in (1, 2) or H.shape[-1] < 1:
        raise ValueError(f"h0 must be one state [n] or a batch [B, n], got shape {list(H.shape)}")
    if not torch.isfinite(H).all():
        raise ValueError("h0 contains NaN or infinite values")
    H = (H[None] if H.ndim == 1 else H).clone()
    B, n = H.shape
    k = n if k is None else k
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
        raise ValueError(f"k must be an integer in [1, n = {n}], got {k!r}")

    generator = torch.Generator().manual_seed(seed)
    # drawn as [k, n]: the first k columns of the frame a k = n run starts from
    frame = torch.randn(k, n, generator=generator, dtype=torch.float64).T.to(H.dtype)
    Q = torch.linalg.qr(frame).Q.expand(B, n, k).clone()

    m = reorthonormalize_every
    n_records = math.ceil(n_steps / m)
    running = torch.empty(B, n_records, dtype=H.dtype)
    running_steps = np.empty(n_records, dtype=np.int64)

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if num_threads is not None and (
        isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1
    ):
        raise ValueError(f"num_threads must be None or an integer >= 1, got {num_threads!r}")
    J_of = jacobian or getattr(step, "jacobian", None)
    if method == "auto":
        method = "jvp" if J_of is None and B * n * n * (n - k) > _JVP_ABOVE else "jacobian"

    threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        with warnings.catch_warnings():
            # torch's first forward-mode call scripts decompositions, each a DeprecationWarning
            warnings.filterwarnings(
                "ignore", "`torch.jit.script` is deprecated", DeprecationWarning
            )
            sums, final = _run(
                step, H, Q, batched, J_of, method, transient, n_steps, m, running, running_steps
            )
    finally:
        torch.set_num_threads(threads)
    exponents = (sums / n_steps).numpy()
    if np.isnan(exponents).any():
        raise ValueError("NaN exponents: the Jacobians along the trajectory were not finite")
    exponents = -np.sort(-exponents, axis=1)
    return LyapunovResult(
        exponents=exponents,
        mean=exponents.mean(axis=0),
        running_max=running.numpy(),
        running_steps=running_steps,
        final_state=final.numpy(),
        n_steps=n_steps,
        transient=transient,
        reorthonormalize_every=m,
        method=method,
    )


def _run(step, H, Q, batched, J_of, method, transient, n_steps, m, running, running_steps):
    """The QR iteration; fills running/running_steps, returns (sums of log|diag R|, final H)."""
    B, n = H.shape
    k = Q.shape[-1]
    total = transient + n_steps
    sums = torch.zeros(B, k, dtype=H.dtype)
    record = 0
    if method == "jacobian":
        chunk = max(1, min(total, _CHUNK_BYTES // (B * n * n * H.element_size())))
    else:
        chunk = min(total, 1024)
    with torch.no_grad():
        F = _as_batched_map(step, H, batched)
        if method == "jacobian" and J_of is None:
            J_of = _autograd_jacobian(F)
        t = 0
        while t < total:
            size = min(chunk, total - t)
            J = None
            if method == "jacobian":
                states = torch.empty(size, B, n, dtype=H.dtype)
                for i in range(size):
                    states[i] = H
                    H = F(H)
                _check_finite(H, t, size)
                J = J_of(states.reshape(size * B, n)).reshape(size, B, n, n)
            diagonals = torch.empty(size, B, k, dtype=H.dtype)  # of R, at counted QRs
            counted = []  # steps after the transient at those QRs
            for i in range(size):
                t += 1
                if J is not None:
                    Q = torch.bmm(J[i], Q)
                else:  # the k columns of Q pushed forward; H stays unbatched over them
                    H, Q = vmap(lambda q, H=H: jvp(F, (H,), (q,)), in_dims=2, out_dims=(None, 2))(Q)
                after = t - transient
                if after <= 0:
                    if t % m == 0 or after == 0:
                        Q = torch.linalg.qr(Q).Q
                elif after % m == 0 or t == total:
                    Q, R = torch.linalg.qr(Q)
                    diagonals[len(counted)] = R.diagonal(dim1=-2, dim2=-1)
                    counted.append(after)
            if J is None:
                _check_finite(H, t - size, size)
            if counted:
                c = len(counted)
                cumulative = sums + diagonals[:c].abs().log().cumsum(0)  # [c, B, k]
                steps = torch.tensor(counted, dtype=H.dtype)
                running[:, record : record + c] = (cumulative[:, :, 0] / steps[:, None]).T
                running_steps[record : record + c] = counted
                record += c
                sums = cumulative[-1]
    return sums, H


def _check_finite(H: torch.Tensor, start: int, size: int) -> None:
    if not torch.isfinite(H).all():
        raise ValueError(
            f"the trajectory left the finite numbers within steps {start}..{start + size} "
            "(diverging map or initial condition outside its domain)"
        )


def kaplan_yorke_dimension(exponents) -> float:
    """Kaplan-Yorke (Lyapunov) dimension j + (λ_1 + ... + λ_j) / |λ_{j+1}| of one spectrum.

    j is the largest index with λ_1 + ... + λ_j >= 0 (exponents sorted in decreasing order
    first). 0 when λ_1 < 0 (a stable fixed point); len(exponents) when every partial sum is
    >= 0 (the spectrum given is too short to bound the dimension).
    """
    lam = -np.sort(-np.asarray(exponents, dtype=np.float64).ravel())
    if lam.size == 0 or np.isnan(lam).any():
        raise ValueError("kaplan_yorke_dimension needs a non-empty spectrum without NaN")
    partial = np.cumsum(lam)
    nonneg = np.flatnonzero(partial >= 0)
    if nonneg.size == 0:
        return 0.0
    j = int(nonneg[-1]) + 1  # number of exponents in the non-negative partial sum
    if j == lam.size:
        return float(lam.size)
    return j + partial[j - 1] / abs(lam[j])
