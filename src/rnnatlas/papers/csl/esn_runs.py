"""Train and evaluate one ESN on a CSL corpus: harvest, readout, errors, CPU time."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnnatlas.models.esn import ESN, ESNConfig, ReservoirWeights, build_reservoir, harvest
from rnnatlas.models.readout import predict, ridge_fit, rls_fit, with_bias
from rnnatlas.papers.csl.corpus_io import CSLData
from rnnatlas.papers.csl.metrics import csl_errors

HISTORY_EVERY = 100  # training sentences between two points of the online learning curve
RLS_BLOCK_ROWS = 128  # rows per Woodbury step when the readout trains at every word


@dataclass
class ESNRun:
    model: ESN
    metrics: dict
    history: pd.DataFrame


def esn_config(spec: Mapping, seed: int, units: int | None = None) -> ESNConfig:
    return ESNConfig(
        units=int(units or spec["units"]),
        spectral_radius=float(spec["spectral_radius"]),
        density=float(spec["density"]),
        leak=float(spec["leak"]),
        input_scaling=float(spec["input_scaling"]),
        input_density=float(spec["input_density"]),
        bias=bool(spec["bias"]),
        seed=int(seed),
        input_distribution=str(spec.get("input_distribution", "bernoulli")),
    )


def training_rows(
    weights: ReservoirWeights, tokens: list[np.ndarray], teachers: np.ndarray, train_at: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Readout inputs [1;x] and targets, plus the sentence each row belongs to."""
    if train_at == "end":
        states = harvest(weights, tokens, record="last")
        return with_bias(states), teachers, np.arange(len(tokens))
    per_word = harvest(weights, tokens, record="all")
    rows = np.concatenate(per_word)
    owner = np.repeat(np.arange(len(tokens)), [len(s) for s in per_word])
    return with_bias(rows), teachers[owner], owner


def _evaluate(data: CSLData, split: str, states_end: np.ndarray, Wout: np.ndarray, decode) -> dict:
    outputs = predict(with_bias(states_end), Wout)
    return csl_errors(outputs, data.splits[split], data.grammar, **decode)


def train_esn(
    data: CSLData,
    spec: Mapping,
    seed: int,
    decode: Mapping,
    *,
    train_frame: pd.DataFrame | None = None,
    units: int | None = None,
    track_history: bool = True,
) -> ESNRun:
    """Build the reservoir, train the readout on the training split, evaluate on the test split.

    CPU time is process time spent building the reservoir, harvesting the training states and
    fitting the readout; evaluations for the learning curve are excluded.
    """
    frame = data.splits["train"] if train_frame is None else train_frame
    tokens = [np.asarray(t, dtype=np.int64) for t in frame["tokens"]]
    teachers = np.stack(frame["teacher"].map(np.asarray).to_list()).astype(np.float64)
    cfg = esn_config(spec, seed, units)
    alpha = 10.0 ** float(spec["log10_alpha"])

    cpu_start, wall_start = time.process_time(), time.perf_counter()
    weights = ReservoirWeights.from_reservoir(build_reservoir(cfg, data.input_dim))
    X, Y, owner = training_rows(weights, tokens, teachers, spec["train_at"])
    cpu, wall = time.process_time() - cpu_start, time.perf_counter() - wall_start

    track_history = track_history and len(data.splits["validation"]) > 0
    val_end = harvest(weights, data.tokens("validation"), record="last") if track_history else None
    history = []
    if spec["readout"] == "ridge":
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        Wout = ridge_fit(X, Y, ridge=alpha)
        cpu += time.process_time() - cpu_start
        wall += time.perf_counter() - wall_start
    else:
        # Training at END: one RLS step per sentence. At every word: blocks of rows, which
        # give the same readout as word-by-word RLS at block ends, ~5x faster.
        block = 1 if spec["train_at"] == "end" else RLS_BLOCK_ROWS
        state = None
        checkpoints = list(range(HISTORY_EVERY, len(tokens), HISTORY_EVERY)) + [len(tokens)]
        done = 0
        for seen in checkpoints:
            rows = (owner >= done) & (owner < seen)
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            state = rls_fit(X[rows], Y[rows], alpha=alpha, state=state, block=block)
            cpu += time.process_time() - cpu_start
            wall += time.perf_counter() - wall_start
            done = seen
            if track_history:
                errors = _evaluate(data, "validation", val_end, state.Wout, decode)
                history.append({"sentences_seen": seen, "cpu_time_s": cpu, **_prefixed(errors)})
        Wout = state.Wout

    test_end = harvest(weights, data.tokens("test"), record="last")
    metrics = _evaluate(data, "test", test_end, Wout, decode)
    metrics.update(
        cpu_time_s=cpu,
        wall_time_s=wall,
        units=cfg.units,
        train_sentences=len(tokens),
        trainable_parameters=int(Wout.size),
    )
    model = ESN(weights, output_dim=Y.shape[1], config=cfg)
    model.set_readout(Wout)
    return ESNRun(model=model, metrics=metrics, history=pd.DataFrame(history))


def _prefixed(errors: Mapping, prefix: str = "val_") -> dict:
    return {f"{prefix}{k}": v for k, v in errors.items() if k != "n"}
