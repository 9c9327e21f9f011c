"""Resumable training of sequence models, one epoch loop and one checkpoint format for all.

Two objectives share it:
- `train_sequence_regressor`: a `SequenceLSTM` regressor (Variengien & Hinaut 2020's Keras
  set-up): MSE on the readout after each sequence's last word, Adam with Keras' settings, batches
  in corpus order.
- `train_sequence_classifier`: a classifier on dense, equal-length sequences (Horoi et al. 2020's
  sequential MNIST): cross-entropy on the logits at the last step, torch's Adam, mini-batches
  shuffled anew each epoch (`ClassifierConfig`).
Only the data check, the batch maker and the loss differ. Every epoch ends with an atomic
checkpoint (model, optimizer, RNG states, history, CPU time) and `latest.json` pointing at it, so
a killed job rerun with the same resume_dir continues where it stopped and ends bit-identical to
an uninterrupted run.

The checkpoints of a run live in `resume_dir/run-<key>`, the key a digest of everything that
shapes the run (model hyperparameters, training settings and seed, training data): a changed
corpus, data seed or model trains afresh beside the old run instead of refusing it, and going
back to the old settings resumes the old run. Only `epochs` (a run may be extended or rewound)
and `threads` stay out of the key.

Snakemake deletes a job's declared outputs before rerunning it: resume_dir must not be one of them.
Every resume file loads with `torch.load(..., weights_only=True)`.

Long because both objectives, the resume/checkpoint machinery and the model I/O helpers live
together: one loop, one checkpoint format.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from rnnatlas.io import atomic_path, read_json
from rnnatlas.models import TORCH_KINDS
from rnnatlas.models.lstm import SequenceLSTM, one_hot_batch
from rnnatlas.seeding import capture_rng_state, restore_rng_state, seed_everything

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1
LATEST_FILE = "latest.json"
MODEL_JSON = "model.json"


class TrainingInterrupted(RuntimeError):
    """Raised by `stop_after_epoch` once that epoch is saved (stands in for a killed job)."""

    def __init__(self, epoch: int) -> None:
        super().__init__(f"training stopped on request after epoch {epoch}")
        self.epoch = epoch


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


@dataclass
class ClassifierConfig(TrainConfig):
    """Horoi et al.'s set-up: 30 epochs, Adam with torch's defaults, shuffled mini-batches of 64
    (the batch size is not published: a [guess])."""

    epochs: int = 30
    batch_size: int = 64
    eps: float = 1e-8  # torch's default
    shuffle: bool = True


@dataclass
class TrainResult:
    history: pd.DataFrame
    cpu_time_s: float
    checkpoints: list[Path] = field(default_factory=list)
    resumed_from_epoch: int = 0  # 0: trained from scratch
    run_dir: Path | None = None  # resume_dir/run-<key>: this run's checkpoints


@dataclass
class _Progress:
    """What a checkpoint carries besides the weights."""

    epoch: int = 0
    step: int = 0
    cpu_time_s: float = 0.0
    wall_time_s: float = 0.0
    history: list[dict] = field(default_factory=list)


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

    inputs: float [N, T, model.input_dim] (all sequences of the same length T); labels: integer
    classes [N] in 0..model.classes-1. The loss is the cross-entropy of the logits after the last
    step, `model(inputs)[:, -1]`; `model(inputs)` must give logits at every step [B, T, classes].
    Pass a `ClassifierConfig` for torch's Adam and shuffled mini-batches (a plain `TrainConfig`
    keeps its Keras epsilon and corpus order). `evaluate` and `stop_after_epoch` work as for
    `train_sequence_regressor`. The history's train_loss is the mean of the batch losses and
    its train_accuracy the fraction of training sequences classified right by the batches'
    forward passes during the epoch (a running figure, as Keras reports it: no extra pass).
    """
    inputs, labels = _check_classification_data(model, inputs, labels)
    device = next(model.parameters()).device
    running = _RunningAccuracy()

    def batches(order: torch.Tensor | None) -> list:
        return _make_dense_batches(inputs, labels, order, cfg.batch_size)

    objective = _Objective(
        description=f"train {type(model).__name__}",
        data_sha256=_dense_data_digest(inputs, labels),
        batches=batches,
        loss=running.loss,
        count=len(labels),
        identity={"loss": "cross_entropy_at_last_step"},
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
    """The epoch loop every objective shares: resume or start, train, checkpoint every epoch."""
    torch.set_num_threads(cfg.threads)
    identity = _run_identity(model, cfg, objective.data_sha256, objective.identity)
    resume_dir = run_directory(resume_dir, identity)
    resume_dir.mkdir(parents=True, exist_ok=True)
    optimizer = _make_optimizer(model, cfg)

    seed_everything(cfg.seed)  # also switches on deterministic kernels when resuming
    state = _resume_or_start(model, optimizer, identity, resume_dir, cfg.epochs)
    resumed_from = state.epoch
    if state.epoch >= cfg.epochs:
        return _result(state, resume_dir, resumed_from)

    # objective.batches reads the tensors its maker moved to the model's device.
    fixed_batches = None if cfg.shuffle else objective.batches(None)
    bar = tqdm(
        total=cfg.epochs,
        initial=state.epoch,
        desc=objective.description,
        unit="epoch",
        disable=not progress,
    )
    try:
        for epoch in range(state.epoch + 1, cfg.epochs + 1):
            if fixed_batches is not None:
                batches = fixed_batches
            else:
                order = epoch_order(objective.count, epoch, cfg.seed)
                batches = objective.batches(order)
            row = _run_epoch(model, optimizer, objective, batches, epoch, state)
            if evaluate is not None:
                row.update(_evaluate(model, evaluate, epoch, reserved=set(row)))
            state.history.append(row)
            _save_checkpoint(resume_dir, model, optimizer, identity, state)
            bar.update(1)
            bar.set_postfix(loss=f"{row['train_loss']:.4g}")
            if stop_after_epoch == epoch:
                raise TrainingInterrupted(epoch)
    finally:
        bar.close()
    return _result(state, resume_dir, resumed_from)


def _run_epoch(model, optimizer, objective: _Objective, batches, epoch: int, state) -> dict:
    """One pass of optimizer steps; advances `state` and returns the epoch's history row."""
    model.train()
    if objective.epoch_metrics is not None:
        objective.epoch_metrics()  # start the epoch's tallies afresh
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    losses = [_optimizer_step(model, optimizer, objective.loss, batch) for batch in batches]
    state.cpu_time_s += time.process_time() - cpu_start
    state.wall_time_s += time.perf_counter() - wall_start
    state.epoch = epoch
    state.step += len(batches)
    extra = {} if objective.epoch_metrics is None else objective.epoch_metrics()
    return {
        "epoch": epoch,
        "step": state.step,
        "train_loss": float(np.mean(losses)),
        **{str(key): _plain_number(key, value) for key, value in extra.items()},
        "cpu_time_s": state.cpu_time_s,
        "wall_time_s": state.wall_time_s,
    }


def _optimizer_step(model, optimizer, loss_of, batch: tuple) -> float:
    optimizer.zero_grad(set_to_none=True)
    loss = loss_of(model, *batch)
    loss.backward()
    optimizer.step()
    return loss.item()


def _regression_loss(model, inputs, lengths, targets) -> torch.Tensor:
    return F.mse_loss(model.last_output(inputs, lengths), targets)  # Keras' MSE: mean over all


class _RunningAccuracy:
    """Cross-entropy at the last step that also counts the batch's right answers."""

    def __init__(self) -> None:
        self.correct, self.seen = 0, 0

    def loss(self, model, inputs, labels) -> torch.Tensor:
        logits = model(inputs)[:, -1]
        self.correct += int((logits.detach().argmax(dim=-1) == labels).sum())
        self.seen += len(labels)
        return F.cross_entropy(logits, labels)  # mean over the batch

    def epoch_metrics(self) -> dict:
        """The tallies since the last call, then reset."""
        metrics = {"train_accuracy": self.correct / self.seen if self.seen else None}
        self.correct, self.seen = 0, 0
        return metrics


def _make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Adam:
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
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
    """float32 inputs [N, T, input_dim] and int64 labels [N], checked, as CPU tensors."""
    for needed in ("input_dim", "classes", "hyperparameters"):
        if not hasattr(model, needed):
            raise TypeError(
                f"train_sequence_classifier: the model has no {needed!r}; it needs input_dim, "
                f"classes, hyperparameters() and forward(inputs) -> logits [B, T, classes]"
            )
    inputs = torch.as_tensor(inputs)
    labels = torch.as_tensor(labels)
    if inputs.dim() != 3 or inputs.shape[2] != model.input_dim:
        raise ValueError(
            f"inputs must be [N, steps, {model.input_dim}] (the model's inputs), "
            f"got shape {list(inputs.shape)}"
        )
    if not inputs.is_floating_point():
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
    inputs = inputs.detach().to("cpu", torch.float32).contiguous()
    if not bool(torch.isfinite(inputs).all()):
        raise ValueError("inputs hold NaN or infinite values")
    return inputs, labels.detach().to("cpu", torch.int64).contiguous()


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
    """The folder of one run's checkpoints under resume_dir, named by a digest of `identity`."""
    text = json.dumps(identity, sort_keys=True)
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


def _epoch_path(resume_dir: Path, epoch: int) -> Path:
    return resume_dir / f"epoch{epoch:03d}.pt"


def _resume_or_start(model, optimizer, identity: dict, resume_dir: Path, epochs: int) -> _Progress:
    """Load the newest usable checkpoint, or save epoch 0 (the untrained model) and start."""
    latest = _latest_epoch(resume_dir)
    if latest is None:
        state = _Progress()
        _save_checkpoint(resume_dir, model, optimizer, identity, state)
        return state
    # A run that went further than asked for is rewound to the epoch asked for.
    epoch = min(latest, epochs)
    checkpoint = load_resume_checkpoint(_epoch_path(resume_dir, epoch))
    refuse_other_run(checkpoint["identity"], identity, resume_dir)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    restore_rng_state(checkpoint["rng"])
    log.info("resuming training from %s (epoch %d)", resume_dir, epoch)
    return _Progress(**checkpoint["progress"])


def _latest_epoch(resume_dir: Path) -> int | None:
    latest_file = resume_dir / LATEST_FILE
    if not latest_file.exists():
        return None
    return int(read_json(latest_file, "the training loop writes it with each checkpoint")["epoch"])


def load_resume_checkpoint(path: Path) -> dict:
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing although {path.parent / LATEST_FILE} points past it; "
            f"delete {path.parent} to train afresh"
        )
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
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


