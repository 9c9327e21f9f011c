"""Decoding and error measures of the CSL task (Juven & Hinaut 2020; Variengien & Hinaut 2020).

Outputs are read per object slot and per group (object | position | color): a softmax picks the
most likely concept, kept only when it is clearly above chance. A sentence is *valid* when every
attribute it states is decoded, *exact* when in addition nothing else is decoded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnnatlas.papers.csl.data import GROUPS, CSLGrammar

NONE = -1  # decoded/stated "no concept"


def predicates(frame: pd.DataFrame, grammar: CSLGrammar) -> np.ndarray:
    """int16 [N, 2, 3]: concept index (within its group) each sentence states, -1 if unstated."""
    return grammar.stated_indices(frame)


def teacher_matrix(frame: pd.DataFrame) -> np.ndarray:
    """float32 [N, output_dim] stacked from the per-row `teacher` column."""
    if "teacher" not in frame.columns:
        raise ValueError("CSL frame lacks the 'teacher' column: build it with build_corpus")
    rows = frame["teacher"].to_list()
    if not rows:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([np.asarray(row, dtype=np.float32) for row in rows])


def decode(
    outputs: np.ndarray,
    grammar: CSLGrammar,
    beta: float = 1.0,
    threshold: float = 1.3,
    rule: str = "relative",
    min_output: float | None = None,
) -> np.ndarray:
    """int16 [N, 2, 3]: per slot and group, the softmax argmax if accepted, else -1.

    rule "relative" (Variengien & Hinaut): accepted if its probability >= threshold / group
    size. rule "absolute" (Juven & Hinaut's script): probability >= threshold and, if
    min_output is given, the winning raw output >= min_output.
    """
    if rule not in ("relative", "absolute"):
        raise ValueError(f"decode rule must be 'relative' or 'absolute', got {rule!r}")
    outputs = _check_outputs(outputs, grammar)
    decoded = np.full((len(outputs), 2, len(GROUPS)), NONE, dtype=np.int16)
    for slot in (0, 1):
        for g, group in enumerate(GROUPS):
            group_outputs = outputs[:, grammar.group_slice(slot, group)]
            probabilities = _softmax(beta * group_outputs)
            best = probabilities.argmax(axis=1)
            size = probabilities.shape[1] if rule == "relative" else 1
            confident = probabilities.max(axis=1) >= threshold / size
            if min_output is not None:
                confident &= group_outputs.max(axis=1) >= min_output
            decoded[:, slot, g] = np.where(confident, best, NONE)
    return decoded


def valid_exact(decoded: np.ndarray, preds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sentence: valid (stated attributes decoded, others free) and exact (all equal)."""
    decoded, preds = np.asarray(decoded), np.asarray(preds)
    if decoded.shape != preds.shape:
        raise ValueError(f"decoded {decoded.shape} and predicates {preds.shape} differ in shape")
    matches = decoded == preds
    valid = np.where(preds >= 0, matches, True).all(axis=(1, 2))
    exact = matches.all(axis=(1, 2))
    return valid, exact


def csl_errors(
    outputs: np.ndarray,
    frame: pd.DataFrame,
    grammar: CSLGrammar,
    beta: float = 1.0,
    threshold: float = 1.3,
    rule: str = "relative",
    min_output: float | None = None,
) -> dict:
    """Valid error, exact error (fractions of sentences) and RMSE to the teacher."""
    outputs = _check_outputs(outputs, grammar)
    if len(outputs) != len(frame):
        raise ValueError(f"{len(outputs)} output rows for a frame of {len(frame)} sentences")
    if len(frame) == 0:
        nan = float("nan")
        return {"valid_error": nan, "exact_error": nan, "rmse": nan, "n": 0}
    decoded = decode(outputs, grammar, beta, threshold, rule, min_output)
    valid, exact = valid_exact(decoded, predicates(frame, grammar))
    residual = outputs - teacher_matrix(frame)
    return {
        "valid_error": float(1.0 - valid.mean()),
        "exact_error": float(1.0 - exact.mean()),
        "rmse": float(np.sqrt(np.mean(residual**2))),
        "n": len(frame),
    }


def _softmax(z: np.ndarray) -> np.ndarray:
    # shift by the row max so exp never overflows
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _check_outputs(outputs: np.ndarray, grammar: CSLGrammar) -> np.ndarray:
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim != 2 or outputs.shape[1] != grammar.output_dim:
        raise ValueError(
            f"outputs must have shape [N, {grammar.output_dim}] for {grammar.name}, "
            f"got {outputs.shape}"
        )
    return outputs
