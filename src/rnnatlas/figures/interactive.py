"""Interactive, self-contained HTML version of the UMAP state-space scatter ("RSSviz").

One HTML file a reader opens offline: hovering a point shows the sentence, the word just read and
its position; the plot pans and zooms; for categorical colors, clicking a legend entry highlights
that category.
"""

from __future__ import annotations

import re
from pathlib import Path

import altair as alt
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from rnnatlas.io import atomic_path

# Legend order follows the sentence, not the alphabet.
CLAUSE_ORDER = ("initial state", "first clause", "and", "second clause", "final word")
# Output activations mostly lie in [0, 1] with some over- and undershoot: one fixed domain keeps
# colors comparable across figures.
CONTINUOUS_DOMAIN = (-0.3, 1.3)

_BASE = ["x", "y", "t", "token", "sentence", "clause"]
# vega-embed options: SVG so every point is a DOM element (the browser test finds them); no links
# to the online Vega editor, so nothing in the page reaches the network.
_EMBED = {
    "renderer": "svg",
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
}
_NO_TICKS = alt.Axis(labels=False, ticks=False)


def rssviz_html(embedding: pd.DataFrame, out: Path, title: str, color: str = "clause") -> Path:
    """Write the interactive scatter of `embedding` (one row per state) to `out`; return `out`.

    `color` names the column to color by: categories for object, str, category or bool dtype, else
    a continuous inferno scale on [-0.3, 1.3]. Other columns are left out of the file.
    """
    missing = [c for c in ["sequence_id", *_BASE, color] if c not in embedding.columns]
    if missing:
        raise ValueError(f"embedding lacks column(s) {missing}")
    out = Path(out)
    # object, category and pandas' str dtype are categories; numbers (not booleans) a scale.
    values = embedding[color]
    categorical = is_bool_dtype(values) or not is_numeric_dtype(values)

    # Only what the chart shows goes into the file: the data is inlined, one record per point.
    # A color column whose name Vega would read as a path ("out.red", "a[0]") gets a plain key.
    key = color if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ ]*", color) else "color_value"
    data = embedding[["sequence_id", *_BASE]].copy()
    data[key] = values.astype(str) if categorical else values.astype(float)
    # 4 decimals: invisible at screen size, and a smaller file.
    data[["x", "y"]] = data[["x", "y"]].astype(float).round(4)
    data[["sequence_id", "t"]] = data[["sequence_id", "t"]].astype(int)
    for column in ("token", "sentence", "clause"):
        data[column] = data[column].astype(str)

    # Each sentence is stored once and joined back in the browser (a lookup on sequence_id)
    # rather than repeated on every one of its points (a quarter less data on CSL sentences).
    sentences = data[["sequence_id", "sentence"]].drop_duplicates()
    if sentences["sequence_id"].is_unique:
        base = alt.Chart(data.drop(columns="sentence"), title=title).transform_lookup(
            lookup="sequence_id",
            from_=alt.LookupData(sentences, key="sequence_id", fields=["sentence"]),
        )
    else:  # ids do not name sentences: keep the text on every point
        base = alt.Chart(data.drop(columns="sequence_id"), title=title)

    tooltip = [
        alt.Tooltip("sentence:N", title="sentence"),
        alt.Tooltip("token:N", title="word"),
        alt.Tooltip("t:Q", title="position"),
        alt.Tooltip("clause:N", title="clause"),
    ]
    if color != "clause":
        extra = {"type": "nominal"} if categorical else {"type": "quantitative", "format": ".3f"}
        tooltip.append(alt.Tooltip(field=key, title=color, **extra))

    base = base.mark_circle(size=30, stroke=None)
    # UMAP coordinates have no meaning of their own: no tick labels, no forced zero, and a margin
    # so the outermost points are not cut in half by the plot's clip.
    position = {"scale": alt.Scale(zero=False, nice=False, padding=12), "axis": _NO_TICKS}
    encoding = {
        "x": alt.X("x:Q", title="UMAP 1", **position),
        "y": alt.Y("y:Q", title="UMAP 2", **position),
        "tooltip": tooltip,
    }
    if categorical:
        present = data[key].unique().tolist()
        order = [c for c in CLAUSE_ORDER if c in present] + sorted(
            v for v in present if v not in CLAUSE_ORDER
        )
        # Clicking a legend entry keeps that category opaque and fades the others.
        pick = alt.selection_point(fields=[key], bind="legend")
        chart = base.encode(
            color=alt.Color(f"{key}:N", title=color, scale=alt.Scale(domain=order)),
            opacity=alt.condition(pick, alt.value(0.85), alt.value(0.06)),
            **encoding,
        ).add_params(pick)
    else:
        scale = alt.Scale(scheme="inferno", domain=list(CONTINUOUS_DOMAIN), clamp=True)
        chart = base.encode(
            color=alt.Color(f"{key}:Q", title=color, scale=scale),
            opacity=alt.value(0.85),
            **encoding,
        )
    chart = chart.properties(width=640, height=520).interactive()

    # Inline the data whatever its size (Altair refuses > 5,000 rows by default) and inline the
    # vega / vega-lite / vega-embed bundle (vl-convert ships it), so the page needs no network.
    with alt.data_transformers.disable_max_rows():
        html = chart.to_html(inline=True, embed_options=_EMBED)
    with atomic_path(out) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return out
