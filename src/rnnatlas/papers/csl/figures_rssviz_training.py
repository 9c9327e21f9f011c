"""The animated RSSviz across training: a GIF and a static film strip, from frames.parquet."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.figures import style
from rnnatlas.io import atomic_path
from rnnatlas.papers.csl.figures_rssviz import ACTIVATION_RANGE

FRAME_MS = 800  # display time of one frame in the GIF


def _caption(errors: pd.DataFrame, frame: int) -> str:
    row = errors[errors["frame"] == frame]
    if row.empty:
        return ""
    row = row.iloc[0]
    for valid, exact, where in (
        ("valid_error", "exact_error", "test"),
        ("val_valid_error", "val_exact_error", "validation"),
    ):
        if valid in row and pd.notna(row.get(valid)):
            return f"{where} error: valid {100 * row[valid]:.1f} %, exact {100 * row[exact]:.1f} %"
    return ""


def _draw_frame(frames: pd.DataFrame, errors: pd.DataFrame, frame: int, unit: str, title: str):
    import matplotlib.pyplot as plt

    part = frames[frames["frame"] == frame]
    outputs = list(dict.fromkeys(frames["output"]))
    fig, axes = plt.subplots(1, len(outputs), figsize=(5.6 * len(outputs), 5.2), squeeze=False,
                             layout="constrained")  # fmt: skip
    limits = (frames["x"].min(), frames["x"].max(), frames["y"].min(), frames["y"].max())
    low, high = ACTIVATION_RANGE
    for ax, label in zip(axes[0], outputs, strict=True):
        points = part[part["output"] == label]
        order = np.argsort(points["activation"].to_numpy())
        sc = ax.scatter(points["x"].to_numpy()[order], points["y"].to_numpy()[order],
                        c=points["activation"].to_numpy()[order], cmap="inferno", vmin=low,
                        vmax=high, s=7, linewidths=0)  # fmt: skip
        pad_x, pad_y = 0.05 * (limits[1] - limits[0]), 0.05 * (limits[3] - limits[2])
        ax.set_xlim(limits[0] - pad_x, limits[1] + pad_x)
        ax.set_ylim(limits[2] - pad_y, limits[3] + pad_y)
        ax.set_title(f"output {label}", fontsize=10)
        ax.set_xlabel("UMAP 1")
        ax.set_ylabel("UMAP 2")
    fig.colorbar(sc, ax=axes[0].tolist(), shrink=0.85, label="activation")
    stage = int(part["stage"].iloc[0])
    fig.suptitle(f"{title}: after {stage} {unit}   {_caption(errors, frame)}", fontsize=11)
    return fig


def draw_animation(
    frames: pd.DataFrame, errors: pd.DataFrame, unit: str, title: str, out_dir: Path, name: str
) -> list[Path]:
    """{name}.gif (every frame) and {name}.png/.svg (four frames side by side, first output)."""
    import matplotlib.pyplot as plt
    from PIL import Image

    style.setup()
    out_dir.mkdir(parents=True, exist_ok=True)
    images = []
    for frame in sorted(frames["frame"].unique()):
        fig = _draw_frame(frames, errors, frame, unit, title)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        plt.close(fig)
        buffer.seek(0)
        images.append(Image.open(buffer).convert("RGB"))
    gif = out_dir / f"{name}.gif"
    # palette images keep the file small; the last frame is held longer
    palette = [im.quantize(colors=128, method=Image.Quantize.MEDIANCUT) for im in images]
    durations = [FRAME_MS] * (len(palette) - 1) + [3 * FRAME_MS]
    with atomic_path(gif) as tmp:
        palette[0].save(
            tmp, format="GIF", save_all=True, append_images=palette[1:], duration=durations, loop=0
        )
    return [gif, *film_strip(frames, errors, unit, title, out_dir, name)]


def film_strip(
    frames: pd.DataFrame, errors: pd.DataFrame, unit: str, title: str, out_dir: Path, name: str
) -> list[Path]:
    import matplotlib.pyplot as plt

    stages = sorted(frames["frame"].unique())
    picks = sorted({stages[round(i * (len(stages) - 1) / 3)] for i in range(4)})
    label = frames["output"].iloc[0]
    fig, axes = plt.subplots(1, len(picks), figsize=(4 * len(picks), 4.2), layout="constrained",
                             squeeze=False)  # fmt: skip
    low, high = ACTIVATION_RANGE
    for ax, frame in zip(axes[0], picks, strict=True):
        part = frames[(frames["frame"] == frame) & (frames["output"] == label)]
        order = np.argsort(part["activation"].to_numpy())
        sc = ax.scatter(part["x"].to_numpy()[order], part["y"].to_numpy()[order],
                        c=part["activation"].to_numpy()[order], cmap="inferno", vmin=low,
                        vmax=high, s=5, linewidths=0)  # fmt: skip
        ax.set_title(f"after {int(part['stage'].iloc[0])} {unit}\n{_caption(errors, frame)}",
                     fontsize=8)  # fmt: skip
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(sc, ax=axes[0].tolist(), shrink=0.8, label=f"activation of {label}")
    fig.suptitle(f"{title}: RSSviz across training", fontsize=11)
    return style.save(fig, out_dir, name)
