"""AutocompleteModel: the paper's parameter counts, TF-equivalent cells, states, save and load."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from rnnatlas.models import load
from rnnatlas.models.autocomplete import (
    CELLS,
    AutocompleteModel,
    parameter_counts,
    tf_parameter_counts,
)

torch.set_num_threads(1)

# Madsen 2019, configuration table (600 units, 16,386 classes)
PAPER_COUNTS = {
    "gru": {"embedding": 16_200, "recurrent": 4_323_600, "dense": 9_847_986},
    "lstm": {"embedding": 16_200, "recurrent": 5_764_800, "dense": 9_847_986},
    "nlstm": {"embedding": 16_200, "recurrent": 5_764_800, "dense": 9_847_986},
}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def tokens_batch(seed: int = 0, batch: int = 3, steps: int = 7, symbols: int = 28):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(1, symbols, (batch, steps), generator=generator)


@pytest.mark.parametrize("cell", CELLS)
def test_trainable_parameters_equal_the_papers_table(cell):
    with torch.device("meta"):  # 15M parameters: count them without allocating
        model = AutocompleteModel(cell, units=600, classes=16_386)
    counts = parameter_counts(model)
    expected = PAPER_COUNTS[cell]
    assert {key: counts[key] for key in expected} == expected
    assert counts["total"] == sum(expected.values())
    assert tf_parameter_counts(cell, 600, 16_386) == counts


def test_torch_only_biases_and_the_padding_row_are_not_counted():
    model = AutocompleteModel("lstm", units=5, classes=7)
    for layer in model.recurrent:
        assert not layer.bias_hh_l0.requires_grad
        assert torch.equal(layer.bias_hh_l0, torch.zeros(20))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert parameter_counts(model)["total"] == trainable - 5  # the padding row of 5 units


def test_embedding_padding_row_is_zero_and_stays_zero_under_adam():
    torch.manual_seed(0)
    model = AutocompleteModel("gru", units=4, classes=5)
    matrix = model.embedding_matrix()
    assert isinstance(model.embedding, torch.nn.Embedding) and matrix.shape == (28, 4)
    assert torch.equal(matrix[0], torch.zeros(4))
    assert matrix[1:].abs().max() <= math.sqrt(1 / 27)  # the author's uniform(+-sqrt(1/27))
    before = matrix.detach().clone()
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
    tokens = torch.tensor([[1, 0, 5, 0, 27]])  # padding symbols inside the input too
    for _ in range(3):
        optimizer.zero_grad()
        model(tokens).square().mean().backward()
        optimizer.step()
    assert torch.equal(model.embedding.weight[0], torch.zeros(4))
    assert not torch.equal(model.embedding.weight[5], before[5])  # a row that was read moved
    assert torch.equal(model.embed(tokens)[0, 1], torch.zeros(4))


def test_tf_initialisation_of_biases_and_kernels():
    torch.manual_seed(0)
    units, classes = 6, 11
    lstm = AutocompleteModel("lstm", units=units, classes=classes)
    gru = AutocompleteModel("gru", units=units, classes=classes)
    for layer in lstm.recurrent:
        expected = torch.zeros(4 * units)
        expected[units : 2 * units] = 1.0  # BasicLSTMCell's forget bias
        assert torch.equal(layer.bias_ih_l0.detach(), expected)
        assert layer.weight_ih_l0.abs().max() <= math.sqrt(6 / (2 * units + 4 * units))
    for layer in gru.recurrent:
        expected = torch.zeros(3 * units)
        expected[: 2 * units] = 1.0  # TF1 GRUCell: gate bias 1, candidate bias 0
        assert torch.equal(layer.bias_ih_l0.detach(), expected)
        assert layer.weight_hh_l0[: 2 * units].abs().max() <= math.sqrt(6 / (4 * units))
        assert layer.weight_hh_l0[2 * units :].abs().max() <= math.sqrt(6 / (3 * units))
    assert lstm.readout.weight.abs().max() <= math.sqrt(6 / (units + classes))
    assert torch.equal(lstm.readout.bias.detach(), torch.zeros(classes))


def tf_basic_lstm(inputs, kernel, bias, forget_bias=1.0):
    """TF1 BasicLSTMCell: [i, j, f, o] = [x, h] K + b; c = c σ(f + 1) + σ(i) tanh(j)."""
    batch, steps, _ = inputs.shape
    units = kernel.shape[1] // 4
    h, c, outputs = np.zeros((batch, units)), np.zeros((batch, units)), []
    for t in range(steps):
        i, j, f, o = np.split(np.concatenate([inputs[:, t], h], 1) @ kernel + bias, 4, axis=1)
        c = c * sigmoid(f + forget_bias) + sigmoid(i) * np.tanh(j)
        h = np.tanh(c) * sigmoid(o)
        outputs.append(h)
    return np.stack(outputs, 1)


def test_lstm_layer_is_tfs_basic_lstm_cell():
    """Same function: TF kernel = [W_ih | W_hh]^T in TF's gate order, TF bias = b_ih - 1 on f."""
    torch.manual_seed(1)
    units = 3
    model = AutocompleteModel("lstm", units=units, classes=5).double()
    layer = model.recurrent[0]
    inputs = torch.randn(2, 5, units, dtype=torch.float64)
    i, f, g, o = (slice(k * units, (k + 1) * units) for k in range(4))
    torch_order = torch.cat([layer.weight_ih_l0, layer.weight_hh_l0], dim=1).detach().numpy()
    kernel = np.concatenate([torch_order[s] for s in (i, g, f, o)]).T  # TF order i, j, f, o
    bias = layer.bias_ih_l0.detach().numpy()
    tf_bias = np.concatenate([bias[i], bias[g], bias[f] - 1.0, bias[o]])
    with torch.no_grad():
        ours, _ = layer(inputs)
    expected = tf_basic_lstm(inputs.numpy(), kernel, tf_bias)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=0, atol=1e-12)


