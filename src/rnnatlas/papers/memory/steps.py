"""Memory signatures (Koppula, Sim & Chin 2018) of every model family the DAG trains.

- `signature_step`: the signature of every state column of one states file (CSL ESN/LSTM,
  sequential-MNIST RNNs, text8 GRU/LSTM/Nested LSTM), the input at each step being the file's
  `token` (words, characters) or, for sequential MNIST, a class of the row read at that step
  (`mnist_row_classes`): its mean pixel cut into equal-frequency bins ("pixel_mean"), or its
  k-means prototype among all rows ("row_cluster").
- `ngram_step`: the built-in sanity check, a character n-gram model of the text8 training text
  whose state is its window of n - 1 characters, read on the test text.
- `capacity_step`: our linear signature summed over lags against reservoirpy's memory capacity.

Every table gets `family`, `model` and `state` columns beside memory_signature's own.

The other papers' files (the MNIST test split, the text8 splits) are read here, from the paths
the rules declare: this paper imports no other paper's code.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.io import read_parquet, read_table, write_json, write_parquet
from rnnatlas.step import Job

log = logging.getLogger("rnnatlas")

INPUTS = ("token", "pixel_mean", "row_cluster")
MNIST_ROWS = 28  # sequential MNIST reads a digit's 28 rows of 28 pixels, one a step


def read_mnist_images(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(index int64 [N], images uint8 [N, 28, 28]) of a sequential-MNIST split file (columns
    `index` and `image`, a list of 784 pixels 0..255 per digit, row-major)."""
    import pyarrow as pa

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: build the MNIST data (rule mnist_data)")
    table = read_table(path)
    missing = [c for c in ("index", "image") if c not in table.column_names]
    if missing:
        raise ValueError(f"{path}: column(s) {missing} missing; an MNIST split holds index, image")
    column = table.column("image").combine_chunks()
    if not (pa.types.is_fixed_size_list(column.type) or pa.types.is_list(column.type)):
        raise ValueError(f"{path}: column 'image' has type {column.type}; expected a list")
    pixels = column.flatten().to_numpy(zero_copy_only=False)
    if len(pixels) != len(table) * MNIST_ROWS * MNIST_ROWS:
        raise ValueError(
            f"{path}: column 'image' holds {len(pixels)} pixels for {len(table)} digits; "
            f"every image needs {MNIST_ROWS * MNIST_ROWS}"
        )
    index = table.column("index").to_numpy().astype(np.int64)
    return index, pixels.astype(np.uint8).reshape(len(table), MNIST_ROWS, MNIST_ROWS)


def read_text8_text(path: Path, limit: int | None = None) -> np.ndarray:
    """The input symbols (int64) of a text8 split file, its observations concatenated in file
    order (column `source`, a list of symbols per observation); the first `limit` only."""

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: build the text8 data (rule text8_data)")
    table = read_table(path, columns=["source"])
    symbols = table.column("source").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    joined = symbols.astype(np.int64)
    return joined if limit is None else joined[:limit]


def mnist_row_classes(
    test_path: Path, sequence_ids: np.ndarray, t: np.ndarray, bins: int, kind: str = "pixel_mean"
):
    """A class for row t of each test digit (`test_path`: the sequential-MNIST test split): 0
    for a blank row (a third of all rows: ties no quantile can split), 1..bins-1 for the
    others, by kind:
    "pixel_mean": equal-frequency bins of the row's mean pixel;
    "row_cluster": the row's nearest of bins - 1 k-means prototypes of all inked rows
    (scikit-learn, seeded): what the row looks like, not only how much ink it has.

    Rows past 28 (appended zero rows) get class -1: they carry no input to remember.
    """
    index, images = read_mnist_images(test_path)
    position = {int(i): row for row, i in enumerate(index)}
    missing = set(np.unique(sequence_ids).tolist()) - set(position)
    if missing:
        raise ValueError(
            f"{len(missing)} sequence ids of the states (e.g. {sorted(missing)[:3]}) are not test "
            f"digits of {test_path}: give the data the states were dumped from"
        )
    if bins < 2:
        raise ValueError(f"bins must be >= 2 (blank + at least one ink class), got {bins}")
    if kind not in ("pixel_mean", "row_cluster"):
        raise ValueError(f"kind must be 'pixel_mean' or 'row_cluster', got {kind!r}")
    rows = images.shape[1]
    pixels = images.reshape(len(images), rows, -1).astype(np.float64) / 255.0
    means = pixels.mean(axis=2)  # [digits, rows]
    if kind == "pixel_mean":
        edges = np.quantile(means[means > 0], np.linspace(0, 1, bins)[1:-1])
        row_class = 1 + np.searchsorted(edges, means, "right")
    else:
        from sklearn.cluster import KMeans

        inked = pixels[means > 0]
        kmeans = KMeans(n_clusters=bins - 1, n_init=4, random_state=0).fit(inked)
        row_class = np.zeros(means.shape, dtype=np.int64)
        row_class[means > 0] = 1 + kmeans.labels_
    row_class = np.where(means > 0, row_class, 0)
    digits = np.array([position[int(i)] for i in sequence_ids])
    inside = t < rows
    classes = np.full(len(t), -1, dtype=np.int64)
    classes[inside] = row_class[digits[inside], t[inside]]
    return classes


