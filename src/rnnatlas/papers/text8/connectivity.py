"""Connectivity of the paper's fixed text and the autocomplete demo, for every trained model.

`connectivity_step` writes, for the models given (Madsen 2019: GRU, LSTM, Nested LSTM):
- connectivity.parquet: model, t_out, t_in, value (the lower triangle, t_in <= t_out),
- demo.parquet: the top-3 words after each character of the demo text, per model,
- connectivity.png/.svg: one heatmap per model (rows normalised by their max),
- connectivity_explorer.html: hover a character, see its connectivity and top-3 words.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.io import write_parquet
from rnnatlas.papers.text8 import autocomplete as ac

log = logging.getLogger("rnnatlas")

# Madsen's fixed text (the article's hero figure and explorer)
PAPER_TEXT = (
    "context the formal study of grammar is an important part of education from a young age "
    "through advanced learning though the rules taught in schools are not a grammar in the sense "
    "most linguists use"
)


def text_inputs(text: str, vocabulary: Sequence[str]) -> tuple[np.ndarray, np.ndarray, str]:
    """(symbols [T], target word ids [T], the text as fed) of a text of a-z words: every word
    is read as " " + letters with its word id at each of those steps, as in the dataset."""
    words = text.split()
    if not words:
        raise ValueError("the connectivity text is empty")
    bad = [w for w in words if not w.isascii() or not w.isalpha() or not w.islower()]
    if bad:
        raise ValueError(f"the connectivity text must be lowercase a-z words; got {bad[:3]}")
    ids = ac.word_ids(words, vocabulary)
    symbols = np.concatenate([ac.encode_text(" " + word) for word in words])
    targets = np.concatenate(
        [np.full(len(word) + 1, i, np.int64) for word, i in zip(words, ids, strict=True)]
    )
    return symbols.astype(np.int64), targets, "".join(" " + word for word in words)


def connectivity_step(
    model_dirs: Sequence[Path],
    data_dir: Path,
    out_dir: Path,
    figures_dir: Path,
    *,
    text: str = PAPER_TEXT,
    squared: bool = True,
    demo_text: str = "parts of north africa",
    threads: int | None = None,
) -> pd.DataFrame:
    """Connectivity, top-3 words and the demo of every model (its name: model.json's `name`,
    else the folder's parent name, e.g. gru)."""
    import torch

    from rnnatlas.analysis.connectivity import connectivity, top_predictions
    from rnnatlas.figures.connectivity import connectivity_heatmaps, display_name
    from rnnatlas.figures.connectivity_explorer import write_explorer
    from rnnatlas.papers.text8.train import _load_model, autocomplete_demo, read_card

    if threads is not None:
        torch.set_num_threads(threads)
    vocabulary = read_card(data_dir)["vocabulary"]
    symbols, targets, fed = text_inputs(text, vocabulary)
    unknown = int((targets == ac.UNKNOWN).sum())
    if unknown:
        log.warning("%d characters belong to words outside the vocabulary (<unknown>)", unknown)
    frames, demos, panels, explorer = [], [], {}, {}
    for model_dir in model_dirs:
        name = _model_name(Path(model_dir))
        model = _load_model(Path(model_dir))
        matrix = connectivity(model, symbols, targets, squared=squared)
        rows, cols = np.tril_indices(len(symbols))
        frames.append(
            pd.DataFrame({"model": name, "t_out": rows, "t_in": cols, "value": matrix[rows, cols]})
        )
        ids, probabilities = top_predictions(model, symbols, k=3)
        top_words = [
            [(vocabulary[i], float(p)) for i, p in zip(row_ids, row_p, strict=True)]
            for row_ids, row_p in zip(ids, probabilities, strict=True)
        ]
        panels[display_name(name)] = (fed, matrix)
        explorer[display_name(name)] = {"connectivity": matrix, "top_words": top_words}
        demos.append(autocomplete_demo(model, demo_text, vocabulary, k=3).assign(model=name))
        log.info("connectivity of %s: %d characters", name, len(symbols))
    table = pd.concat(frames, ignore_index=True)
    write_parquet(Path(out_dir) / "connectivity.parquet", table)
    write_parquet(Path(out_dir) / "demo.parquet", pd.concat(demos, ignore_index=True))
    norm = "squared norm (the author's code)" if squared else "norm (the article)"
    connectivity_heatmaps(
        panels,
        Path(figures_dir),
        "connectivity",
        title=f"Connectivity ‖∂z_target(t̃)/∂x(t)‖, {norm}, each row / its max",
    )
    write_explorer(Path(figures_dir) / "connectivity_explorer.html", fed, explorer)
    return table


def _model_name(model_dir: Path) -> str:
    import json

    card_path = model_dir / "model.json"
    if card_path.exists():
        card = json.loads(card_path.read_text())
        if card.get("cell"):
            return str(card["cell"])
    return model_dir.parent.name
