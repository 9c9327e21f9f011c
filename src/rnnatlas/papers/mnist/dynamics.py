"""Autonomous dynamics of a sequential-MNIST RNN (Horoi et al. 2020): Lyapunov exponents across
training, the attractors that the states at row 28 settle on, and the digit as a phase on them.

`dynamics_step` runs, for one trained network (its model.pt and model.json, and the folder of
its checkpoints at chosen epochs):

1. Lyapunov: the largest exponent(s) of h <- tanh(W h + b) at every checkpoint (epoch 0 is the
   untrained network), from the row-28 states of the first `initial` test digits.
2. Attractors: every test digit's row-28 state is run on without input for `steps` steps; the
   tails are grouped into invariant sets (`invariant_sets`), each set classified (fixed point,
   periodic cycle, closed curve = the discrete-time limit cycle, or higher-dimensional) by its
   members' periods, its intrinsic dimension (TwoNN) and its largest Lyapunov exponent.
3. Phase: how well the digit is decoded, at chosen times of the run, from the angle on its
   set's curve alone (k-NN on (cos, sin) of `curve_angle`), beside k-NN on the full state and
   chance: the paper's hypothesis that the class is kept as a phase on the cycle.

Outputs (`DYNAMICS_OUTPUTS`, each a path given by the caller): lyapunov, attractor_sets,
attractors (one row per digit), phase, trajectories (the PCA view of the figure), all Parquet,
and summary (dynamics.json).

Long because the Lyapunov-across-training, attractor and phase analyses share the autonomous
map and its runs from the row-28 states.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from rnnatlas.analysis.attractors import (
    MAX_LINKAGE_POINTS,
    classify_trajectory,
    curve_angle,
    curve_frame,
    invariant_sets,
)
from rnnatlas.analysis.dimension import intrinsic_dimension, participation_ratio
from rnnatlas.analysis.separability import knn_accuracy
from rnnatlas.io import read_json, read_parquet, write_json, write_parquet

log = logging.getLogger("rnnatlas")

LYAPUNOV_DEFAULTS = {"initial": 10, "steps": 500, "transient": 100, "exponents": 1}
ATTRACTOR_DEFAULTS = {
    "digits": 1000,
    "steps": 2000,
    "tail": 5,
    "tol": 1e-6,
    "phase_times": [0, 28, 200, 2000],
    "neighbours": 10,
    "figure_digits": 60,
    "figure_steps": 40,
    "curve_dimension": 1.5,
    "zero_lyapunov": 0.01,
}
CYCLE_KINDS = ("cycle", "closed_curve")  # what the paper calls limit cycles
# output key -> its file name in a folder of dynamics_step outputs (see `dynamics_files`)
DYNAMICS_OUTPUTS = {
    "lyapunov": "lyapunov.parquet",
    "attractor_sets": "attractor_sets.parquet",
    "attractors": "attractors.parquet",
    "phase": "phase.parquet",
    "trajectories": "trajectories.parquet",
    "summary": "dynamics.json",
}
_EPOCH_FILE = re.compile(r"epoch(\d+)\.pt$")


def _options(given: Mapping | None, defaults: Mapping, name: str) -> dict:
    given = dict(given or {})
    unknown = set(given) - set(defaults)
    if unknown:
        raise ValueError(
            f"mnist.dynamics.{name}: unknown option(s) {sorted(unknown)}; known: {sorted(defaults)}"
        )
    return {**defaults, **given}


def checkpoint_epochs(checkpoints: Path) -> list[tuple[int, Path]]:
    """(epoch, weights file) of the checkpoints folder's epoch*.pt, by epoch."""
    folder = Path(checkpoints)
    found = sorted(
        (int(match.group(1)), path)
        for path in folder.glob("epoch*.pt")
        if (match := _EPOCH_FILE.search(path.name))
    )
    if not found:
        raise FileNotFoundError(
            f"{folder} holds no epoch*.pt: train with checkpoint_epochs (e.g. [0, 10]) so the "
            "before/after-training analyses have the weights"
        )
    return found


def row28_states(model, images: np.ndarray):
    """The hidden state after the last row of each image [N, 28, 28] (float64 torch)."""
    import torch

    from rnnatlas.papers.mnist.data import as_sequences

    with torch.no_grad():
        hidden = model.states(torch.from_numpy(as_sequences(images)))["h0"]
    return hidden[:, -1].double()


def _autonomous(model):
    from rnnatlas.analysis.lyapunov import rnn_autonomous_map

    weight, bias = model.recurrent_weights()
    return rnn_autonomous_map(weight, bias)


