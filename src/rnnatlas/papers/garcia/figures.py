"""Static figures of Garcia et al.'s views, from a use case's views.parquet and projection.parquet:
the projection with trajectories, time x class heatmaps of correct and misclassified documents,
distance bars, text colored by the expected prediction, and the confusion matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.figures import style
from rnnatlas.io import parquet_metadata, read_parquet

FLAGS = ("distance_jump", "confidence_change", "argmax_flip")
MAX_WORDS = 60  # words per document in the heatmaps and bars (the first ones)


def classes_of(views: pd.DataFrame) -> list[str]:
    return [column[3:] for column in views.columns if column.startswith("ep_")]


def _colors(classes) -> dict[str, tuple]:
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("tab10")
    return {name: cmap(index % 10) for index, name in enumerate(classes)}


def final_steps(views: pd.DataFrame) -> pd.DataFrame:
    """The last row of every sequence: its prediction, and its true class when known."""
    return views.sort_values(["sequence_id", "t"]).groupby("sequence_id").tail(1)


def _documents(views: pd.DataFrame, correct: bool, count: int) -> list[int]:
    last = final_steps(views)
    if "target" not in last:
        return last["sequence_id"].head(count).tolist() if correct else []
    right = last["argmax"] == last["target"]
    chosen = last[right if correct else ~right]
    return chosen["sequence_id"].head(count).tolist()


def projection_figure(
    views, projection, out_dir: Path, name: str = "projection", traced=4, method="projection"
):
    """All projected states colored by the argmax class (opacity: confidence), with the
    trajectories of `traced` documents (line width growing with time)."""
    import matplotlib.pyplot as plt

    style.setup()
    classes = classes_of(views)
    colors = _colors(classes)
    table = views.merge(projection, on=["sequence_id", "t"]).dropna(subset=["x", "y"])
    fig, ax = plt.subplots(figsize=(7.2, 6.0), layout="constrained")
    rgba = np.array([colors[c] for c in table["argmax"]])
    rgba[:, 3] = 0.15 + 0.6 * (table["confidence"].to_numpy() - 1 / len(classes)) / (
        1 - 1 / len(classes)
    )
    ax.scatter(table["x"], table["y"], s=6, c=rgba.clip(0, 1), linewidths=0)
    for sequence_id in table["sequence_id"].drop_duplicates().head(traced):
        path = table[table["sequence_id"] == sequence_id].sort_values("t")
        widths = np.linspace(0.5, 2.5, max(len(path) - 1, 1))
        for (x0, y0, x1, y1), width in zip(
            zip(path["x"][:-1], path["y"][:-1], path["x"][1:], path["y"][1:], strict=True),
            widths,
            strict=False,
        ):
            ax.plot([x0, x1], [y0, y1], color="#333333", lw=width, alpha=0.7)
        ax.annotate(f"#{sequence_id}", (path["x"].iloc[-1], path["y"].iloc[-1]), fontsize=7)
    handles = [plt.Line2D([], [], ls="", marker="o", color=colors[c], label=c) for c in classes]
    style.legend_below(ax, handles=handles, ncol=min(len(classes), 5))
    ax.set_title(f"Hidden states after every step ({method}); lines: {traced} sequences")
    ax.set_xticks([])
    ax.set_yticks([])
    return style.save(fig, out_dir, name)


def heatmaps_figure(views: pd.DataFrame, out_dir: Path, name: str = "heatmaps", per_kind=2):
    """Expected prediction of every class (rows) after every word (columns), plus the argmax row,
    for `per_kind` correctly and `per_kind` wrongly classified documents."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    style.setup()
    classes = classes_of(views)
    chosen = [(s, "correct") for s in _documents(views, True, per_kind)]
    chosen += [(s, "misclassified") for s in _documents(views, False, per_kind)]
    rows = max(len(chosen), 1)
    fig, axes = plt.subplots(rows, 1, figsize=(11, 1.2 + 0.45 * (len(classes) + 1) * rows),
                             squeeze=False, layout="constrained")  # fmt: skip
    palette = ListedColormap([_colors(classes)[c] for c in classes])
    if not chosen:
        axes[0, 0].text(0.5, 0.5, "no documents", ha="center", transform=axes[0, 0].transAxes)
    for ax, (sequence_id, kind) in zip(axes[:, 0], chosen, strict=False):
        doc = views[views["sequence_id"] == sequence_id].sort_values("t").head(MAX_WORDS)
        values = doc[[f"ep_{c}" for c in classes]].to_numpy().T
        image = ax.imshow(values, aspect="auto", cmap="viridis", vmin=0, vmax=1,
                          extent=(-0.5, len(doc) - 0.5, len(classes) + 0.5, 0.5))  # fmt: skip
        winners = np.array([classes.index(c) for c in doc["argmax"]])[None, :]
        below = (-0.5, len(doc) - 0.5, len(classes) + 1.5, len(classes) + 0.5)
        ax.imshow(winners, aspect="auto", cmap=palette, vmin=-0.5, vmax=len(classes) - 0.5,
                  extent=below)  # fmt: skip
        ax.set_ylim(len(classes) + 1.5, 0.5)
        ax.grid(False)
        ax.set_yticks(range(1, len(classes) + 2), [*classes, "argmax"], fontsize=7)
        ax.set_xticks(range(len(doc)), doc["token"].astype(str), rotation=90, fontsize=6)
        target = doc["target"].iloc[0] if "target" in doc else "?"
        ax.set_title(f"document #{sequence_id} ({kind}): true {target}, predicted "
                     f"{doc['argmax'].iloc[-1]}", fontsize=8, loc="left")  # fmt: skip
    if chosen:
        fig.colorbar(image, ax=axes[:, 0], label="expected prediction", shrink=0.6)
        handles = [plt.Rectangle((0, 0), 1, 1, color=_colors(classes)[c], label=c)
                   for c in classes]  # fmt: skip
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(classes), 6),
                   fontsize=7, title="argmax row", frameon=False)  # fmt: skip
    return style.save(fig, out_dir, name)


