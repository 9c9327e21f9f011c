"""Your own model in the analyses: a module with `states(inputs)` is used as it is; a plain
`torch.nn.RNN`, `GRU` or `LSTM` (any layers, batch_first or not) is wrapped by `wrap()` to get

- `states(inputs [B, T, features]) -> {"h0": [B, T, units], ("c0": ...), "h1": ...}`: every
  layer's hidden (and cell) state after every step, batch first;
- `autonomous_map()`: the zero-input step as a map of one flat state vector [B, S] -> [B, S]
  (all layers' h, then for an LSTM all layers' c), what Lyapunov spectra and fixed points read.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


class WrappedRNN(nn.Module):
    """A torch recurrent layer stack with the analyses' interface (see the module docstring)."""

    def __init__(self, rnn: nn.RNNBase) -> None:
        super().__init__()
        if not isinstance(rnn, nn.RNNBase):
            raise TypeError(f"wrap() takes a torch.nn.RNN, GRU or LSTM, not {type(rnn).__name__}")
        if rnn.bidirectional:
            raise ValueError("a bidirectional RNN has no forward-in-time state to analyse")
        self.rnn = rnn
        self.is_lstm = isinstance(rnn, nn.LSTM)
        self.layers, self.units = rnn.num_layers, rnn.hidden_size
        self.input_size = rnn.input_size

    @property
    def state_size(self) -> int:
        """Length of the flat state of `autonomous_map`."""
        return self.layers * self.units * (2 if self.is_lstm else 1)

    def _carry(self, batch: int, like: Tensor):
        zeros = like.new_zeros(self.layers, batch, self.units)
        return (zeros, zeros.clone()) if self.is_lstm else zeros

    def _one_step(self, x: Tensor, carry):
        """x: [B, features] -> the carry after it (h, or (h, c)), each [layers, B, units]."""
        step_input = x[:, None] if self.rnn.batch_first else x[None]
        _, carry = self.rnn(step_input, carry)
        return carry

    def states(self, inputs: Tensor) -> dict[str, Tensor]:
        if inputs.dim() != 3 or inputs.shape[-1] != self.input_size:
            raise ValueError(
                f"states() takes inputs [batch, time, {self.input_size}], got {tuple(inputs.shape)}"
            )
        carry = self._carry(inputs.shape[0], inputs)
        hidden, cell = [], []
        for step in range(inputs.shape[1]):
            carry = self._one_step(inputs[:, step], carry)
            hidden.append(carry[0] if self.is_lstm else carry)
            if self.is_lstm:
                cell.append(carry[1])
        result = {}
        for layer in range(self.layers):  # [T, layers, B, units] -> [B, T, units] per layer
            result[f"h{layer}"] = torch.stack([h[layer] for h in hidden], dim=1)
            if self.is_lstm:
                result[f"c{layer}"] = torch.stack([c[layer] for c in cell], dim=1)
        return result

    def forward(self, inputs: Tensor) -> Tensor:
        """The last layer's hidden state after every step, [B, T, units]."""
        return self.states(inputs)[f"h{self.layers - 1}"]

    def autonomous_map(self) -> Callable[[Tensor], Tensor]:
        """The zero-input step on flat states [B, state_size]."""
        shape = (self.layers, self.units)

        dtype = next(self.rnn.parameters()).dtype

        def step(flat: Tensor) -> Tensor:
            batch, given = flat.shape[0], flat.dtype
            flat = flat.to(dtype)  # the layer's own precision; the result comes back in `given`
            parts = flat.reshape(batch, -1, *shape)  # [B, 1 or 2, layers, units]
            h = parts[:, 0].permute(1, 0, 2).contiguous()
            carry = (h, parts[:, 1].permute(1, 0, 2).contiguous()) if self.is_lstm else h
            zeros = flat.new_zeros(batch, self.input_size)
            carry = self._one_step(zeros, carry)
            pieces = carry if self.is_lstm else (carry,)
            flat_next = torch.cat([p.permute(1, 0, 2).reshape(batch, -1) for p in pieces], dim=1)
            return flat_next.to(given)

        return step


def wrap(module: nn.Module) -> nn.Module:
    """`module` itself when it has `states()`, else a torch RNN/GRU/LSTM wrapped (WrappedRNN)."""
    if callable(getattr(module, "states", None)):
        return module
    return WrappedRNN(module)
