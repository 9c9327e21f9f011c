"""Resumable training: one loop (`run_loop`) and one save format for every model we train.

`run_loop` runs a `Loop`: the optimizer steps of a run and what happens after them (a history
row, a save from which a killed job resumes bit-identically, the weights kept for analyses).
Its schedules:
- epochs, here: `train_sequence_regressor`, a `SequenceLSTM` regressor (Variengien & Hinaut
  2020's Keras set-up: MSE on the readout after each sequence's last word, Adam with Keras'
  settings, batches in corpus order), and `train_sequence_classifier`, a classifier on dense,
  equal-length sequences (Horoi et al. 2020's sequential MNIST: cross-entropy at the last step,
  torch's Adam, mini-batches shuffled anew each epoch, `ClassifierConfig`); a row, a save and
  the weights after every epoch;
- steps: the text8 autocomplete models (`rnnatlas.papers.text8.train`), a row and a save every
  `eval_every` steps, the weights of chosen steps.

The saves of a run live in `resume_dir/run-<key>`, the key a digest of everything that shapes
the run (model hyperparameters, training settings and seed, training data): a changed corpus,
data seed or model trains afresh beside the old run instead of refusing it, and going back to
the old settings resumes the old run. Only the length of the run (epochs, steps: it may be
extended, or rewound to a kept step) and `threads` stay out of the key. Snakemake deletes a
job's declared outputs before rerunning it: resume_dir must not be one of them. Every save
loads with `torch.load(..., weights_only=True)`.

Long because the loop, its two epoch objectives (data checks, batches, losses) and the save,
resume, rewind and export machinery are one thing: one loop, one save format.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from rnnatlas.io import atomic_path, read_json, write_json
from rnnatlas.models import TORCH_KINDS, cpu_state_dict, read_torch, write_torch
from rnnatlas.models.lstm import SequenceLSTM, one_hot_batch
from rnnatlas.seeding import capture_rng_state, restore_rng_state, seed_everything

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 2  # 2: one save per row (older deleted), weights/ kept by step
LATEST_FILE = "latest.json"
MODEL_JSON = "model.json"


class TrainingInterrupted(RuntimeError):
    """Raised by `stop_after_step` (`stop_after_epoch`) once that step and its saves are done:
    a stand-in for a killed job."""

    def __init__(self, step: int) -> None:
        super().__init__(f"training stopped on request after step {step}")
        self.step = step


@dataclass
class TrainConfig:
    """Defaults are Variengien & Hinaut's: 35 epochs, batch 2, Keras' Adam, no shuffling."""

    epochs: int = 35
    batch_size: int = 2
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-7  # Keras' epsilon (torch's default is 1e-8)
    shuffle: bool = False
    seed: int = 0
    threads: int = 1
    optimizer: str = "adam"  # adam | rmsprop (Keras' RMSprop: decay `rho`, no momentum)
    rho: float = 0.9  # RMSprop's decay of the squared-gradient average (Keras' default)


@dataclass
class ClassifierConfig(TrainConfig):
    """Horoi et al.'s set-up: 30 epochs, Adam with torch's defaults, shuffled mini-batches of 64
    (the batch size is not published: a [guess])."""

    epochs: int = 30
    batch_size: int = 64
    eps: float = 1e-8  # torch's default
    shuffle: bool = True
    # cross_entropy (softmax logits); binary_cross_entropy (one sigmoid output, classes 0/1);
    # binary_cross_entropy_on_softmax (Keras' binary_crossentropy on a softmax against one-hot
    # labels, mean over the classes: the quirk of Garcia et al.'s Reuters model)
    loss: str = "cross_entropy"


@dataclass
class TrainResult:
    history: pd.DataFrame
    cpu_time_s: float
    checkpoints: list[Path] = field(default_factory=list)
    resumed_from_epoch: int = 0  # 0: trained from scratch
    run_dir: Path | None = None  # resume_dir/run-<key>: this run's checkpoints


@dataclass
class Progress:
    """What a resume file carries besides the weights, the optimizer and the RNG states."""

    step: int = 0  # optimizer steps done
    epoch: int = 0  # epochs done (epoch schedules; 0 for step schedules)
    cpu_time_s: float = 0.0  # process time of the optimizer steps, summed across resumes
    wall_time_s: float = 0.0  # wall time of the optimizer steps, summed across resumes
    losses: list[float] = field(default_factory=list)  # batch losses since the last history row
    tallies: dict = field(default_factory=dict)  # the objective's own running numbers
    history: list[dict] = field(default_factory=list)


@dataclass
class Loop:
    """One run's schedule: what an objective does at each optimizer step, when a history row is
    written (and the run saved, so it resumes from there), which weights are kept.

    Epoch schedules (`train_sequence_regressor`, `train_sequence_classifier`) write a row at the
    end of every epoch and keep every epoch's weights; step schedules (the text8 models) write
    one every `eval_every` steps and keep chosen steps.
    """

    steps: int  # optimizer steps in all
    step: Callable[[int, Progress], float]  # run 1-based optimizer step k; its batch loss
    row_due: Callable[[int], bool]  # a history row, and a resume save, after step k
    row: Callable[[int, Progress], dict]  # that row (progress.losses: the losses since the last)
    keep: Callable[[int], bool] = lambda step: False  # keep step k's weights (for analyses)
    description: str = "train"  # the progress bar's
    unit: str = "step"
    bar_total: int | None = None  # the bar counts rows (epochs) when given, else steps


# ----------------------------------------------------------------------------------- training


@dataclass
class _Objective:
    """What differs between training tasks; everything else is the shared loop `_train`."""

    description: str  # progress bar
    data_sha256: str  # digest of the training data, part of the run's identity
    batches: Callable[[torch.Tensor | None], list]  # epoch order (None: data order) -> batches
    loss: Callable[..., torch.Tensor]  # loss(model, *batch) -> scalar
    count: int  # training sequences
    identity: dict = field(default_factory=dict)  # extra identity entries of "training"
    # called once before and once after each epoch's steps; after: numbers for the history row
    epoch_metrics: Callable[[], dict] | None = None


def train_sequence_regressor(
    model: SequenceLSTM,
    train_tokens: list[np.ndarray],
    train_targets: np.ndarray,
    input_dim: int,
    cfg: TrainConfig,
    resume_dir: Path,
    evaluate: Callable[[SequenceLSTM, int], dict] | None = None,
    progress: bool = True,
    stop_after_epoch: int | None = None,
) -> TrainResult:
    """Train `model` in place, resuming from `resume_dir` when it holds a checkpoint of this run.

    `evaluate(model, epoch)` runs after each epoch (1-based, under no_grad, model in eval mode);
    the numbers it returns join that epoch's history row. cpu_time_s and wall_time_s count the
    optimisation steps only (not evaluation or checkpoint writing), summed across resumes.
    """
    _check_training_data(model, train_tokens, train_targets, input_dim)
    inputs, lengths = one_hot_batch(train_tokens, input_dim)
    targets = torch.as_tensor(np.asarray(train_targets), dtype=torch.float32)
    device = next(model.parameters()).device

    def batches(order: torch.Tensor | None) -> list:
        return _make_batches(inputs, lengths, targets, order, cfg)

    objective = _Objective(
        description="train LSTM",
        data_sha256=_token_data_digest(train_tokens, targets),
        batches=batches,
        loss=_regression_loss,
        count=len(targets),
    )
    inputs, lengths, targets = inputs.to(device), lengths.to(device), targets.to(device)
    return _train(model, objective, cfg, resume_dir, evaluate, progress, stop_after_epoch)


def train_sequence_classifier(
    model: torch.nn.Module,
    inputs: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    cfg: TrainConfig,
    resume_dir: Path,
    evaluate: Callable[[torch.nn.Module, int], dict] | None = None,
    progress: bool = True,
    stop_after_epoch: int | None = None,
) -> TrainResult:
    """Train a sequence classifier in place on dense sequences, resumably (see the regressor).

    inputs: float [N, T, model.input_dim] (all sequences of the same length T), or token ids
    [N, T] for a model with `token_inputs` (an embedding; ids below model.vocabulary); labels:
    integer classes [N] in 0..model.classes-1. The loss (`cfg.loss`, see ClassifierConfig) reads
    the logits after the last step, `model(inputs)[:, -1]`; `model(inputs)` must give logits at
    every step [B, T, classes] (or [B, T, 1] for the sigmoid of binary_cross_entropy).
    Pass a `ClassifierConfig` for torch's Adam and shuffled mini-batches (a plain `TrainConfig`
    keeps its Keras epsilon and corpus order). `evaluate` and `stop_after_epoch` work as for
    `train_sequence_regressor`. The history's train_loss is the mean of the batch losses and
    its train_accuracy the fraction of training sequences classified right by the batches'
    forward passes during the epoch (a running figure, as Keras reports it: no extra pass).
    """
    inputs, labels = _check_classification_data(model, inputs, labels)
    device = next(model.parameters()).device
    running = _RunningAccuracy(getattr(cfg, "loss", "cross_entropy"), model.classes)

    def batches(order: torch.Tensor | None) -> list:
        return _make_dense_batches(inputs, labels, order, cfg.batch_size)

    objective = _Objective(
        description=f"train {type(model).__name__}",
        data_sha256=_dense_data_digest(inputs, labels),
        batches=batches,
        loss=running.loss,
        count=len(labels),
        identity={"loss": f"{running.name}_at_last_step"},
        epoch_metrics=running.epoch_metrics,
    )
    inputs, labels = inputs.to(device), labels.to(device)
    return _train(model, objective, cfg, resume_dir, evaluate, progress, stop_after_epoch)


def _train(
    model,
    objective: _Objective,
    cfg: TrainConfig,
    resume_dir: Path,
    evaluate,
    progress: bool,
    stop_after_epoch: int | None,
) -> TrainResult:
    """An epoch schedule of the one loop (`run_loop`): a history row, a save and the weights
    kept after every epoch; an epoch's batches in data order or shuffled from (seed, epoch)."""
    torch.set_num_threads(cfg.threads)
    identity = _run_identity(model, cfg, objective.data_sha256, objective.identity)
    optimizer = _make_optimizer(model, cfg)
    per_epoch = math.ceil(objective.count / cfg.batch_size)
    seed_everything(cfg.seed)  # also switches on deterministic kernels when resuming
    # objective.batches reads the tensors its maker moved to the model's device.
    fixed_batches = None if cfg.shuffle else objective.batches(None)
    current: dict[int, list] = {}  # the running epoch's batches

    def step(k: int, state: Progress) -> float:
        epoch, index = divmod(k - 1, per_epoch)
        if index == 0:  # an epoch starts: its batches, its tallies afresh
            order = (
                None
                if fixed_batches is not None
                else epoch_order(objective.count, epoch + 1, cfg.seed)
            )
            current.clear()
            current[epoch] = fixed_batches if order is None else objective.batches(order)
            if objective.epoch_metrics is not None:
                objective.epoch_metrics()
        return _optimizer_step(model, optimizer, objective.loss, current[epoch][index])

    def row(k: int, state: Progress) -> dict:
        state.epoch = k // per_epoch
        extra = {} if objective.epoch_metrics is None else objective.epoch_metrics()
        entry = {
            "epoch": state.epoch,
            "step": k,
            "train_loss": float(np.mean(state.losses)),
            **{str(key): _plain_number(key, value) for key, value in extra.items()},
            "cpu_time_s": state.cpu_time_s,
            "wall_time_s": state.wall_time_s,
        }
        if evaluate is not None:
            entry.update(_evaluate(model, evaluate, state.epoch, reserved=set(entry)))
        return entry

    def epoch_end(k: int) -> bool:
        return k % per_epoch == 0

    loop = Loop(
        steps=cfg.epochs * per_epoch,
        step=step,
        row_due=epoch_end,
        row=row,
        keep=epoch_end,
        description=objective.description,
        unit="epoch",
        bar_total=cfg.epochs,
    )
    stop_after = None if stop_after_epoch is None else stop_after_epoch * per_epoch
    state, run_dir, resumed_from = run_loop(
        model, optimizer, identity, resume_dir, loop, progress=progress, stop_after_step=stop_after
    )
    return TrainResult(
        history=pd.DataFrame(state.history),
        cpu_time_s=state.cpu_time_s,
        checkpoints=[weights_path(run_dir, entry["step"]) for entry in state.history],
        resumed_from_epoch=resumed_from // per_epoch,
        run_dir=run_dir,
    )