def signature_step(
    states_path: Path,
    out_path: Path,
    *,
    family: str,
    model: str,
    max_lag: int,
    decoder: str = "logistic",
    max_samples: int | None = None,
    seed: int = 0,
    states: Sequence[str] | None = None,
    inputs: str = "token",
    mnist_test: Path | None = None,
    bins: int = 4,
    threads: int | None = 1,
) -> pd.DataFrame:
    """Signatures of the chosen state columns (None: all) of one states file (`mnist_test`: the
    sequential-MNIST test split, for inputs other than "token")."""
    from rnnatlas.analysis.memory_signature import memory_signature
    from rnnatlas.states import state_columns, state_matrix, validate

    if inputs not in INPUTS:
        raise ValueError(f"inputs must be one of {INPUTS}, got {inputs!r}")
    if inputs != "token" and mnist_test is None:
        raise ValueError(f"inputs {inputs!r} needs mnist_test (the sequential-MNIST test split)")
    names = state_columns(validate(states_path)) if states is None else list(states)
    frames, symbols = [], None
    for name in names:
        index, values = state_matrix(states_path, name)
        ids, t = index["sequence_id"].to_numpy(), index["t"].to_numpy()
        order = np.lexsort((t, ids))
        ids, t, values = ids[order], t[order], values[order]
        if symbols is None:  # every state column shares the file's rows: one set of inputs
            if inputs == "token":
                symbols = pd.factorize(index["token"].to_numpy()[order])[0]
                keep = np.ones(len(t), dtype=bool)
            else:
                symbols = mnist_row_classes(mnist_test, ids, t, bins, kind=inputs)
                keep = symbols >= 0  # the 28 rows only
        table = memory_signature(
            values[keep], symbols[keep], max_lag, sequence_ids=ids[keep], decoder=decoder,
            max_samples=max_samples, seed=seed, num_threads=threads,
        )  # fmt: skip
        frames.append(table.assign(family=family, model=model, state=name))
        log.info("signature of %s/%s %s: accuracy at lag 0 %.3f", family, model, name,
                 table["accuracy"].iloc[0])  # fmt: skip
    out = pd.concat(frames, ignore_index=True)
    write_parquet(out_path, out)
    return out


def ngram_step(
    train_path: Path,
    test_path: Path,
    out_path: Path,
    *,
    n: int,
    max_lag: int,
    max_samples: int | None = None,
    test_characters: int = 20_000,
    seed: int = 0,
    threads: int | None = 1,
) -> pd.DataFrame:
    """The n-gram model's signature on the start of the text8 test text (the split file
    `test_path`; state: its window), model `ngram{n}`, and on the same characters shuffled,
    model `ngram{n}_shuffled`.

    The model is fitted on the training split's text (`train_path`; its cross-entropy on the
    test text is reported beside, as a language model); its state at t is the one-hot window of
    the last n - 1 characters, so the signature is perfect up to lag n - 2 (state at t holds
    input t).
    Beyond, real text stays above chance (letters predict their neighbours); on the shuffled,
    i.i.d. text it must fall to chance: the sanity check of the method."""
    from rnnatlas.analysis.memory_signature import memory_signature
    from rnnatlas.models.ngram import NGramModel

    train, test = read_text8_text(train_path), read_text8_text(test_path, test_characters)
    model = NGramModel(n, 28).fit(train)
    shuffled = np.random.default_rng(seed).permutation(test)
    frames = []
    for name, text in ((f"ngram{n}", test), (f"ngram{n}_shuffled", shuffled)):
        table = memory_signature(
            model.states(text)["window"], text, max_lag, decoder="logistic",
            max_samples=max_samples, seed=seed, num_threads=threads,
        )  # fmt: skip
        frames.append(
            table.assign(
                family="text8",
                model=name,
                state="window",
                lm_cross_entropy=float(model.cross_entropy(text)),
            )
        )
    out = pd.concat(frames, ignore_index=True)
    write_parquet(out_path, out)
    return out


def capacity_step(out_path: Path, *, units: int = 40, seed: int = 0) -> dict:
    """Jaeger's memory capacity of a linear ESN: our signature vs reservoirpy's observable."""
    from rnnatlas.analysis.memory_signature import memory_capacity_check

    result = memory_capacity_check(units=units, seed=seed)
    result["relative_difference"] = abs(result["ours"] - result["reservoirpy"]) / abs(
        result["reservoirpy"]
    )
    write_json(out_path, result)
    return result


# ---- step functions called by the rules (rnnatlas.step: rule memory_<name> -> <name>(job)) ----


def signature(job: Job) -> None:
    """Rule memory_signature: the signature of every state column of one states file."""
    memory = job.params.memory
    mnist = job.wildcards.family == "mnist"  # sequential MNIST: a step's input is its row's class
    signature_step(
        job.input.states, job.output[0], family=job.wildcards.family, model=job.wildcards.name,
        max_lag=memory["max_lag"], decoder=memory["decoder"], max_samples=memory["max_samples"],
        seed=memory["seed"], inputs=memory["mnist_target"] if mnist else "token",
        mnist_test=job.input.mnist if mnist else None, bins=memory["mnist_bins"],
        threads=job.threads,
    )  # fmt: skip


def ngram(job: Job) -> None:
    """Rule memory_ngram: the signature of a character n-gram model of the text8 text."""
    memory = job.params.memory
    ngram_step(
        job.input.train, job.input.test, job.output[0], n=int(job.wildcards.n),
        max_lag=memory["max_lag"], max_samples=memory["max_samples"],
        test_characters=memory["ngram_characters"], seed=memory["seed"], threads=job.threads,
    )  # fmt: skip


def capacity(job: Job) -> None:
    """Rule memory_capacity: our linear signature's memory capacity against reservoirpy's."""
    memory = job.params.memory
    capacity_step(job.output[0], units=memory["capacity_units"], seed=memory["seed"])


def figures(job: Job) -> None:
    """Rule memory_figures: the signature figures of every family and the memory-area table."""
    from rnnatlas.papers.memory.figures import draw_all

    tables = pd.concat([read_parquet(path) for path in job.input], ignore_index=True)
    draw_all(tables, job.output.png, job.output.svg, job.output.table)
