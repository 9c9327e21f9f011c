"""The report's section on text8 autocomplete (Madsen 2019, "Visualizing memorization in RNNs").

`load_tables(paths)` reads the rule outputs into the dict that the claims and
`text8_section` use; `text8_section` writes the HTML: the dataset card, the configuration beside
the paper's, the figures, the connectivity heatmap with a link to the interactive explorer, and
the autocomplete demo.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from rnnatlas.io import read_json, read_parquet
from rnnatlas.papers.text8 import figures as figures_text8
from rnnatlas.papers.text8 import reference as ref
from rnnatlas.papers.text8.claims import count_padding_setting, registry
from rnnatlas.report.html import Assets, pick
from rnnatlas.report.section import assets, write_section
from rnnatlas.step import Job

TABLE_KEYS = ("test", "letters", "demo")  # Parquet tables, one file or one per model
FIGURES = (  # name, title, the table it is drawn from
    ("test_table", "Test cross-entropy and accuracy, ours beside the paper's",
     "results/experiments/text8/MODEL/seedS/test_metrics.parquet"),
    ("letters_known", "Accuracy given letters known (ours solid, the paper dashed)",
     "results/experiments/text8/MODEL/seedS/letters_known.parquet"),
    ("training_curves", "Training and validation loss (ticks: the paper's final losses)",
     "results/models/DATASET/MODEL/seedS/history.parquet"),
)  # fmt: skip
EXPLORER = "connectivity_explorer.html"
CONNECTIVITY = "connectivity.png"


def _paths(value) -> list[Path]:
    if isinstance(value, (str, Path)):
        return [Path(value)]
    return [Path(v) for v in value]


def _history_model(path: Path) -> str:
    """The model a history.parquet belongs to: model.json's name beside it, else its folder."""
    card = path.parent / "model.json"
    if card.exists():
        data = read_json(card, "rule text8_train writes it")
        return str(data.get("name") or data.get("cell"))
    for folder in path.parents:  # results/models/text8/{model}/seed{seed}/history.parquet
        if not folder.name.startswith("seed"):
            return folder.name
    return path.parent.name


def load_tables(paths: Mapping) -> dict:
    """The text8 tables from the rule outputs.

    paths: "test", "letters", "demo": one Parquet file or a list of them (one per model,
    concatenated); "histories": {model: history.parquet} or a list of history.parquet paths
    (the model read from model.json beside each); "card": the data's card.json; "explorer"
    (optional): the connectivity explorer's HTML if it is not figures/connectivity_explorer.html.
    "figures" (the figures folder) is skipped here.
    """
    tables: dict = {}
    for key, value in paths.items():
        if key == "figures" or value is None:
            continue
        if key in TABLE_KEYS:
            files = _paths(value)
            for path in files:
                if not path.exists():
                    raise FileNotFoundError(f"text8 {key} table {path} is missing")
            frames = [read_parquet(p) for p in files]
            tables[key] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
            if key == "demo" and "model" not in tables[key]:
                raise ValueError(
                    f"text8 demo table(s) {[str(p) for p in files]} lack a 'model' column: add "
                    "the model's name (gru, lstm, nlstm) to autocomplete_demo's rows"
                )
        elif key == "histories":
            items = (
                value.items()
                if isinstance(value, Mapping)
                else ((_history_model(p), p) for p in _paths(value))
            )
            tables[key] = {str(model): read_parquet(path) for model, path in items}
        elif key == "card":
            tables[key] = read_json(value, "rule text8_data writes it")
        else:
            tables[key] = value
    return tables


def _rows(pairs: Sequence[tuple]) -> str:
    return "".join(
        "<tr>" + "".join(f"<td>{html.escape(_show(v))}</td>" for v in row) + "</tr>"
        for row in pairs
    )


