"""The numbers behind the RSSviz views, against hand-worked cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rnnatlas.analysis import projection


def test_unique_rows_merges_float_noise_and_keeps_first_appearance_order():
    X = np.array(
        [
            [1.0, 2.0],
            [0.0, 0.0],
            [1.0, 2.0 + 1e-9],  # the same state up to batching noise
            [5.0, 5.0],
            [0.0, 0.0],
        ],
        dtype=np.float32,
    )
    unique, first, inverse = projection.unique_rows(X)
    np.testing.assert_array_equal(unique, X[[0, 1, 3]])
    np.testing.assert_array_equal(first, [0, 1, 3])
    np.testing.assert_array_equal(inverse, [0, 1, 0, 2, 1])
    np.testing.assert_allclose(unique[inverse], X, atol=1e-6)


def test_clause_labels_of_one_and_two_object_sentences():
    one = ["BEGIN", "the", "cup", "is", "red", "END"]
    assert projection.clause_labels(one) == ["first clause"] * 5 + ["final word"]
    two = ["BEGIN", "this", "is", "a", "cup", "and", "the", "bowl", "is", "red", "END"]
    assert projection.clause_labels(two) == (
        ["first clause"] * 5 + ["and"] + ["second clause"] * 4 + ["final word"]
    )


def test_slot_scores_and_the_nine_error_classes():
    N = -1
    stated = np.array(
        [
            [[0, 1, N], [2, N, N]],  # two objects, object 1 states object+position
            [[0, 1, N], [2, N, N]],
            [[0, 1, N], [2, N, N]],
            [[3, N, 2], [N, N, N]],  # one object: slot 2 states nothing
            [[3, N, 2], [N, N, N]],
        ]
    )
    decoded = np.array(
        [
            [[0, 1, N], [2, N, N]],  # both slots exact
            [[0, 1, 3], [1, N, N]],  # obj1 valid (extra color), obj2 invalid (wrong object)
            [[0, 0, N], [2, 1, N]],  # obj1 invalid (wrong position), obj2 valid (extra)
            [[3, N, 2], [N, N, N]],  # exact, empty slot 2 decoded empty
            [[3, N, N], [1, N, N]],  # obj1 invalid (color missing), obj2 valid (free)
        ]
    )
    scores = projection.slot_scores(decoded, stated)
    np.testing.assert_array_equal(scores, [[2, 2], [1, 0], [0, 1], [2, 2], [0, 1]])
    np.testing.assert_array_equal(projection.error_classes(scores), [8, 1, 3, 8, 3])
    assert projection.error_class_name(1) == "obj1 valid / obj2 invalid"
    assert projection.error_class_name(8) == "obj1 exact / obj2 exact"
    with pytest.raises(ValueError, match="two \\[N, 2, 3\\] arrays"):
        projection.slot_scores(decoded[:, :1], stated[:, :1])


def test_prefix_and_suffix_nesting_by_hand():
    tokens = [
        ["BEGIN", "a", "b", "END"],
        ["BEGIN", "a", "c", "END"],
        ["BEGIN", "d", "b", "END"],
        ["BEGIN", "d", "e", "END"],
    ]
    finals = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [10.0, 2.0]])
    pairs = [1.0, 10.0, math.sqrt(104), 9.0, math.sqrt(85), 2.0]
    overall = sum(pairs) / 6
    prefix = projection.prefix_nesting(finals, tokens, min_pairs=1)
    # L=1: groups {a: A, B} and {d: C, D}; L=2 is the whole sentence, never a proper prefix
    assert prefix["length"].tolist() == [1]
    row = prefix.iloc[0]
    assert (row["groups"], row["pairs"]) == (2, 2)
    assert row["within"] == pytest.approx((1.0 + 2.0) / 2)
    assert row["ratio"] == pytest.approx(1.5 / overall)
    suffix = projection.prefix_nesting(finals, tokens, kind="suffix", min_pairs=1)
    # L=1: only the last word "b" is shared (A and C, 10 apart)
    assert suffix.iloc[0][["groups", "pairs", "within"]].tolist() == [1, 1, 10.0]
    assert projection.prefix_nesting(finals, tokens, min_pairs=3).empty


def test_nesting_summary_of_a_geometric_curve():
    lengths = np.arange(1, 7)
    table = pd.DataFrame({"length": lengths, "ratio": 0.8 * 0.5**lengths})
    summary = projection.nesting_summary(table)
    assert summary["monotone"] is True
    assert summary["factor"] == pytest.approx(0.5)
    assert summary["r2"] == pytest.approx(1.0)
    assert summary["spearman"] == pytest.approx(-1.0)
    bumpy = table.assign(ratio=[0.9, 0.5, 0.6, 0.3, 0.35, 0.1])
    bumpy_summary = projection.nesting_summary(bumpy)
    assert bumpy_summary["monotone"] is False
    # ranks of the ratios 6 4 5 2 3 1 against 1..6: sum d^2 = 66
    assert bumpy_summary["spearman"] == pytest.approx(1 - 6 * 66 / (6 * 35))
    assert projection.nesting_summary(table.iloc[:2])["r2"] is None


def test_sample_sequences_is_seeded_ordered_and_checked():
    ids = np.repeat(np.arange(100, 120), 3)  # 20 sequences, 3 rows each
    picked = projection.sample_sequences(ids, 5, seed=1)
    assert len(picked) == 5 and len(set(picked)) == 5
    assert list(picked) == sorted(picked)  # file order kept
    np.testing.assert_array_equal(picked, projection.sample_sequences(ids, 5, seed=1))
    assert set(picked) <= set(range(100, 120))
    with pytest.raises(ValueError, match="21 sentences asked for"):
        projection.sample_sequences(ids, 21)


def test_trustworthiness_of_an_exact_and_of_a_scrambled_layout():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    assert projection.trustworthiness(X, X, 5) == pytest.approx(1.0)
    scrambled = projection.trustworthiness(X, rng.permutation(X), 5)
    assert scrambled < 0.7
