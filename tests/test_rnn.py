"""SequenceRNN against hand computations, and the resumable classifier training."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from rnnatlas.models import load
from rnnatlas.models.rnn import SequenceRNN
from rnnatlas.training import (
    ClassifierConfig,
    TrainingInterrupted,
    export_checkpoints,
    train_sequence_classifier,
)

pytestmark = pytest.mark.usefixtures("restore_torch_globals")


# ---- the model --------------------------------------------------------------------------------

W_IH = [[0.5, -1.0], [0.25, 0.75]]
B_IH = [0.1, -0.2]
W_HH = [[0.9, -0.3], [0.4, 0.2]]
B_HH = [0.05, 0.15]
W_OUT = [[1.0, -2.0], [0.5, 0.5], [-1.0, 3.0]]
B_OUT = [0.3, -0.1, 0.2]
X = [[1.0, 0.0], [0.5, -1.0], [0.0, 2.0]]  # three steps of two inputs


def hand_model() -> SequenceRNN:
    model = SequenceRNN(input_dim=2, classes=3, units=2)
    with torch.no_grad():
        model.rnn.weight_ih_l0.copy_(torch.tensor(W_IH))
        model.rnn.bias_ih_l0.copy_(torch.tensor(B_IH))
        model.rnn.weight_hh_l0.copy_(torch.tensor(W_HH))
        model.rnn.bias_hh_l0.copy_(torch.tensor(B_HH))
        model.readout.weight.copy_(torch.tensor(W_OUT))
        model.readout.bias.copy_(torch.tensor(B_OUT))
    return model


def hand_run() -> tuple[list[list[float]], list[list[float]]]:
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), logits_t = W_out h_t + b_out, by hand."""
    hidden, states, logits = [0.0, 0.0], [], []
    for x in X:
        hidden = [
            math.tanh(
                sum(W_IH[i][j] * x[j] for j in range(2))
                + B_IH[i]
                + sum(W_HH[i][j] * hidden[j] for j in range(2))
                + B_HH[i]
            )
            for i in range(2)
        ]
        states.append(hidden)
        logits.append([sum(W_OUT[k][j] * hidden[j] for j in range(2)) + B_OUT[k] for k in range(3)])
    return states, logits


def test_forward_logits_at_and_states_match_a_hand_computation():
    model = hand_model()
    inputs = torch.tensor([X, X[::-1]])
    states, logits = hand_run()
    with torch.no_grad():
        np.testing.assert_allclose(model(inputs)[0].numpy(), logits, rtol=0, atol=1e-6)
        np.testing.assert_allclose(model.states(inputs)["h0"][0].numpy(), states, atol=1e-6)
        for step in (1, 2, 3):
            np.testing.assert_allclose(
                model.logits_at(inputs, step)[0].numpy(), logits[step - 1], atol=1e-6
            )
        # step 0: the initial zero state, whose readout is the bias, for every sequence
        assert torch.equal(model.logits_at(inputs, 0), torch.tensor([B_OUT, B_OUT]))
        assert torch.equal(model.logits_at(inputs[:, :0], 0), torch.tensor([B_OUT, B_OUT]))


def test_states_equal_running_the_cell_step_by_step():
    torch.manual_seed(0)
    model = SequenceRNN(input_dim=4, classes=3, units=6)
    cell = torch.nn.RNNCell(4, 6, nonlinearity="tanh")
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(model.rnn, f"{name}_l0"))
    inputs = torch.randn(5, 7, 4)
    with torch.no_grad():
        recorded = model.states(inputs)
        hidden, expected = torch.zeros(5, 6), []
        for step in range(7):
            hidden = cell(inputs[:, step], hidden)
            expected.append(hidden)
        expected = torch.stack(expected, dim=1)
        assert list(recorded) == ["h0"] and recorded["h0"].shape == (5, 7, 6)
        torch.testing.assert_close(recorded["h0"], expected, rtol=0, atol=1e-6)
        torch.testing.assert_close(model(inputs), model.readout(expected), rtol=0, atol=1e-6)
        for step in (3, 7):
            torch.testing.assert_close(
                model.logits_at(inputs, step),
                model.readout(expected[:, step - 1]),
                atol=1e-6,
                rtol=0,
            )


