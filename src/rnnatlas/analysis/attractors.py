"""Where trajectories of an autonomous map end up: fixed points, cycles, or neither.

Horoi et al. (2020) report that the hidden states of a trained sequential-MNIST RNN, run on
without input, settle onto two limit cycles, and hypothesise that the digit class is encoded as
the phase on the cycle. These functions give the building blocks for that table:

- `classify_trajectory`: on the tail of one trajectory [T, n], the smallest period p with
  ‖x(t+p) - x(t)‖ <= tol throughout the tail: p = 1 a fixed point, p >= 2 a cycle, none "neither"
  (chaos, quasi-periodic motion, or not converged yet);
- `distinct_attractors`: labels grouping trajectories that reached the same fixed point or the
  same cycle, cycles compared up to a shift of phase;
- `cycle_phase`: the index on a cycle's points at which a trajectory is at a reference time;
- `invariant_sets`: labels grouping trajectories by the attractor their tails lie on, whatever
  its kind (fixed point, periodic orbit, or an invariant closed curve on which the map rotates
  by an irrational angle: the discrete-time limit cycle, which no finite period describes);
- `curve_angle`: the angle of states around an attractor's centre in its first two principal
  axes, a phase for trajectories on a closed curve.

Distances are max-norms ‖x‖∞ = max_i |x_i|: a tolerance then means the same per unit whatever
the number of units.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

KINDS = ("fixed_point", "cycle", "neither")
# invariant_sets holds all pairwise distances of its tail points: at most this many (~1.6 GB)
MAX_LINKAGE_POINTS = 20_000


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


def invariant_sets(tails) -> tuple[np.ndarray, float]:
    """Group trajectories by the invariant set their tails lie on: (labels [B], scale).

    tails: [B, L >= 2, n], the last L states of B trajectories of one map. An attractor is
    invariant, so each trajectory's tail stays inside one set: the sets are the single-linkage
    clusters of all B * L points cut at the smallest distance `scale` at which every tail falls
    within a single cluster. Two attractors are told apart when the gap between them exceeds
    that scale (how far consecutive points of one tail can be apart along its own set). Works
    for fixed points, periodic orbits and invariant curves alike; distances are Euclidean.
    Labels count 0, 1, ... by first appearance.
    """
    tails = np.asarray(tails.detach().cpu().numpy() if hasattr(tails, "detach") else tails)
    if tails.ndim != 3 or tails.shape[1] < 2:
        raise ValueError(f"tails must be [trajectories, L >= 2 steps, units], got {tails.shape}")
    if not np.isfinite(tails).all():
        raise ValueError("tails contain NaN or infinite values")
    B, L, n = tails.shape
    if B == 1:
        return np.zeros(1, dtype=np.int64), 0.0
    tree = linkage(tails.reshape(B * L, n).astype(np.float64), method="single")
    heights = np.unique(np.concatenate([[0.0], tree[:, 2]]))

    def cut(height: float) -> np.ndarray:
        return fcluster(tree, t=height, criterion="distance").reshape(B, L)

    # the smallest merge height at which no tail is split (bisection: splitting only decreases)
    low, high = 0, len(heights) - 1
    while low < high:
        middle = (low + high) // 2
        if (cut(heights[middle]) == cut(heights[middle])[:, :1]).all():
            high = middle
        else:
            low = middle + 1
    clusters = cut(heights[low])[:, 0]
    _, first, inverse = np.unique(clusters, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))  # relabel by first appearance
    return order[inverse].astype(np.int64), float(heights[low])


def curve_frame(reference) -> tuple[np.ndarray, np.ndarray]:
    """(centre [n], axes [2, n]): the mean of an attractor's points [r >= 3, n] and its first
    two principal axes, signs fixed (largest component positive) so that angles measured in
    the frame do not depend on the SVD's arbitrary signs."""
    reference = np.asarray(reference, np.float64)
    if reference.ndim != 2 or len(reference) < 3:
        raise ValueError(f"reference must be [points >= 3, units], got {reference.shape}")
    centre = reference.mean(axis=0)
    _, _, axes = np.linalg.svd(reference - centre, full_matrices=False)
    axes = axes[:2]
    if len(axes) < 2:
        raise ValueError("reference needs at least 2 units to define a plane")
    signs = np.sign(axes[np.arange(2), np.abs(axes).argmax(axis=1)])
    return centre, axes * signs[:, None]


def curve_angle(states, reference=None, *, frame: tuple | None = None) -> np.ndarray:
    """Angle in (-pi, pi] of each state [m, n] around the centre of `reference` [r, n] (points
    of one attractor), in reference's first two principal axes (or a `curve_frame` given).

    On a closed curve whose projection winds once around its centre this is a phase: states at
    the same place on the curve get the same angle.
    """
    if (reference is None) == (frame is None):
        raise ValueError("give either reference points or a curve_frame, not both or neither")
    centre, axes = curve_frame(reference) if frame is None else frame
    states = np.asarray(states, np.float64)
    if states.ndim != 2 or states.shape[1] != len(centre):
        raise ValueError(f"states must be [m, {len(centre)}], got {states.shape}")
    projected = (states - centre) @ axes.T
    return np.arctan2(projected[:, 1], projected[:, 0])
