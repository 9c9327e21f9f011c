"""Memory signatures against hand-made sequences, hand-counted chance levels, scikit-learn's
logistic regression (same objective) and reservoirpy's memory capacity."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from rnnatlas import states as states_io
from rnnatlas.analysis.memory_signature import (
    COLUMNS,
    memory_capacity_check,
    memory_signature,
    memory_signature_from_parquet,
)


@pytest.fixture(autouse=True)
def one_thread(restore_torch_globals):
    """Tiny fits: with 2 threads on a shared 2-core machine each small op waits on the other."""
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield


def lagged_copy(symbols: np.ndarray, lengths: list[int], lag: int, vocab: int) -> np.ndarray:
    """One-hot of the input `lag` steps back in the same sequence (zeros before its start)."""
    states = np.zeros((len(symbols), vocab))
    start = 0
    for length in lengths:
        for t in range(lag, length):
            states[start + t, symbols[start + t - lag]] = 1.0
        start += length
    return states


def random_sequences(rng, lengths, probabilities):
    symbols = rng.choice(len(probabilities), size=sum(lengths), p=probabilities)
    ids = np.repeat(np.arange(len(lengths)), lengths)
    return symbols, ids


def test_lag_two_copy_is_decoded_at_lag_two_only():
    rng = np.random.default_rng(1)
    lengths = list(rng.integers(20, 60, size=60))
    probabilities = [0.5, 0.25, 0.15, 0.1]
    symbols, ids = random_sequences(rng, lengths, probabilities)
    states = lagged_copy(symbols, lengths, 2, 4)
    table = memory_signature(states, symbols, 4, sequence_ids=ids)

    assert list(table.columns) == list(COLUMNS)
    assert table["lag"].tolist() == [0, 1, 2, 3, 4]
    by_lag = table.set_index("lag")
    assert by_lag.loc[2, "accuracy"] == 1.0
    assert by_lag.loc[2, "cross_entropy"] < 0.1
    for lag in (0, 1, 3, 4):  # nothing to decode: the decoder falls back to the majority class
        assert by_lag.loc[lag, "accuracy"] == pytest.approx(
            by_lag.loc[lag, "chance_majority"], abs=0.03
        )
        assert by_lag.loc[lag, "cross_entropy"] > by_lag.loc[lag, "chance_entropy"] - 0.03
    # the unigram entropy of the hand-made distribution, estimated on ~2,000 train targets
    entropy = -sum(p * math.log(p) for p in probabilities)
    assert by_lag["chance_entropy"].to_numpy() == pytest.approx(entropy, abs=0.05)
    assert by_lag["chance_majority"].to_numpy() == pytest.approx(0.5, abs=0.05)


def test_samples_per_lag_respect_sequence_boundaries():
    lengths = [1, 2, 3, 5, 8, 13, 4, 6, 7, 9]
    rng = np.random.default_rng(2)
    symbols, ids = random_sequences(rng, lengths, [0.5, 0.5])
    states = rng.normal(size=(len(symbols), 3))
    max_lag = 9
    table = memory_signature(states, symbols, max_lag, sequence_ids=ids)
    expected = [sum(max(0, length - k) for length in lengths) for k in range(max_lag + 1)]
    assert (table["n_train"] + table["n_test"]).tolist() == expected
    # lags no sequence reaches: no samples, no numbers
    assert table.loc[table["lag"] >= 13, "accuracy"].isna().all()


def test_warmup_and_max_samples():
    lengths = [10] * 20
    rng = np.random.default_rng(10)
    symbols, ids = random_sequences(rng, lengths, [0.5, 0.5])
    states = rng.normal(size=(len(symbols), 3))
    table = memory_signature(states, symbols, 5, sequence_ids=ids, warmup=3)
    # positions 0..2 are no sample, but their inputs are targets of later states
    expected = [20 * (10 - max(k, 3)) for k in range(6)]
    assert (table["n_train"] + table["n_test"]).tolist() == expected
    capped = memory_signature(states, symbols, 1, sequence_ids=ids, max_samples=50)
    assert capped.loc[0, "n_train"] + capped.loc[0, "n_test"] == 50


def test_interleaved_rows_give_the_same_signature():
    """Rows of a sequence need not be contiguous, only in time order."""
    rng = np.random.default_rng(3)
    lengths = [30] * 12
    symbols, ids = random_sequences(rng, lengths, [0.4, 0.3, 0.3])
    states = lagged_copy(symbols, lengths, 1, 3) + 0.1 * rng.normal(size=(len(symbols), 3))
    order = np.concatenate([np.flatnonzero(ids == s) for s in rng.permutation(12)])
    mixed = order.reshape(12, 30).T.reshape(-1)  # round-robin: step t of every sequence, t + 1
    contiguous = memory_signature(states, symbols, 3, sequence_ids=ids)
    interleaved = memory_signature(states[mixed], symbols[mixed], 3, sequence_ids=ids[mixed])
    assert contiguous[["n_train", "n_test"]].equals(interleaved[["n_train", "n_test"]])
    assert interleaved["accuracy"].to_numpy() == pytest.approx(contiguous["accuracy"], abs=1e-9)
    assert interleaved.loc[1, "accuracy"] == 1.0


def test_chance_levels_by_hand_on_one_sequence():
    """One sequence: the last quarter of the positions is the test block."""
    text = "aababcaabacabbaacaabcabaaabcbaabbbabccab"  # 40 characters
    symbols = np.array(list(text))
    states = np.random.default_rng(4).normal(size=(len(text), 2))
    table = memory_signature(states, symbols, 2, test_fraction=0.25).set_index("lag")
    test_start = 30  # round(0.25 * 40) = 10 test positions
    for lag in range(3):
        train_targets = [text[t - lag] for t in range(lag, test_start)]
        test_targets = [text[t - lag] for t in range(test_start, len(text))]
        counts = Counter(train_targets)
        majority = min(counts, key=lambda s: (-counts[s], s))  # ties: first in sorted order
        entropy = -sum(
            c / len(train_targets) * math.log(c / len(train_targets)) for c in counts.values()
        )
        hits = sum(target == majority for target in test_targets) / len(test_targets)
        assert table.loc[lag, "n_train"] == len(train_targets)
        assert table.loc[lag, "n_test"] == len(test_targets) == 10
        assert table.loc[lag, "chance_majority"] == pytest.approx(hits, abs=1e-12)
        assert table.loc[lag, "chance_entropy"] == pytest.approx(entropy, abs=1e-12)


def test_logistic_matches_scikit_learn_per_lag():
    """Same objective as LogisticRegression(C): same held-out accuracy and cross-entropy."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(5)
    n, vocab, max_lag = 900, 3, 3
    symbols = rng.integers(0, vocab, size=n)
    # noisy, mixed memory of the last three inputs
    past = np.stack([np.eye(vocab)[np.roll(symbols, k)] for k in range(3)], axis=1)
    states = past.reshape(n, -1) @ rng.normal(size=(3 * vocab, 6)) + rng.normal(size=(n, 6))
    ours = memory_signature(states, symbols, max_lag, C=0.5, tol=1e-7, max_iter=2000)

    test_start = n - round(0.25 * n)
    mean, scale = states[:test_start].mean(0), states[:test_start].std(0)
    features = (states - mean) / scale
    for lag in range(max_lag + 1):
        train = np.arange(lag, test_start)
        test = np.arange(test_start, n)
        model = LogisticRegression(C=0.5, tol=1e-10, max_iter=5000)
        model.fit(features[train], symbols[train - lag])
        p = model.predict_proba(features[test])
        truth = symbols[test - lag]
        accuracy = np.mean(p.argmax(1) == truth)
        cross_entropy = -np.mean(np.log(p[np.arange(len(test)), truth]))
        row = ours.loc[lag]
        assert row["accuracy"] == pytest.approx(accuracy, abs=2 / len(test))
        assert row["cross_entropy"] == pytest.approx(cross_entropy, abs=2e-4)


