"""The sequential-MNIST rules' step functions, run through rnnatlas.step as a rule runs them:
each writes its declared files, with the values of the functions it calls."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rnnatlas import states
from rnnatlas.papers.mnist import data as mnist_data
from rnnatlas.papers.mnist.data import MNIST_FILES
from rnnatlas.papers.mnist.dimension import dimension_by_step
from rnnatlas.papers.mnist.tsne import tsne_step
from rnnatlas.step import make_job, run_job


def _write_states(path, n=60, steps=5, units=4, seed=0):
    """Three digit classes that separate at step 3 (a 3-unit offset per class)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    cube = rng.normal(size=(n, steps, units)).astype(np.float32)
    cube[:, 3, :3] += 8 * np.eye(3, dtype=np.float32)[labels]
    sequences = (
        states.SequenceStates(
            sequence_id=i,
            tokens=[f"row{t}" for t in range(steps)],
            states={"h0": cube[i]},
            targets=np.full(steps, labels[i]),
            predictions=np.zeros(steps, dtype=np.int64),
        )
        for i in range(n)
    )
    states.write(path, sequences, metadata={"model": "toy", "kind": "rnn"})


def test_download_job_fetches_each_file_to_its_declared_path(tmp_path, monkeypatch):
    """Nothing leaves the machine: fetch is replaced by a recorder."""
    fetched = {}

    def fake_fetch(urls, dest, **checks):
        fetched[dest.name] = (urls, dest, checks)
        return dest

    monkeypatch.setattr(mnist_data, "fetch", fake_fetch)
    output = {key: tmp_path / "idx" / f"{key}.gz" for key in MNIST_FILES}
    run_job(make_job("mnist_download", output=output, log=tmp_path / "download.log"))
    assert sorted(fetched) == sorted(f"{key}.gz" for key in MNIST_FILES)
    for key, spec in MNIST_FILES.items():
        urls, dest, checks = fetched[f"{key}.gz"]
        assert dest == output[key] and urls == spec.urls
        assert checks["sha256"] == spec.sha256 and checks["md5"] == spec.md5


def test_data_job_writes_the_declared_split_files_and_card(tmp_path):
    output = {
        "train": tmp_path / "d" / "train.parquet",
        "test": tmp_path / "d" / "test.parquet",
        "card": tmp_path / "d" / "card.json",
    }
    params = {"data": {"source": "embedded", "test_fraction": 0.2, "seed": 0}}
    run_job(make_job("mnist_data", output=output, params=params, log=tmp_path / "data.log"))
    card = json.loads(output["card"].read_text())
    assert card["config"] == {"source": "embedded", "test_fraction": 0.2, "seed": 0}
    assert card["splits"]["train"]["total"] == 4000 and card["splits"]["test"]["total"] == 1000
    images, labels = mnist_data.embedded_arrays()
    from rnnatlas.papers.mnist.steps import read_split

    for split in ("train", "test"):
        index, got_labels, got_images = read_split(output[split])
        np.testing.assert_array_equal(got_images, images[index])
        np.testing.assert_array_equal(got_labels, labels[index])


def test_tsne_job_matches_tsne_step(tmp_path):
    _write_states(tmp_path / "s.parquet")
    config = {"steps": [3], "points": 40, "perplexity": 10, "seed": 1}
    job = make_job(
        "mnist_tsne",
        input=[tmp_path / "s.parquet"],
        output={
            "tsne": tmp_path / "job" / "tsne.parquet",
            "separability": tmp_path / "job" / "sep.parquet",
        },
        params={"tsne": config},
        log=tmp_path / "tsne.log",
    )
    run_job(job)
    direct = tsne_step(
        tmp_path / "s.parquet", tmp_path / "t.parquet", tmp_path / "sep.parquet", [3],
        points=40, perplexity=10.0, seed=1,
    )  # fmt: skip
    pd.testing.assert_frame_equal(pd.read_parquet(job.output.separability), direct)
    pd.testing.assert_frame_equal(
        pd.read_parquet(job.output.tsne), pd.read_parquet(tmp_path / "t.parquet")
    )
    assert direct.set_index("step").loc[3, "knn_accuracy"] == 1.0
    assert len(pd.read_parquet(job.output.tsne)) == 40


def test_dimension_job_matches_dimension_by_step(tmp_path):
    _write_states(tmp_path / "s.parquet")
    config = {"methods": ["participation_ratio", "twonn"], "stride": 2, "points": 50}
    job = make_job(
        "mnist_dimension",
        input=[tmp_path / "s.parquet"],
        output=[tmp_path / "dimension.parquet"],
        params={"dimension": config},
        log=tmp_path / "dimension.log",
    )
    run_job(job)
    got = pd.read_parquet(tmp_path / "dimension.parquet")
    expected = dimension_by_step(
        tmp_path / "s.parquet", methods=config["methods"], stride=2, points=50, seed=0
    )
    pd.testing.assert_frame_equal(got, expected)
    assert sorted(got["t"].unique()) == [0, 2, 4] and (got["points"] == 50).all()


def test_a_missing_input_is_one_clear_error(tmp_path):
    job = make_job(
        "mnist_dimension",
        input=[tmp_path / "absent.parquet"],
        output=[tmp_path / "dimension.parquet"],
        params={"dimension": {"methods": ["participation_ratio"], "stride": 1, "points": 10}},
        log=tmp_path / "dimension.log",
    )
    with pytest.raises(SystemExit):
        run_job(job)
    assert not (tmp_path / "dimension.parquet").exists()
