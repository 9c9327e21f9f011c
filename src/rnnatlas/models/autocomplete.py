"""The text8 autocomplete networks of Madsen 2019 ("Visualizing memorization in RNNs").

Characters in, word predictions out, at every character:

    tokens [B, T] (28 symbols: 0 <eos>/pad, 1 space, 2..27 a-z)
      -> embedding [B, T, units] (row 0, the padding symbol, is a constant zero row)
      -> recurrent: "gru" 2 x GRU, "lstm" 2 x LSTM, "nlstm" 1 x Nested LSTM of depth 2
      -> dense [B, T, classes] (word logits; class 0 <eos>, 1 <unknown>)

Parameters follow the TF1 cells of the author's code (distillpub/post--memorization-in-rnns),
so the trainable counts equal the paper's table (600 units, 16,386 classes): embedding 16,200,
recurrent GRU 4,323,600 / LSTM 5,764,800 / NLSTM 5,764,800, dense 9,847,986.
- Embedding: the author's matrix is a constant zero row on top of 27 trainable rows (28 - 1
  symbols, 27 x 600 = 16,200), initialised uniform in +-sqrt(1/27). Ours is an nn.Embedding(28,
  units, padding_idx=0) (the type the connectivity analysis expects) with row 0 zero: padding_idx
  gives that row a zero gradient, so Adam never moves it (its moments stay 0, its step 0) and it
  is the same constant as the author's. `parameter_counts` therefore counts 27 rows: torch keeps
  the zero row inside the weight tensor, TF outside; neither trains it.
- LSTM, GRU: torch's cells carry two bias vectors per gate (b_ih + b_hh) where TF has one; b_hh
  is held at zero and frozen (requires_grad=False), so the trainable parameters are TF's.
  LSTM: the same function as TF's BasicLSTMCell (TF adds a constant forget bias of 1 to a
  zero-initialised bias; here the forget block of b_ih starts at 1: same function, and Adam moves
  a constant-shifted parameter identically). GRU: same count as TF1's GRUCell, but torch's cell
  applies the reset gate after the recurrent product, n = tanh(W_in x + b_in + r * (W_hn h)),
  where TF1 applies it before, n = tanh(W_in x + W_hn (r * h) + b_n) (Keras' reset_after=False).
  Both are standard GRUs with the same parameters; they are not the same function. We keep
  torch's fused nn.GRU (cuDNN on GPU): TF1's variant would need a Python time loop like the
  Nested LSTM's, which ran about half as fast as nn.LSTM on CPU here. The difference is a
  caveat of the GRU numbers.
- Nested LSTM: rnnatlas.models.nested_lstm (TF's one-bias convention, forget bias 1).
- Dense: Glorot-uniform kernel, zero bias (tf.layers.dense defaults).
Initialisation as TF1's defaults: Glorot-uniform over each cell's concatenated [inputs + units,
gates x units] kernel, biases zero except LSTM forget gates (1) and GRU reset/update gates (1,
TF1 GRUCell's default gate bias).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnatlas.models.nested_lstm import NestedLSTM
from rnnatlas.models.rebuild import Rebuildable

CELLS = ("gru", "lstm", "nlstm")
DEFAULT_LAYERS = {"gru": 2, "lstm": 2, "nlstm": 1}
SYMBOLS = 28  # <eos>/pad, space, a-z
# torch's gate order in weight rows: GRU (reset, update, new), LSTM (input, forget, cell, output)
_LSTM_FORGET = 1


class AutocompleteModel(Rebuildable, nn.Module):
    """Embedding -> GRU / LSTM / Nested LSTM -> dense word logits, at every character."""

    def __init__(
        self,
        cell: str,
        units: int = 600,
        classes: int = 16_386,
        symbols: int = SYMBOLS,
        layers: int | None = None,
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"AutocompleteModel: cell must be one of {CELLS}, got {cell!r}")
        layers = DEFAULT_LAYERS[cell] if layers is None else layers
        sizes = {"units": units, "classes": classes, "symbols": symbols, "layers": layers}
        for name, value in sizes.items():
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(
                    f"AutocompleteModel: {name} must be a positive integer, got {value!r}"
                )
        if symbols < 2:
            raise ValueError(f"AutocompleteModel: symbols must be >= 2 (pad + one), got {symbols}")
        self.cell = cell
        self.units = int(units)
        self.classes = int(classes)
        self.symbols = int(symbols)
        self.layers = int(layers)
        self.forget_bias = float(forget_bias)
        # Row 0 (padding) stays zero: padding_idx zeroes its gradient.
        self.embedding = nn.Embedding(self.symbols, self.units, padding_idx=0)
        self.recurrent = nn.ModuleList(self._layer() for _ in range(self.layers))
        self.readout = nn.Linear(self.units, self.classes)
        self.reset_parameters()

    def _layer(self) -> nn.Module:
        # One module per layer (not num_layers=2) so states() can read every layer's output.
        if self.cell == "gru":
            return nn.GRU(self.units, self.units, batch_first=True)
        if self.cell == "lstm":
            return nn.LSTM(self.units, self.units, batch_first=True)
        return NestedLSTM(self.units, self.units, forget_bias=self.forget_bias)

    def hyperparameters(self) -> dict:
        """Everything needed to rebuild this model, JSON-able."""
        return {
            "class": type(self).__name__,
            "cell": self.cell,
            "units": self.units,
            "classes": self.classes,
            "symbols": self.symbols,
            "layers": self.layers,
            "forget_bias": self.forget_bias,
        }

    def compile_cells(self) -> bool:
        """Compile the Nested LSTM's step (NestedLSTM.compile_step); GRU and LSTM already run
        torch's fused kernels. True when something was compiled."""
        compiled = False
        for layer in self.recurrent:
            if isinstance(layer, NestedLSTM):
                layer.compile_step()
                compiled = True
        return compiled

    # ------------------------------------------------------------------------ initialisation

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """TF1's defaults (module docstring); the frozen torch-only biases are zero."""
        limit = math.sqrt(1.0 / (self.symbols - 1))  # the author's embedding_matrix
        nn.init.uniform_(self.embedding.weight[1:], -limit, limit)
        self.embedding.weight[0].zero_()
        units = self.units
        for layer in self.recurrent:
            if isinstance(layer, NestedLSTM):
                layer.forget_bias = self.forget_bias
                layer.reset_parameters()
                continue
            weight_ih, weight_hh = layer.weight_ih_l0, layer.weight_hh_l0
            bias_ih, bias_hh = layer.bias_ih_l0, layer.bias_hh_l0
            bias_hh.zero_()
            bias_hh.requires_grad_(False)  # one bias per gate, as TF
            bias_ih.zero_()
            if self.cell == "lstm":
                _glorot_rows(weight_ih, weight_hh, slice(0, 4 * units), 2 * units, 4 * units)
                bias_ih[_LSTM_FORGET * units : (_LSTM_FORGET + 1) * units] = self.forget_bias
            else:
                # TF1 GRUCell: a [in + u, 2u] gate kernel (bias 1) and a [in + u, u] candidate one.
                _glorot_rows(weight_ih, weight_hh, slice(0, 2 * units), 2 * units, 2 * units)
                _glorot_rows(weight_ih, weight_hh, slice(2 * units, 3 * units), 2 * units, units)
                bias_ih[: 2 * units] = 1.0
        fan = self.units + self.classes
        limit = math.sqrt(6.0 / fan)
        nn.init.uniform_(self.readout.weight, -limit, limit)
        self.readout.bias.zero_()

    # ------------------------------------------------------------------------------ running

    def embedding_matrix(self) -> Tensor:
        """The [symbols, units] embedding matrix E (row 0, padding, is zero)."""
        return self.embedding.weight

    def embed(self, tokens: Tensor) -> Tensor:
        """Embedding vectors [B, T, units] of symbol ids [B, T]."""
        self._check_tokens(tokens)
        return self.embedding(tokens)

    def hidden_from_embeddings(self, embeddings: Tensor) -> Tensor:
        """The last recurrent layer's output [B, T, units] (what the dense layer reads)."""
        if embeddings.dim() != 3 or embeddings.shape[-1] != self.units:
            raise ValueError(
                f"AutocompleteModel expects embeddings [batch, time, {self.units}], "
                f"got {tuple(embeddings.shape)}"
            )
        hidden = embeddings
        for layer in self.recurrent:
            hidden, _ = layer(hidden)
        return hidden

    def hidden(self, tokens: Tensor) -> Tensor:
        """The last recurrent layer's output [B, T, units] for symbol ids [B, T]."""
        return self.hidden_from_embeddings(self.embed(tokens))

    def logits_from_embeddings(self, embeddings: Tensor) -> Tensor:
        """Word logits [B, T, classes] from embedding vectors [B, T, units].

        The connectivity analysis differentiates the logits with respect to these vectors.
        """
        return self.readout(self.hidden_from_embeddings(embeddings))

    def forward(self, tokens: Tensor) -> Tensor:
        """Word logits [B, T, classes] after every character of tokens [B, T] (int64)."""
        return self.readout(self.hidden(tokens))

    @torch.no_grad()
    def states(self, tokens: Tensor) -> dict[str, Tensor]:
        """Every recurrent state after every character, each [B, T, units].

        GRU: h0, h1. LSTM: h0, c0, h1, c1. Nested LSTM: h0, c0 (outer memory, the inner cell's
        output), c0_inner (inner memory). Steps after a sequence's end see padding (zero
        embeddings) and should be trimmed by the caller.
        """
        inputs = self.embed(tokens)
        result: dict[str, Tensor] = {}
        for index, layer in enumerate(self.recurrent):
            if self.cell == "gru":
                inputs, _ = layer(inputs)
                result[f"h{index}"] = inputs
            elif self.cell == "lstm":
                hidden, memory = _lstm_sequences(layer, inputs)
                result[f"h{index}"], result[f"c{index}"] = hidden, memory
                inputs = hidden
            else:
                sequences = layer.sequences(inputs)
                result[f"h{index}"] = sequences["h"]
                result[f"c{index}"] = sequences["c"]
                result[f"c{index}_inner"] = sequences["c_inner"]
                inputs = sequences["h"]
        return result

    def _check_tokens(self, tokens: Tensor) -> None:
        if tokens.dim() != 2:
            raise ValueError(f"tokens must be [batch, time] symbol ids, got {tuple(tokens.shape)}")
        if tokens.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"tokens must be int64 symbol ids, got {tokens.dtype}")
        if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= self.symbols):
            raise ValueError(
                f"tokens range over {int(tokens.min())}..{int(tokens.max())}; "
                f"the model reads symbols 0..{self.symbols - 1}"
            )


