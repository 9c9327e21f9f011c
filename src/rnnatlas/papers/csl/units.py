"""Internal-units step of the CSL paper (Variengien & Hinaut 2020): tables, summary, figures."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.analysis import units as analysis
from rnnatlas.io import read_json, write_json, write_parquet

log = logging.getLogger("rnnatlas")

PAPER_SENTENCE = "BEGIN a green glass is on the left and that is a orange cup END"
DEFAULT_STATE = {"esn": "x", "lstm": "c0"}
TABLES = (
    "winglet",
    "top_units",
    "polyvalent",
    "sentence_deltas",
    "connected_deltas",
    "output_activations",
)
FIGURES = ("winglet", "polyvalent_deltas", "connected_deltas", "cell_units", "output_activations")


def wrap_sentence(sentence: str) -> list[str]:
    """The sentence's words with BEGIN ... END added where missing."""
    words = sentence.split()
    if not words or words[0] != "BEGIN":
        words = ["BEGIN", *words]
    if words[-1] != "END":
        words = [*words, "END"]
    return words


def encode_words(grammar, words: list[str]) -> np.ndarray:
    """Token ids of the words; an unknown word is named with the vocabulary."""
    unknown = [w for w in words if w not in grammar.vocabulary]
    if unknown:
        raise ValueError(
            f"word {unknown[0]!r} of the sentence is not in the {grammar.name} vocabulary "
            f"({' '.join(grammar.vocabulary)})"
        )
    return grammar.encode(words)


def run_sentence(model, kind: str, tokens: np.ndarray, input_dim: int) -> tuple[dict, np.ndarray]:
    """States {name: [T, units]} and outputs [T, D] of the model over one sentence (float64)."""
    import torch

    from rnnatlas.models.lstm import one_hot_batch

    inputs, _ = one_hot_batch([np.asarray(tokens, dtype=np.int64)], input_dim)
    if kind == "esn":  # the reservoir runs in float64, as it was trained
        inputs = inputs.double()
    with torch.no_grad():
        recorded = model.states(inputs)
        outputs = model(inputs)
    states = {name: value[0].double().numpy() for name, value in recorded.items()}
    return states, outputs[0].double().numpy()


def _kind(model_card: Path) -> str:
    card = read_json(model_card, "train the model first (rules csl_train_esn, csl_train_lstm)")
    return str(card["kind"])