def run_loop(
    model,
    optimizer,
    identity: dict,
    resume_dir: Path,
    loop: Loop,
    progress: bool = True,
    stop_after_step: int | None = None,
) -> tuple[Progress, Path, int]:
    """The one resumable training loop: resume this run (or start it), run the remaining
    optimizer steps of `loop`, write its history rows, saves and kept weights.

    The run lives in `resume_dir/run-<key>` (`run_directory`). After every history row (and
    at every kept step) the model, the optimizer, the RNG states and the progress are saved
    atomically and `latest.json` points at them, so a killed run restarted with the same
    resume_dir continues from there and ends bit-identical to an uninterrupted one. A run that
    went further than `loop.steps` is rewound to it when that step's weights were kept.
    `stop_after_step` raises TrainingInterrupted right after that step and its regular saves
    (a stand-in for a kill in tests). Returns (progress, the run's folder, the step resumed
    from).
    """
    run_dir = run_directory(resume_dir, identity)
    run_dir.mkdir(parents=True, exist_ok=True)
    state = _resume_or_start(model, optimizer, identity, run_dir, loop.steps)
    resumed_from = state.step
    if state.step >= loop.steps:
        return state, run_dir, resumed_from
    model.train()
    rows_done = len(state.history)
    bar = tqdm(
        total=loop.bar_total or loop.steps,
        initial=rows_done if loop.bar_total else state.step,
        desc=loop.description,
        unit=loop.unit,
        disable=not progress,
    )
    try:
        for k in range(state.step + 1, loop.steps + 1):
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            loss = loop.step(k, state)
            state.cpu_time_s += time.process_time() - cpu_start
            state.wall_time_s += time.perf_counter() - wall_start
            state.step = k
            state.losses.append(loss)
            due = loop.row_due(k) or k == loop.steps
            if due:
                entry = loop.row(k, state)
                state.history.append(entry)
                state.losses = []
                bar.set_postfix(loss=f"{entry['train_loss']:.4g}")
            kept = loop.keep(k) or k == loop.steps
            if kept:
                _save_weights(run_dir, model, k)
            if due or kept:
                _save_state(run_dir, model, optimizer, identity, state)
            bar.update(int(due) if loop.bar_total else 1)
            if stop_after_step == k:
                raise TrainingInterrupted(k)
    finally:
        bar.close()
    return state, run_dir, resumed_from


