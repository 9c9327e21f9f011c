"""Figures of the memory signatures (Koppula, Sim & Chin 2018), drawn from the signature tables.

A signature table holds the rows of `rnnatlas.analysis.memory_signature` (decoder, lag,
accuracy, cross_entropy, chance_majority, chance_entropy, r2, squared_correlation, n_train,
n_test) with three more columns naming what was decoded: `family` (csl, mnist, text8), `model`
(esn, lstm, rnn, lowrank, gru, nlstm, ngram3, ...) and `state` (x, h0, c0, h1, c0_inner,
u_coords, v_coords, window, ...). One signature is the rows of one (family, model, state).

Memory area (`rnnatlas.analysis.memory_signature.signature_area`). A signature's area above
chance is

    area = sum over lags k = 0..K of max(0, accuracy_k - chance_majority_k),

in "lags of perfect recall above chance": a state that recalls the last m inputs perfectly and
nothing older scores m (1 - chance); one at chance at every lag scores 0. It depends on the
largest lag K decoded (reported beside it). Its memory length is the last lag whose accuracy
exceeds chance by more than ABOVE_CHANCE (0.02), or none when no lag does. A signature from the
"linear" decoder has no accuracy: its area is the sum of the squared correlations instead
(Jaeger's memory capacity, over lags 0..K, chance 0) and its length the last lag whose squared
correlation exceeds 0.02; the `measure` column says which.

Long because the five signature figures share one layout and one area table; the metric
itself lives in rnnatlas.analysis.memory_signature.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.analysis.memory_signature import (
    ABOVE_CHANCE,
    excess_over_chance,
    signature_area,
    signature_measure,
)
from rnnatlas.figures import style
from rnnatlas.io import atomic_path

KEYS = ("family", "model", "state")
SIGNATURE_COLUMNS = (*KEYS, "decoder", "lag", "accuracy", "chance_majority")
DECODER_ORDER = ("logistic", "mlp", "linear")
FAMILIES = ("csl", "mnist", "text8")
FAMILY_TITLE = {
    "csl": "CSL language task (Variengien & Hinaut 2020 models)",
    "mnist": "sequential MNIST (dense and low-rank RNN)",
    "text8": "text8 characters (autocomplete models and n-gram baselines)",
}
MODEL_ORDER = ("esn", "rnn", "lowrank", "gru", "lstm", "nlstm")
MODEL_NAMES = {
    "esn": "ESN",
    "lstm": "LSTM",
    "rnn": "RNN",
    "lowrank": "low-rank RNN",
    "gru": "GRU",
    "nlstm": "Nested LSTM",
}
COLORS = {
    "esn": "#1b9e77",
    "lstm": "#d95f02",
    "rnn": "#e7298a",
    "lowrank": "#1f78b4",
    "gru": "#66a61e",
    "nlstm": "#7570b3",
}
NGRAM_COLORS = ("#a6761d", "#e6ab02", "#3b3b3b", "#b15928", "#8c8c2e")  # n = 3, 4, 5, ...
STATE_NAMES = {
    "x": "reservoir x",
    "window": "window",
    "u_coords": "U basis",
    "v_coords": "V basis",
    "c0_inner": "inner c0",
}
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)))
MARKERS = ("o", "^", "s", "D", "v", "P")
CHANCE_STYLE = {"color": "#8c8c8c", "ls": (0, (4, 3)), "lw": 1.3}
_NGRAM = re.compile(r"^ngram(\d+)$")
_HIDDEN = re.compile(r"^h(\d+)$")


# ---- names ---------------------------------------------------------------------------------------


def ngram_order(model: str) -> int | None:
    """n of an n-gram baseline named "ngram{n}", else None."""
    match = _NGRAM.match(str(model))
    return int(match.group(1)) if match else None


def top_layer_h(states: Sequence[str]) -> str | None:
    """The hidden state of the highest layer among names "h0", "h1", ... (None if none)."""
    layers = [(int(m.group(1)), s) for s in states if (m := _HIDDEN.match(str(s)))]
    return max(layers)[1] if layers else None


def ngram_state(states) -> str:
    """The state of an n-gram baseline: "window" when present, else the first name."""
    states = sorted(set(map(str, states)))
    return "window" if "window" in states else states[0]


def display_model(model: str) -> str:
    n = ngram_order(model)
    return f"{n}-gram" if n is not None else MODEL_NAMES.get(model, model)


def display_state(state: str) -> str:
    return STATE_NAMES.get(state, state)


def label(model: str, state: str) -> str:
    if ngram_order(model) is not None and state == "window":
        return display_model(model)
    return f"{display_model(model)} {display_state(state)}"


def ordered_models(models) -> list[str]:
    """Known recurrent models first (MODEL_ORDER), then others by name, n-grams last by n."""
    models = list(dict.fromkeys(str(m) for m in models))
    grams = sorted((m for m in models if ngram_order(m) is not None), key=ngram_order)
    known = [m for m in MODEL_ORDER if m in models]
    others = sorted(m for m in models if m not in known and m not in grams)
    return known + others + grams


def _state_key(state: str) -> tuple:
    """h0, c0, h1, c1, ... in layer order, then every other name alphabetically."""
    match = re.match(r"^([a-z]+)(\d+)(.*)$", state)
    if match:
        return (0, int(match.group(2)), match.group(1) != "h", match.group(3), state)
    return (1, 0, False, "", state)


def color(model: str) -> str:
    n = ngram_order(model)
    if n is not None:
        return NGRAM_COLORS[(n - 3) % len(NGRAM_COLORS)]
    return COLORS.get(model, "#444444")


# ---- tables --------------------------------------------------------------------------------------


def require(table: pd.DataFrame, columns: Sequence[str] = SIGNATURE_COLUMNS) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"the memory signature table lacks column(s) {missing}; it needs "
            f"{', '.join(columns)} (memory_signature's columns plus family, model, state)"
        )


def select_decoder(table: pd.DataFrame, preferred: str | None = None) -> pd.DataFrame:
    """The rows of one decoder when a table holds several: `preferred` if present, else the
    first of DECODER_ORDER present."""
    decoders = list(dict.fromkeys(table["decoder"].dropna())) if "decoder" in table else []
    if len(decoders) <= 1:
        return table
    ranking = [preferred, *DECODER_ORDER] if preferred else list(DECODER_ORDER)
    chosen = next((d for d in ranking if d in decoders), sorted(decoders)[0])
    return table[table["decoder"] == chosen]


measure_of = signature_measure  # the names the claims and sections use
above_chance = excess_over_chance


def memory_area(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (family, model, state, decoder): measure, area above chance, memory length,
    max_lag and chance, as `rnnatlas.analysis.memory_signature.signature_area` computes them
    (see the module docstring), in display order."""
    require(table)
    rows = []
    for keys, part in table.groupby([*KEYS, "decoder"], sort=False, dropna=False):
        keyed = dict(zip((*KEYS, "decoder"), keys, strict=True))
        rows.append({**keyed, **signature_area(part, ABOVE_CHANCE)})
    columns = [*KEYS, "decoder", "measure", "area", "memory_length", "max_lag", "chance"]
    family_rank = {f: i for i, f in enumerate(FAMILIES)}
    model_rank = {m: i for i, m in enumerate(ordered_models(r["model"] for r in rows))}
    rows.sort(
        key=lambda r: (
            family_rank.get(r["family"], len(family_rank)),
            str(r["family"]),
            model_rank[str(r["model"])],
            _state_key(str(r["state"])),
            str(r["decoder"]),
        )
    )
    frame = pd.DataFrame(rows, columns=columns)
    frame["memory_length"] = frame["memory_length"].astype("Int64")
    return frame.reset_index(drop=True)


