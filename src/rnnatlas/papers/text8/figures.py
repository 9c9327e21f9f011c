"""Figures and tables of the text8 autocomplete paper (Madsen 2019), ours beside the paper's.

Tables as the text8 steps write them (rnnatlas.papers.text8.train):
- test: test_metrics rows (model, cross_entropy in nats, accuracy as a fraction, sequences, ...),
- letters: letters_known rows (model, letters, k, count_padding, correct, total, accuracy),
- histories: {model: history (step, train_loss, valid_loss, seconds)},
- demo: autocomplete_demo rows with a `model` column (position, character, rank, word,
  probability).
Models are named "gru", "lstm", "nlstm"; several rows of one model (seeds) are averaged.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.figures import style
from rnnatlas.io import atomic_path
from rnnatlas.papers.text8 import reference as ref

COLORS = {"gru": "#1b9e77", "lstm": "#d95f02", "nlstm": "#7570b3"}
TEST_COLUMNS = ("model", "cross_entropy", "accuracy")
LETTERS_COLUMNS = ("model", "letters", "k", "count_padding", "correct", "total")
HISTORY_COLUMNS = ("step", "train_loss", "valid_loss")
DEMO_COLUMNS = ("model", "position", "character", "rank", "word", "probability")
PAPER_STEPS_LABEL = f"paper ({ref.STEPS:,} steps)"


def display(model: str) -> str:
    return ref.DISPLAY.get(model, model)


def color(model: str) -> str:
    return COLORS.get(model, "#444444")


def ordered_models(models) -> list[str]:
    """The paper's order first (GRU, LSTM, Nested LSTM), then any other model by name."""
    models = list(dict.fromkeys(models))
    known = [m for m in ref.MODELS if m in models]
    return known + sorted(m for m in models if m not in ref.MODELS)


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"the {what} table lacks column(s) {missing}; it needs {', '.join(columns)} "
            f"(as rnnatlas.papers.text8.train writes it)"
        )


# ---- test table ---------------------------------------------------------------------------------


def test_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per model: ours (CE nats, accuracy %), the paper's, the differences."""
    _require(table, TEST_COLUMNS, "test")
    grouped = table.groupby("model")
    rows = []
    for model in ordered_models(table["model"]):
        part = grouped.get_group(model)
        paper = ref.TEST.get(model, {})
        ce, acc = float(part["cross_entropy"].mean()), 100 * float(part["accuracy"].mean())
        rows.append(
            {
                "model": model,
                "networks": len(part),
                "sequences": int(part["sequences"].iloc[0]) if "sequences" in part else None,
                "cross_entropy": ce,
                "paper_cross_entropy": paper.get("cross_entropy", np.nan),
                "accuracy": acc,
                "paper_accuracy": paper.get("accuracy", np.nan),
            }
        )
    frame = pd.DataFrame(rows)
    frame["cross_entropy_diff"] = frame["cross_entropy"] - frame["paper_cross_entropy"]
    frame["accuracy_diff"] = frame["accuracy"] - frame["paper_accuracy"]
    return frame


def test_table_html(table: pd.DataFrame) -> str:
    """The test table as an HTML fragment: ours, the paper's, the difference."""
    summary = test_summary(table)
    head = (
        "<tr><th>model</th><th>cross-entropy (nats)</th><th>paper</th><th>Δ</th>"
        "<th>accuracy (%)</th><th>paper</th><th>Δ (pp)</th><th>test sequences</th></tr>"
    )

    def number(value, digits):
        return "–" if value is None or pd.isna(value) else f"{value:.{digits}f}"

    def signed(value, digits):
        return "–" if pd.isna(value) else f"{value:+.{digits}f}"

    rows = []
    for row in summary.itertuples():
        networks = f" (mean of {row.networks})" if row.networks > 1 else ""
        sequences = "–" if row.sequences is None or pd.isna(row.sequences) else f"{row.sequences:,}"
        rows.append(
            f"<tr><td>{html.escape(display(row.model))}{networks}</td>"
            f"<td>{number(row.cross_entropy, 4)}</td><td>{number(row.paper_cross_entropy, 4)}</td>"
            f"<td>{signed(row.cross_entropy_diff, 4)}</td>"
            f"<td>{number(row.accuracy, 2)}</td><td>{number(row.paper_accuracy, 2)}</td>"
            f"<td>{signed(row.accuracy_diff, 2)}</td><td>{sequences}</td></tr>"
        )
    return f"<table class='text8-test'>{head}{''.join(rows)}</table>"


