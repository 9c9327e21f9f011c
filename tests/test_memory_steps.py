"""Inputs of the memory signatures of sequential MNIST: row classes on hand-made digits."""

from __future__ import annotations

import numpy as np
import pytest

from rnnatlas.papers.memory.steps import mnist_row_classes
from rnnatlas.papers.mnist import steps as mnist_steps


@pytest.fixture
def digits(tmp_path):
    """Three 28x28 digits: rows 0-9 blank; rows 10-18 ink on the left half, rows 19-27 the same
    amount of ink on the right half; the brightness grows with the digit (1, 2, 3 / 3 of 255)."""
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    for digit in range(3):
        level = 85 * (digit + 1)
        images[digit, 10:19, :14] = level
        images[digit, 19:, 14:] = level
    mnist_steps._write_split(tmp_path / "test.parquet", np.array([7, 8, 9]), np.arange(3), images)
    return tmp_path


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