def test_recurrent_weights_reproduce_one_zero_input_step():
    torch.manual_seed(1)
    model = SequenceRNN(input_dim=3, classes=2, units=5)
    W, b = model.recurrent_weights()
    assert W.shape == (5, 5) and b.shape == (5,)
    assert torch.equal(b, (model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0).detach())
    h = torch.randn(4, 5)
    with torch.no_grad():
        _, stepped = model.rnn(torch.zeros(4, 1, 3), h[None])
    torch.testing.assert_close(torch.tanh(h @ W.T + b), stepped[0], rtol=0, atol=1e-6)
    step = model.autonomous_map()
    torch.testing.assert_close(step(h[0]), stepped[0, 0], rtol=0, atol=1e-6)
    jacobian = torch.autograd.functional.jacobian(step, h[0])  # differentiable in h
    expected = (1 - step(h[0]) ** 2)[:, None] * W
    torch.testing.assert_close(jacobian, expected, rtol=0, atol=1e-6)


def test_bad_inputs_fail_with_the_expected_shape():
    model = SequenceRNN(units=4)
    with pytest.raises(ValueError, match=r"inputs \[batch, time, 28\]"):
        model(torch.zeros(2, 5, 27))
    with pytest.raises(ValueError, match=r"readout_step=6 must be an integer in \[0, 5\]"):
        model.logits_at(torch.zeros(2, 5, 28), 6)
    with pytest.raises(ValueError, match="units must be a positive integer"):
        SequenceRNN(units=0)
    with pytest.raises(ValueError, match="not a SequenceRNN"):
        SequenceRNN.from_hyperparameters({"class": "SequenceLSTM", "units": 3})


def test_paper_size_and_load_round_trip(tmp_path):
    model = SequenceRNN()  # 28 inputs, 200 units, 10 classes
    assert model.hyperparameters() == {
        "class": "SequenceRNN",
        "input_dim": 28,
        "classes": 10,
        "units": 200,
    }
    assert sum(p.numel() for p in model.parameters()) == 200 * (28 + 200 + 2) + 200 * 10 + 10
    torch.save(model.state_dict(), tmp_path / "model.pt")
    card = {"kind": "rnn", "hyperparameters": model.hyperparameters()}
    (tmp_path / "model.json").write_text(json.dumps(card))
    loaded = load(tmp_path)
    assert isinstance(loaded, SequenceRNN) and not loaded.training
    inputs = torch.rand(3, 28, 28)
    with torch.no_grad():
        assert torch.equal(loaded(inputs), model(inputs))
        assert torch.equal(loaded.states(inputs)["h0"], model.states(inputs)["h0"])
    assert isinstance(load(tmp_path / "model.pt"), SequenceRNN)


# ---- training ---------------------------------------------------------------------------------

STEPS, INPUTS, CLASSES, UNITS = 5, 3, 3, 8
CONFIG = ClassifierConfig(epochs=4, batch_size=16, lr=0.05, seed=4)


