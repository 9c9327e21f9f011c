"""Garcia et al.'s document classifier and the trainer's options it needs (RMSprop, token inputs,
the binary losses), against Keras' parameter counts, closed forms and a second implementation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnatlas.models import load, save
from rnnatlas.models.text_classifier import TextClassifier
from rnnatlas.training import ClassifierConfig, _make_optimizer, _RunningAccuracy


def _trainable(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_parameter_counts_are_keras_ones():
    # Keras: Embedding V x 32; LSTM 4 (32 u + u^2 + u) with one bias per gate; Dense u k + k
    imdb = TextClassifier(vocabulary=5000, outputs=1, units=100)
    assert _trainable(imdb) == 5000 * 32 + 4 * (32 * 100 + 100 * 100 + 100) + 101 == 213_301
    reuters = TextClassifier(vocabulary=5000, outputs=5, units=20)
    assert _trainable(reuters) == 5000 * 32 + 4 * (32 * 20 + 20 * 20 + 20) + 20 * 5 + 5


def test_states_and_outputs_agree_with_a_plain_lstm_pass():
    torch.manual_seed(0)
    model = TextClassifier(vocabulary=30, outputs=3, units=7).eval()
    tokens = torch.randint(0, 30, (4, 9))
    states = model.states(tokens)
    hidden, (last_h, last_c) = model.lstm(model.embedding(tokens))  # the whole sequence at once
    torch.testing.assert_close(states["h"], hidden)
    torch.testing.assert_close(states["c"][:, -1], last_c[0])
    # the expected prediction at every word is the Dense layer on that word's state
    torch.testing.assert_close(model(tokens), model.readout(states["h"]))
    probabilities = model.probabilities(model(tokens))
    torch.testing.assert_close(probabilities.sum(-1), torch.ones(4, 9))


def test_one_sigmoid_output_gives_two_class_probabilities():
    model = TextClassifier(vocabulary=10, outputs=1, units=3)
    logits = torch.tensor([[[0.0], [math.log(3.0)]]])  # sigmoid 0.5, then 0.75
    torch.testing.assert_close(
        model.probabilities(logits), torch.tensor([[[0.5, 0.5], [0.25, 0.75]]])
    )
    assert model.classes == 2


def test_the_model_saves_and_loads(tmp_path):
    model = TextClassifier(vocabulary=20, outputs=5, units=4, dropout=0.2)
    card = {"kind": "text_classifier", "hyperparameters": model.hyperparameters()}
    save(model, tmp_path / "model.pt", tmp_path / "model.json", card)
    loaded = load(tmp_path)
    tokens = torch.randint(0, 20, (2, 6))
    torch.testing.assert_close(loaded(tokens), model.eval()(tokens))


def test_bad_token_ids_are_refused():
    model = TextClassifier(vocabulary=10, outputs=1, units=3)
    with pytest.raises(ValueError, match="vocabulary is 0..9"):
        model(torch.tensor([[1, 10]]))
    with pytest.raises(ValueError, match="integer token ids"):
        model(torch.zeros(1, 3))


def test_rmsprop_first_step_is_keras_closed_form():
    # Keras RMSprop: v = rho v + (1 - rho) g^2 from v = 0, w -= lr g / (sqrt(v) + eps): with g = 1
    # the first step moves w by lr / (sqrt(1 - rho) + eps)
    layer = torch.nn.Linear(1, 1, bias=False)
    layer.weight.data.fill_(2.0)
    cfg = ClassifierConfig(optimizer="rmsprop", lr=0.01, rho=0.9, eps=1e-7)
    optimizer = _make_optimizer(layer, cfg)
    layer.weight.sum().backward()
    optimizer.step()
    assert layer.weight.item() == pytest.approx(2.0 - 0.01 / (math.sqrt(0.1) + 1e-7), rel=1e-6)


def test_binary_losses_by_hand():
    class Fixed(torch.nn.Module):
        def __init__(self, logits):
            super().__init__()
            self.logits = torch.tensor(logits)

        def forward(self, inputs):
            return self.logits

    # softmax (0.25, 0.75), label 1: Keras' BCE over both classes
    # (-ln(1 - 0.25) - ln(0.75)) / 2 = -ln 0.75
    quirk = _RunningAccuracy("binary_cross_entropy_on_softmax")
    loss = quirk.loss(Fixed([[[0.0, math.log(3.0)]]]), None, torch.tensor([1]))
    assert loss.item() == pytest.approx(-math.log(0.75), rel=1e-6)
    # one sigmoid output 0 -> p = 0.5 for label 0: ln 2
    binary = _RunningAccuracy("binary_cross_entropy")
    assert binary.loss(Fixed([[[0.0]]]), None, torch.tensor([0])).item() == pytest.approx(
        math.log(2.0)
    )
    with pytest.raises(ValueError, match="one sigmoid output"):
        binary.loss(Fixed([[[0.0, 1.0]]]), None, torch.tensor([0]))


def test_a_classifier_learns_a_word_that_decides_the_class(tmp_path):
    from rnnatlas.training import train_sequence_classifier

    rng = np.random.default_rng(0)
    tokens = rng.integers(3, 20, size=(256, 12))
    labels = rng.integers(0, 2, size=256)
    tokens[labels == 1, rng.integers(0, 12, size=int(labels.sum()))] = 1  # "great" in class 1
    tokens[labels == 0] = np.where(tokens[labels == 0] == 1, 3, tokens[labels == 0])
    torch.manual_seed(0)
    model = TextClassifier(vocabulary=20, outputs=1, units=8, dropout=0.0)
    cfg = ClassifierConfig(epochs=15, batch_size=32, lr=0.01, optimizer="rmsprop", eps=1e-7,
                           loss="binary_cross_entropy")  # fmt: skip
    result = train_sequence_classifier(model, tokens, labels, cfg, tmp_path, progress=False)
    assert result.history["train_accuracy"].iloc[-1] > 0.95
