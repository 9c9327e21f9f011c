"""Inputs of the memory signatures of sequential MNIST: row classes on hand-made digits."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rnnatlas.papers.memory.steps import mnist_row_classes


def write_mnist_split(path, index, labels, images):
    """A sequential-MNIST split file as the MNIST data rule writes it."""
    pixels = pa.array(images.reshape(-1), pa.uint8())
    table = pa.table(
        {
            "index": pa.array(index, pa.int64()),
            "label": pa.array(labels, pa.int64()),
            "image": pa.FixedSizeListArray.from_arrays(pixels, 784),
        }
    )
    pq.write_table(table, path)
    return path


@pytest.fixture
def digits(tmp_path):
    """Three 28x28 digits: rows 0-9 blank; rows 10-18 ink on the left half, rows 19-27 the same
    amount of ink on the right half; the brightness grows with the digit (1, 2, 3 / 3 of 255)."""
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    for digit in range(3):
        level = 85 * (digit + 1)
        images[digit, 10:19, :14] = level
        images[digit, 19:, 14:] = level
    return write_mnist_split(tmp_path / "test.parquet", np.array([7, 8, 9]), np.arange(3), images)


def test_pixel_mean_classes_follow_the_ink_not_its_place(digits):
    ids = np.repeat([7, 8, 9], 30)
    t = np.tile(np.arange(30), 3)  # 28 rows, then 2 appended zero rows
    classes = mnist_row_classes(digits, ids, t, bins=4).reshape(3, 30)
    assert (classes[:, :10] == 0).all()  # blank rows
    assert (classes[:, 28:] == -1).all()  # appended rows carry no input
    # inked rows: means 1/6, 2/6, 3/6 split at their terciles -> one class per digit
    for digit in range(3):
        assert set(classes[digit, 10:28]) == {digit + 1}


def test_row_clusters_tell_left_from_right(digits):
    ids = np.repeat([7, 8, 9], 28)
    t = np.tile(np.arange(28), 3)
    classes = mnist_row_classes(digits, ids, t, bins=3, kind="row_cluster").reshape(3, 28)
    assert (classes[:, :10] == 0).all()
    left, right = set(classes[:, 10:19].ravel()), set(classes[:, 19:].ravel())
    assert len(left) == len(right) == 1 and left | right == {1, 2}  # two prototypes: the sides


def test_bad_row_class_requests(digits):
    with pytest.raises(ValueError, match="not test digits"):
        mnist_row_classes(digits, np.array([1]), np.array([0]), bins=4)
    with pytest.raises(ValueError, match="bins must be >= 2"):
        mnist_row_classes(digits, np.array([7]), np.array([0]), bins=1)
    with pytest.raises(ValueError, match="kind must be"):
        mnist_row_classes(digits, np.array([7]), np.array([0]), bins=3, kind="label")


# ---- the rules' step functions, run as a rule runs them ----------------------------------------


def write_text8_split(path, texts):
    """A text8 split file as the text8_data rule writes it (symbols 1 space, 2.. a-z)."""
    table = pa.table(
        {
            "observation_id": pa.array(range(len(texts)), pa.int64()),
            "source": pa.array(texts, pa.list_(pa.int8())),
            "target": pa.array([[1] * len(t) for t in texts], pa.list_(pa.int32())),
            "length": pa.array([len(t) for t in texts], pa.int32()),
        }
    )
    pq.write_table(table, path)
    return path


def test_ngram_step_job_reads_the_declared_text8_splits(tmp_path):
    """Rule memory_ngram: a 3-gram's state (the last 2 characters) holds lags 0 and 1 exactly;
    on i.i.d. text, lag 2 is at chance; the text is the split's observations joined in order."""
    import pandas as pd

    from rnnatlas.models.ngram import NGramModel
    from rnnatlas.step import make_job, run_job

    rng = np.random.default_rng(0)
    train = [rng.integers(1, 5, 50).tolist() for _ in range(20)]
    test = [rng.integers(1, 5, 50).tolist() for _ in range(30)]
    inputs = {
        "train": write_text8_split(tmp_path / "train.parquet", train),
        "test": write_text8_split(tmp_path / "test.parquet", test),
    }
    memory = {"max_lag": 2, "max_samples": None, "ngram_characters": 1200, "seed": 0}
    out = tmp_path / "ngram3.parquet"
    job = make_job("memory_ngram", input=inputs, output=[out], params={"memory": memory},
                   wildcards={"n": "3"})  # fmt: skip
    run_job(job)
    table = pd.read_parquet(out)
    assert sorted(set(table["model"])) == ["ngram3", "ngram3_shuffled"]
    assert set(table["family"]) == {"text8"} and set(table["state"]) == {"window"}
    real = table[table["model"] == "ngram3"].set_index("lag")
    assert real.loc[0, "accuracy"] == 1.0 and real.loc[1, "accuracy"] == 1.0
    assert real.loc[2, "accuracy"] < 0.4  # four symbols drawn at random: chance is about 1/4
    text = np.concatenate(test)[:1200]  # the first 1200 test characters, observations joined
    expected = NGramModel(3, 28).fit(np.concatenate(train)).cross_entropy(text)
    assert real["lm_cross_entropy"].iloc[0] == pytest.approx(float(expected))


def test_memory_imports_no_other_paper():
    """The memory paper reads the other papers' files, never their code."""
    from pathlib import Path

    import rnnatlas.papers.memory as memory

    for path in Path(memory.__file__).parent.glob("*.py"):
        source = path.read_text()
        for other in ("mnist", "text8", "csl"):
            assert f"rnnatlas.papers.{other}" not in source, (path.name, other)
