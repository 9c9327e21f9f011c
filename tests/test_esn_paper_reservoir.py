"""The paper-sized reservoir: exact spectral radius where ARPACK would be 1 % off."""

import numpy as np
import pytest

from rnnatlas.models.esn import ESNConfig, ReservoirWeights, build_reservoir


def test_paper_reservoir_has_the_exact_spectral_radius():
    cfg = ESNConfig(units=1000, spectral_radius=1.1, density=0.85, seed=0)
    weights = ReservoirWeights.from_reservoir(build_reservoir(cfg, input_dim=20))
    radius = np.abs(np.linalg.eigvals(weights.W)).max()
    assert radius == pytest.approx(1.1, rel=1e-9)
    assert np.count_nonzero(weights.W) / weights.W.size == pytest.approx(0.85, abs=0.01)
    # the bias is the first column of a +-1 input matrix of density 0.1
    assert set(np.unique(weights.bias)) <= {-1.0, 0.0, 1.0}
    assert np.count_nonzero(weights.bias) / 1000 == pytest.approx(0.1, abs=0.03)


def test_harvest_with_shared_prefixes_equals_reservoirpy():
    # real CSL sentences share long prefixes ("BEGIN the orange ..."): the prefix tree must give
    # every sentence exactly the states reservoirpy's own run gives
    from rnnatlas.models.esn import harvest, run_reservoirpy
    from rnnatlas.papers.csl.data import build_corpus

    tokens = list(build_corpus(4, seed=1)["train"]["tokens"][::10])
    tokens += [tokens[0], tokens[0][:3], tokens[1][:1]]  # duplicates and pure prefixes
    reservoir = build_reservoir(ESNConfig(units=150, seed=3), input_dim=20)
    weights = ReservoirWeights.from_reservoir(reservoir)
    expected_last = run_reservoirpy(reservoir, tokens, 20, record="last")
    np.testing.assert_allclose(harvest(weights, tokens), expected_last, rtol=0, atol=1e-12)
    expected_all = run_reservoirpy(reservoir, tokens, 20, record="all")
    for ours, ref in zip(harvest(weights, tokens, record="all"), expected_all, strict=True):
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
