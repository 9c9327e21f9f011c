"""Shared look of every figure: seaborn paper context, PNG + SVG side by side."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: figures are files, never windows
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from rnnatlas.io import atomic_path  # noqa: E402

MODEL_COLORS = {
    "esn": "#1b9e77",
    "esn_offline": "#66a61e",
    "esn_continuous": "#7570b3",
    "lstm": "#d95f02",
    "bag_of_words": "#666666",
}
PAPER_MARKER = {"marker": "X", "s": 70, "color": "black", "zorder": 5}


def setup() -> None:
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 200, "svg.fonttype": "none"})


def color(model: str) -> str:
    return MODEL_COLORS.get(model, "#444444")


def legend_below(ax, ncol: int = 3, fontsize: float = 8, handles=None) -> None:
    """The axes' legend (or one of `handles`) under it, outside the data (with a constrained or
    tight layout)."""
    extra = {} if handles is None else {"handles": handles}
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol, frameon=False,
              fontsize=fontsize, **extra)  # fmt: skip


def percent_symlog(ax) -> None:
    """A y axis for error rates that reach exactly 0: linear below 1 %, logarithmic above, with
    ticks at 1-2-(3)-5 of every decade labelled in plain numbers (not only the decades)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter

    ax.set_yscale("symlog", linthresh=1.0)
    ticks = [0, 0.5, 1, 2, 3, 5, 10, 20, 30, 50, 100]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def declared_folders(
    files: Sequence[Path], names: Sequence[str] | None = None, exts: Sequence[str] = ("png", "svg")
) -> dict[str, Path]:
    """{figure name: its folder} of a rule's declared figure files.

    The drawing functions write `folder/name.ext` (:func:`save`); this checks that those are
    exactly the files the rule declares (one per extension in `exts` for every figure, side by
    side, and for each of `names` when given), so the rule stays the one place that names them.
    """
    files = [Path(f) for f in files]
    folders = {path.stem: path.parent for path in files}
    expected = {folder / f"{name}.{ext}" for name, folder in folders.items() for ext in exts}
    if set(files) != expected or len(files) != len(expected):
        raise ValueError(f"expected {', '.join(exts)} files of each figure side by side: {files}")
    if names is not None and sorted(folders) != sorted(names):
        raise ValueError(f"expected the figures {sorted(names)}, the rule declares {files}")
    return folders


# A PNG wider or taller than this is drawn at a lower resolution; the SVG keeps every detail.
MAX_PNG_PIXELS = 3200


def save(fig, out_dir: Path, name: str) -> list[Path]:
    """Write name.png and name.svg atomically (rnnatlas.io.atomic_path); the PNG at most
    MAX_PNG_PIXELS on its longer side."""
    paths = []
    longest = max(fig.get_size_inches())
    dpi = min(float(plt.rcParams["savefig.dpi"]), MAX_PNG_PIXELS / longest)
    for ext in ("png", "svg"):
        final = Path(out_dir) / f"{name}.{ext}"
        with atomic_path(final) as tmp:
            metadata = {"Date": None} if ext == "svg" else None
            fig.savefig(tmp, format=ext, bbox_inches="tight", metadata=metadata, dpi=dpi)
        paths.append(final)
    plt.close(fig)
    return paths