def lyapunov_table(checkpoints: Path, images: np.ndarray, labels: np.ndarray, options: Mapping):
    """Largest exponents of the autonomous map at every checkpoint (of the `checkpoints` folder):
    one row per (epoch, initial condition) with lambda_1..lambda_k in nats per step."""
    from rnnatlas.analysis.lyapunov import lyapunov_spectrum
    from rnnatlas.models import load

    count = min(int(options["initial"]), len(images))
    rows = []
    for epoch, path in tqdm(checkpoint_epochs(checkpoints), desc="Lyapunov", unit="epoch"):
        model = load(path)
        result = lyapunov_spectrum(
            _autonomous(model),
            row28_states(model, images[:count]),
            int(options["steps"]),
            transient=int(options["transient"]),
            k=int(options["exponents"]),
        )
        for initial, exponents in enumerate(result.exponents):
            row = {"epoch": epoch, "initial": initial, "digit": int(labels[initial])}
            row.update({f"lambda_{i + 1}": float(v) for i, v in enumerate(exponents)})
            rows.append(row)
    table = pd.DataFrame(rows)
    return table.rename(columns={"lambda_1": "lambda_max"})


def run_autonomous(step, h0, steps: int, tail: int, keep: Sequence[int], figure: tuple[int, int]):
    """Run h <- step(h) from h0 [B, n] for `steps` steps without storing the whole run.

    Returns (tails [B, tail, n]: the last `tail` states, kept {t: states [B, n]} at the times in
    `keep` (t = 0 is h0), figure [figure_digits, figure_steps + 1, n]: the first trajectories'
    opening steps)."""
    import torch

    if not 1 <= tail <= steps:
        raise ValueError(f"tail must be in [1, steps = {steps}], got {tail}")
    bad = [t for t in keep if not 0 <= t <= steps]
    if bad:
        raise ValueError(f"phase_times {bad} lie outside the run's 0..{steps} steps")
    digits, opening = figure
    hidden = h0.clone()
    kept = {0: hidden.numpy().copy()} if 0 in keep else {}
    tails, opening_states = [], [hidden[:digits].numpy().copy()]
    with torch.no_grad():
        for t in tqdm(range(1, steps + 1), desc="autonomous run", unit="step", mininterval=2):
            hidden = step(hidden)
            if t in keep:
                kept[t] = hidden.numpy().copy()
            if t <= opening:
                opening_states.append(hidden[:digits].numpy().copy())
            if t > steps - tail:
                tails.append(hidden.numpy().copy())
    if not torch.isfinite(hidden).all():
        raise ValueError("the autonomous run diverged (NaN/inf): the network's weights are broken")
    return np.stack(tails, axis=1), kept, np.stack(opening_states, axis=1)


def _set_kind(members: list[dict], dimension: float, lam: float, options: Mapping) -> str:
    kinds = {member["kind"] for member in members}
    periods = {member["period"] for member in members}
    if kinds == {"fixed_point"}:
        return "fixed_point"
    if kinds == {"cycle"} and len(periods) == 1:
        return "cycle"
    # an invariant curve is one-dimensional and neither expands nor contracts along itself
    if dimension <= options["curve_dimension"] and abs(lam) <= options["zero_lyapunov"]:
        return "closed_curve"
    return "higher_dimensional"


def describe_sets(model, tails, labels_by_set, options: Mapping, seed: int = 0) -> pd.DataFrame:
    """One row per invariant set: size, kind, period, TwoNN and PR dimension, λ_max."""
    from rnnatlas.analysis.lyapunov import lyapunov_spectrum

    step = _autonomous(model)
    rows = []
    for label in np.unique(labels_by_set):
        members = np.flatnonzero(labels_by_set == label)
        classified = [classify_trajectory(tails[i], tol=options["tol"]) for i in members]
        points = tails[members].reshape(-1, tails.shape[2])
        rng = np.random.default_rng(seed)
        sample = points[rng.permutation(len(points))[:2000]]
        distinct = np.unique(np.round(sample, 9), axis=0)
        dimension = intrinsic_dimension(distinct, "twonn") if len(distinct) > 10 else 0.0
        spread = participation_ratio(distinct) if len(distinct) > 1 else 0.0
        lam = lyapunov_spectrum(step, tails[members[:3], -1], 500, transient=100, k=1)
        lam_max = float(lam.max_exponent.mean())
        periods = sorted({c["period"] for c in classified})
        rows.append(
            {
                "set": int(label),
                "trajectories": len(members),
                "kind": _set_kind(classified, dimension, lam_max, options),
                "periods": ",".join(map(str, periods)),
                "twonn": float(dimension),
                "participation_ratio": float(spread),
                "lambda_max": lam_max,
                "extent": float(np.ptp(points, axis=0).max()),
            }
        )
    return pd.DataFrame(rows)


