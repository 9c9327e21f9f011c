"""Train and evaluate the paper's LSTM on a CSL corpus, resumably."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnnatlas.models.lstm import SequenceLSTM, one_hot_batch
from rnnatlas.papers.csl.corpus_io import CSLData
from rnnatlas.papers.csl.metrics import csl_errors
from rnnatlas.seeding import seed_everything
from rnnatlas.training import TrainConfig, train_sequence_regressor

EVAL_BATCH = 512


@dataclass
class LSTMRun:
    model: SequenceLSTM
    metrics: dict
    history: pd.DataFrame
    run_dir: Path | None = None  # this run's checkpoints (under resume_dir, keyed by the run)


@torch.no_grad()
def final_outputs(model: SequenceLSTM, tokens: list[np.ndarray], input_dim: int) -> np.ndarray:
    """Readout after each sentence's last word (END), batched."""
    model.eval()
    chunks = []
    for start in range(0, len(tokens), EVAL_BATCH):
        inputs, lengths = one_hot_batch(tokens[start : start + EVAL_BATCH], input_dim)
        chunks.append(model.last_output(inputs, lengths).double().numpy())
    model.train()
    return np.concatenate(chunks)


def train_lstm(
    data: CSLData,
    spec: Mapping,
    seed: int,
    decode: Mapping,
    resume_dir: Path,
    threads: int = 1,
    stop_after_epoch: int | None = None,
) -> LSTMRun:
    seed_everything(seed)
    model = SequenceLSTM(
        input_dim=data.input_dim,
        output_dim=data.grammar.output_dim,
        units=int(spec["units"]),
        keras_init=bool(spec["keras_init"]),
    )
    cfg = TrainConfig(
        epochs=int(spec["epochs"]),
        batch_size=int(spec["batch_size"]),
        lr=float(spec["lr"]),
        seed=seed,
        threads=threads,
    )
    val_tokens = data.tokens("validation")

    def evaluate(current: SequenceLSTM, epoch: int) -> dict:
        outputs = final_outputs(current, val_tokens, data.input_dim)
        errors = csl_errors(outputs, data.splits["validation"], data.grammar, **decode)
        return {f"val_{k}": v for k, v in errors.items() if k != "n"}

    result = train_sequence_regressor(
        model,
        data.tokens("train"),
        data.teachers("train"),
        input_dim=data.input_dim,
        cfg=cfg,
        resume_dir=resume_dir,
        evaluate=evaluate,
        stop_after_epoch=stop_after_epoch,
    )
    outputs = final_outputs(model, data.tokens("test"), data.input_dim)
    metrics = csl_errors(outputs, data.splits["test"], data.grammar, **decode)
    metrics.update(
        cpu_time_s=float(result.cpu_time_s),
        wall_time_s=float(result.history["wall_time_s"].iloc[-1]),
        units=int(spec["units"]),
        train_sentences=len(data.splits["train"]),
        trainable_parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
    )
    return LSTMRun(model=model, metrics=metrics, history=result.history, run_dir=result.run_dir)