def test_mlp_decodes_what_a_linear_decoder_cannot():
    """Lag-1 input coded as the XOR of two signs: a linear decoder gains no cross-entropy."""
    rng = np.random.default_rng(6)
    n = 1200
    symbols = rng.integers(0, 2, size=n)
    previous = np.r_[0, symbols[:-1]]
    first = rng.choice([-1.0, 1.0], size=n)
    second = np.where(previous == 1, first, -first)  # sign(first * second) = 2 previous - 1
    states = np.stack([first, second], 1) * rng.uniform(0.5, 1.5, size=(n, 2))
    logistic = memory_signature(states, symbols, 1)
    mlp = memory_signature(states, symbols, 1, decoder="mlp", hidden_units=8, seed=0)
    # (its accuracy is not at chance: a line can still cut off one quadrant, 75 % at best)
    assert logistic.loc[1, "cross_entropy"] > logistic.loc[1, "chance_entropy"] - 0.01
    assert mlp.loc[1, "accuracy"] > 0.97
    assert mlp.loc[1, "cross_entropy"] < 0.2
    assert mlp.loc[0, "accuracy"] < 0.6  # the current input is not in the state


def test_linear_decoder_on_a_copy_of_two_real_inputs():
    rng = np.random.default_rng(7)
    u = rng.uniform(-1, 1, size=2000)
    states = np.stack([u, np.r_[0.0, u[:-1]], rng.normal(size=2000)], axis=1)
    table = memory_signature(states, u, 3, decoder="linear", ridge=1e-9).set_index("lag")
    assert table.loc[[0, 1], "r2"].to_numpy() == pytest.approx(1.0, abs=1e-9)
    assert table.loc[[0, 1], "squared_correlation"].to_numpy() == pytest.approx(1.0, abs=1e-9)
    assert (table.loc[[2, 3], "squared_correlation"] < 0.01).all()
    assert table["accuracy"].isna().all()


