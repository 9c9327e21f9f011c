"""Models: ESN (reservoirpy), LSTM, RNN, the text8 autocomplete networks and Garcia et al.'s
document classifier (torch), and
:func:`save` and :func:`load`, the one way a model is written and read."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from importlib import import_module
from pathlib import Path

import torch

from rnnatlas.download import file_sha256
from rnnatlas.io import atomic_path, read_json, write_json

# model.json's kind -> the torch class rebuilt from its hyperparameters (imported when needed)
TORCH_KINDS = {
    "lstm": ("rnnatlas.models.lstm", "SequenceLSTM"),
    "rnn": ("rnnatlas.models.rnn", "SequenceRNN"),
    "lowrank": ("rnnatlas.models.lowrank", "LowRankRNN"),
    "autocomplete": ("rnnatlas.models.autocomplete", "AutocompleteModel"),
    "text_classifier": ("rnnatlas.models.text_classifier", "TextClassifier"),
}
MODEL_FILE = "model.pt"
CARD_FILE = "model.json"


class ModelError(ValueError):
    """A model directory that cannot be loaded."""


def _files(path: str | Path) -> tuple[Path, Path]:
    """(weights, card) of a model directory, its model.pt, or any weights file beside a
    model.json (a checkpoint such as checkpoints/epoch007.pt)."""
    path = Path(path)
    if path.suffix == ".pt":
        return path, path.parent / CARD_FILE
    return path / MODEL_FILE, path / CARD_FILE


def write_torch(obj, path: str | Path) -> None:
    """torch.save `obj` to `path` atomically, the same bytes for the same tensors (saved to a
    file directly, the archive inside would be named after the temporary file)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def read_torch(path: str | Path):
    """What :func:`write_torch` wrote, read with ``weights_only=True`` (a file never runs code)
    after every member's zip CRC is checked: torch itself reads flipped bytes as other numbers.
    Any unreadable file is a :class:`ModelError` naming it."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except Exception as err:  # a damaged header raises BadZipFile, EOFError, UnicodeDecodeError...
        raise ModelError(
            f"{path}: not a torch file or damaged ({type(err).__name__}: {err}); "
            "save or copy it again"
        ) from None
    if damaged is not None:
        raise ModelError(
            f"{path}: member {damaged} fails its CRC check: the file is damaged; "
            "save or copy it again"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for a foreign or unsafe file
        raise ModelError(f"{path}: not a readable torch file ({err})") from None


def cpu_state_dict(model) -> dict:
    """The module's parameters and buffers as CPU tensors (what model.pt holds)."""
    return {name: tensor.detach().cpu().clone() for name, tensor in model.state_dict().items()}


def save(model, model_path: str | Path, card_path: str | Path, card: Mapping) -> None:
    """Write a model: its state dict (on the CPU) to `model_path` and its card to `card_path`.

    The card is model.json: `kind` (a key of TORCH_KINDS, or "esn") and `hyperparameters`,
    plus whatever the caller records, and `weights_sha256`, the digest `load` checks (a model
    file changed on disk is refused, not read as other numbers). Both files sit in one folder;
    each is written atomically, the card last, after the weights.
    """
    model_path, card_path = Path(model_path), Path(card_path)
    if model_path.parent != card_path.parent:
        raise ValueError(f"{model_path} and {card_path}: a model and its card share a folder")
    write_torch(cpu_state_dict(model), model_path)
    write_json(card_path, {**card, "weights_sha256": file_sha256(model_path)})


def load(path: str | Path) -> torch.nn.Module:
    """Load a saved model (its directory, its model.pt, or a checkpoint's weights file beside a
    model.json) as a torch module, in eval mode on the CPU.

    The module has ``forward(inputs)`` and ``states(inputs) -> dict[str, Tensor[B, T, units]]``.
    Weights are read with ``weights_only=True``: a model file can never run code. Building the
    module does not move the caller's random number generators.
    """
    weights_path, card_path = _files(path)
    for needed in (card_path, weights_path):
        if not needed.exists():
            raise ModelError(
                f"{needed} is missing: a model directory holds {MODEL_FILE} and {CARD_FILE}"
            )
    card = read_json(card_path, "rnnatlas.models.save writes it beside the weights")
    if not isinstance(card, dict) or "hyperparameters" not in card:
        raise ModelError(
            f"{card_path}: a model card is a JSON object with 'kind' and 'hyperparameters' "
            "(rnnatlas.models.save writes it)"
        )
    kind = card.get("kind")
    expected = card.get("weights_sha256") if weights_path.name == MODEL_FILE else None
    if expected is not None and file_sha256(weights_path) != expected:
        raise ModelError(
            f"{weights_path}: its sha256 differs from the weights_sha256 of {card_path}: the "
            "file changed since it was saved; train or copy the model again"
        )
    state = read_torch(weights_path)
    with torch.random.fork_rng(devices=[]):
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
