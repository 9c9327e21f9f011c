"""Nested LSTM of depth 2 (Moniz & Krueger 2018, "Nested LSTMs", arXiv 1801.10308).

An LSTM whose memory update c_t = f ⊙ c_{t-1} + i ⊙ g is replaced by a second ("inner") LSTM
cell: the outer cell hands the inner one h̃_{t-1} = f ⊙ c_{t-1} as its previous hidden state and
x̃_t = i ⊙ g as its input, and the inner cell's output becomes the outer memory. Per step, with
σ the logistic sigmoid and gate blocks in torch's order (input, forget, cell, output):

    outer  [i, f, g, o] = W_ih x_t + W_hh h_{t-1} + b
           h̃_{t-1} = σ(f) ⊙ c_{t-1}            (inner "previous hidden state")
           x̃_t     = σ(i) ⊙ g                  (inner input: identity on g, see below)
    inner  [ĩ, f̃, g̃, õ] = V [x̃_t; h̃_{t-1}] + v
           c̃_t = σ(f̃) ⊙ c̃_{t-1} + σ(ĩ) ⊙ tanh(g̃)    (inner memory, a plain LSTM update)
           c_t = σ(õ) ⊙ tanh(c̃_t)             (inner output = outer memory)
    outer  h_t = σ(o) ⊙ tanh(c_t)

Activations, checked against the sources:
- Outer candidate g: identity. Madsen's BasicNLSTMCell (distillpub/post--memorization-in-rnns,
  python/operator/nlstm/nlstm.py), the cell behind the paper's published numbers, computes
  `inner_input = sigmoid(i) * j` at depth 0 and `sigmoid(i) * tanh(j)` below it; the paper's
  x̃_t = i_t ⊙ σ_c(x_t W_xc + h_{t-1} W_hc + b_c) takes σ_c as the identity at the outer level
  (as a summary of the paper states; its full text was not at hand). Why: the inner LSTM
  squashes what it stores with its own tanh, so a second tanh would only shrink the signal.
  The hannw/nlstm TF cell that Madsen's simplifies applies tanh at every depth; we follow the
  cell that was trained for the paper.
- Inner cell: a standard LSTM, tanh on its candidate g̃ and on its memory before the output
  gate, so the outer memory c_t = σ(õ) ⊙ tanh(c̃_t) lies in (-1, 1) and h_t applies tanh again.

Forget bias: the TF cells add a constant 1 to both forget gates' pre-activations, with zero
-initialised trainable biases. Here the forget blocks of both biases start at `forget_bias` (1)
instead. The two are the same function, and Adam (whose update depends only on gradients, which
a constant shift leaves unchanged) moves them identically, so training is the same too; the
equations above need no extra constant. A TF checkpoint's forget biases convert by adding 1.

Parameters (TF's convention: one bias per gate): 4u(n + u) + 4u outer plus 4u(2u) + 4u inner,
for input size n and u units: 5,764,800 at n = u = 600, as in Madsen 2019's table.
Initialisation as TF's `get_variable` default: Glorot-uniform over each depth's concatenated
kernel ([n + u, 4u] outer, [2u, 4u] inner), zero biases except the forget blocks.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class NestedLSTM(nn.Module):
    """One Nested LSTM layer of depth 2 over batch-first sequences [batch, time, input_size]."""

    def __init__(self, input_size: int, hidden_size: int, forget_bias: float = 1.0) -> None:
        super().__init__()
        for name, value in {"input_size": input_size, "hidden_size": hidden_size}.items():
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"NestedLSTM: {name} must be a positive integer, got {value!r}")
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.forget_bias = float(forget_bias)
        units = self.hidden_size
        # Outer cell: the input part is applied to all steps at once, the recurrent part per step.
        self.weight_ih = nn.Parameter(torch.empty(4 * units, self.input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * units, units))
        self.bias = nn.Parameter(torch.empty(4 * units))
        # Inner cell: one kernel over [x̃; h̃] (both change every step).
        self.inner_weight = nn.Parameter(torch.empty(4 * units, 2 * units))
        self.inner_bias = nn.Parameter(torch.empty(4 * units))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """TF's defaults: Glorot-uniform per depth's whole kernel; biases 0, forget blocks 1."""
        units = self.hidden_size
        outer_limit = math.sqrt(6.0 / (self.input_size + units + 4 * units))
        nn.init.uniform_(self.weight_ih, -outer_limit, outer_limit)
        nn.init.uniform_(self.weight_hh, -outer_limit, outer_limit)
        inner_limit = math.sqrt(6.0 / (2 * units + 4 * units))
        nn.init.uniform_(self.inner_weight, -inner_limit, inner_limit)
        for bias in (self.bias, self.inner_bias):
            bias.zero_()
            bias[units : 2 * units] = self.forget_bias

    def compile_step(self) -> None:
        """Run each step through torch.compile: its dozen elementwise kernels fuse into a few,
        which matters on a GPU, where the cell is bound by kernel launches, not arithmetic. The
        numbers agree with the eager step within float tolerance; nothing is saved with the
        model (tests/test_nested_lstm.py compares training steps)."""
        self._compiled_step = torch.compile(self.step, dynamic=False)

    def step(
        self, input_gates: Tensor, state: tuple[Tensor, Tensor, Tensor]
    ) -> tuple[Tensor, Tensor, Tensor]:
        """One step from (h, c, c_inner) [batch, units] each; input_gates = W_ih x_t + b."""
        hidden, memory, inner_memory = state
        units = self.hidden_size
        gates = torch.addmm(input_gates, hidden, self.weight_hh.T)
        opened = torch.sigmoid(gates)  # the cell block (2u:3u) is used without activation
        input_gate, forget_gate = opened[:, :units], opened[:, units : 2 * units]
        output_gate = opened[:, 3 * units :]
        inner_previous = forget_gate * memory
        inner_input = input_gate * gates[:, 2 * units : 3 * units]
        inner_gates = torch.addmm(
            self.inner_bias, torch.cat([inner_input, inner_previous], dim=1), self.inner_weight.T
        )
        inner_opened = torch.sigmoid(inner_gates)
        inner_candidate = torch.tanh(inner_gates[:, 2 * units : 3 * units])
        inner_memory = (
            inner_opened[:, units : 2 * units] * inner_memory
            + inner_opened[:, :units] * inner_candidate
        )
        memory = inner_opened[:, 3 * units :] * torch.tanh(inner_memory)
        hidden = output_gate * torch.tanh(memory)
        return hidden, memory, inner_memory

    def forward(
        self, inputs: Tensor, state: tuple[Tensor, Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor, Tensor]]:
        """Outputs h [batch, time, units] and the last (h, c, c_inner); zero initial state."""
        sequences, last = self._run(inputs, state, keep_memories=False)
        return sequences["h"], last

    def sequences(
        self, inputs: Tensor, state: tuple[Tensor, Tensor, Tensor] | None = None
    ) -> dict[str, Tensor]:
        """Every step's h, c (outer memory) and c_inner (inner memory): [batch, time, units]."""
        sequences, _ = self._run(inputs, state, keep_memories=True)
        return sequences

    def _run(self, inputs: Tensor, state, keep_memories: bool):
        if inputs.dim() != 3 or inputs.shape[-1] != self.input_size:
            raise ValueError(
                f"NestedLSTM expects inputs [batch, time, {self.input_size}], "
                f"got {tuple(inputs.shape)}"
            )
        batch, steps, _ = inputs.shape
        if state is None:
            zeros = inputs.new_zeros(batch, self.hidden_size)
            state = (zeros, zeros, zeros)
        # The input half of the outer gates for all steps in one matrix product.
        input_gates = torch.nn.functional.linear(inputs, self.weight_ih, self.bias)
        hidden, memories, inner_memories = [], [], []
        # unbind, not input_gates[:, t]: indexing would make the backward pass add T full-size
        # zero gradients (quadratic in T); unbind's backward stacks the step gradients once.
        step = getattr(self, "_compiled_step", self.step)
        for step_gates in input_gates.unbind(dim=1):
            state = step(step_gates, state)
            hidden.append(state[0])
            if keep_memories:  # only states() needs them: skip the copies in training
                memories.append(state[1])
                inner_memories.append(state[2])

        def stacked(values: list[Tensor]) -> Tensor:
            if not values:
                return inputs.new_zeros(batch, 0, self.hidden_size)
            return torch.stack(values, dim=1)

        sequences = {"h": stacked(hidden)}
        if keep_memories:
            sequences.update(c=stacked(memories), c_inner=stacked(inner_memories))
        return sequences, state
