"""Plain torch recurrent layers brought into the analyses by rnnatlas.models.wrap, checked against
the layers' own outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rnnatlas.analysis.fixed_point_finder import fixed_points
from rnnatlas.models.wrap import wrap


@pytest.mark.parametrize("kind", [nn.RNN, nn.GRU, nn.LSTM])
@pytest.mark.parametrize("batch_first", [True, False])
def test_states_are_the_layers_own_outputs(kind, batch_first):
    torch.manual_seed(0)
    rnn = kind(3, 5, num_layers=2, batch_first=batch_first)
    inputs = torch.randn(4, 7, 3)
    wrapped = wrap(rnn)
    states = wrapped.states(inputs)
    output, _ = rnn(inputs if batch_first else inputs.transpose(0, 1))
    output = output if batch_first else output.transpose(0, 1)
    torch.testing.assert_close(states["h1"], output)  # the top layer's h at every step
    assert ("c0" in states) == (kind is nn.LSTM) and states["h0"].shape == (4, 7, 5)


def test_the_autonomous_map_is_a_zero_input_step():
    torch.manual_seed(1)
    lstm = nn.LSTM(2, 3, num_layers=2, batch_first=True)
    step = wrap(lstm).autonomous_map()
    h, c = torch.randn(2, 4, 3), torch.randn(2, 4, 3)  # [layers, batch, units]

    def flat_of(h, c):  # per sample: layer 0's h, layer 1's h, then the c's
        return torch.cat([h.permute(1, 0, 2).reshape(4, -1), c.permute(1, 0, 2).reshape(4, -1)], 1)

    flat = flat_of(h, c)
    _, (h1, c1) = lstm(torch.zeros(4, 1, 2), (h, c))
    expected = flat_of(h1, c1)
    torch.testing.assert_close(step(flat), expected)


def test_fixed_points_of_a_plain_gru():
    torch.manual_seed(2)
    gru = nn.GRU(1, 4, batch_first=True)
    found = fixed_points(wrap(gru).autonomous_map(), np.random.default_rng(0).normal(size=(8, 4)),
                         iterations=300)  # fmt: skip
    assert len(found.points) >= 1
    # the GRU itself, fed a zero, leaves each point where it is
    h = torch.as_tensor(found.points, dtype=torch.float32)[None]
    _, after = gru(torch.zeros(len(found.points), 1, 1), h)
    np.testing.assert_allclose(after[0].detach().numpy(), found.points, atol=1e-5)


def test_a_module_with_states_is_used_as_it_is_and_others_are_refused():
    class Own(nn.Module):
        def states(self, inputs):
            return {"x": inputs}

    own = Own()
    assert wrap(own) is own
    with pytest.raises(TypeError, match="torch.nn.RNN, GRU or LSTM"):
        wrap(nn.Linear(2, 2))
