"""The authors' data format (MunzT/hiddenStatesVis, dataPreparation/shared/exportData.py): one JSON
object per dataset and projection, read by their Flask + D3 viewer. Keys: `classes`, `texts`
(per document its words), `actualValues` and `predictions` (per document; one-element lists for the
binary IMDB model, class indices for Reuters), `modelOutputs` (per document, per word, the output
layer's values: [p] for a sigmoid, the softmax vector otherwise), `hiddenStates` (per document,
per word, the LSTM state) and `projection` (per document, per word, [x, y]); optionally
`model_accuracy` ("85.00%").

`export_json` writes our states file and projection in it, so our runs open in their viewer;
`import_json` reads theirs into our states contract and a projection table, so their
precomputed data gets our views and every state-based analysis.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas import states
from rnnatlas.io import atomic_path, read_parquet, write_parquet

REQUIRED = ("classes", "texts", "actualValues", "predictions", "modelOutputs", "hiddenStates",
            "projection")  # fmt: skip


def export_json(
    states_path: Path, projection_path: Path, out: Path, accuracy: float | None = None
) -> dict:
    """Our states file (state h, expected predictions as `prediction`) and projection as the
    authors' JSON; two classes are written the way their binary model writes them."""
    meta = states.metadata(states_path)
    classes = list(meta["classes"])
    table = read_parquet(states_path, ["sequence_id", "t", "token", "target", "prediction", "h"])
    table = table.sort_values(["sequence_id", "t"])
    projection = read_parquet(projection_path).set_index(["sequence_id", "t"])
    binary = len(classes) == 2
    data = {key: [] for key in REQUIRED if key != "classes"}
    for sequence_id, part in table.groupby("sequence_id", sort=True):
        outputs = np.stack(part["prediction"].to_numpy()).astype(float)
        label, predicted = int(part["target"].iloc[0]), int(outputs[-1].argmax())
        data["texts"].append(part["token"].astype(str).tolist())
        data["actualValues"].append([label] if binary else label)
        data["predictions"].append([predicted] if binary else predicted)
        data["modelOutputs"].append((outputs[:, 1:2] if binary else outputs).tolist())
        data["hiddenStates"].append(np.stack(part["h"].to_numpy()).astype(float).tolist())
        xy = projection.loc[[(sequence_id, t) for t in part["t"]], ["x", "y"]]
        data["projection"].append(xy.to_numpy(float).tolist())
    document = {"classes": classes, **data}
    if accuracy is not None:
        document["model_accuracy"] = f"{100 * accuracy:.2f}%"
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(document))
    return {"documents": len(data["texts"]), "classes": classes}


def _fail(path: Path, what: str) -> None:
    raise ValueError(f"{path}: {what} (the format of hiddenStatesVis' exportData.py)")


def import_json(path: Path, states_out: Path, projection_out: Path) -> dict:
    """The authors' JSON as a states file (state h, expected predictions per class as
    `prediction`, the true class as `target`) and a projection table (sequence_id, t, x, y)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not JSON ({err})") from None
    missing = [key for key in REQUIRED if key not in document]
    if missing:
        _fail(path, f"lacks {missing}")
    classes = [str(name) for name in document["classes"]]
    counts = {key: len(document[key]) for key in REQUIRED if key != "classes"}
    if len(set(counts.values())) != 1:
        _fail(path, f"its per-document lists differ in length: {counts}")
    rows = []

    def sequences():
        for doc, words in enumerate(document["texts"]):
            hidden = np.asarray(document["hiddenStates"][doc], dtype=np.float32)
            outputs = np.asarray(document["modelOutputs"][doc], dtype=np.float64)
            xy = np.asarray(document["projection"][doc], dtype=np.float64)
            lengths = {"texts": len(words), "hiddenStates": len(hidden),
                       "modelOutputs": len(outputs), "projection": len(xy)}  # fmt: skip
            if len(set(lengths.values())) != 1:
                _fail(path, f"document {doc} has {lengths} words/steps")
            if outputs.shape[1] == 1:  # the sigmoid model: p of the second class
                outputs = np.column_stack([1 - outputs[:, 0], outputs[:, 0]])
            if outputs.shape[1] != len(classes):
                _fail(path, f"document {doc}: {outputs.shape[1]} outputs for {len(classes)} "
                      "classes")  # fmt: skip
            label = document["actualValues"][doc]
            label = int(label[0] if isinstance(label, list) else label)
            rows.append(pd.DataFrame({"sequence_id": doc, "t": np.arange(len(xy)),
                                      "x": xy[:, 0], "y": xy[:, 1]}))  # fmt: skip
            yield states.SequenceStates(
                sequence_id=doc, tokens=[str(w) for w in words], states={"h": hidden},
                targets=np.full(len(words), label, dtype=np.int64), predictions=outputs,
            )  # fmt: skip

    meta = {
        "model": f"imported from {path.name}",
        "classes": classes,
        "source": "hiddenStatesVis JSON",
        "model_accuracy": document.get("model_accuracy"),
    }
    states.write(states_out, sequences(), metadata=meta)
    write_parquet(projection_out, pd.concat(rows, ignore_index=True))
    return {"documents": len(document["texts"]), "classes": classes}


def import_views(path: Path, folder: Path) -> list[Path]:
    """`import_json` into folder/states.parquet and folder/projection.parquet, then the views
    table folder/views.parquet (their projection kept)."""
    from rnnatlas.analysis.trajectories import views_table
    from rnnatlas.states import state_matrix

    folder = Path(folder)
    states_path, projection_path = folder / "states.parquet", folder / "projection.parquet"
    summary = import_json(path, states_path, projection_path)
    index, matrix = state_matrix(states_path, "h")
    table = read_parquet(states_path, ["prediction", "target"])
    views = views_table(index, matrix, np.stack(table["prediction"].to_numpy()),
                        summary["classes"], targets=table["target"].to_numpy())  # fmt: skip
    views_path = folder / "views.parquet"
    write_parquet(views_path, views, metadata={"states": str(states_path), "state": "h",
                                               "classes": summary["classes"]})  # fmt: skip
    return [states_path, projection_path, views_path]