def toy_data(count: int = 240, seed: int = 0):
    """The class is the input channel lit at step 0; the readout comes 4 steps later."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, size=count)
    inputs = rng.normal(0, 0.1, size=(count, STEPS, INPUTS)).astype(np.float32)
    inputs[np.arange(count), 0, labels] += 1.0
    return inputs, labels


def fresh_model(units: int = UNITS) -> SequenceRNN:
    torch.manual_seed(7)
    return SequenceRNN(INPUTS, CLASSES, units=units)


def train(resume_dir, cfg=CONFIG, model=None, data=None, **options):
    inputs, labels = toy_data() if data is None else data
    model = fresh_model() if model is None else model
    result = train_sequence_classifier(
        model, inputs, labels, cfg, resume_dir, progress=False, **options
    )
    return model, result


def accuracy(model, inputs, labels) -> float:
    with torch.no_grad():
        logits = model.logits_at(torch.from_numpy(inputs), inputs.shape[1])
    return float((logits.argmax(-1).numpy() == labels).mean())


def assert_same_weights(model, reference_state):
    state = model.state_dict()
    assert state.keys() == reference_state.keys()
    for name, tensor in state.items():
        assert torch.equal(tensor, reference_state[name]), name


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    deterministic, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    resume_dir = tmp_path_factory.mktemp("rnn_uninterrupted")
    inputs, labels = toy_data()
    initial = fresh_model().state_dict()
    before = accuracy(fresh_model(), inputs, labels)
    model, result = train(resume_dir, evaluate=lambda m, e: {"acc": accuracy(m, inputs, labels)})
    torch.use_deterministic_algorithms(deterministic)
    torch.set_num_threads(threads)
    return {
        "resume_dir": result.run_dir,  # the run's own folder under resume_dir
        "initial": initial,
        "before": before,
        "state": model.state_dict(),
        "result": result,
    }


def test_classifier_learns_a_separable_toy_task(uninterrupted):
    history = uninterrupted["result"].history
    assert history.columns.tolist() == [
        "epoch",
        "step",
        "train_loss",
        "train_accuracy",
        "cpu_time_s",
        "wall_time_s",
        "acc",
    ]
    assert history["step"].tolist() == [15, 30, 45, 60]  # 240 sequences / batch 16
    assert history["train_loss"].is_monotonic_decreasing
    assert uninterrupted["before"] < 0.5
    assert history["acc"].iloc[-1] >= 0.95
    assert history["train_accuracy"].iloc[-1] > history["train_accuracy"].iloc[0]
    assert CONFIG.eps == 1e-8 and CONFIG.shuffle  # torch's Adam, shuffled batches


def test_running_train_accuracy_counts_the_batches_predictions(tmp_path):
    """With lr=0 the weights never move: the running accuracy is the model's accuracy."""
    inputs, labels = toy_data()
    frozen = ClassifierConfig(epochs=1, batch_size=50, lr=0.0, seed=1)
    model, result = train(tmp_path, frozen)
    assert result.history["train_accuracy"].iloc[0] == pytest.approx(
        accuracy(model, inputs, labels), abs=1e-12
    )


def test_stop_then_rerun_is_bit_identical(uninterrupted, tmp_path):
    with pytest.raises(TrainingInterrupted):
        train(tmp_path, stop_after_epoch=2)
    model, result = train(tmp_path)
    assert result.resumed_from_epoch == 2
    assert_same_weights(model, uninterrupted["state"])
    reference = uninterrupted["result"].history
    assert result.history["train_loss"].tolist() == reference["train_loss"].tolist()
    assert result.history["train_accuracy"].tolist() == reference["train_accuracy"].tolist()


def test_another_run_in_the_same_resume_dir_trains_afresh_and_bad_data(tmp_path):
    first = train(tmp_path, ClassifierConfig(epochs=1, batch_size=16, seed=4))[1]
    wider = train(tmp_path, model=fresh_model(units=9))[1]  # another model
    other = train(tmp_path, data=toy_data(seed=1))[1]  # another data seed
    assert wider.resumed_from_epoch == 0 and other.resumed_from_epoch == 0
    assert len({first.run_dir, wider.run_dir, other.run_dir}) == 3
    inputs, labels = toy_data()
    with pytest.raises(ValueError, match=r"labels range over 0\.\.3; the model has classes 0\.\.2"):
        train(tmp_path / "x", data=(inputs, np.concatenate([[3], labels[1:]])))
    with pytest.raises(ValueError, match="floating point"):
        train(tmp_path / "x", data=(inputs.astype(np.int64), labels))
    with pytest.raises(ValueError, match=r"inputs must be \[N, steps, 3\]"):
        train(tmp_path / "x", data=(inputs[..., :2], labels))


def test_export_checkpoints_and_load_them(uninterrupted, tmp_path):
    exported = export_checkpoints(uninterrupted["resume_dir"], tmp_path, epochs=[0, 2, 4])
    assert [path.name for path in exported] == ["epoch000.pt", "epoch002.pt", "epoch004.pt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "epoch000.pt",
        "epoch002.pt",
        "epoch004.pt",
        "model.json",
    ]
    card = json.loads((tmp_path / "model.json").read_text())
    assert card["kind"] == "rnn" and card["hyperparameters"] == fresh_model().hyperparameters()
    assert_same_weights(load(exported[0]), uninterrupted["initial"])
    final = load(exported[-1])
    assert isinstance(final, SequenceRNN) and not final.training
    assert_same_weights(final, uninterrupted["state"])
    with pytest.raises(ValueError, match=r"holds epochs 0\.\.4"):
        export_checkpoints(uninterrupted["resume_dir"], tmp_path, epochs=[5])