def set_frames(tails, labels_by_set) -> dict:
    """curve_frame of each invariant set's tail points (None for a set of < 3 points)."""
    frames = {}
    for label in np.unique(labels_by_set):
        points = tails[labels_by_set == label].reshape(-1, tails.shape[2])
        frames[label] = curve_frame(points) if len(points) >= 3 else None
    return frames


def set_angles(states, labels_by_set, frames: Mapping) -> np.ndarray:
    """Each state's angle in its own set's frame (0 where the set has no frame)."""
    angles = np.zeros(len(states))
    for label, frame in frames.items():
        mask = labels_by_set == label
        if frame is not None:
            angles[mask] = curve_angle(states[mask], frame=frame)
    return angles


def phase_decoding(kept, labels, labels_by_set, frames, options, seed: int = 0) -> pd.DataFrame:
    """Per kept time: k-NN accuracy of the digit from the angle on the set's curve (plus the set
    label), from the full state, and the majority chance."""
    k = int(options["neighbours"])
    chance = float(np.bincount(labels).max() / len(labels))
    rows = []
    for t, states in sorted(kept.items()):
        angles = set_angles(states, labels_by_set, frames)
        # sets far apart (4 > the unit circle's diameter): the set label is known, the angle
        # carries the rest
        features = np.c_[np.cos(angles), np.sin(angles), 4.0 * labels_by_set]
        rows.append(
            {
                "t": int(t),
                "row": 28 + int(t),
                "phase_accuracy": knn_accuracy(features, labels, k=k, seed=seed),
                "state_accuracy": knn_accuracy(states, labels, k=k, seed=seed),
                "chance": chance,
            }
        )
    return pd.DataFrame(rows)


