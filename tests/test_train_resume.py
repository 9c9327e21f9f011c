"""Training resumes bit-identically after a stop or a SIGKILL; models save and load safely."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnatlas.models import load, save
from rnnatlas.models.lstm import SequenceLSTM, one_hot_batch
from rnnatlas.training import (
    TrainConfig,
    TrainingInterrupted,
    export_checkpoints,
    train_sequence_regressor,
    weights_path,
)

WORDS, OUTPUTS, UNITS = 8, 6, 8
CONFIG = TrainConfig(epochs=4, batch_size=2, seed=3, threads=1)
TESTS_DIR = Path(__file__).resolve().parent


def make_data(seed: int = 0):
    """40 random sentences of 3..10 words over 8 words, with random 6-d targets."""
    rng = np.random.default_rng(seed)
    tokens = [rng.integers(0, WORDS, size=rng.integers(3, 11)) for _ in range(40)]
    targets = rng.random((40, OUTPUTS)).astype(np.float32)
    return tokens, targets


def fresh_model(units: int = UNITS) -> SequenceLSTM:
    torch.manual_seed(11)
    return SequenceLSTM(WORDS, OUTPUTS, units=units)


def train(resume_dir: Path, cfg: TrainConfig = CONFIG, model=None, **options):
    tokens, targets = make_data()
    model = fresh_model() if model is None else model
    result = train_sequence_regressor(
        model, tokens, targets, WORDS, cfg, resume_dir, progress=False, **options
    )
    return model, result


def assert_same_weights(model, reference_state):
    state = model.state_dict()
    assert state.keys() == reference_state.keys()
    for name, tensor in state.items():
        assert torch.equal(tensor, reference_state[name]), name


pytestmark = pytest.mark.usefixtures("restore_torch_globals")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    resume_dir = tmp_path_factory.mktemp("uninterrupted")
    model, result = train(resume_dir)
    return {"resume_dir": result.run_dir, "state": model.state_dict(), "result": result}


def test_history_has_one_row_per_epoch(uninterrupted):
    history = uninterrupted["result"].history
    assert history["epoch"].tolist() == [1, 2, 3, 4]
    assert history["step"].tolist() == [20, 40, 60, 80]  # 40 sentences / batch 2
    assert history["cpu_time_s"].is_monotonic_increasing
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    assert uninterrupted["result"].cpu_time_s == history["cpu_time_s"].iloc[-1]
    assert uninterrupted["result"].resumed_from_epoch == 0


def test_stop_then_rerun_is_bit_identical(uninterrupted, tmp_path):
    with pytest.raises(TrainingInterrupted):
        train(tmp_path, stop_after_epoch=2)
    (latest,) = tmp_path.glob("run-*/latest.json")  # the run's own folder under resume_dir
    assert json.loads(latest.read_text())["step"] == 40  # the end of epoch 2
    model, result = train(tmp_path)
    assert result.resumed_from_epoch == 2
    assert_same_weights(model, uninterrupted["state"])
    reference = uninterrupted["result"].history
    assert result.history["train_loss"].tolist() == reference["train_loss"].tolist()
    assert result.history["step"].tolist() == reference["step"].tolist()
    assert result.run_dir == latest.parent
    # every epoch's weights kept: 40 sentences in batches of 2, 20 optimizer steps an epoch
    assert result.checkpoints == [weights_path(latest.parent, 20 * k) for k in range(1, 5)]


def test_shuffled_run_resumes_bit_identically(tmp_path):
    shuffled = TrainConfig(epochs=3, shuffle=True, seed=5)
    reference_model, reference = train(tmp_path / "reference", shuffled)
    with pytest.raises(TrainingInterrupted):
        train(tmp_path / "resumed", shuffled, stop_after_epoch=1)
    model, result = train(tmp_path / "resumed", shuffled)
    assert_same_weights(model, reference_model.state_dict())
    assert result.history["train_loss"].tolist() == reference.history["train_loss"].tolist()
    _, unshuffled = train(tmp_path / "unshuffled", TrainConfig(epochs=3, seed=5))
    assert result.history["train_loss"].tolist() != unshuffled.history["train_loss"].tolist()


KILLED_RUN = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from test_train_resume import train

    def slow_after_epoch_two(model, epoch):
        if epoch >= 3:
            time.sleep(5)  # a wide window to kill the job in, after epoch 2 is saved
        return {}

    train(Path(sys.argv[2]), evaluate=slow_after_epoch_two)
    """
)


