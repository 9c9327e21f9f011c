"""The RSSviz steps' own logic: rescaled reservoirs, readouts re-run across training."""

from __future__ import annotations

import numpy as np
import pytest

from rnnatlas.models.esn import ReservoirWeights, build_reservoir
from rnnatlas.papers.csl.esn_runs import esn_config
from rnnatlas.papers.csl.rssviz_hyper import rescaled

SPEC = {
    "units": 60,
    "spectral_radius": 1.1,
    "density": 0.5,
    "leak": 0.05,
    "input_scaling": 1.0,
    "input_density": 0.3,
    "bias": True,
}


@pytest.mark.parametrize("radius,leak,scaling", [(0.5, 0.3, 1.0), (2.0, 1.0, 0.25)])
def test_rescaled_reservoir_equals_a_rebuilt_one(radius, leak, scaling):
    base_cfg = esn_config(SPEC, seed=3)
    base = ReservoirWeights.from_reservoir(build_reservoir(base_cfg, 7))
    other_cfg = esn_config(
        {**SPEC, "spectral_radius": radius, "leak": leak, "input_scaling": scaling}, seed=3
    )
    rebuilt = ReservoirWeights.from_reservoir(build_reservoir(other_cfg, 7))
    mine = rescaled(base, base_cfg, radius, leak, scaling)
    np.testing.assert_allclose(mine.W, rebuilt.W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mine.Win, rebuilt.Win, rtol=1e-12)
    np.testing.assert_allclose(mine.bias, rebuilt.bias, rtol=1e-12)
    assert mine.leak == rebuilt.leak == leak
    assert np.abs(np.linalg.eigvals(mine.W)).max() == pytest.approx(radius, rel=1e-9)
