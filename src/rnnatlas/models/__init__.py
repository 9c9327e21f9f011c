"""Models: ESN (reservoirpy), LSTM, RNN and the text8 autocomplete networks (torch), and
:func:`load` for any saved model directory."""

from __future__ import annotations

import json
from importlib import import_module
from pathlib import Path

import torch

# model.json's kind -> the torch class rebuilt from its hyperparameters (imported when needed)
TORCH_KINDS = {
    "lstm": ("rnnatlas.models.lstm", "SequenceLSTM"),
    "rnn": ("rnnatlas.models.rnn", "SequenceRNN"),
    "lowrank": ("rnnatlas.models.lowrank", "LowRankRNN"),
    "autocomplete": ("rnnatlas.models.autocomplete", "AutocompleteModel"),
}
MODEL_FILE = "model.pt"
CARD_FILE = "model.json"


class ModelError(ValueError):
    """A model directory that cannot be loaded."""


def _model_dir(path: str | Path) -> Path:
    path = Path(path)
    return path.parent if path.name == MODEL_FILE else path


def load(path: str | Path) -> torch.nn.Module:
    """Load a saved model (its directory or its model.pt) as a torch module.

    The module has ``forward(inputs)`` and ``states(inputs) -> dict[str, Tensor[B, T, units]]``.
    Weights are read with ``weights_only=True``: a model file can never run code.
    """
    directory = _model_dir(path)
    card_path = directory / CARD_FILE
    weights_path = directory / MODEL_FILE
    for needed in (card_path, weights_path):
        if not needed.exists():
            raise ModelError(
                f"{needed} is missing: a model directory holds {MODEL_FILE} and {CARD_FILE}"
            )
    card = json.loads(card_path.read_text())
    kind = card.get("kind")
    state = torch.load(weights_path, map_location="cpu", weights_only=True)
    if kind == "esn":
        from rnnatlas.models.esn import ESN

        module = ESN.from_state_dict(state, card)
    elif kind in TORCH_KINDS:
        module_name, class_name = TORCH_KINDS[kind]
        model_class = getattr(import_module(module_name), class_name)
        module = model_class.from_hyperparameters(card["hyperparameters"])
        module.load_state_dict(state)
    else:
        raise ModelError(
            f"{card_path}: unknown model kind {kind!r}; expected one of "
            f"{', '.join(repr(k) for k in ('esn', *TORCH_KINDS))}"
        )
    module.eval()
    return module
