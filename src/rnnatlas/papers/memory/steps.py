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
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.io import write_json, write_parquet

log = logging.getLogger("rnnatlas")

INPUTS = ("token", "pixel_mean", "row_cluster")


def mnist_row_classes(
    data_dir: Path, sequence_ids: np.ndarray, t: np.ndarray, bins: int, kind: str = "pixel_mean"
):
    """A class for row t of each test digit: 0 for a blank row (a third of all rows: ties no
    quantile can split), 1..bins-1 for the others, by kind:
    "pixel_mean": equal-frequency bins of the row's mean pixel;
    "row_cluster": the row's nearest of bins - 1 k-means prototypes of all inked rows
    (scikit-learn, seeded): what the row looks like, not only how much ink it has.

    Rows past 28 (appended zero rows) get class -1: they carry no input to remember.
    """
    from rnnatlas.papers.mnist.steps import read_split

    index, _, images = read_split(data_dir, "test")
    position = {int(i): row for row, i in enumerate(index)}
    missing = set(np.unique(sequence_ids).tolist()) - set(position)
    if missing:
        raise ValueError(
            f"{len(missing)} sequence ids of the states (e.g. {sorted(missing)[:3]}) are not test "
            f"digits of {data_dir}: give the data the states were dumped from"
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
    data_dir: Path | None = None,
    bins: int = 4,
    threads: int | None = 1,
) -> pd.DataFrame:
    """Signatures of the chosen state columns (None: all) of one states file."""
    from rnnatlas.analysis.memory_signature import memory_signature
    from rnnatlas.states import state_columns, state_matrix, validate

    if inputs not in INPUTS:
        raise ValueError(f"inputs must be one of {INPUTS}, got {inputs!r}")
    if inputs != "token" and data_dir is None:
        raise ValueError(f"inputs {inputs!r} needs data_dir (the sequential-MNIST data)")
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
                symbols = mnist_row_classes(data_dir, ids, t, bins, kind=inputs)
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
    data_dir: Path,
    out_path: Path,
    *,
    n: int,
    max_lag: int,
    max_samples: int | None = None,
    test_characters: int = 20_000,
    seed: int = 0,
    threads: int | None = 1,
) -> pd.DataFrame:
    """The n-gram model's signature on the start of the text8 test text (state: its window),
    model `ngram{n}`, and on the same characters shuffled, model `ngram{n}_shuffled`.

    The model is fitted on the training split's text (its cross-entropy on the test text is
    reported beside, as a language model); its state at t is the one-hot window of the last
    n - 1 characters, so the signature is perfect up to lag n - 2 (state at t holds input t).
    Beyond, real text stays above chance (letters predict their neighbours); on the shuffled,
    i.i.d. text it must fall to chance: the sanity check of the method."""
    from rnnatlas.analysis.memory_signature import memory_signature
    from rnnatlas.models.ngram import NGramModel
    from rnnatlas.papers.text8.dataset import read_split

    def text_of(split: str, limit: int | None = None) -> np.ndarray:
        sources, _ = read_split(data_dir, split)
        joined = np.concatenate(sources).astype(np.int64)
        return joined if limit is None else joined[:limit]

    train, test = text_of("train"), text_of("test", test_characters)
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