def area_table_html(table: pd.DataFrame) -> str:
    """memory_area as an HTML table fragment."""
    areas = memory_area(table)
    head = (
        "<tr><th>family</th><th>model</th><th>state</th><th>decoder</th>"
        "<th>area above chance</th><th>memory length (lags)</th><th>max lag</th>"
        "<th>mean chance</th></tr>"
    )
    rows = []
    for row in areas.itertuples():
        linear = row.measure == "squared_correlation"
        area = f"{row.area:.3f}" + (" (Σ squared corr.)" if linear else "")
        length = "–" if pd.isna(row.memory_length) else str(int(row.memory_length))
        chance = "–" if linear or pd.isna(row.chance) else f"{row.chance:.3f}"
        rows.append(
            f"<tr><td>{html.escape(str(row.family))}</td>"
            f"<td>{html.escape(display_model(row.model))}</td>"
            f"<td>{html.escape(str(row.state))}</td><td>{html.escape(str(row.decoder))}</td>"
            f"<td>{area}</td><td>{length}</td><td>{row.max_lag}</td><td>{chance}</td></tr>"
        )
    return f"<table class='memory-area'>{head}{''.join(rows)}</table>"


# ---- drawing -------------------------------------------------------------------------------------


def _series(table: pd.DataFrame) -> list[tuple[str, str]]:
    """(model, state) pairs in display order."""
    pairs = table[["model", "state"]].drop_duplicates()
    result = []
    for model in ordered_models(pairs["model"]):
        states = pairs.loc[pairs["model"] == model, "state"].astype(str)
        result += [(model, s) for s in sorted(states, key=_state_key)]
    return result


