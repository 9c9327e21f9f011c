"""The character n-gram baseline: hand-counted probabilities, and its memory signature (perfect
recall inside the window of n - 1 characters, chance beyond) as the signature's sanity check."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from rnnatlas.analysis.memory_signature import memory_signature
from rnnatlas.models.ngram import NGramModel, context_states, encode

A, B, C = 0, 1, 2
TEXT = [A, B, A, C, A, B]  # "abacab"


@pytest.fixture(autouse=True)
def one_thread(restore_torch_globals):
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield


def test_encode_and_window_states():
    ids, alphabet = encode("cab a")
    assert alphabet == [" ", "a", "b", "c"]
    assert ids.tolist() == [3, 1, 2, 0, 1]
    states = context_states(ids, 3, vocab_size=4)
    assert states.shape == (5, 8)
    # t = 2 read "b" (lag 0) after "a" (lag 1)
    assert states[2].tolist() == [0, 0, 1, 0, 0, 1, 0, 0]
    # t = 0: lag 1 is before the text: zeros
    assert states[0].tolist() == [0, 0, 0, 1, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="outside the alphabet"):
        encode("abz", alphabet="ab")


def test_add_k_bigram_by_hand():
    model = NGramModel(2, 3, smoothing="add_k", k=1.0).fit(TEXT)
    p = model.predict_proba(TEXT)
    # after "a": next b twice, c once -> (0 + 1, 2 + 1, 1 + 1) / (3 + 3)
    assert p[0] == pytest.approx([1 / 6, 3 / 6, 2 / 6])
    # after "b": next a once -> (2, 1, 1) / 4
    assert p[1] == pytest.approx([2 / 4, 1 / 4, 1 / 4])
    # an unseen context: uniform
    assert NGramModel(2, 4, smoothing="add_k").fit(TEXT).predict_proba([3])[0] == pytest.approx(
        [0.25] * 4
    )


def test_kneser_ney_bigram_by_hand():
    """D = 0.5 on "abacab".

    Continuation counts N1+(. w): a after {b, c} = 2, b after {a} = 1, c after {a} = 1 (total 4,
    3 types): P1 = (N - 0.5 + 0.5 * 3 * 1/3) / 4 = (0.5, 0.25, 0.25).
    After "a" (counts b 2, c 1; total 3, 2 types): ((0, 1.5, 0.5) + 0.5 * 2 * P1) / 3
    = (1/6, 7/12, 1/4). After "b" (a 1): ((0.5, 0, 0) + 0.5 * P1) / 1 = (0.75, 0.125, 0.125).
    """
    model = NGramModel(2, 3, smoothing="kneser_ney", discount=0.5).fit(TEXT)
    p = model.predict_proba(TEXT)
    assert p[0] == pytest.approx([1 / 6, 7 / 12, 1 / 4])
    assert p[1] == pytest.approx([0.75, 0.125, 0.125])
    assert p[3] == pytest.approx([0.75, 0.125, 0.125])  # after "c": a once, same as after "b"
    # pairs ab, ba, ac, ca, ab
    expected = -(2 * math.log(7 / 12) + 2 * math.log(0.75) + math.log(0.25)) / 5
    assert model.cross_entropy(TEXT) == pytest.approx(expected)


@pytest.mark.parametrize("smoothing", ["add_k", "kneser_ney"])
def test_distributions_sum_to_one_with_short_contexts_at_the_start(smoothing):
    rng = np.random.default_rng(0)
    train, held_out = rng.integers(0, 5, 400), rng.integers(0, 5, 100)
    model = NGramModel(4, 5, smoothing=smoothing).fit(train)
    p = model.predict_proba(held_out)
    assert p.shape == (100, 5)
    assert p.sum(axis=1) == pytest.approx(np.ones(100))
    assert (p > 0).all()
    # i.i.d. uniform text: nothing to learn; a smoothed model stays near log 5 nats
    assert math.log(5) - 0.01 < model.cross_entropy(held_out) < math.log(5) + 0.6


def test_kneser_ney_beats_add_k_on_structured_text():
    text = "the cat sat on the mat and the rat ate the hat " * 20
    ids, alphabet = encode(text)
    held_out, _ = encode("the hat sat on the cat and the mat ate the rat ", alphabet)
    kn = NGramModel(4, len(alphabet)).fit(ids).cross_entropy(held_out)
    add_one = NGramModel(4, len(alphabet), smoothing="add_k").fit(ids).cross_entropy(held_out)
    assert kn < add_one < math.log(len(alphabet))


@pytest.mark.parametrize("n", [3, 5])
def test_memory_signature_of_an_n_gram_window(n):
    """Perfect recall at lags 0..n-2 (the window), chance at lags n-1 and n."""
    vocab = 6
    ids = np.random.default_rng(n).integers(0, vocab, 4000)
    states = NGramModel(n, vocab).states(ids)["window"]
    table = memory_signature(states, ids, n).set_index("lag")
    assert (table.loc[: n - 2, "accuracy"] == 1.0).all()
    for lag in (n - 1, n):
        row = table.loc[lag]
        assert abs(row["accuracy"] - 1 / vocab) < 0.05
        assert row["cross_entropy"] > row["chance_entropy"] - 0.01
        assert row["chance_entropy"] == pytest.approx(math.log(vocab), abs=0.01)
