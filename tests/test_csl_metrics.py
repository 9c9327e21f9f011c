"""CSL decoding and valid/exact errors on hand-made output vectors (n=4 grammar)."""

import math

import numpy as np
import pandas as pd
import pytest

from rnnatlas.papers.csl.data import CSLGrammar, build_corpus, sentence_table
from rnnatlas.papers.csl.metrics import (
    csl_errors,
    decode,
    predicates,
    teacher_matrix,
    valid_exact,
)

GRAMMAR = CSLGrammar(4)
M = GRAMMAR.one_object_count
# n=4 output units: slot 0 = object 0..3, position 4..6, color 7..10; slot 1 = the same + 11
GLASS, CUP, ORANGE_OBJECT, LEFT, RED, ORANGE_COLOR = 0, 1, 3, 4, 7, 8
SECOND = 11
THE_ORANGE_IS_RED = 108
A_ORANGE_ORANGE_ON_THE_LEFT = 241
THIS_IS_A_ORANGE_GLASS = 8


def outputs(*units, value=1.0):
    vector = np.zeros(22)
    vector[list(units)] = value
    return vector[None, :]


def decoded_one(*units, value=1.0):
    return decode(outputs(*units, value=value), GRAMMAR)[0].tolist()


def verdict(sentence_id, vector):
    preds = predicates(sentence_table(GRAMMAR, [sentence_id]), GRAMMAR)
    valid, exact = valid_exact(decode(vector, GRAMMAR), preds)
    return bool(valid[0]), bool(exact[0])


def test_predicates_hand_worked():
    two = M + THE_ORANGE_IS_RED * M + A_ORANGE_ORANGE_ON_THE_LEFT
    frame = sentence_table(GRAMMAR, [THE_ORANGE_IS_RED, A_ORANGE_ORANGE_ON_THE_LEFT, two])
    preds = predicates(frame, GRAMMAR)
    assert preds.dtype == np.int16
    # [object, position, color] per slot
    assert preds[0].tolist() == [[3, -1, 0], [-1, -1, -1]]
    assert preds[1].tolist() == [[3, 0, 1], [-1, -1, -1]]
    assert preds[2].tolist() == [[3, -1, 0], [3, 0, 1]]


def test_decode_one_hot_and_silence():
    assert decoded_one(CUP, LEFT + 2, RED + 3) == [[1, 2, 3], [-1, -1, -1]]
    # all-zero group: every concept at 1/size, below 1.3/size
    assert decoded_one() == [[-1, -1, -1], [-1, -1, -1]]


def test_decode_threshold_closed_form():
    # one unit at x, others 0: p = e^x / (e^x + k - 1) >= 1.3/k  <=>  x >= ln(1.3 (k-1) / (k-1.3))
    # k=3 (position): x* = ln(2.6/1.7) = 0.4249; k=4 (object): x* = ln(3.9/2.7) = 0.3677
    assert decoded_one(LEFT, value=0.43)[0][1] == 0
    assert decoded_one(LEFT, value=0.42)[0][1] == -1
    assert decoded_one(GLASS, value=0.37)[0][0] == 0
    assert decoded_one(GLASS, value=0.36)[0][0] == -1
    # beta scales the outputs before the softmax
    two_x = decode(outputs(LEFT, value=0.22), GRAMMAR, beta=2.0)
    assert two_x[0, 0, 1] == 0
    assert decode(outputs(LEFT, value=0.43), GRAMMAR, threshold=1.5)[0, 0, 1] == -1


def test_exact_sentence():
    assert verdict(THE_ORANGE_IS_RED, outputs(ORANGE_OBJECT, RED)) == (True, True)


def test_valid_but_not_exact_when_unstated_attribute_is_decoded():
    # "the orange is red" does not say where: decoding "left" is allowed but not exact
    assert verdict(THE_ORANGE_IS_RED, outputs(ORANGE_OBJECT, RED, LEFT)) == (True, False)


def test_below_threshold_stated_group_is_invalid():
    vector = outputs(ORANGE_OBJECT, RED)
    vector[0, ORANGE_OBJECT] = 0.2  # p = e^.2 / (e^.2 + 3) = 0.289 < 0.325
    assert verdict(THE_ORANGE_IS_RED, vector) == (False, False)


def test_polysemous_orange_uses_distinct_units():
    # "a orange orange is on the left": object orange and color orange are two units
    exact = outputs(ORANGE_OBJECT, LEFT, ORANGE_COLOR)
    assert verdict(A_ORANGE_ORANGE_ON_THE_LEFT, exact) == (True, True)
    assert verdict(A_ORANGE_ORANGE_ON_THE_LEFT, outputs(ORANGE_OBJECT, LEFT)) == (False, False)
    # "this is a orange glass": orange is the color; reading it as the object is wrong
    assert GRAMMAR.words(THIS_IS_A_ORANGE_GLASS)[1:-1] == ("this", "is", "a", "orange", "glass")
    assert verdict(THIS_IS_A_ORANGE_GLASS, outputs(GLASS, ORANGE_COLOR)) == (True, True)
    assert verdict(THIS_IS_A_ORANGE_GLASS, outputs(ORANGE_OBJECT, ORANGE_COLOR)) == (False, False)


