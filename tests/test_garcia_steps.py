"""The Garcia rules' steps on the embedded sentences, through the step functions Snakemake calls:
data -> train -> states -> views -> figures, with the views checked against the states file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnatlas.io import parquet_metadata, read_parquet
from rnnatlas.states import metadata, state_matrix
from rnnatlas.step import make_job, run_job

SPEC = {"source": "embedded", "max_length": 40, "embedding": 8, "units": 6, "dropout": 0.5,
        "loss": "binary_cross_entropy", "seed": 3, "competence": 0.7, "shown": 9,
        "projection": {"method": "pca", "random_state": 0}}  # fmt: skip
TRAINING = {"epochs": 2, "batch_size": 64, "lr": 0.001, "validation_split": 0.1}
DATA = ("train", "test", "vocabulary", "card")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("garcia")
    data = {k: root / "data" / f"{k}.{'json' if k == 'card' else 'parquet'}" for k in DATA}
    run_job(make_job("garcia_data", output=data, params={"spec": SPEC},
                     wildcards={"use_case": "polarity"}))  # fmt: skip
    model = {k: root / "model" / name for k, name in
             [("model", "model.pt"), ("card", "model.json"), ("history", "history.parquet"),
              ("metrics", "metrics.json")]}  # fmt: skip
    run_job(make_job("garcia_train", input=data, output=model,
                     params={"spec": SPEC, "training": TRAINING, "resume": str(root / "resume")},
                     wildcards={"use_case": "polarity", "seed": "3"}))  # fmt: skip
    states = root / "states.parquet"
    run_job(make_job("garcia_states", input={**data, "model": model["model"],
                                             "model_card": model["card"]},
                     output=[states], params={"shown": SPEC["shown"]}))  # fmt: skip
    views = {"views": root / "views.parquet", "projection": root / "projection.parquet"}
    run_job(make_job("garcia_views", input={"states": states}, output=views,
                     params={"case": SPEC, "filters": {"distance_jump": 0.4,
                                                       "confidence_change": 0.3}},
                     wildcards={"use_case": "polarity"}))  # fmt: skip
    return {"data": data, "model": model, "states": states, **views, "root": root}


def test_the_classifier_is_trained_and_scored(run):
    metrics = json.loads(run["model"]["metrics"].read_text())
    assert metrics["test_documents"] == 40 and metrics["train_documents"] == 144
    assert metrics["validation_documents"] == 16
    assert np.sum(metrics["confusion"]) == 40
    # one sigmoid output: Keras' binary accuracy and the argmax accuracy are one number
    assert metrics["test_accuracy"] == metrics["test_binary_accuracy"]
    history = read_parquet(run["model"]["history"])
    assert history["epoch"].tolist() == [1, 2] and "valid_accuracy" in history


def test_states_hold_the_words_and_their_expected_predictions(run):
    meta = metadata(run["states"])
    assert meta["classes"] == ["negative", "positive"]
    table = read_parquet(run["states"])
    assert table["sequence_id"].nunique() <= SPEC["shown"]
    assert not table["token"].isin(["<PAD>", "<START>", "<UNK>"]).any()
    ep = np.stack(table["prediction"].to_numpy())
    np.testing.assert_allclose(ep.sum(axis=1), 1.0, rtol=1e-6)


def test_views_agree_with_the_states_file(run):
    views = read_parquet(run["views"])
    index, h = state_matrix(run["states"], "h")
    assert len(views) == len(index)
    assert parquet_metadata(run["views"])["states"] == str(run["states"])
    # a second computation of the normalised distance from the raw states
    steps = np.linalg.norm(np.diff(h, axis=0), axis=1)
    same = index["sequence_id"].to_numpy()[1:] == index["sequence_id"].to_numpy()[:-1]
    raw = np.where(same, steps, np.nan)
    expected = np.r_[np.nan, raw / np.nanmax(raw)]
    np.testing.assert_allclose(views["distance"], expected, rtol=1e-5)
    projection = read_parquet(run["projection"])
    assert len(projection) == len(views) and projection[["x", "y"]].notna().all().all()


def test_figures_of_the_views(run):
    from rnnatlas.papers.garcia.figures import draw_all

    paths = draw_all(run["views"], run["projection"], run["root"] / "figures")
    assert len(paths) == 10 and all(p.stat().st_size > 3000 for p in paths)


def test_the_authors_json_round_trip(run, tmp_path):
    from rnnatlas.papers.garcia.interop import export_json, import_json

    exported = tmp_path / "data_projection.json"
    export_json(run["states"], run["projection"], exported, accuracy=0.5)
    document = json.loads(exported.read_text())
    assert (
        document["classes"] == ["negative", "positive"] and document["model_accuracy"] == "50.00%"
    )
    # the binary model's shape: one output per word, one-element label lists
    assert len(document["modelOutputs"][0][0]) == 1 and len(document["actualValues"][0]) == 1
    back_states, back_projection = tmp_path / "states.parquet", tmp_path / "projection.parquet"
    import_json(exported, back_states, back_projection)
    ours, theirs = read_parquet(run["states"]), read_parquet(back_states)
    assert theirs["token"].tolist() == ours["token"].tolist()
    np.testing.assert_allclose(np.stack(theirs["h"]), np.stack(ours["h"]), rtol=1e-6)
    np.testing.assert_allclose(np.stack(theirs["prediction"]), np.stack(ours["prediction"]),
                               rtol=1e-5)  # fmt: skip
    np.testing.assert_allclose(read_parquet(back_projection)[["x", "y"]],
                               read_parquet(run["projection"])[["x", "y"]])  # fmt: skip


def test_a_hand_written_authors_file_imports(tmp_path):
    from rnnatlas.papers.garcia.interop import import_json

    document = {
        "classes": ["a", "b", "c"], "texts": [["x", "y"]], "actualValues": [2],
        "predictions": [1], "modelOutputs": [[[0.2, 0.5, 0.3], [0.1, 0.6, 0.3]]],
        "hiddenStates": [[[1.0, 0.0], [0.0, 1.0]]], "projection": [[[0, 0], [3, 4]]],
    }  # fmt: skip
    path = tmp_path / "theirs.json"
    path.write_text(json.dumps(document))
    import_json(path, tmp_path / "s.parquet", tmp_path / "p.parquet")
    table = read_parquet(tmp_path / "s.parquet")
    assert table["target"].tolist() == [2, 2] and table["token"].tolist() == ["x", "y"]
    assert metadata(tmp_path / "s.parquet")["classes"] == ["a", "b", "c"]
    from rnnatlas.cli import main

    assert main(["garcia-import", str(path), "--out", str(tmp_path / "imported")]) == 0
    views = read_parquet(tmp_path / "imported" / "views.parquet")
    # the second word's state is sqrt(2) from the first, the largest step: distance 1
    assert views["distance"].tolist()[1] == 1.0 and views["argmax"].tolist() == ["b", "b"]
    assert views["target"].tolist() == ["c", "c"]
    document["texts"] = [["x"]]  # one word, two states
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="document 0 has"):
        import_json(path, tmp_path / "s2.parquet", tmp_path / "p2.parquet")
    assert not (tmp_path / "s2.parquet").exists()
