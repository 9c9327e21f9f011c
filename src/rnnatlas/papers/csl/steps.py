"""The CSL steps: the functions the rules call (`rnnatlas.step`: rule csl_<name> -> <name>(job))
and the work they do (corpus, training, sweeps, baseline, tables, states).

Long because it holds both the rule-facing step functions and the corpus/training/sweep work
they call; the visual analyses have their own modules.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from rnnatlas.io import read_json, read_parquet, write_json, write_parquet
from rnnatlas.models import save
from rnnatlas.step import Job

log = logging.getLogger("rnnatlas")


def corpus_step(
    files: Mapping[str, Path],
    n_objects: int,
    center: bool,
    seed: int,
    train: Sequence[int],
    test: Sequence[int],
    validation: Sequence[int],
    protocol: str = "variengien",
    totals: Sequence[int] = (1000, 1000),
) -> dict:
    """Build a corpus and write `files`: split name -> Parquet, "card" -> card.json."""
    from rnnatlas.papers.csl.data import CSLGrammar, build_corpus, corpus_card, juven_split_sizes

    if protocol == "juven":  # Juven & Hinaut's own draws replace the given split sizes
        sizes = juven_split_sizes(CSLGrammar(n_objects, center=center), *totals, seed=seed)
        train, test, validation = sizes["train"], sizes["test"], sizes["validation"]
    config = {
        "protocol": protocol,
        "n_objects": n_objects,
        "center": center,
        "seed": seed,
        "train": list(train),
        "test": list(test),
        "validation": list(validation),
    }
    splits = build_corpus(
        n_objects,
        center=center,
        seed=seed,
        train=tuple(train),
        test=tuple(test),
        validation=tuple(validation),
    )
    for name, frame in splits.items():
        write_parquet(files[name], frame)
    card = corpus_card(CSLGrammar(n_objects, center=center), splits, seed, config)
    card["protocol"] = protocol
    if protocol == "juven":
        card["dataset"] += "-juven"
    write_json(files["card"], card)
    log.info("corpus %s: %s", card["dataset"], card["splits"])
    return card


def train_step(
    corpus: Mapping[str, Path],
    out: Mapping[str, Path],
    model_name: str,
    spec: Mapping,
    seed: int,
    decode: Mapping,
    resume_dir: Path | None = None,
    threads: int = 1,
) -> dict:
    """Train one model on one corpus.

    Writes `out`'s files: "model" (model.pt), "card" (model.json), "history" (Parquet),
    "metrics" (JSON) and, for an LSTM, "checkpoints" (a folder of the saved epochs).
    """
    import torch

    from rnnatlas.papers.csl.corpus_io import load_csl

    torch.set_num_threads(threads)
    data = load_csl(corpus)
    card = {
        "kind": spec["kind"],
        "name": model_name,
        "dataset": data.card["dataset"],
        "seed": seed,
        "spec": dict(spec),
        "decode": dict(decode),
        "input_vocabulary": list(data.grammar.vocabulary),
        "output_labels": data.card["output_labels"],
    }
    if spec["kind"] == "esn":
        from rnnatlas.papers.csl.esn_runs import train_esn

        run = train_esn(data, spec, seed, decode)
    else:
        from rnnatlas.papers.csl.lstm_runs import train_lstm
        from rnnatlas.training import export_checkpoints

        if resume_dir is None:
            raise ValueError("an LSTM needs resume_dir, a path that is not a declared output")
        if "checkpoints" not in out:
            raise ValueError("an LSTM needs a checkpoints folder among its outputs")
        run = train_lstm(data, spec, seed, decode, resume_dir=resume_dir, threads=threads)
        export_checkpoints(run.run_dir, out["checkpoints"])
    card["hyperparameters"] = run.model.hyperparameters()
    metrics = {
        "dataset": data.card["dataset"],
        "protocol": data.card.get("protocol", "variengien"),
        "n_objects": data.card["n_objects"],
        "model": model_name,
        "kind": spec["kind"],
        "seed": seed,
        **run.metrics,
    }
    save(run.model, out["model"], out["card"], card)
    write_parquet(out["history"], run.history)
    write_json(out["metrics"], metrics)
    log.info("%s seed %d on %s: %s", model_name, seed, data.card["dataset"], metrics)
    return metrics


def sweep_step(
    corpus: Mapping[str, Path],
    out: Path,
    sweep: str,
    model_name: str,
    spec: Mapping,
    values: Sequence[int],
    seeds: Sequence[int],
    decode: Mapping,
) -> pd.DataFrame:
    """ESN error versus reservoir units or versus training sentences (Juven's grids)."""
    from rnnatlas.papers.csl.corpus_io import load_csl, training_subset
    from rnnatlas.papers.csl.esn_runs import train_esn

    data = load_csl(corpus)
    rows = []
    grid = [(value, seed) for value in values for seed in seeds]
    for value, seed in tqdm(grid, desc=f"ESN vs {sweep}", unit="net"):
        if sweep == "units":
            run = train_esn(data, spec, seed, decode, units=value, track_history=False)
        elif sweep == "sentences":
            subset = training_subset(data.splits["train"], value)
            run = train_esn(data, spec, seed, decode, train_frame=subset, track_history=False)
        else:
            raise ValueError(f"unknown sweep {sweep!r}; expected 'units' or 'sentences'")
        rows.append(
            {
                "sweep": sweep,
                "protocol": data.card.get("protocol", "variengien"),
                "value": value,
                "model": model_name,
                "seed": seed,
                **run.metrics,
            }
        )
    frame = pd.DataFrame(rows)
    write_parquet(out, frame)
    return frame


def bow_step(
    out: Path, n_objects: int, center: bool, runs: int, corpus: Mapping, decode: Mapping
) -> pd.DataFrame:
    """The bag-of-words memorisation baseline over `runs` corpus draws (seeds 0..runs-1)."""
    from rnnatlas.models.bow import BagOfWordsMemory
    from rnnatlas.papers.csl.data import CSLGrammar, build_corpus
    from rnnatlas.papers.csl.metrics import csl_errors

    grammar = CSLGrammar(n_objects, center=center)
    rows = []
    for seed in tqdm(range(runs), desc="bag-of-words baseline", unit="run"):
        splits = build_corpus(
            n_objects,
            center=center,
            seed=seed,
            train=tuple(corpus["train"]),
            test=tuple(corpus["test"]),
            validation=tuple(corpus["validation"]),
        )
        memory = BagOfWordsMemory(grammar.output_dim).fit(splits["train"])
        errors = csl_errors(memory.predict(splits["test"]), splits["test"], grammar, **decode)
        rows.append(
            {
                "model": "bag_of_words",
                "n_objects": n_objects,
                "seed": seed,
                "clause_coverage": memory.coverage(splits["test"]),
                **errors,
            }
        )
    frame = pd.DataFrame(rows)
    write_parquet(out, frame)
    return frame


def collect_step(metrics_files: Sequence[Path], out_runs: Path, out_summary: Path) -> pd.DataFrame:
    """Gather per-run metrics.json into one table and its mean ± sd per (dataset, model)."""
    runs = pd.DataFrame([read_json(p, "rule csl_train_* writes it") for p in metrics_files])
    write_parquet(out_runs, runs)
    # one row per protocol too: Variengien's and Juven's corpora and decoding are not pooled
    write_parquet(out_summary, summarise(runs, ["protocol", "n_objects", "model"]))
    return runs


METRIC_COLUMNS = ("valid_error", "exact_error", "rmse", "cpu_time_s", "wall_time_s")


def summarise(runs: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Mean, sd and count of each metric per group (sd with ddof=1, NaN for a single run)."""
    present = [c for c in METRIC_COLUMNS if c in runs.columns]
    grouped = runs.groupby(list(by), sort=True)[present]
    summary = grouped.agg(["mean", "std", "count"])
    summary.columns = [f"{metric}_{stat}" for metric, stat in summary.columns]
    summary = summary.reset_index()
    summary["n_runs"] = grouped.size().to_numpy()
    return summary


def states_step(
    model_path: Path, model_card: Path, corpus: Mapping[str, Path], out: Path, split: str = "test"
) -> Path:
    """Dump the model's states after every word of a split, streamed, in the public schema.

    model_path is the model's model.pt, model_card its model.json; corpus the corpus's files.
    """
    import torch

    from rnnatlas import states
    from rnnatlas.models import load
    from rnnatlas.models.lstm import one_hot_batch
    from rnnatlas.papers.csl.corpus_io import load_csl

    data = load_csl(corpus)
    model = load(model_path)
    card = read_json(model_card, "train the model first (rules csl_train_esn, csl_train_lstm)")
    frame = data.splits[split]
    vocabulary = np.asarray(data.grammar.vocabulary)
    batch = 100

    def sequences():
        for start in tqdm(range(0, len(frame), batch), desc=f"states {card['name']}", unit="batch"):
            chunk = frame.iloc[start : start + batch]
            tokens = [np.asarray(t, dtype=np.int64) for t in chunk["tokens"]]
            inputs, _ = one_hot_batch(tokens, data.input_dim)
            if card["kind"] == "esn":  # the reservoir runs in float64, as it was trained
                inputs = inputs.double()
            with torch.no_grad():
                recorded = model.states(inputs)
                outputs = model(inputs).numpy()
            for row, (sid, teacher, toks) in enumerate(
                zip(chunk["sentence_id"], chunk["teacher"], tokens, strict=True)
            ):
                length = len(toks)
                yield states.SequenceStates(
                    sequence_id=int(sid),
                    tokens=vocabulary[toks].tolist(),
                    states={k: v[row, :length].numpy() for k, v in recorded.items()},
                    targets=np.repeat(np.asarray(teacher)[None, :], length, axis=0),
                    predictions=outputs[row, :length],
                )

    meta = {
        "model": card["name"],
        "kind": card["kind"],
        "dataset": data.card["dataset"],
        "split": split,
        "seed": card["seed"],
        "output_labels": data.card["output_labels"],
    }
    return states.write(out, sequences(), metadata=meta)


# ---- step functions called by the rules (rnnatlas.step: rule csl_<name> -> <name>(job)) ----


def _corpus(files) -> dict[str, Path]:
    """The files of one corpus among a rule's named files (train, validation, test, card)."""
    from rnnatlas.papers.csl.corpus_io import CORPUS_FILES

    return {name: getattr(files, name) for name in CORPUS_FILES}


def _figure_dir(figures: Sequence[Path], names: Sequence[str], exts: Sequence[str]) -> Path:
    """The one folder in which the drawing writes the rule's declared figures `name.ext`."""
    from rnnatlas.figures.style import declared_folders

    folders = set(declared_folders(figures, names, exts).values())
    if len(folders) != 1:
        raise ValueError(f"the figures {list(map(str, figures))} must share one folder")
    return folders.pop()


def corpus(job: Job) -> None:
    """Rule csl_corpus: one corpus's splits and card.json."""
    corpus_step(_corpus(job.output), **job.params.corpus)


def train_esn(job: Job) -> None:
    """Rule csl_train_esn: train and score one ESN on one corpus."""
    train_step(
        _corpus(job.input), job.output.named(), job.wildcards.model, job.params.spec,
        int(job.wildcards.seed), job.params.decode, threads=job.threads,
    )  # fmt: skip


def train_lstm(job: Job) -> None:
    """Rule csl_train_lstm: train (resumably) and score one LSTM on one corpus."""
    train_step(
        _corpus(job.input), job.output.named(), job.wildcards.model, job.params.spec,
        int(job.wildcards.seed), job.params.decode, resume_dir=Path(job.params.resume),
        threads=job.threads,
    )  # fmt: skip


def states(job: Job) -> None:
    """Rule csl_states: a trained model's states on the test split."""
    states_step(job.input.model, job.input.model_card, _corpus(job.input), job.output[0])


def esn_sweep(job: Job) -> None:
    """Rule csl_esn_sweep: ESN errors versus reservoir units or training sentences."""
    import torch

    torch.set_num_threads(job.threads)
    grid = job.params.grid
    sweep_step(
        _corpus(job.input), job.output[0], job.wildcards.sweep, grid["model"], job.params.spec,
        [int(v) for v in grid["values"]], [int(s) for s in grid["seeds"]], job.params.decode,
    )  # fmt: skip


def bag_of_words(job: Job) -> None:
    """Rule csl_bag_of_words: the memorisation baseline over `params.runs` corpus draws."""
    corpus = job.params.corpus
    bow_step(
        job.output[0], corpus["n_objects"], corpus["center"], job.params.runs, corpus,
        job.params.decode,
    )  # fmt: skip


def collect(job: Job) -> None:
    """Rule csl_collect: every run's metrics.json in one table, and its summary."""
    collect_step(list(job.input), job.output.runs, job.output.summary)


def figures(job: Job) -> None:
    """Rule csl_figures: the paper's figures and the error table."""
    from rnnatlas.papers.csl.figures import FIGURES, draw_all

    folder = _figure_dir([*job.output.png, *job.output.svg], FIGURES, ("png", "svg"))
    draw_all(
        job.input.runs, job.input.units, job.input.sentences, job.input.bow,
        list(job.input.histories), folder, job.output.table, job.output.table_html,
    )  # fmt: skip


def rssviz(job: Job) -> None:
    """Rule csl_rssviz: the UMAP layout of a model's test states (RSSviz) and its tables."""
    from rnnatlas.papers.csl.rssviz import rssviz_step

    p = job.params
    rssviz_step(
        job.input.states, job.input.model, _corpus(job.input), job.output.named(),
        sentences=p.rss["sentences"], state=p.state, umap=p.rss["umap"],
        random_state=p.rss["random_state"], trajectories=p.rss["trajectories"],
        decode=p.decode, trust_neighbors=p.rss["trust_neighbors"],
    )  # fmt: skip


def rssviz_figures(job: Job) -> None:
    """Rule csl_rssviz_figures: the RSSviz views (PNG + SVG) and the interactive page."""
    from rnnatlas.figures.interactive import rssviz_html
    from rnnatlas.papers.csl.figures_rssviz import VIEWS, draw_views

    prefix = job.wildcards.model
    names = [f"{prefix}_{view}" for view in VIEWS]
    folder = _figure_dir([*job.output.png, *job.output.svg], names, ("png", "svg"))
    table = read_parquet(job.input[0])
    draw_views(table, job.params.outputs, job.params.title, folder, prefix)
    fitted = table[table["role"] == "fit"].drop_duplicates("unique_id")
    rssviz_html(fitted, job.output.html, f"RSSviz: {job.params.title}")


def rssviz_training(job: Job) -> None:
    """Rule csl_rssviz_training: the RSSviz layout across training, animated."""
    from rnnatlas.papers.csl.rssviz_training import training_step

    p = job.params
    gif = job.output.gif
    folder = _figure_dir([gif, job.output.png, job.output.svg], [gif.stem], ("gif", "png", "svg"))
    card = read_json(job.input.model_card, "train the model first")
    training_step(
        card["kind"], job.input.embedding, job.input.states, job.input.model,
        job.input.model_card, _corpus(job.input), job.input.get("checkpoints"),
        job.output.named(), folder, gif.stem, stages=p.stages, outputs=p.rss["outputs"],
        decode=p.decode, state=p.state, umap=p.rss["umap"],
        random_state=p.rss["random_state"], title=p.title,
    )  # fmt: skip


def rssviz_hyperparameters(job: Job) -> None:
    """Rule csl_rssviz_hyperparameters: RSSviz of untrained reservoirs over a grid."""
    from rnnatlas.papers.csl.rssviz_hyper import FIGURE, hyper_step

    p = job.params
    grid = p.rss["hyperparameters"]
    folder = _figure_dir([job.output.png, job.output.svg], [FIGURE], ("png", "svg"))
    hyper_step(
        _corpus(job.input), p.spec, job.output.named(), folder,
        spectral_radius=[float(v) for v in grid["spectral_radius"]],
        leak=[float(v) for v in grid["leak"]],
        input_scaling=[float(v) for v in grid["input_scaling"]],
        sentences=int(p.rss["sentences"]), seed=int(p.seed),
        umap=p.rss["umap"], random_state=p.rss["random_state"],
        trust_neighbors=p.rss["trust_neighbors"],
    )  # fmt: skip


def units(job: Job) -> None:
    """Rule csl_units: readout weights and unit activity of a trained model."""
    from rnnatlas.papers.csl.units import FIGURES, units_step

    folder = _figure_dir([*job.output.png, *job.output.svg], FIGURES, ("png", "svg"))
    tables = {Path(path).stem: path for path in job.output.tables}
    u = job.params.units
    units_step(
        job.input.model, job.input.model_card, _corpus(job.input), job.input.states,
        {**tables, "summary": job.output.summary}, folder, u["sentence"], top_k=u["top_k"],
        polyvalent_min=u["polyvalent_min"], connected_output=u["connected_output"],
        connected_k=u["connected_k"], delta_sentences=u["delta_sentences"],
        state=job.params.state, seed=job.params.rss["random_state"],
    )  # fmt: skip
