"""The vanilla RNN of Horoi, Geadah, Lajoie & Wolf 2020: 28 rows in, tanh RNN(200), linear readout.

h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), h_0 = 0 (torch's `nn.RNN`, torch's default
initialisation), logits_t = W_out h_t + b_out. The class is read out after the last row; the
readout is defined at every step (and at step 0, the initial zero state, where it is b_out) so the
cut/hidden/extended variants can read any step. With zero input the network is the autonomous map
h <- tanh(W h + b), W = W_hh, b = b_ih + b_hh, whose Lyapunov spectrum the paper studies.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from rnnatlas.models.rebuild import Rebuildable


class SequenceRNN(Rebuildable, nn.Module):
    """One-layer tanh RNN (batch first) read out to `classes` logits by one linear layer."""

    def __init__(self, input_dim: int = 28, classes: int = 10, units: int = 200) -> None:
        super().__init__()
        for name, value in {"input_dim": input_dim, "classes": classes, "units": units}.items():
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"SequenceRNN: {name} must be a positive integer, got {value!r}")
        self.input_dim = int(input_dim)
        self.classes = int(classes)
        self.units = int(units)
        self.rnn = nn.RNN(self.input_dim, self.units, nonlinearity="tanh", batch_first=True)
        self.readout = nn.Linear(self.units, self.classes)

    def hyperparameters(self) -> dict:
        """Everything needed to rebuild this model, JSON-able."""
        return {
            "class": type(self).__name__,
            "input_dim": self.input_dim,
            "classes": self.classes,
            "units": self.units,
        }

    # ------------------------------------------------------------------------------ running

    def forward(self, inputs: Tensor) -> Tensor:
        """Logits after every row, [batch, time, classes] (step t: after reading row t)."""
        return self.readout(self.states(inputs)["h0"])

    def logits_at(self, inputs: Tensor, readout_step: int) -> Tensor:
        """Logits [batch, classes] after `readout_step` rows of `inputs`.

        readout_step = 0 reads the initial zero state: every sequence gets the readout bias.
        Only the first `readout_step` rows are run (the RNN is causal).
        """
        self._check_inputs(inputs)
        steps = inputs.shape[1]
        if isinstance(readout_step, bool) or not 0 <= int(readout_step) <= steps:
            raise ValueError(
                f"readout_step={readout_step!r} must be an integer in [0, {steps}] "
                f"(the number of rows fed)"
            )
        readout_step = int(readout_step)
        if readout_step == 0:
            return self.readout(inputs.new_zeros(inputs.shape[0], self.units))
        return self.readout(self._last_hidden(inputs[:, :readout_step]))

    def _last_hidden(self, inputs: Tensor) -> Tensor:
        """The hidden state [batch, units] after the last of >= 1 rows."""
        _, last = self.rnn(inputs)  # last: [layers=1, batch, units]
        return last[0]

    def states(self, inputs: Tensor) -> dict[str, Tensor]:
        """The hidden state after every row: {"h0": [batch, time, units]} (h_0 = 0 not included)."""
        self._check_inputs(inputs)
        if inputs.shape[1] == 0:
            return {"h0": inputs.new_zeros(inputs.shape[0], 0, self.units)}
        hidden, _ = self.rnn(inputs)
        return {"h0": hidden}

    # --------------------------------------------------------------------- autonomous system

    def recurrent_weights(self) -> tuple[Tensor, Tensor]:
        """(W [units, units], b [units]) of the autonomous map h <- tanh(W h + b), detached copies.

        W = W_hh, b = b_ih + b_hh: the update with zero input.
        """
        weight = self.rnn.weight_hh_l0.detach().clone()
        bias = (self.rnn.bias_ih_l0 + self.rnn.bias_hh_l0).detach().clone()
        return weight, bias

    def autonomous_map(self) -> Callable[[Tensor], Tensor]:
        """The zero-input update h -> tanh(W h + b) on a state [units] (or [batch, units]),
        differentiable in h, with the weights frozen at their current values."""
        weight, bias = self.recurrent_weights()

        def step(hidden: Tensor) -> Tensor:
            return torch.tanh(hidden @ weight.T + bias)

        return step

    def _check_inputs(self, inputs: Tensor) -> None:
        if inputs.dim() != 3 or inputs.shape[-1] != self.input_dim:
            raise ValueError(
                f"{type(self).__name__} expects inputs [batch, time, {self.input_dim}], "
                f"got {tuple(inputs.shape)}"
            )
