"""t-SNE step on a hand-made states file in the public contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnatlas import states
from rnnatlas.papers.mnist.tsne import state_cube, tsne_step


def _write_states(path, n=90, steps=4, units=6, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    cube = rng.normal(size=(n, steps, units)).astype(np.float32)
    cube[:, 2, :3] += 8 * np.eye(3, dtype=np.float32)[labels]  # step 2: digits separate
    sequences = (
        states.SequenceStates(
            sequence_id=100 + i,
            tokens=[f"row{t}" for t in range(steps)],
            states={"h0": cube[i]},
            targets=np.full(steps, labels[i]),
            predictions=np.zeros(steps, dtype=np.int64),
        )
        for i in range(n)
    )
    states.write(path, sequences, metadata={"model": "toy", "kind": "rnn"})
    return labels, cube


def test_state_cube_round_trips_the_states_file(tmp_path):
    labels, cube = _write_states(tmp_path / "s.parquet")
    ids, got_labels, got = state_cube(tmp_path / "s.parquet")
    np.testing.assert_array_equal(ids, np.arange(100, 190))
    np.testing.assert_array_equal(got_labels, labels)
    np.testing.assert_allclose(got, cube)


def test_tsne_step_measures_where_digits_separate(tmp_path):
    _write_states(tmp_path / "s.parquet")
    separability = tsne_step(
        tmp_path / "s.parquet", tmp_path / "tsne.parquet", tmp_path / "separability.parquet",
        steps=[0, 2], points=60, perplexity=10,
    )  # fmt: skip
    by_step = separability.set_index("step")
    assert by_step.loc[2, "knn_accuracy"] == 1.0
    assert by_step.loc[0, "knn_accuracy"] < 0.7
    table = pd.read_parquet(tmp_path / "tsne.parquet")
    assert len(table) == 120 and sorted(table["step"].unique()) == [0, 2]
    assert pd.read_parquet(tmp_path / "separability.parquet").shape[0] == 2
    with pytest.raises(ValueError, match="outside"):
        tsne_step(tmp_path / "s.parquet", tmp_path / "t", tmp_path / "s", steps=[4])
