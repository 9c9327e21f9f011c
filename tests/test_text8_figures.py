"""The text8 figures, tables and report section, drawn from hand-made tables."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest

from rnnatlas.papers.text8 import figures as fig
from rnnatlas.papers.text8 import section
from rnnatlas.report.html import Assets

matplotlib.use("Agg")

MODELS = ("gru", "lstm", "nlstm")


def _test_table() -> pd.DataFrame:
    return pd.DataFrame(
        {"model": ["gru", "lstm", "nlstm", "gru"], "cell": ["gru", "lstm", "nlstm", "gru"],
         "seed": [0, 0, 0, 1], "split": "test", "cross_entropy": [2.20, 2.25, 2.60, 2.30],
         "accuracy": [0.50, 0.495, 0.45, 0.48], "sequences": 1234, "characters": 99_000}
    )  # fmt: skip


def _letters_table() -> pd.DataFrame:
    rows = []
    for i, model in enumerate(MODELS):
        for count_padding in (False, True):
            for letters in range(12):
                for k in (1, 2, 3):
                    total = 1000 if not count_padding else 1200
                    correct = min(total, 150 + 60 * letters + 40 * k - 20 * i)
                    rows.append({"model": model, "cell": model, "seed": 0, "letters": letters,
                                 "k": k, "count_padding": count_padding, "correct": correct,
                                 "total": total, "accuracy": correct / total})  # fmt: skip
    return pd.DataFrame(rows)


def _histories() -> dict:
    steps = np.arange(100, 2100, 100)
    return {
        m: pd.DataFrame(
            {
                "step": steps,
                "train_loss": 6 * np.exp(-steps / 500) + 2 + 0.1 * i,
                "valid_loss": 6 * np.exp(-steps / 500) + 2.1 + 0.1 * i,
                "seconds": steps * 0.5,
            }
        )
        for i, m in enumerate(MODELS)
    }


def _demo() -> pd.DataFrame:
    text = " parts of"
    words = {"gru": ("the", "part", "parts"), "lstm": ("the", "party", "parts"),
             "nlstm": ("of", "part", "paris")}  # fmt: skip
    rows = []
    for model, top in words.items():
        for position, character in enumerate(text):
            for rank, (word, p) in enumerate(zip(top, (0.5, 0.2, 0.1), strict=True), start=1):
                rows.append({"model": model, "position": position, "character": character,
                             "rank": rank, "word": word, "probability": p})  # fmt: skip
    return pd.DataFrame(rows)


def test_test_summary_against_hand_computed_values():
    summary = fig.test_summary(_test_table()).set_index("model")
    assert list(summary.index) == ["gru", "lstm", "nlstm"]
    # gru: two networks, CE (2.20 + 2.30) / 2 = 2.25, accuracy (50 + 48) / 2 = 49 %
    assert summary.loc["gru", "networks"] == 2
    assert summary.loc["gru", "cross_entropy"] == pytest.approx(2.25)
    assert summary.loc["gru", "cross_entropy_diff"] == pytest.approx(2.25 - 2.1170)
    assert summary.loc["gru", "accuracy"] == pytest.approx(49.0)
    assert summary.loc["lstm", "accuracy_diff"] == pytest.approx(49.5 - 51.40)
    assert summary.loc["nlstm", "paper_cross_entropy"] == 2.4950


def test_letters_accuracy_sums_networks_per_setting():
    table = _letters_table()
    doubled = pd.concat([table, table.assign(seed=1, correct=table["correct"] // 2)])
    accuracy = fig.letters_accuracy(doubled, count_padding=True)
    row = accuracy[
        (accuracy["model"] == "lstm") & (accuracy["k"] == 1) & (accuracy["letters"] == 2)
    ]
    # lstm, k=1, 2 letters: 150 + 120 + 40 - 20 = 290 and 145 of 1200 each
    assert row["accuracy"].iloc[0] == pytest.approx(100 * (290 + 145) / 2400)


def test_every_text8_figure_is_written(tmp_path):
    paths = fig.test_table(_test_table(), tmp_path)
    paths += fig.letters_known(_letters_table(), tmp_path, count_padding=True)
    paths += fig.training_curves(_histories(), tmp_path)
    names = sorted(p.name for p in paths)
    assert names == sorted(
        [f"{n}.{e}" for n in ("test_table", "letters_known", "training_curves")
         for e in ("png", "svg")] + ["test_table.html"]
    )  # fmt: skip
    for path in paths:
        if path.suffix != ".html":
            assert path.stat().st_size > 5000, path
    page = (tmp_path / "test_table.html").read_text()
    for text in ("2.1170", "52.01", "2.2500", "+0.1330", "49.00", "-3.01", "GRU (mean of 2)",
                 "Nested LSTM", "1,234"):  # fmt: skip
        assert text in page, text
    svg = (tmp_path / "letters_known.svg").read_text()
    assert "count_padding=true" in svg
    assert "paper (14,278 steps)" in (tmp_path / "training_curves.svg").read_text()


def test_letters_known_without_rows_of_the_setting_fails(tmp_path):
    table = _letters_table()
    with pytest.raises(ValueError, match="count_padding=False"):
        fig.letters_known(table[table["count_padding"]], tmp_path)


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="cross_entropy"):
        fig.test_summary(pd.DataFrame({"model": ["gru"], "accuracy": [0.5]}))


def test_demo_table():
    page = fig.demo_table(_demo())
    assert page.count("<tr>") == 1 + len(" parts of")  # header + one row per character
    assert page.index(">GRU<") < page.index(">LSTM<") < page.index(">Nested LSTM<")
    assert "(the leading space)" in page and "parts o" in page
    assert "party <span class='prob'>0.20</span>" in page
    assert "paris <span class='prob'>0.10</span>" in page


def _config():
    return {
        "scale": "ci",
        "text8": {
            "data": {"source": "embedded", "vocabulary_bits": 10, "max_chars": 200,
                     "seed": 450849059, "max_characters": None},
            "model": {"units": 32, "steps": 2000, "batch_size": 64, "lr": 0.001},
            "models": list(MODELS),
            "seed": 0,
            "evaluate": {"max_sequences": 200, "count_padding": False},
            "connectivity": {"text": "the cat", "squared": True},
            "demo": {"text": "parts of"},
        },
    }  # fmt: skip


def _write_inputs(tmp_path):
    """Rule outputs as the text8 steps lay them out."""
    test = _test_table()
    letters = _letters_table()
    paths = {"test": [], "letters": [], "histories": [], "demo": tmp_path / "demo.parquet"}
    for model in MODELS:
        folder = tmp_path / "models" / model / "seed0"
        folder.mkdir(parents=True)
        (folder / "model.json").write_text(json.dumps({"name": model, "cell": model}))
        _histories()[model].to_parquet(folder / "history.parquet")
        paths["histories"].append(folder / "history.parquet")
        evaluation = tmp_path / "eval" / model
        evaluation.mkdir(parents=True)
        test[test["model"] == model].to_parquet(evaluation / "test_metrics.parquet")
        letters[letters["model"] == model].to_parquet(evaluation / "letters_known.parquet")
        paths["test"].append(evaluation / "test_metrics.parquet")
        paths["letters"].append(evaluation / "letters_known.parquet")
    _demo().to_parquet(paths["demo"])
    card = {"source": {"kind": "embedded", "dataset": "gensim's Wikipedia excerpt"},
            "characters": 123_456, "words": 20_000, "vocabulary_size": 1026, "coverage": 0.85,
            "observations": {"train": 900, "valid": 50, "test": 50, "total": 1000}}  # fmt: skip
    (tmp_path / "card.json").write_text(json.dumps(card))
    paths["card"] = tmp_path / "card.json"
    return paths


def test_load_tables_and_section(tmp_path):
    paths = _write_inputs(tmp_path)
    figures = tmp_path / "figures" / "text8"
    tables = section.load_tables({**paths, "figures": figures})
    assert len(tables["test"]) == 4 and set(tables["histories"]) == set(MODELS)
    assert tables["card"]["vocabulary_size"] == 1026
    fig.draw_all(
        tables["test"], tables["letters"], tables["histories"],
        [figures / f"{name}.png" for name in fig.FIGURES],
        [figures / f"{name}.svg" for name in fig.FIGURES], figures / "test_table.html",
    )  # fmt: skip
    assert (figures / "test_table.html").read_text().startswith("<table class='text8-test'>")
    with pytest.raises(ValueError, match="side by side|expected the figures"):
        fig.draw_all(tables["test"], tables["letters"], tables["histories"], [], [], figures)
    fig.letters_known(tables["letters"], figures)  # the configured count_padding=false
    import matplotlib.pyplot as plt

    heat, ax = plt.subplots()
    ax.imshow(np.eye(4))
    heat.savefig(figures / "connectivity.png")
    plt.close(heat)
    (figures / "connectivity_explorer.html").write_text("<html></html>")
    report_dir = tmp_path / "report"
    shown = Assets(report_dir / "text8" / "figures", report_dir)
    page = section.text8_section(_config(), tables, sorted(figures.iterdir()), shown)
    expected = (
        "gensim&#x27;s Wikipedia excerpt",  # the card
        "123,456",
        "16,386",  # the paper's classes
        "1,026",  # ours
        "4,323,600",  # GRU recurrent parameters, paper size
        "9,847,986",  # dense, paper size
        "1,026",
        "2,000",  # our steps
        "14,278",
        "142.22",  # epochs: 2000 * 64 / 900
        "2.1170",  # test table
        "count_padding is false",
        "<img src='text8/figures/text8/test_table.png'",
        "<a href='text8/figures/text8/connectivity_explorer.html'>",
        "squared norm",
        "Autocomplete demo",
        "party <span class='prob'>0.20</span>",
    )
    for text in expected:
        assert text in page, text
    # our dense layer: 32 units x 1026 classes + 1026 biases
    assert f"{32 * 1026 + 1026:,}" in page
    # every figure is shown from the report folder (test table, letters known, training curves,
    # connectivity), the explorer beside them
    assert page.count("<img") == 4 and "data:image" not in page
    assert (report_dir / "text8/figures/text8/connectivity_explorer.html").exists()
    # letters table: paper row of the GRU and ours at 0 letters (k=1: 150 + 40 = 190 / 1000)
    assert "<td>16.5</td>" in page and "<td>19.0</td>" in page


def test_section_refuses_a_missing_figure(tmp_path):
    # a section never silently leaves out a figure its rule declared
    with pytest.raises(FileNotFoundError, match="one declared file ending in .test_table.html."):
        section.text8_section(_config(), {}, [], Assets(tmp_path / "f", tmp_path))


def test_demo_without_model_column_is_refused(tmp_path):
    path = tmp_path / "demo.parquet"
    _demo().drop(columns="model").to_parquet(path)
    with pytest.raises(ValueError, match="'model' column"):
        section.load_tables({"demo": path})
