"""Animated RSSviz across training (Variengien & Hinaut 2020; the protocol is our interpretation).

ESN: the reservoir does not learn, so its layout is fixed; each frame recolors it by the outputs of
the readout after it has seen n training sentences (online RLS re-run from the saved reservoir on
the training split, in training order). LSTM: one UMAP is fitted on the states of all chosen epochs
together, so every epoch is drawn in one common layout.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas import states
from rnnatlas.analysis import projection
from rnnatlas.io import read_json, read_parquet, write_json, write_parquet

log = logging.getLogger("rnnatlas")

INTERPRETATION = {
    "esn": "fixed layout of the reservoir states (the reservoir is not trained), recolored by the "
    "outputs of the online RLS readout after n training sentences, re-run from the saved "
    "reservoir in training order",
    "lstm": "one common layout: UMAP fitted once on the unique cell states of every chosen epoch "
    "together, each frame showing one epoch's states in it",
}


def esn_readouts(model, card: Mapping, data, stages: Sequence[int]) -> list[np.ndarray]:
    """The readout after each number of training sentences, as training produced it."""
    from rnnatlas.models.readout import ridge_fit, rls_fit
    from rnnatlas.papers.csl.esn_runs import RLS_BLOCK_ROWS, training_rows

    spec = card["spec"]
    frame = data.splits["train"]
    tokens = [np.asarray(t, dtype=np.int64) for t in frame["tokens"]]
    teachers = data.teachers("train")
    X, Y, owner = training_rows(model.reservoir_weights(), tokens, teachers, spec["train_at"])
    alpha = 10.0 ** float(spec["log10_alpha"])
    block = 1 if spec["train_at"] == "end" else RLS_BLOCK_ROWS
    readouts, state, done = [], None, 0
    for stage in sorted(stages):
        if stage > len(tokens):
            raise ValueError(
                f"csl.rssviz.training.esn_sentences asks for {stage} sentences; the training "
                f"split has {len(tokens)}"
            )
        if spec["readout"] == "ridge":  # offline: refit on the first `stage` sentences
            rows = owner < stage
            W = (
                ridge_fit(X[rows], Y[rows], ridge=alpha)
                if stage
                else np.zeros((X.shape[1], Y.shape[1]))
            )
        else:
            rows = (owner >= done) & (owner < stage)
            if rows.any():
                state = rls_fit(X[rows], Y[rows], alpha=alpha, state=state, block=block)
            W = state.Wout.copy() if state is not None else np.zeros((X.shape[1], Y.shape[1]))
            done = stage
        readouts.append(W)
    return readouts


def _fit_points(embedding: pd.DataFrame) -> pd.DataFrame:
    return embedding[embedding["role"] == "fit"].drop_duplicates("unique_id")


def esn_frames(
    embedding: pd.DataFrame, states_path: Path, model_path: Path, model_card: Path,
    corpus: Mapping[str, Path], stages: Sequence[int], outputs: Sequence[str], decode: Mapping,
) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Long table (frame, stage, unique_id, x, y, output, activation) and per-frame test errors.

    model_path is the ESN's model.pt, model_card its model.json; corpus the corpus's files.
    """
    from rnnatlas.models import load
    from rnnatlas.models.esn import harvest
    from rnnatlas.models.readout import predict, with_bias
    from rnnatlas.papers.csl.corpus_io import load_csl
    from rnnatlas.papers.csl.metrics import csl_errors

    data = load_csl(corpus)
    model = load(model_path)
    card = read_json(model_card, "rule csl_train_* writes it")
    points = _fit_points(embedding)
    index, X = states.state_matrix(states_path, "x")
    row_of = {key: i for i, key in enumerate(zip(index["sequence_id"], index["t"], strict=True))}
    rows = [row_of.get((s, t)) for s, t in zip(points["sequence_id"], points["t"], strict=True)]
    point_X = np.stack([X[r] if r is not None else np.zeros(X.shape[1], X.dtype) for r in rows])
    columns = _output_columns(card["output_labels"], outputs)
    test_end = harvest(model.reservoir_weights(), data.tokens("test"), record="last")
    stages = sorted(stages)
    frames, errors = [], []
    for k, (stage, W) in enumerate(
        zip(stages, esn_readouts(model, card, data, stages), strict=True)
    ):
        activation = with_bias(point_X.astype(np.float64)) @ W[:, columns]
        for j, label in enumerate(outputs):
            frames.append(_frame_rows(k, stage, points, label, activation[:, j]))
        scores = csl_errors(
            predict(with_bias(test_end), W), data.splits["test"], data.grammar, **decode
        )
        errors.append({"frame": k, "stage": stage, **scores})
    final_gap = (
        float(np.abs(W - model.Wout.numpy()).max())
        if stages[-1] == len(data.splits["train"])
        else None
    )
    table = pd.concat(frames, ignore_index=True)
    table.attrs["final_readout_max_abs_diff"] = final_gap
    return table, pd.DataFrame(errors)


