"""Memory signatures (Koppula, Sim & Chin 2018): how well the input k steps back can be decoded
from a recurrent state, for every lag k = 0..K.

Lag. A state is recorded after its step has read that step's input, so the state at t holds the
input at t: lag 0 is the current input, lag k the input k steps earlier *in the same sequence*.
A position t with t - k < 0 has no target at lag k and is left out of that lag only, so lag k has
sum over sequences of max(0, len - k) samples (minus `warmup` positions per sequence).

Decoders, one per lag, all fitted together on one design matrix whose features (the states) are
standardised once with the train rows' mean and standard deviation:

- "logistic" (default): multinomial logistic regression with scikit-learn's objective for each
  lag (mean cross-entropy + ||W_k||^2 / (2 C n_k)). The K + 1 lags are blocks of output heads of
  one weight matrix [units, (K + 1) classes]; the total objective is a sum of independent per-lag
  terms, so its minimum is every lag's own minimum. scipy's L-BFGS-B (scikit-learn's solver)
  minimises it in preconditioned coordinates (PCA-rotated, curvature-scaled features: see
  `_LogisticHeads`) with float32 products and a hand-written gradient: every step costs one
  wide [n, units] x [units, (K + 1) C] product and its transpose, and it converges in about 60
  steps where one scikit-learn fit per lag runs ~100 per lag (benchmarks/memory_signature.py:
  3-4x faster on one thread, held-out accuracies within 0.004).
- "mlp": one tanh hidden layer per lag (`hidden_units`), L2 `alpha` as scikit-learn's
  MLPClassifier (alpha ||W_k||^2 / (2 n_k)), Glorot initialisation from `seed`, same solver.
- "linear": ridge regression of real-valued inputs (Jaeger's memory capacity task), closed form in
  float64; the Gram matrix is computed once and downdated from lag to lag (lag k loses the rows at
  position k - 1), so K + 1 lags cost about one.

Held-out data: with several sequences, whole sequences (a seeded random `test_fraction` of them)
are held out, so no test state shares a sequence with a training state; with one sequence, the
last `test_fraction` of its positions.

Columns of the returned table (one row per lag): decoder, lag, accuracy, cross_entropy (nats,
held-out, probabilities floored at PROBABILITY_FLOOR so one confident error costs at most
-log(1e-7) = 16.1 nats), chance_majority (accuracy on the test targets of always predicting the
most frequent train target), chance_entropy (entropy in nats of the train targets' unigram
distribution: the cross-entropy of predicting it), r2 and squared_correlation (linear decoder
only; the squared correlation is Jaeger's MC_k), n_train, n_test. Columns that a decoder does not
define are NaN.

Long because the signature is one method: lag targets, the joint all-lags decoder fit (its
preconditioned L-BFGS), the MLP and linear variants, the area metric and the reservoirpy
capacity cross-check share their data layout; split them when a second user appears.
"""

from __future__ import annotations

import copy
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import linalg, optimize
from threadpoolctl import threadpool_limits

from rnnatlas.io import read_table

DECODERS = ("logistic", "mlp", "linear")
PROBABILITY_FLOOR = 1e-7
COLUMNS = (
    "decoder",
    "lag",
    "accuracy",
    "cross_entropy",
    "chance_majority",
    "chance_entropy",
    "r2",
    "squared_correlation",
    "n_train",
    "n_test",
)
# Rows per chunk of the loss: bounds the [rows, heads, classes] buffers to tens of MB while
# keeping the products wide enough to run at full BLAS speed.
_CHUNK_ELEMENTS = 4_000_000


# --------------------------------------------------------------------------------- samples


@dataclass
class _Samples:
    """The anchor rows (one per kept state) with their targets at every lag."""

    features: np.ndarray  # [n, units] standardised states
    targets: np.ndarray  # [n, K + 1] input at t - k (class code or real value)
    valid: np.ndarray  # [n, K + 1] bool: t - k is in the sequence (and targets[:, k] is real)
    is_test: np.ndarray  # [n] bool
    classes: int  # 0 for real-valued targets


