"""Fixed points of a recurrent map (Sussillo & Barak 2013), for any differentiable torch map.

`fixed_points(step, initial_states)` minimises the speed q(x) = 1/2 ||F(x) - x||^2 from many
starts at once (one batched Adam run: the starts are independent, their losses summed), refines
every candidate with Newton steps on F(x) - x = 0 (quadratic convergence where the Jacobian of
F - I is invertible), keeps the candidates whose q is at most `q_tolerance` and that lie within
`outlier_scale` times the starts' spread of the starts' centroid, merges duplicates, and returns
each point's Jacobian eigenvalues (complex, by decreasing modulus) and whether it is stable (every
eigenvalue inside the unit circle: a discrete-time map).

`step` maps a batch of states [B, n] to the next states [B, n] (e.g. an RNN's h -> tanh(W h + b)
with zero input, or an LSTM's [h, c] -> [h', c']).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


@dataclass
class FixedPoints:
    points: np.ndarray  # [K, n]
    q: np.ndarray  # [K] speeds 1/2 ||F(x) - x||^2
    jacobian_eigenvalues: np.ndarray  # [K, n] complex, by decreasing modulus
    stable: np.ndarray  # [K] every |eigenvalue| < 1
    starts: int  # candidates optimised
    dropped: dict  # candidates left out, by why: slow, outlier, duplicate


def _speed(step, x: Tensor) -> Tensor:
    return 0.5 * ((step(x) - x) ** 2).sum(dim=1)


def _jacobians(step, points: Tensor) -> Tensor:
    """dF/dx at every point, [K, n, n] (torch.func: one batched reverse-mode pass per row)."""
    from torch.func import jacrev, vmap

    return vmap(jacrev(lambda x: step(x[None])[0]))(points)


def _newton(step, x: Tensor, iterations: int) -> Tensor:
    """Newton steps on G(x) = F(x) - x: x <- x - (J_F - I)^-1 G(x); a step that does not lower
    the speed is not taken (far from a fixed point Newton can jump away)."""
    eye = torch.eye(x.shape[1], dtype=x.dtype)
    for _ in range(iterations):
        with torch.no_grad():
            residual = step(x) - x
            speed = 0.5 * (residual**2).sum(dim=1)
        jacobian = _jacobians(step, x).detach() - eye
        try:
            delta = torch.linalg.solve(jacobian, residual[..., None])[..., 0]
        except RuntimeError:  # a singular Jacobian somewhere: least squares instead
            delta = torch.linalg.lstsq(jacobian, residual[..., None]).solution[..., 0]
        candidate = x - delta
        with torch.no_grad():
            better = _speed(step, candidate) < speed
        x = torch.where(better[:, None], candidate, x).detach()
    return x


def _merge(points: np.ndarray, q: np.ndarray, tolerance: float) -> np.ndarray:
    """Indices of the points kept: greedily, the slowest of each group within `tolerance`
    (scaled by 1 + |x|) of one another."""
    kept: list[int] = []
    for index in np.argsort(q, kind="stable"):
        scale = tolerance * (1.0 + np.linalg.norm(points[index]))
        if all(np.linalg.norm(points[index] - points[k]) > scale for k in kept):
            kept.append(int(index))
    return np.array(sorted(kept), dtype=int)


def fixed_points(
    step: Callable[[Tensor], Tensor],
    initial_states,
    noise: float = 0.0,
    iterations: int = 2000,
    lr: float = 1e-2,
    newton_iterations: int = 20,
    q_tolerance: float = 1e-12,
    merge_tolerance: float = 1e-4,
    outlier_scale: float = 10.0,
    seed: int = 0,
) -> FixedPoints:
    """The fixed points of `step` reached from `initial_states` [S, n] (plus Gaussian `noise` of
    that standard deviation), in float64."""
    starts = torch.as_tensor(np.asarray(initial_states), dtype=torch.float64)
    if starts.dim() != 2 or len(starts) == 0:
        raise ValueError(f"initial_states must be [starts, units], got {tuple(starts.shape)}")
    generator = torch.Generator().manual_seed(seed)
    x = starts + noise * torch.randn(starts.shape, generator=generator, dtype=torch.float64)
    x = x.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(iterations, 1))
    for _ in range(iterations):
        optimizer.zero_grad()
        _speed(step, x).sum().backward()  # the starts are independent: one summed objective
        optimizer.step()
        schedule.step()
    x = _newton(step, x.detach(), newton_iterations)
    with torch.no_grad():
        q = _speed(step, x).numpy()
    points = x.numpy()
    centre = starts.mean(dim=0).numpy()
    spread = float(np.max(np.linalg.norm(starts.numpy() - centre, axis=1))) or 1.0
    fast = q > q_tolerance
    far = np.linalg.norm(points - centre, axis=1) > outlier_scale * spread
    good = np.flatnonzero(~fast & ~far)
    kept = good[_merge(points[good], q[good], merge_tolerance)] if len(good) else good
    n = points.shape[1]
    if len(kept):
        jacobians = _jacobians(step, torch.as_tensor(points[kept])).detach().numpy()
        eigenvalues = np.linalg.eigvals(jacobians)
        order = np.argsort(-np.abs(eigenvalues), axis=1, kind="stable")
        eigenvalues = np.take_along_axis(eigenvalues, order, axis=1)
    else:
        eigenvalues = np.empty((0, n), dtype=complex)
    return FixedPoints(
        points=points[kept],
        q=q[kept],
        jacobian_eigenvalues=eigenvalues,
        stable=np.abs(eigenvalues).max(axis=1) < 1.0 if len(kept) else np.empty(0, bool),
        starts=len(points),
        dropped={
            "slow": int(fast.sum()),
            "outlier": int((far & ~fast).sum()),
            "duplicate": int(len(good) - len(kept)),
        },  # fmt: skip
    )
