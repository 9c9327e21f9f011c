"""The step functions of the text8 rules (Madsen 2019): rule text8_<name> runs <name>(job).

Each unpacks the rule's files and params (see rnnatlas.step) and calls the module that does the
work: data (download), dataset (splits), train (training, test, states), connectivity, figures.
"""

from __future__ import annotations

from rnnatlas.step import Job

SPLITS = ("train", "valid", "test")


def download(job: Job) -> None:
    """Rule text8_download: fetch text8.zip (checked by size and sha256)."""
    from rnnatlas.papers.text8.data import download_text8

    download_text8(job.output.zip)


def data(job: Job) -> None:
    """Rule text8_data: the autocomplete dataset, its three split files and card.json."""
    from rnnatlas.papers.text8.dataset import data_step

    config = job.params.data
    data_step(
        {name: job.output.get(name) for name in (*SPLITS, "card")},
        source=config["source"],
        zip_path=job.input.get("zip"),
        vocabulary_bits=config["vocabulary_bits"],
        max_chars=config["max_chars"],
        seed=config["seed"],
        max_characters=config["max_characters"],
    )


def train(job: Job) -> None:
    """Rule text8_train: one GRU / LSTM / Nested LSTM autocomplete model, resumably."""
    from rnnatlas.papers.text8.train import OUTPUT_KEYS, train_step

    spec = dict(job.params.spec)
    spec["batch"] = spec.pop("batch_size", spec.get("batch", 64))
    train_step(
        {name: job.input.get(name) for name in ("train", "valid", "card")},
        {name: job.output.get(name) for name in OUTPUT_KEYS},
        spec,
        int(job.wildcards.seed),
        job.params.resume,
        threads=job.threads,
        name=spec["kind"],
        device=job.params.device,
    )


def evaluate(job: Job) -> None:
    """Rule text8_evaluate: a model's test cross-entropy and accuracy, and letters known."""
    from rnnatlas.papers.text8.train import evaluate_step

    evaluate_step(
        job.input.model, job.input.model_card, job.input.data, job.input.card,
        job.output.test, job.output.letters, max_sequences=job.params.max_sequences,
        threads=job.threads,
    )  # fmt: skip


def states(job: Job) -> None:
    """Rule text8_states: a model's hidden states after every character of test sequences."""
    from rnnatlas.papers.text8.train import states_step

    states_step(
        job.input.model, job.input.model_card, job.input.data, job.input.card, job.output[0],
        max_sequences=job.params.sequences, threads=job.threads,
    )  # fmt: skip


def connectivity(job: Job) -> None:
    """Rule text8_connectivity: connectivity heatmaps, explorer and demo of every model."""
    from rnnatlas.papers.text8.connectivity import OUTPUTS, PAPER_TEXT, connectivity_step

    connectivity_step(
        job.input.models, job.input.model_cards, job.input.card,
        {name: job.output.get(name) for name in OUTPUTS}, text=job.params.text or PAPER_TEXT,
        squared=job.params.squared, demo_text=job.params.demo, threads=job.threads,
    )  # fmt: skip


def figures(job: Job) -> None:
    """Rule text8_figures: the test table, letters known and training curves."""
    from rnnatlas.papers.text8.figures import draw_all
    from rnnatlas.papers.text8.section import load_tables

    histories = dict(zip(job.params.models, job.input.histories, strict=True))
    tables = load_tables(
        {"test": job.input.test, "letters": job.input.letters, "histories": histories}
    )
    draw_all(
        tables["test"], tables["letters"], tables["histories"], job.output.png, job.output.svg,
        job.output.table, count_padding=job.params.count_padding,
    )  # fmt: skip
