"""Connectivity explorer: one self-contained HTML page, like the article's interactive figure.

The text is shown character by character. Hovering a character t̃ colours it and every earlier
character t by connectivity(t, t̃) / max over t (green scale, the heatmaps' `CMAP`) and shows the
model's top predicted words after t̃ with their probabilities; clicking pins t̃ (the arrow keys
move the pin); buttons switch between the models. Plain hand-written JS and CSS, inlined, with
the data as JSON in the page: the file opens offline and reaches no network.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from rnnatlas.analysis.connectivity import normalise_rows
from rnnatlas.figures.connectivity import CMAP, display_name
from rnnatlas.io import atomic_path

# Stops of the colour scale handed to the page, which interpolates linearly between them:
# matplotlib's "Greens" is itself linear between 9 ColorBrewer colours, so 33 stops reproduce it
# to its own 256-level quantisation.
N_STOPS = 33
DECIMALS = 3  # of the normalised connectivity in the page: invisible in the colour, a smaller file
DARK_ABOVE = 0.6  # characters on a shade darker than this are written in white

_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 60rem; color: #222;
       padding: 0 1rem; }
h1 { font-size: 1.3rem; font-weight: 600; }
.help { color: #555; font-size: 0.9rem; }
#models { display: flex; gap: 0.4rem; margin: 0.8rem 0; }
#models button { font: inherit; padding: 0.25rem 0.9rem; border: 1px solid #999;
                 border-radius: 4px; background: #fff; cursor: pointer; }
#models button[aria-pressed="true"] { background: #238b45; border-color: #238b45; color: #fff; }
#text { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 1.35rem;
        line-height: 2.1; white-space: pre-wrap; user-select: none; }
#text .char { padding: 0.15em 0.02em; cursor: pointer; border-radius: 2px; }
#text .char.future { color: #aaa; }
#text .char.selected { outline: 2px solid #111; }
#text .char.pinned { box-shadow: 0 3px 0 #d95f02; }
#panel { margin-top: 1rem; padding: 0.6rem 1rem; border-left: 4px solid #238b45;
         background: #f7fcf5; }
#panel h2 { font-size: 1rem; font-weight: 500; margin: 0 0 0.4rem; }
#prefix { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
#predictions { list-style: none; margin: 0; padding: 0; }
#predictions li { display: grid; grid-template-columns: 10rem 4.5rem 1fr; align-items: center;
                  gap: 0.6rem; margin: 0.15rem 0; }
#predictions .word { font-weight: 600; }
#predictions .prob { text-align: right; font-variant-numeric: tabular-nums; }
#predictions .bar { height: 0.7rem; background: #41ab5d; }
#legend { display: flex; align-items: center; gap: 0.5rem; margin-top: 1rem; font-size: 0.85rem;
          color: #555; }
#legend .scale { width: 14rem; height: 0.8rem; border: 1px solid #ccc; }
"""

# The page's behaviour. `data` is the JSON block; characters are spans with data-t.
_JS = """
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("explorer-data").textContent);
  const chars = Array.from(document.querySelectorAll("#text .char"));
  const buttons = Array.from(document.querySelectorAll("#models button"));
  const prefix = document.getElementById("prefix");
  const list = document.getElementById("predictions");
  let model = 0;
  let pinned = data.selected;
  let shown = pinned;

  // linear interpolation between the palette's evenly spaced stops; v in [0, 1]
  function shade(v) {
    const stops = data.palette;
    const x = Math.min(Math.max(v, 0), 1) * (stops.length - 1);
    const i = Math.min(Math.floor(x), stops.length - 2);
    const f = x - i;
    return stops[i].map((c, k) => Math.round(c + f * (stops[i + 1][k] - c)));
  }

  function showPredictions(t) {
    const start = Math.max(0, t + 1 - data.prefix_chars);
    prefix.textContent = (start > 0 ? "\\u2026" : "") + data.text.slice(start, t + 1);
    list.replaceChildren();
    for (const [word, p] of data.models[model].top[t]) {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.className = "word";
      name.textContent = word;
      const prob = document.createElement("span");
      prob.className = "prob";
      prob.textContent = (100 * p).toFixed(1) + "%";
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = (100 * p).toFixed(1) + "%";
      item.append(name, prob, bar);
      list.append(item);
    }
  }

  function render(t) {
    shown = t;
    const row = data.models[model].rows[t];  // t + 1 values: inputs 0..t
    chars.forEach((el, i) => {
      el.classList.toggle("future", i > t);
      el.classList.toggle("selected", i === t);
      el.classList.toggle("pinned", i === pinned);
      if (i <= t) {
        const [r, g, b] = shade(row[i]);
        el.style.backgroundColor = "rgb(" + r + ", " + g + ", " + b + ")";
        el.style.color = row[i] > data.dark_above ? "#fff" : "";
      } else {
        el.style.backgroundColor = "";
        el.style.color = "";
      }
    });
    showPredictions(t);
  }

  function pin(t) {
    pinned = Math.min(Math.max(t, 0), chars.length - 1);
    render(pinned);
  }

  chars.forEach((el, i) => {
    el.addEventListener("mouseenter", () => render(i));
    el.addEventListener("click", () => pin(i));
  });
  document.getElementById("text").addEventListener("mouseleave", () => render(pinned));
  buttons.forEach((button, m) => {
    button.addEventListener("click", () => {
      model = m;
      buttons.forEach((b, k) => b.setAttribute("aria-pressed", String(k === m)));
      render(shown);
    });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft") pin(pinned - 1);
    if (event.key === "ArrowRight") pin(pinned + 1);
  });
  render(pinned);
})();
"""