def _projection(tails, opening, labels, labels_by_set, angles):
    """PCA (fitted on every tail point) of the opening trajectories and of the tails."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, random_state=0).fit(tails.reshape(-1, tails.shape[2]))
    frames = []
    for part, array, ids in (
        ("transient", opening, np.arange(len(opening))),
        ("attractor", tails, np.arange(len(tails))),
    ):
        B, L, n = array.shape
        xy = pca.transform(array.reshape(-1, n)).reshape(B, L, 2)
        frame = pd.DataFrame(
            {
                "part": part,
                "trajectory": np.repeat(ids, L),
                "step": np.tile(np.arange(L), B),
                "pc1": xy[..., 0].ravel(),
                "pc2": xy[..., 1].ravel(),
                "label": np.repeat(labels[ids], L),
                "set": np.repeat(labels_by_set[ids], L),
            }
        )
        if part == "attractor":
            frame["angle"] = np.repeat(angles, L)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True), pca.explained_variance_ratio_


def dynamics_step(
    model: Path,
    model_card: Path,
    checkpoints: Path,
    test: Path,
    outputs: Mapping[str, Path],
    *,
    lyapunov: Mapping | None = None,
    attractors: Mapping | None = None,
    seed: int = 0,
    threads: int | None = None,
) -> dict:
    """Lyapunov exponents across training, attractors and phase decoding of one network.

    model: its model.pt (model_card: its model.json); checkpoints: the folder of its epoch*.pt;
    test: the test split file; outputs: one path per key of `DYNAMICS_OUTPUTS`.
    """
    import torch

    from rnnatlas.models import load
    from rnnatlas.papers.mnist.data import as_sequences
    from rnnatlas.papers.mnist.steps import predictions, read_split

    lyapunov = _options(lyapunov, LYAPUNOV_DEFAULTS, "lyapunov")
    options = _options(attractors, ATTRACTOR_DEFAULTS, "attractors")
    missing = [key for key in DYNAMICS_OUTPUTS if key not in outputs]
    if missing:
        raise ValueError(f"dynamics_step: outputs lack {missing}; give {list(DYNAMICS_OUTPUTS)}")
    if threads is not None:
        torch.set_num_threads(threads)
    _, labels, images = read_split(test)
    exponents = lyapunov_table(checkpoints, images, labels, lyapunov)

    seed_of_model = _model_seed(model_card)
    model = load(model)
    count = min(int(options["digits"]), len(labels))
    images, labels = images[:count], labels[:count]
    predicted = predictions(model, as_sequences(images), readout_step=images.shape[1])
    steps, tail = int(options["steps"]), int(options["tail"])
    if count * tail > MAX_LINKAGE_POINTS:
        gigabytes = (count * tail) ** 2 * 4 / 1e9  # condensed float64 distances
        raise ValueError(
            f"mnist.dynamics.attractors: digits x tail = {count} x {tail} = {count * tail:,} "
            f"points; single linkage needs ~{gigabytes:.1f} GB for their distances. Keep "
            f"digits x tail <= {MAX_LINKAGE_POINTS:,} (fewer digits or a shorter tail)"
        )
    figure = (min(int(options["figure_digits"]), count), int(options["figure_steps"]))
    tails, kept, opening = run_autonomous(
        _autonomous(model), row28_states(model, images), steps, tail, options["phase_times"], figure
    )
    labels_by_set, scale = invariant_sets(tails)
    sets = describe_sets(model, tails, labels_by_set, options, seed=seed)
    frames = set_frames(tails, labels_by_set)
    phase = phase_decoding(kept, labels, labels_by_set, frames, options, seed=seed)
    final_angles = set_angles(tails[:, -1], labels_by_set, frames)
    kinds = dict(zip(sets["set"], sets["kind"], strict=True))
    per_digit = pd.DataFrame(
        {
            "trajectory": np.arange(count),
            "label": labels,
            "prediction": predicted,
            "set": labels_by_set,
            "kind": [kinds[s] for s in labels_by_set],
            "final_angle": final_angles,
        }
    )
    trajectories, explained = _projection(tails, opening, labels, labels_by_set, final_angles)
    final_epoch = int(exponents["epoch"].max())
    summary = {
        "seed": seed_of_model,
        "epochs": sorted(int(e) for e in exponents["epoch"].unique()),
        "lambda_max_untrained": _epoch_mean(exponents, 0),
        "lambda_max_trained": _epoch_mean(exponents, final_epoch),
        "final_epoch": final_epoch,
        "sets": len(sets),
        "limit_cycles": int(sets["kind"].isin(CYCLE_KINDS).sum()),
        "set_kinds": sets["kind"].value_counts().to_dict(),
        "linkage_scale": scale,
        "attractor_twonn": float(np.average(sets["twonn"], weights=sets["trajectories"])),
        "pca_explained": [float(v) for v in explained],
        "digits": count,
        "steps": steps,
        "lyapunov": lyapunov,
        "attractors": options,
    }
    write_parquet(outputs["lyapunov"], exponents)
    write_parquet(outputs["attractor_sets"], sets)
    write_parquet(outputs["attractors"], per_digit)
    write_parquet(outputs["phase"], phase)
    write_parquet(outputs["trajectories"], trajectories)
    write_json(outputs["summary"], summary)
    log.info(
        "dynamics: %d set(s) %s, λ_max %.4f -> %.4f",
        len(sets),
        summary["set_kinds"],
        summary["lambda_max_untrained"] or float("nan"),
        summary["lambda_max_trained"],
    )
    return summary


def _model_seed(card: Path) -> int | None:

    return read_json(card, "rule mnist_train writes it").get("seed")


def dynamics_files(folder: Path) -> dict[str, Path]:
    """The dynamics_step outputs in one folder, by key of `DYNAMICS_OUTPUTS`."""
    return {key: Path(folder) / name for key, name in DYNAMICS_OUTPUTS.items()}


def read_dynamics(folders: Sequence[Path]) -> dict:
    """The tables of several networks' dynamics_step outputs, each in its own folder (named as in
    `DYNAMICS_OUTPUTS`): see `read_dynamics_files`."""
    return read_dynamics_files([dynamics_files(folder) for folder in folders])


def read_dynamics_files(runs: Sequence[Mapping[str, Path]]) -> dict:
    """The tables of several networks' dynamics_step outputs, each with a `seed` column:
    {"lyapunov", "sets", "phase", "attractors": DataFrame, "summaries": {seed: dict}}.

    runs: one mapping per network, from the keys of `DYNAMICS_OUTPUTS` (summary, lyapunov,
    attractor_sets, phase, attractors; others are ignored) to its files."""

    tables: dict[str, list] = {"lyapunov": [], "sets": [], "phase": [], "attractors": []}
    files = {
        "lyapunov": "lyapunov",
        "sets": "attractor_sets",
        "phase": "phase",
        "attractors": "attractors",
    }
    summaries = {}
    for position, run in enumerate(runs):
        path = Path(run["summary"])
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run the mnist_dynamics rule first")
        summary = read_json(path, "rule mnist_dynamics writes it")
        seed = summary.get("seed")
        seed = position if seed is None else seed
        summaries[seed] = summary
        for key, name in files.items():
            tables[key].append(read_parquet(run[name]).assign(seed=seed))
    out = {key: pd.concat(frames, ignore_index=True) for key, frames in tables.items() if frames}
    out["summaries"] = summaries
    return out


def _epoch_mean(table: pd.DataFrame, epoch: int) -> float | None:
    values = table.loc[table["epoch"] == epoch, "lambda_max"]
    return float(values.mean()) if len(values) else None