def _show(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def card_summary(card: Mapping) -> str:
    """The data card as a two-column table (ours), with the paper's sizes where it gives them."""
    source = card.get("source") or {}
    if isinstance(source, Mapping):
        described = source.get("dataset") or source.get("name") or source.get("kind")
        kind = source.get("kind", "")
        matches = source.get("matches_published")
    else:
        described, kind, matches = str(source), "", None
    observations = card.get("observations") or {}
    split = ", ".join(f"{k} {v:,}" for k, v in observations.items() if k != "total")
    rows = [
        ("source", f"{described} ({kind})" if kind else described, "text8.zip (31,344,016 bytes)"),
        ("published text8.zip", matches, True),
        ("characters", card.get("characters"), ref.CONFIG["characters"]),
        ("words", card.get("words"), None),
        (
            "vocabulary (classes, incl. <eos>, <unknown>)",
            card.get("vocabulary_size"),
            ref.CONFIG["classes"],
        ),
        ("coverage (words in the vocabulary)", card.get("coverage"), None),
        ("observations per split", split or None, f"train {ref.CONFIG['train_sequences']:,}"),
    ]
    body = _rows(rows)
    return f"<table><tr><th>data</th><th>ours</th><th>paper</th></tr>{body}</table>"


def _classes(config: Mapping, card: Mapping | None) -> tuple[int, str]:
    if card and card.get("vocabulary_size"):
        return int(card["vocabulary_size"]), ""
    bits = config["text8"]["data"].get("vocabulary_bits", ref.CONFIG["vocabulary_bits"])
    return 2**bits + 2, " (at most: no card)"


def configuration_table(config: Mapping, card: Mapping | None = None) -> str:
    """Ours versus the paper: units, vocabulary, steps, batch, parameters per part."""
    from rnnatlas.models.autocomplete import DEFAULT_LAYERS, tf_parameter_counts

    text8 = config["text8"]
    model, data = text8.get("model", {}), text8.get("data", {})
    units = model.get("units")
    classes, note = _classes(config, card)
    batch = model.get("batch_size", ref.CONFIG["batch_size"])
    steps = model.get("steps")
    train = ((card or {}).get("observations") or {}).get("train")
    epochs = f"{steps * batch / train:.2f}" if train and steps else "–"
    rows = [
        ("data source", data.get("source"), ref.CONFIG["source"]),
        (
            "vocabulary bits / classes",
            f"{data.get('vocabulary_bits')} / {classes:,}{note}",
            f"{ref.CONFIG['vocabulary_bits']} / {ref.CONFIG['classes']:,}",
        ),
        (
            "characters per observation (max)",
            data.get("max_chars", ref.CONFIG["max_chars"]),
            ref.CONFIG["max_chars"],
        ),
        ("units", units, ref.CONFIG["units"]),
        ("optimizer steps", steps, ref.STEPS),
        ("batch", batch, ref.CONFIG["batch_size"]),
        ("epochs", epochs, "2"),
        ("learning rate (Adam)", model.get("lr", 1e-3), 1e-3),
        ("seed", text8.get("seed"), None),
    ]
    models = [m for m in text8.get("models", ref.MODELS) if m in DEFAULT_LAYERS]
    for cell in models:
        paper = tf_parameter_counts(cell, ref.CONFIG["units"], ref.CONFIG["classes"])
        ours = tf_parameter_counts(cell, units, classes) if units else None
        label = f"{figures_text8.display(cell)} ({DEFAULT_LAYERS[cell]} layer"
        label += "s)" if DEFAULT_LAYERS[cell] > 1 else ", depth 2)"
        for part in ("embedding", "recurrent", "dense", "total"):
            rows.append((f"{label}: {part} parameters", ours[part] if ours else None, paper[part]))
    body = _rows(rows)
    return f"<table><tr><th>setting</th><th>ours</th><th>paper</th></tr>{body}</table>"


def final_losses_table(histories: Mapping[str, pd.DataFrame]) -> str:
    """Per model: the last history row (step, losses, seconds) beside the paper's final losses."""
    rows = []
    for model in figures_text8.ordered_models(histories):
        last = histories[model].sort_values("step").iloc[-1]
        paper = ref.FINAL_LOSS.get(model, {})
        seconds = float(last["seconds"]) if "seconds" in last else None
        rows.append(
            (
                figures_text8.display(model),
                int(last["step"]),
                f"{last['train_loss']:.3f} / {paper.get('train_loss', float('nan')):.3f}",
                f"{last['valid_loss']:.3f} / {paper.get('valid_loss', float('nan')):.3f}",
                f"{seconds:,.0f}" if seconds is not None else None,
            )
        )
    head = (
        "<tr><th>model</th><th>steps (paper 14,278)</th><th>train loss ours / paper</th>"
        "<th>valid loss ours / paper</th><th>training seconds (paper about 22,400–23,000)</th></tr>"
    )
    return f"<table>{head}{_rows(rows)}</table>"


def letters_table(letters: pd.DataFrame, count_padding: bool) -> str:
    """Top-1 accuracy (%) at 0..7 letters known: ours and the paper's, one row per model."""
    accuracy = figures_text8.letters_accuracy(letters, count_padding)
    top1 = accuracy[(accuracy["k"] == 1) & (accuracy["letters"].isin(ref.LETTERS))]
    head = "<tr><th>model</th>" + "".join(f"<th>{n}</th>" for n in ref.LETTERS) + "</tr>"
    rows = []
    for model in figures_text8.ordered_models(top1["model"]):
        ours = top1[top1["model"] == model].set_index("letters")["accuracy"]
        cells = "".join(f"<td>{ours[n]:.1f}</td>" if n in ours else "<td>–</td>"
                        for n in ref.LETTERS)  # fmt: skip
        rows.append(f"<tr><td>{html.escape(figures_text8.display(model))} (ours)</td>{cells}</tr>")
        if model in ref.LETTERS_TOP1:
            paper = "".join(f"<td>{v:.1f}</td>" for v in ref.LETTERS_TOP1[model])
            rows.append(
                f"<tr><td>{html.escape(figures_text8.display(model))} (paper)</td>{paper}</tr>"
            )
    return f"<table><tr><th colspan='9'>letters known</th></tr>{head}{''.join(rows)}</table>"


def text8_section(config: Mapping, tables: Mapping, figures: Sequence[Path], assets: Assets) -> str:
    """The HTML of the text8 section; `figures`: the rule's declared figure files."""
    text8 = config["text8"]
    model = text8.get("model", {})
    count_padding = count_padding_setting(config)
    card = tables.get("card")
    if isinstance(card, (str, Path)):
        card = read_json(card, "rule text8_data writes it")
    models = ", ".join(figures_text8.display(m) for m in text8.get("models", []))
    parts = [
        f"<p>Character-level autocomplete on text8: after every character the network predicts "
        f"the word being typed ({models}; {model.get('units')} units, "
        f"{model.get('steps')} optimizer steps of batch "
        f"{model.get('batch_size', ref.CONFIG['batch_size'])}). Cross-entropy is the mean over "
        "test sequences of each sequence's masked mean; accuracy is top-1 over every character, "
        "&lt;unknown&gt; targets included. The paper's numbers come from one network per model "
        "and no spread, so the claims' tolerances are ours.</p>",
    ]
    if card:
        parts += ["<h3>Data</h3>", card_summary(card)]
    parts += ["<h3>Configuration</h3>", configuration_table(config, card)]
    parts.append("<h3>Results</h3>")
    test = tables.get("test")
    if test is not None and not test.empty:
        parts.append(figures_text8.test_table_html(test))
    else:
        parts.append(pick(figures, "test_table.html").read_text())
    histories = tables.get("histories")
    if histories:
        parts.append(final_losses_table(histories))
    letters = tables.get("letters")
    if letters is not None and not letters.empty:
        padding = "true" if count_padding else "false"
        parts.append(
            f"<p>Accuracy given letters known: text8.evaluate.count_padding is {padding} "
            + (
                "(the padded positions of the test batches of 16 are counted as the author's run "
                "did: misses at high letters-known values)."
                if count_padding
                else "(only the real characters of the test sequences count; the author's run "
                "also counted padded positions, which lowers the published tail)."
            )
            + "</p>"
        )
        parts.append(letters_table(letters, count_padding))
    for name, title, table in FIGURES:
        parts.append(assets.figure(pick(figures, f"{name}.png"), title, table))
    parts.append("<h3>Connectivity</h3>")
    connectivity = text8.get("connectivity", {})
    squared = connectivity.get("squared")
    if squared is not None:
        norm = "squared norm (the author's code)" if squared else "plain norm (the article)"
        parts.append(
            f"<p>‖∂ logit of the target word at t̃ / ∂ input at t‖, {norm}; each output row "
            "divided by its maximum over the inputs.</p>"
        )
    parts.append(
        assets.figure(
            pick(figures, CONNECTIVITY),
            "Connectivity of every input character to the target word's logit, one panel per model",
            "results/analysis/text8/connectivity.parquet",
        )
    )
    explorer = Path(tables.get("explorer") or pick(figures, EXPLORER))
    if explorer.exists():
        parts.append(
            f"<p><a href='{assets.link(explorer)}'>Interactive connectivity explorer</a> "
            "(hover a character for its connectivity and the top-3 words; click to pin).</p>"
        )
    demo = tables.get("demo")
    if demo is not None and not demo.empty:
        text = html.escape(text8.get("demo", {}).get("text", "parts of north africa"))
        parts.append(f"<h3>Autocomplete demo: “{text}”</h3>")
        parts.append(figures_text8.demo_table(demo))
    return "\n".join(p for p in parts if p)


def section(job: Job) -> None:
    """Rule text8_section: the text8 claims and section of the report."""
    tables = load_tables(
        {
            "test": job.input.test,
            "letters": job.input.letters,
            # the rule lists one history per configured model, in config order
            "histories": dict(
                zip(job.params.config["text8"]["models"], job.input.histories, strict=True)
            ),
            "demo": job.input.demo,
            "card": job.input.card,
            "explorer": job.input.explorer,
        }
    )
    config = job.params.config
    body = text8_section(config, tables, job.input.figures, assets(job))
    write_section(job, registry(), tables, body)
