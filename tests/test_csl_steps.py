"""The CSL steps: training subsets, summaries, and the rules' step functions run as jobs."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnatlas.cli import main
from rnnatlas.io import write_parquet
from rnnatlas.papers.csl.corpus_io import training_subset
from rnnatlas.papers.csl.data import CSLGrammar, build_corpus, juven_split_sizes
from rnnatlas.papers.csl.steps import summarise
from rnnatlas.step import make_job, run_job


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


def corpus_files(folder: Path) -> dict[str, Path]:
    """A corpus's files as the rules name them."""
    names = {"train": "train.parquet", "validation": "validation.parquet"}
    names |= {"test": "test.parquet", "card": "card.json"}
    return {name: folder / file for name, file in names.items()}


CORPUS = {"n_objects": 3, "center": False, "seed": 0, "train": [10, 10], "test": [10, 10],
          "validation": [2, 2], "protocol": "variengien", "totals": [1000, 1000]}  # fmt: skip
DECODE = {"beta": 1.0, "threshold": 1.3, "rule": "relative", "min_output": None}
ESN_SPEC = {"kind": "esn", "units": 40, "spectral_radius": 1.1, "density": 0.85, "leak": 0.05,
            "input_scaling": 1.0, "input_density": 0.1, "bias": True, "readout": "rls",
            "log10_alpha": -3.5, "train_at": "end"}  # fmt: skip
TIMINGS = ("cpu_time_s", "wall_time_s")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    files = corpus_files(tmp_path_factory.mktemp("csl") / "data")
    run_job(make_job("csl_corpus", output=files, params={"corpus": CORPUS}))
    return files


def test_corpus_job_writes_the_declared_files(corpus, tmp_path):
    splits = build_corpus(3, seed=0, train=(10, 10), test=(10, 10), validation=(2, 2))
    for split, frame in splits.items():
        write_parquet(tmp_path / f"{split}.parquet", frame)  # the same Parquet round trip
        expected = pd.read_parquet(tmp_path / f"{split}.parquet")
        pd.testing.assert_frame_equal(pd.read_parquet(corpus[split]), expected)
    card = json.loads(corpus["card"].read_text())
    assert card["dataset"] == "csl-n3" and card["protocol"] == "variengien"
    assert {split: counts["total"] for split, counts in card["splits"].items()} == {
        split: len(frame) for split, frame in splits.items()
    }
    assert card["config"]["train"] == [10, 10] and card["seed"] == 0


def test_corpus_job_under_juven_protocol(tmp_path):
    files = corpus_files(tmp_path / "juven")
    spec = {**CORPUS, "protocol": "juven", "totals": [40, 40]}
    run_job(make_job("csl_corpus", output=files, params={"corpus": spec}))
    card = json.loads(files["card"].read_text())
    sizes = juven_split_sizes(CSLGrammar(3), 40, 40, seed=CORPUS["seed"])
    assert card["dataset"] == "csl-n3-juven" and card["protocol"] == "juven"
    assert card["config"]["train"] == list(sizes["train"])
    assert card["splits"]["test"]["total"] == sum(sizes["test"])


def test_train_esn_job_writes_what_the_training_computes(corpus, tmp_path):
    from rnnatlas.models import load
    from rnnatlas.papers.csl.corpus_io import load_csl
    from rnnatlas.papers.csl.esn_runs import train_esn

    folder = tmp_path / "esn" / "seed1"
    out = {name: folder / file for name, file in
           [("model", "model.pt"), ("card", "model.json"), ("history", "history.parquet"),
            ("metrics", "metrics.json")]}  # fmt: skip
    job = make_job(
        "csl_train_esn", input=corpus, output=out, params={"spec": ESN_SPEC, "decode": DECODE},
        wildcards={"dataset": "csl-n3", "model": "esn", "seed": "1"},
    )  # fmt: skip
    run_job(job)
    run = train_esn(load_csl(corpus), ESN_SPEC, 1, DECODE)
    metrics = json.loads(out["metrics"].read_text())
    assert metrics["model"] == "esn" and metrics["seed"] == 1 and metrics["dataset"] == "csl-n3"
    for key, value in run.metrics.items():
        if key not in TIMINGS:
            assert metrics[key] == pytest.approx(value), key
    card = json.loads(out["card"].read_text())
    assert card["spec"] == ESN_SPEC and card["decode"] == DECODE and card["name"] == "esn"
    np.testing.assert_array_equal(load(out["model"]).Wout.numpy(), run.model.Wout.numpy())
    history = pd.read_parquet(out["history"])
    timing = [c for c in history.columns if c in TIMINGS]
    pd.testing.assert_frame_equal(history.drop(columns=timing), run.history.drop(columns=timing))


def test_collect_job_gathers_and_summarises(tmp_path):
    metrics = []
    for seed, (error, protocol) in enumerate(
        [(0.1, "variengien"), (0.3, "variengien"), (0.9, "juven")]
    ):
        path = tmp_path / f"m{seed}.json"
        path.write_text(json.dumps({"model": "esn", "n_objects": 4, "seed": seed,
                                    "valid_error": error, "protocol": protocol}))  # fmt: skip
        metrics.append(path)
    out = {"runs": tmp_path / "runs.parquet", "summary": tmp_path / "summary.parquet"}
    run_job(make_job("csl_collect", input=metrics, output=out))
    runs = pd.read_parquet(out["runs"])
    assert runs["seed"].tolist() == [0, 1, 2] and runs["valid_error"].tolist() == [0.1, 0.3, 0.9]
    # the protocols are summarised apart, never pooled
    summary = pd.read_parquet(out["summary"]).set_index("protocol").loc["variengien"]
    assert summary["valid_error_mean"] == pytest.approx(0.2)
    assert summary["valid_error_std"] == pytest.approx(0.1414213562373095)
    assert summary["n_runs"] == 2


def test_a_missing_corpus_is_a_one_line_error(tmp_path, capfd):
    folder = tmp_path / "model"
    job = make_job(
        "csl_train_esn", input=corpus_files(tmp_path / "missing"),
        output={"model": folder / "model.pt", "card": folder / "model.json",
                "history": folder / "history.parquet", "metrics": folder / "metrics.json"},
        params={"spec": ESN_SPEC, "decode": DECODE},
        wildcards={"dataset": "csl-n3", "model": "esn", "seed": "0"}, log=tmp_path / "x.log",
    )  # fmt: skip
    with pytest.raises(SystemExit):
        run_job(job)
    err = capfd.readouterr().err
    assert "rule csl_train_esn: error:" in err
    assert "card.json is missing" in err and "csl_corpus" in err
    assert not folder.exists()


def test_figure_dir_checks_the_declared_figures(tmp_path):
    from rnnatlas.papers.csl.steps import _figure_dir

    declared = [tmp_path / "a.png", tmp_path / "a.svg", tmp_path / "b.png", tmp_path / "b.svg"]
    assert _figure_dir(declared, ["a", "b"], ("png", "svg")) == tmp_path
    with pytest.raises(ValueError, match="side by side|expected the figures"):
        _figure_dir(declared[:3], ["a", "b"], ("png", "svg"))


def test_check_config_command(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("csl:\n  models:\n    esn:\n      leak: 3\n")
    root = Path(__file__).resolve().parents[1]
    assert main(["check-config", str(root / "config.yaml")]) == 0
    assert main(["check-config", str(root / "config.yaml"), str(bad)]) == 2
    assert "csl.models.esn.leak" in capsys.readouterr().err
