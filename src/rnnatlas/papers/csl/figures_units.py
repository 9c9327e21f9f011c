"""Figures of the internal-units analyses (Variengien & Hinaut 2020), one function per figure.

Each function takes the tables written by `rnnatlas.papers.csl.units.units_step` and writes
PNG + SVG through `rnnatlas.figures.style.save`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.figures import style
from rnnatlas.papers.csl.data import GROUPS

COLOR_WORDS = {"red": "#d62728", "orange": "#ff7f0e", "green": "#2ca02c", "blue": "#1f77b4"}
MODEL_NAMES = {"esn": "ESN", "lstm": "LSTM"}


def _model(model: str) -> str:
    return MODEL_NAMES.get(model, model)


def _short(sentence: str) -> str:
    return f"“{sentence}”"


def _word_ticks(ax, words: Sequence[str], rotation: int = 45) -> None:
    ax.set_xticks(np.arange(len(words)), list(words), rotation=rotation, ha="right")


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def pretty_label(label: str) -> str:
    """ "slot0:object:glass" -> "object 1, object: glass" (slots are numbered from 1)."""
    parts = label.split(":")
    if len(parts) != 3 or not parts[0].startswith("slot"):
        return label
    return f"object {int(parts[0].removeprefix('slot')) + 1}, {parts[1]}: {parts[2]}"


def winglet(table: pd.DataFrame, out_dir: Path, *, model: str, labels: Sequence[str]) -> list:
    """|W| sorted in decreasing order, one curve per output, log y (the "winglet"): one panel
    per (object slot, concept group), so each holds a handful of curves, not all 22."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    def panel_of(output: int) -> tuple[str, str]:
        label = labels[output] if output < len(labels) else f"output {output}"
        slot, group, _ = (label.split(":") + ["", "", ""])[:3]
        return slot, group

    panels = sorted({panel_of(int(o)) for o in table["output"].unique()})
    slots = sorted({slot for slot, _ in panels})
    groups = list(dict.fromkeys(group for _, group in panels))
    fig, axes = plt.subplots(len(slots), len(groups), figsize=(3.6 * len(groups), 2.9 * len(slots)),
                             sharex=True, sharey=True, squeeze=False,
                             layout="constrained")  # fmt: skip
    palette = plt.get_cmap("tab10").colors
    drawn: dict[tuple[str, str], int] = {}
    for output, frame in table.groupby("output", sort=True):
        slot, group = panel_of(int(output))
        ax = axes[slots.index(slot), groups.index(group)]
        k = drawn.get((slot, group), 0)
        drawn[(slot, group)] = k + 1
        label = labels[output] if output < len(labels) else f"output {output}"
        ax.plot(frame["rank"], frame["abs_weight"].clip(lower=1e-12), color=palette[k % 10],
                lw=1.2, label=label.split(":")[-1])  # fmt: skip
    for (row, slot), (column, group) in (
        (r, c) for r in enumerate(slots) for c in enumerate(groups)
    ):
        ax = axes[row, column]
        ax.set_yscale("log")
        ax.set_xlim(0, int(table["rank"].max()))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        number = slot.removeprefix("slot")
        ax.set_title(f"object {int(number) + 1 if number.isdigit() else slot}: {group}",
                     fontsize=9)  # fmt: skip
        if (slot, group) in drawn:
            ax.legend(frameon=False, fontsize=6.5, loc="upper right")
        if row == len(slots) - 1:
            ax.set_xlabel("rank of |weight| (0 = largest)")
        if column == 0:
            ax.set_ylabel("|readout weight|")
    source = "readout W_out" if model == "esn" else "Dense layer"
    fig.suptitle(f"{_model(model)}: sorted |weights| of the {source}, one curve per output")
    return style.save(fig, out_dir, "winglet")


def _unit_heatmap(
    ax, fig, matrix: np.ndarray, rows: Sequence[str], words: Sequence[str], cmap, label, **kw
):
    image = ax.imshow(matrix, aspect="auto", cmap=cmap, interpolation="nearest", **kw)
    _word_ticks(ax, words)
    ax.set_yticks(np.arange(len(rows)), list(rows), fontsize=7 if len(rows) > 12 else 9)
    ax.set_xlabel("word of the sentence")
    ax.grid(False)
    fig.colorbar(image, ax=ax, label=label, pad=0.02)


def _pivot(deltas: pd.DataFrame, value: str) -> tuple[np.ndarray, list[int], list[str]]:
    units = list(dict.fromkeys(deltas["unit"].tolist()))  # table order (polyvalence order)
    matrix = deltas.pivot(index="unit", columns="t", values=value).loc[units]
    words = deltas.drop_duplicates("t").sort_values("t")["token"].tolist()
    return matrix.to_numpy(), units, words


def _unit_names(deltas: pd.DataFrame, units: Sequence[int]) -> list[str]:
    if "lists" not in deltas.columns:
        return [f"unit {u}" for u in units]
    lists = deltas.drop_duplicates("unit").set_index("unit")["lists"]
    return [
        f"unit {u} ({int(lists[u])} lists)" if pd.notna(lists[u]) else f"unit {u}" for u in units
    ]


