"""Training Garcia et al.'s classifier through the shared trainer, and dumping its states.

Keras' `fit(validation_split=0.1)` holds out the *last* 10 % of the training documents (before
any shuffle) and shuffles the rest every epoch; RMSprop with Keras' defaults; batches of 64.
The test numbers: categorical accuracy (the argmax), and Keras' binary accuracy, which the paper
reports (for the sigmoid model the two are one number; for Reuters' 5-way softmax under
binary_crossentropy, Keras' "accuracy" is the per-output one).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from rnnatlas.io import write_json, write_parquet
from rnnatlas.papers.garcia.data import read_documents

log = logging.getLogger("rnnatlas")

MODEL_OUTPUTS = ("model", "card", "history", "metrics")
DATA_KEYS = ("train", "test", "vocabulary", "card")


def _scores(model, tokens: np.ndarray, labels: np.ndarray, batch: int = 256) -> dict:
    """Categorical accuracy, Keras' binary accuracy and the predicted classes."""
    probabilities = []
    with torch.no_grad():
        for start in range(0, len(tokens), batch):
            logits = model(torch.as_tensor(tokens[start : start + batch]))[:, -1]
            probabilities.append(model.probabilities(logits).numpy())
    p = np.concatenate(probabilities)
    predicted = p.argmax(axis=1)
    one_hot = np.eye(p.shape[1])[labels]
    if model.outputs == 1:  # Keras reads the one sigmoid output against 0.5
        binary = float(np.mean((p[:, 1] > 0.5) == (labels == 1)))
    else:  # per output of the softmax against the one-hot label
        binary = float(np.mean((p > 0.5) == one_hot))
    return {
        "accuracy": float(np.mean(predicted == labels)),
        "binary_accuracy": binary,
        "predicted": predicted,
    }


def train_step(
    data: Mapping[str, Path],
    outputs: Mapping[str, Path],
    spec: Mapping,
    training: Mapping,
    seed: int,
    resume_dir: Path,
    threads: int = 1,
    progress: bool = True,
) -> dict:
    """Train one classifier on the dataset `data` (train, test, vocabulary, card); write
    outputs model, card, history, metrics. spec: units, embedding, dropout, loss; training:
    epochs, batch_size, lr, validation_split."""
    from rnnatlas.models import save
    from rnnatlas.models.text_classifier import TextClassifier
    from rnnatlas.seeding import seed_everything
    from rnnatlas.training import ClassifierConfig, train_sequence_classifier

    torch.set_num_threads(threads)
    docs = read_documents(data)
    held = int(round(len(docs.train_labels) * float(training["validation_split"])))
    cut = len(docs.train_labels) - held  # Keras holds out the last documents
    fit_tokens, fit_labels = docs.train_tokens[:cut], docs.train_labels[:cut]
    valid_tokens, valid_labels = docs.train_tokens[cut:], docs.train_labels[cut:]
    classes = len(docs.classes)
    outputs_count = 1 if spec["loss"] == "binary_cross_entropy" else classes
    if outputs_count == 1 and classes != 2:
        raise ValueError(f"{data['card']}: binary_cross_entropy needs 2 classes, not {classes}")
    seed_everything(seed)
    model = TextClassifier(
        docs.vocabulary, outputs_count, embedding=int(spec["embedding"]), units=int(spec["units"]),
        dropout=float(spec["dropout"]),
    )  # fmt: skip
    cfg = ClassifierConfig(
        epochs=int(training["epochs"]), batch_size=int(training["batch_size"]),
        lr=float(training["lr"]), eps=1e-7, optimizer="rmsprop", rho=0.9, shuffle=True,
        seed=seed, threads=threads, loss=spec["loss"],
    )  # fmt: skip

    def evaluate(current, epoch: int) -> dict:
        if not len(valid_labels):
            return {}
        scores = _scores(current, valid_tokens, valid_labels)
        return {"valid_accuracy": scores["accuracy"]}

    result = train_sequence_classifier(
        model, fit_tokens, fit_labels, cfg, resume_dir, evaluate=evaluate, progress=progress
    )
    model.eval()
    test = _scores(model, docs.test_tokens, docs.test_labels)
    metrics = {
        "dataset": docs.name,
        "seed": seed,
        "classes": docs.classes,
        "test_accuracy": test["accuracy"],
        "test_binary_accuracy": test["binary_accuracy"],
        "test_documents": int(len(docs.test_labels)),
        "confusion": _confusion(docs.test_labels, test["predicted"], classes),
        "train_documents": int(len(fit_labels)),
        "validation_documents": int(held),
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "cpu_time_s": result.cpu_time_s,
    }
    card = {
        "kind": "text_classifier",
        "name": "lstm",
        "dataset": docs.name,
        "classes": docs.classes,
        "seed": seed,
        "spec": dict(spec),
        "training": dict(training),
        "hyperparameters": model.hyperparameters(),
    }
    save(model, outputs["model"], outputs["card"], card)
    write_parquet(outputs["history"], result.history)
    write_json(outputs["metrics"], metrics)
    log.info("garcia %s seed %d: test accuracy %.3f", docs.name, seed, test["accuracy"])
    return metrics


def _confusion(labels: np.ndarray, predicted: np.ndarray, classes: int) -> list[list[int]]:
    """counts[true][predicted]."""
    counts = np.zeros((classes, classes), dtype=int)
    np.add.at(counts, (labels, predicted), 1)
    return counts.tolist()


def kept_steps(tokens: np.ndarray) -> np.ndarray:
    """The steps the authors keep for the views: words proper (id > 2: no padding, start or
    out-of-vocabulary token)."""
    return np.asarray(tokens) > 2


def states_step(
    model_path: Path, data: Mapping[str, Path], out: Path, documents: int, threads: int = 1
) -> dict:
    """The states of the first `documents` test documents, one row per kept word (t counts the
    kept words), with the word as token, the label as target, and the expected prediction (every
    class's probability) as prediction; states h and c. Returns the file's metadata."""
    from rnnatlas import states
    from rnnatlas.models import load

    torch.set_num_threads(threads)
    docs = read_documents(data)
    model = load(model_path)
    shown = min(int(documents), len(docs.test_labels))
    meta = {
        "model": str(Path(model_path).parent),
        "dataset": docs.name,
        "classes": docs.classes,
        "steps": "words with id > 2 only: the LSTM also ran over the padding and the start token "
        "before them",
        "prediction": "expected prediction: the trained Dense layer (and its activation) on the "
        "state after every word",
    }
    with torch.no_grad():
        tokens = torch.as_tensor(docs.test_tokens[:shown])
        recorded = model.states(tokens)
        expected = model.probabilities(model.readout(recorded["h"])).numpy()
    skipped = []

    def sequences():
        for row in range(shown):
            keep = kept_steps(docs.test_tokens[row])
            if not keep.any():
                skipped.append(row)
                continue
            yield states.SequenceStates(
                sequence_id=row,
                tokens=[docs.words[i] for i in docs.test_tokens[row][keep]],
                states={name: recorded[name][row].numpy()[keep] for name in ("h", "c")},
                targets=np.full(int(keep.sum()), int(docs.test_labels[row]), dtype=np.int64),
                predictions=expected[row][keep],
            )

    states.write(out, sequences(), metadata=meta)
    if skipped:
        log.warning("garcia states: documents %s have no word with id > 2; left out", skipped)
    return {**meta, "documents": shown - len(skipped), "left_out": skipped}