def test_one_object_sentence_with_decoded_second_slot():
    vector = outputs(ORANGE_OBJECT, RED, SECOND + GLASS, SECOND + LEFT, SECOND + RED)
    assert verdict(THE_ORANGE_IS_RED, vector) == (True, False)


def test_two_object_sentence():
    sentence = M + THE_ORANGE_IS_RED * M + A_ORANGE_ORANGE_ON_THE_LEFT
    second = [SECOND + ORANGE_OBJECT, SECOND + LEFT, SECOND + ORANGE_COLOR]
    assert verdict(sentence, outputs(ORANGE_OBJECT, RED, *second)) == (True, True)
    assert verdict(sentence, outputs(ORANGE_OBJECT, RED, *second[:2])) == (False, False)


def test_valid_exact_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        valid_exact(np.zeros((2, 2, 3)), np.zeros((3, 2, 3)))


def test_csl_errors_and_rmse_hand_computed():
    frame = sentence_table(GRAMMAR, [THE_ORANGE_IS_RED, A_ORANGE_ORANGE_ON_THE_LEFT])
    teacher = np.concatenate([outputs(ORANGE_OBJECT, RED, LEFT), outputs(3, LEFT, ORANGE_COLOR)])
    frame["teacher"] = list(teacher.astype(np.float32))
    result = outputs(ORANGE_OBJECT, RED, LEFT)  # sentence 1: valid, not exact (left unstated)
    second = outputs(ORANGE_OBJECT, LEFT, ORANGE_COLOR)
    second[0, ORANGE_COLOR] = 0.0  # off by 1 -> color undecided -> invalid
    second[0, GLASS] = 0.5  # off by 0.5; object still orange
    errors = csl_errors(np.concatenate([result, second]), frame, GRAMMAR)
    assert errors["valid_error"] == 0.5
    assert errors["exact_error"] == 1.0
    assert errors["n"] == 2
    # squared residuals 1 + 0.25 over 2 x 22 entries
    assert errors["rmse"] == pytest.approx(math.sqrt(1.25 / 44))
    assert errors["rmse"] == pytest.approx(0.168550, abs=1e-6)


def test_outputs_shape_is_checked():
    with pytest.raises(ValueError, match=r"\[N, 22\]"):
        decode(np.zeros((3, 20)), GRAMMAR)
    frame = sentence_table(GRAMMAR, [0, 1])
    frame["teacher"] = list(np.zeros((2, 22), dtype=np.float32))
    with pytest.raises(ValueError, match="3 output rows"):
        csl_errors(np.zeros((3, 22)), frame, GRAMMAR)


def test_teacher_as_output_is_valid_and_exact_only_without_guesses(tmp_path):
    splits = build_corpus(4, seed=11)
    # a Parquet round trip (NaN for None, arrays for lists) must not change the measures
    path = tmp_path / "test.parquet"
    splits["test"].to_parquet(path)
    frame = pd.read_parquet(path)
    teacher = teacher_matrix(frame)
    np.testing.assert_array_equal(teacher, teacher_matrix(splits["test"]))
    np.testing.assert_array_equal(predicates(frame, GRAMMAR), predicates(splits["test"], GRAMMAR))
    errors = csl_errors(teacher, frame, GRAMMAR)
    assert errors["valid_error"] == 0.0 and errors["rmse"] == 0.0 and errors["n"] == 1000
    # exact iff the teacher holds nothing beyond what is stated
    stated_count = (predicates(frame, GRAMMAR) >= 0).sum(axis=(1, 2))
    assert errors["exact_error"] == pytest.approx(np.mean(teacher.sum(axis=1) != stated_count))
    assert 0.3 < errors["exact_error"] < 0.95


def test_absolute_rule_of_juven_needs_a_strong_output_and_probability():
    from rnnatlas.papers.csl.data import CSLGrammar
    from rnnatlas.papers.csl.metrics import decode

    grammar = CSLGrammar(4)
    outputs = np.zeros((2, grammar.output_dim))
    position = grammar.group_slice(0, "position")
    outputs[0, position] = [0.7, 0.1, 0.0]  # softmax(2.2 x) of the winner: 0.67 >= 0.1
    outputs[1, position] = [0.5, 0.1, 0.0]  # same winner, but its output 0.5 < 0.6
    juven = decode(outputs, grammar, beta=2.2, threshold=0.1, rule="absolute", min_output=0.6)
    assert juven[0, 0, 1] == 0 and juven[1, 0, 1] == -1
    # the relative rule (beta 1, threshold 1.3/3 = 0.433) looks at probabilities only:
    # e^0.7 / (e^0.7 + e^0.1 + 1) = 0.489 is accepted, e^0.5 / (e^0.5 + e^0.1 + 1) = 0.438 too
    relative = decode(outputs, grammar)
    assert relative[0, 0, 1] == 0 and relative[1, 0, 1] == 0
    with pytest.raises(ValueError, match="rule"):
        decode(outputs, grammar, rule="other")
