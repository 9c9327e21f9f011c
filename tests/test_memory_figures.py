"""The memory-signature figures, area table and report section, drawn from hand-made tables."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest

from rnnatlas.papers.memory import figures as fig
from rnnatlas.papers.memory import section
from rnnatlas.report.html import Assets

matplotlib.use("Agg")

MAX_LAG = 8


def signature(family, model, state, accuracy, chance=0.2, decoder="logistic", entropy=2.5):
    """One signature: `accuracy` at lags 0.., then chance up to MAX_LAG; chance may be a list."""
    accuracy = list(accuracy)
    chance = list(chance) if isinstance(chance, (list, tuple)) else [chance] * (MAX_LAG + 1)
    accuracy += chance[len(accuracy) :]
    rows = [
        {"family": family, "model": model, "state": state, "decoder": decoder, "lag": lag,
         "accuracy": a, "cross_entropy": entropy * (1.1 - a), "chance_majority": c,
         "chance_entropy": entropy, "r2": np.nan, "squared_correlation": np.nan,
         "n_train": 300 - lag, "n_test": 100 - lag}
        for lag, (a, c) in enumerate(zip(accuracy, chance, strict=True))
    ]  # fmt: skip
    return pd.DataFrame(rows)


def linear_signature(family, model, state, correlation):
    correlation = list(correlation) + [0.0] * (MAX_LAG + 1 - len(correlation))
    rows = [
        {"family": family, "model": model, "state": state, "decoder": "linear", "lag": lag,
         "accuracy": np.nan, "cross_entropy": np.nan, "chance_majority": np.nan,
         "chance_entropy": np.nan, "r2": r - 0.05, "squared_correlation": r,
         "n_train": 300, "n_test": 100}
        for lag, r in enumerate(correlation)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def all_tables() -> pd.DataFrame:
    parts = [
        signature("csl", "esn", "x", [0.9, 0.8, 0.6, 0.4, 0.3]),
        signature("csl", "lstm", "h0", [0.95, 0.7, 0.5]),
        signature("csl", "lstm", "c0", [0.9, 0.8, 0.7, 0.5]),
        signature("mnist", "rnn", "h0", [0.6, 0.5, 0.4], chance=0.3),
        signature("mnist", "lowrank", "h0", [0.55, 0.45], chance=0.3),
        signature("mnist", "lowrank", "u_coords", [0.5, 0.4], chance=0.3),
        signature("mnist", "lowrank", "v_coords", [0.4, 0.32], chance=0.3),
        signature("text8", "ngram3", "window", [1.0, 1.0], chance=0.18),
        signature("text8", "ngram5", "window", [1.0, 1.0, 1.0, 1.0], chance=0.18),
    ]
    states = {
        "gru": ["h0", "h1"],
        "lstm": ["h0", "c0", "h1", "c1"],
        "nlstm": ["h0", "c0", "c0_inner"],
    }
    for model, names in states.items():
        for i, state in enumerate(names):
            curve = [0.99, 0.95, 0.9, 0.8, 0.6, 0.4 - 0.02 * i]
            parts.append(signature("text8", model, state, curve, chance=0.18))
    return pd.concat(parts, ignore_index=True)


def test_memory_area_on_a_hand_worked_table():
    # a: excess [0.7, 0.3, 0.05, -0.01, 0.01, 0, 0, 0, 0] -> area 0.7 + 0.3 + 0.05 + 0.01 = 1.06,
    #    last lag above chance by > 0.02: lag 2 (lag 4's 0.01 is within the band)
    a = signature("csl", "esn", "x", [0.9, 0.5, 0.25, 0.19, 0.21])
    # b: chance varies by lag, lag 1 has no accuracy (no test sample): NaN adds 0
    #    excess [0.5 - 0.1, nan, 0.4 - 0.3, 0.33 - 0.3] = [0.4, -, 0.1, 0.03] -> 0.53, length 3
    chance = [0.1, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]
    b = signature("csl", "lstm", "h0", [0.5, np.nan, 0.4, 0.33], chance=chance)
    # c: at chance everywhere -> area 0, no memory length
    c = signature("csl", "lstm", "c0", [])
    # d: linear decoder: sum of squared correlations 0.9 + 0.5 + 0.01 = 1.41, length 1
    d = linear_signature("mnist", "rnn", "h0", [0.9, 0.5, 0.01])
    areas = fig.memory_area(pd.concat([d, c, b, a], ignore_index=True))
    assert list(zip(areas["family"], areas["model"], areas["state"], strict=True)) == [
        ("csl", "esn", "x"),
        ("csl", "lstm", "h0"),
        ("csl", "lstm", "c0"),
        ("mnist", "rnn", "h0"),
    ]
    assert areas["area"].tolist() == pytest.approx([1.06, 0.53, 0.0, 1.41])
    assert areas["memory_length"].iloc[0] == 2 and areas["memory_length"].iloc[1] == 3
    assert pd.isna(areas["memory_length"].iloc[2])
    assert areas["memory_length"].iloc[3] == 1
    assert areas["measure"].tolist() == ["accuracy"] * 3 + ["squared_correlation"]
    assert areas["max_lag"].tolist() == [MAX_LAG] * 4
    assert areas["chance"].iloc[1] == pytest.approx((0.1 + 0.2 + 0.3 * 7) / 9)
    assert set(areas["decoder"]) == {"logistic", "linear"}


def test_perfect_window_has_area_lags_times_one_minus_chance():
    areas = fig.memory_area(all_tables()).set_index(["model", "state"])
    # 5-gram: 4 lags of perfect recall, chance 0.18 -> 4 * 0.82
    assert areas.loc[("ngram5", "window"), "area"] == pytest.approx(4 * 0.82)
    assert areas.loc[("ngram3", "window"), "memory_length"] == 1
    assert areas.loc[("ngram5", "window"), "memory_length"] == 3


def test_names_and_selection():
    assert fig.ngram_order("ngram5") == 5 and fig.ngram_order("nlstm") is None
    assert fig.top_layer_h(["h0", "c0", "h1", "c1"]) == "h1"
    assert fig.top_layer_h(["h0", "c0_inner"]) == "h0" and fig.top_layer_h(["x"]) is None
    assert fig.ngram_state(["window"]) == "window"
    assert fig.label("ngram3", "window") == "3-gram"
    assert fig.label("lowrank", "u_coords") == "low-rank RNN U basis"
    assert fig.ordered_models(["ngram5", "lstm", "ngram3", "gru", "nlstm"]) == [
        "gru", "lstm", "nlstm", "ngram3", "ngram5"
    ]  # fmt: skip
    both = pd.concat([signature("csl", "esn", "x", [0.9], decoder=d) for d in ("mlp", "logistic")])
    assert set(fig.select_decoder(both)["decoder"]) == {"logistic"}
    assert set(fig.select_decoder(both, "mlp")["decoder"]) == {"mlp"}


def test_missing_column_is_named():
    table = all_tables().drop(columns=["chance_majority"])
    with pytest.raises(ValueError, match="chance_majority"):
        fig.memory_area(table)


STEMS = ("memory_csl", "memory_mnist", "memory_text8", "memory_ngram", "memory_lowrank")


def draw_into(table, out):
    """draw_all with every figure declared in `out`, as the memory_figures rule declares them."""
    png = [out / f"{stem}.png" for stem in STEMS]
    svg = [out / f"{stem}.svg" for stem in STEMS]
    return fig.draw_all(table, png, svg, out / "memory_area.html")


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """Every figure of all_tables(), drawn once for the tests of this module."""
    out = tmp_path_factory.mktemp("figures")
    return out, draw_into(all_tables(), out)


def test_every_memory_figure_is_written(drawn):
    tmp_path, paths = drawn
    names = sorted(p.name for p in paths)
    assert names == sorted([f"{s}.{e}" for s in STEMS for e in ("png", "svg")]
                           + ["memory_area.html"])  # fmt: skip
    for path in paths:
        if path.suffix != ".html":
            assert path.stat().st_size > 5000, path
    ngram_svg = (tmp_path / "memory_ngram.svg").read_text()
    for text in ("n − 1 = 2", "n − 1 = 4", "5-gram (area 3.28)", "LSTM h1", "Nested LSTM h0"):
        assert text in ngram_svg, text
    assert ">LSTM h0 (area" not in ngram_svg  # only the top layer of the recurrent models
    lowrank_svg = (tmp_path / "memory_lowrank.svg").read_text()
    for text in ("U basis", "V basis", "dense RNN", "0.30", "0.12"):
        assert text in lowrank_svg, text
    text8_svg = (tmp_path / "memory_text8.svg").read_text()
    for text in ("chance: majority class", "chance: unigram entropy", "Nested LSTM inner c0"):
        assert text in text8_svg, text
    page = (tmp_path / "memory_area.html").read_text()
    for text in ("low-rank RNN", "3.280", "v_coords", "<td>text8</td>"):
        assert text in page, text


def test_missing_families_are_skipped(tmp_path):
    tables = all_tables()
    csl = tables[tables["family"] == "csl"]
    names = sorted(p.name for p in draw_into(csl, tmp_path / "csl"))
    assert names == ["memory_area.html", "memory_csl.png", "memory_csl.svg"]
    # text8 without n-grams: no n-gram figure; mnist without the V basis: no low-rank figure
    partial = tables[(tables["family"] != "csl") & ~tables["model"].str.startswith("ngram")
                     & (tables["state"] != "v_coords")]  # fmt: skip
    names = {p.name for p in draw_into(partial, tmp_path / "partial")}
    assert "memory_text8.png" in names and "memory_mnist.png" in names
    assert not names & {"memory_ngram.png", "memory_lowrank.png"}
    with pytest.raises(ValueError, match="family 'csl'"):
        fig.signature_panels(tables[tables["family"] == "text8"], tmp_path, "csl")
    # only the declared figures are drawn
    only = fig.draw_all(tables, [tmp_path / "csl.png"], [tmp_path / "csl.svg"], tmp_path / "a.html")
    assert [p.name for p in only] == ["a.html"]
    with pytest.raises(ValueError, match="side by side|expected the figures"):
        fig.draw_all(tables, [tmp_path / "memory_csl.png"], [], tmp_path / "a.html")


def test_linear_signatures_are_drawn(tmp_path):
    table = pd.concat(
        [
            linear_signature("mnist", "rnn", "h0", [0.9, 0.6, 0.3]),
            linear_signature("mnist", "lowrank", "u_coords", [0.8, 0.4]),
            linear_signature("mnist", "lowrank", "v_coords", [0.5, 0.1]),
        ]
    )
    paths = draw_into(table, tmp_path)
    assert {p.name for p in paths} >= {"memory_mnist.png", "memory_lowrank.svg"}
    assert "squared correlation" in (tmp_path / "memory_mnist.svg").read_text()
    assert "Σ squared corr." in (tmp_path / "memory_area.html").read_text()


def _config() -> dict:
    return {
        "scale": "default",
        "memory": {"max_lag": MAX_LAG, "decoder": "logistic", "max_samples": 20000,
                   "ngram": [3, 5], "lowrank_rank": 2, "mnist_bins": 4},
    }  # fmt: skip


def _write_tables(root):
    tables = all_tables()
    paths = []
    for (family, model), part in tables.groupby(["family", "model"]):
        path = root / "memory" / family / f"{model}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        part.to_parquet(path)
        paths.append(path)
    capacity = root / "memory" / "capacity.json"
    capacity.write_text(json.dumps({"ours": 12.345678, "reservoirpy": 12.345612,
                                    "max_lag": 80, "units": 40}))  # fmt: skip
    return paths, capacity


def test_load_tables_and_section(tmp_path, drawn):
    paths, capacity = _write_tables(tmp_path)
    tables = section.load_tables({"signatures": paths, "capacity": capacity, "figures": "x"})
    assert len(tables["signatures"]) == len(all_tables())
    assert tables["capacity"]["units"] == 40
    figures = drawn[0]
    report_dir = figures.parent / "report"
    shown = Assets(report_dir / "memory" / "figures", report_dir)
    page = section.memory_section(_config(), tables, sorted(figures.iterdir()), shown)
    for text in (
        "one logistic decoder per lag k = 0..8",
        "t − k from the state at t",
        "Whole sequences are held out",
        "majority class",
        "unigram distribution",
        "n = 3, 5",
        "row's mean pixel, coded in 4 classes",
        "at most 20,000 states per signature",
        "Memory capacity cross-check",
        "<b>12.3457</b>",
        "<b>12.3456</b>",
        "reservoirpy",
        "40 units",
        "5.35e-06",  # |12.345678 - 12.345612| / 12.345612
        "<h3>Memory areas</h3>",
        "3.280",
        "n-gram windows versus the recurrent models",
        "<a href='memory/figures/memory_lowrank.svg'>SVG</a>",
        "<img src='memory/figures/memory_lowrank.png'",
        "drawn from <code>results/analysis/memory/FAMILY/MODEL.parquet</code>",
    ):
        assert text in page, text
    # the figures are copied into the report folder, never inlined
    assert "data:image" not in page
    assert (report_dir / "memory" / "figures" / "memory_lowrank.svg").exists()


def test_load_tables_reads_names_from_paths_and_fails_clearly(tmp_path):
    path = tmp_path / "memory" / "text8" / "gru.parquet"
    path.parent.mkdir(parents=True)
    signature("text8", "gru", "h1", [0.9]).drop(columns=["family", "model"]).to_parquet(path)
    table = section.load_tables({"signatures": path})["signatures"]
    assert set(table["family"]) == {"text8"} and set(table["model"]) == {"gru"}
    with pytest.raises(FileNotFoundError, match="missing.parquet"):
        section.load_tables({"signatures": [tmp_path / "missing.parquet"]})
    bad = tmp_path / "bad.parquet"
    signature("text8", "gru", "h1", [0.9]).drop(columns=["lag"]).to_parquet(bad)
    with pytest.raises(ValueError, match="bad.parquet.*lag"):
        section.load_tables({"signatures": bad})
    broken = tmp_path / "capacity.json"
    broken.write_text(json.dumps({"ours": 1.0}))
    with pytest.raises(ValueError, match="reservoirpy"):
        section.load_tables({"capacity": broken})


def test_section_refuses_a_missing_figure(tmp_path):
    # a section never silently leaves out a figure its rule declared
    with pytest.raises(FileNotFoundError, match="one declared file ending in .memory_csl.png."):
        section.memory_section({"scale": "ci"}, {}, [], Assets(tmp_path / "f", tmp_path))