def distances_figure(views: pd.DataFrame, out_dir: Path, name: str = "distances", documents=3):
    """Per word of a few documents: the distance from the previous state (global-max normalised),
    bars colored by the argmax class; the jump threshold dashed."""
    import matplotlib.pyplot as plt

    style.setup()
    classes = classes_of(views)
    colors = _colors(classes)
    chosen = views["sequence_id"].drop_duplicates().head(documents).tolist()
    fig, axes = plt.subplots(len(chosen), 1, figsize=(11, 2.0 * len(chosen) + 0.6),
                             squeeze=False, layout="constrained")  # fmt: skip
    for ax, sequence_id in zip(axes[:, 0], chosen, strict=True):
        doc = views[views["sequence_id"] == sequence_id].sort_values("t").head(MAX_WORDS)
        ax.bar(range(len(doc)), doc["distance"].fillna(0.0),
               color=[colors[c] for c in doc["argmax"]])  # fmt: skip
        ax.axhline(0.40, color="#555555", ls="--", lw=0.8)
        ax.set_ylim(0, 1.05)
        ax.set_xticks(range(len(doc)), doc["token"].astype(str), rotation=90, fontsize=6)
        ax.set_ylabel("distance / max", fontsize=7)
        ax.set_title(f"document #{sequence_id}", fontsize=8, loc="left")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[c], label=c) for c in classes]
    handles.append(plt.Line2D([], [], color="#555555", ls="--", label="jump filter (0.40)"))
    style.legend_below(axes[-1, 0], handles=handles, ncol=min(len(handles), 6))
    return style.save(fig, out_dir, name)


TEXT_POINTS = 8.0  # font size of the text figure; a monospace character is 0.6 of it wide


