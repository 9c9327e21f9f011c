"""Where trajectories of an autonomous map end up: fixed points, cycles, or neither.

Horoi et al. (2020) report that the hidden states of a trained sequential-MNIST RNN, run on
without input, settle onto two limit cycles, and hypothesise that the digit class is encoded as
the phase on the cycle. These functions give the building blocks for that table:

- `classify_trajectory`: on the tail of one trajectory [T, n], the smallest period p with
  ‖x(t+p) - x(t)‖ <= tol throughout the tail: p = 1 a fixed point, p >= 2 a cycle, none "neither"
  (chaos, quasi-periodic motion, or not converged yet);
- `distinct_attractors`: labels grouping trajectories that reached the same fixed point or the
  same cycle, cycles compared up to a shift of phase;
- `cycle_phase`: the index on a cycle's points at which a trajectory is at a reference time.

Distances are max-norms ‖x‖∞ = max_i |x_i|: a tolerance then means the same per unit whatever
the number of units.
"""

from __future__ import annotations

import numpy as np

KINDS = ("fixed_point", "cycle", "neither")


def _as_trajectory(traj) -> np.ndarray:
    if hasattr(traj, "detach"):  # a torch tensor
        traj = traj.detach().cpu().numpy()
    traj = np.asarray(traj, dtype=np.float64)
    if traj.ndim == 1:
        traj = traj[:, None]
    if traj.ndim != 2 or len(traj) < 2:
        raise ValueError(f"a trajectory is [T >= 2 steps, n units], got shape {traj.shape}")
    if not np.isfinite(traj).all():
        raise ValueError("the trajectory contains NaN or infinite values")
    return traj


def classify_trajectory(
    traj, tol: float = 1e-6, max_period: int | None = None, tail: int | None = None
) -> dict:
    """What the end of a trajectory [T, n] (numpy or torch; [T] for n = 1) settles on.

    tail: how many final states are examined (default: the last half, at least 2).
    max_period: the longest period tried (default and at most tail // 2, so that every
        candidate cycle is seen twice).

    Returns a dict:
        kind: "fixed_point" (p = 1), "cycle" (p >= 2) or "neither";
        period: p, the smallest period that holds within tol over the whole tail (0: neither);
        points: [p, n], the last p states in time order (points[j] is the state at time
            T - p + j); [0, n] for neither;
        residual: for a fixed point or cycle, max over the tail of ‖x(t+p) - x(t)‖∞; for
            neither, the closest return of the last state, min over p of ‖x(T-1) - x(T-1-p)‖∞;
        t_end: T - 1, the time of the last state.
    """
    traj = _as_trajectory(traj)
    T, n = traj.shape
    if tol < 0:
        raise ValueError(f"tol must be >= 0, got {tol}")
    tail = max(2, T // 2) if tail is None else tail
    if not 2 <= tail <= T:
        raise ValueError(f"tail must be in [2, T = {T}], got {tail}")
    largest = tail // 2 if max_period is None else min(max_period, tail // 2)
    if largest < 1:
        raise ValueError(f"max_period must be >= 1, got {max_period}")
    end = traj[-tail:]
    # a period p needs the last state to return: ‖x(T-1) - x(T-1-p)‖ <= tol (one pass)
    returns = np.abs(end[-1] - end[-1 - np.arange(1, largest + 1)]).max(axis=1)  # [largest]
    for p in np.flatnonzero(returns <= tol) + 1:
        residual = np.abs(end[p:] - end[:-p]).max()
        if residual <= tol:
            return {
                "kind": "fixed_point" if p == 1 else "cycle",
                "period": int(p),
                "points": traj[T - p :].copy(),
                "residual": float(residual),
                "t_end": T - 1,
            }
    return {
        "kind": "neither",
        "period": 0,
        "points": np.empty((0, n)),
        "residual": float(returns.min()),
        "t_end": T - 1,
    }


def _shift_distance(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    """min over s of max_j ‖a[j] - b[(j + s) % p]‖∞, and the best s (a, b: [p, n])."""
    distances = [np.abs(a - np.roll(b, -s, axis=0)).max() for s in range(len(b))]
    best = int(np.argmin(distances))
    return float(distances[best]), best


def _check_result(result: dict, where: str) -> np.ndarray:
    if not isinstance(result, dict) or result.get("kind") not in KINDS or "points" not in result:
        raise ValueError(f"{where}: expected a dict from classify_trajectory, got {result!r:.80}")
    return np.asarray(result["points"], dtype=np.float64)


def distinct_attractors(results, tol: float = 1e-6) -> np.ndarray:
    """Labels [len(results)] grouping classify_trajectory results by the attractor reached.

    Two results share a label when both are fixed points within tol, or both cycles of the same
    period whose points agree within tol (max-norm) after some cyclic shift: one cycle reached
    at different phases is one attractor. Labels count 0, 1, ... in order of first appearance;
    "neither" gets -1.
    """
    representatives: list[np.ndarray] = []
    labels = np.full(len(results), -1, dtype=np.int64)
    for i, result in enumerate(results):
        points = _check_result(result, f"results[{i}]")
        if result["kind"] == "neither":
            continue
        for label, known in enumerate(representatives):
            if len(known) == len(points) and _shift_distance(known, points)[0] <= tol:
                labels[i] = label
                break
        else:
            labels[i] = len(representatives)
            representatives.append(points)
    return labels


def cycle_phase(traj, attractor, t_ref: int | None = None, tol: float | None = 1e-6) -> int:
    """Index j of attractor's points (a classify_trajectory dict or an array [p, n]) at which
    the trajectory [T, n] is at time t_ref (default T - 1; negative counts from the end).

    The trajectory's last state is matched to the nearest of the p points (an error if farther
    than tol; tol=None skips the check), and the phase is carried back to t_ref along the
    cycle: (j_end - (T - 1 - t_ref)) mod p. So t_ref may lie before the trajectory reached the
    cycle (e.g. the readout time, with the run continued past it): it is then the asymptotic
    phase, the one it converges to. Use one group's representative as `attractor` for all its
    trajectories to make their phases comparable. A fixed point has phase 0.
    """
    traj = _as_trajectory(traj)
    T = len(traj)
    if isinstance(attractor, dict):
        points = _check_result(attractor, "attractor")
        if attractor["kind"] == "neither":
            raise ValueError("attractor is 'neither': there is no cycle to give a phase on")
    else:
        points = np.asarray(attractor, dtype=np.float64)
    if points.ndim == 1:
        points = points[:, None]
    if points.ndim != 2 or len(points) == 0 or points.shape[1] != traj.shape[1]:
        raise ValueError(
            f"attractor points must be [p >= 1, n = {traj.shape[1]}], got shape {points.shape}"
        )
    t_ref = T - 1 if t_ref is None else t_ref
    if not -T <= t_ref < T:
        raise ValueError(f"t_ref must index the trajectory's {T} steps, got {t_ref}")
    t_ref %= T
    distances = np.abs(traj[-1] - points).max(axis=1)
    j_end = int(np.argmin(distances))
    if tol is not None and distances[j_end] > tol:
        raise ValueError(
            f"the trajectory's last state is {distances[j_end]:.3g} (max-norm) from the nearest "
            f"point of this attractor, more than tol = {tol:g}: it is not on it"
        )
    return (j_end - (T - 1 - t_ref)) % len(points)