def _optimizer_step(model, optimizer, loss_of, batch: tuple) -> float:
    optimizer.zero_grad(set_to_none=True)
    loss = loss_of(model, *batch)
    loss.backward()
    optimizer.step()
    return loss.item()


def _regression_loss(model, inputs, lengths, targets) -> torch.Tensor:
    return F.mse_loss(model.last_output(inputs, lengths), targets)  # Keras' MSE: mean over all


CLASSIFIER_LOSSES = ("cross_entropy", "binary_cross_entropy", "binary_cross_entropy_on_softmax")


class _RunningAccuracy:
    """A classification loss at the last step that also counts the batch's right answers."""

    def __init__(self, name: str = "cross_entropy", classes: int = 2) -> None:
        if name not in CLASSIFIER_LOSSES:
            raise ValueError(f"unknown classifier loss {name!r}; one of {CLASSIFIER_LOSSES}")
        self.name, self.classes = name, classes
        self.correct, self.seen = 0, 0

    def loss(self, model, inputs, labels) -> torch.Tensor:
        logits = model(inputs)[:, -1]
        if self.name == "binary_cross_entropy":
            if logits.shape[-1] != 1:
                raise ValueError(
                    f"binary_cross_entropy reads one sigmoid output; the model has "
                    f"{logits.shape[-1]}: use cross_entropy"
                )
            predicted = (logits.detach()[:, 0] > 0).long()
            loss = F.binary_cross_entropy_with_logits(logits[:, 0], labels.float())
        else:
            predicted = logits.detach().argmax(dim=-1)
            if self.name == "cross_entropy":
                loss = F.cross_entropy(logits, labels)  # mean over the batch
            else:  # Keras: elementwise BCE of the softmax against one-hot, mean over classes
                probabilities = torch.softmax(logits, dim=-1).clamp(1e-7, 1 - 1e-7)
                one_hot = F.one_hot(labels, logits.shape[-1]).float()
                loss = F.binary_cross_entropy(probabilities, one_hot)
        self.correct += int((predicted == labels).sum())
        self.seen += len(labels)
        return loss

    def epoch_metrics(self) -> dict:
        """The tallies since the last call, then reset."""
        metrics = {"train_accuracy": self.correct / self.seen if self.seen else None}
        self.correct, self.seen = 0, 0
        return metrics


