"""Build results/report/claims.json and a self-contained results/report/index.html."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from rnnatlas.config import deep_merge
from rnnatlas.io import atomic_path, write_json
from rnnatlas.papers.csl import reference
from rnnatlas.report.claims import NOT_CHECKED, NOT_REPRODUCED, REPRODUCED, Results, check_all

FIGURES = (
    ("errors_vs_objects", "Error and training time versus number of objects"),
    ("esn_vs_units", "ESN error versus reservoir units (Juven's grid)"),
    ("esn_vs_sentences", "ESN error versus training sentences (Juven's grid)"),
    ("learning_curves", "Learning curves"),
)
VERDICT_CLASS = {REPRODUCED: "ok", NOT_REPRODUCED: "bad", NOT_CHECKED: "skip"}


def load_presets(root: Path = Path(".")) -> dict[str, dict]:
    """config.yaml merged with each preset, keyed by scale name (for `checkable_at`)."""
    import yaml

    base_path = root / "config.yaml"
    if not base_path.exists():
        return {}
    base = yaml.safe_load(base_path.read_text())
    presets = {"default": base}
    for path in sorted((root / "workflow" / "presets").glob("*.yaml")):
        merged = deep_merge(base, yaml.safe_load(path.read_text()) or {})
        presets[merged.get("scale", path.stem)] = merged
    return presets


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    mime = "image/gif" if path.suffix == ".gif" else "image/png"
    return f'<img src="data:{mime};base64,{data}" alt="{html.escape(alt)}">'


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))


def claims_table(claims: Sequence[Mapping]) -> str:
    rows = []
    for c in claims:
        verdict = c["verdict"]
        rows.append(
            "<tr>"
            f"<td><code>{html.escape(c['id'])}</code></td>"
            f"<td>{html.escape(c['what'])}</td>"
            f"<td>{_fmt(c['paper_value'])}</td>"
            f"<td>{_fmt(c['value'])}</td>"
            f"<td>{_fmt(c['tolerance'])}</td>"
            f"<td>{html.escape(c['unit'])}</td>"
            f"<td class='{VERDICT_CLASS[verdict]}'>{verdict}</td>"
            f"<td>{html.escape(c['scale'])}</td>"
            f"<td>{html.escape(', '.join(c['checkable_at']))}</td>"
            f"<td class='detail'>{html.escape(c['detail'])}<br>"
            f"<i>{html.escape(c['source'])}</i></td>"
            "</tr>"
        )
    head = (
        "<tr><th>claim</th><th>what</th><th>paper</th><th>ours</th><th>±tol</th><th>unit</th>"
        "<th>verdict</th><th>scale</th><th>checkable at</th><th>detail / source</th></tr>"
    )
    return f"<table class='claims'>{head}{''.join(rows)}</table>"


STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222;line-height:1.45}
h1{margin-bottom:0}.sub{color:#666;margin-top:.2em}
table{border-collapse:collapse;font-size:13px;margin:1em 0}
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}
.skip{color:#888}.detail{color:#555;font-size:12px}img{max-width:100%;margin:.5em 0}
.counts span{margin-right:1.5em}figure{margin:1.5em 0}figcaption{color:#555;font-size:13px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:0 1.5em}.grid figure{margin:.8em 0}
"""


