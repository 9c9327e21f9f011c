"""The report's section on Garcia, Munz & Weiskopf 2021: what stands in for the paper's data,
each use case's classifier and its views (figures drawn from views.parquet), and the claims."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from rnnatlas.analysis.trajectories import decision_points, jump_coincidence
from rnnatlas.io import read_json, read_parquet
from rnnatlas.papers.garcia import reference as ref
from rnnatlas.papers.garcia.claims import GarciaResults, registry
from rnnatlas.report.html import Assets, pick
from rnnatlas.report.section import assets, write_section
from rnnatlas.step import Job

FIGURES = (
    ("projection", "Projection of the states after every word, with trajectories"),
    ("heatmaps", "Expected prediction per class and word: correct and misclassified documents"),
    ("distances", "Distance between consecutive states (global-max normalised)"),
    ("text", "Text colored by the expected prediction; filtered words underlined"),
    ("confusion", "Confusion matrix of the shown sequences"),
)


def load_results(metrics: Sequence[Path], views: Sequence[Path], config: Mapping) -> GarciaResults:
    """metrics.json of each configured use case (in garcia.use_cases order) and the views
    tables of each use case and of mnist (named by their folder)."""
    cases = config["garcia"]["use_cases"]
    results = GarciaResults()
    for name, path in zip(cases, metrics, strict=True):
        results.metrics[name] = read_json(path, "rule garcia_train writes it")
    for path in views:
        results.views[Path(path).parent.name] = read_parquet(path)
    return results


def _stand_in(card: Mapping) -> str:
    source = card.get("source", {})
    if source.get("kind") == "embedded":
        return (
            f"<p><b>{html.escape(card['dataset'])}</b> stands in for IMDB: "
            f"{html.escape(source['dataset'])} ({html.escape(source['file'])}, gensim "
            f"{html.escape(source['version'])}), {card['train_documents']} training and "
            f"{card['test_documents']} test sentences, {card['vocabulary']:,} word ids. The "
            "paper's IMDB has 25,000 reviews of each split; the views are the same, the model "
            "sees far less text.</p>"
        )
    return (
        f"<p><b>{html.escape(card['dataset'])}</b>: {html.escape(source.get('dataset', ''))}, "
        f"{card['train_documents']:,} training and {card['test_documents']:,} test documents, "
        f"{card['vocabulary']:,} word ids (test ids above the largest training id read as "
        f"unknown: {card.get('test_ids_above_training', 0):,}).</p>"
    )


def _use_case(name: str, metrics: Mapping | None, views, figures, shown: Assets) -> str:
    title = "sequential MNIST (the RNN of Horoi et al.)" if name == "mnist" else name
    parts = [f"<h3>{html.escape(title)}</h3>"]
    if metrics is not None:
        parts.append(
            f"<p>Test accuracy {100 * metrics['test_accuracy']:.1f} % (argmax; Keras' binary "
            f"accuracy {100 * metrics['test_binary_accuracy']:.1f} %), "
            f"{metrics['test_documents']:,} test documents, "
            f"{metrics['trainable_parameters']:,} trainable parameters.</p>"
        )
    if views is not None:
        parts.append(observations(views))
    if name != "mnist":
        parts.append(
            f"<p>In the authors' viewer's format: <code>results/analysis/garcia/{html.escape(name)}"
            "/hiddenStatesVis.json</code> (and <code>rnnatlas garcia-import</code> reads theirs "
            "into ours).</p>"
        )
    cells = [
        shown.figure(
            pick(figures, f"garcia/{name}/{figure}.png"),
            title_,
            f"results/analysis/garcia/{name}/views.parquet",
        )  # fmt: skip
        for figure, title_ in FIGURES
    ]
    explorer = shown.link(pick(figures, f"garcia/{name}/explorer.html"))
    parts.append(
        f"<p><a href='{explorer}'>Open the linked views</a> (one self-contained page: the "
        "projection, the text, the heatmap and the distance bars linked by hovering, with the "
        "three filters and a table to pick a sequence).</p>"
    )
    parts.append(f"<div class='grid'>{''.join(cells)}</div>")
    return "\n".join(parts)


def observations(views) -> str:
    """The numbers behind the pictures: do distance jumps come with changes of the expected
    prediction more often than jumps placed at random, and how early is the class decided."""
    jumps = jump_coincidence(views)
    settled = decision_points(views)
    mean = float(settled["fraction"].mean())
    se = float(settled["fraction"].std(ddof=1) / np.sqrt(len(settled))) if len(settled) > 1 else 0
    early = float((settled["fraction"] <= 0.5).mean())
    if jumps["observed"] is None:
        jump_text = f"no distance jump among {jumps['steps']:,} steps"
    else:
        jump_text = (
            f"{100 * jumps['observed']:.1f} % of the {jumps['jumps']:,} distance jumps come with "
            f"a change of the expected prediction (confidence change or argmax flip), against "
            f"{100 * jumps['null_mean']:.1f} % ± {100 * jumps['null_sd']:.1f} for the same jumps "
            f"at random steps of their sequence (permutation p = {jumps['p_value']:.3g})"
        )
    return (
        f"<p class='observation'>Observations: {jump_text}. The predicted class stops "
        f"changing after {100 * mean:.0f} % ± {100 * se:.0f} of a sequence on average (SE over "
        f"{len(settled)} sequences); {100 * early:.0f} % are decided within their first half."
        "</p>"
    )


def garcia_section(config: Mapping, results: GarciaResults, cards, figures, shown) -> str:
    garcia = config["garcia"]
    parts = [
        "<p>Every word's hidden state is read through the trained output layer (the "
        "<i>expected prediction</i>, EP: what the model would answer if the document ended "
        "there); consecutive states are compared by their Euclidean distance divided by the "
        "largest over all documents; filters mark words after a distance jump (&ge; "
        f"{garcia['filters']['distance_jump']:.2f}), a confidence change (some class's EP moves "
        f"by &ge; {garcia['filters']['confidence_change']:.2f}) or an argmax flip. States of "
        "padding, start and unknown tokens are left out, as in the authors' code. The same "
        "views run on the sequential-MNIST RNN, 10 classes over 28 rows.</p>",
        f"<p>The paper reports {ref.PAPER_ACCURACY['imdb']:.0f} % on IMDB and "
        f"{ref.PAPER_ACCURACY['reuters']:.0f} % on Reuters; the latter is Keras' binary "
        "accuracy over the 5 softmax outputs (binary_crossentropy), which a constant answer "
        "puts at 80 %. Claims below compare like with like.</p>",
    ]
    parts += [_stand_in(read_json(card, "rule garcia_data writes it")) for card in cards]
    for name in [*garcia["use_cases"], "mnist"]:
        parts.append(
            _use_case(name, results.metrics.get(name), results.views.get(name), figures, shown)
        )
    return "\n".join(parts)


def section(job: Job) -> None:
    """Rule garcia_section: the Garcia claims and section of the report."""
    config = job.params.config
    results = load_results(job.input.metrics, job.input.views, config)
    body = garcia_section(config, results, job.input.cards, job.input.figures, assets(job))
    write_section(job, registry(), results, body)