def _make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    if cfg.optimizer == "rmsprop":  # Keras' RMSprop: v = rho v + (1 - rho) g^2, no momentum
        return torch.optim.RMSprop(trainable, lr=cfg.lr, alpha=cfg.rho, eps=cfg.eps)
    if cfg.optimizer != "adam":
        raise ValueError(f"unknown optimizer {cfg.optimizer!r}; adam or rmsprop")
    return torch.optim.Adam(trainable, lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.eps)


def _make_batches(inputs, lengths, targets, order: torch.Tensor | None, cfg: TrainConfig) -> list:
    """Slice the padded corpus into batches once, each trimmed to its own longest sequence."""
    count = len(targets)
    batches = []
    for start in range(0, count, cfg.batch_size):
        if order is None:
            rows = slice(start, start + cfg.batch_size)  # a view: no copy
        else:
            rows = order[start : start + cfg.batch_size].to(inputs.device)
        batch_lengths = lengths[rows]
        longest = int(batch_lengths.max())
        batches.append((inputs[rows, :longest], batch_lengths, targets[rows]))
    return batches


def _make_dense_batches(
    inputs: torch.Tensor, labels: torch.Tensor, order: torch.Tensor | None, batch_size: int
) -> list:
    """(inputs, labels) batches of equal-length sequences; slices (views) in data order."""
    batches = []
    for start in range(0, len(labels), batch_size):
        if order is None:
            rows = slice(start, start + batch_size)
        else:
            rows = order[start : start + batch_size].to(inputs.device)
        batches.append((inputs[rows], labels[rows]))
    return batches