def _save_checkpoint(resume_dir: Path, model, optimizer, identity: dict, state: _Progress) -> Path:
    """Write epoch{k}.pt, then point latest.json at it: latest.json never names a partial file."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "identity": identity,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "progress": asdict(state),
        "rng": capture_rng_state(),
    }
    path = _epoch_path(resume_dir, state.epoch)
    atomic_torch_save(payload, path)
    atomic_write_text(
        resume_dir / LATEST_FILE, json.dumps({"epoch": state.epoch, "checkpoint": path.name})
    )
    return path


def _result(state: _Progress, resume_dir: Path, resumed_from: int) -> TrainResult:
    checkpoints = [_epoch_path(resume_dir, epoch) for epoch in range(1, state.epoch + 1)]
    return TrainResult(
        history=pd.DataFrame(state.history),
        cpu_time_s=state.cpu_time_s,
        checkpoints=checkpoints,
        resumed_from_epoch=resumed_from,
        run_dir=resume_dir,
    )


def atomic_torch_save(obj, path: Path) -> None:
    """torch.save through rnnatlas.io.atomic_path: a killed job leaves no partial file."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


# ----------------------------------------------------------------------- final model, exports


# the `kind` of model.json for each class name (rnnatlas.models.TORCH_KINDS the other way)
_KIND_OF_CLASS = {class_name: kind for kind, (_, class_name) in TORCH_KINDS.items()}


