"""Read a built CSL corpus (the files of the data rule: three splits and card.json)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.io import read_json
from rnnatlas.papers.csl.data import CSLGrammar

SPLITS = ("train", "validation", "test")
CORPUS_FILES = (*SPLITS, "card")  # the names of a corpus's files, in the rules and here


@dataclass
class CSLData:
    grammar: CSLGrammar
    card: dict
    splits: dict[str, pd.DataFrame]

    @property
    def input_dim(self) -> int:
        return len(self.grammar.vocabulary)

    def tokens(self, split: str) -> list[np.ndarray]:
        return [np.asarray(t, dtype=np.int64) for t in self.splits[split]["tokens"]]

    def teachers(self, split: str) -> np.ndarray:
        return np.stack(self.splits[split]["teacher"].map(np.asarray).to_list()).astype(np.float64)


def load_csl(files: Mapping[str, str | Path]) -> CSLData:
    """The corpus whose files are `files`: split name -> Parquet, and "card" -> card.json."""
    missing = [name for name in CORPUS_FILES if name not in files]
    if missing:
        raise ValueError(f"a CSL corpus needs the files {', '.join(missing)} (rule csl_corpus)")
    card_path = Path(files["card"])
    if not card_path.exists():
        raise FileNotFoundError(f"{card_path} is missing: build the corpus first (rule csl_corpus)")
    card = read_json(card_path, "rule csl_corpus writes it")
    grammar = CSLGrammar(card["n_objects"], center=card["center"])
    splits = {split: pd.read_parquet(files[split]) for split in SPLITS}
    return CSLData(grammar=grammar, card=card, splits=splits)


def training_subset(frame: pd.DataFrame, sentences: int) -> pd.DataFrame:
    """The first `sentences` training sentences, 30 % one-object and 70 % two-object.

    Juven's grids over training-set size keep the paper's 300/700 proportion [guess]; the head of
    each part is taken so smaller sets are nested in larger ones.
    """
    one = frame[frame["n_clauses"] == 1]
    two = frame[frame["n_clauses"] == 2]
    n_one = round(sentences * len(one) / max(len(frame), 1))
    n_two = sentences - n_one
    if n_one > len(one) or n_two > len(two):
        raise ValueError(
            f"{sentences} training sentences asked for, the split holds {len(one)} one-object and "
            f"{len(two)} two-object sentences"
        )
    return pd.concat([one.iloc[:n_one], two.iloc[:n_two]], ignore_index=True)