def write_explorer(
    path: str | Path,
    text: str,
    models: Mapping[str, Mapping],
    *,
    title: str = "Connectivity explorer",
    selected: int | None = None,
    prefix_chars: int = 40,
) -> Path:
    """Write the explorer of `text` to `path` (atomically) and return `path`.

    models: {name: {"connectivity": [T, T] (as `rnnatlas.analysis.connectivity` returns it),
        "top_words": for each of the T characters a list of (word, probability) pairs, most
        probable first (3 in the article)}}, in the order of the buttons.
    selected: the character shown when the page opens (default: the last one).
    prefix_chars: how much of the text before the selected character the panel quotes.
    """
    if not isinstance(text, str) or not text:
        raise ValueError("text must be a non-empty string")
    if not models:
        raise ValueError("models is empty: give {name: {'connectivity': ..., 'top_words': ...}}")
    n = len(text)
    selected = n - 1 if selected is None else int(selected)
    if not 0 <= selected < n:
        raise ValueError(f"selected must be a character index in 0..{n - 1}, got {selected}")
    entries = [_model_entry(name, spec, n) for name, spec in models.items()]
    data = {
        "text": text,
        "models": entries,
        "palette": _palette(),
        "selected": selected,
        "prefix_chars": int(prefix_chars),
        "dark_above": DARK_ABOVE,
    }
    page = _page(text, [e["name"] for e in entries], data, title)
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def _model_entry(name: str, spec: Mapping, n: int) -> dict:
    where = f"models[{name!r}]"
    missing = [key for key in ("connectivity", "top_words") if key not in spec]
    if missing:
        raise ValueError(f"{where} lacks {missing}: give 'connectivity' and 'top_words'")
    conn = np.asarray(spec["connectivity"], dtype=float)
    if conn.shape != (n, n):
        raise ValueError(
            f"{where}['connectivity'] has shape {conn.shape}; the text has {n} characters: "
            f"expected ({n}, {n})"
        )
    try:
        shades = normalise_rows(conn)
    except ValueError as error:
        raise ValueError(f"{where}['connectivity']: {error}") from None
    # only what the page shows: row t̃ covers the inputs 0..t̃
    rows = [[round(float(v), DECIMALS) for v in shades[t, : t + 1]] for t in range(n)]
    top = _top_words(spec["top_words"], n, where)
    return {"name": display_name(name), "rows": rows, "top": top}


def _top_words(top_words: Sequence, n: int, where: str) -> list:
    if len(top_words) != n:
        raise ValueError(
            f"{where}['top_words'] has {len(top_words)} entries; the text has {n} characters: "
            "give one list of (word, probability) pairs per character"
        )
    out = []
    for t, pairs in enumerate(top_words):
        row = []
        for pair in pairs:
            try:
                word, prob = pair
                prob = float(prob)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{where}['top_words'][{t}] must hold (word, probability) pairs, got {pair!r}"
                ) from None
            if not math.isfinite(prob) or not 0.0 <= prob <= 1.0:
                raise ValueError(f"{where}['top_words'][{t}]: probability {prob} not in [0, 1]")
            row.append([str(word), round(prob, 6)])
        if not row:
            raise ValueError(f"{where}['top_words'][{t}] is empty")
        out.append(row)
    return out


def _palette() -> list[list[int]]:
    import matplotlib

    rgba = matplotlib.colormaps[CMAP](np.linspace(0.0, 1.0, N_STOPS))
    return [[round(255 * c) for c in stop[:3]] for stop in rgba]


def _script_json(data: dict) -> str:
    """JSON safe inside <script>: no "</script>", "<!--" or "&" can end or alter the block."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page(text: str, names: list[str], data: dict, title: str) -> str:
    spans = "".join(
        f'<span class="char" data-t="{t}">{html.escape(char)}</span>' for t, char in enumerate(text)
    )
    buttons = "".join(
        f'<button type="button" aria-pressed="{"true" if i == 0 else "false"}">'
        f"{html.escape(name)}</button>"
        for i, name in enumerate(names)
    )
    stops = data["palette"]
    gradient = ", ".join(
        f"rgb({r}, {g}, {b}) {100 * i / (len(stops) - 1):.1f}%" for i, (r, g, b) in enumerate(stops)
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p class="help">Hover a character: it and the characters before it turn green by how much the
model's logit for the word being typed there depends on them (connectivity, divided by its largest
value over those characters). Click to pin a character; ← and → move the pin.</p>
<div id="models" role="group" aria-label="model">{buttons}</div>
<div id="text">{spans}</div>
<div id="panel" aria-live="polite">
<h2>Top predictions after “<span id="prefix"></span>”</h2>
<ol id="predictions"></ol>
</div>
<div id="legend"><span>0</span><span class="scale"
 style="background: linear-gradient(to right, {gradient})"></span><span>1 (the row's max)</span>
</div>
<script type="application/json" id="explorer-data">{_script_json(data)}</script>
<script>{_JS}</script>
</body>
</html>
"""
