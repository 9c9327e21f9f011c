"""The memory area of a signature (analysis.memory_signature.signature_area), worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnatlas.analysis.memory_signature import ABOVE_CHANCE, signature_area


def test_area_and_memory_length_by_hand():
    rows = pd.DataFrame(
        {  # given out of lag order; lag 4 has no accuracy (adds 0, never "above chance")
            "lag": [2, 0, 4, 1, 3],
            "accuracy": [0.25, 1.0, np.nan, 0.6, 0.21],
            "chance_majority": [0.2] * 5,
        }
    )
    result = signature_area(rows)
    # excess over chance by lag 0..3: 0.8, 0.4, 0.05, 0.01 -> area 1.26; the last lag above
    # 0.02 is lag 2 (lag 3's 0.01 is below the threshold)
    assert result["measure"] == "accuracy"
    assert result["area"] == pytest.approx(1.26)
    assert result["memory_length"] == 2 and result["max_lag"] == 4
    assert result["chance"] == pytest.approx(0.2)
    # a negative excess (below chance) adds nothing; a stricter threshold shortens the memory
    below = rows.assign(accuracy=[0.25, 1.0, np.nan, 0.6, 0.1])
    assert signature_area(below)["area"] == pytest.approx(1.25)
    assert signature_area(rows, threshold=0.1)["memory_length"] == 1
    assert ABOVE_CHANCE == 0.02


def test_linear_area_is_the_sum_of_squared_correlations():
    rows = pd.DataFrame(
        {
            "lag": [0, 1, 2],
            "accuracy": [np.nan] * 3,
            "chance_majority": [np.nan] * 3,
            "squared_correlation": [0.9, 0.5, 0.01],
        }
    )
    result = signature_area(rows)
    assert result["measure"] == "squared_correlation"
    assert result["area"] == pytest.approx(1.41)
    assert result["memory_length"] == 1  # 0.01 is not above 0.02


def test_no_lag_above_chance_has_no_memory_length():
    rows = pd.DataFrame({"lag": [0, 1], "accuracy": [0.2, 0.2], "chance_majority": [0.2, 0.2]})
    result = signature_area(rows)
    assert result["area"] == 0.0 and result["memory_length"] is pd.NA
    with pytest.raises(ValueError, match="chance_majority"):
        signature_area(rows.drop(columns="chance_majority"))
