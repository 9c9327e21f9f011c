"""The report's section on memory signatures (Koppula, Sim & Chin 2018).

`load_tables(paths)` reads the rule outputs into the dict that the claims and
`memory_section` use: "signatures" (every signature Parquet, concatenated) and "capacity"
(memory_capacity_check's dict). `memory_section` writes the HTML: the method, the memory-capacity
cross-check, the figures and the table of memory areas.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from rnnatlas.io import read_json, read_parquet
from rnnatlas.papers.memory import figures as figures_memory
from rnnatlas.papers.memory.claims import registry
from rnnatlas.papers.memory.observations import ngram_versus_recurrent
from rnnatlas.report.html import Assets, pick
from rnnatlas.report.section import assets, write_section
from rnnatlas.step import Job

FIGURES = (
    ("memory_csl", "CSL task: memory signatures of the ESN reservoir and the LSTM's h and c"),
    ("memory_mnist", "Sequential MNIST: memory signatures of the dense and the low-rank RNN"),
    ("memory_text8", "text8: memory signatures of every layer and state, and of the n-grams"),
    ("memory_ngram", "text8: n-gram windows versus the recurrent models' top-layer h"),
    ("memory_lowrank", "Low-rank RNN: the state in the bases of U and V, against the full state"),
)
CAPACITY_KEYS = ("ours", "reservoirpy")
SIGNATURE_TABLES = "results/analysis/memory/FAMILY/MODEL.parquet"
AREA_FRAGMENT = "memory_area.html"


def _paths(value) -> list[Path]:
    if isinstance(value, (str, Path)):
        return [Path(value)]
    return [Path(v) for v in value]


def _read_signature(path: Path) -> pd.DataFrame:
    """One signature Parquet; family and model taken from results/analysis/memory/{family}/
    {model}.parquet when the table lacks those columns."""
    if not path.exists():
        raise FileNotFoundError(f"memory signature table {path} is missing")
    table = read_parquet(path)
    if "family" not in table:
        table.insert(0, "family", path.parent.name)
    if "model" not in table:
        table.insert(1, "model", path.stem)
    try:
        figures_memory.require(table)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    return table


def load_tables(paths: Mapping) -> dict:
    """The memory tables from the rule outputs.

    paths: "signatures": one Parquet file or a list of them (concatenated); "capacity": the
    capacity.json of memory_capacity_check. "figures" (the figures folder) is skipped here.
    """
    tables: dict = {}
    for key, value in paths.items():
        if key == "figures" or value is None:
            continue
        if key == "signatures":
            frames = [_read_signature(p) for p in _paths(value)]
            tables[key] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        elif key == "capacity":
            path = Path(value)
            if not path.exists():
                raise FileNotFoundError(f"memory capacity file {path} is missing")
            capacity = read_json(path, "rule memory_capacity writes it")
            missing = [k for k in CAPACITY_KEYS if k not in capacity]
            if missing:
                raise ValueError(
                    f"{path} lacks {missing}: write it with "
                    "rnnatlas.analysis.memory_signature.memory_capacity_check"
                )
            tables[key] = capacity
        else:
            tables[key] = value
    return tables


def _method(config: Mapping) -> str:
    memory = config.get("memory") or {}
    decoder = memory.get("decoder", "logistic")
    max_lag = memory.get("max_lag")
    lags = f"k = 0..{max_lag}" if max_lag is not None else "every lag k"
    test_fraction = memory.get("test_fraction", 0.25)
    samples = memory.get("max_samples")
    thinned = f"; at most {samples:,} states per signature" if isinstance(samples, int) else ""
    ngram = memory.get("ngram")
    grams = (
        " and for character n-gram models (n = "
        + ", ".join(str(n) for n in ngram)
        + "), whose state is the one-hot window of the last n − 1 characters"
        if ngram
        else ""
    )
    mnist = ""
    if memory.get("mnist_bins") is not None:
        mnist = (
            " For sequential MNIST the input of a step is its row's mean pixel, coded in "
            f"{memory['mnist_bins']} classes (memory.mnist_bins)."
        )
    elif memory.get("mnist_target") is not None:
        target = html.escape(str(memory["mnist_target"]))
        mnist = f" For sequential MNIST the decoded input is {target}."
    return (
        f"<p>A memory signature is how well the input k steps back can be read from a recurrent "
        f"state. For every recorded state (each layer's h and c, the ESN's reservoir, the "
        f"low-rank RNN's coordinates in U's and V's bases){grams}, one {html.escape(decoder)} "
        f"decoder per lag {lags} is trained to predict the input at t − k from the state at t "
        f"(lag 0: the input just read). Whole sequences are held out (a share of "
        f"{test_fraction:g}){thinned}; accuracy and cross-entropy are measured on them. Chance "
        "levels: the accuracy of always predicting the most frequent training input "
        "(majority class) and the entropy of the training inputs' unigram distribution (the "
        f"cross-entropy of predicting it).{mnist} The memory area of a signature is the sum "
        "over lags of max(0, accuracy − majority chance), in lags of perfect recall above "
        f"chance; its memory length the last lag more than {figures_memory.ABOVE_CHANCE} above "
        "chance. The paper's body and code are not available: the method follows its abstract "
        "(one decoder per lag is our reading) and every criterion of the claims is ours.</p>"
    )


def capacity_line(capacity: Mapping | None) -> str:
    """One sentence: our memory capacity against reservoirpy's, on the same linear reservoir."""
    if not capacity:
        return ""
    ours, theirs = float(capacity["ours"]), float(capacity["reservoirpy"])
    relative = abs(ours - theirs) / abs(theirs) if theirs else abs(ours - theirs)
    setup = []
    if "units" in capacity:
        setup.append(f"{capacity['units']} units")
    if "max_lag" in capacity:
        setup.append(f"lags 1..{capacity['max_lag']}")
    where = f" ({', '.join(setup)})" if setup else ""
    return (
        f"<p>Memory capacity cross-check: Jaeger's memory capacity of a linear reservoir"
        f"{where}, the sum of squared correlations of ridge decoders, is <b>{ours:.4f}</b> from "
        f"our linear memory signature and <b>{theirs:.4f}</b> from "
        f"reservoirpy.observables.memory_capacity on the same reservoir and input (relative "
        f"difference {relative:.2e}).</p>"
    )


def memory_section(
    config: Mapping, tables: Mapping, figures: Sequence[Path], assets: Assets
) -> str:
    """The HTML of the memory-signature section; `figures`: the rule's declared figure files
    (the area table comes from the tables, else from the declared memory_area.html)."""
    parts = [
        _method(config),
        capacity_line(tables.get("capacity")),
    ]
    for name, title in FIGURES:
        parts.append(assets.figure(pick(figures, f"{name}.png"), title, SIGNATURE_TABLES))
    signatures = tables.get("signatures")
    area = ""
    if signatures is not None and len(signatures):
        area = figures_memory.area_table_html(signatures)
    else:
        area = pick(figures, AREA_FRAGMENT).read_text()
    if area:
        parts += ["<h3>Memory areas</h3>", area, ngram_versus_recurrent(tables, config)]
    return "\n".join(p for p in parts if p)


def section(job: Job) -> None:
    """Rule memory_section: the memory-signature claims and section of the report."""
    tables = load_tables({"signatures": job.input.signatures, "capacity": job.input.capacity})
    config = job.params.config
    body = memory_section(config, tables, job.input.figures, assets(job))
    write_section(job, registry(), tables, body)
