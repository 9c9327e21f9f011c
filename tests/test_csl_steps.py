"""Small pieces of the CSL steps: training subsets, summaries, command-line errors."""

import json

import numpy as np
import pandas as pd
import pytest

from rnnatlas.cli import main
from rnnatlas.papers.csl.corpus_io import training_subset
from rnnatlas.papers.csl.data import build_corpus
from rnnatlas.papers.csl.steps import summarise


@pytest.fixture(scope="module")
def train():
    return build_corpus(4, seed=3)["train"]


def test_training_subset_keeps_the_30_70_split_and_nests(train):
    small, large = training_subset(train, 100), training_subset(train, 500)
    assert (small["n_clauses"] == 1).sum() == 30 and (small["n_clauses"] == 2).sum() == 70
    assert (large["n_clauses"] == 1).sum() == 150 and (large["n_clauses"] == 2).sum() == 350
    assert set(small["sentence_id"]) <= set(large["sentence_id"])
    assert training_subset(train, 1000)["sentence_id"].tolist() == train["sentence_id"].tolist()
    with pytest.raises(ValueError, match="training sentences asked for"):
        training_subset(train, 1001)


def test_summarise_mean_sd_count():
    runs = pd.DataFrame(
        {"model": ["a", "a", "a", "b"], "n_objects": 4, "valid_error": [0.1, 0.2, 0.3, 0.5]}
    )
    summary = summarise(runs, ["n_objects", "model"]).set_index("model")
    assert summary.loc["a", "valid_error_mean"] == pytest.approx(0.2)
    assert summary.loc["a", "valid_error_std"] == pytest.approx(0.1)  # ddof=1
    assert np.isnan(summary.loc["b", "valid_error_std"]) and summary.loc["b", "n_runs"] == 1


def test_cli_reports_user_errors_in_one_line(tmp_path, capsys):
    code = main(["csl-train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "m"),
                 "--name", "esn", "--spec", json.dumps({"kind": "esn"})])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "card.json is missing" in err and "csl_corpus" in err
    assert not (tmp_path / "m").exists()


def test_cli_rejects_malformed_json(tmp_path):
    with pytest.raises(SystemExit):
        main(
            [
                "csl-bow",
                "--out",
                str(tmp_path / "b.parquet"),
                "--corpus",
                "{not json",
                "--runs",
                "1",
            ]
        )


def test_check_config_command(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("csl:\n  models:\n    esn:\n      leak: 3\n")
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    assert main(["check-config", str(root / "config.yaml")]) == 0
    assert main(["check-config", str(root / "config.yaml"), str(bad)]) == 2
    assert "csl.models.esn.leak" in capsys.readouterr().err
