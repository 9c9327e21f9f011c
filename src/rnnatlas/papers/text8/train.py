"""The text8 autocomplete steps of Madsen 2019 that the Snakemake rules call.

- `train_step`: one `AutocompleteModel` (GRU, LSTM or Nested LSTM), trained for a number of
  optimizer steps, resumably.
- `evaluate_step`: the test table (cross-entropy, accuracy) and the accuracy given letters known.
- `states_step`: hidden states after every character in the states schema.
- `autocomplete_demo`: the top words after each character of a text (the paper's demo).

Data (rnnatlas.papers.text8.dataset): the train, valid and test split files, one row per
observation: observation_id int64, source list<int8> (0 <eos>/pad, 1 space, 2..27 a-z),
target list<int32> (word ids: 0 <eos>, 1 <unknown>, 2.. words; as long as source), length int32;
`card.json` with vocabulary (index = word id), symbols (28 strings) and vocabulary_bits.

Training, as the author's code (distillpub/post--memorization-in-rnns): batches of 64
observations padded to the batch's longest, softmax cross-entropy at every character with
`<eos>` and `<unknown>` targets masked and averaged over the batch's scored characters, Adam with
its defaults (lr 1e-3, betas 0.9/0.999, eps 1e-8: TF1's and torch's agree). Steps, not epochs:
the batches cycle through epochs, each a permutation drawn from (seed, epoch) alone, so a
resumed run draws the same batches. The dense layer is applied only at the scored characters
(the loss is the same; padding costs nothing).

Training runs in the one loop of `rnnatlas.training` (a step schedule: a history row and a
save every `eval_every` steps, the weights of `checkpoint_steps` kept), so a killed job rerun
with the same resume_dir continues from the last save and ends bit-identical to an
uninterrupted run; resume_dir must not be a declared output of the rule.

Long because training, evaluation (the paper's two metrics), the states dump and the demo read
the same model and split format.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from rnnatlas.io import atomic_path, read_json, write_json, write_parquet
from rnnatlas.models import save
from rnnatlas.models.autocomplete import CELLS, AutocompleteModel, parameter_counts
from rnnatlas.papers.text8.dataset import Text8Split, read_card, read_split
from rnnatlas.papers.text8.metrics import (
    AutocompleteScores,
    masked_cross_entropy,
    scored_mask,
)
from rnnatlas.seeding import seed_everything
from rnnatlas.training import (
    Loop,
    Progress,
    TrainingInterrupted,
    epoch_order,
    run_loop,
    weights_path,
)

log = logging.getLogger("rnnatlas")

SPLITS = ("train", "valid", "test")
SPEC_KEYS = ("kind", "units", "steps", "eval_every", "eval_batches", "checkpoint_steps")
SPEC_DEFAULTS = {"batch": 64, "lr": 1e-3, "compile_cell": False}
HISTORY_COLUMNS = ("step", "train_loss", "valid_loss", "seconds")
EVAL_BATCH = 16  # the author's quantitative test batch (count_padding depends on it)
OUTPUT_KEYS = ("model", "card", "history", "metrics", "checkpoints")
LATEST_FILE = "latest.json"
DEMO_TEXT = "parts of north africa"


# stop_after_step raises it (rnnatlas.training's), a stand-in for a killed job in tests
TrainingStopped = TrainingInterrupted


# ---- training ---------------------------------------------------------------------------------


def check_spec(spec: Mapping) -> dict:
    """The training spec with defaults filled in; ValueError names the bad field."""
    missing = [key for key in SPEC_KEYS if key not in spec]
    if missing:
        raise ValueError(
            f"the text8 model spec lacks {missing}; it needs {', '.join(SPEC_KEYS)} (e.g. kind: "
            f"gru, units: 600, steps: 14278, eval_every: 100, eval_batches: 10, "
            f"checkpoint_steps: [1000]) and may set batch (64) and lr (0.001)"
        )
    unknown = sorted(set(spec) - set(SPEC_KEYS) - set(SPEC_DEFAULTS))
    if unknown:
        raise ValueError(f"the text8 model spec has unknown key(s) {unknown}")
    checked = {**SPEC_DEFAULTS, **spec}
    if checked["kind"] not in CELLS:
        raise ValueError(f"spec.kind must be one of {CELLS}, got {checked['kind']!r}")
    for key in ("units", "steps", "eval_every", "batch"):
        checked[key] = _positive_int(f"spec.{key}", checked[key])
    if checked["eval_batches"] is not None:
        checked["eval_batches"] = _positive_int("spec.eval_batches", checked["eval_batches"])
    lr = checked["lr"]
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"spec.lr must be a positive number, got {lr!r}")
    checked["lr"] = float(lr)
    if not isinstance(checked["compile_cell"], bool):
        raise ValueError(
            f"spec.compile_cell must be true or false, got {checked['compile_cell']!r}"
        )
    steps = []
    for value in checked["checkpoint_steps"]:
        if isinstance(value, bool) or int(value) != value or not 0 <= value <= checked["steps"]:
            raise ValueError(
                f"spec.checkpoint_steps holds {value!r}; every entry must be an integer in "
                f"0..{checked['steps']} (spec.steps)"
            )
        steps.append(int(value))
    checked["checkpoint_steps"] = sorted(set(steps))
    return checked


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def train_step(
    data: Mapping[str, Path],
    outputs: Mapping[str, Path],
    spec: Mapping,
    seed: int,
    resume_dir: Path,
    threads: int = 1,
    name: str | None = None,
    device: str = "cpu",
    progress: bool = True,
    stop_after_step: int | None = None,
) -> dict:
    """Train one autocomplete model; write its outputs and return metrics.json.

    data: {"train", "valid", "card"} -> the split files and the data's card.json.

    spec: kind ("gru", "lstm", "nlstm"), units, steps (optimizer steps), eval_every (steps per
    history row), eval_batches (validation batches per row, the first ones of valid.parquet in
    file order; null: all), checkpoint_steps (weights kept for analyses across training; 0 and
    `steps` are always kept), batch (64), lr (0.001), compile_cell (false: torch.compile the
    Nested LSTM's step, see benchmarks/text8_gpu_runbook.py).
    outputs: "model" (model.pt, the state dict, loads with weights_only=True), "card"
    (model.json: kind "autocomplete", the cell and hyperparameters), "history" (history.parquet:
    step; train_loss, the mean batch loss since the previous row; valid_loss, the masked
    cross-entropy over the scored characters of eval_batches validation batches; seconds,
    cumulative optimisation wall time), "metrics" (metrics.json), "checkpoints" (a folder:
    step{NNNNNNN}.pt + model.json).
    threads: torch's CPU threads. device: where to train ("cuda" at paper scale; a run resumed
    on another device continues, but is bit-identical only on the same one). stop_after_step:
    raise TrainingStopped after that step, saving nothing extra (a stand-in for a kill in tests).
    """
    spec = check_spec(spec)
    torch.set_num_threads(threads)
    name = name or spec["kind"]
    missing = [key for key in ("train", "valid", "card") if key not in data]
    missing += [key for key in OUTPUT_KEYS if key not in outputs]
    if missing:
        raise ValueError(f"train_step lacks the path of {missing}")
    card = read_card(data["card"])
    train = read_split(data["train"], card)
    valid = read_split(data["valid"], card)
    seed_everything(seed)  # the initial weights; also switches on deterministic kernels
    model = AutocompleteModel(
        spec["kind"], spec["units"], classes=len(card["vocabulary"]), symbols=len(card["symbols"])
    ).to(device)
    if spec["compile_cell"]:  # the same numbers within float tolerance: not part of the identity
        model.compile_cells()
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=spec["lr"])
    identity = _run_identity(model, spec, seed, train.sha256())
    orders: dict[int, np.ndarray] = {}

    def step(k: int, state: Progress) -> float:
        rows = _batch_rows(k, len(train), spec["batch"], seed, orders)
        tokens, targets, lengths = train.batch(rows, device)
        state.tallies["characters"] = state.tallies.get("characters", 0) + int(lengths.sum())
        return _optimizer_step(model, optimizer, tokens, targets)

    def row(k: int, state: Progress) -> dict:
        valid_loss = validation_loss(model, valid, spec["eval_batches"], spec["batch"], device)
        train_loss = sum(state.losses) / len(state.losses)  # as the running sum always was
        return {"step": k, "train_loss": train_loss, "valid_loss": valid_loss,
                "seconds": state.wall_time_s}  # fmt: skip

    kept = {spec["steps"], *spec["checkpoint_steps"]}
    loop = Loop(
        steps=spec["steps"],
        step=step,
        row_due=lambda k: k % spec["eval_every"] == 0,
        row=row,
        keep=kept.__contains__,
        description=f"train {name}",
    )
    state, run_dir, _ = run_loop(
        model, optimizer, identity, resume_dir, loop, progress=progress,
        stop_after_step=stop_after_step,
    )  # fmt: skip
    model.eval()
    return _write_outputs(model, card, spec, seed, name, state, train, valid, run_dir, outputs)


def _run_identity(model: AutocompleteModel, spec: dict, seed: int, data_sha256: str) -> dict:
    """What must match for a resume file to be continued. steps may grow; checkpoint_steps
    only decide which weights are kept."""
    training = {
        key: spec[key] for key in ("batch", "lr", "eval_every", "eval_batches") if key in spec
    }
    training.update(
        seed=seed,
        optimizer="adam(betas=(0.9, 0.999), eps=1e-8)",
        loss="masked_cross_entropy",
        order="per-epoch permutation from (seed, epoch)",
    )
    identity = {"model": model.hyperparameters(), "training": training, "data_sha256": data_sha256}
    return json.loads(json.dumps(identity))


def _batch_rows(step: int, count: int, batch: int, seed: int, orders: dict) -> np.ndarray:
    """Rows of 1-based optimizer step `step`: epochs of ceil(count / batch) batches, each epoch
    a permutation drawn from (seed, epoch) only (the last batch of an epoch may be short)."""
    per_epoch = math.ceil(count / batch)
    epoch, index = divmod(step - 1, per_epoch)
    epoch += 1
    if epoch not in orders:
        orders.clear()  # one epoch's order at a time
        orders[epoch] = epoch_order(count, epoch, seed).numpy()
    return orders[epoch][index * batch : (index + 1) * batch]


def _optimizer_step(model, optimizer, tokens: torch.Tensor, targets: torch.Tensor) -> float:
    optimizer.zero_grad(set_to_none=True)
    mask = scored_mask(targets)
    # The dense layer only where the loss looks: the same loss, no work on padding.
    logits = model.readout(model.hidden(tokens)[mask])
    loss = masked_cross_entropy(logits, targets[mask])
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def validation_loss(
    model, split: Text8Split, batches: int | None, batch: int, device="cpu"
) -> float:
    """Masked cross-entropy over the scored characters of the first `batches` batches of a
    split in file order (None: the whole split)."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    starts = range(0, len(split), batch)
    if batches is not None:
        starts = starts[:batches]
    for start in starts:
        tokens, targets, _ = split.batch(np.arange(start, min(start + batch, len(split))), device)
        mask = scored_mask(targets)
        logits = model.readout(model.hidden(tokens)[mask])
        total += float(torch.nn.functional.cross_entropy(logits, targets[mask], reduction="sum"))
        count += int(mask.sum())
    model.train(was_training)
    return total / count if count else float("nan")