def test_sigkilled_run_resumes_bit_identically(uninterrupted, tmp_path):
    resume_dir = tmp_path / "resume"
    job = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, str(TESTS_DIR), str(resume_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(resume_dir.glob("run-*/state_step0000040.pt")):  # epoch 2's save
            if job.poll() is not None:
                pytest.fail(f"training job ended early ({job.returncode}):\n{job.stderr.read()}")
            if time.monotonic() > deadline:
                pytest.fail("training job saved no epoch 2 within 120 s")
            time.sleep(0.05)
        job.send_signal(signal.SIGKILL)
        job.wait(timeout=30)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    assert job.returncode == -signal.SIGKILL  # killed, not finished
    model, result = train(resume_dir)
    assert 1 <= result.resumed_from_epoch < CONFIG.epochs
    assert_same_weights(model, uninterrupted["state"])
    reference = uninterrupted["result"].history
    assert result.history["train_loss"].tolist() == reference["train_loss"].tolist()


def test_finished_run_returns_at_once_and_rewinds_to_fewer_epochs(uninterrupted):
    resume_dir = uninterrupted["resume_dir"].parent
    model, result = train(resume_dir)
    assert result.resumed_from_epoch == 4
    assert_same_weights(model, uninterrupted["state"])
    assert len(result.history) == 4
    model, result = train(resume_dir, TrainConfig(epochs=2, seed=CONFIG.seed))
    epoch2 = torch.load(weights_path(result.run_dir, 40), weights_only=True)
    assert_same_weights(model, epoch2)
    assert result.history["epoch"].tolist() == [1, 2]


def test_another_run_trains_afresh_beside_the_first(uninterrupted, tmp_path):
    # the resume folder of a finished run; the data change (a corpus or data seed changed)
    root = uninterrupted["resume_dir"].parent
    tokens, targets = make_data(seed=1)
    model = fresh_model()
    result = train_sequence_regressor(model, tokens, targets, WORDS, CONFIG, root, progress=False)
    assert result.resumed_from_epoch == 0 and result.run_dir != uninterrupted["resume_dir"]
    alone = fresh_model()  # the same run with a resume folder of its own
    train_sequence_regressor(alone, tokens, targets, WORDS, CONFIG, tmp_path, progress=False)
    assert_same_weights(model, alone.state_dict())
    # another seed, another model: each its own run
    seed_run = train(root, TrainConfig(epochs=1, batch_size=2, seed=4))[1]
    wider = train(root, TrainConfig(epochs=1, batch_size=2, seed=3), model=fresh_model(9))[1]
    assert seed_run.resumed_from_epoch == 0 and wider.resumed_from_epoch == 0
    assert len({seed_run.run_dir, wider.run_dir, result.run_dir}) == 3
    # back to the first settings: the first run is still there and resumes at its end
    model, again = train(root)
    assert again.resumed_from_epoch == 4 and again.run_dir == uninterrupted["resume_dir"]
    assert_same_weights(model, uninterrupted["state"])


def test_evaluate_adds_columns(tmp_path):
    calls = []

    def evaluate(model, epoch):
        calls.append((epoch, model.training, torch.is_grad_enabled()))
        return {"val_valid_error": np.float32(0.5) / epoch}

    model, result = train(tmp_path, TrainConfig(epochs=2), evaluate=evaluate)
    assert calls == [(1, False, False), (2, False, False)]
    assert result.history["val_valid_error"].tolist() == [0.5, 0.25]
    assert model.training  # evaluation put the model back in training mode


def test_save_and_load_round_trip(uninterrupted, tmp_path):
    model = fresh_model()
    model.load_state_dict(uninterrupted["state"])
    card = {"kind": "lstm", "hyperparameters": model.hyperparameters(), "seed": 3}
    save(model, tmp_path / "model.pt", tmp_path / "model.json", card)
    torch.load(tmp_path / "model.pt", weights_only=True)  # plain state dict
    written = json.loads((tmp_path / "model.json").read_text())
    assert {k: v for k, v in written.items() if k != "weights_sha256"} == card
    assert sorted(os.listdir(tmp_path)) == ["model.json", "model.pt"]  # no temporary files left
    with pytest.raises(ValueError, match="share a folder"):
        save(model, tmp_path / "a" / "model.pt", tmp_path / "model.json", card)
    loaded = load(tmp_path)
    inputs, lengths = one_hot_batch(make_data()[0], WORDS)
    with torch.no_grad():
        assert torch.equal(loaded(inputs, lengths), model(inputs, lengths))
        assert torch.equal(loaded.states(inputs)["c0"], model.states(inputs)["c0"])
    assert_same_weights(load(tmp_path / "model.pt"), uninterrupted["state"])


def test_export_checkpoints_gives_weights_of_every_epoch(uninterrupted, tmp_path):
    exported = export_checkpoints(uninterrupted["resume_dir"], tmp_path)
    assert [path.name for path in exported] == [f"epoch{k:03d}.pt" for k in range(5)]
    untrained = torch.load(exported[0], weights_only=True)
    assert_same_weights(fresh_model(), untrained)
    assert_same_weights(load(exported[-1]), uninterrupted["state"])
