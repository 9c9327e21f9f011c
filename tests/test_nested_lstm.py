"""Nested LSTM: one step by hand, the layer against a NumPy loop, sizes, gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnatlas.models.nested_lstm import NestedLSTM

torch.set_num_threads(1)


def as_float64(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def one_unit_cell() -> NestedLSTM:
    """units = inputs = 1, weights chosen so every pre-activation is a round number.

    With x = 1 and h = 1, outer pre-activations (i, f, g, o) = W_ih + W_hh + b =
    (0, ln 3, 0.8, 0). With x̃ = 0.4 and h̃ = 1.5 (below), inner pre-activations
    V [x̃; h̃] + v = (0, ln 3, ln 2, ln 3).
    """
    cell = NestedLSTM(1, 1).double()  # before setting: float32 would round ln 3
    with torch.no_grad():
        cell.weight_ih.copy_(as_float64([[0.25], [0.5], [0.3], [-0.25]]))
        cell.weight_hh.copy_(as_float64([[-0.25], [math.log(3) - 0.5], [0.5], [0.25]]))
        cell.bias.zero_()
        cell.inner_weight.copy_(as_float64([[1.0, 0.0], [0.0, 1.0], [2.5, 0.0], [0.0, 0.0]]))
        cell.inner_bias.copy_(as_float64([-0.4, math.log(3) - 1.5, math.log(2) - 1.0, math.log(3)]))
    return cell


def test_one_step_by_hand():
    cell = one_unit_cell()
    x = torch.ones(1, 1, 1, dtype=torch.float64)
    h0, c0, c_inner0 = (torch.tensor([[v]], dtype=torch.float64) for v in (1.0, 2.0, 1.0))
    with torch.no_grad():
        sequences = cell.sequences(x, (h0, c0, c_inner0))
        output, last = cell(x, (h0, c0, c_inner0))
    # outer gates: i = σ(0) = 1/2, f = σ(ln 3) = 3/4, g = 0.8 (identity), o = 1/2
    inner_previous = 0.75 * 2.0  # h̃ = f c_{t-1} = 1.5
    inner_input = 0.5 * 0.8  # x̃ = i g = 0.4
    assert (inner_previous, inner_input) == pytest.approx((1.5, 0.4))
    # inner gates: ĩ = 1/2, f̃ = 3/4, tanh(g̃) = tanh(ln 2) = 3/5, õ = 3/4
    inner_memory = 0.75 * 1.0 + 0.5 * 0.6  # 1.05
    memory = 0.75 * math.tanh(inner_memory)
    hidden = 0.5 * math.tanh(memory)
    assert float(sequences["c_inner"][0, 0, 0]) == pytest.approx(1.05, abs=1e-12)
    assert float(sequences["c"][0, 0, 0]) == pytest.approx(memory, abs=1e-12)
    assert float(sequences["h"][0, 0, 0]) == pytest.approx(hidden, abs=1e-12)
    assert float(output[0, 0, 0]) == pytest.approx(hidden, abs=1e-12)
    assert [float(v) for v in last] == pytest.approx([hidden, memory, 1.05], abs=1e-12)


def numpy_nested_lstm(inputs, weights):
    """An independent loop over the equations of the module docstring (NumPy, float64)."""
    w_ih, w_hh, b, v, v_b = weights

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    batch, steps, _ = inputs.shape
    units = w_hh.shape[1]
    h = np.zeros((batch, units))
    c = np.zeros((batch, units))
    c_inner = np.zeros((batch, units))
    outputs = {"h": [], "c": [], "c_inner": []}
    for t in range(steps):
        pre = inputs[:, t] @ w_ih.T + h @ w_hh.T + b
        i, f, g, o = np.split(pre, 4, axis=1)
        h_tilde = sigmoid(f) * c
        x_tilde = sigmoid(i) * g
        inner = np.concatenate([x_tilde, h_tilde], axis=1) @ v.T + v_b
        ii, fi, gi, oi = np.split(inner, 4, axis=1)
        c_inner = sigmoid(fi) * c_inner + sigmoid(ii) * np.tanh(gi)
        c = sigmoid(oi) * np.tanh(c_inner)
        h = sigmoid(o) * np.tanh(c)
        for name, value in (("h", h), ("c", c), ("c_inner", c_inner)):
            outputs[name].append(value)
    return {name: np.stack(values, axis=1) for name, values in outputs.items()}


def test_layer_equals_a_numpy_loop():
    torch.manual_seed(0)
    layer = NestedLSTM(2, 3).double()
    with torch.no_grad():  # random biases too, so every bias takes part
        layer.bias.normal_()
        layer.inner_bias.normal_()
    inputs = torch.randn(2, 6, 2, dtype=torch.float64)
    weights = [
        p.detach().numpy()
        for p in (
            layer.weight_ih,
            layer.weight_hh,
            layer.bias,
            layer.inner_weight,
            layer.inner_bias,
        )
    ]
    expected = numpy_nested_lstm(inputs.numpy(), weights)
    with torch.no_grad():
        got = layer.sequences(inputs)
        output, last = layer(inputs)
    for name in ("h", "c", "c_inner"):
        np.testing.assert_allclose(got[name].numpy(), expected[name], rtol=0, atol=1e-12)
    np.testing.assert_allclose(output.numpy(), expected["h"], rtol=0, atol=1e-12)
    for value, name in zip(last, ("h", "c", "c_inner"), strict=True):
        np.testing.assert_allclose(value.numpy(), expected[name][:, -1], rtol=0, atol=1e-12)


def test_parameter_count_is_tf_nested_lstm_count():
    # outer kernel [n + u, 4u] + bias [4u], inner kernel [2u, 4u] + bias [4u]
    assert sum(p.numel() for p in NestedLSTM(5, 3).parameters()) == 4 * 3 * 8 + 12 + 4 * 3 * 6 + 12
    with torch.device("meta"):
        layer = NestedLSTM(600, 600)
    assert sum(p.numel() for p in layer.parameters()) == 5_764_800  # Madsen 2019's table


def test_initialisation_like_tf():
    torch.manual_seed(1)
    units, inputs = 4, 3
    layer = NestedLSTM(inputs, units)
    for bias in (layer.bias, layer.inner_bias):
        expected = torch.zeros(4 * units)
        expected[units : 2 * units] = 1.0  # forget bias 1, gate blocks i, f, g, o
        assert torch.equal(bias.detach(), expected)
    outer_limit = math.sqrt(6 / (inputs + units + 4 * units))
    assert layer.weight_ih.abs().max() <= outer_limit
    assert layer.weight_hh.abs().max() <= outer_limit
    assert layer.inner_weight.abs().max() <= math.sqrt(6 / (6 * units))


def test_gradients_match_finite_differences():
    torch.manual_seed(2)
    layer = NestedLSTM(2, 2).double()
    inputs = torch.randn(2, 4, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: layer(x)[0], (inputs,))


def test_empty_sequence_and_bad_input():
    layer = NestedLSTM(2, 3)
    output, _ = layer(torch.zeros(4, 0, 2))
    assert output.shape == (4, 0, 3)
    with pytest.raises(ValueError, match=r"inputs \[batch, time, 2\]"):
        layer(torch.zeros(4, 5, 3))
    with pytest.raises(ValueError, match="hidden_size"):
        NestedLSTM(2, 0)


def test_a_compiled_step_trains_like_the_eager_step():
    # Three Adam steps of the whole autocomplete model, the Nested LSTM step compiled by
    # torch.compile (inductor) in one copy: the same losses and weights within float tolerance.
    from rnnatlas.models.autocomplete import AutocompleteModel

    torch.manual_seed(0)
    eager = AutocompleteModel("nlstm", units=8, classes=11, symbols=6)
    compiled = AutocompleteModel("nlstm", units=8, classes=11, symbols=6)
    compiled.load_state_dict(eager.state_dict())
    assert compiled.compile_cells()
    tokens = torch.randint(1, 6, (3, 7))
    targets = torch.randint(0, 11, (3, 7))
    losses = {}
    for name, model in (("eager", eager), ("compiled", compiled)):
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        losses[name] = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(tokens).flatten(0, 1), targets.flatten())
            loss.backward()
            optimizer.step()
            losses[name].append(loss.item())
    np.testing.assert_allclose(losses["compiled"], losses["eager"], rtol=1e-5)
    assert losses["eager"][2] < losses["eager"][0]  # it trained
    for (name, a), b in zip(
        eager.state_dict().items(), compiled.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6, msg=name)