def test_table(
    table: pd.DataFrame, out_dir: Path, name: str = "test_table", html_path: Path | None = None
) -> list[Path]:
    """Bar chart of the test cross-entropy and accuracy, ours beside the paper's (PNG, SVG),
    and the same numbers as an HTML fragment (`html_path`, by default `{name}.html` beside
    them). Returns the three paths."""
    import matplotlib.pyplot as plt

    style.setup()
    summary = test_summary(table)
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.0), layout="constrained")
    x = np.arange(len(summary))
    width = 0.38
    panels = (
        ("cross_entropy", "test cross-entropy (nats, lower is better)", "{:.3f}"),
        ("accuracy", "test accuracy (%, top-1 over characters)", "{:.1f}"),
    )
    for ax, (column, label, fmt) in zip(axes, panels, strict=True):
        ours, paper = summary[column], summary[f"paper_{column}"]
        colors = [color(m) for m in summary["model"]]
        bars = ax.bar(x - width / 2, ours, width, color=colors, label="ours")
        paper_bars = ax.bar(x + width / 2, paper, width, color=colors, alpha=0.35, hatch="//",
                            edgecolor="#333333", linewidth=0.6, label="paper")  # fmt: skip
        for group in (bars, paper_bars):
            for bar in group:
                height = bar.get_height()
                if np.isfinite(height):
                    ax.annotate(fmt.format(height), (bar.get_x() + bar.get_width() / 2, height),
                                ha="center", va="bottom", fontsize=7,
                                xytext=(0, 2), textcoords="offset points")  # fmt: skip
        ax.set_xticks(x, [display(m) for m in summary["model"]])
        ax.set_ylabel(label)
        top = np.nanmax(np.concatenate([ours.to_numpy(float), paper.to_numpy(float)]))
        ax.set_ylim(0, 1.15 * top if np.isfinite(top) and top > 0 else 1)
        style.legend_below(ax, ncol=2)
    fig.suptitle("text8 autocomplete: test table, ours (solid) vs Madsen 2019 (hatched)")
    paths = style.save(fig, Path(out_dir), name)
    html_path = Path(out_dir) / f"{name}.html" if html_path is None else Path(html_path)
    with atomic_path(html_path) as tmp:
        tmp.write_text(test_table_html(table) + "\n")
    return [*paths, html_path]


# ---- accuracy given letters known ---------------------------------------------------------------


def letters_accuracy(table: pd.DataFrame, count_padding: bool = False) -> pd.DataFrame:
    """Accuracy (%) per (model, k, letters) for one count_padding setting, summed over networks."""
    _require(table, LETTERS_COLUMNS, "letters-known")
    rows = table[table["count_padding"] == bool(count_padding)]
    summed = rows.groupby(["model", "k", "letters"], as_index=False)[["correct", "total"]].sum()
    summed["accuracy"] = 100 * summed["correct"] / summed["total"]
    return summed