def export_checkpoints(
    resume_dir: Path, dest: Path, epochs: Iterable[int] | None = None
) -> list[Path]:
    """Copy the model weights of saved epochs (0 = untrained) to dest/epoch{k:03d}.pt.

    resume_dir: the run's own folder (`TrainResult.run_dir`).

    `epochs` picks which (default: every saved epoch, 0 to the latest). dest also gets a
    model.json with the model's kind and hyperparameters, so `rnnatlas.models.load(dest /
    "epoch007.pt")` works.
    """
    resume_dir, dest = Path(resume_dir), Path(dest)
    latest = _latest_epoch(resume_dir)
    if latest is None:
        raise FileNotFoundError(f"{resume_dir / LATEST_FILE} is missing: nothing to export")
    selected = list(range(latest + 1)) if epochs is None else sorted({int(e) for e in epochs})
    if not selected or selected[0] < 0 or selected[-1] > latest:
        raise ValueError(
            f"cannot export epochs {selected} from {resume_dir}: it holds epochs 0..{latest}"
        )
    dest.mkdir(parents=True, exist_ok=True)
    exported = []
    for epoch in selected:
        checkpoint = load_resume_checkpoint(_epoch_path(resume_dir, epoch))
        target = dest / f"epoch{epoch:03d}.pt"
        atomic_torch_save(cpu_state_dict(checkpoint["model"]), target)
        exported.append(target)
    hyperparameters = checkpoint["identity"]["model"]
    description = {"hyperparameters": hyperparameters, "extra": {}}
    kind = _KIND_OF_CLASS.get(hyperparameters.get("class"))
    if kind is not None:
        description = {"kind": kind, **description}
    atomic_write_text(dest / MODEL_JSON, json.dumps(description, indent=2))
    return exported


def cpu_state_dict(state_dict: dict) -> dict:
    return {name: tensor.detach().cpu().clone() for name, tensor in state_dict.items()}
