"""The CSL steps the Snakemake rules call through the `rnnatlas` command line."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from rnnatlas.io import write_json, write_parquet
from rnnatlas.step import Job

log = logging.getLogger("rnnatlas")


def corpus_step(
    out_dir: Path,
    n_objects: int,
    center: bool,
    seed: int,
    train: Sequence[int],
    test: Sequence[int],
    validation: Sequence[int],
    protocol: str = "variengien",
    totals: Sequence[int] = (1000, 1000),
) -> dict:
    from rnnatlas.papers.csl.data import CSLGrammar, build_corpus, corpus_card, juven_split_sizes

    if protocol == "juven":  # Juven & Hinaut's own draws replace the given split sizes
        sizes = juven_split_sizes(CSLGrammar(n_objects, center=center), *totals)
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
        write_parquet(out_dir / f"{name}.parquet", frame)
    card = corpus_card(CSLGrammar(n_objects, center=center), splits, seed, config)
    card["protocol"] = protocol
    if protocol == "juven":
        card["dataset"] += "-juven"
    write_json(out_dir / "card.json", card)
    log.info("corpus %s: %s", card["dataset"], card["splits"])
    return card


def train_step(
    data_dir: Path,
    out_dir: Path,
    model_name: str,
    spec: Mapping,
    seed: int,
    decode: Mapping,
    resume_dir: Path | None = None,
    threads: int = 1,
) -> dict:
    """Train one model on one corpus; write model.pt, model.json, history.parquet, metrics.json."""
    import torch

    from rnnatlas.papers.csl.corpus_io import load_csl

    torch.set_num_threads(threads)
    data = load_csl(data_dir)
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
            raise ValueError("an LSTM needs --resume-dir, a path that is not a declared output")
        run = train_lstm(data, spec, seed, decode, resume_dir=resume_dir, threads=threads)
        export_checkpoints(resume_dir, out_dir / "checkpoints")
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
    _save_module(run.model, out_dir, card)
    write_parquet(out_dir / "history.parquet", run.history)
    write_json(out_dir / "metrics.json", metrics)
    log.info("%s seed %d on %s: %s", model_name, seed, data.card["dataset"], metrics)
    return metrics


def _save_module(model, out_dir: Path, card: Mapping) -> None:
    import torch

    from rnnatlas.io import atomic_path

    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / "model.pt") as tmp:
        torch.save(model.state_dict(), tmp)
    write_json(out_dir / "model.json", card)


def sweep_step(
    data_dir: Path,
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

    data = load_csl(data_dir)
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
    runs = pd.DataFrame([json.loads(Path(p).read_text()) for p in metrics_files])
    write_parquet(out_runs, runs)
    write_parquet(out_summary, summarise(runs, ["n_objects", "model"]))
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


def states_step(model_dir: Path, data_dir: Path, out: Path, split: str = "test") -> Path:
    """Dump the model's states after every word of a split, streamed, in the public schema."""
    import torch

    from rnnatlas import states
    from rnnatlas.models import load
    from rnnatlas.models.lstm import one_hot_batch
    from rnnatlas.papers.csl.corpus_io import load_csl

    data = load_csl(data_dir)
    model = load(model_dir)
    card = json.loads((Path(model_dir) / "model.json").read_text())
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


def bag_of_words(job: Job) -> None:
    """Rule csl_bag_of_words: the memorisation baseline over `params.runs` corpus draws."""
    corpus = job.params.corpus
    bow_step(
        job.output[0], corpus["n_objects"], corpus["center"], job.params.runs, corpus,
        job.params.decode,
    )  # fmt: skip