def text_figure(views: pd.DataFrame, out_dir: Path, name: str = "text", documents=6, width=150):
    """Documents as text, every word on a box colored by its argmax class with the confidence
    as opacity; words any filter flags are underlined."""
    import matplotlib.pyplot as plt

    style.setup()
    classes = classes_of(views)
    colors = _colors(classes)
    chosen = views["sequence_id"].drop_duplicates().head(documents).tolist()
    lines = []  # (y, x, word, color, alpha, flagged)
    y = 0
    for sequence_id in chosen:
        doc = views[views["sequence_id"] == sequence_id].sort_values("t").head(MAX_WORDS * 2)
        target = doc["target"].iloc[0] if "target" in doc else "?"
        lines.append((y, 0, f"#{sequence_id} (true {target}):", None, 0, False))
        y += 1
        x = 0
        for row in doc.itertuples():
            word = str(row.token)
            if x + len(word) > width:
                x, y = 0, y + 1
            flagged = any(getattr(row, flag) for flag in FLAGS)
            lines.append((y, x, word, colors[row.argmax], row.confidence, flagged))
            x += len(word) + 1
        y += 2
    # one data unit = one monospace character: the axes are `width` characters wide
    inches = width * 0.6 * TEXT_POINTS / 72
    fig = plt.figure(figsize=(inches + 0.4, 0.2 * y + 0.9))
    ax = fig.add_axes((0.2 / (inches + 0.4), 0.6 / (0.2 * y + 0.9), inches / (inches + 0.4),
                       0.2 * y / (0.2 * y + 0.9)))  # fmt: skip
    ax.set_xlim(0, width)
    ax.set_ylim(y, -1)
    ax.axis("off")
    for line, x, word, color, alpha, flagged in lines:
        box = None if color is None else {"boxstyle": "square,pad=0.1", "lw": 0,
                                          "fc": (*color[:3], 0.15 + 0.6 * alpha)}  # fmt: skip
        ax.text(x, line, word, family="monospace", fontsize=TEXT_POINTS, va="center", bbox=box,
                fontweight="bold" if color is None else "normal")  # fmt: skip
        if flagged:
            ax.plot([x, x + len(word)], [line + 0.4, line + 0.4], color="black", lw=0.8)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[c], alpha=0.6, label=c) for c in classes]
    handles.append(plt.Line2D([], [], color="black", lw=0.8, label="flagged by a filter"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=7,
               frameon=False)  # fmt: skip
    fig.suptitle("Text colored by the expected prediction after each word", fontsize=9)
    return style.save(fig, out_dir, name)


def confusion_figure(views: pd.DataFrame, out_dir: Path, name: str = "confusion"):
    """Counts of (true class, predicted class) of the shown sequences, the prediction being the
    expected prediction after their last step."""
    import matplotlib.pyplot as plt

    style.setup()
    classes = classes_of(views)
    last = final_steps(views)
    fig, ax = plt.subplots(figsize=(1.2 + 0.6 * len(classes), 1.0 + 0.6 * len(classes)),
                           layout="constrained")  # fmt: skip
    if "target" not in last:
        ax.text(0.5, 0.5, "no true classes in the states file", ha="center")
        return style.save(fig, out_dir, name)
    counts = pd.crosstab(pd.Categorical(last["target"], classes),
                         pd.Categorical(last["argmax"], classes), dropna=False)  # fmt: skip
    ax.imshow(counts.to_numpy(), cmap="Blues")
    for (row, column), value in np.ndenumerate(counts.to_numpy()):
        ax.text(column, row, str(value), ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = float(np.mean(last["argmax"].to_numpy() == last["target"].to_numpy()))
    ax.set_title(f"{len(last)} shown sequences: accuracy {100 * accuracy:.1f} %", fontsize=9)
    return style.save(fig, out_dir, name)


def draw_all(views_path: Path, projection_path: Path, out_dir: Path) -> list[Path]:
    """Every figure of one use case (name.png and name.svg in out_dir)."""
    views, projection = read_parquet(views_path), read_parquet(projection_path)
    method = parquet_metadata(projection_path).get("projection", {}).get("method", "projection")
    out_dir = Path(out_dir)
    paths = projection_figure(views, projection, out_dir, method=method)
    paths += heatmaps_figure(views, out_dir)
    paths += distances_figure(views, out_dir)
    paths += text_figure(views, out_dir)
    paths += confusion_figure(views, out_dir)
    return paths