def epoch_order(count: int, epoch: int, seed: int) -> torch.Tensor:
    """The shuffle of one epoch depends only on (seed, epoch), so a resumed run redraws it."""
    generator_seed = int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])
    generator = torch.Generator().manual_seed(generator_seed)
    return torch.randperm(count, generator=generator)


def _evaluate(model, evaluate, epoch: int, reserved: set[str]) -> dict:
    model.eval()
    with torch.no_grad():
        metrics = evaluate(model, epoch) or {}
    model.train()
    clash = reserved.intersection(metrics)  # the keys the epoch's row already has
    if clash:
        raise ValueError(f"evaluate() returned reserved history keys {sorted(clash)}")
    return {str(key): _plain_number(key, value) for key, value in metrics.items()}


def _plain_number(key, value):
    """NumPy/torch scalars to Python ones, which weights_only checkpoints can hold."""
    if hasattr(value, "item"):
        value = value.item()
    if value is not None and not isinstance(value, (bool, int, float, str)):
        raise TypeError(f"evaluate() returned {key}={value!r}; return plain numbers")
    return value


def _check_training_data(model, train_tokens, train_targets, input_dim: int) -> None:
    targets_shape = np.shape(train_targets)
    if input_dim != model.input_dim:
        raise ValueError(f"input_dim={input_dim} but the model takes {model.input_dim} inputs")
    if len(targets_shape) != 2 or targets_shape[1] != model.output_dim:
        raise ValueError(
            f"train_targets must be [N, {model.output_dim}] (the model's outputs), "
            f"got shape {targets_shape}"
        )
    if len(train_tokens) != targets_shape[0] or len(train_tokens) == 0:
        raise ValueError(
            f"{len(train_tokens)} training sequences but {targets_shape[0]} targets; "
            "need the same positive number of each"
        )


