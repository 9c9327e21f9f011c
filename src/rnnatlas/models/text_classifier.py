"""The document classifier of Garcia, Munz & Weiskopf 2021 (hiddenStatesVis): Embedding ->
LSTM -> Dropout -> Dense, with a sigmoid (one output: IMDB) or a softmax (several: Reuters).

There is no masking: the documents are pre-padded to a fixed length and the padding steps run
through the LSTM, as in the authors' Keras model. `forward` applies the Dense layer to the hidden
state after *every* word: in eval mode (Dropout off) its activation is the paper's "expected
prediction" at that word, and at the last word it is the model's prediction.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnatlas.models.lstm import initialise_lstm_like_keras
from rnnatlas.models.rebuild import Rebuildable

KERAS_EMBEDDING_RANGE = 0.05  # Keras' Embedding: uniform(-0.05, 0.05)


class TextClassifier(Rebuildable, nn.Module):
    """Embedding(vocabulary, embedding) -> LSTM(units) -> Dropout(dropout) -> Dense(outputs).

    outputs=1 is a binary classifier read through a sigmoid (classes 0 and 1); outputs=K > 1
    a K-class one read through a softmax. keras_init=True reproduces Keras' initialisers (see
    `initialise_lstm_like_keras`; Embedding uniform(-0.05, 0.05), Dense Glorot-uniform).
    """

    token_inputs = True  # inputs are token ids [batch, time], not feature vectors

    def __init__(
        self,
        vocabulary: int,
        outputs: int = 1,
        embedding: int = 32,
        units: int = 100,
        dropout: float = 0.5,
        keras_init: bool = True,
    ) -> None:
        super().__init__()
        for name, value in {
            "vocabulary": vocabulary,
            "outputs": outputs,
            "embedding": embedding,
            "units": units,
        }.items():
            if int(value) != value or value < 1:
                raise ValueError(f"TextClassifier: {name} must be a positive integer: {value!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"TextClassifier: dropout must lie in [0, 1), not {dropout!r}")
        self.vocabulary, self.outputs = int(vocabulary), int(outputs)
        self.embedding_size, self.units = int(embedding), int(units)
        self.dropout_rate, self.keras_init = float(dropout), bool(keras_init)
        self.embedding = nn.Embedding(self.vocabulary, self.embedding_size)
        self.lstm = nn.LSTM(self.embedding_size, self.units, batch_first=True)
        self.dropout = nn.Dropout(self.dropout_rate)
        self.readout = nn.Linear(self.units, self.outputs)
        if self.keras_init:
            with torch.no_grad():
                self.embedding.weight.uniform_(-KERAS_EMBEDDING_RANGE, KERAS_EMBEDDING_RANGE)
                initialise_lstm_like_keras(self.lstm)
                nn.init.xavier_uniform_(self.readout.weight)
                self.readout.bias.zero_()

    @property
    def classes(self) -> int:
        """Classes the model tells apart: 2 for one sigmoid output, else its outputs."""
        return max(2, self.outputs)

    def hyperparameters(self) -> dict:
        return {
            "class": type(self).__name__,
            "vocabulary": self.vocabulary,
            "outputs": self.outputs,
            "embedding": self.embedding_size,
            "units": self.units,
            "dropout": self.dropout_rate,
            "keras_init": self.keras_init,
        }

    def forward(self, tokens: Tensor) -> Tensor:
        """Dense-layer outputs (logits) after every word, [batch, time, outputs]."""
        hidden, _ = self.lstm(self.embedding(self._check(tokens)))
        return self.readout(self.dropout(hidden))

    def probabilities(self, logits: Tensor) -> Tensor:
        """Per class, [..., classes]: (1 - p, p) of the sigmoid for one output, else the softmax."""
        if self.outputs == 1:
            p = torch.sigmoid(logits[..., 0])
            return torch.stack([1 - p, p], dim=-1)
        return torch.softmax(logits, dim=-1)

    def states(self, tokens: Tensor) -> dict[str, Tensor]:
        """Hidden and cell state after every word: {"h": [B, T, units], "c": [B, T, units]}.

        nn.LSTM returns the cell state at the last step only, so the words are fed one at a
        time carrying (h, c)."""
        embedded = self.embedding(self._check(tokens))
        batch, steps = tokens.shape
        carry = (embedded.new_zeros(1, batch, self.units), embedded.new_zeros(1, batch, self.units))
        hidden, cell = [], []
        for step in range(steps):
            _, carry = self.lstm(embedded[:, step : step + 1], carry)
            hidden.append(carry[0][0])
            cell.append(carry[1][0])
        return {"h": torch.stack(hidden, dim=1), "c": torch.stack(cell, dim=1)}

    def _check(self, tokens: Tensor) -> Tensor:
        return check_token_ids(tokens, self.vocabulary)


def check_token_ids(tokens: Tensor, vocabulary: int) -> Tensor:
    """`tokens` if they are integer ids [batch, time] in 0..vocabulary-1, else a ValueError."""
    if tokens.dim() != 2 or tokens.is_floating_point() or tokens.dtype == torch.bool:
        raise ValueError(
            f"expected integer token ids [batch, time], got {tokens.dtype} {tuple(tokens.shape)}"
        )
    if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= vocabulary):
        raise ValueError(
            f"token ids range over {int(tokens.min())}..{int(tokens.max())}; the vocabulary is "
            f"0..{vocabulary - 1}"
        )
    return tokens
