"""Figures and the error/time table of the CSL paper (Variengien & Hinaut 2020, Juven & Hinaut)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from rnnatlas.figures import style
from rnnatlas.io import atomic_path, read_parquet
from rnnatlas.papers.csl import reference

ERRORS = (("valid_error", "valid error (%)"), ("exact_error", "exact error (%)"))
# the figures draw_all writes, each as name.png and name.svg
FIGURES = ("errors_vs_objects", "esn_vs_units", "esn_vs_sentences", "learning_curves")


def _mean_sd(frame: pd.DataFrame, by: str | list[str], column: str) -> pd.DataFrame:
    grouped = frame.groupby(by)[column]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    out["std"] = out["std"].fillna(0.0)
    return out


def _errorbar(
    ax, frame: pd.DataFrame, x: str, column: str, label: str, color: str, scale=100.0, ls="-"
):
    stats = _mean_sd(frame, x, column)
    ax.errorbar(
        stats[x],
        stats["mean"] * scale,
        yerr=stats["std"] * scale,
        marker="o",
        ms=4,
        capsize=3,
        lw=1.5,
        ls=ls,
        color=color,
        label=label,
    )


def _paper_points(ax, points: Mapping[int, tuple[float, float]], which: int, label: str) -> None:
    xs = sorted(points)
    ax.scatter(xs, [points[x][which] for x in xs], label=label, **style.PAPER_MARKER)


PAPER_LABEL = "Juven & Hinaut 2020 (their protocol)"


def errors_vs_objects(runs: pd.DataFrame, out_dir: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    juven = {**reference.JUVEN_OBJECTS, 4: reference.JUVEN_MAIN["esn"]}
    juven_runs = runs[runs["protocol"] == "juven"]  # csl.juven.model, the only ESN run there
    runs = runs[runs["protocol"] == "variengien"]
    for ax, (column, _) in zip(axes[:2], ERRORS, strict=True):
        if len(juven_runs):
            label = "esn, Juven's protocol"
            _errorbar(ax, juven_runs, "n_objects", column, label, "#999999", ls="--")
    for model, frame in runs.groupby("model"):
        for ax, (column, title) in zip(axes[:2], ERRORS, strict=True):
            _errorbar(ax, frame, "n_objects", column, model, style.color(model))
            ax.set_title(title)
        _errorbar(axes[2], frame, "n_objects", "cpu_time_s", model, style.color(model), scale=1)
    for which, ax in enumerate(axes[:2]):
        _paper_points(ax, juven, which, f"ESN, {PAPER_LABEL}")
    axes[2].set_title("training CPU time (s)")
    axes[2].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("objects in the corpus")
        ax.set_xscale("log")
        ticks = sorted(runs["n_objects"].unique())
        ax.set_xticks(ticks, [str(t) for t in ticks], minor=False)
        ax.minorticks_off()
    axes[0].legend(frameon=False, fontsize=8)
    fig.suptitle("CSL: error and training time versus number of objects (mean ± sd over seeds)")
    return style.save(fig, out_dir, "errors_vs_objects")


def esn_sweep(frame: pd.DataFrame, out_dir: Path, sweep: str) -> list[Path]:
    import matplotlib.pyplot as plt

    points = reference.JUVEN_UNITS if sweep == "units" else reference.JUVEN_SENTENCES
    xlabel = "reservoir units" if sweep == "units" else "training sentences"
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for which, (ax, (column, title)) in enumerate(zip(axes, ERRORS, strict=True)):
        _errorbar(ax, frame, "value", column, "ESN (online), Juven's protocol", style.color("esn"))
        _paper_points(ax, points, which, PAPER_LABEL)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        style.percent_symlog(ax)  # errors reach exactly 0: linear below 1 %
    axes[1].legend(frameon=False, loc="upper right", fontsize=9)
    fig.suptitle(f"ESN error versus {xlabel} (4 objects, Juven's protocol, mean ± sd over seeds)")
    return style.save(fig, out_dir, f"esn_vs_{sweep}")


def learning_curves(histories: Mapping[str, list[pd.DataFrame]], out_dir: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    drew = [False, False]
    for model, frames in sorted(histories.items()):
        frames = [f for f in frames if len(f)]
        if not frames:
            continue
        joined = pd.concat(frames, keys=range(len(frames)), names=["run"]).reset_index("run")
        x = "epoch" if "epoch" in joined.columns else "sentences_seen"
        ax = axes[0] if x == "epoch" else axes[1]
        drew[0 if x == "epoch" else 1] = True
        for column, dash in (("val_valid_error", "-"), ("val_exact_error", "--")):
            stats = _mean_sd(joined, x, column)
            ax.plot(stats[x], stats["mean"] * 100, dash, color=style.color(model),
                    label=f"{model} {column.split('_')[1]}")  # fmt: skip
            ax.fill_between(stats[x], (stats["mean"] - stats["std"]) * 100,
                            (stats["mean"] + stats["std"]) * 100,
                            color=style.color(model), alpha=0.15, lw=0)  # fmt: skip
    axes[0].set_xlabel("epoch")
    axes[0].set_title("LSTM: validation error (%) per epoch")
    axes[1].set_xlabel("training sentences seen")
    axes[1].set_title("online ESN: validation error (%)")
    for ax, has in zip(axes, drew, strict=True):
        style.percent_symlog(ax)  # errors reach exactly 0: linear below 1 %
        if has:
            ax.legend(frameon=False, fontsize=8)
        else:
            ax.text(0.5, 0.5, "no run of this kind", ha="center", transform=ax.transAxes)
    return style.save(fig, out_dir, "learning_curves")


def error_table(runs: pd.DataFrame, bow: pd.DataFrame, n_objects: int) -> pd.DataFrame:
    """One row per model at the main corpus size: mean ± sd of each metric, Juven's numbers."""
    main = runs[(runs["n_objects"] == n_objects) & (runs["protocol"] == "variengien")]
    rows = []
    for model, frame in main.groupby("model", sort=False):
        rows.append(_table_row(model, frame, reference.JUVEN_MAIN.get(model)))
    bow_main = bow[bow["n_objects"] == n_objects] if "n_objects" in bow else bow
    if len(bow_main):
        rows.append(_table_row("bag_of_words", bow_main, None))
    return pd.DataFrame(rows)


