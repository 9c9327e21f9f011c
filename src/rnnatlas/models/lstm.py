"""The LSTM of Variengien & Hinaut 2020: masking -> LSTM(units) -> Dense(linear).

Sequences are post-padded. Keras' Masking layer freezes the state after a sequence's last real
token; this module gets the same numbers more cheaply: an LSTM is causal, so the state at the last
real token never sees the padding, and readouts at padded steps repeat the last real one.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from rnnatlas.models.rebuild import Rebuildable

# torch orders an LSTM's gate blocks input, forget, cell, output (as Keras does).
_FORGET_GATE = 1


class SequenceLSTM(Rebuildable, nn.Module):
    """A stacked LSTM (batch first) read out by one linear layer at every step.

    keras_init=True reproduces Keras' defaults: Glorot-uniform input kernels, orthogonal recurrent
    kernels, zero biases except a forget-gate bias of 1, a Glorot-uniform Dense layer with zero
    bias. Keras has one bias vector per gate where torch has two (b_ih + b_hh): b_hh is held at
    zero and frozen (requires_grad=False), so the trainable parameters are exactly Keras' ones
    (3,742 for 20 inputs, 20 units, 22 outputs). keras_init=False keeps torch's own defaults
    (both bias vectors trainable).
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        units: int = 20,
        layers: int = 1,
        keras_init: bool = True,
    ) -> None:
        super().__init__()
        for name, value in {
            "input_dim": input_dim,
            "output_dim": output_dim,
            "units": units,
            "layers": layers,
        }.items():
            if int(value) != value or value < 1:
                raise ValueError(f"SequenceLSTM: {name} must be a positive integer, got {value!r}")
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.units = int(units)
        self.layers = int(layers)
        self.keras_init = bool(keras_init)
        self.lstm = nn.LSTM(self.input_dim, self.units, num_layers=self.layers, batch_first=True)
        self.readout = nn.Linear(self.units, self.output_dim)
        if self.keras_init:
            self._initialise_like_keras()

    def hyperparameters(self) -> dict:
        """Everything needed to rebuild this model, JSON-able."""
        return {
            "class": type(self).__name__,
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "units": self.units,
            "layers": self.layers,
            "keras_init": self.keras_init,
        }

    @torch.no_grad()
    def _initialise_like_keras(self) -> None:
        initialise_lstm_like_keras(self.lstm)
        nn.init.xavier_uniform_(self.readout.weight)
        self.readout.bias.zero_()

    def forward(self, inputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Readout at every step, [batch, time, output_dim].

        With lengths, steps at or after a sequence's end repeat its last real readout
        (Keras masking).
        """
        self._check_inputs(inputs, lengths)
        hidden, _ = self.lstm(inputs)
        if lengths is not None:
            hidden = _hold_after_end(hidden, lengths)
        return self.readout(hidden)

    def last_output(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """Readout after each sequence's last real token, [batch, output_dim]."""
        self._check_inputs(inputs, lengths)
        hidden, _ = self.lstm(inputs)
        return self.readout(_at_last_token(hidden, lengths))

    def states(self, inputs: Tensor, lengths: Tensor | None = None) -> dict[str, Tensor]:
        """Hidden and cell states of every layer at every step: {"h0", "c0", "h1", "c1", ...}.

        nn.LSTM returns the cell state only at the last step, so the sequence is fed one step at
        a time carrying (h, c); each entry is [batch, time, units]. With lengths, steps after a
        sequence's end repeat its last real state (Keras masking).
        """
        self._check_inputs(inputs, lengths)
        batch, steps, _ = inputs.shape
        shape = (self.layers, batch, self.units)
        carry = (inputs.new_zeros(shape), inputs.new_zeros(shape))
        hidden_steps, cell_steps = [], []
        for step in range(steps):
            _, carry = self.lstm(inputs[:, step : step + 1], carry)
            hidden_steps.append(carry[0])
            cell_steps.append(carry[1])
        # [time, layers, batch, units] -> [layers, batch, time, units]
        hidden_all = torch.stack(hidden_steps).permute(1, 2, 0, 3)
        cell_all = torch.stack(cell_steps).permute(1, 2, 0, 3)
        result = {}
        for layer in range(self.layers):
            hidden, cell = hidden_all[layer], cell_all[layer]
            if lengths is not None:
                hidden, cell = _hold_after_end(hidden, lengths), _hold_after_end(cell, lengths)
            result[f"h{layer}"] = hidden
            result[f"c{layer}"] = cell
        return result

    def _check_inputs(self, inputs: Tensor, lengths: Tensor | None) -> None:
        if inputs.dim() != 3 or inputs.shape[-1] != self.input_dim:
            raise ValueError(
                f"SequenceLSTM expects inputs [batch, time, {self.input_dim}], "
                f"got {tuple(inputs.shape)}"
            )
        if lengths is None:
            return
        batch, steps, _ = inputs.shape
        if lengths.shape != (batch,):
            raise ValueError(f"lengths must be [{batch}], got {tuple(lengths.shape)}")
        if len(lengths) and (int(lengths.min()) < 1 or int(lengths.max()) > steps):
            raise ValueError(f"lengths must lie in 1..{steps} (the padded length)")


@torch.no_grad()
def initialise_lstm_like_keras(lstm: nn.LSTM) -> None:
    """Keras' LSTM defaults on a torch LSTM: Glorot-uniform input kernels, orthogonal recurrent
    kernels, zero biases but the forget gate's (1); torch's second bias vector (b_hh) held at
    zero and frozen, so the trainable parameters are Keras' own."""
    units = lstm.hidden_size
    for layer in range(lstm.num_layers):
        # Keras' kernel is (inputs, 4*units): same fan-in/fan-out as torch's transposed one.
        nn.init.xavier_uniform_(getattr(lstm, f"weight_ih_l{layer}"))
        # Keras makes the whole (units, 4*units) recurrent kernel orthogonal, not each gate.
        nn.init.orthogonal_(getattr(lstm, f"weight_hh_l{layer}"))
        input_bias = getattr(lstm, f"bias_ih_l{layer}")
        input_bias.zero_()
        input_bias[_FORGET_GATE * units : (_FORGET_GATE + 1) * units] = 1.0
        recurrent_bias = getattr(lstm, f"bias_hh_l{layer}")
        recurrent_bias.zero_()
        recurrent_bias.requires_grad_(False)  # one bias per gate, as in Keras


def _at_last_token(sequence: Tensor, lengths: Tensor) -> Tensor:
    """sequence[b, lengths[b] - 1] for every b: [batch, time, units] -> [batch, units]."""
    rows = torch.arange(sequence.shape[0], device=sequence.device)
    return sequence[rows, lengths.to(sequence.device) - 1]


def _hold_after_end(sequence: Tensor, lengths: Tensor) -> Tensor:
    """Replace every step at or after a sequence's end by its last real step."""
    batch, steps, units = sequence.shape
    step_ids = torch.arange(steps, device=sequence.device)
    last_ids = (lengths.to(sequence.device) - 1).unsqueeze(1)
    source_steps = torch.minimum(step_ids.unsqueeze(0), last_ids)  # [batch, time]
    return sequence.gather(1, source_steps.unsqueeze(-1).expand(batch, steps, units))


def one_hot_batch(token_lists: list[np.ndarray], input_dim: int) -> tuple[Tensor, Tensor]:
    """One-hot encode token-id sequences, post-padded with zero vectors.

    Returns inputs [batch, longest, input_dim] float32 and lengths [batch] int64.
    """
    if len(token_lists) == 0:
        raise ValueError("one_hot_batch: no sequences given")
    arrays = [np.asarray(tokens, dtype=np.int64).reshape(-1) for tokens in token_lists]
    lengths = torch.tensor([len(tokens) for tokens in arrays], dtype=torch.int64)
    if int(lengths.min()) == 0:
        raise ValueError(f"one_hot_batch: sequence {int(lengths.argmin())} is empty")
    token_ids = torch.from_numpy(np.concatenate(arrays))
    if int(token_ids.min()) < 0 or int(token_ids.max()) >= input_dim:
        raise ValueError(
            f"one_hot_batch: token ids must lie in 0..{input_dim - 1}, "
            f"found {int(token_ids.min())}..{int(token_ids.max())}"
        )
    rows = torch.repeat_interleave(torch.arange(len(arrays)), lengths)
    steps = torch.cat([torch.arange(int(length)) for length in lengths])
    batch = torch.zeros(len(arrays), int(lengths.max()), input_dim, dtype=torch.float32)
    batch[rows, steps, token_ids] = 1.0
    return batch, lengths
