"""RSSviz of a CSL model: the UMAP layout of its dumped test states and the table every view draws.

Reads the states Parquet file (the public contract) for the layout; the model itself is run only
for the few trajectory sentences, which need not be in the test split.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas import states
from rnnatlas.analysis import projection
from rnnatlas.io import read_table, write_json, write_parquet
from rnnatlas.papers.csl.metrics import decode as decode_outputs
from rnnatlas.papers.csl.metrics import predicates

log = logging.getLogger("rnnatlas")

DEFAULT_STATE = {"esn": "x", "lstm": "c0"}  # the paper: reservoir states; LSTM cell states


def default_state(kind: str) -> str:
    if kind not in DEFAULT_STATE:
        raise ValueError(f"no default state for model kind {kind!r}; pass the state column")
    return DEFAULT_STATE[kind]


def run_sentences(model, grammar, sentences: Sequence[str], state: str):
    """(words, states [T, units], outputs [T, D]) of the model on each sentence, no padding."""
    from rnnatlas.papers.csl.units import encode_words, run_sentence, wrap_sentence

    kind = "esn" if hasattr(model, "Wout") else "lstm"
    results = []
    for sentence in sentences:
        words = wrap_sentence(sentence)
        tokens = encode_words(grammar, words)
        recorded, outputs = run_sentence(model, kind, tokens, len(grammar.vocabulary))
        if state not in recorded:
            raise ValueError(f"the model records {sorted(recorded)}, not state {state!r}")
        results.append((words, recorded[state], outputs))
    return results


def initial_output(model) -> np.ndarray:
    """The readout of the zero initial state (the readout's bias)."""
    if hasattr(model, "Wout"):
        return model.Wout[0].numpy().copy()
    return model.readout.bias.detach().numpy().copy()


def rssviz_step(
    states_path: Path,
    model_path: Path,
    corpus: Mapping[str, Path],
    out: Mapping[str, Path],
    *,
    sentences: int = 200,
    state: str | None = None,
    initial_state: bool | None = None,
    umap: Mapping | None = None,
    random_state: int = 42,
    trajectories: Sequence[str] = (),
    decode: Mapping | None = None,
    trust_neighbors: int = 10,
) -> dict:
    """Fit the layout and write `out`'s "embedding", "nesting" (Parquet) and "metrics" (JSON).

    model_path is the model's model.pt; corpus the corpus's files (`corpus_io.load_csl`).

    The layout is fitted on the unique states of `sentences` random test sentences (plus the
    initial state for an LSTM, and the states of the trajectory sentences).
    """
    from rnnatlas.models import load
    from rnnatlas.papers.csl.corpus_io import load_csl

    meta = states.metadata(states_path)
    kind = meta.get("kind", "")
    state = state or default_state(kind)
    if initial_state is None:
        initial_state = kind == "lstm"  # the paper adds the initial state for the LSTM only
    data = load_csl(corpus)
    model = load(model_path)
    labels = list(meta.get("output_labels") or data.card["output_labels"])

    index, X = states.state_matrix(states_path, state)
    outputs = _predictions(states_path)
    index["row"] = np.arange(len(index))
    test = data.splits[meta.get("split", "test")].set_index("sentence_id")
    classes = _error_classes(index, outputs, test, data.grammar, decode or {})

    chosen = projection.sample_sequences(index["sequence_id"], sentences, seed=random_state)
    fit = index[index["sequence_id"].isin(set(chosen))]
    fit_X = X[fit["row"].to_numpy()]
    fit_outputs = outputs[fit["row"].to_numpy()]
    table = _describe(fit, test, classes)
    if initial_state:
        fit_X = np.vstack([np.zeros((1, X.shape[1]), dtype=X.dtype), fit_X])
        fit_outputs = np.vstack([initial_output(model)[None, :], fit_outputs])
        table = pd.concat([_initial_row(), table], ignore_index=True)

    for k, label in enumerate(labels):
        table[label] = fit_outputs[:, k]
    table["role"] = "fit"
    # Trajectory sentences join the fit (a handful of states, most shared with test prefixes):
    # UMAP's transform would cost a minute of numba compilation for a few dozen points.
    if trajectories:
        extra, extra_X = _trajectory_rows(model, data.grammar, trajectories, state, labels)
        table = pd.concat([table, extra], ignore_index=True)
        fit_X = np.vstack([fit_X, extra_X])
    unique, first, inverse = projection.unique_rows(fit_X)
    layout = projection.fit_umap(unique, umap, random_state=random_state)
    trust = projection.trustworthiness(unique, layout.embedding, trust_neighbors)
    table["x"], table["y"] = layout.embedding[inverse, 0], layout.embedding[inverse, 1]
    table["unique_id"] = inverse
    write_parquet(out["embedding"], table)

    nesting = _nesting(index, X, kind)
    write_parquet(out["nesting"], nesting)
    metrics = {
        "model": meta.get("model"),
        "kind": kind,
        "dataset": meta.get("dataset"),
        "state": state,
        "initial_state": bool(initial_state),
        "sentences": int(sentences),
        "states": int(len(fit_X)),
        "trajectory_states": int((table["role"] == "trajectory").sum()),
        "unique_states": int(len(unique)),
        "umap": {**projection.UMAP_DEFAULTS, **dict(umap or {}), "random_state": random_state},
        "fit_seconds": layout.fit_seconds,
        "trustworthiness": trust,
        "trust_neighbors": trust_neighbors,
        "nesting": {
            k: projection.nesting_summary(nesting[nesting["kind"] == k])
            for k in ("prefix", "suffix")
        },
        "error_classes": {
            projection.error_class_name(int(c)): int(n)
            for c, n in classes.loc[chosen].value_counts().sort_index().items()
        },
    }
    write_json(out["metrics"], metrics)
    log.info("RSSviz %s: %s", meta.get("model"), json.dumps(metrics, default=str)[:400])
    return metrics


def _predictions(states_path: Path) -> np.ndarray:

    column = read_table(states_path, columns=["prediction"]).column("prediction")
    column = column.combine_chunks()
    if column.null_count:
        raise ValueError(f"{states_path}: RSSviz needs the model's outputs in 'prediction'")
    return column.flatten().to_numpy(zero_copy_only=False).reshape(len(column), -1)


def _error_classes(index, outputs, test: pd.DataFrame, grammar, decode: Mapping) -> pd.Series:
    """The error-map class (0..8) of every sentence, from its output after the last word."""
    last = index.groupby("sequence_id", sort=False)["row"].max()
    missing = [sid for sid in last.index if sid not in test.index]
    if missing:
        raise ValueError(
            f"sentence {missing[0]} of the states file is not in the corpus split: "
            "states and corpus come from different datasets"
        )
    decoded = decode_outputs(outputs[last.to_numpy()], grammar, **decode)
    stated = predicates(test.loc[last.index], grammar)
    codes = projection.error_classes(projection.slot_scores(decoded, stated))
    return pd.Series(codes, index=last.index, name="error_class")


def _describe(fit: pd.DataFrame, test: pd.DataFrame, classes: pd.Series) -> pd.DataFrame:
    """One row per fitted state: sentence, word, position, clause, error class, final flag."""
    table = fit[["sequence_id", "t", "token"]].reset_index(drop=True).copy()
    table["t"] = table["t"].astype(int)
    clause = []
    for _, words in table.groupby("sequence_id", sort=False)["token"]:
        clause.extend(projection.clause_labels(words.tolist()))
    table["clause"] = clause
    table["sentence"] = test.loc[table["sequence_id"], "text"].to_numpy()
    table["n_clauses"] = test.loc[table["sequence_id"], "n_clauses"].to_numpy()
    table["final"] = table["token"].eq("END").to_numpy()
    table["error_class"] = classes.loc[table["sequence_id"]].to_numpy()
    return table


def _initial_row() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sequence_id": [-1],
            "t": [-1],
            "token": ["<initial>"],
            "clause": ["initial state"],
            "sentence": ["(initial state)"],
            "n_clauses": [0],
            "final": [False],
            "error_class": [-1],
        }
    )


