"""Every other number of Madsen 2019 as a record: the parameter table (checks, at any scale: the
models are built at the paper's size, not trained), the data counts, the final losses, the 24
letters-known values and the three top-3 values (the paper's scale).

Read by `rnnatlas.papers.text8.claims.registry`; the same tables ("test", "letters",
"histories", "card") and the same paper-scale requirement.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from pathlib import Path

from rnnatlas.io import read_json
from rnnatlas.papers.text8 import reference as ref
from rnnatlas.papers.text8.claims import count_padding_setting, paper_scale
from rnnatlas.report.claims import (
    CHECK,
    NOT_CHECKED,
    NOT_REPRODUCED,
    REPRODUCED,
    Claim,
    Outcome,
    exact,
)

LOSS_TOLERANCE = 0.05  # nats, ours: one network per model and no spread in the paper
LETTERS_TOLERANCE = 1.0  # percentage points, ours, for the same reason


def _tables(results) -> Mapping:
    return results or {}


@functools.cache
def _paper_size_counts(cell: str) -> dict[str, int]:
    """parameter_counts of our model built at the paper's size (once per cell: 15 M weights)."""
    from rnnatlas.models.autocomplete import AutocompleteModel, parameter_counts

    model = AutocompleteModel(cell, ref.CONFIG["units"], classes=ref.CONFIG["classes"])
    return parameter_counts(model)


def _parameters(part: str, cell: str | None = None) -> Claim:
    """A part of the paper's parameter table, counted on the torch model built at 600 units and
    16,386 classes (rnnatlas.models.autocomplete.parameter_counts: trainable tensors only)."""
    paper = ref.PARAMETERS[part] if cell is None else ref.PARAMETERS[part][cell]
    model_cell = cell or "gru"  # embedding and dense are the same for every cell

    def evaluate(results, config):
        ours = _paper_size_counts(model_cell)[part]
        return exact(ours, paper, "trainable parameters of our torch model at the paper's size "
                     "(torch's second recurrent bias is frozen, as TF has one)")  # fmt: skip

    which = f"{ref.DISPLAY[cell]} recurrent" if cell else part
    return Claim(
        id=f"text8.parameters.{cell or part}",
        paper=ref.PAPER,
        what=f"{which} parameters at {ref.CONFIG['units']} units, "
        f"{ref.CONFIG['classes']:,} classes",
        paper_value=paper,
        unit="parameters",
        source="[text] the article's parameter table",
        requires=_configured,
        evaluate=evaluate,
        kind=CHECK,  # holds by construction of the model
    )


def _card(results) -> Mapping | None:
    card = _tables(results).get("card")
    if isinstance(card, (str, Path)):
        card = read_json(card, "rule text8_data writes it")
    return card


def _data_count(name: str, what: str, paper: int) -> Claim:
    def evaluate(results, config):
        card = _card(results)
        if not card:
            return Outcome(None, NOT_CHECKED, detail="no data card in the results")
        train = int(card["observations"]["train"])
        batch = int(config["text8"]["model"]["batch_size"])
        ours = {
            "classes": int(card["vocabulary_size"]),
            "train_sequences": train,
            "batches_per_epoch": math.ceil(train / batch),
        }[name]
        source = f"from the data card ({card.get('dataset')}, {card.get('source')})"
        return exact(ours, paper, source)

    return Claim(
        id=f"text8.data.{name}",
        paper=ref.PAPER,
        what=what,
        paper_value=paper,
        unit="count",
        source="[code/text] the author's preprocessing of text8.zip",
        requires=paper_scale,
        evaluate=evaluate,
    )


def _configured(config: Mapping) -> str | None:
    text8 = config.get("text8") if isinstance(config, Mapping) else None
    return None if text8 else "the configuration has no text8 section"


def _final_loss(model: str, which: str) -> Claim:
    paper = ref.FINAL_LOSS[model][which]

    def evaluate(results, config):
        history = (_tables(results).get("histories") or {}).get(model)
        if history is None or len(history) == 0 or which not in history:
            return Outcome(None, NOT_CHECKED, detail=f"no training history of {model}")
        last = history.sort_values("step").iloc[-1]
        ours = round(float(last[which]), 4)
        ok = abs(ours - paper) <= LOSS_TOLERANCE
        detail = (
            f"the last history row (step {int(last['step']):,}); tolerance (ours) "
            f"±{LOSS_TOLERANCE} nats: one network per model, no spread in the paper"
        )
        return Outcome(ours, REPRODUCED if ok else NOT_REPRODUCED, LOSS_TOLERANCE, detail)

    label = "training" if which == "train_loss" else "validation"
    return Claim(
        id=f"text8.loss.{model}.{which}",
        paper=ref.PAPER,
        what=f"final {label} loss of the {ref.DISPLAY[model]} after 2 epochs",
        paper_value=paper,
        unit="nats",
        source="[text] the article's training curves",
        requires=paper_scale,
        evaluate=evaluate,
    )


def _letters_value(model: str, letters: int, k: int) -> Claim:
    paper = ref.LETTERS_TOP1[model][letters] if k == 1 else ref.TOP3_AT_0[model]

    def evaluate(results, config):
        table = _tables(results).get("letters")
        padding = count_padding_setting(config)
        if table is None or len(table) == 0:
            return Outcome(None, NOT_CHECKED, detail="no letters-known table in the results")
        rows = table[(table["model"] == model) & (table["letters"] == letters) & (table["k"] == k)
                     & (table["count_padding"] == padding)]  # fmt: skip
        if rows.empty:
            return Outcome(None, NOT_CHECKED, detail=f"no row of {model} at {letters} letters")
        correct, total = int(rows["correct"].sum()), int(rows["total"].sum())
        ours = round(100 * correct / total, 2)
        ok = abs(ours - paper) <= LETTERS_TOLERANCE
        detail = (
            f"{correct:,} of {total:,} positions (binomial SE "
            f"{100 * math.sqrt(ours / 100 * (1 - ours / 100) / total):.2f} pp); tolerance "
            f"(ours) ±{LETTERS_TOLERANCE} pp; count_padding={str(padding).lower()}"
        )
        return Outcome(ours, REPRODUCED if ok else NOT_REPRODUCED, LETTERS_TOLERANCE, detail)

    name = f"top{k}_{letters}"
    return Claim(
        id=f"text8.letters.{model}.{name}",
        paper=ref.PAPER,
        what=f"top-{k} accuracy of the {ref.DISPLAY[model]} with {letters} letter(s) of the word "
        "known",
        paper_value=paper,
        unit="%",
        source=ref.LETTERS_SOURCE,
        requires=paper_scale,
        evaluate=evaluate,
    )


def registry() -> list[Claim]:
    claims = [_parameters("embedding"), _parameters("dense")]
    claims += [_parameters("recurrent", cell) for cell in ref.MODELS]
    claims += [
        _data_count("classes", "word classes (16,384 words, <eos>, <unknown>)",
                    ref.CONFIG["classes"]),
        _data_count("train_sequences", "training sequences", ref.CONFIG["train_sequences"]),
        _data_count("batches_per_epoch", "batches of 64 per epoch", ref.STEPS // 2),
    ]  # fmt: skip
    claims += [_final_loss(m, w) for m in ref.MODELS for w in ("train_loss", "valid_loss")]
    claims += [_letters_value(m, n, 1) for m in ref.MODELS for n in ref.LETTERS]
    claims += [_letters_value(m, 0, 3) for m in ref.MODELS]
    return claims