def _fmt(values: pd.Series, scale: float = 1.0, digits: int = 2) -> str:
    values = values.dropna() * scale
    if values.empty:
        return "–"
    if len(values) == 1:
        return f"{values.iloc[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def _table_row(model: str, frame: pd.DataFrame, juven: tuple[float, float] | None) -> dict:
    params = frame["trainable_parameters"].iloc[0] if "trainable_parameters" in frame else None
    return {
        "model": model,
        "runs": len(frame),
        "valid error (%)": _fmt(frame["valid_error"], 100),
        "exact error (%)": _fmt(frame["exact_error"], 100),
        "RMSE": _fmt(frame["rmse"], 1, 4),
        "training CPU time (s)": _fmt(frame["cpu_time_s"]) if "cpu_time_s" in frame else "–",
        "trainable parameters": "–" if params is None or pd.isna(params) else f"{int(params):,}",
        "Juven valid / exact (%)": f"{juven[0]:.2f} / {juven[1]:.2f}" if juven else "–",
    }


def _histories(paths: Sequence[Path]) -> dict[str, list[pd.DataFrame]]:
    grouped: dict[str, list[pd.DataFrame]] = {}
    for path in paths:
        model = Path(path).parent.parent.name  # results/models/{dataset}/{model}/seed{s}/...
        grouped.setdefault(model, []).append(read_parquet(path))
    return grouped


def draw_all(
    runs_path: Path,
    units_path: Path,
    sentences_path: Path,
    bow_path: Path,
    history_paths: Sequence[Path],
    out_dir: Path,
    table_csv: Path,
    table_html: Path,
    n_objects: int | None = None,
) -> list[Path]:
    """The figures (`FIGURES`, PNG + SVG in out_dir) and the error table (CSV and HTML)."""
    style.setup()
    runs = read_parquet(runs_path)
    bow = read_parquet(bow_path)
    if n_objects is None:
        n_objects = int(bow["n_objects"].iloc[0]) if len(bow) else int(runs["n_objects"].min())
    paths = errors_vs_objects(runs, out_dir)
    paths += esn_sweep(read_parquet(units_path), out_dir, "units")
    paths += esn_sweep(read_parquet(sentences_path), out_dir, "sentences")
    paths += learning_curves(_histories(history_paths), out_dir)
    table = error_table(runs, bow, n_objects)
    with atomic_path(table_csv) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(table_html) as tmp:
        tmp.write_text(table.to_html(index=False, classes="table", border=0))
    return [*paths, Path(table_csv), Path(table_html)]


__all__ = [
    "FIGURES",
    "draw_all",
    "error_table",
    "errors_vs_objects",
    "esn_sweep",
    "learning_curves",
]