def _check_classification_data(model, inputs, labels) -> tuple[torch.Tensor, torch.Tensor]:
    """float32 inputs [N, T, input_dim] (int64 token ids [N, T] for a model with
    `token_inputs`) and int64 labels [N], checked, as CPU tensors."""
    needs = ("vocabulary",) if getattr(model, "token_inputs", False) else ("input_dim",)
    for needed in (*needs, "classes", "hyperparameters"):
        if not hasattr(model, needed):
            raise TypeError(
                f"train_sequence_classifier: the model has no {needed!r}; it needs input_dim, "
                f"classes, hyperparameters() and forward(inputs) -> logits [B, T, classes]"
            )
    inputs = torch.as_tensor(inputs)
    labels = torch.as_tensor(labels)
    if getattr(model, "token_inputs", False):
        inputs = _check_token_inputs(model, inputs)
    elif inputs.dim() != 3 or inputs.shape[2] != model.input_dim:
        raise ValueError(
            f"inputs must be [N, steps, {model.input_dim}] (the model's inputs), "
            f"got shape {list(inputs.shape)}"
        )
    elif not inputs.is_floating_point():
        raise ValueError(
            f"inputs must be floating point, got {inputs.dtype}: scale pixels first "
            f"(rnnatlas.papers.mnist.data.as_sequences)"
        )
    if inputs.shape[0] == 0 or inputs.shape[1] == 0:
        raise ValueError(f"inputs of shape {list(inputs.shape)}: no sequences or no steps")
    if labels.shape != (inputs.shape[0],):
        raise ValueError(
            f"labels must be [N] with N = {inputs.shape[0]} (one per sequence), "
            f"got shape {list(labels.shape)}"
        )
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise ValueError(f"labels must be integer classes, got {labels.dtype}")
    if int(labels.min()) < 0 or int(labels.max()) >= model.classes:
        raise ValueError(
            f"labels range over {int(labels.min())}..{int(labels.max())}; "
            f"the model has classes 0..{model.classes - 1}"
        )
    labels = labels.detach().to("cpu", torch.int64).contiguous()
    if getattr(model, "token_inputs", False):
        return inputs, labels
    inputs = inputs.detach().to("cpu", torch.float32).contiguous()
    if not bool(torch.isfinite(inputs).all()):
        raise ValueError("inputs hold NaN or infinite values")
    return inputs, labels


def _check_token_inputs(model, inputs: torch.Tensor) -> torch.Tensor:
    """int64 token ids [N, T] below model.vocabulary, as a CPU tensor."""
    from rnnatlas.models.text_classifier import check_token_ids

    check_token_ids(inputs, model.vocabulary)
    return inputs.detach().to("cpu", torch.int64).contiguous()


