"""The report's section on the CSL visual analyses (RSSviz, its animation and grid, units)."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

VIEW_TITLES = {
    "trajectories": "trajectories of the chosen sentences",
    "final_states": "final states",
    "clauses": "states by clause",
    "outputs": "states by output activation",
    "error_map": "error map (9 classes)",
}
UNIT_TITLES = {
    "winglet": "winglet plot: |readout weight| sorted, one curve per output",
    "polyvalent_deltas": "polyvalent units, |Δ state| word by word",
    "connected_deltas": "units most connected to output 0: Σ|Δ state| per word",
    "cell_units": "unit activity over the sentence",
    "output_activations": "output activations per word",
}


def load_visual(config: Mapping, analysis: Path) -> dict:
    """The JSON/Parquet summaries of every visual analysis the config asks for."""
    analysis = Path(analysis)
    models = config["csl"]["rssviz"]["models"]

    def read_json(path: Path):
        return json.loads(path.read_text()) if path.exists() else None

    visual = {
        "rssviz": {m: read_json(analysis / "rssviz" / m / "metrics.json") for m in models},
        "training": {
            m: read_json(analysis / "rssviz_training" / m / "training.json") for m in models
        },
        "units": {m: read_json(analysis / "units" / m / "summary.json") for m in models},
    }
    visual = {k: {m: v for m, v in d.items() if v is not None} for k, d in visual.items()}
    panels = analysis / "rssviz_hyper" / "panels.parquet"
    if panels.exists():
        visual["hyper"] = pd.read_parquet(panels)
    return visual


def _figure(path: Path, title: str, report_dir: Path, extra_link: Path | None = None) -> str:
    from rnnatlas.report.build import _img

    if not path.exists():
        return ""
    links = [f"<a href='{_rel(path.with_suffix('.svg'), report_dir)}'>SVG</a>"]
    if extra_link is not None and extra_link.exists():
        links.append(f"<a href='{_rel(extra_link, report_dir)}'>{extra_link.suffix[1:]}</a>")
    return (
        f"<figure>{_img(path, title)}<figcaption>{html.escape(title)} "
        f"({', '.join(links)})</figcaption></figure>"
    )


def _rel(path: Path, report_dir: Path) -> str:
    return html.escape(os.path.relpath(path, report_dir))


def visual_section(config: Mapping, visual: Mapping, figures: Path, report_dir: Path) -> str:
    rss = config["csl"]["rssviz"]
    parts = [
        "<h2>Variengien &amp; Hinaut 2020 — visual analyses</h2>",
        f"<p>RSSviz: UMAP (2 components, random_state {rss['random_state']}, "
        f"{html.escape(json.dumps(rss['umap']))}) fitted on the unique states after every word of "
        f"{rss['sentences']} test sentences drawn at random (seed {rss['random_state']}). "
        "Every view is drawn from "
        "<code>results/analysis/csl/rssviz/MODEL/embedding.parquet</code>; "
        "trustworthiness and the prefix-nesting measure are claims below.</p>",
    ]
    rssviz_dir = figures / "rssviz"
    for model, metrics in visual.get("rssviz", {}).items():
        parts.append(
            f"<h3>RSSviz — {html.escape(model)} (state <code>{metrics['state']}</code>, "
            f"{metrics['unique_states']:,} unique of {metrics['states']:,} states, "
            f"trustworthiness {metrics['trustworthiness']:.3f})</h3>"
        )
        interactive = rssviz_dir / f"{model}.html"
        if interactive.exists():
            parts.append(
                f"<p><a href='{_rel(interactive, report_dir)}'>Interactive version</a> "
                "(hover a point for its sentence, word and position).</p>"
            )
        for view, title in VIEW_TITLES.items():
            parts.append(
                _figure(rssviz_dir / f"{model}_{view}.png", f"{model}: {title}", report_dir)
            )
    for model, summary in visual.get("training", {}).items():
        gif = rssviz_dir / f"{model}_training.gif"
        parts.append(f"<h3>RSSviz across training — {html.escape(model)}</h3>")
        parts.append(
            f"<p>Interpretation (the paper does not say how this was made): "
            f"{html.escape(summary['interpretation'])}. Stages ({summary['stage_unit']}): "
            f"{', '.join(map(str, summary['stages']))}.</p>"
        )
        if gif.exists():
            from rnnatlas.report.build import _img

            parts.append(f"<figure>{_img(gif, f'{model} across training')}"
                         f"<figcaption>animated GIF</figcaption></figure>")  # fmt: skip
        parts.append(
            _figure(rssviz_dir / f"{model}_training.png", f"{model}: four frames", report_dir)
        )
    if "hyper" in visual:
        panels = visual["hyper"]
        parts.append("<h3>RSSviz across hyperparameters (untrained reservoirs)</h3>")
        parts.append(_figure(rssviz_dir / "hyperparameters.png", "grid of panels", report_dir))
        parts.append(
            panels[
                ["spectral_radius", "leak", "input_scaling", "unique_states", "trustworthiness"]
            ].to_html(index=False, float_format=lambda v: f"{v:.3g}", border=0)
        )
    for model, summary in visual.get("units", {}).items():
        parts.append(
            f"<h3>Internal units — {html.escape(model)}</h3><p>{summary['n_polyvalent']} "
            f"polyvalent unit(s) of {summary['units']}; the {len(summary['connected_units'])} "
            f"units most connected to output {summary['connected_output']} "
            f"({html.escape(summary['connected_output_label'])}): "
            f"{summary['connected_units']}.</p>"
        )
        unit_figures = [
            _figure(figures / "units" / model / f"{name}.png", f"{model}: {title}", report_dir)
            for name, title in UNIT_TITLES.items()
        ]
        parts.append(f"<div class='grid'>{''.join(unit_figures)}</div>")
    return "\n".join(parts)