def polyvalent_deltas(
    deltas: pd.DataFrame, out_dir: Path, *, model: str, sentence: str, state: str
) -> list:
    """Heatmap of |Δ activation| (units x words) of the polyvalent units over the sentence."""
    import matplotlib.pyplot as plt

    n_units = deltas["unit"].nunique()
    fig, ax = plt.subplots(figsize=(9, 1.6 + 0.28 * max(n_units, 4)))
    if state.startswith("c"):
        lists = deltas.drop_duplicates("unit")["lists"] if "lists" in deltas else []
        polyvalent = int(np.sum(np.asarray(lists) > 0))
        which = f"{n_units} cell-state units ({polyvalent} polyvalent)"
    else:
        which = f"{n_units} polyvalent units"
    if len(deltas) == 0:
        _empty(ax, "no polyvalent unit")
    else:
        matrix, units, words = _pivot(deltas, "abs_delta")
        _unit_heatmap(ax, fig, matrix, _unit_names(deltas, units), words, "viridis",
                      f"|Δ{state}| (change since previous word)", vmin=0)  # fmt: skip
        ax.set_ylabel("unit")
    ax.set_title(f"{_model(model)}: word-by-word |Δ{state}| of the {which}\n{_short(sentence)}")
    return style.save(fig, out_dir, "polyvalent_deltas")


def connected_deltas(
    stats: pd.DataFrame,
    out_dir: Path,
    *,
    model: str,
    output_label: str,
    units: Sequence[int],
    sentences: int,
    state: str,
) -> list:
    """Bar chart, per word, of mean ± sd of Σ|Δx| over the units most connected to one output."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    x = np.arange(len(stats))
    ax.bar(x, stats["mean"], yerr=stats["sd"], capsize=3, color=style.color(model),
           edgecolor="black", lw=0.5, error_kw={"lw": 1})  # fmt: skip
    _word_ticks(ax, stats["token"].tolist())
    ax.set_xlabel("word")
    ax.set_ylabel(f"Σ |Δ{state}| over the {len(units)} units")
    ax.set_title(
        f"{_model(model)}: the {len(units)} units most connected to output {output_label}\n"
        f"mean ± sd of Σ|Δ{state}| per word over {sentences} test sentences\n"
        f"(units {', '.join(str(u) for u in units)})",
        fontsize=10,
    )
    ax.grid(axis="x", visible=False)
    return style.save(fig, out_dir, "connected_deltas")


def cell_units(
    deltas: pd.DataFrame, out_dir: Path, *, model: str, sentence: str, state: str
) -> list:
    """Activation of every recorded unit over the sentence (LSTM: all cell-state units; ESN: the
    polyvalent units), as a heatmap with a diverging colormap centred on 0."""
    import matplotlib.pyplot as plt

    n_units = deltas["unit"].nunique()
    fig, ax = plt.subplots(figsize=(9, 1.6 + 0.28 * max(n_units, 4)))
    if model == "lstm" or state.startswith("c"):
        what = f"all {n_units} cell-state units ({state})"
    else:
        what = f"the {n_units} polyvalent units ({state})"
    if len(deltas) == 0:
        _empty(ax, "no unit to show")
    else:
        matrix, units, words = _pivot(deltas, "activation")
        bound = float(np.abs(matrix).max()) or 1.0
        _unit_heatmap(ax, fig, matrix, _unit_names(deltas, units), words, "RdBu_r",
                      f"activation {state}", vmin=-bound, vmax=bound)  # fmt: skip
        ax.set_ylabel("unit")
    ax.set_title(f"{_model(model)}: activation of {what} over the sentence\n{_short(sentence)}")
    return style.save(fig, out_dir, "cell_units")


def output_activations(table: pd.DataFrame, out_dir: Path, *, model: str, sentence: str) -> list:
    """3 x 2 grid (groups x object slots): one line per concept, readout after every word."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 2, figsize=(12, 8.5), sharex=True, sharey=True)
    words = table.drop_duplicates("t").sort_values("t")["token"].tolist()
    for row, group in enumerate(GROUPS):
        for slot in (0, 1):
            ax = axes[row, slot]
            frame = table[(table["group"] == group) & (table["slot"] == slot)]
            concepts = list(dict.fromkeys(frame["concept"]))
            palette = style_palette(group, concepts)
            for concept in concepts:
                line = frame[frame["concept"] == concept].sort_values("t")
                ax.plot(line["t"], line["activation"], marker="o", ms=3, lw=1.4,
                        color=palette[concept], label=concept)  # fmt: skip
            ax.axhline(0, color="black", lw=0.6)
            ax.set_title(f"object {slot + 1}: {group}")
            if slot == 1:
                ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1),
                          title=group, title_fontsize=8)  # fmt: skip
            if slot == 0:
                ax.set_ylabel("output activation")
    for ax in axes[-1]:
        _word_ticks(ax, words)
        ax.set_xlabel("word of the sentence")
    fig.suptitle(f"{_model(model)}: readout after every word of {_short(sentence)}", y=0.99)
    fig.subplots_adjust(hspace=0.3, wspace=0.08, top=0.92)
    return style.save(fig, out_dir, "output_activations")


def style_palette(group: str, concepts: Sequence[str]) -> dict[str, object]:
    """Colors of one group's concepts: color words get their own color, others a palette."""
    import seaborn as sns

    if group == "color":
        return {c: COLOR_WORDS.get(c, "#444444") for c in concepts}
    colors = sns.color_palette("tab10" if group == "object" else "Dark2", len(concepts))
    return dict(zip(concepts, colors, strict=True))


__all__ = [
    "cell_units",
    "connected_deltas",
    "output_activations",
    "polyvalent_deltas",
    "pretty_label",
    "style_palette",
    "winglet",
]
