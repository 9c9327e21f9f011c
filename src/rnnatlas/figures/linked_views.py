"""Linked views of a sequence classifier's hidden states (Garcia, Munz & Weiskopf 2021) in one
self-contained HTML page: no server, no network, the data as JSON inside the page.

Views: a sequence table (pick a document), the 2-D projection of every state (canvas: thousands of
points), the text colored by the expected prediction, the time x class heatmap with its argmax
row, and the bars of the distance between consecutive states. Hovering a projection point, a
word, a heatmap column or a bar makes that step current in every view (brushing and linking);
the three filters (distance jump, confidence change, argmax flip) mark the words after the event,
or the words before it. The page exposes its state for tests: `document.body.dataset.sequence`
and `.step`, each canvas's `data-current`, and `window.linkedViews.screenPoint(row)`.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.io import atomic_path

FLAGS = ("distance_jump", "confidence_change", "argmax_flip")
PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]  # fmt: skip  (matplotlib's tab10, as the figures)

_CSS = """
body { font-family: system-ui, sans-serif; margin: 1rem; color: #222; }
h1 { font-size: 1.2rem; margin: 0 0 .4rem; } .help { color: #555; font-size: .85rem; }
#layout { display: grid; grid-template-columns: 17rem 1fr; gap: 1rem; }
#table-box { max-height: 80vh; overflow-y: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 12px; width: 100%; }
td, th { padding: 2px 6px; border-bottom: 1px solid #eee; text-align: left; }
tr.sequence { cursor: pointer; } tr.sequence.active { background: #fff3c4; }
td.wrong { color: #cf222e; font-weight: 600; }
canvas { border: 1px solid #ddd; display: block; }
#views { display: grid; grid-template-columns: 460px 1fr; gap: .8rem; }
#text { line-height: 1.9; font-size: 14px; max-height: 16rem; overflow-y: auto; }
#text span { padding: 1px 3px; margin: 0 1px; border-radius: 3px; cursor: default; }
#text span.flagged { text-decoration: underline; text-decoration-thickness: 2px;
                     font-weight: 600; }
#text span.current { outline: 2px solid #111; }
.filters label { margin-right: .8rem; font-size: 13px; }
.legend span { display: inline-block; margin-right: .8rem; font-size: 12px; }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .25rem;
            vertical-align: middle; }
"""

_JS = """
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("views-data").textContent);
  const K = data.classes.length, N = data.sequence.length;
  const rowsOf = new Map();  // sequence id -> its rows, in step order
  for (let i = 0; i < N; i++) {
    const s = data.sequence[i];
    if (!rowsOf.has(s)) { rowsOf.set(s, []); }
    rowsOf.get(s).push(i);
  }
  const state = { sequence: data.sequence[0], step: 0 };
  const proj = document.getElementById("projection"), heat = document.getElementById("heatmap");
  const bars = document.getElementById("bars"), text = document.getElementById("text");
  const filterBoxes = Array.from(document.querySelectorAll(".filters input[type=checkbox]"));
  const side = document.getElementById("side");

  function rgba(hex, a) {
    const v = parseInt(hex.slice(1), 16);
    return `rgba(${v >> 16 & 255},${v >> 8 & 255},${v & 255},${a})`;
  }
  function alpha(i) { return 0.15 + 0.75 * (data.confidence[i] - 1 / K) / (1 - 1 / K); }
  // projection: data -> canvas pixels
  const xs = data.x.filter(v => v !== null), ys = data.y.filter(v => v !== null);
  const box = { x0: Math.min(...xs), x1: Math.max(...xs),
                y0: Math.min(...ys), y1: Math.max(...ys) };
  function px(i) {
    const pad = 12, w = proj.width - 2 * pad, h = proj.height - 2 * pad;
    return [pad + (data.x[i] - box.x0) / (box.x1 - box.x0 || 1) * w,
            pad + (1 - (data.y[i] - box.y0) / (box.y1 - box.y0 || 1)) * h];
  }
  function drawProjection() {
    const g = proj.getContext("2d");
    g.clearRect(0, 0, proj.width, proj.height);
    for (let i = 0; i < N; i++) {
      if (data.x[i] === null) { continue; }
      const [a, b] = px(i);
      g.fillStyle = rgba(data.colors[data.argmax[i]], alpha(i) * 0.7);
      g.fillRect(a - 1.5, b - 1.5, 3, 3);
    }
    const rows = (rowsOf.get(state.sequence) || []).filter(i => data.x[i] !== null);
    g.strokeStyle = "rgba(30,30,30,.8)";
    rows.forEach((i, k) => {
      if (k === 0) { return; }
      const [a0, b0] = px(rows[k - 1]), [a1, b1] = px(i);
      g.lineWidth = 0.5 + 2.5 * k / rows.length;  // line width by time, as the paper's option
      g.beginPath(); g.moveTo(a0, b0); g.lineTo(a1, b1); g.stroke();
    });
    const current = rowOf(state.sequence, state.step);
    if (current !== null && data.x[current] !== null) {
      const [a, b] = px(current);
      g.lineWidth = 2; g.strokeStyle = "#000";
      g.beginPath(); g.arc(a, b, 6, 0, 2 * Math.PI); g.stroke();
    }
    proj.dataset.current = current === null ? "" : String(current);
  }
  function rowOf(sequence, step) {
    const rows = rowsOf.get(sequence) || [];
    return step < rows.length ? rows[step] : null;
  }
  function flagged(i, rows, k) {
    const before = side.value === "before";
    const target = before ? rows[k + 1] : i;  // "before": mark the word ahead of the event
    if (target === undefined) { return false; }
    return filterBoxes.some(box => box.checked && data[box.value][target]);
  }
  function drawText() {
    const rows = rowsOf.get(state.sequence) || [];
    text.replaceChildren(...rows.map((i, k) => {
      const span = document.createElement("span");
      span.textContent = data.token[i];
      span.dataset.step = String(k);
      span.style.background = rgba(data.colors[data.argmax[i]], alpha(i) * 0.7);
      if (flagged(i, rows, k)) { span.classList.add("flagged"); }
      if (k === state.step) { span.classList.add("current"); }
      span.addEventListener("mouseenter", () => setStep(k));
      return span;
    }));
  }
  function drawHeatmap() {
    const rows = rowsOf.get(state.sequence) || [];
    const g = heat.getContext("2d"), cell = heat.width / Math.max(rows.length, 1);
    const h = heat.height / (K + 1);
    g.clearRect(0, 0, heat.width, heat.height);
    rows.forEach((i, k) => {
      for (let c = 0; c < K; c++) {
        g.fillStyle = rgba("#08306b", data.ep[i * K + c]);
        g.fillRect(k * cell, c * h, cell, h);
      }
      g.fillStyle = data.colors[data.argmax[i]];
      g.fillRect(k * cell, K * h, cell, h);
    });
    g.strokeStyle = "#d62728"; g.lineWidth = 2;
    g.strokeRect(state.step * cell + 1, 1, cell - 2, heat.height - 2);
    heat.dataset.current = String(state.step);
  }
  function drawBars() {
    const rows = rowsOf.get(state.sequence) || [];
    const g = bars.getContext("2d"), cell = bars.width / Math.max(rows.length, 1);
    g.clearRect(0, 0, bars.width, bars.height);
    rows.forEach((i, k) => {
      const d = data.distance[i] === null ? 0 : data.distance[i];
      g.fillStyle = data.colors[data.argmax[i]];
      g.globalAlpha = k === state.step ? 1 : 0.6;
      g.fillRect(k * cell + 1, bars.height * (1 - d), Math.max(cell - 2, 1), bars.height * d);
    });
    g.globalAlpha = 1;
    g.strokeStyle = "#555"; g.setLineDash([4, 3]);
    const level = bars.height * (1 - data.jump);
    g.beginPath(); g.moveTo(0, level); g.lineTo(bars.width, level); g.stroke();
    g.setLineDash([]);
    bars.dataset.current = String(state.step);
  }
  function drawTable() {
    document.querySelectorAll("tr.sequence").forEach(tr => {
      tr.classList.toggle("active", Number(tr.dataset.sequence) === state.sequence);
    });
  }
  function draw() {
    document.body.dataset.sequence = String(state.sequence);
    document.body.dataset.step = String(state.step);
    drawProjection(); drawText(); drawHeatmap(); drawBars(); drawTable();
  }
  function setStep(k) { if (k !== state.step) { state.step = k; draw(); } }
  function setSequence(s, k) { state.sequence = s; state.step = k || 0; draw(); }
  function stepAt(canvas, event) {
    const rows = rowsOf.get(state.sequence) || [];
    const r = canvas.getBoundingClientRect();
    const k = Math.floor((event.clientX - r.left) / r.width * rows.length);
    return Math.min(Math.max(k, 0), rows.length - 1);
  }
  heat.addEventListener("mousemove", e => setStep(stepAt(heat, e)));
  bars.addEventListener("mousemove", e => setStep(stepAt(bars, e)));
  proj.addEventListener("mousemove", e => {
    const r = proj.getBoundingClientRect();
    const a = (e.clientX - r.left) * proj.width / r.width;
    const b = (e.clientY - r.top) * proj.height / r.height;
    let best = null, bestD = 36;  // within 6 px
    for (let i = 0; i < N; i++) {
      if (data.x[i] === null) { continue; }
      const [u, v] = px(i), d = (u - a) * (u - a) + (v - b) * (v - b);
      if (d < bestD) { best = i; bestD = d; }
    }
    if (best !== null) { setSequence(data.sequence[best], data.t[best]); }
  });
  document.querySelectorAll("tr.sequence").forEach(tr => {
    tr.addEventListener("click", () => setSequence(Number(tr.dataset.sequence), 0));
  });
  filterBoxes.forEach(box => box.addEventListener("change", draw));
  side.addEventListener("change", draw);
  window.linkedViews = {
    screenPoint(i) {  // a row's point in page pixels relative to the canvas' top left
      const [a, b] = px(i), r = proj.getBoundingClientRect();
      return [a * r.width / proj.width, b * r.height / proj.height];
    },
    rowOf: rowOf,
  };
  draw();
})();
"""


def _sequences_table(views: pd.DataFrame) -> str:
    last = views.sort_values(["sequence_id", "t"]).groupby("sequence_id").tail(1)
    rows = []
    for row in last.itertuples():
        target = getattr(row, "target", None)
        wrong = target is not None and target != row.argmax
        length = int(row.t) + 1
        rows.append(
            f"<tr class='sequence' data-sequence='{int(row.sequence_id)}'>"
            f"<td>{int(row.sequence_id)}</td><td>{html.escape(str(target))}</td>"
            f"<td class='{'wrong' if wrong else ''}'>{html.escape(str(row.argmax))}</td>"
            f"<td>{length}</td></tr>"
        )
    return (
        "<table><thead><tr><th>#</th><th>true</th><th>predicted</th><th>steps</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _rounded(values, decimals: int = 3) -> list:
    return [None if v is None or not np.isfinite(v) else round(float(v), decimals)
            for v in values]  # fmt: skip


def linked_views_html(
    views: pd.DataFrame, projection: pd.DataFrame, out: Path, title: str, jump: float = 0.40
) -> Path:
    """Write the explorer of a views table (analysis.trajectories.views_table) and its
    projection (sequence_id, t, x, y) to `out`."""
    classes = [column[3:] for column in views.columns if column.startswith("ep_")]
    if not classes:
        raise ValueError("linked_views_html: the views table has no ep_<class> columns")
    missing = [c for c in ("sequence_id", "t", "token", "argmax", "confidence", "distance", *FLAGS)
               if c not in views]  # fmt: skip
    if missing:
        raise ValueError(f"linked_views_html: the views table lacks {missing}")
    table = views.sort_values(["sequence_id", "t"]).reset_index(drop=True)
    placed = table[["sequence_id", "t"]].merge(projection, on=["sequence_id", "t"], how="left")
    data = {
        "classes": classes,
        "colors": [PALETTE[i % len(PALETTE)] for i in range(len(classes))],
        "jump": float(jump),
        "sequence": table["sequence_id"].astype(int).tolist(),
        "t": table["t"].astype(int).tolist(),
        "token": table["token"].astype(str).tolist(),
        "ep": _rounded(table[[f"ep_{c}" for c in classes]].to_numpy().ravel()),
        "argmax": [classes.index(c) for c in table["argmax"]],
        "confidence": _rounded(table["confidence"]),
        "distance": _rounded(table["distance"]),
        "x": _rounded(placed["x"]),
        "y": _rounded(placed["y"]),
        **{flag: table[flag].astype(bool).astype(int).tolist() for flag in FLAGS},
    }
    legend = "".join(
        f"<span><i style='background:{data['colors'][i]}'></i>{html.escape(c)}</span>"
        for i, c in enumerate(classes)
    )
    filters = "".join(
        f"<label><input type='checkbox' value='{flag}'> {flag.replace('_', ' ')}</label>"
        for flag in FLAGS
    )
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="help">Pick a sequence in the table, or hover a point of the projection; hover a word, a
heatmap column or a bar to follow one step through every view. Colors: the class of the expected
prediction (its opacity: the confidence).</p>
<p class="legend">{legend}</p>
<div id="layout"><div id="table-box">{_sequences_table(table)}</div>
<div><p class="filters">Mark words {filters}
<select id="side"><option value="after">after the event</option>
<option value="before">before the event</option></select></p>
<div id="views"><canvas id="projection" width="460" height="400"></canvas>
<div><div id="text"></div>
<p class="help">Expected prediction per class (rows) and its argmax (last row), per step:</p>
<canvas id="heatmap" width="640" height="{22 * (len(classes) + 1)}"></canvas>
<p class="help">Distance to the previous state / the largest one (dashed: the jump filter):</p>
<canvas id="bars" width="640" height="120"></canvas></div></div></div></div>
<script type="application/json" id="views-data">{payload}</script>
<script>{_JS}</script>
</body></html>
"""
    with atomic_path(out) as tmp:
        tmp.write_text(page)
    return Path(out)
