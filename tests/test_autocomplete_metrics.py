"""Autocomplete metrics on hand-made logits and rankings, with values worked out by hand.

Four classes: 0 <eos>, 1 <unknown>, 2 "of", 3 "the". Two sequences (symbols: 1 space, 2.. a-z):
  A = " of"  -> sources [1, o, f] + one padded step, targets [2, 2, 2] + <eos>, length 3
  B = " a b" -> sources [1, a, 1, b], targets [1, 1, 3, 3] ("a" unknown), length 4
Logit rows used: zeros (p = 1/4 each); [0, 0, ln 3, 0] (p(2) = 3/6 = 1/2, others 1/6);
[0, 0, 0, ln 5] (p(3) = 5/8); [0, ln 7, 0, 0] (argmax 1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnatlas.papers.text8.metrics import (
    AutocompleteScores,
    accuracy_counts,
    letters_known,
    letters_known_accuracy,
    masked_cross_entropy,
    sequence_cross_entropies,
    top_k_hits,
)

LETTER_O, LETTER_F, LETTER_A, LETTER_B = 2 + 14, 2 + 5, 2 + 0, 2 + 1  # symbol ids
SOURCES = np.array([[1, LETTER_O, LETTER_F, 0], [1, LETTER_A, 1, LETTER_B]])
TARGETS = torch.tensor([[2, 2, 2, 0], [1, 1, 3, 3]])
LENGTHS = np.array([3, 4])
ZEROS = [0.0, 0.0, 0.0, 0.0]
OF = [0.0, 0.0, math.log(3), 0.0]
THE = [0.0, 0.0, 0.0, math.log(5)]
UNKNOWN = [0.0, math.log(7), 0.0, 0.0]
PAD = [50.0, -3.0, 9.0, 1.0]  # anything: padding must not count
LOGITS = torch.tensor([[ZEROS, OF, OF, PAD], [UNKNOWN, ZEROS, THE, OF]], dtype=torch.float64)

# per-sequence masked means: A = (ln 4 + ln 2 + ln 2) / 3; B = (ln 8/5 + ln 6) / 2 (t0, t1 masked)
CE_A = (math.log(4) + 2 * math.log(2)) / 3
CE_B = (math.log(8 / 5) + math.log(6)) / 2

# Rankings (best first) for the letters-known tables; A's padded step holds the "bias" ranking.
RANKED = np.array(
    [
        [[3, 2, 0], [2, 3, 0], [3, 0, 2], [2, 3, 1]],
        [[1, 2, 3], [2, 3, 0], [3, 2, 0], [2, 0, 3]],
    ]
)


def test_training_loss_is_the_mean_over_scored_characters():
    # the five scored characters: ln 4, ln 2, ln 2 (A) and ln 8/5, ln 6 (B)
    expected = (math.log(4) + 2 * math.log(2) + math.log(8 / 5) + math.log(6)) / 5
    assert float(masked_cross_entropy(LOGITS, TARGETS)) == pytest.approx(expected, abs=1e-12)


def test_training_loss_without_scored_characters_is_zero_like_tf():
    logits = torch.zeros(1, 2, 4, requires_grad=True)
    loss = masked_cross_entropy(logits, torch.tensor([[1, 0]]))
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert torch.equal(logits.grad, torch.zeros(1, 2, 4))


def test_test_cross_entropy_is_the_mean_of_sequence_means():
    per_sequence = sequence_cross_entropies(LOGITS, TARGETS)
    np.testing.assert_allclose(per_sequence, [CE_A, CE_B], rtol=0, atol=1e-12)
    # the unweighted mean over sequences differs from the character-weighted training loss
    assert np.mean(per_sequence) == pytest.approx((CE_A + CE_B) / 2, abs=1e-12)
    assert np.mean(per_sequence) != pytest.approx(float(masked_cross_entropy(LOGITS, TARGETS)))


def test_sequence_without_scored_character_is_nan():
    result = sequence_cross_entropies(torch.zeros(1, 2, 4), torch.tensor([[1, 1]]))
    assert np.isnan(result[0])


def test_accuracy_counts_unknown_targets_and_skips_padding():
    predictions = LOGITS.argmax(dim=-1).numpy()  # A: 0 (tie: first), 2, 2, pad; B: 1, 0, 3, 2
    right, characters = accuracy_counts(predictions, TARGETS.numpy(), LENGTHS)
    # A: t1, t2 right; B: t0 (the <unknown> target predicted) and t2 right
    assert (right, characters) == (4, 7)


def test_letters_known_restarts_at_each_space():
    assert letters_known(SOURCES, LENGTHS).tolist() == [[0, 1, 2, -1], [0, 1, 0, 1]]
    # with padding counted the count runs on past the last word, as in the author's loop
    assert letters_known(SOURCES, LENGTHS, count_padding=True).tolist() == [
        [0, 1, 2, 3],
        [0, 1, 0, 1],
    ]
    # before the first space the author's counter starts at 0 and counts every symbol
    assert letters_known(np.array([[5, 5, 1, 5]]), [4]).tolist() == [[1, 2, 0, 1]]


def test_top_k_hits_are_cumulative():
    hits = top_k_hits(RANKED, TARGETS.numpy())
    assert hits[0, 0].tolist() == [False, True, True]  # target 2 ranked second
    assert hits[0, 2].tolist() == [False, False, True]  # ranked third
    assert hits[1, 1].tolist() == [False, False, False]  # <unknown> not ranked


def table_values(frame):
    return {
        (int(row.letters), int(row.k)): (int(row.correct), int(row.total))
        for row in frame.itertuples()
    }


def test_letters_known_accuracy_by_hand():
    frame = letters_known_accuracy(RANKED, TARGETS.numpy(), SOURCES, LENGTHS)
    # letters 0: A0 (top-2), B0 (top-1), B2 (top-1); letters 1: A1 (top-1), B1 (miss),
    # B3 (top-3); letters 2: A2 (top-3)
    assert table_values(frame) == {
        (0, 1): (2, 3),
        (0, 2): (3, 3),
        (0, 3): (3, 3),
        (1, 1): (1, 3),
        (1, 2): (1, 3),
        (1, 3): (2, 3),
        (2, 1): (0, 1),
        (2, 2): (0, 1),
        (2, 3): (1, 1),
    }
    row = frame[(frame.letters == 1) & (frame.k == 3)].iloc[0]
    assert row.accuracy == pytest.approx(2 / 3)
    assert not frame["count_padding"].any()


def test_counting_padding_adds_misses_past_the_last_word():
    frame = letters_known_accuracy(RANKED, TARGETS.numpy(), SOURCES, LENGTHS, count_padding=True)
    values = table_values(frame)
    # A's padded step: letters 3, target <eos> not in the bias ranking [2, 3, 1]: a miss
    assert values[(3, 1)] == values[(3, 3)] == (0, 1)
    assert values[(0, 1)] == (2, 3)  # real positions unchanged
    assert frame["count_padding"].all()


def test_scores_accumulate_over_batches():
    scores = AutocompleteScores(k=3)
    for row in range(2):  # one sequence per batch, A keeping its padded step
        scores.add(
            LOGITS[row : row + 1],
            TARGETS[row : row + 1],
            SOURCES[row : row + 1],
            LENGTHS[row : row + 1],
            ranked=torch.from_numpy(RANKED[row : row + 1]),
        )
    summary = scores.summary()
    assert summary["cross_entropy"] == pytest.approx((CE_A + CE_B) / 2, abs=1e-12)
    # two sequences: sd = |CE_A - CE_B| / sqrt(2), over sqrt(2) sequences
    assert summary["cross_entropy_se"] == pytest.approx(abs(CE_A - CE_B) / 2, abs=1e-12)
    # top-1 of RANKED: A 3, 2, 3 -> 1 right; B 1, 2, 3, 2 -> 2 right
    assert summary["accuracy"] == pytest.approx(3 / 7)
    assert (summary["sequences"], summary["characters"]) == (2, 7)
    table = scores.letters_table()
    plain = table[~table.count_padding]
    assert table_values(plain)[(0, 1)] == (2, 3)
    assert table_values(plain)[(1, 3)] == (2, 3)
    padded = table[table.count_padding]
    assert table_values(padded)[(3, 1)] == (0, 1)