# ---- outputs ----------------------------------------------------------------------------------


def _write_outputs(model, card, spec, seed, name, state, train, valid, run_dir, outputs) -> dict:
    checkpoints = Path(outputs["checkpoints"])
    kept = sorted({0, spec["steps"], *spec["checkpoint_steps"]})
    model_card = {
        "kind": "autocomplete",
        "cell": spec["kind"],
        "name": name,
        "dataset": card.get("dataset", "text8"),
        "seed": seed,
        "spec": spec,
        "hyperparameters": model.hyperparameters(),
        "symbols": card["symbols"],
        "vocabulary_bits": card.get("vocabulary_bits"),
    }
    for step in kept:
        source = weights_path(run_dir, step)
        if not source.exists():
            raise FileNotFoundError(
                f"{source} is missing: step {step} of spec.checkpoint_steps was passed before it "
                f"was asked for; delete {run_dir} to retrain with it"
            )
        with atomic_path(Path(checkpoints) / f"step{step:07d}.pt") as tmp:
            shutil.copyfile(source, tmp)
    write_json(checkpoints / "model.json", {**model_card, "steps": kept})
    save(model, outputs["model"], outputs["card"], model_card)
    history = pd.DataFrame(state.history, columns=list(HISTORY_COLUMNS))
    write_parquet(Path(outputs["history"]), history)
    last = state.history[-1]
    characters = state.tallies.get("characters", 0)
    metrics = {
        "dataset": model_card["dataset"],
        "model": name,
        "cell": spec["kind"],
        "seed": seed,
        "units": spec["units"],
        "classes": model.classes,
        "steps": spec["steps"],
        "batch": spec["batch"],
        "lr": spec["lr"],
        "epochs": spec["steps"] * spec["batch"] / len(train),
        "train_loss": float(last["train_loss"]),
        "valid_loss": float(last["valid_loss"]),
        "n_train": len(train),
        "n_valid": len(valid),
        "parameters": parameter_counts(model),
        "seconds": float(state.wall_time_s),
        "characters": int(characters),
        "characters_per_second": characters / state.wall_time_s if state.wall_time_s else None,
    }
    write_json(Path(outputs["metrics"]), metrics)
    log.info("%s seed %d: %s", name, seed, metrics)
    return metrics