def units_step(
    model_path: Path,
    model_card: Path,
    corpus: Mapping[str, Path],
    states_path: Path,
    out: Mapping[str, Path],
    figures_dir: Path | None,
    sentence: str = PAPER_SENTENCE,
    top_k: int = 5,
    polyvalent_min: int = 5,
    connected_output: int = 0,
    connected_k: int = 10,
    delta_sentences: int = 100,
    state: str | None = None,
    seed: int = 42,
) -> dict:
    """The internal-units analyses of one model; returns the summary written to summary.json.

    - readout weights W [outputs, units] (ESN readout or LSTM Dense layer, no bias): `winglet`,
      `top_units` (top_k per sign and output) and `polyvalent` (units in >= polyvalent_min lists);
    - the model run on `sentence` (BEGIN/END added when missing), from the zero state:
      `sentence_deltas` (t, token, unit, abs_delta, activation, lists) for the polyvalent units
      (LSTM: every unit of the cell state) and `output_activations` (long, 3 x 2 grid);
    - `connected_deltas`: per word, mean and sd over `delta_sentences` random (seed) sentences of
      states_path of Σ|Δ state| over the connected_k units with the largest
      |W[connected_output]|, in vocabulary order. For the LSTM the Dense layer reads h while the
      default state is the cell state c0: unit i of c is the unit whose h_i = o_i tanh(c_i).

    model_path and model_card are the model's model.pt and model.json, corpus the corpus's files
    (`corpus_io.load_csl`). `out` maps each of `TABLES` to its Parquet file and "summary" to the
    JSON summary. `state` names the recorded state (default "x" for an ESN, "c0" for an LSTM).
    Figures (PNG + SVG, see `FIGURES`) go to figures_dir; figures_dir=None writes the tables only.
    """
    from rnnatlas.analysis.projection import sample_sequences
    from rnnatlas.models import load
    from rnnatlas.papers.csl.corpus_io import load_csl
    from rnnatlas.states import state_matrix

    model_path, states_path = Path(model_path), Path(states_path)
    missing = [name for name in (*TABLES, "summary") if name not in out]
    if missing:
        raise ValueError(f"units_step: no output file given for {', '.join(missing)}")
    model_dir = model_path.parent
    kind = _kind(model_card)
    state = state or DEFAULT_STATE.get(kind)
    if state is None:
        raise ValueError(f"units_step: no default state for a {kind!r} model; pass state=")
    data = load_csl(corpus)
    grammar = data.grammar
    model = load(model_path)
    if model.input_dim != data.input_dim:
        raise ValueError(
            f"{model_dir}: the model reads {model.input_dim} words, the corpus "
            f"{Path(corpus['card']).parent} has {data.input_dim}: pick the model trained on "
            "this corpus"
        )
    words = wrap_sentence(sentence)
    tokens = encode_words(grammar, words)
    text = " ".join(words)

    W = analysis.readout_weights(model)
    labels = [f"slot{s}:{g}:{c}" for s, g, c in grammar.output_labels()]
    if len(labels) != W.shape[0]:
        raise ValueError(f"{model_dir}: {W.shape[0]} outputs, the corpus has {len(labels)}")
    if not 0 <= connected_output < W.shape[0]:
        raise ValueError(f"connected_output {connected_output} out of range [0, {W.shape[0]})")
    wing = analysis.winglet(W)
    top = analysis.top_units(W, top_k)
    poly = analysis.polyvalent_units(top, polyvalent_min)

    recorded, outputs = run_sentence(model, kind, tokens, data.input_dim)
    if state not in recorded:
        raise ValueError(f"the {kind} model records {', '.join(recorded)}, not {state!r}")
    trace = recorded[state]
    shown = np.arange(trace.shape[1]) if kind == "lstm" else poly["unit"].to_numpy()
    sentence_deltas = _sentence_deltas(trace, words, shown, poly)

    index, matrix = state_matrix(states_path, state)
    if matrix.shape[1] != trace.shape[1]:
        raise ValueError(
            f"{states_path}: state {state!r} has {matrix.shape[1]} units, the model "
            f"{trace.shape[1]}: pick the states of this model"
        )
    structure = sentence_structure(W, index, matrix, top_k, seed)
    connected = analysis.most_connected(W, connected_output, connected_k)
    # a seeded random sample: the head of a test split holds only one-object sentences
    sampled = sample_sequences(
        index["sequence_id"], min(delta_sentences, index["sequence_id"].nunique()), seed
    )
    keep = index["sequence_id"].isin(set(sampled)).to_numpy()
    index, matrix = index[keep].reset_index(drop=True), matrix[keep]
    stats = analysis.delta_per_word(index, matrix, connected, None)
    order = {word: i for i, word in enumerate(grammar.vocabulary)}
    stats = stats.sort_values("token", key=lambda s: s.map(order)).reset_index(drop=True)
    used_sentences = int(min(delta_sentences, index["sequence_id"].nunique()))

    activations = analysis.output_activations(outputs, labels, tokens=words)

    tables = {
        "winglet": wing,
        "top_units": top,
        "polyvalent": poly,
        "sentence_deltas": sentence_deltas,
        "connected_deltas": stats,
        "output_activations": activations,
    }
    for name, frame in tables.items():
        write_parquet(out[name], frame)

    summary = {
        "model": kind,
        "model_dir": str(model_dir),
        "dataset": data.card["dataset"],
        "sentence": text,
        "state": state,
        "units": int(W.shape[1]),
        "outputs": int(W.shape[0]),
        "top_k": int(top_k),
        "polyvalent_min": int(polyvalent_min),
        "n_polyvalent": len(poly),
        "polyvalent_units": poly["unit"].tolist(),
        "polyvalent_lists": poly["lists"].tolist(),
        "sentence_units": [int(u) for u in shown],
        "connected_output": int(connected_output),
        "connected_output_label": labels[connected_output],
        "connected_units": [int(u) for u in connected],
        "delta_sentences": used_sentences,
        "delta_rows": int(stats["count"].sum()),
        "final_prediction": _decoded_last(outputs, grammar),
        "structure": structure,
    }
    write_json(out["summary"], summary)
    figures = []
    if figures_dir is not None:
        figures = _draw(tables, Path(figures_dir), kind, text, state, labels, summary)
    log.info("units %s: %d polyvalent units, %d figures", kind, len(poly), len(figures) // 2)
    return summary


STRUCTURE_SENTENCES = 300  # test sentences of the structure test (a seeded sample)


def sentence_structure(W, index: pd.DataFrame, matrix: np.ndarray, k: int, seed: int) -> dict:
    """Do the k units the readout weighs most encode the sentence's structure? The label of a
    word is its clause (first or second: the network must remember whether "and" has passed);
    "and" and END, which the input itself announces, are left out. See analysis.emphasis_test.
    On a sample of STRUCTURE_SENTENCES test sentences; {"skipped": why} when it cannot run."""
    from rnnatlas.analysis.projection import clause_labels, sample_sequences

    ids = index["sequence_id"]
    sampled = sample_sequences(ids, min(STRUCTURE_SENTENCES, ids.nunique()), seed)
    keep = ids.isin(set(sampled)).to_numpy()
    index, matrix = index[keep].reset_index(drop=True), matrix[keep]
    clauses = np.empty(len(index), dtype=object)
    for _, rows in index.groupby("sequence_id", sort=False):
        ordered = rows.sort_values("t")
        clauses[ordered.index] = clause_labels(ordered["token"].astype(str).tolist())
    keep = np.isin(clauses, ["first clause", "second clause"])
    sentences = index.loc[keep & (clauses == "second clause"), "sequence_id"].nunique()
    if sentences < 10 or not 0 < k < matrix.shape[1]:
        return {"skipped": f"{sentences} two-object sentence(s) and {matrix.shape[1]} units "
                f"in the sample: the test needs 10 and more than top_k={k}"}  # fmt: skip
    result = analysis.emphasis_test(W, matrix[keep], clauses[keep], k, seed=seed)
    return {**result, "label": "clause of the word (first / second; 'and' and END left out)"}


def _sentence_deltas(
    trace: np.ndarray, words: list[str], units: np.ndarray, poly: pd.DataFrame
) -> pd.DataFrame:
    units = np.asarray(units, dtype=np.int64)
    deltas = analysis.abs_delta(trace[:, units])
    steps = len(words)
    lists = poly.set_index("unit")["lists"]
    return pd.DataFrame(
        {
            "t": np.repeat(np.arange(steps), len(units)),
            "token": np.repeat(np.asarray(words, dtype=object), len(units)),
            "unit": np.tile(units, steps),
            "abs_delta": deltas.reshape(-1),
            "activation": trace[:, units].reshape(-1),
            "lists": np.tile(lists.reindex(units).fillna(0).astype(np.int64).to_numpy(), steps),
        }
    )


def _decoded_last(outputs: np.ndarray, grammar) -> dict:
    """Argmax concept of every (slot, group) after the last word: a quick sanity check."""
    decoded = {}
    for slot in (0, 1):
        for group in ("object", "position", "color"):
            where = grammar.group_slice(slot, group)
            concepts = [concept for _, _, concept in grammar.output_labels()[where]]
            decoded[f"{group}{slot + 1}"] = concepts[int(np.argmax(outputs[-1, where]))]
    return decoded


def _draw(tables, figures_dir, kind, text, state, labels, summary) -> list[Path]:
    from rnnatlas.figures import style
    from rnnatlas.papers.csl import figures_units as draw

    style.setup()
    paths = draw.winglet(tables["winglet"], figures_dir, model=kind, labels=labels)
    paths += draw.polyvalent_deltas(
        tables["sentence_deltas"], figures_dir, model=kind, sentence=text, state=state
    )
    paths += draw.connected_deltas(
        tables["connected_deltas"],
        figures_dir,
        model=kind,
        output_label=f"{summary['connected_output']} "
        f"({draw.pretty_label(labels[summary['connected_output']])})",
        units=summary["connected_units"],
        sentences=summary["delta_sentences"],
        state=state,
    )
    paths += draw.cell_units(
        tables["sentence_deltas"], figures_dir, model=kind, sentence=text, state=state
    )
    paths += draw.output_activations(
        tables["output_activations"], figures_dir, model=kind, sentence=text
    )
    return paths


__all__ = ["FIGURES", "PAPER_SENTENCE", "TABLES", "run_sentence", "units_step", "wrap_sentence"]
