"""Autonomous dynamics of small RNNs whose attractors are known in closed form, phase decoding
on hand-made clouds, and the intrinsic dimension per step of a hand-made states file."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.optimize import brentq

from rnnatlas import states
from rnnatlas.analysis.attractors import invariant_sets
from rnnatlas.models.rnn import SequenceRNN
from rnnatlas.papers.mnist.dimension import dimension_by_step
from rnnatlas.papers.mnist.dynamics import (
    ATTRACTOR_DEFAULTS,
    _autonomous,
    describe_sets,
    phase_decoding,
    run_autonomous,
    set_frames,
)


def _two_unit_rnn(weight) -> SequenceRNN:
    model = SequenceRNN(units=2)
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(torch.as_tensor(weight, dtype=torch.float32))
        model.rnn.bias_hh_l0.zero_()
        model.rnn.bias_ih_l0.zero_()
    return model


def _rotation(gain: float, angle: float = 1.0) -> np.ndarray:
    return gain * np.array(
        [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
    )


def _sets(model, steps=1500, tail=20, starts=40):
    h0 = torch.as_tensor(np.random.default_rng(0).uniform(-1, 1, (starts, 2)))
    tails, kept, opening = run_autonomous(_autonomous(model), h0, steps, tail, [0, steps], (3, 5))
    assert (
        set(kept) == {0, steps} and opening.shape == (3, 6, 2) and tails.shape == (starts, tail, 2)
    )
    labels, _ = invariant_sets(tails)
    return tails, labels, describe_sets(model, tails, labels, ATTRACTOR_DEFAULTS)


def test_contracting_rotation_has_one_fixed_point_with_exponent_log_gain():
    """tanh(0.5 R h): the origin attracts every state; the Jacobian there is 0.5 R, whose
    exponents are both log 0.5."""
    tails, labels, sets = _sets(_two_unit_rnn(_rotation(0.5)))
    assert len(sets) == 1 and sets["kind"].iloc[0] == "fixed_point"
    assert sets["lambda_max"].iloc[0] == pytest.approx(math.log(0.5), abs=1e-6)
    np.testing.assert_allclose(tails[:, -1], 0, atol=1e-12)


def test_doubling_gain_gives_four_fixed_points_at_the_root_of_x_equals_tanh_2x():
    """tanh(2 h) acts per unit: x* = tanh(2 x*) > 0 is stable, so (±x*, ±x*) are four attractors
    with exponent log(2 (1 - x*^2)) each."""
    x_star = brentq(lambda x: x - math.tanh(2 * x), 0.5, 1.0)
    tails, labels, sets = _sets(_two_unit_rnn(2 * np.eye(2)))
    assert len(sets) == 4 and set(sets["kind"]) == {"fixed_point"}
    np.testing.assert_allclose(np.abs(tails[:, -1]), x_star, atol=1e-9)
    corners = np.sign(tails[:, -1]) @ np.array([1, 2])  # a label per corner
    for corner in np.unique(corners):
        assert len(set(labels[corners == corner])) == 1  # one set per corner
    np.testing.assert_allclose(sets["lambda_max"], math.log(2 * (1 - x_star**2)), atol=1e-6)


def test_expanding_rotation_settles_on_one_closed_curve():
    """tanh(1.5 R(1 rad) h): the origin repels, tanh bounds the states: an invariant closed
    curve, traversed without a period, exponent 0 along it, dimension 1."""
    _, _, sets = _sets(_two_unit_rnn(_rotation(1.5)))
    assert len(sets) == 1
    row = sets.iloc[0]
    assert row["kind"] == "closed_curve" and row["periods"] == "0"
    assert abs(row["lambda_max"]) < 5e-3
    assert row["twonn"] == pytest.approx(1.0, abs=0.3)


def test_phase_decoding_reads_the_digit_from_the_angle_alone():
    """Ten digits placed at ten angles of one circle (plus 5 noise dimensions of the same
    size): the angle decodes the digit, chance is the majority share."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 30)
    angles = 2 * math.pi * labels / 10 + rng.normal(0, 0.05, len(labels))
    cloud = np.zeros((len(labels), 7))
    cloud[:, 0], cloud[:, 1] = np.cos(angles), np.sin(angles)
    cloud[:, 2:] = rng.normal(0, 0.01, (len(labels), 5))
    tails = cloud[:, None, :].repeat(3, axis=1)
    membership = np.zeros(len(labels), dtype=np.int64)
    frames = set_frames(tails, membership)
    table = phase_decoding({5: cloud}, labels, membership, frames, ATTRACTOR_DEFAULTS)
    row = table.iloc[0]
    assert row["t"] == 5 and row["row"] == 33 and row["chance"] == pytest.approx(0.1)
    assert row["phase_accuracy"] == 1.0 and row["state_accuracy"] == 1.0


def _write_clouds(path, clouds):
    n = len(clouds[0])
    sequences = (
        states.SequenceStates(
            sequence_id=i,
            tokens=[f"t{t}" for t in range(len(clouds))],
            states={"h0": np.stack([cloud[i] for cloud in clouds]).astype(np.float32)},
        )
        for i in range(n)
    )
    states.write(path, sequences, metadata={"model": "toy"})


def test_dimension_by_step_on_clouds_of_known_dimension(tmp_path):
    """t=0: one point (undefined), t=1: a line in 12-D (PR 1, TwoNN 1), t=2: an isotropic
    Gaussian in a random 3-D subspace (PR near 3, TwoNN near 3)."""
    rng = np.random.default_rng(0)
    n, units = 600, 12
    basis = np.linalg.qr(rng.normal(size=(units, 3)))[0].T  # [3, units] orthonormal
    line = rng.uniform(-1, 1, (n, 1)) * basis[0]
    gauss = rng.normal(size=(n, 3)) @ basis
    _write_clouds(tmp_path / "s.parquet", [np.zeros((n, units)), line, gauss])
    table = dimension_by_step(tmp_path / "s.parquet", tmp_path / "d.parquet")
    got = table.set_index(["t", "method"])["dimension"]
    assert np.isnan(got[(0, "participation_ratio")]) and np.isnan(got[(0, "twonn")])
    assert got[(1, "participation_ratio")] == pytest.approx(1.0, abs=1e-5)
    assert got[(1, "twonn")] == pytest.approx(1.0, abs=0.15)
    assert got[(2, "participation_ratio")] == pytest.approx(3.0, abs=0.25)
    assert got[(2, "twonn")] == pytest.approx(3.0, abs=0.5)
    assert (table["points"] == n).all() and table.loc[table["t"] == 0, "distinct"].eq(1).all()
    strided = dimension_by_step(tmp_path / "s.parquet", stride=2, points=100, methods=["pr"])
    assert sorted(strided["t"]) == [0, 2] and (strided["points"] == 100).all()
    with pytest.raises(ValueError, match="unknown dimension method"):
        dimension_by_step(tmp_path / "s.parquet", methods=["volume"])