def _model_card(path: Path) -> dict:
    return read_json(Path(path), "train the model with text8_train.train_step")


def load_model(path: Path):
    """The AutocompleteModel of a model.pt (`rnnatlas.models.load`)."""
    from rnnatlas.models import load

    model = load(path)
    if not isinstance(model, AutocompleteModel):
        raise TypeError(f"{path} holds a {type(model).__name__}, not an AutocompleteModel")
    return model


# ---- evaluation -------------------------------------------------------------------------------


def evaluate_step(
    model: Path,
    model_card: Path,
    data: Path,
    card: Path,
    test_out: Path,
    letters_out: Path,
    split: str = "test",
    max_sequences: int | None = None,
    batch: int = EVAL_BATCH,
    threads: int | None = None,
    k: int = 3,
    progress: bool = True,
    device: str = "cpu",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The test table row and the letters-known table of one model (model.pt `model`, its
    model.json `model_card`) on the split file `data` (its card.json `card`), written to
    `test_out` (model, cell, seed, split, cross_entropy, accuracy, sequences, characters) and
    `letters_out` (model, cell, seed, letters, k, count_padding, correct, total, accuracy).

    Sequences are run in batches of `batch` in file order (batched results equal batch-1 ones:
    the networks are causal and padding comes last). count_padding=True rows count the padded
    positions of those batches as the author's run did, with the ranking the author's TF model
    gives there: the dense bias alone, as dynamic_rnn outputs zeros past a sequence's end
    (analysis.autocomplete_metrics.letters_known). The author's batches were shuffled, so these
    rows match the published tail only in kind. `max_sequences` keeps the split's first ones;
    `device` runs the model there (a GPU for the paper-scale test set).
    """
    if threads is not None:
        torch.set_num_threads(threads)
    labels_card = _model_card(model_card)
    model = load_model(model).to(device)
    data = read_split(data, read_card(card))
    count = len(data) if max_sequences is None else min(int(max_sequences), len(data))
    scores = AutocompleteScores(k=k)
    with torch.no_grad():
        past_end = torch.topk(model.readout.bias, k).indices  # TF: zero outputs -> the bias
        starts = range(0, count, batch)
        for start in tqdm(starts, desc=f"evaluate {labels_card.get('name')}", disable=not progress):
            rows = np.arange(start, min(start + batch, count))
            tokens, targets, lengths = data.batch(rows, device)
            logits = model(tokens)
            ranked = torch.topk(logits, k, dim=-1).indices
            padded = torch.arange(tokens.shape[1], device=device)[None, :] >= lengths[:, None]
            ranked[padded] = past_end
            scores.add(logits, targets, tokens.cpu().numpy(), lengths.cpu().numpy(), ranked)
    labels = {"model": labels_card.get("name", labels_card.get("cell"))}
    labels["cell"] = labels_card.get("cell")
    labels["seed"] = labels_card.get("seed")
    test_row = pd.DataFrame([{**labels, "split": split, **scores.summary()}])
    test_row = test_row.drop(columns=["sequences_scored"])
    letters = scores.letters_table()
    for position, (key, value) in enumerate(labels.items()):
        letters.insert(position, key, value)
    write_parquet(Path(test_out), test_row)
    write_parquet(Path(letters_out), letters)
    return test_row, letters


def encode_text(text: str, symbols: list[str]) -> list[int]:
    """Symbol ids of the characters of `text` (symbols: card.json's, index = id)."""
    index = {symbol: position for position, symbol in enumerate(symbols) if len(symbol) == 1}
    unknown = sorted({character for character in text if character not in index})
    if unknown:
        raise ValueError(
            f"text holds characters {unknown} outside the model's symbols; text8 has only "
            f"lowercase a-z and single spaces"
        )
    return [index[character] for character in text]


def autocomplete_demo(
    model: AutocompleteModel,
    text: str = DEMO_TEXT,
    vocabulary: list[str] | None = None,
    k: int = 3,
    symbols: list[str] | None = None,
    leading_space: bool = True,
) -> pd.DataFrame:
    """The top-k words and their probabilities after every character of `text`.

    Rows: position, character (the one just read), rank (1 = best), word, probability. Every
    word in the data is read as " " + letters, so `leading_space` prepends the space that
    starts the first word (its row predicts the first word from nothing).
    """
    if vocabulary is None:
        raise ValueError("autocomplete_demo needs the vocabulary (card.json's 'vocabulary')")
    if len(vocabulary) != model.classes:
        raise ValueError(
            f"vocabulary has {len(vocabulary)} words; the model predicts {model.classes} classes"
        )
    if symbols is None:
        symbols = ["<eos>", " ", *map(chr, range(ord("a"), ord("z") + 1))]
    text = " " + text if leading_space and not text.startswith(" ") else text
    tokens = torch.tensor([encode_text(text, symbols)], dtype=torch.int64)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        probabilities = torch.softmax(model(tokens)[0], dim=-1)
    model.train(was_training)
    top = torch.topk(probabilities, k, dim=-1)
    rows = []
    for position, character in enumerate(text):
        for rank in range(k):
            word_id = int(top.indices[position, rank])
            rows.append(
                {
                    "position": position,
                    "character": character,
                    "rank": rank + 1,
                    "word": vocabulary[word_id],
                    "probability": float(top.values[position, rank]),
                }
            )
    return pd.DataFrame(rows)


# ---- hidden states ----------------------------------------------------------------------------


def states_step(
    model: Path,
    model_card: Path,
    data: Path,
    card: Path,
    out_path: Path,
    split: str = "test",
    max_sequences: int | None = None,
    threads: int | None = None,
    batch: int = EVAL_BATCH,
    progress: bool = True,
    device: str = "cpu",
) -> Path:
    """Recurrent states after every character of a split file (`data`, its card.json `card`) of
    one model (model.pt `model`, its model.json `model_card`), in the states schema.

    One row per (observation, character): sequence_id = observation_id, token = the character
    (" " or a-z), target = the word id, prediction = the top word id, and the model's states
    (GRU h0 h1; LSTM h0 c0 h1 c1; Nested LSTM h0 c0 c0_inner). Streamed in batches;
    `max_sequences` keeps the split's first ones; `device` runs the model there.
    """
    from rnnatlas import states

    if threads is not None:
        torch.set_num_threads(threads)
    model_labels = _model_card(model_card)
    data_card = read_card(card)
    model = load_model(model).to(device)
    data = read_split(data, data_card)
    count = len(data) if max_sequences is None else min(int(max_sequences), len(data))
    symbols = np.asarray(data_card["symbols"], dtype=object)

    def sequences():
        starts = range(0, count, batch)
        for start in tqdm(starts, desc=f"states {model_labels.get('name')}", disable=not progress):
            rows = np.arange(start, min(start + batch, count))
            tokens, targets, lengths = data.batch(rows, device)
            with torch.no_grad():
                recorded = {k: v.cpu().numpy() for k, v in model.states(tokens).items()}
                predicted = model(tokens).argmax(dim=-1).cpu().numpy()
            tokens, targets, lengths = tokens.cpu(), targets.cpu(), lengths.cpu()
            for slot, row in enumerate(rows):
                length = int(lengths[slot])
                yield states.SequenceStates(
                    sequence_id=int(data.observation_id[row]),
                    tokens=list(symbols[tokens[slot, :length].numpy()]),
                    states={key: value[slot, :length] for key, value in recorded.items()},
                    targets=targets[slot, :length].numpy(),
                    predictions=predicted[slot, :length],
                )

    meta = {
        "model": model_labels.get("name", model_labels.get("cell")),
        "kind": "autocomplete",
        "cell": model_labels.get("cell"),
        "dataset": data_card.get("dataset", "text8"),
        "split": split,
        "seed": model_labels.get("seed"),
    }
    return states.write(out_path, sequences(), metadata=meta)
