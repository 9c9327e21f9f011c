"""Connectivity of the paper's fixed text and the autocomplete demo, for every trained model.

`connectivity_step` writes, for the models given (Madsen 2019: GRU, LSTM, Nested LSTM):
- table (connectivity.parquet): model, t_out, t_in, value (the lower triangle, t_in <= t_out),
- demo (demo.parquet): the top-3 words after each character of the demo text, per model,
- png, svg (connectivity.png/.svg): one heatmap per model (rows normalised by their max),
- html (connectivity_explorer.html): hover a character, see its connectivity and top-3 words.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.io import read_json, write_parquet
from rnnatlas.papers.text8 import autocomplete as ac

log = logging.getLogger("rnnatlas")

OUTPUTS = ("table", "demo", "png", "svg", "html")

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
    models: Sequence[Path],
    model_cards: Sequence[Path],
    card: Path,
    outputs: Mapping[str, Path],
    *,
    text: str = PAPER_TEXT,
    squared: bool = True,
    demo_text: str = "parts of north africa",
    threads: int | None = None,
) -> pd.DataFrame:
    """Connectivity, top-3 words and the demo of every model (its model.pt in `models`, its
    model.json in `model_cards`: the model's name is the card's `cell`, else the name of the
    folder above the model's, e.g. gru); `card`: the data's card.json; `outputs`: the paths of
    "table", "demo", "png", "svg" (the same name, .png and .svg) and "html"."""
    import torch

    from rnnatlas.analysis.connectivity import connectivity, top_predictions
    from rnnatlas.figures.connectivity import connectivity_heatmaps, display_name
    from rnnatlas.figures.connectivity_explorer import write_explorer
    from rnnatlas.papers.text8.dataset import read_card
    from rnnatlas.papers.text8.train import autocomplete_demo, load_model

    missing = [key for key in OUTPUTS if key not in outputs]
    if missing:
        raise ValueError(f"connectivity_step lacks the path of {missing}")
    if len(models) != len(model_cards):
        raise ValueError(f"{len(models)} models but {len(model_cards)} model cards")
    png, svg = Path(outputs["png"]), Path(outputs["svg"])
    if svg != png.with_suffix(".svg"):
        raise ValueError(f"the heatmap's SVG must sit beside its PNG {png}, got {svg}")
    if threads is not None:
        torch.set_num_threads(threads)
    vocabulary = read_card(card)["vocabulary"]
    symbols, targets, fed = text_inputs(text, vocabulary)
    unknown = int((targets == ac.UNKNOWN).sum())
    if unknown:
        log.warning("%d characters belong to words outside the vocabulary (<unknown>)", unknown)
    frames, demos, panels, explorer = [], [], {}, {}
    for model_path, card_path in zip(models, model_cards, strict=True):
        name = _model_name(Path(model_path), Path(card_path))
        model = load_model(Path(model_path))
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
    write_parquet(Path(outputs["table"]), table)
    write_parquet(Path(outputs["demo"]), pd.concat(demos, ignore_index=True))
    norm = "squared norm (the author's code)" if squared else "norm (the article)"
    connectivity_heatmaps(
        panels,
        png.parent,
        png.stem,
        title=f"Connectivity ‖∂z_target(t̃)/∂x(t)‖, {norm}, each row / its max",
    )
    write_explorer(Path(outputs["html"]), fed, explorer)
    return table


def _model_name(model: Path, card_path: Path) -> str:

    if card_path.exists():
        card = read_json(card_path, "rule text8_data writes it")
        if card.get("cell"):
            return str(card["cell"])
    return model.parent.parent.name