def letters_known(
    table: pd.DataFrame,
    out_dir: Path,
    name: str = "letters_known",
    count_padding: bool = False,
    max_letters: int = 7,
) -> list[Path]:
    """Top-1 accuracy (%) versus letters known 0..max_letters, one colour per model: ours solid
    with markers, the paper's dashed; a second panel with our top-2 (lighter) and top-3
    (lightest) and the paper's top-3 at 0 letters (crosses). `count_padding` picks the rows."""
    import matplotlib.pyplot as plt

    style.setup()
    accuracy = letters_accuracy(table, count_padding)
    accuracy = accuracy[accuracy["letters"] <= max_letters]
    if accuracy.empty:
        raise ValueError(
            f"the letters-known table has no rows with count_padding={count_padding} and "
            f"letters <= {max_letters}: evaluate the models or change text8.evaluate.count_padding"
        )
    models = ordered_models(accuracy["model"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained", sharey=True)
    letters_axis = np.array(ref.LETTERS)
    for model in models:
        part = accuracy[accuracy["model"] == model]
        top1 = part[part["k"] == 1].sort_values("letters")
        left.plot(top1["letters"], top1["accuracy"], "-o", ms=4, color=color(model),
                  label=f"{display(model)} (ours)")  # fmt: skip
        if model in ref.LETTERS_TOP1:
            left.plot(letters_axis, ref.LETTERS_TOP1[model], "--", lw=1.2, color=color(model),
                      alpha=0.8, label=f"{display(model)} (paper)")  # fmt: skip
        for k, alpha, marker in ((1, 1.0, "o"), (2, 0.6, "s"), (3, 0.35, "^")):
            rows = part[part["k"] == k].sort_values("letters")
            if len(rows):
                right.plot(rows["letters"], rows["accuracy"], "-", marker=marker, ms=3.5,
                           color=color(model), alpha=alpha,
                           label=f"{display(model)} top-{k}")  # fmt: skip
        if model in ref.TOP3_AT_0:
            right.scatter([0], [ref.TOP3_AT_0[model]], marker="X", s=60, color=color(model),
                          edgecolors="black", linewidths=0.6, zorder=5)  # fmt: skip
    right.scatter([], [], marker="X", s=60, color="white", edgecolors="black",
                  label="paper top-3 at 0 letters")  # fmt: skip
    for ax in (left, right):
        ax.set_xlabel("letters of the current word known (0 = only its leading space)")
        ax.set_xticks(range(max_letters + 1))
        ax.set_ylim(0, 100)
    left.set_ylabel("accuracy (%)")
    left.set_title("top-1: ours (solid) vs the paper (dashed)", fontsize=10)
    right.set_title("ours: top-1 / top-2 / top-3 (lighter)", fontsize=10)
    style.legend_below(left, ncol=2, fontsize=7)
    style.legend_below(right, ncol=3, fontsize=6.5)
    padding = (
        "count_padding=true: padded positions of the test batches counted, as the author's run"
        if count_padding
        else "count_padding=false: real characters only"
    )
    fig.suptitle(f"Accuracy given letters known ({padding})", fontsize=11)
    return style.save(fig, out_dir, name)


# ---- training curves ----------------------------------------------------------------------------


def training_curves(
    histories: Mapping[str, pd.DataFrame], out_dir: Path, name: str = "training_curves"
) -> list[Path]:
    """Train and validation loss per step for each model (two panels), the paper's final values
    marked as horizontal ticks at the right edge ("paper (14,278 steps)")."""
    import matplotlib.pyplot as plt
    from matplotlib import transforms

    style.setup()
    if not histories:
        raise ValueError("training_curves needs the history of at least one model")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained", sharey=True)
    panels = (("train_loss", "training loss (mean since the previous row)"),
              ("valid_loss", "validation loss"))  # fmt: skip
    for model in ordered_models(histories):
        history = histories[model]
        _require(history, HISTORY_COLUMNS, f"history of {model}")
        history = history.sort_values("step")
        label = f"{display(model)} (ours, {int(history['step'].max()):,} steps)"
        for ax, (column, _) in zip(axes, panels, strict=True):
            ax.plot(history["step"], history[column], "-", lw=1.3, color=color(model), label=label)
    for ax, (column, title) in zip(axes, panels, strict=True):
        edge = transforms.blended_transform_factory(ax.transAxes, ax.transData)
        for model in ordered_models(histories):
            value = ref.FINAL_LOSS.get(model, {}).get(column)
            if value is not None:
                ax.plot([1.0], [value], marker="_", ms=22, mew=3, color=color(model),
                        transform=edge, clip_on=False, zorder=6)  # fmt: skip
                ax.annotate(f"{value:.3f}", (1.0, value), xycoords=edge, xytext=(14, 0),
                            textcoords="offset points", va="center", fontsize=7,
                            color=color(model), annotation_clip=False)  # fmt: skip
        ax.plot([], [], ls="", marker="_", ms=14, mew=3, color="black", label=PAPER_STEPS_LABEL)
        ax.set_xlabel("optimizer step")
        ax.set_title(title, fontsize=10)
        style.legend_below(ax, ncol=2, fontsize=7.5)
    axes[0].set_ylabel("masked cross-entropy (nats)")
    fig.suptitle("Training curves; ticks at the right edge: the paper's final losses", fontsize=11)
    return style.save(fig, out_dir, name)


# ---- the autocomplete demo ----------------------------------------------------------------------


def demo_table(demo: pd.DataFrame) -> str:
    """HTML table: one row per character of the demo text, one column per model, each cell the
    top words (best first) with their probabilities after that character."""
    _require(demo, DEMO_COLUMNS, "autocomplete demo")
    models = ordered_models(demo["model"])
    first = demo[demo["model"] == models[0]].drop_duplicates("position").sort_values("position")
    characters = first.set_index("position")["character"]
    text = "".join(characters)
    head = "<tr><th>typed so far</th>" + "".join(
        f"<th>{html.escape(display(m))}</th>" for m in models
    )
    head += "</tr>"
    by_model = {m: demo[demo["model"] == m] for m in models}
    rows = []
    for index, position in enumerate(characters.index):
        typed = text[: index + 1].lstrip(" ")
        shown = html.escape(typed) + "<b>▏</b>" if typed else "<i>(the leading space)</i>"
        cells = []
        for model in models:
            part = by_model[model]
            top = part[part["position"] == position].sort_values("rank")
            cells.append(
                "<td>"
                + "<br>".join(
                    f"{html.escape(str(row.word))} <span class='prob'>{row.probability:.2f}</span>"
                    for row in top.itertuples()
                )
                + "</td>"
            )
        rows.append(f"<tr><td><code>{shown}</code></td>{''.join(cells)}</tr>")
    return f"<table class='text8-demo'>{head}{''.join(rows)}</table>"


# ---- all of them -------------------------------------------------------------------------------


FIGURES = ("test_table", "letters_known", "training_curves")


def draw_all(
    test: pd.DataFrame,
    letters: pd.DataFrame,
    histories: Mapping[str, pd.DataFrame],
    png: Sequence[Path],
    svg: Sequence[Path],
    table: Path,
    count_padding: bool = False,
) -> list[Path]:
    """test_table (PNG, SVG and its HTML `table`), letters_known and training_curves, at the
    given PNG and SVG files (one of each per name of FIGURES)."""
    folders = style.declared_folders([*png, *svg], FIGURES)
    paths = test_table(test, folders["test_table"], html_path=Path(table))
    paths += letters_known(letters, folders["letters_known"], count_padding=count_padding)
    paths += training_curves(histories, folders["training_curves"])
    return paths
