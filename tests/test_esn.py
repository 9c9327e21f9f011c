"""ESN: reservoir construction, the fast harvest against reservoirpy's own run, the torch module."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnatlas.models.esn import (
    ESN,
    ESNConfig,
    ReservoirWeights,
    build_reservoir,
    harvest,
    harvest_dense,
    one_hot,
    run_reservoirpy,
)
from rnnatlas.models.readout import with_bias

VOCAB = 20
TOLERANCE = 1e-10


@pytest.fixture(scope="module")
def reservoir():
    return build_reservoir(ESNConfig(units=200, seed=3), VOCAB)


@pytest.fixture(scope="module")
def weights(reservoir):
    return ReservoirWeights.from_reservoir(reservoir)


@pytest.fixture(scope="module")
def sentences():
    rng = np.random.default_rng(7)
    return [rng.integers(0, VOCAB, size=rng.integers(3, 20)) for _ in range(50)]


def _max_diff(first, second) -> float:
    return max(float(np.abs(a - b).max()) for a, b in zip(first, second, strict=True))


# --- build_reservoir ---------------------------------------------------------------------


def test_spectral_radius_matches_config(weights):
    assert np.abs(np.linalg.eigvals(weights.W)).max() == pytest.approx(1.1, abs=1e-6)


def test_densities_match_config(weights):
    assert np.count_nonzero(weights.W) / weights.W.size == pytest.approx(0.85, abs=0.01)
    assert np.count_nonzero(weights.Win) / weights.Win.size == pytest.approx(0.1, abs=0.02)


def test_input_weights_are_plus_minus_scaling():
    scaled = ReservoirWeights.from_reservoir(
        build_reservoir(ESNConfig(units=100, input_scaling=0.5), VOCAB)
    )
    assert set(np.unique(scaled.Win)) == {-0.5, 0.0, 0.5}
    assert set(np.unique(scaled.bias)) <= {-0.5, 0.0, 0.5}
    assert np.any(scaled.bias != 0)  # the bias column of Win [1; u] is drawn like the others


def test_no_bias_gives_zero_bias():
    plain = ReservoirWeights.from_reservoir(build_reservoir(ESNConfig(units=50, bias=False), 5))
    assert np.all(plain.bias == 0)


def test_reservoir_carries_the_paper_update(reservoir, weights):
    assert reservoir.lr == 0.05
    assert weights.W.shape == (200, 200) and weights.Win.shape == (200, VOCAB)
    assert weights.W.flags.c_contiguous and weights.W.dtype == np.float64


def test_seed_fixes_the_reservoir(weights):
    again = ReservoirWeights.from_reservoir(build_reservoir(ESNConfig(units=200, seed=3), VOCAB))
    other = ReservoirWeights.from_reservoir(build_reservoir(ESNConfig(units=200, seed=4), VOCAB))
    for name in ("W", "Win", "bias"):
        np.testing.assert_array_equal(getattr(weights, name), getattr(again, name))
    assert not np.array_equal(weights.W, other.W)
    assert not np.array_equal(weights.Win, other.Win)


# --- harvest -----------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_harvest_last_equals_reservoirpy(reservoir, weights, sentences, workers):
    reference = run_reservoirpy(reservoir, sentences, VOCAB, record="last")
    states = harvest(weights, sentences, record="last", workers=workers)
    assert states.shape == (len(sentences), 200) and states.dtype == np.float64
    assert np.abs(states - reference).max() < TOLERANCE


@pytest.mark.parametrize("workers", [1, 3])
def test_harvest_all_equals_reservoirpy(reservoir, weights, sentences, workers):
    reference = run_reservoirpy(reservoir, sentences, VOCAB, record="all")
    states = harvest(weights, sentences, record="all", workers=workers, progress=True)
    assert [s.shape for s in states] == [(len(t), 200) for t in sentences]
    assert _max_diff(states, reference) < TOLERANCE


def test_harvest_dense_equals_reservoirpy(reservoir, weights):
    rng = np.random.default_rng(11)
    inputs = [rng.normal(size=(rng.integers(3, 20), VOCAB)) for _ in range(30)]
    reference = []
    for sequence in inputs:
        reservoir.reset()
        reference.append(reservoir.run(sequence))
    reservoir.reset()
    for workers in (1, 2):
        states = harvest_dense(weights, inputs, record="all", workers=workers)
        assert _max_diff(states, reference) < TOLERANCE
        last = harvest_dense(weights, inputs, record="last", workers=workers)
        assert np.abs(last - np.stack([r[-1] for r in reference])).max() < TOLERANCE


def test_harvest_by_hand():
    # 2 units, 2 words, leak 0.5; sentence [0, 1] computed step by step
    weights = ReservoirWeights(
        W=np.array([[0.0, 0.5], [-0.5, 0.0]]),
        Win=np.array([[1.0, 0.0], [0.0, -1.0]]),
        bias=np.array([0.1, -0.2]),
        leak=0.5,
    )
    x1 = [0.5 * math.tanh(1.0 + 0.1), 0.5 * math.tanh(0.0 - 0.2)]
    pre2 = [0.5 * x1[1] + 0.0 + 0.1, -0.5 * x1[0] - 1.0 - 0.2]
    x2 = [0.5 * x1[0] + 0.5 * math.tanh(pre2[0]), 0.5 * x1[1] + 0.5 * math.tanh(pre2[1])]
    states = harvest(weights, [np.array([0, 1])], record="all")[0]
    np.testing.assert_allclose(states, [x1, x2], rtol=0, atol=1e-15)
    np.testing.assert_allclose(harvest(weights, [np.array([0, 1])])[0], x2, rtol=0, atol=1e-15)


def test_every_sentence_starts_from_zero(weights, sentences):
    alone = harvest(weights, sentences[5:6])
    together = harvest(weights, sentences)
    assert np.abs(alone[0] - together[5]).max() < 1e-14


def test_harvest_edge_cases(weights):
    states = harvest(weights, [np.array([], dtype=int), np.array([1, 2])], record="all")
    assert states[0].shape == (0, 200) and states[1].shape == (2, 200)
    assert np.all(harvest(weights, [np.array([], dtype=int)]) == 0)
    assert harvest(weights, []).shape == (0, 200)
    assert harvest(weights, [], record="all") == []
    with pytest.raises(ValueError, match="token ids"):
        harvest(weights, [np.array([VOCAB])])
    with pytest.raises(ValueError, match="record"):
        harvest(weights, [np.array([1])], record="every")


def test_one_hot():
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])


# --- torch module ------------------------------------------------------------------------


def _padded_batch(sentences):
    longest = max(len(s) for s in sentences)
    batch = torch.zeros(len(sentences), longest, VOCAB, dtype=torch.float64)
    for row, sentence in enumerate(sentences):
        batch[row, torch.arange(len(sentence)), torch.as_tensor(sentence)] = 1.0
    return batch, torch.tensor([len(s) for s in sentences])


def test_module_states_equal_harvest(weights, sentences):
    module = ESN(weights, output_dim=4)
    inputs, lengths = _padded_batch(sentences[:12])
    x = module.states(inputs)["x"]
    assert x.dtype == torch.float64 and x.shape == (12, inputs.shape[1], 200)
    reference = harvest(weights, sentences[:12], record="all")
    # the ESN is causal: states before a sentence's end ignore the padding
    unpadded = [x[i, : len(s)].numpy() for i, s in enumerate(sentences[:12])]
    assert _max_diff(unpadded, reference) < TOLERANCE
    held = module.states(inputs, lengths)["x"]
    last = harvest(weights, sentences[:12])
    assert np.abs(held[:, -1].numpy() - last).max() < TOLERANCE


def test_forward_is_readout_of_states(weights, sentences):
    module = ESN(weights, output_dim=3, config=ESNConfig(units=200, seed=3))
    Wout = np.random.default_rng(0).normal(size=(201, 3))
    module.set_readout(Wout)
    inputs, _ = _padded_batch(sentences[:6])
    expected = with_bias(module.states(inputs)["x"].numpy()) @ Wout
    np.testing.assert_allclose(module(inputs).numpy(), expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError):
        module.set_readout(Wout[1:])


def test_module_round_trip(weights, sentences):
    module = ESN(weights, output_dim=3, config=ESNConfig(units=200, seed=3))
    module.set_readout(np.random.default_rng(1).normal(size=(201, 3)))
    card = {"kind": "esn", "hyperparameters": module.hyperparameters()}
    rebuilt = ESN.from_state_dict(module.state_dict(), card)
    inputs, _ = _padded_batch(sentences[:3])
    assert torch.equal(rebuilt(inputs), module(inputs))
    assert card["hyperparameters"]["config"]["spectral_radius"] == 1.1
    np.testing.assert_array_equal(module.reservoir_weights().W, weights.W)


def test_juvens_reservoir_has_dense_uniform_inputs_and_no_bias():
    from rnnatlas.models.esn import ESNConfig, ReservoirWeights, build_reservoir

    cfg = ESNConfig(units=200, input_density=1.0, input_distribution="uniform", bias=False)
    weights = ReservoirWeights.from_reservoir(build_reservoir(cfg, input_dim=12))
    assert np.all(weights.bias == 0) and np.count_nonzero(weights.Win) == 200 * 12
    assert np.abs(weights.Win).max() < 1 and len(np.unique(np.abs(weights.Win))) > 1000
    # U(-1, 1): mean 0, variance 1/3 over 2,400 entries (SE of the variance ~0.006)
    assert abs(weights.Win.mean()) < 0.05 and abs(weights.Win.var() - 1 / 3) < 0.03
    # Variengien's: +-1 entries at density 0.1, and a bias column
    paper = ReservoirWeights.from_reservoir(build_reservoir(ESNConfig(units=200), input_dim=12))
    assert set(np.unique(np.abs(paper.Win))) <= {0.0, 1.0} and np.any(paper.bias != 0)
    with pytest.raises(ValueError, match="input_distribution must be one of"):
        build_reservoir(ESNConfig(units=10, input_distribution="normal"), input_dim=2)
