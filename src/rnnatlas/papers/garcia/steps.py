"""The functions the Garcia rules call (rule garcia_<name> -> <name>(job))."""

from __future__ import annotations

import logging
from pathlib import Path

from rnnatlas.step import Job

log = logging.getLogger("rnnatlas")
DATA_KEYS = ("train", "test", "vocabulary", "card")


def download(job: Job) -> None:
    """Rule garcia_download: Keras' npz and word index of {keras}, checked."""
    from rnnatlas.papers.garcia.data import download_keras

    paths = download_keras(job.wildcards.keras, Path(job.output.npz).parent)
    for key, path in paths.items():
        if Path(path) != Path(job.output.get(key)):
            raise ValueError(f"rule {job.rule}: {key} went to {path}, not {job.output.get(key)}")


def data(job: Job) -> None:
    """Rule garcia_data: the documents of one use case as padded token ids."""
    from rnnatlas.papers.garcia import data as garcia_data

    spec = job.params.spec
    length = int(spec["max_length"])
    if spec["source"] == "embedded":
        docs = garcia_data.embedded_documents(length)
    elif spec["source"] == "imdb":
        docs = garcia_data.imdb_documents(job.input.npz, job.input.word_index, length)
    else:
        docs = garcia_data.reuters_documents(job.input.npz, job.input.word_index, length)
    card = garcia_data.write_documents(docs, {key: job.output.get(key) for key in DATA_KEYS})
    log.info("garcia data %s: %d train, %d test documents", card["dataset"],
             card["train_documents"], card["test_documents"])  # fmt: skip


def train(job: Job) -> None:
    """Rule garcia_train: the classifier of one use case, resumable from params.resume."""
    from rnnatlas.papers.garcia.train import train_step

    train_step(
        {key: job.input.get(key) for key in DATA_KEYS}, job.output.named(), job.params.spec,
        job.params.training, int(job.wildcards.seed), Path(job.params.resume),
        threads=job.threads,
    )  # fmt: skip


def states(job: Job) -> None:
    """Rule garcia_states: states and expected predictions of the shown test documents."""
    from rnnatlas.papers.garcia.train import states_step

    states_step(
        job.input.model, {key: job.input.get(key) for key in DATA_KEYS}, job.output[0],
        int(job.params.shown), threads=job.threads,
    )  # fmt: skip


def views(job: Job) -> None:
    """Rule garcia_views: the per-step views table and the projection of one use case."""
    from rnnatlas.papers.garcia.views import views_step
    from rnnatlas.states import metadata

    case = job.params.case
    if job.wildcards.use_case == "mnist":
        classes = [str(digit) for digit in range(10)]
        views_step(
            job.input.states, job.output.named(), classes, case["projection"], state="h0",
            model_path=job.input.model, steps=int(case["steps"]),
            sequences=int(case["digits"]), filters=job.params.filters,
        )  # fmt: skip
        return
    classes = metadata(job.input.states)["classes"]
    views_step(
        job.input.states, job.output.named(), classes, case["projection"], state="h",
        filters=job.params.filters,
    )  # fmt: skip


def export(job: Job) -> None:
    """Rule garcia_export: the use case's states and projection in the authors' JSON format."""
    from rnnatlas.io import read_json
    from rnnatlas.papers.garcia.interop import export_json

    metrics = read_json(job.input.metrics, "rule garcia_train writes it")
    export_json(job.input.states, job.input.projection, job.output[0], metrics["test_accuracy"])


def figures(job: Job) -> None:
    """Rule garcia_figures: the paper's views of one use case as static figures."""
    from rnnatlas.figures.style import declared_folders
    from rnnatlas.papers.garcia.figures import draw_all

    declared = [*job.output.png, *job.output.svg]
    folders = set(declared_folders(declared).values())
    if len(folders) != 1:
        raise ValueError(f"rule {job.rule}: the figures must share one folder, got {folders}")
    written = draw_all(job.input.views, job.input.projection, folders.pop())
    missing = sorted(set(map(Path, declared)) - set(map(Path, written)))
    if missing:
        raise ValueError(f"rule {job.rule}: no figure drawn for {[str(p) for p in missing]}")
    from rnnatlas.figures.linked_views import linked_views_html
    from rnnatlas.io import read_parquet

    linked_views_html(
        read_parquet(job.input.views), read_parquet(job.input.projection), job.output.explorer,
        f"Linked views: {job.wildcards.use_case}", jump=job.params.filters["distance_jump"],
    )  # fmt: skip
