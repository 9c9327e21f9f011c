"""rnnatlas.models.save and load: a round trip, and the files that must be refused."""

import json

import pytest
import torch

from rnnatlas.models import ModelError, load, save
from rnnatlas.models.rnn import SequenceRNN


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = SequenceRNN(input_dim=3, units=5, classes=2)
    card = {"kind": "rnn", "hyperparameters": model.hyperparameters(), "seed": 0}
    save(model, tmp_path / "model.pt", tmp_path / "model.json", card)
    return model, tmp_path


def test_round_trip_and_the_weights_digest(saved):
    import hashlib

    model, folder = saved
    card = json.loads((folder / "model.json").read_text())
    digest = hashlib.sha256((folder / "model.pt").read_bytes()).hexdigest()
    assert card["weights_sha256"] == digest and card["seed"] == 0
    loaded = load(folder).state_dict()
    assert all(torch.equal(loaded[name], tensor) for name, tensor in model.state_dict().items())


def test_changed_truncated_or_foreign_files_are_refused(saved):
    _, folder = saved
    weights = folder / "model.pt"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside the weights
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256 differs from the weights_sha256"):
        load(folder)
    weights.write_bytes(bytes(data[: len(data) // 3]))
    card = json.loads((folder / "model.json").read_text())
    del card["weights_sha256"]  # without a digest the truncation itself is caught
    (folder / "model.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="not a readable torch state dict"):
        load(folder)
    (folder / "model.json").write_text("[1, 2]")
    with pytest.raises(ModelError, match="a model card is a JSON object"):
        load(folder)
    (folder / "model.json").write_text('{"kind": "rnn", "hyper')
    with pytest.raises(ValueError, match=r"model\.json is not valid JSON"):
        load(folder)