def _trajectory_rows(model, grammar, sentences, state, labels) -> tuple[pd.DataFrame, np.ndarray]:
    frames, matrices = [], []
    for k, (words, X, outputs) in enumerate(run_sentences(model, grammar, sentences, state)):
        frame = pd.DataFrame(
            {
                "sequence_id": -(k + 2),  # -1 is the initial state
                "t": np.arange(len(words)),
                "token": words,
                "clause": projection.clause_labels(words),
                "sentence": " ".join(words),
                "n_clauses": 1 + words.count("and"),
                "final": [w == "END" for w in words],
                "error_class": -1,
                "role": "trajectory",
            }
        )
        for j, label in enumerate(labels):
            frame[label] = outputs[:, j]
        frames.append(frame)
        matrices.append(X)
    return pd.concat(frames, ignore_index=True), np.vstack(matrices).astype(np.float32)


def _nesting(index: pd.DataFrame, X: np.ndarray, kind: str) -> pd.DataFrame:
    """Prefix and suffix nesting of the final states of every sentence in the states file."""
    last = index.groupby("sequence_id", sort=False)["row"].max().to_numpy()
    tokens = index.groupby("sequence_id", sort=False)["token"].agg(list).to_list()
    frames = [projection.prefix_nesting(X[last], tokens, kind=k) for k in ("prefix", "suffix")]
    table = pd.concat(frames, ignore_index=True)
    table["model_kind"] = kind
    return table
