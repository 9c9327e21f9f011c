"""Accuracy-versus-n summaries on hand-made variant tables."""

from __future__ import annotations

import pandas as pd
import pytest

from rnnatlas.analysis.accuracy_curves import (
    full_length_accuracy,
    length_versus_information,
    summarise_variants,
)


def _table():
    rows = []
    for seed, offset in ((0, 0.0), (1, 0.02)):
        for n in range(29):
            rows.append({"seed": seed, "variant": "cut", "n": n, "accuracy": 0.1 + n / 40 + offset})
            rows.append({"seed": seed, "variant": "hidden", "n": n, "accuracy": 0.9 + offset})
            rows.append({"seed": seed, "variant": "extended", "n": n, "accuracy": 0.9 - n / 100})
    return pd.DataFrame(rows).assign(n_test=1000)


def test_summary_means_and_sd():
    summary = summarise_variants(_table()).set_index(["variant", "n"])
    assert summary.loc[("hidden", 5), "mean"] == pytest.approx(0.91)
    assert summary.loc[("hidden", 5), "std"] == pytest.approx(0.02 / 2**0.5)
    assert summary.loc[("extended", 3), "std"] == 0.0
    assert summary.loc[("cut", 0), "count"] == 2


def test_gap_between_hidden_and_cut_by_hand():
    result = length_versus_information(_table(), n_range=(1, 27))
    # gap(n) = 0.9 - 0.1 - n/40 for both networks; mean over n=1..27 is 0.8 - 14/40
    assert result["mean_gap"] == pytest.approx(0.8 - 14 / 40)
    assert result["min_gap"] == pytest.approx(0.8 - 27 / 40)
    assert result["share_hidden_ahead"] == 1.0
    assert result["behind_beyond_noise"] == []
    assert result["networks"] == 2
    # network 0 at n = 26 behind by 1 pp: inside the noise of 1,000 test digits
    # (SE = sqrt((0.9 * 0.1 + 0.91 * 0.09) / 1000) = 1.31 pp); at n = 27 behind by 5 pp: beyond
    behind = _table()
    cut = behind["variant"] == "cut"
    behind.loc[cut & (behind["n"] == 26) & (behind["seed"] == 0), "accuracy"] = 0.91
    behind.loc[cut & (behind["n"] == 27) & (behind["seed"] == 0), "accuracy"] = 0.95
    result = length_versus_information(behind)
    assert [(s, n) for s, n, _ in result["behind_beyond_noise"]] == [(0, 27)]
    assert result["min_network_gap"] == pytest.approx(-0.05)
    assert result["min_network_gap_at"] == (0, 27)
    with pytest.raises(ValueError, match="'cut'"):
        length_versus_information(_table().query("variant != 'cut'"))


def test_full_length_accuracy():
    mean, sd, count = full_length_accuracy(_table())
    assert (mean, count) == (pytest.approx(0.91), 2)
    assert sd == pytest.approx(0.02 / 2**0.5)