def render(
    config: Mapping,
    claims: Sequence[Mapping],
    figures: Path,
    table_html: str,
    cards: Sequence,
    visual_html: str = "",
) -> str:
    counts = {v: sum(c["verdict"] == v for c in claims) for v in VERDICT_CLASS}
    summary = "".join(f"<span class='{VERDICT_CLASS[v]}'>{n} {v}</span>" for v, n in counts.items())
    figure_html = []
    for name, title in FIGURES:
        png = figures / f"{name}.png"
        if png.exists():
            figure_html.append(
                f"<figure>{_img(png, title)}<figcaption>{html.escape(title)} "
                f"(<a href='../figures/csl/{name}.svg'>SVG</a>)</figcaption></figure>"
            )
    card_rows = "".join(
        f"<tr><td>{c['dataset']}</td><td>{c['one_object_sentences']:,}</td>"
        f"<td>{c['two_object_sentences']:,}</td><td>{c['concepts']}</td>"
        f"<td>{c['output_dim']}</td><td>{len(c['input_vocabulary'])}</td></tr>"
        for c in cards
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rnnatlas report</title>
<style>{STYLE}</style></head><body>
<h1>rnnatlas report</h1>
<p class="sub">scale: <b>{html.escape(config["scale"])}</b> — every number below was computed by
this run; the paper's value sits beside it with a verdict.</p>
<p class="counts">{summary}</p>
<h2>Variengien &amp; Hinaut 2020 — ESN vs LSTM on the cross-situational language task</h2>
<p>Corpus of Juven &amp; Hinaut 2020 (generated from its grammar). Errors on the 1,000-sentence
test split; mean ± sd over seeds. Training time is CPU process time of the training loop.
Juven &amp; Hinaut's reference numbers are {html.escape(reference.JUVEN_PROTOCOL)}.</p>
<h3>Error / time table ({config["csl"]["corpus"]["n_objects"]} objects)</h3>
{table_html}
<h3>Corpora</h3>
<table><tr><th>corpus</th><th>one-object</th><th>two-object</th><th>concepts</th>
<th>outputs</th><th>input words</th></tr>{card_rows}</table>
<h3>Figures</h3>
{"".join(figure_html)}
{visual_html}
<h2>Claims</h2>
<p>Tolerances for Juven's numbers: 1.96·sqrt(sd²(1/k + 1/5) + 2p(1−p)/n) percentage points — the
seed-to-seed sd of our k networks (assumed equal for Juven's 5), plus the sampling noise of an
error rate p on two independent n-sentence test sets. Orderings are checked on means.</p>
{claims_table(claims)}
<p class="sub">claims.json beside this file holds the same table.</p>
</body></html>
"""


def _load_mnist(paths: Mapping) -> dict:
    """The sequential-MNIST tables: Parquet files, and `dynamics` (a list of folders)."""
    from rnnatlas.papers.mnist.dynamics import read_dynamics

    tables = {}
    for key, value in paths.items():
        if key == "figures":
            continue
        tables[key] = read_dynamics(value) if key == "dynamics" else pd.read_parquet(value)
    return tables


def _load_text8(paths: Mapping) -> dict:
    """The text8 tables (see rnnatlas.papers.text8.section.load_tables for the keys)."""
    from rnnatlas.papers.text8.section import load_tables

    return load_tables(paths)


def _load_memory(paths: Mapping) -> dict:
    """The memory-signature tables (see rnnatlas.papers.memory.section.load_tables for the keys)."""
    from rnnatlas.papers.memory.section import load_tables

    return load_tables(paths)


def build_report(
    config: Mapping,
    runs: Path,
    units: Path,
    sentences: Path,
    bow: Path,
    figures: Path,
    cards: Sequence[Path],
    out_dir: Path,
    presets_root: Path = Path("."),
    analysis: Path | None = None,
    mnist: Mapping[str, Path] | None = None,
    text8: Mapping | None = None,
    memory: Mapping | None = None,
) -> list[dict]:
    from rnnatlas.papers.csl.section_visual import load_visual, visual_section

    visual = load_visual(config, analysis) if analysis is not None else {}
    loaded_cards = [json.loads(Path(p).read_text()) for p in cards]
    results = Results(
        runs=pd.read_parquet(runs),
        units=pd.read_parquet(units),
        sentences=pd.read_parquet(sentences),
        bow=pd.read_parquet(bow),
        cards={
            c["n_objects"]: c
            for c in loaded_cards
            if not c["center"] and c.get("protocol", "variengien") == "variengien"
        },
        visual=visual,
        mnist=_load_mnist(mnist or {}),
        text8=_load_text8(text8 or {}),
        memory=_load_memory(memory or {}),
    )
    claims = check_all(config, results, load_presets(presets_root))
    write_json(out_dir / "claims.json", claims)
    table_path = figures / "error_table.html"
    table_html = table_path.read_text() if table_path.exists() else ""
    visual_html = visual_section(config, visual, figures, out_dir) if visual else ""
    if mnist and "figures" in mnist:
        from rnnatlas.papers.mnist.section import mnist_section

        visual_html += mnist_section(config, results.mnist, Path(mnist["figures"]), out_dir)
    if text8 and "figures" in text8:
        from rnnatlas.papers.text8.section import text8_section

        visual_html += text8_section(config, results.text8, Path(text8["figures"]), out_dir)
    if memory and "figures" in memory:
        from rnnatlas.papers.memory.section import memory_section

        visual_html += memory_section(config, results.memory, Path(memory["figures"]), out_dir)
    page = render(config, claims, figures, table_html, loaded_cards, visual_html)
    with atomic_path(out_dir / "index.html") as tmp:
        tmp.write_text(page)
    return claims