def _line_styles(series: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """Colour by model, line style and marker by the state's rank within its model."""
    styles, rank = {}, {}
    for model, state in series:
        i = rank.get(model, 0)
        rank[model] = i + 1
        styles[(model, state)] = {
            "color": color(model),
            "ls": LINESTYLES[i % len(LINESTYLES)],
            "marker": MARKERS[i % len(MARKERS)],
        }
    return styles


def _markevery(lags: int) -> int:
    return max(1, round(lags / 12))


def _chance_curves(table: pd.DataFrame, column: str) -> list[pd.Series]:
    """The distinct per-lag curves of a chance column (one per model, merged within 0.005)."""
    curves: list[pd.Series] = []
    for _, part in table.groupby("model", sort=False):
        curve = part.groupby("lag")[column].mean().dropna()
        if curve.empty:
            continue
        same = any(
            len(c.index.intersection(curve.index))
            and np.nanmax(np.abs(c.reindex(curve.index) - curve)) < 0.005
            for c in curves
        )
        if not same:
            curves.append(curve)
    return curves


def _draw_chance(ax, table: pd.DataFrame, column: str, name: str) -> None:
    curves = _chance_curves(table, column)
    for i, curve in enumerate(curves):
        text = None
        if i == 0:
            text = name if len(curves) == 1 else f"{name} (one per model)"
        ax.plot(curve.index, curve.to_numpy(), **CHANCE_STYLE, label=text, zorder=1)


def _integer_lags(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("lag k (state at t decodes the input at t − k)")


def _plot_lines(ax, table, series, styles, column, labels=None) -> None:
    for model, state in series:
        part = table[(table["model"] == model) & (table["state"] == state)].sort_values("lag")
        values = part[column].astype(float)
        if values.notna().sum() == 0:
            continue
        text = (labels or {}).get((model, state), label(model, state))
        ax.plot(part["lag"], values, lw=1.6, ms=4, markevery=_markevery(len(part)),
                label=text, **styles[(model, state)])  # fmt: skip


def _legend(fig, axes) -> None:
    handles, labels, seen = [], [], set()
    for ax in axes:
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            if text not in seen:
                seen.add(text)
                handles.append(handle)
                labels.append(text)
    columns = 1 if len(labels) <= 14 else 2
    fig.legend(handles, labels, loc="outside right center", fontsize=8, ncols=columns,
               frameon=False, handlelength=3.2)  # fmt: skip


def signature_panels(
    table: pd.DataFrame, out_dir: Path, family: str, decoder: str | None = None
) -> list[Path]:
    """memory_{family}.png/svg: accuracy versus lag (one line per model and state, the majority
    chance dashed grey) and cross-entropy versus lag (the unigram entropy dashed grey).
    Linear-decoder rows show the squared correlation (MC_k) and R² instead."""
    import matplotlib.pyplot as plt

    require(table)
    rows = select_decoder(table[table["family"] == family], decoder)
    if rows.empty:
        raise ValueError(f"the memory signature table has no rows of family {family!r}")
    # the n-gram models read on shuffled text are the method's sanity check, not a model
    rows = rows[~rows["model"].astype(str).str.endswith("_shuffled")]
    style.setup()
    series = _series(rows)
    styles = _line_styles(series)
    linear = measure_of(rows) == "squared_correlation"
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    if linear:
        _plot_lines(left, rows, series, styles, "squared_correlation")
        _plot_lines(right, rows, series, styles, "r2")
        left.set_ylabel("squared correlation MC_k (held out)")
        right.set_ylabel("R² of the ridge decoder (held out)")
        for ax in (left, right):
            ax.axhline(0, **CHANCE_STYLE, label="chance (0)")
    else:
        _plot_lines(left, rows, series, styles, "accuracy")
        _draw_chance(left, rows, "chance_majority", "chance: majority class")
        left.set_ylabel("decoding accuracy (held-out sequences)")
        left.set_ylim(-0.02, 1.02)
        _plot_lines(right, rows, series, styles, "cross_entropy")
        _draw_chance(right, rows, "chance_entropy", "chance: unigram entropy")
        right.set_ylabel("decoder cross-entropy (nats, held out)")
        right.set_ylim(bottom=0)
    decoders = ", ".join(dict.fromkeys(rows["decoder"].astype(str)))
    left.set_title(f"memory signature ({decoders} decoder per lag)", fontsize=10)
    right.set_title(
        "R² of the decoders" if linear else "cross-entropy of the decoders", fontsize=10
    )
    for ax in (left, right):
        _integer_lags(ax)
    _legend(fig, (left, right))
    fig.suptitle(f"Memory signatures: {FAMILY_TITLE.get(family, family)}", fontsize=11)
    return style.save(fig, Path(out_dir), f"memory_{family}")


def ngram_versus_recurrent(
    table: pd.DataFrame, out_dir: Path, decoder: str | None = None
) -> list[Path]:
    """memory_ngram.png/svg: text8 n-gram signatures against the recurrent models' top-layer h,
    accuracy (left) and accuracy above chance (right, areas in the legend), with a dotted
    vertical line at lag n − 1 for each n-gram (the first lag outside its window)."""
    import matplotlib.pyplot as plt

    require(table)
    rows = select_decoder(table[table["family"] == "text8"], decoder)
    grams = [m for m in ordered_models(rows["model"]) if ngram_order(m) is not None]
    picked = [(m, ngram_state(rows.loc[rows["model"] == m, "state"])) for m in grams]
    for model in ordered_models(rows["model"]):
        if ngram_order(model) is None:
            top = top_layer_h(rows.loc[rows["model"] == model, "state"].unique())
            if top is not None:
                picked.append((model, top))
    if not grams or len(picked) == len(grams):
        raise ValueError(
            "ngram_versus_recurrent needs text8 rows of at least one n-gram (model 'ngram{n}') "
            "and one recurrent model with an h state"
        )
    mask = pd.Series(False, index=rows.index)
    for model, state in picked:
        mask |= (rows["model"] == model) & (rows["state"] == state)
    rows = rows[mask].assign(excess=above_chance(rows[mask]))
    series = [p for p in _series(rows) if p in picked]
    styles = {p: {"color": color(p[0]), "ls": "-" if ngram_order(p[0]) is None else "--",
                  "marker": "o" if ngram_order(p[0]) is None else "s"} for p in series}  # fmt: skip
    areas = memory_area(rows).set_index(["model", "state"])["area"]
    with_area = {p: f"{label(*p)} (area {areas.get(p, np.nan):.2f})" for p in series}
    style.setup()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    _plot_lines(left, rows, series, styles, "accuracy", with_area)
    _draw_chance(left, rows, "chance_majority", "chance: majority class")
    _plot_lines(right, rows, series, styles, "excess", with_area)
    right.axhline(0, color="#8c8c8c", lw=0.8)
    right.axhline(ABOVE_CHANCE, **CHANCE_STYLE, label=f"{ABOVE_CHANCE} above chance")
    for ax in (left, right):
        for model in grams:
            n = ngram_order(model)
            ax.axvline(n - 1, color=color(model), ls=":", lw=1.4, zorder=0)
            ax.annotate(
                f"n − 1 = {n - 1}",
                (n - 1, 0.5),
                xycoords=("data", "axes fraction"),
                xytext=(-3, 0),
                textcoords="offset points",
                rotation=90,
                ha="right",
                va="center",
                fontsize=7.5,
                color=color(model),
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
            )
        _integer_lags(ax)
    left.set_ylabel("decoding accuracy (held-out sequences)")
    left.set_ylim(-0.02, 1.02)
    right.set_ylabel("accuracy − chance (majority class)")
    left.set_title("n-gram windows versus recurrent states (top-layer h)", fontsize=10)
    right.set_title("above chance; dotted: first lag outside each n-gram's window", fontsize=10)
    _legend(fig, (left, right))
    fig.suptitle("text8: character memory of n-gram and recurrent language models", fontsize=11)
    return style.save(fig, Path(out_dir), "memory_ngram")


BAR_LABELS = {
    ("lowrank", "u_coords"): "low-rank\nU basis",
    ("lowrank", "v_coords"): "low-rank\nV basis",
    ("lowrank", "h0"): "low-rank\nfull h0",
    ("rnn", "h0"): "dense RNN\nh0",
}


def lowrank_bases(table: pd.DataFrame, out_dir: Path, decoder: str | None = None) -> list[Path]:
    """memory_lowrank.png/svg: the low-rank RNN's signatures in the bases of U (u_coords), of V
    (v_coords) and of its full state h0, against the dense RNN's h0 (left), and their areas
    above chance (right)."""
    import matplotlib.pyplot as plt

    require(table)
    rows = select_decoder(table[table["family"] == "mnist"], decoder)
    wanted = [("lowrank", "u_coords"), ("lowrank", "v_coords"), ("lowrank", "h0"), ("rnn", "h0")]
    have = set(map(tuple, rows[["model", "state"]].drop_duplicates().to_numpy()))
    series = [p for p in wanted if p in have]
    if not {("lowrank", "u_coords"), ("lowrank", "v_coords")} <= have:
        raise ValueError("lowrank_bases needs mnist rows of model 'lowrank', states u_coords "
                         "and v_coords")  # fmt: skip
    mask = pd.Series(False, index=rows.index)
    for model, state in series:
        mask |= (rows["model"] == model) & (rows["state"] == state)
    rows = rows[mask]
    styles = {
        ("lowrank", "u_coords"): {"color": "#1f78b4", "ls": "-", "marker": "o"},
        ("lowrank", "v_coords"): {"color": "#e31a1c", "ls": "-", "marker": "s"},
        ("lowrank", "h0"): {"color": "#1f78b4", "ls": "--", "marker": "^"},
        ("rnn", "h0"): {"color": color("rnn"), "ls": "-.", "marker": "D"},
    }
    linear = measure_of(rows) == "squared_correlation"
    style.setup()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained",
                                      gridspec_kw={"width_ratios": [1.6, 1]})  # fmt: skip
    if linear:
        _plot_lines(left, rows, series, styles, "squared_correlation")
        left.axhline(0, **CHANCE_STYLE, label="chance (0)")
        left.set_ylabel("squared correlation MC_k (held out)")
    else:
        _plot_lines(left, rows, series, styles, "accuracy")
        _draw_chance(left, rows, "chance_majority", "chance: majority class")
        left.set_ylabel("decoding accuracy (held-out sequences)")
        left.set_ylim(-0.02, 1.02)
    _integer_lags(left)
    left.set_title("memory signature by basis", fontsize=10)
    areas = memory_area(rows).set_index(["model", "state"])["area"]
    values = [float(areas.get(p, np.nan)) for p in series]
    bars = right.bar(range(len(series)), values, color=[styles[p]["color"] for p in series],
                     alpha=0.85, edgecolor="#333333", linewidth=0.6)  # fmt: skip
    for bar, style_ in zip(bars, (styles[p] for p in series), strict=True):
        if style_["ls"] != "-":
            bar.set_hatch("//")
    right.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
    right.set_xticks(range(len(series)), [BAR_LABELS[p] for p in series])
    right.set_ylabel("Σ squared correlation" if linear else "area above chance (lags)")
    right.set_title("memory area", fontsize=10)
    top = np.nanmax(values) if np.isfinite(values).any() else 0
    right.set_ylim(0, 1.18 * top if top > 0 else 1)
    _legend(fig, (left,))
    fig.suptitle("sequential MNIST: information in the bases of the factorised kernel W = U V",
                 fontsize=11)  # fmt: skip
    return style.save(fig, Path(out_dir), "memory_lowrank")


def draw_all(
    tables: pd.DataFrame,
    png: Sequence[Path],
    svg: Sequence[Path],
    table: Path,
    decoder: str | None = None,
) -> list[Path]:
    """The memory figures among the given PNG and SVG files (memory_{family}, memory_ngram,
    memory_lowrank) whose rows exist in `tables` (figures without rows are skipped), plus the
    memory-area table `table` (area_table_html). Returns the paths written."""
    folders = style.declared_folders([*png, *svg])
    require(tables)
    paths: list[Path] = []
    families = set(tables["family"].astype(str))
    for family in [*FAMILIES, *sorted(families - set(FAMILIES))]:
        if family in families and f"memory_{family}" in folders:
            paths += signature_panels(tables, folders[f"memory_{family}"], family, decoder)
    text8 = tables[tables["family"] == "text8"]
    models = set(text8["model"].astype(str))
    grams = {m for m in models if ngram_order(m) is not None}
    recurrent = [m for m in models - grams
                 if top_layer_h(text8.loc[text8["model"] == m, "state"].unique())]  # fmt: skip
    if grams and recurrent and "memory_ngram" in folders:
        paths += ngram_versus_recurrent(tables, folders["memory_ngram"], decoder)
    mnist = tables[(tables["family"] == "mnist") & (tables["model"] == "lowrank")]
    if {"u_coords", "v_coords"} <= set(mnist["state"].astype(str)) and "memory_lowrank" in folders:
        paths += lowrank_bases(tables, folders["memory_lowrank"], decoder)
    html_path = Path(table)
    with atomic_path(html_path) as tmp:
        tmp.write_text(area_table_html(tables) + "\n")
    paths.append(html_path)
    return paths
