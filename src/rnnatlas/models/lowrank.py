"""A vanilla tanh RNN with a factorised recurrent kernel W = U V (Koppula, Sim & Chin 2018 study
"information divergence in the bases of factorized recurrent kernels").

h_t = tanh(W_ih x_t + b + U (V h_{t-1})), h_0 = 0, logits_t = W_out h_t + b_out, with
U [units, rank] and V [rank, units]. It is a `SequenceRNN` (same interface: forward, logits_at,
states, recurrent_weights, autonomous_map) whose W_hh is replaced by the factors; there is one
recurrent bias b (nn.RNN's b_ih + b_hh, which only ever appear summed).

The two bases of the factorised kernel give two views of the state, returned by `states()` next
to h0:

- ``v_coords`` = V h_t [rank]: the state read in the basis of V's rows. It is everything that
  the recurrence carries from t to t + 1 (h_{t+1} depends on h_t only through V h_t), so its
  memory signature bounds what the kernel can pass on.
- ``u_coords`` = U^+ h_t [rank] (least-squares coordinates, U^+ = (U^T U)^{-1} U^T): the state
  read in the basis of U's columns, the subspace the recurrence writes into; U u_coords is the
  orthogonal projection of h_t onto span(U). (The recurrent *drive* W h_t = U (V h_t) has
  coordinates exactly V h_t in U's basis, which would repeat v_coords; so u_coords projects the
  state itself, which also holds the input drive and the tanh's distortion.)

The two views agree only if the information written into span(U) is also read out by V; their
memory signatures (rnnatlas.analysis.memory_signature) measure how far they diverge.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnatlas.models.rnn import SequenceRNN


class LowRankRNN(SequenceRNN):
    """One-layer tanh RNN with recurrent weights U V of rank `rank`, linear readout."""

    def __init__(
        self, input_dim: int = 28, classes: int = 10, units: int = 200, rank: int = 2
    ) -> None:
        # SequenceRNN.__init__ would build a full-rank nn.RNN: set up the module directly.
        nn.Module.__init__(self)
        sizes = {"input_dim": input_dim, "classes": classes, "units": units, "rank": rank}
        for name, value in sizes.items():
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"LowRankRNN: {name} must be a positive integer, got {value!r}")
        if rank > units:
            raise ValueError(f"LowRankRNN: rank={rank} exceeds units={units}; use rank <= units")
        self.input_dim, self.classes = int(input_dim), int(classes)
        self.units, self.rank = int(units), int(rank)
        self.input_layer = nn.Linear(self.input_dim, self.units)  # W_ih and the bias b
        # V h has unit-order entries for unit-order h, and U V's nonzero eigenvalues (those of
        # the rank x rank V U) are of order one: the recurrence neither explodes nor vanishes.
        self.U = nn.Parameter(torch.randn(self.units, self.rank) / math.sqrt(self.rank))
        self.V = nn.Parameter(torch.randn(self.rank, self.units) / math.sqrt(self.units))
        self.readout = nn.Linear(self.units, self.classes)

    def hyperparameters(self) -> dict:
        return {**super().hyperparameters(), "rank": self.rank}

    # ------------------------------------------------------------------------------ running

    def _run(self, inputs: Tensor) -> tuple[Tensor, Tensor]:
        """(h [B, T, units], V h [B, T, rank]) after every step."""
        drive = self.input_layer(inputs)  # every step's input drive at once
        hidden = drive.new_zeros(inputs.shape[0], self.units)
        states, reads = [], []
        for t in range(inputs.shape[1]):
            read = hidden @ self.V.T  # [B, rank]: all the recurrence sees of h_{t-1}
            hidden = torch.tanh(drive[:, t] + read @ self.U.T)
            states.append(hidden)
            reads.append(hidden @ self.V.T)
        if not states:
            empty = inputs.new_zeros(inputs.shape[0], 0, self.units)
            return empty, empty[..., : self.rank]
        return torch.stack(states, dim=1), torch.stack(reads, dim=1)

    def forward(self, inputs: Tensor) -> Tensor:
        """Logits after every row, [batch, time, classes] (without the views of `states`)."""
        self._check_inputs(inputs)
        return self.readout(self._run(inputs)[0])

    def _last_hidden(self, inputs: Tensor) -> Tensor:
        return self._run(inputs)[0][:, -1]

    def states(self, inputs: Tensor) -> dict[str, Tensor]:
        """{"h0": [B, T, units], "v_coords": [B, T, rank], "u_coords": [B, T, rank]}."""
        self._check_inputs(inputs)
        hidden, v_coords = self._run(inputs)
        if hidden.shape[1] == 0:
            return {"h0": hidden, "v_coords": v_coords, "u_coords": v_coords.clone()}
        # least-squares coordinates in U's columns (lstsq, not an explicit inverse of U^T U)
        flat = hidden.reshape(-1, self.units).T  # [units, B T]
        u_coords = torch.linalg.lstsq(self.U, flat).solution.T.reshape(*hidden.shape[:2], -1)
        return {"h0": hidden, "v_coords": v_coords, "u_coords": u_coords}

    # --------------------------------------------------------------------- autonomous system

    def recurrent_weights(self) -> tuple[Tensor, Tensor]:
        """(W = U V [units, units], b [units]) of the zero-input map h <- tanh(W h + b)."""
        return (self.U @ self.V).detach().clone(), self.input_layer.bias.detach().clone()