def gru_reference(inputs, w_ih, w_hh, b_ih, reset_after: bool):
    """GRU with one bias per gate; reset_after: r * (W_hn h) (torch), else W_hn (r * h) (TF1)."""
    batch, steps, _ = inputs.shape
    units = w_hh.shape[1]
    h, outputs = np.zeros((batch, units)), []
    for t in range(steps):
        x_r, x_z, x_n = np.split(inputs[:, t] @ w_ih.T + b_ih, 3, axis=1)
        w_hr, w_hz, w_hn = np.split(w_hh, 3, axis=0)
        r = sigmoid(x_r + h @ w_hr.T)
        z = sigmoid(x_z + h @ w_hz.T)
        n = np.tanh(x_n + (r * (h @ w_hn.T) if reset_after else (r * h) @ w_hn.T))
        h = (1 - z) * n + z * h
        outputs.append(h)
    return np.stack(outputs, 1)


def test_gru_layer_resets_after_the_recurrent_product_unlike_tf1():
    torch.manual_seed(2)
    units = 3
    model = AutocompleteModel("gru", units=units, classes=5).double()
    layer = model.recurrent[0]
    inputs = torch.randn(2, 6, units, dtype=torch.float64)
    weights = [
        p.detach().numpy() for p in (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0)
    ]
    with torch.no_grad():
        ours = layer(inputs)[0].numpy()
    after = gru_reference(inputs.numpy(), *weights, reset_after=True)
    before = gru_reference(inputs.numpy(), *weights, reset_after=False)
    np.testing.assert_allclose(ours, after, rtol=0, atol=1e-12)
    assert np.abs(ours - before).max() > 1e-4  # the documented difference from TF1's GRUCell


@pytest.mark.parametrize("cell", CELLS)
def test_forward_and_embedding_paths_agree(cell):
    torch.manual_seed(3)
    model = AutocompleteModel(cell, units=4, classes=9)
    tokens = tokens_batch()
    with torch.no_grad():
        logits = model(tokens)
        again = model.logits_from_embeddings(model.embed(tokens))
    assert logits.shape == (3, 7, 9)
    assert torch.equal(logits, again)


@pytest.mark.parametrize(
    ("cell", "names"),
    [
        ("gru", ["h0", "h1"]),
        ("lstm", ["h0", "c0", "h1", "c1"]),
        ("nlstm", ["h0", "c0", "c0_inner"]),
    ],
)
def test_states_names_and_last_layer_output(cell, names):
    torch.manual_seed(4)
    model = AutocompleteModel(cell, units=4, classes=9)
    tokens = tokens_batch(steps=5)
    recorded = model.states(tokens)
    assert list(recorded) == names
    assert all(value.shape == (3, 5, 4) for value in recorded.values())
    last_hidden = f"h{model.layers - 1}"
    with torch.no_grad():
        torch.testing.assert_close(recorded[last_hidden], model.hidden(tokens))
    if cell == "lstm":  # h = o * tanh(c) with o in (0, 1): |h| < |tanh(c)|
        assert bool((recorded["h1"].abs() <= recorded["c1"].tanh().abs() + 1e-7).all())
    if cell == "nlstm":  # the outer memory is an LSTM output: |c| < 1
        assert float(recorded["c0"].abs().max()) < 1.0


@pytest.mark.parametrize("cell", CELLS)
def test_padding_after_the_end_leaves_earlier_logits_unchanged(cell):
    torch.manual_seed(5)
    model = AutocompleteModel(cell, units=4, classes=9)
    tokens = tokens_batch(batch=1, steps=4)
    padded = torch.cat([tokens, torch.zeros(1, 3, dtype=torch.int64)], dim=1)
    with torch.no_grad():
        torch.testing.assert_close(model(padded)[:, :4], model(tokens), rtol=0, atol=1e-6)


@pytest.mark.parametrize("cell", CELLS)
def test_load_rebuilds_the_model(tmp_path, cell):
    torch.manual_seed(6)
    model = AutocompleteModel(cell, units=4, classes=9)
    torch.save(model.state_dict(), tmp_path / "model.pt")
    card = {"kind": "autocomplete", "cell": cell, "hyperparameters": model.hyperparameters()}
    (tmp_path / "model.json").write_text(json.dumps(card))
    loaded = load(tmp_path)
    assert isinstance(loaded, AutocompleteModel) and not loaded.training
    tokens = tokens_batch()
    with torch.no_grad():
        assert torch.equal(loaded(tokens), model(tokens))
    assert parameter_counts(loaded) == parameter_counts(model)  # frozen biases stay frozen


def test_bad_arguments_name_the_field():
    with pytest.raises(ValueError, match="cell must be one of"):
        AutocompleteModel("rnn")
    with pytest.raises(ValueError, match="units must be a positive integer"):
        AutocompleteModel("gru", units=0)
    model = AutocompleteModel("gru", units=2, classes=3)
    with pytest.raises(ValueError, match="symbols 0..27"):
        model(torch.tensor([[1, 28]]))
    with pytest.raises(ValueError, match=r"\[batch, time\]"):
        model(torch.tensor([1, 2]))
