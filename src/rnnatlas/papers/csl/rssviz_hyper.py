"""RSSviz across hyperparameters: untrained reservoirs over a grid of spectral radius × leak rate
(× input scaling), the same test sentences in every panel, colored by clause.

The paper shows such panels without saying how they were made [guess]: each reservoir here is
the configured ESN's random matrix (same seed) rescaled to the panel's hyperparameters, so panels
differ only by the hyperparameters. No readout is involved.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from rnnatlas.analysis import projection
from rnnatlas.io import write_json, write_parquet
from rnnatlas.models.esn import ReservoirWeights

log = logging.getLogger("rnnatlas")


def rescaled(
    weights, cfg, spectral_radius: float, leak: float, input_scaling: float
) -> ReservoirWeights:
    """The reservoir `build_reservoir` gives for the same seed with other hyperparameters.

    Its random draws do not depend on them: W is rescaled to an exact spectral radius and Win
    (with the bias column) multiplied by the input scaling, so rescaling is the same as rebuilding
    (tests check it) without a second dense eigenvalue computation per panel.
    """
    factor_in = input_scaling / cfg.input_scaling
    return ReservoirWeights(
        W=weights.W * (spectral_radius / cfg.spectral_radius),
        Win=weights.Win * factor_in,
        bias=weights.bias * factor_in,
        leak=float(leak),
    )


FIGURE = "hyperparameters"  # the grid's figure: FIGURE.png and FIGURE.svg


def hyper_step(
    corpus: Mapping[str, Path], spec: Mapping, out: Mapping[str, Path], figures_dir: Path, *,
    spectral_radius: Sequence[float], leak: Sequence[float], input_scaling: Sequence[float],
    sentences: int = 200, seed: int = 0, umap: Mapping | None = None, random_state: int = 42,
    trust_neighbors: int = 10,
) -> pd.DataFrame:  # fmt: skip
    """`out`'s "table" (one row per state and panel), "panels" (Parquet) and "summary" (JSON),
    and the figure figures_dir/FIGURE.png, .svg. corpus is the corpus's files."""
    from rnnatlas.models.esn import build_reservoir, harvest
    from rnnatlas.papers.csl.corpus_io import load_csl
    from rnnatlas.papers.csl.esn_runs import esn_config
    from rnnatlas.papers.csl.figures_rssviz_hyper import draw_grid

    data = load_csl(corpus)
    # the same sentences as the RSSviz of the trained models (same count, same seed)
    test = data.splits["test"].set_index("sentence_id", drop=False)
    test = test.loc[projection.sample_sequences(test["sentence_id"], sentences, random_state)]
    tokens = [np.asarray(t, dtype=np.int64) for t in test["tokens"]]
    vocabulary = np.asarray(data.grammar.vocabulary)
    words = [vocabulary[t].tolist() for t in tokens]
    describe = pd.DataFrame(
        {
            "sequence_id": np.repeat(test["sentence_id"].to_numpy(), [len(t) for t in tokens]),
            "t": np.concatenate([np.arange(len(t)) for t in tokens]),
            "token": np.concatenate(words),
            "clause": np.concatenate([projection.clause_labels(w) for w in words]),
        }
    )
    grid = list(itertools.product(input_scaling, spectral_radius, leak))
    base_cfg = esn_config(spec, seed)
    base = ReservoirWeights.from_reservoir(build_reservoir(base_cfg, data.input_dim))
    tables, panels = [], []
    for scaling, radius, rate in tqdm(grid, desc="RSSviz hyperparameter grid", unit="panel"):
        weights = rescaled(base, base_cfg, radius, rate, scaling)
        X = np.concatenate(harvest(weights, tokens, record="all"))
        unique, _, inverse = projection.unique_rows(X)
        layout = projection.fit_umap(unique, umap, random_state=random_state)
        trust = projection.trustworthiness(unique, layout.embedding, trust_neighbors)
        keys = {"input_scaling": scaling, "spectral_radius": radius, "leak": rate}
        tables.append(
            describe.assign(
                **keys,
                x=layout.embedding[inverse, 0],
                y=layout.embedding[inverse, 1],
                unique_id=inverse,
            )
        )
        panels.append(
            {
                **keys,
                "unique_states": len(unique),
                "state_norm_mean": float(np.linalg.norm(unique, axis=1).mean()),
                "trustworthiness": trust,
                "fit_seconds": layout.fit_seconds,
            }
        )
    table = pd.concat(tables, ignore_index=True)
    panel_table = pd.DataFrame(panels)
    write_parquet(out["table"], table)
    write_parquet(out["panels"], panel_table)
    write_json(
        out["summary"],
        {"model_spec": dict(spec), "seed": seed, "sentences": sentences,
         "interpretation": __doc__.split("\n\n")[1].replace("\n", " ")},
    )  # fmt: skip
    draw_grid(table, panel_table, figures_dir, FIGURE)
    return panel_table
