"""Connectivity heatmaps, the static form of Madsen (2019)'s hero figure: one panel per model.

Rows are output characters t̃ (whose target-word logit is differentiated), columns input
characters t; each row is divided by its max over the inputs (the article's display), on a green
scale. Cells above the diagonal (inputs the output has not read yet) are grey. Every character
labels its column and row; the words run along the top and the left, so the paper's 200-character
text stays readable where single characters get small (the SVG keeps them all as text, to zoom).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnatlas.analysis.connectivity import normalise_rows
from rnnatlas.figures import style

CMAP = "Greens"  # the explorer (connectivity_explorer.py) uses the same scale
FUTURE = "#ececec"  # cells the output cannot depend on
SPACE = "␣"  # a visible space on the axes
MODEL_NAMES = {"gru": "GRU", "lstm": "LSTM", "nlstm": "Nested LSTM"}
DEFAULT_TITLE = "Connectivity of each input character to the target word's logit, row by row"


def display_name(model: str) -> str:
    return MODEL_NAMES.get(model.lower(), model)


def display_char(char: str) -> str:
    return SPACE if char == " " else char


def connectivity_heatmaps(
    texts_by_model: Mapping[str, tuple[str, np.ndarray]],
    out_dir: Path,
    name: str,
    *,
    title: str | None = None,
) -> list[Path]:
    """Write {name}.png and {name}.svg: one heatmap per model, characters on both axes.

    texts_by_model: {model: (text, connectivity [len(text), len(text)])}, in panel order; the
        connectivity as `rnnatlas.analysis.connectivity` returns it. Squared or plain, the shades
        are relative to each row's max but differ (plain = sqrt of squared): say which in `title`.
    """
    import matplotlib.pyplot as plt

    panels = _validated(texts_by_model)
    style.setup()
    texts = [text for text, _ in panels.values()]
    # one text for all models: it labels the rows of the first panel only
    shared = len(set(texts)) == 1
    labels = _Labels.fitting(texts)
    fig, axes, colorbar_axes = _layout(plt, len(panels), labels, shared)
    cmap = plt.get_cmap(CMAP).with_extremes(bad=FUTURE)
    image = None
    for column, (ax, (model, (text, conn))) in enumerate(zip(axes, panels.items(), strict=True)):
        shade = np.ma.masked_array(normalise_rows(conn), mask=np.triu(np.ones_like(conn), 1) > 0)
        image = ax.imshow(shade, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
        rows = column == 0 or not shared
        _label_axes(ax, text, labels, rows)
        ax.set_title(display_name(model), fontsize=12, pad=labels.words_extent + 6)
        ax.set_xlabel("input character t", labelpad=labels.size + 4)
        if rows:
            ax.set_ylabel(
                "output character t̃ (logit of its target word)",
                labelpad=labels.size + labels.words_extent + 6,
            )
    fig.colorbar(image, cax=colorbar_axes, label="connectivity / max over the inputs of its row")
    fig.suptitle(title or DEFAULT_TITLE, y=1 - 0.12 / fig.get_figheight(), va="top")
    return style.save(fig, Path(out_dir), name)


@dataclass(frozen=True)
class _Labels:
    """Sizes of the labels, in points, and of a panel, in inches."""

    side: float  # panel width and height
    size: float  # one character under its column
    word_size: float
    words_extent: float  # how far the longest word reaches out from the panel

    @classmethod
    def fitting(cls, texts: list[str]) -> _Labels:
        longest = max(len(text) for text in texts)
        # a readable cell for short texts, a bounded page for the paper's 200 characters
        side = float(np.clip(0.1 * longest, 4.5, 10.0))
        size = float(np.clip(side * 72 / longest * 0.75, 3.0, 9.0))  # at most one cell wide
        word_size = max(size, 6.0)
        longest_word = max((len(w) for text in texts for w in text.split()), default=0)
        return cls(side, size, word_size, 3 + 0.62 * word_size * longest_word)


def _layout(plt, n_panels: int, labels: _Labels, shared: bool):
    """Square panels in a row and a colorbar, placed in inches: constrained layout would measure
    every character label over and over (tens of seconds for 200 characters)."""
    side = labels.side
    beside = 0.4 + (labels.size + labels.words_extent + 8) / 72  # y label, words, characters
    left, bar, right, bottom = beside, 0.15, 0.9, 0.75
    top = 0.45 + (labels.words_extent + 26) / 72  # suptitle, panel title, words
    gap = 0.25 if shared else beside
    width = left + n_panels * side + (n_panels - 1) * gap + 0.2 + bar + right
    height = bottom + side + top
    fig = plt.figure(figsize=(width, height))
    axes = [
        fig.add_axes(
            [(left + i * (side + gap)) / width, bottom / height, side / width, side / height]
        )  # fmt: skip
        for i in range(n_panels)
    ]
    bar_left = left + n_panels * side + (n_panels - 1) * gap + 0.2
    colorbar_axes = fig.add_axes(
        [bar_left / width, (bottom + 0.15 * side) / height, bar / width, 0.7 * side / height]
    )
    return fig, axes, colorbar_axes


def _label_axes(ax, text: str, labels: _Labels, rows: bool) -> None:
    """Characters under the columns (and beside the rows), words above and (if `rows`) left.

    Plain text artists, not tick labels: matplotlib's Tick objects (lines, grid, two labels each)
    made 200-character panels several times slower to lay out and save.
    """
    from matplotlib.transforms import offset_copy

    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    char_font = {"fontsize": labels.size, "fontfamily": "monospace", "clip_on": False}
    word_font = {"fontsize": labels.word_size, "clip_on": False}
    words = [(m.group(), (m.start() + m.end() - 1) / 2) for m in re.finditer(r"[^ ]+", text)]

    def shifted(transform, x: float = 0, y: float = 0):
        return offset_copy(transform, fig=ax.figure, x=x, y=y, units="points")

    below = shifted(ax.get_xaxis_transform(), y=-2)
    for t, char in enumerate(text):
        ax.text(t, 0, display_char(char), transform=below, ha="center", va="top", **char_font)
    above = shifted(ax.get_xaxis_transform(), y=3)
    for word, centre in words:
        ax.text(centre, 1, word, transform=above, ha="center", va="bottom", rotation=90,
                **word_font)  # fmt: skip
    if not rows:
        return
    left = shifted(ax.get_yaxis_transform(), x=-2)
    for t, char in enumerate(text):
        ax.text(0, t, display_char(char), transform=left, ha="right", va="center", **char_font)
    further = shifted(ax.get_yaxis_transform(), x=-(labels.size + 6))
    for word, centre in words:
        ax.text(0, centre, word, transform=further, ha="right", va="center", **word_font)


def _validated(texts_by_model: Mapping[str, tuple[str, np.ndarray]]) -> dict:
    if not texts_by_model:
        raise ValueError("texts_by_model is empty: give {model: (text, connectivity)}")
    panels = {}
    for model, entry in texts_by_model.items():
        try:
            text, conn = entry
        except (TypeError, ValueError):
            message = f"texts_by_model[{model!r}] must be a (text, connectivity) pair"
            raise ValueError(message) from None
        conn = np.asarray(conn, dtype=float)
        if not isinstance(text, str) or not text:
            raise ValueError(f"texts_by_model[{model!r}]: the text must be a non-empty string")
        if conn.shape != (len(text), len(text)):
            raise ValueError(
                f"texts_by_model[{model!r}]: connectivity has shape {conn.shape} but the text has "
                f"{len(text)} characters: expected ({len(text)}, {len(text)})"
            )
        panels[model] = (text, conn)
    return panels