def _glorot_rows(weight_ih: Tensor, weight_hh: Tensor, rows: slice, fan_in: int, fan_out: int):
    """Glorot-uniform on rows of [W_ih | W_hh], the transposed TF kernel [in + u, fan_out]."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    nn.init.uniform_(weight_ih[rows], -limit, limit)
    nn.init.uniform_(weight_hh[rows], -limit, limit)


def _lstm_sequences(layer: nn.LSTM, inputs: Tensor) -> tuple[Tensor, Tensor]:
    """h and c of a one-layer nn.LSTM at every step (nn.LSTM returns c only at the end)."""
    batch, steps, _ = inputs.shape
    carry = (inputs.new_zeros(1, batch, layer.hidden_size),) * 2
    hidden_steps, memory_steps = [], []
    for t in range(steps):
        _, carry = layer(inputs[:, t : t + 1], carry)
        hidden_steps.append(carry[0][0])
        memory_steps.append(carry[1][0])
    if not hidden_steps:
        empty = inputs.new_zeros(batch, 0, layer.hidden_size)
        return empty, empty
    return torch.stack(hidden_steps, dim=1), torch.stack(memory_steps, dim=1)


# ------------------------------------------------------------------------- parameter counts


def parameter_counts(model: AutocompleteModel) -> dict[str, int]:
    """Trainable parameters by part: embedding, recurrent, dense, total (the paper's table).

    Frozen tensors (torch's second recurrent bias) are not counted, as TF has none; nor is the
    embedding's padding row, held at zero by padding_idx (TF keeps it outside the variable).
    """

    def trainable(module_or_parameters) -> int:
        parameters = (
            module_or_parameters.parameters()
            if isinstance(module_or_parameters, nn.Module)
            else module_or_parameters
        )
        return sum(p.numel() for p in parameters if p.requires_grad)

    padding_rows = 0 if model.embedding.padding_idx is None else 1
    counts = {
        "embedding": trainable(model.embedding) - padding_rows * model.units,
        "recurrent": trainable(model.recurrent),
        "dense": trainable(model.readout),
    }
    counts["total"] = sum(counts.values())
    return counts


def tf_parameter_counts(
    cell: str, units: int, classes: int, symbols: int = SYMBOLS, layers: int | None = None
) -> dict[str, int]:
    """The same counts from the TF1 cells' variable shapes, without building a model.

    Per layer (input size = units, the embedding width): LSTM kernel [2u, 4u] + bias [4u];
    GRU gate kernel [2u, 2u] + bias [2u] and candidate kernel [2u, u] + bias [u]; Nested LSTM
    (depth 2) two LSTM kernels [2u, 4u] + biases [4u].
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    layers = DEFAULT_LAYERS[cell] if layers is None else layers
    lstm_layer = 2 * units * 4 * units + 4 * units
    per_layer = {
        "lstm": lstm_layer,
        "gru": 2 * units * 3 * units + 3 * units,
        "nlstm": 2 * lstm_layer,
    }[cell]
    counts = {
        "embedding": (symbols - 1) * units,
        "recurrent": layers * per_layer,
        "dense": units * classes + classes,
    }
    counts["total"] = sum(counts.values())
    return counts