def test_summed_squared_correlations_are_reservoirpys_memory_capacity():
    """Jaeger's memory capacity of a linear reservoir: reservoirpy.observables vs ours."""
    check = memory_capacity_check(units=30, max_lag=60, length=2500, ridge=1e-6, seed=3)
    assert check["max_lag"] == 60 and check["units"] == 30
    # same states, rows and penalty: equal to rounding (measured: ~1e-9 relative)
    assert check["ours"] == pytest.approx(check["reservoirpy"], rel=1e-6)
    assert 5 < check["ours"] <= 30  # a linear reservoir's capacity is at most its units


def test_from_parquet_per_state_column(tmp_path):
    rng = np.random.default_rng(8)
    alphabet = np.array(list("xyz"))
    sequences = []
    for sid in range(30):
        length = int(rng.integers(15, 30))
        codes = rng.integers(0, 3, size=length)
        h0 = lagged_copy(codes, [length], 1, 3)
        c0 = lagged_copy(codes, [length], 0, 3)
        sequences.append(
            states_io.SequenceStates(sid, alphabet[codes].tolist(), {"h0": h0, "c0": c0})
        )
    path = states_io.write(tmp_path / "states.parquet", sequences)
    table = memory_signature_from_parquet(path, None, 2).set_index(["state", "lag"])
    assert table.loc[("h0", 1), "accuracy"] == 1.0
    assert table.loc[("c0", 0), "accuracy"] == 1.0
    assert table.loc[("h0", 0), "accuracy"] < 0.6
    only = memory_signature_from_parquet(path, "c0", 2)
    assert set(only["state"]) == {"c0"}


def test_module_is_callable_as_the_public_entry_point():
    import rnnatlas.analysis as analysis

    rng = np.random.default_rng(9)
    table = analysis.memory_signature(rng.normal(size=(40, 2)), rng.integers(0, 2, 40), 1)
    assert len(table) == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"inputs": np.zeros(5)}, "inputs must be 1-D with one symbol per state row"),
        ({"decoder": "svm"}, "decoder must be one of"),
        ({"sequence_ids": np.zeros(3)}, "sequence_ids must be 1-D"),
        ({"test_fraction": 1.0}, "test_fraction"),
        ({"inputs": np.array(["a"] * 10), "decoder": "linear"}, "needs real values"),
    ],
)
def test_bad_arguments_name_the_field(arguments, message):
    call = {"states": np.zeros((10, 2)), "inputs": np.arange(10) % 2, "max_lag": 1, **arguments}
    with pytest.raises(ValueError, match=message):
        memory_signature(call.pop("states"), call.pop("inputs"), call.pop("max_lag"), **call)
