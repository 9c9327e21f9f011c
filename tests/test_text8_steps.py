"""The text8 rules' step functions, run as a rule runs them (rnnatlas.step jobs)."""

from __future__ import annotations

import json
import zipfile

import pandas as pd
import pyarrow.parquet as pq
import pytest

from rnnatlas.papers.text8 import autocomplete as ac
from rnnatlas.step import make_job, run_job


def data_outputs(folder):
    return {name: folder / f"{name}.parquet" for name in ac.SPLITS} | {"card": folder / "card.json"}


def test_data_step_job_from_a_zip(tmp_path):
    """Rule text8_data: " the cat sat" (12) | " on the mat" (11) | " the end" (8), 12 characters
    an observation, 3 observations -> train 2, valid 0, test 1 (the 90/5/5 split)."""
    path = tmp_path / "text8.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("text8", " the cat sat on the mat the end")
    outputs = data_outputs(tmp_path / "data")
    config = {"source": "zip", "vocabulary_bits": 2, "max_chars": 12, "seed": 450849059,
              "max_characters": None}  # fmt: skip
    job = make_job(
        "text8_data", input={"zip": path}, output=outputs, params={"data": config},
        log=tmp_path / "data.log",
    )  # fmt: skip
    run_job(job)
    card = json.loads(outputs["card"].read_text())
    assert card["vocabulary"] == ["<eos>", "<unknown>", "the", "cat", "end", "mat"]
    assert card["observations"] == {"train": 2, "valid": 0, "test": 1, "total": 3}
    assert card["words"] == 8 and card["characters"] == 31 and card["coverage"] == 6 / 8
    assert card["config"]["max_characters"] is None
    sources = {split: pq.read_table(outputs[split])["source"].to_pylist() for split in ac.SPLITS}
    texts = {split: sorted(map(ac.decode_symbols, rows)) for split, rows in sources.items()}
    # the seeded permutation of 3 observations puts the last in test, the others in train
    assert texts == {"train": [" on the mat", " the cat sat"], "valid": [], "test": [" the end"]}
    # " the end": "the" is word 2, "end" word 4, each id once per character with its space
    (row,) = pq.read_table(outputs["test"]).to_pylist()
    assert row["target"] == [2, 2, 2, 2, 4, 4, 4, 4] and row["observation_id"] == 2


def test_figures_step_job_writes_the_declared_files(tmp_path):
    """Rule text8_figures: the test table's HTML holds each model's numbers."""
    inputs = {"test": [], "letters": [], "histories": []}
    for index, model in enumerate(("gru", "lstm")):
        folder = tmp_path / model
        folder.mkdir()
        test = pd.DataFrame([{"model": model, "cell": model, "seed": 0, "split": "test",
                              "cross_entropy": 2.5 + index, "accuracy": 0.25 * (index + 1),
                              "sequences": 40, "characters": 900}])  # fmt: skip
        letters = pd.DataFrame(
            [{"model": model, "cell": model, "seed": 0, "letters": n, "k": k,
              "count_padding": False, "correct": n + k, "total": 10, "accuracy": (n + k) / 10}
             for n in range(3) for k in (1, 2, 3)]
        )  # fmt: skip
        history = pd.DataFrame(
            {"step": [3, 6], "train_loss": [7.0, 6.5], "valid_loss": [7.1, 6.9],
             "seconds": [0.1, 0.2]}
        )  # fmt: skip
        for key, frame in (("test", test), ("letters", letters), ("histories", history)):
            path = folder / f"{key}.parquet"
            frame.to_parquet(path)
            inputs[key].append(path)
    names = ("test_table", "letters_known", "training_curves")
    out = tmp_path / "figures"
    outputs = {
        "png": [out / f"{name}.png" for name in names],
        "svg": [out / f"{name}.svg" for name in names],
        "table": out / "test_table.html",
    }
    job = make_job(
        "text8_figures", input=inputs, output=outputs,
        params={"models": ["gru", "lstm"], "count_padding": False},
    )  # fmt: skip
    run_job(job)
    for path in [*outputs["png"], *outputs["svg"]]:
        assert path.stat().st_size > 1000, path
    page = outputs["table"].read_text()
    assert "<td>2.5000</td>" in page and "<td>3.5000</td>" in page  # cross-entropies
    assert "<td>25.00</td>" in page and "<td>50.00</td>" in page  # accuracies in %
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{n}.{e}" for n in names for e in ("png", "svg")] + ["test_table.html"]
    )


def test_step_refuses_figures_not_declared_in_pairs(tmp_path):
    from rnnatlas.figures.style import declared_folders

    png = [tmp_path / "a.png", tmp_path / "b.png"]
    assert declared_folders([*png, tmp_path / "b.svg", tmp_path / "a.svg"], ["a", "b"]) == {
        "a": tmp_path,
        "b": tmp_path,
    }
    with pytest.raises(ValueError, match="side by side"):
        declared_folders([*png, tmp_path / "a.svg", tmp_path / "other" / "b.svg"], ["a", "b"])
    with pytest.raises(ValueError, match="side by side"):
        declared_folders(png, ["a", "b"])
    with pytest.raises(ValueError, match=r"expected the figures \['a', 'c'\]"):
        declared_folders([*png, tmp_path / "a.svg", tmp_path / "b.svg"], ["a", "c"])