def lstm_frames(
    embedding: pd.DataFrame, model_card: Path, checkpoints: Path, corpus: Mapping[str, Path],
    epochs: Sequence[int], outputs: Sequence[str], state: str, umap: Mapping, random_state: int,
    decode: Mapping | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """The states of every chosen epoch in one common layout, and each epoch's test errors.

    model_card is the LSTM's model.json, checkpoints the folder of its saved epochs
    (epoch{k:03d}.pt, the training rule's output); corpus the corpus's files.
    """
    import torch

    from rnnatlas.models import load
    from rnnatlas.models.lstm import one_hot_batch
    from rnnatlas.papers.csl.corpus_io import load_csl
    from rnnatlas.papers.csl.metrics import csl_errors

    decode = dict(decode or {})
    data = load_csl(corpus)
    card = read_json(model_card, "rule csl_train_* writes it")
    checkpoints = Path(checkpoints)
    saved = sorted(int(p.stem[5:]) for p in checkpoints.glob("epoch*.pt"))
    chosen = [e for e in sorted(epochs) if e in saved]
    if saved and saved[-1] not in chosen:
        chosen.append(saved[-1])  # the trained network's own frame anchors the layout
    if len(chosen) < 2:
        raise ValueError(f"{checkpoints} holds epochs {saved}: fewer than 2 to animate")
    fit = embedding[embedding["role"] == "fit"]
    sentence_ids = pd.unique(fit.loc[fit["sequence_id"] >= 0, "sequence_id"])
    test = data.splits["test"].set_index("sentence_id").loc[sentence_ids]
    tokens = [np.asarray(t, dtype=np.int64) for t in test["tokens"]]
    inputs, lengths = one_hot_batch(tokens, data.input_dim)
    columns = _output_columns(card["output_labels"], outputs)
    with_initial = bool((fit["t"] == -1).any())

    test_inputs, test_lengths = one_hot_batch(data.tokens("test"), data.input_dim)
    test_errors = {}

    def epoch_states(epoch: int) -> tuple[np.ndarray, np.ndarray]:
        model = load(checkpoints / f"epoch{epoch:03d}.pt")
        with torch.no_grad():
            last = model.last_output(test_inputs, test_lengths).numpy()
            test_errors[epoch] = csl_errors(last, data.splits["test"], data.grammar, **decode)
            recorded = model.states(inputs, lengths)[state]
            out = model(inputs, lengths)
            initial_out = model.readout.bias.detach()
        mask = torch.arange(inputs.shape[1])[None, :] < lengths[:, None]
        S, outs = recorded[mask].numpy(), out[mask].numpy()
        if with_initial:
            S = np.vstack([np.zeros((1, S.shape[1]), S.dtype), S])
            outs = np.vstack([initial_out.numpy()[None, :], outs])
        return S, outs

    points = fit.reset_index(drop=True)  # same rows, same order as epoch_states
    per_epoch = [epoch_states(epoch) for epoch in chosen]
    if len(points) != len(per_epoch[-1][0]):
        raise ValueError("the embedding's fitted rows do not match the sentences' states")
    # One layout for all epochs: UMAP fitted on the unique states of every chosen epoch at once
    # (cheaper than fit + transform, whose numba search kernels compile for ~30 s, and it does
    # not pull untrained states onto the trained clusters as transform's neighbour search does).
    keep = np.unique(projection.unique_rows(per_epoch[-1][0])[2], return_index=True)[1]
    stacked = np.vstack([S[keep] for S, _ in per_epoch])
    unique, _, inverse = projection.unique_rows(stacked)
    layout = projection.fit_umap(unique, umap, random_state=random_state)
    xy_all = layout.embedding[inverse].reshape(len(chosen), len(keep), 2)
    base = points.iloc[keep].reset_index(drop=True)
    frames, errors = [], []
    for k, (epoch, (_, outs)) in enumerate(zip(chosen, per_epoch, strict=True)):
        placed = base.assign(x=xy_all[k, :, 0], y=xy_all[k, :, 1])
        for j, label in enumerate(outputs):
            frames.append(_frame_rows(k, epoch, placed, label, outs[keep, columns[j]]))
        errors.append({"frame": k, "stage": epoch, **test_errors[epoch]})
    return pd.concat(frames, ignore_index=True), pd.DataFrame(errors)


def _output_columns(labels: Sequence[str], outputs: Sequence[str]) -> list[int]:
    missing = [o for o in outputs if o not in labels]
    if missing:
        raise ValueError(
            f"csl.rssviz.outputs: {missing[0]!r} is not an output of this model; "
            f"outputs are {', '.join(labels)}"
        )
    return [list(labels).index(o) for o in outputs]


def _frame_rows(frame: int, stage: int, points: pd.DataFrame, label: str, values) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "frame": frame,
            "stage": stage,
            "unique_id": points["unique_id"].to_numpy(),
            "sequence_id": points["sequence_id"].to_numpy(),
            "t": points["t"].to_numpy(),
            "token": points["token"].to_numpy(),
            "clause": points["clause"].to_numpy(),
            "x": points["x"].to_numpy(),
            "y": points["y"].to_numpy(),
            "output": label,
            "activation": np.asarray(values, dtype=np.float64),
        }
    )