def _token_data_digest(train_tokens, targets: torch.Tensor) -> str:
    digest = hashlib.sha256()
    for tokens in train_tokens:
        array = np.ascontiguousarray(tokens, dtype=np.int64)
        digest.update(len(array).to_bytes(8, "little"))
        digest.update(array.tobytes())
    digest.update(targets.contiguous().numpy().tobytes())
    return digest.hexdigest()


def _dense_data_digest(inputs: torch.Tensor, labels: torch.Tensor) -> str:
    digest = hashlib.sha256()
    for size in inputs.shape:
        digest.update(int(size).to_bytes(8, "little"))
    digest.update(inputs.contiguous().numpy().tobytes())
    digest.update(labels.contiguous().numpy().tobytes())
    return digest.hexdigest()


def run_directory(resume_dir: Path, identity: dict) -> Path:
    """The folder of one run's saves under resume_dir, named by a digest of `identity` (and of
    the save format: saves of another format are never resumed)."""
    text = json.dumps({"format": CHECKPOINT_FORMAT, **identity}, sort_keys=True)
    return Path(resume_dir) / f"run-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _run_identity(model, cfg: TrainConfig, data_sha256: str, extra: dict | None = None) -> dict:
    """What must match for a checkpoint to be resumed: model, optimisation settings and data.

    `epochs` (training may be extended) and `threads` (speed only) are left out; `extra` joins
    the training settings (e.g. the loss of an objective).
    """
    training = asdict(cfg)
    del training["epochs"], training["threads"]
    training.update(extra or {})
    identity = {
        "model": model.hyperparameters(),
        "training": training,
        "data_sha256": data_sha256,
    }
    return json.loads(json.dumps(identity))  # tuples -> lists, as they come back from a file


# ------------------------------------------------------------------------------- checkpoints


def weights_path(run_dir: Path, step: int) -> Path:
    """Where a run keeps the weights (a plain state dict) of optimizer step `step`."""
    return Path(run_dir) / "weights" / f"step{step:07d}.pt"


def _state_path(run_dir: Path, step: int) -> Path:
    return run_dir / f"state_step{step:07d}.pt"


def _resume_or_start(model, optimizer, identity: dict, run_dir: Path, steps: int) -> Progress:
    """Load this run's latest save, or keep the untrained weights (step 0) and start."""
    latest_file = run_dir / LATEST_FILE
    if not latest_file.exists():
        state = Progress()
        _save_weights(run_dir, model, 0)
        _save_state(run_dir, model, optimizer, identity, state)
        return state
    latest = read_json(latest_file, "the training loop writes it with each save")
    checkpoint = load_resume_checkpoint(run_dir / latest["checkpoint"])
    refuse_other_run(checkpoint["identity"], identity, run_dir)
    state = Progress(**checkpoint["progress"])
    if state.step > steps:
        return _rewind(model, run_dir, state, steps)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    restore_rng_state(checkpoint["rng"])
    log.info("resuming training from %s (step %d)", run_dir, state.step)
    return state


def _rewind(model, run_dir: Path, state: Progress, steps: int) -> Progress:
    """A run asked for fewer steps than it has done: its weights and history at that step."""
    rows = [entry for entry in state.history if entry["step"] <= steps]
    weights = weights_path(run_dir, steps)
    if not weights.exists() or not rows or rows[-1]["step"] != steps:
        raise ValueError(
            f"{run_dir} holds step {state.step}, past the {steps} steps asked for, and did not "
            f"keep step {steps}: ask for more steps or delete {run_dir} to train afresh"
        )
    model.load_state_dict(read_torch(weights))
    log.info("rewound %s from step %d to step %d", run_dir, state.step, steps)
    last = rows[-1]
    return Progress(
        step=steps,
        epoch=int(last.get("epoch", 0)),
        cpu_time_s=float(last.get("cpu_time_s", 0.0)),
        wall_time_s=float(last.get("wall_time_s", 0.0)),
        history=rows,
    )


