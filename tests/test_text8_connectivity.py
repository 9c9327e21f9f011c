"""The connectivity text as the models read it: a hand-worked case."""

from __future__ import annotations

import numpy as np
import pytest

from rnnatlas.papers.text8.connectivity import PAPER_TEXT, text_inputs


def test_text_inputs_reads_words_as_space_then_letters():
    vocabulary = ["<eos>", "<unknown>", "the", "cat"]
    symbols, targets, fed = text_inputs("the cat sat", vocabulary)
    assert fed == " the cat sat"
    # symbols: 0 <eos>, 1 space, 2.. a-z (t = 21, h = 9, e = 6, c = 4, a = 2, s = 20)
    np.testing.assert_array_equal(symbols, [1, 21, 9, 6, 1, 4, 2, 21, 1, 20, 2, 21])
    # each word's id at its space and letters; "sat" is outside the vocabulary (<unknown> = 1)
    np.testing.assert_array_equal(targets, [2] * 4 + [3] * 4 + [1] * 4)
    assert len(text_inputs(PAPER_TEXT, vocabulary)[2]) == len(PAPER_TEXT) + 1


@pytest.mark.parametrize("text", ["", "The cat", "cat's", "ca7"])
def test_text_inputs_refuses_what_the_models_cannot_read(text):
    with pytest.raises(ValueError, match="connectivity text"):
        text_inputs(text, ["<eos>", "<unknown>", "the"])
