"""rnnatlas.models.save and load: a round trip, and the files that must be refused."""

import json
import struct
import zipfile

import pytest
import torch

from rnnatlas.models import ModelError, load, read_torch, save, write_torch
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
    card = json.loads((folder / "model.json").read_text())
    del card["weights_sha256"]  # without a digest (a checkpoint) the zip CRCs catch the flip
    (folder / "model.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match=r"model\.pt: (member .* fails its CRC check|.* damaged)"):
        load(folder)
    weights.write_bytes(bytes(data[: len(data) // 3]))
    with pytest.raises(ModelError, match=r"model\.pt: not a torch file or damaged"):
        load(folder)
    weights.write_bytes(b"")
    with pytest.raises(ModelError, match=r"model\.pt: not a torch file or damaged"):
        load(folder)
    (folder / "model.json").write_text("[1, 2]")
    with pytest.raises(ModelError, match="a model card is a JSON object"):
        load(folder)
    (folder / "model.json").write_text('{"kind": "rnn", "hyper')
    with pytest.raises(ValueError, match=r"model\.json is not valid JSON"):
        load(folder)


def test_a_flipped_byte_inside_tensor_data_fails_the_zip_crc(tmp_path):
    path = tmp_path / "weights.pt"
    write_torch({"w": torch.arange(1000, dtype=torch.float32)}, path)
    with zipfile.ZipFile(path) as archive:
        member = next(i for i in archive.infolist() if i.file_size == 4000)
    damaged = bytearray(path.read_bytes())
    # the payload follows the 30-byte local header, its name and its extra field
    name_length, extra_length = struct.unpack_from("<HH", damaged, member.header_offset + 26)
    start = member.header_offset + 30 + name_length + extra_length
    damaged[start + 123] ^= 0x01  # one bit: torch alone would load other numbers
    path.write_bytes(bytes(damaged))
    with pytest.raises(ModelError, match=rf"{member.filename} fails its CRC check"):
        read_torch(path)