def load_resume_checkpoint(path: Path) -> dict:
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing although {path.parent / LATEST_FILE} points past it; "
            f"delete {path.parent} to train afresh"
        )
    checkpoint = read_torch(path)
    if checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: unknown checkpoint format {checkpoint.get('format')!r}")
    return checkpoint


def refuse_other_run(saved: dict, current: dict, resume_dir: Path) -> None:
    differences = []
    for section in ("model", "training"):
        for key in sorted(set(saved[section]) | set(current[section])):
            before, now = saved[section].get(key), current[section].get(key)
            if before != now:
                differences.append(f"{section}.{key}: checkpoint {before!r}, now {now!r}")
    if saved["data_sha256"] != current["data_sha256"]:
        differences.append("training data differ")
    if differences:
        raise ValueError(
            f"cannot resume from {resume_dir}: it holds a different run ("
            + "; ".join(differences)
            + f"). Delete {resume_dir} or choose another resume_dir to train afresh."
        )


def _save_state(run_dir: Path, model, optimizer, identity: dict, state: Progress) -> None:
    """Write the step's save, point latest.json at it (it never names a partial file), then
    delete the older saves: the kept weights are what analyses read."""
    path = _state_path(run_dir, state.step)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "identity": identity,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "progress": asdict(state),
        "rng": capture_rng_state(),
    }
    write_torch(payload, path)
    write_json(run_dir / LATEST_FILE, {"step": state.step, "checkpoint": path.name})
    for older in run_dir.glob("state_step*.pt"):
        if older != path:
            older.unlink(missing_ok=True)


def _save_weights(run_dir: Path, model, step: int) -> None:
    write_torch(cpu_state_dict(model), weights_path(run_dir, step))


# ----------------------------------------------------------------------- final model, exports


# the `kind` of model.json for each class name (rnnatlas.models.TORCH_KINDS the other way)
_KIND_OF_CLASS = {class_name: kind for kind, (_, class_name) in TORCH_KINDS.items()}


def export_checkpoints(
    run_dir: Path, dest: Path, epochs: Iterable[int] | None = None
) -> list[Path]:
    """Copy the kept weights of an epoch schedule's epochs (0 = untrained) to
    dest/epoch{k:03d}.pt.

    run_dir: the run's own folder (`TrainResult.run_dir`). `epochs` picks which (default: every
    epoch, 0 to the latest). dest also gets a model.json with the model's kind and
    hyperparameters, so `rnnatlas.models.load(dest / "epoch007.pt")` works.
    """
    run_dir, dest = Path(run_dir), Path(dest)
    latest_file = run_dir / LATEST_FILE
    if not latest_file.exists():
        raise FileNotFoundError(f"{latest_file} is missing: nothing to export")
    latest = read_json(latest_file, "the training loop writes it with each save")
    checkpoint = load_resume_checkpoint(run_dir / latest["checkpoint"])
    step_of = {0: 0} | {
        entry["epoch"]: entry["step"] for entry in checkpoint["progress"]["history"]
    }
    last = max(step_of)
    selected = list(range(last + 1)) if epochs is None else sorted({int(e) for e in epochs})
    if not selected or selected[0] < 0 or selected[-1] > last:
        raise ValueError(
            f"cannot export epochs {selected} from {run_dir}: it holds epochs 0..{last}"
        )
    dest.mkdir(parents=True, exist_ok=True)
    exported = []
    for epoch in selected:
        target = dest / f"epoch{epoch:03d}.pt"
        with atomic_path(target) as tmp:
            shutil.copyfile(weights_path(run_dir, step_of[epoch]), tmp)
        exported.append(target)
    hyperparameters = checkpoint["identity"]["model"]
    description = {"hyperparameters": hyperparameters, "extra": {}}
    kind = _KIND_OF_CLASS.get(hyperparameters.get("class"))
    if kind is not None:
        description = {"kind": kind, **description}
    write_json(dest / MODEL_JSON, description)
    return exported
