"""LowRankRNN: parameter count, equality with a dense SequenceRNN whose W_hh is U V, the two
state views (closed forms), and rebuilding."""

from __future__ import annotations

import pytest
import torch

from rnnatlas.models.lowrank import LowRankRNN
from rnnatlas.models.rnn import SequenceRNN

pytestmark = pytest.mark.usefixtures("restore_torch_globals")


def model(units=7, rank=2, input_dim=3, classes=4, seed=0) -> LowRankRNN:
    torch.manual_seed(seed)
    return LowRankRNN(input_dim=input_dim, classes=classes, units=units, rank=rank).double()


def test_parameter_count():
    units, rank, input_dim, classes = 50, 3, 28, 10
    net = LowRankRNN(input_dim=input_dim, classes=classes, units=units, rank=rank)
    expected = (
        input_dim * units
        + units  # W_ih, b
        + 2 * units * rank  # U, V
        + units * classes
        + classes  # readout
    )
    assert sum(p.numel() for p in net.parameters()) == expected
    dense = SequenceRNN(input_dim=input_dim, classes=classes, units=units)
    # the dense model: units^2 recurrent weights and two (summed) biases instead
    assert (
        sum(p.numel() for p in dense.parameters()) - expected == units**2 + units - 2 * units * rank
    )


def test_equal_to_a_dense_rnn_with_w_set_to_u_v():
    net = model()
    dense = SequenceRNN(input_dim=3, classes=4, units=7).double()
    with torch.no_grad():
        dense.rnn.weight_ih_l0.copy_(net.input_layer.weight)
        dense.rnn.bias_ih_l0.copy_(net.input_layer.bias)
        dense.rnn.weight_hh_l0.copy_(net.U @ net.V)
        dense.rnn.bias_hh_l0.zero_()
        dense.readout.load_state_dict(net.readout.state_dict())
    inputs = torch.randn(5, 9, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(net.states(inputs)["h0"], dense.states(inputs)["h0"])
        torch.testing.assert_close(net(inputs), dense(inputs))
        for step in (0, 4, 9):
            torch.testing.assert_close(net.logits_at(inputs, step), dense.logits_at(inputs, step))
        W, b = net.recurrent_weights()
        W_dense, b_dense = dense.recurrent_weights()
        torch.testing.assert_close(W, W_dense)
        torch.testing.assert_close(b, b_dense)
        h = torch.rand(7, dtype=torch.float64)
        torch.testing.assert_close(net.autonomous_map()(h), dense.autonomous_map()(h))
    assert torch.linalg.matrix_rank(W).item() == 2


def test_state_views():
    net = model(units=6, rank=2)
    inputs = torch.randn(3, 5, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    with torch.no_grad():
        views = net.states(inputs)
    h, v, u = views["h0"], views["v_coords"], views["u_coords"]
    assert h.shape == (3, 5, 6) and v.shape == u.shape == (3, 5, 2)
    # V h, by hand
    torch.testing.assert_close(v, torch.einsum("ru,btu->btr", net.V.detach(), h))
    # U u_coords is the orthogonal projection of h onto span(U): Q Q^T h with U = Q R
    Q = torch.linalg.qr(net.U.detach()).Q
    projection = h @ Q @ Q.T
    torch.testing.assert_close(u @ net.U.detach().T, projection)
    # the residual is orthogonal to U's columns
    residual = h - u @ net.U.detach().T
    torch.testing.assert_close(residual @ net.U.detach(), torch.zeros(3, 5, 2, dtype=torch.float64))
    # h_{t+1} depends on h_t only through v_coords: the recurrent drive is U v_t
    drive = net.input_layer(inputs[:, 1]).detach() + v[:, 0] @ net.U.detach().T
    torch.testing.assert_close(h[:, 1], torch.tanh(drive))


def test_rebuild_from_hyperparameters_and_bad_sizes():
    net = model(units=5, rank=3)
    rebuilt = LowRankRNN.from_hyperparameters(net.hyperparameters())
    assert (
        rebuilt.hyperparameters()
        == net.hyperparameters()
        == {
            "class": "LowRankRNN",
            "input_dim": 3,
            "classes": 4,
            "units": 5,
            "rank": 3,
        }
    )
    rebuilt.load_state_dict(net.float().state_dict())
    with pytest.raises(ValueError, match="rank=6 exceeds units=5"):
        LowRankRNN(units=5, rank=6)
    with pytest.raises(ValueError, match="LowRankRNN expects inputs"):
        net.states(torch.zeros(1, 2, 4))