def _positive_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _encode_inputs(inputs: np.ndarray, decoder: str) -> tuple[np.ndarray, int]:
    """Symbols -> integer codes 0..C-1 (sorted order), or float64 values for 'linear'."""
    if decoder == "linear":
        if not np.issubdtype(inputs.dtype, np.number) or np.issubdtype(inputs.dtype, np.bool_):
            raise ValueError(
                f"inputs: decoder='linear' needs real values, got dtype {inputs.dtype}; "
                "use decoder='logistic' for symbols"
            )
        values = inputs.astype(np.float64)
        if not np.isfinite(values).all():
            raise ValueError("inputs contain NaN or infinite values")
        return values, 0
    if inputs.dtype == object and any(value is None for value in inputs):
        raise ValueError("inputs contain missing values (None); drop or fill those rows")
    symbols, codes = np.unique(inputs, return_inverse=True)
    return codes.reshape(-1).astype(np.int64), len(symbols)


def _time_order(sequence_ids: np.ndarray | None, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(order, positions): rows grouped by sequence (stable, so time order is kept within each)
    and every sorted row's position in its sequence."""
    if sequence_ids is None:
        return np.arange(rows), np.arange(rows)
    order = np.argsort(sequence_ids, kind="stable")
    grouped = sequence_ids[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    lengths = np.diff(np.r_[starts, rows])
    positions = np.arange(rows) - np.repeat(starts, lengths)
    return order, positions


def _split(
    sequence_of_row: np.ndarray | None, rows: int, test_fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """Test mask: whole sequences when there are several, else the last block of positions."""
    sequences = np.unique(sequence_of_row) if sequence_of_row is not None else []
    if len(sequences) > 1:
        n_test = min(len(sequences) - 1, max(1, round(test_fraction * len(sequences))))
        held_out = rng.permutation(sequences)[:n_test]
        return np.isin(sequence_of_row, held_out)
    n_test = round(test_fraction * rows)
    if not 0 < n_test < rows:
        raise ValueError(
            f"one sequence of {rows} usable positions and test_fraction={test_fraction} leave "
            f"{n_test} test positions; pass more positions or a test_fraction that leaves "
            "at least one position on each side"
        )
    is_test = np.zeros(rows, dtype=bool)
    is_test[rows - n_test :] = True  # rows are in time order
    return is_test


def _subsample(is_test: np.ndarray, max_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of at most max_samples rows, train and test thinned in the same proportion."""
    rows = len(is_test)
    if rows <= max_samples:
        return np.arange(rows)
    test_rows, train_rows = np.flatnonzero(is_test), np.flatnonzero(~is_test)
    n_test = max(1, round(max_samples * len(test_rows) / rows))
    picked = [
        rng.choice(train_rows, max_samples - n_test, replace=False),
        rng.choice(test_rows, n_test, replace=False),
    ]
    return np.sort(np.concatenate(picked))


def _samples(
    states,
    inputs,
    max_lag: int,
    sequence_ids,
    decoder: str,
    test_fraction: float,
    seed: int,
    max_samples: int | None,
    warmup: int,
    standardize: bool,
) -> _Samples:
    if hasattr(states, "detach"):  # a torch tensor
        states = states.detach().cpu().numpy()
    states = np.asarray(states)
    if states.ndim != 2 or not np.issubdtype(states.dtype, np.number):
        raise ValueError(f"states must be a real 2-D array [rows, units], got shape {states.shape}")
    rows = len(states)
    inputs = np.asarray(inputs)
    if inputs.shape != (rows,):
        raise ValueError(
            f"inputs must be 1-D with one symbol per state row ({rows}), got shape {inputs.shape}"
        )
    if sequence_ids is not None:
        sequence_ids = np.asarray(sequence_ids)
        if sequence_ids.shape != (rows,):
            raise ValueError(
                f"sequence_ids must be 1-D with one id per state row ({rows}), "
                f"got shape {sequence_ids.shape}"
            )
    codes, classes = _encode_inputs(inputs, decoder)
    order, positions = _time_order(sequence_ids, rows)
    rng = np.random.default_rng(seed)

    anchors = np.flatnonzero(positions >= warmup)  # indices into the sorted rows
    if len(anchors) < 2:
        raise ValueError(f"{len(anchors)} state rows after warmup={warmup}; need at least 2")
    anchor_sequences = sequence_ids[order[anchors]] if sequence_ids is not None else None
    is_test = _split(anchor_sequences, len(anchors), test_fraction, rng)
    if max_samples is not None:
        kept = _subsample(is_test, max_samples, rng)
        anchors, is_test = anchors[kept], is_test[kept]

    lags = np.arange(max_lag + 1)
    valid = positions[anchors][:, None] >= lags[None, :]
    # sorted row r at lag k reads sorted row r - k (same sequence wherever `valid`)
    source = np.where(valid, anchors[:, None] - lags[None, :], anchors[:, None])
    targets = codes[order[source]]

    dtype = np.float64 if decoder == "linear" else np.float32  # ridge on collinear reservoirs
    features = states[order[anchors]].astype(dtype, copy=False)  # fancy indexing copied
    if standardize:
        mean, scale = _column_moments(features, np.flatnonzero(~is_test))
        scale[scale == 0] = 1.0  # a constant unit carries no information; keep it at zero
        features -= mean.astype(dtype)
        features /= scale.astype(dtype)
    return _Samples(features, targets, valid, is_test, classes)


def _column_moments(features: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float64 mean and standard deviation of features[rows], by blocks (no float64 copy)."""
    step = max(1, _CHUNK_ELEMENTS // max(features.shape[1], 1))
    blocks = [rows[start : start + step] for start in range(0, len(rows), step)]
    mean = sum(features[block].sum(axis=0, dtype=np.float64) for block in blocks) / len(rows)
    squares = sum(((features[block] - mean) ** 2).sum(axis=0) for block in blocks)
    return mean, np.sqrt(squares / len(rows))


# ------------------------------------------------------------------- classification decoders


class _LogisticHeads:
    """K + 1 multinomial logistic regressions as blocks of one [units, (K + 1) C] matrix, fitted
    in preconditioned coordinates.

    Hidden states are strongly correlated, which makes plain L-BFGS crawl. The weights are
    fitted in the eigenbasis Q of the train features' covariance (eigenvalues s_i), each
    direction scaled by D_i = (a s_i + mu)^(-1/2), the inverse square root of an estimate of the
    objective's curvature along it: a = 1/4 bounds a logistic loss's curvature (measured: fewer
    iterations than a = 1/C), mu is the penalty's. Centred features times Q D, the weights
    W = Q D W', the penalty ||W_k||^2 = sum_i D_i^2 ||W'_ik||^2 (Q is orthogonal) and a shifted
    bias give exactly the same objective, so the same minimum: in a reservoir's states, the
    objective after 25 iterations is that of 100 without the change, and L-BFGS-B's gradient
    test (in these coordinates) passes after ~60 instead of ~140.
    """

    def __init__(
        self,
        train_features: np.ndarray,
        train_targets: np.ndarray,
        train_valid: np.ndarray,
        classes: int,
        C: float,
    ):
        self.units, self.heads = train_features.shape[1], train_targets.shape[1]
        self.classes = classes
        counts = train_valid.sum(axis=0)
        self.log_prior = np.log(
            np.stack(
                [
                    np.bincount(train_targets[train_valid[:, k], k], minlength=classes) + 1.0
                    for k in range(self.heads)
                ]
            )
        )
        Z = torch.from_numpy(train_features)
        self.mean = torch.from_numpy(np.mean(train_features, axis=0, dtype=np.float64))
        covariance = (Z.T @ Z).double() / max(len(Z), 1) - torch.outer(self.mean, self.mean)
        spectrum, basis = torch.linalg.eigh(covariance)
        self.penalty_scale = torch.as_tensor(1.0 / (2.0 * C * np.maximum(counts, 1)))
        curvature = 0.25 * spectrum.clamp_min(0) + 2.0 * float(self.penalty_scale.mean())
        scale = curvature.rsqrt()
        self.basis = (basis * scale).float()  # [units, units]: Z' = (Z - mean) Q D
        self.shift = (self.mean @ (basis * scale)).float()
        self.penalty_diagonal = (scale**2).float()  # D_i^2

    def transform(self, features: np.ndarray) -> torch.Tensor:
        # (Z - mean) Q D without a centred copy of Z
        return (torch.from_numpy(features) @ self.basis).sub_(self.shift)

    def initial(self, rng: np.random.Generator) -> list[np.ndarray]:
        # the problem is convex: any start gives the same minimum; this one is the best
        # state-blind decoder, each lag's log unigram (add-one), a few iterations ahead of zeros
        return [np.zeros((self.units, self.heads * self.classes)), self.log_prior.ravel()]

    def logits(self, params: list[torch.Tensor], features: torch.Tensor) -> torch.Tensor:
        weight, bias = params
        return torch.addmm(bias, features, weight).view(-1, self.heads, self.classes)

    def loss_gradient(self, params, features, targets, weights) -> tuple[float, list]:
        """Weighted cross-entropy of a chunk and its gradient, by hand (no autograd buffers)."""
        scores = self.logits(params, features)
        scores -= scores.amax(dim=-1, keepdim=True)
        picked = scores.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        probabilities = scores.exp_()
        totals = probabilities.sum(dim=-1, keepdim=True)
        loss = (weights * (totals.squeeze(-1).log() - picked).double()).sum().item()
        probabilities /= totals
        scaled = weights.float().unsqueeze(-1)
        gradient = probabilities.mul_(scaled).scatter_add_(-1, targets.unsqueeze(-1), -scaled)
        gradient = gradient.view(len(features), -1)
        return loss, [features.T @ gradient, gradient.sum(0)]

    def penalty_gradient(self, params) -> tuple[float, list]:
        weight = params[0].view(self.units, self.heads, self.classes)
        factor = self.penalty_diagonal.view(-1, 1, 1) * self.penalty_scale.float().view(1, -1, 1)
        loss = float((weight.double().pow(2) * factor.double()).sum())
        return loss, [(2.0 * factor * weight).view(self.units, -1), torch.zeros_like(params[1])]


class _MLPHeads:
    """K + 1 one-hidden-layer tanh MLPs: hidden weights side by side, output weights batched."""

    def __init__(
        self, units: int, heads: int, classes: int, hidden: int, alpha: float, counts: np.ndarray
    ):
        self.units, self.heads, self.classes, self.hidden = units, heads, classes, hidden
        self.penalty_scale = torch.as_tensor(alpha / (2.0 * np.maximum(counts, 1)))

    def transform(self, features: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(features)

    def initial(self, rng: np.random.Generator) -> list[np.ndarray]:
        # Glorot uniform with scikit-learn's factor for tanh: sqrt(6 / (fan_in + fan_out))
        first = np.sqrt(6.0 / (self.units + self.hidden))
        second = np.sqrt(6.0 / (self.hidden + self.classes))
        return [
            rng.uniform(-first, first, (self.units, self.heads * self.hidden)),
            rng.uniform(-first, first, self.heads * self.hidden),
            rng.uniform(-second, second, (self.heads, self.hidden, self.classes)),
            rng.uniform(-second, second, (self.heads, self.classes)),
        ]

    def logits(self, params: list[torch.Tensor], features: torch.Tensor) -> torch.Tensor:
        w1, b1, w2, b2 = params
        hidden = torch.tanh(torch.addmm(b1, features, w1)).view(-1, self.heads, self.hidden)
        return torch.bmm(hidden.transpose(0, 1), w2).transpose(0, 1) + b2  # [rows, heads, C]

    def loss_gradient(self, params, features, targets, weights) -> tuple[float, list]:
        with torch.enable_grad():
            leaves = [p.detach().requires_grad_() for p in params]
            log_p = torch.log_softmax(self.logits(leaves, features), dim=-1)
            picked = log_p.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
            loss = -(picked.double() * weights).sum()
            return loss.item(), list(torch.autograd.grad(loss, leaves))

    def penalty_gradient(self, params) -> tuple[float, list]:
        with torch.enable_grad():
            leaves = [p.detach().requires_grad_() for p in params]
            w1, _, w2, _ = leaves
            squares = w1.view(self.units, self.heads, self.hidden).pow(2).sum((0, 2))
            squares = squares + w2.pow(2).sum((1, 2))
            loss = (squares.double() * self.penalty_scale).sum()
            gradients = torch.autograd.grad(loss, leaves, allow_unused=True, materialize_grads=True)
            return loss.item(), list(gradients)


def _chunks(rows: int, width: int) -> list[slice]:
    step = max(1, _CHUNK_ELEMENTS // max(width, 1))
    return [slice(start, start + step) for start in range(0, rows, step)]


def _width(heads) -> int:
    return heads.heads * max(heads.classes, getattr(heads, "hidden", 0))


def _fit_lbfgs(heads, Z: torch.Tensor, targets: np.ndarray, valid: np.ndarray, options: dict):
    """Minimise the summed per-lag objectives with scipy's L-BFGS-B; returns (params, result)."""
    targets = torch.from_numpy(targets)
    # sum over rows of weight * (-log p) = each lag's mean cross-entropy
    weights = torch.from_numpy(valid / np.maximum(valid.sum(axis=0), 1))
    x0 = heads.initial(options["rng"])
    shapes = [p.shape for p in x0]
    splits = np.cumsum([p.size for p in x0])[:-1]
    chunks = _chunks(len(Z), _width(heads))

    def unpack(x: np.ndarray) -> list[torch.Tensor]:
        parts = np.split(x.astype(np.float32), splits)
        return [torch.from_numpy(p.reshape(s)) for p, s in zip(parts, shapes, strict=True)]

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        params = unpack(x)
        total, gradients = heads.penalty_gradient(params)
        for rows in chunks:
            loss, parts = heads.loss_gradient(params, Z[rows], targets[rows], weights[rows])
            total += loss
            gradients = [g + p for g, p in zip(gradients, parts, strict=True)]
        return total, np.concatenate([g.numpy().ravel() for g in gradients]).astype(np.float64)

    result = optimize.minimize(
        objective,
        np.concatenate([p.ravel() for p in x0]),
        jac=True,
        method="L-BFGS-B",
        # scikit-learn's settings for its lbfgs solver
        options={
            "maxiter": options["max_iter"],
            "gtol": options["tol"],
            "ftol": 64 * np.finfo(float).eps,
            "maxls": 50,
        },
    )
    return unpack(result.x), result


def _log_probabilities(heads, params, Z: torch.Tensor) -> np.ndarray:
    """[rows, heads, C] held-out log-probabilities, in chunks."""
    with torch.no_grad():
        parts = [
            torch.log_softmax(heads.logits(params, Z[rows]), dim=-1).numpy()
            for rows in _chunks(len(Z), _width(heads))
        ]
    return np.concatenate(parts) if parts else np.zeros((0, heads.heads, heads.classes))


def _chance(train_targets: np.ndarray, test_targets: np.ndarray, classes: int) -> tuple:
    counts = np.bincount(train_targets, minlength=classes)
    majority = int(np.argmax(counts))  # ties: the lowest code
    frequencies = counts[counts > 0] / counts.sum()
    entropy = float(-(frequencies * np.log(frequencies)).sum()) + 0.0  # + 0.0: no -0.0
    return float(np.mean(test_targets == majority)), entropy


def _classification_table(samples: _Samples, decoder: str, options: dict) -> pd.DataFrame:
    train, test = ~samples.is_test, samples.is_test
    heads_count = samples.targets.shape[1]
    units = samples.features.shape[1]
    counts = samples.valid[train].sum(axis=0)
    train_features = samples.features[train]
    if decoder == "logistic":
        heads = _LogisticHeads(
            train_features,
            samples.targets[train],
            samples.valid[train],
            samples.classes,
            options["C"],
        )
    else:
        heads = _MLPHeads(
            units, heads_count, samples.classes, options["hidden_units"], options["alpha"], counts
        )
    Z = heads.transform(train_features)
    del train_features
    params, result = _fit_lbfgs(heads, Z, samples.targets[train], samples.valid[train], options)
    del Z
    log_p = _log_probabilities(heads, params, heads.transform(samples.features[test]))
    log_floor = np.log(PROBABILITY_FLOOR)

    rows = []
    for lag in range(heads_count):
        on_train = samples.valid[train, lag]
        on_test = samples.valid[test, lag]
        truth = samples.targets[test, lag][on_test]
        train_truth = samples.targets[train, lag][on_train]
        row = {"lag": lag, "n_train": int(on_train.sum()), "n_test": int(on_test.sum())}
        if len(truth) and len(train_truth):
            scores = log_p[on_test, lag]
            picked = np.maximum(scores[np.arange(len(truth)), truth], log_floor)
            row["accuracy"] = float(np.mean(scores.argmax(axis=1) == truth))
            row["cross_entropy"] = float(-picked.mean()) + 0.0  # + 0.0: no -0.0
            row["chance_majority"], row["chance_entropy"] = _chance(
                train_truth, truth, samples.classes
            )
        rows.append(row)
    table = _table(rows, decoder)
    table.attrs["solver"] = {
        "method": "L-BFGS-B",
        "iterations": int(result.nit),
        "evaluations": int(result.nfev),
        "message": str(result.message),
    }
    return table


# -------------------------------------------------------------------------- linear decoder


def _linear_table(samples: _Samples, ridge: float) -> pd.DataFrame:
    """Ridge regression per lag with an unpenalised intercept, Gram downdated lag to lag."""
    train, test = ~samples.is_test, samples.is_test
    design = np.hstack([samples.features[train], np.ones((train.sum(), 1))])
    test_design = np.hstack([samples.features[test], np.ones((test.sum(), 1))])
    valid_train, valid_test = samples.valid[train], samples.valid[test]
    targets_train, targets_test = samples.targets[train], samples.targets[test]
    penalty = np.full(design.shape[1], ridge)
    penalty[-1] = 0.0

    gram = design.T @ design  # lag 0: every row
    rows = []
    for lag in range(samples.targets.shape[1]):
        if lag:
            lost = valid_train[:, lag - 1] & ~valid_train[:, lag]
            if lost.any():
                gram -= design[lost].T @ design[lost]
        on_train, on_test = valid_train[:, lag], valid_test[:, lag]
        row = {"lag": lag, "n_train": int(on_train.sum()), "n_test": int(on_test.sum())}
        if on_train.sum() > 1 and on_test.sum() > 1:
            rhs = design[on_train].T @ targets_train[on_train, lag]
            system = gram + np.diag(penalty)
            try:
                weights = linalg.solve(system, rhs, assume_a="pos")
            except (linalg.LinAlgError, ValueError):  # singular without a ridge: least squares
                weights = linalg.lstsq(system, rhs)[0]
            predicted = test_design[on_test] @ weights
            truth = targets_test[on_test, lag]
            residual = float(np.sum((truth - predicted) ** 2))
            spread = float(np.sum((truth - truth.mean()) ** 2))
            row["r2"] = 1.0 - residual / spread if spread > 0 else np.nan
            if predicted.std() > 0 and truth.std() > 0:
                row["squared_correlation"] = float(np.corrcoef(predicted, truth)[0, 1] ** 2)
        rows.append(row)
    table = _table(rows, "linear")
    table.attrs["solver"] = {"method": "ridge (closed form)", "ridge": ridge}
    return table


def _table(rows: list[dict], decoder: str) -> pd.DataFrame:
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    table["decoder"] = decoder
    for column in ("lag", "n_train", "n_test"):
        table[column] = table[column].astype(np.int64)
    for column in COLUMNS[2:8]:
        table[column] = table[column].astype(np.float64)
    return table


# ----------------------------------------------------------------------------- public API


@contextmanager
def _threads(count: int | None) -> Iterator[None]:
    """torch and BLAS threads (scipy's L-BFGS-B calls BLAS too) limited to `count`, restored."""
    if count is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        with threadpool_limits(limits=count):
            yield
    finally:
        torch.set_num_threads(before)


def memory_signature(
    states,
    inputs,
    max_lag: int,
    *,
    sequence_ids=None,
    decoder: str = "logistic",
    test_fraction: float = 0.25,
    seed: int = 0,
    max_samples: int | None = None,
    warmup: int = 0,
    standardize: bool = True,
    C: float = 1.0,
    hidden_units: int = 64,
    alpha: float = 1e-4,
    ridge: float = 1e-6,
    max_iter: int | None = None,
    tol: float = 1e-4,
    num_threads: int | None = None,
) -> pd.DataFrame:
    """Decode the input at t - k from the state at t for k = 0..max_lag; one table row per lag.

    states: [N, units] (numpy or torch), rows in time order within each sequence.
    inputs: [N] the input read at each row's step: any symbols (strings, ints) for "logistic" and
        "mlp" (mapped to codes in sorted order), real values for "linear".
    sequence_ids: [N] or None (one sequence). Rows of a sequence need not be contiguous.
    decoder: "logistic", "mlp" or "linear" (see the module docstring).
    test_fraction: held-out share of sequences (several) or of the last positions (one).
    seed: the split, the `max_samples` draw and the MLP's initial weights.
    max_samples: keep at most this many state rows (train and test thinned alike), for speed.
    warmup: positions 0..warmup-1 of every sequence are no sample (e.g. a reservoir's washout);
        their inputs are still targets of later states.
    standardize: scale every unit to zero mean and unit variance on the train rows (False: the
        states as given, e.g. to compare a ridge penalty with another tool's).
    C: inverse L2 strength of "logistic" (scikit-learn's C). alpha, hidden_units: of "mlp".
    ridge: L2 penalty of "linear" on the sum of squared errors (as reservoirpy's Ridge), with
        standardised features.
    max_iter, tol: L-BFGS-B iterations (default 100 for logistic, 200 for mlp) and gradient
        tolerance, as scikit-learn's.
    num_threads: torch and BLAS threads during the fit, restored after (None: leave them, e.g.
        as Snakemake's `threads:` set them). On a machine shared with other jobs, 1 avoids
        threads waiting on each other at every small operation.

    Returns the tidy table described in the module docstring; the solver's report is in
    `table.attrs["solver"]`.
    """
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {', '.join(DECODERS)}; got {decoder!r}")
    max_lag = _positive_int("max_lag", max_lag, 0)
    warmup = _positive_int("warmup", warmup, 0)
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    if max_samples is not None:
        max_samples = _positive_int("max_samples", max_samples, 2)
    if max_iter is None:
        max_iter = 200 if decoder == "mlp" else 100
    max_iter = _positive_int("max_iter", max_iter, 1)
    hidden_units = _positive_int("hidden_units", hidden_units, 1)
    for name, value in {"C": C, "alpha": alpha, "ridge": ridge, "tol": tol}.items():
        positive = value > 0 if name == "C" else value >= 0
        if not np.isfinite(value) or not positive:
            raise ValueError(f"{name} must be a finite number {'> 0' if name == 'C' else '>= 0'}")
    if num_threads is not None:
        num_threads = _positive_int("num_threads", num_threads, 1)

    with _threads(num_threads):
        samples = _samples(
            states,
            inputs,
            max_lag,
            sequence_ids,
            decoder,
            test_fraction,
            seed,
            max_samples,
            warmup,
            bool(standardize),
        )
        if decoder == "linear":
            return _linear_table(samples, float(ridge))
        options = {
            "C": float(C),
            "alpha": float(alpha),
            "hidden_units": hidden_units,
            "max_iter": max_iter,
            "tol": float(tol),
            "rng": np.random.default_rng(seed),
        }
        return _classification_table(samples, decoder, options)


def memory_signature_from_parquet(
    path: str | Path,
    state: str | Sequence[str] | None,
    max_lag: int,
    *,
    input_column: str = "token",
    **options,
) -> pd.DataFrame:
    """`memory_signature` of the state column(s) of a states Parquet file (rnnatlas.states).

    state: one column name ("h0", "c0", "x", ...), several, or None for every state column; one
    block of rows per state, marked by a `state` column. input_column: the fixed column whose
    value at each step is the input ("token": strings, mapped to codes; "target" for real or class
    labels). Rows are put in (sequence_id, t) order; t must step by 1 within a sequence.
    options: keyword arguments of `memory_signature`.
    """

    from rnnatlas.states import StatesError, state_columns, state_matrix, validate

    if state is None:
        names = state_columns(validate(path))
    else:
        names = [state] if isinstance(state, str) else list(state)
    tables = []
    for name in names:
        index, values = state_matrix(path, name)
        if input_column == "token":
            inputs = index["token"].to_numpy()
        else:
            table = read_table(path, columns=[input_column])
            inputs = table.column(input_column).to_numpy(zero_copy_only=False)
            if inputs.dtype == object:
                raise StatesError(
                    f"{path}: column {input_column!r} holds vectors or nulls; pick a column "
                    "with one symbol or number per row (e.g. 'token')"
                )
        order = np.lexsort((index["t"].to_numpy(), index["sequence_id"].to_numpy()))
        sequences, steps = index["sequence_id"].to_numpy()[order], index["t"].to_numpy()[order]
        same = sequences[1:] == sequences[:-1]
        if np.any(np.diff(steps)[same] != 1):
            raise StatesError(
                f"{path}: column 't' skips or repeats steps within a sequence; memory signatures "
                "need every step of a sequence (t = 0, 1, 2, ...)"
            )
        table = memory_signature(
            values[order], inputs[order], max_lag, sequence_ids=sequences, **options
        )
        table.insert(0, "state", name)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def memory_capacity_check(
    units: int = 40,
    spectral_radius: float = 0.9,
    max_lag: int | None = None,
    length: int = 4000,
    ridge: float = 1e-6,
    test_size: int | None = None,
    seed: int = 0,
) -> dict:
    """Jaeger's memory capacity of a linear reservoir two ways, on the same reservoir and input.

    A reservoirpy Reservoir with identity activation (dense W rescaled to `spectral_radius`,
    dense input weights, seeded) is driven by i.i.d. uniform input u in [-0.8, 0.8] (`length`
    steps). "reservoirpy" is `reservoirpy.observables.memory_capacity` with a Ridge(ridge)
    readout: MC = sum over k = 1..max_lag of the squared test correlation between u(t - k) and
    its ridge decoder. "ours" is the same sum from `memory_signature(decoder="linear")` with the
    same penalty on the same raw states (standardize=False) and the same rows:

    - reservoirpy runs the reservoir from a zero state on u[max_lag:], so we run a copy of the
      reservoir on exactly that; the first max_lag inputs are targets only (warm-up rows);
    - its fit drops max_lag more warm-up steps and tests on the last `test_size` steps, hence
      warmup = 2 max_lag and the matching test_fraction here.

    The returned dict (ours, reservoirpy, max_lag, units) feeds a report line; the two agree to
    rounding in a well-conditioned regime (ridge >= 1e-6 at the defaults; linear reservoirs'
    states are nearly collinear, so at ridge -> 0 both solve near-singular systems).
    """
    from reservoirpy.nodes import Reservoir, Ridge
    from reservoirpy.observables import memory_capacity

    units = _positive_int("units", units, 1)
    max_lag = 2 * units if max_lag is None else _positive_int("max_lag", max_lag, 1)
    series = np.random.default_rng(seed).uniform(-0.8, 0.8, size=(length, 1))
    if test_size is None:
        test_size = round(0.2 * (length - max_lag))
    warmup = 2 * max_lag
    if length - warmup - test_size < 2 or test_size < 2:
        raise ValueError(
            f"length={length} leaves no train or test steps after 2 * max_lag = {warmup} "
            f"warm-up steps and test_size={test_size}; raise length"
        )
    reservoir = Reservoir(
        units,
        sr=spectral_radius,
        activation="identity",
        input_connectivity=1.0,
        rc_connectivity=1.0,
        input_dim=1,
        seed=seed,
    )
    reservoir.initialize(series[:1])
    run = copy.deepcopy(reservoir).run(series[max_lag:])
    # rows 0..max_lag-1 stand for the steps reservoirpy never runs: never samples (warm-up)
    states = np.vstack([np.zeros((max_lag, units)), run])
    theirs = memory_capacity(
        reservoir >> Ridge(ridge=ridge), max_lag, series=series, test_size=int(test_size)
    )
    table = memory_signature(
        states,
        series[:, 0],
        max_lag,
        decoder="linear",
        warmup=warmup,
        test_fraction=test_size / (length - warmup),
        ridge=ridge,
        standardize=False,
    )
    ours = float(table.loc[table["lag"] >= 1, "squared_correlation"].sum())
    return {"ours": ours, "reservoirpy": float(theirs), "max_lag": max_lag, "units": units}


ABOVE_CHANCE = 0.02  # excess over chance that a lag must pass to count in the memory length


def signature_measure(rows: pd.DataFrame) -> str:
    """ "accuracy" when a signature's rows have accuracies, else "squared_correlation" (the
    linear decoder's)."""
    if rows["accuracy"].notna().any():
        return "accuracy"
    if "squared_correlation" in rows and rows["squared_correlation"].notna().any():
        return "squared_correlation"
    return "accuracy"


def excess_over_chance(rows: pd.DataFrame) -> pd.Series:
    """Per row of a signature: accuracy - chance_majority, or the squared correlation (chance 0)
    for a linear decoder's rows; NaN where undefined."""
    if signature_measure(rows) == "squared_correlation":
        return rows["squared_correlation"].astype(float)
    return rows["accuracy"].astype(float) - rows["chance_majority"].astype(float)


def signature_area(rows: pd.DataFrame, threshold: float = ABOVE_CHANCE) -> dict:
    """The memory area of one signature (the rows of `memory_signature` for one state and one
    decoder: lag, accuracy, chance_majority and, for the linear decoder, squared_correlation).

    area = sum over the lags k = 0..K of max(0, accuracy_k - chance_majority_k), in "lags of
    perfect recall above chance" (lags without an accuracy add 0): a state that recalls the
    last m inputs perfectly and nothing older scores m (1 - chance), one at chance scores 0.
    With the linear decoder (no accuracy) the area is the sum of the squared correlations
    (Jaeger's memory capacity over lags 0..K, chance 0).

    Returns measure ("accuracy" or "squared_correlation"), area, memory_length (the last lag
    whose excess over chance passes `threshold`, <NA> when none does), max_lag (K: the area
    grows with it) and chance (the mean chance_majority over the lags).
    """
    missing = [c for c in ("lag", "accuracy", "chance_majority") if c not in rows.columns]
    if missing:
        raise ValueError(f"a signature's rows need column(s) {missing} (memory_signature's)")
    rows = rows.sort_values("lag")
    excess = excess_over_chance(rows)
    above = rows["lag"][excess > threshold]
    return {
        "measure": signature_measure(rows),
        "area": float(excess.clip(lower=0).fillna(0).sum()),
        "memory_length": int(above.max()) if len(above) else pd.NA,
        "max_lag": int(rows["lag"].max()),
        "chance": float(rows["chance_majority"].mean()),
    }


class _CallableModule(types.ModuleType):
    """The public entry point is `rnnatlas.analysis.memory_signature(states, ...)`, the name of
    this module too: once the module is imported Python binds that package attribute to the
    module, so the module forwards calls to the function."""

    def __call__(self, *args, **kwargs) -> pd.DataFrame:
        return memory_signature(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