def training_step(
    kind: str, embedding_path: Path, states_path: Path, model_path: Path, model_card: Path,
    corpus: Mapping[str, Path], checkpoints: Path | None, out: Mapping[str, Path],
    figures_dir: Path, name: str, *, stages: Sequence[int], outputs: Sequence[str],
    decode: Mapping, state: str = "c0", umap: Mapping | None = None, random_state: int = 42,
    title: str | None = None,
) -> dict:  # fmt: skip
    """`out`'s "frames", "errors" (Parquet) and "summary" (JSON), and the GIF with its film strip
    (figures_dir/name.gif, .png, .svg).

    model_path and model_card are the model's model.pt and model.json; checkpoints (an LSTM's
    saved epochs) may be None for an ESN.
    """
    from rnnatlas.papers.csl.figures_rssviz_training import draw_animation

    embedding = read_parquet(embedding_path)
    if kind == "esn":
        frames, errors = esn_frames(
            embedding, states_path, model_path, model_card, corpus, stages, outputs, decode
        )
        unit = "training sentences"
    elif kind == "lstm":
        if checkpoints is None:
            raise ValueError("the LSTM's animation needs its checkpoints folder")
        frames, errors = lstm_frames(
            embedding,
            model_card,
            checkpoints,
            corpus,
            stages,
            outputs,
            state,
            umap or {},
            random_state,
            decode,
        )
        unit = "epochs"
    else:
        raise ValueError(f"no animation for model kind {kind!r}")
    write_parquet(out["frames"], frames)
    write_parquet(out["errors"], errors)
    summary = {
        "kind": kind,
        "interpretation": INTERPRETATION[kind],
        "stage_unit": unit,
        "stages": sorted(frames["stage"].unique().tolist()),
        "outputs": list(outputs),
        "final_readout_max_abs_diff": frames.attrs.get("final_readout_max_abs_diff"),
    }
    write_json(out["summary"], summary)
    draw_animation(frames, errors, unit, title or name, figures_dir, name)
    log.info("animation %s: %d frames", name, len(summary["stages"]))
    return summary
