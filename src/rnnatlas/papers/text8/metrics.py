"""The text8 autocomplete metrics of Madsen 2019, as the author's code computes them.

Data conventions (rnnatlas.papers.text8.dataset): source symbols 0 <eos>/pad, 1 space,
2..27 a-z; target word ids 0 <eos> (padding only), 1 <unknown>, 2.. vocabulary words. Every word
is read as " " + its letters, and every one of those characters has the word as its target (the
leading space already predicts the coming word).

- Training loss (`masked_cross_entropy`): softmax cross-entropy at every character, `<eos>` and
  `<unknown>` targets masked, averaged over the batch's scored characters (TF's
  `sparse_softmax_cross_entropy(weights=mask, reduction=MEAN)`).
- Test cross-entropy: the author evaluates with batch 1 and `tf.metrics.mean` of that loss, so the
  mean over sequences of each sequence's masked mean (`sequence_cross_entropies`).
- Test accuracy: `tf.metrics.accuracy(target, argmax)` without weights at batch 1, so over every
  character of every sequence, `<unknown>` targets included (never predicted right in practice:
  the class is masked out of training) and no padding (`accuracy_counts`).
- Accuracy given letters known (`letters_known_accuracy`): at every character, the number of
  letters of the current word already read (0 at its leading space) and whether the target word
  is among the top-1/2/3 predictions; accuracy per letters-known value. Padding: see
  `letters_known`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

PAD_SYMBOL = 0
SPACE_SYMBOL = 1
EOS_TARGET = 0
UNKNOWN_TARGET = 1
LETTERS_COLUMNS = ("letters", "k", "count_padding", "correct", "total", "accuracy")


def scored_mask(targets):
    """True where a target is scored by the loss: not `<eos>` (padding), not `<unknown>`."""
    return (targets != EOS_TARGET) & (targets != UNKNOWN_TARGET)


def masked_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the scored characters of a batch (the training loss).

    logits [..., classes], targets [...]. A batch without a scored character gives 0 (TF's
    weighted mean divides with div_no_nan), still attached to the graph.
    """
    mask = scored_mask(targets)
    if not bool(mask.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits[mask], targets[mask])


def sequence_cross_entropies(logits: torch.Tensor, targets: torch.Tensor) -> np.ndarray:
    """Each sequence's mean cross-entropy over its scored characters, [batch] float64.

    logits [B, T, classes], targets [B, T] (padding has target `<eos>`, so it is masked).
    NaN for a sequence without a scored character (the author's code would count it as 0;
    text8 has none: every sequence holds vocabulary words).
    """
    if logits.dim() != 3 or targets.shape != logits.shape[:2]:
        raise ValueError(
            f"logits must be [B, T, classes] and targets [B, T], got {tuple(logits.shape)} and "
            f"{tuple(targets.shape)}"
        )
    losses = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none").double()
    mask = scored_mask(targets).double()
    counts = mask.sum(dim=1)
    sums = (losses * mask).sum(dim=1)
    result = (sums / counts).cpu().numpy()
    result[counts.cpu().numpy() == 0] = np.nan
    return result


def _real_positions(shape: tuple[int, int], lengths) -> np.ndarray:
    lengths = np.asarray(lengths).reshape(-1, 1)
    return np.arange(shape[1])[None, :] < lengths


def accuracy_counts(predictions, targets, lengths) -> tuple[int, int]:
    """(right, characters): top-1 predictions [B, T] equal to targets [B, T] at the real
    characters (t < length); `<unknown>` targets count, padding does not."""
    predictions, targets = np.asarray(predictions), np.asarray(targets)
    real = _real_positions(targets.shape, lengths)
    return int(((predictions == targets) & real).sum()), int(real.sum())


def letters_known(sources, lengths, count_padding: bool = False) -> np.ndarray:
    """Letters of the current word read so far at every position, [B, T] int64; -1 = not counted.

    The count restarts at 0 on a space and grows by one at every other symbol, as the author's
    ContextAccuracy does (its loop sees "<eos>" for padding, which is not a space).
    count_padding=False: padded positions (t >= length) are -1. count_padding=True reproduces the
    author's quantitative run, which fed padded test batches of 16: padding continues the
    count past the sequence's last word (its length + 1, + 2, ...). Those positions have target
    `<eos>` and the TF model's output there is the dense bias alone (dynamic_rnn emits zeros
    past a sequence's length), whose top words are never `<eos>`, a class trained only
    downwards: every padded position is a miss, counted at high letters-known values. Shorter
    sequences in a batch add more of them, so the published tail (5+ letters) is lower than the
    accuracy on the real characters alone, and depends on how the test set was batched.
    """
    sources = np.asarray(sources)
    if sources.ndim != 2:
        raise ValueError(f"sources must be [B, T] symbol ids, got shape {sources.shape}")
    steps = np.arange(sources.shape[1])
    # index of the last space at or before each position (-1: none yet)
    last_space = np.maximum.accumulate(
        np.where(sources == SPACE_SYMBOL, steps[None, :], -1), axis=1
    )
    letters = (steps[None, :] - last_space).astype(np.int64)
    if not count_padding:
        letters[~_real_positions(sources.shape, lengths)] = -1
    return letters


def top_k_hits(ranked, targets) -> np.ndarray:
    """hits[b, t, j]: the target is among the first j + 1 of ranked[b, t] (classes, best first)."""
    ranked, targets = np.asarray(ranked), np.asarray(targets)
    if ranked.ndim != 3 or ranked.shape[:2] != targets.shape:
        raise ValueError(
            f"ranked must be [B, T, k] and targets [B, T], got {ranked.shape} and {targets.shape}"
        )
    return np.logical_or.accumulate(ranked == targets[..., None], axis=2)


def letters_known_counts(letters, hits) -> pd.DataFrame:
    """Per (letters, k): correct and total positions; rows only for letters values seen."""
    letters, hits = np.asarray(letters), np.asarray(hits)
    counted = letters >= 0
    values = letters[counted]
    if values.size == 0:
        return pd.DataFrame(columns=["letters", "k", "correct", "total"])
    size = int(values.max()) + 1
    total = np.bincount(values, minlength=size)
    rows = []
    for j in range(hits.shape[-1]):
        correct = np.bincount(values, weights=hits[..., j][counted], minlength=size)
        for count in np.flatnonzero(total):
            rows.append((int(count), j + 1, int(correct[count]), int(total[count])))
    return pd.DataFrame(rows, columns=["letters", "k", "correct", "total"])


def letters_known_accuracy(
    ranked, targets, sources, lengths, count_padding: bool = False
) -> pd.DataFrame:
    """Top-k accuracy per letters known: letters, k, count_padding, correct, total, accuracy.

    ranked [B, T, k]: predicted word ids, best first; with count_padding the ranking at padded
    positions is what the model gives there (the author's TF model: the dense bias's ranking).
    """
    hits = top_k_hits(ranked, targets)
    frame = letters_known_counts(letters_known(sources, lengths, count_padding), hits)
    return _with_accuracy(frame, count_padding)


def _with_accuracy(frame: pd.DataFrame, count_padding: bool) -> pd.DataFrame:
    frame = frame.copy()
    frame["count_padding"] = bool(count_padding)
    frame["accuracy"] = frame["correct"] / frame["total"]
    return frame[list(LETTERS_COLUMNS)].sort_values(["k", "letters"], ignore_index=True)


@dataclass
class AutocompleteScores:
    """Accumulates the test metrics over batches of sequences."""

    k: int = 3
    sequence_losses: list[np.ndarray] = field(default_factory=list)
    right: int = 0
    characters: int = 0
    counts: dict[bool, list[pd.DataFrame]] = field(default_factory=lambda: {False: [], True: []})

    def add(self, logits: torch.Tensor, targets: torch.Tensor, sources, lengths, ranked=None):
        """One batch: logits [B, T, C] (padded positions may hold anything), targets [B, T],
        sources [B, T], lengths [B]. ranked [B, T, >=k]: the ranking used for the letters
        table (default: top-k of logits everywhere, padded positions included)."""
        self.sequence_losses.append(sequence_cross_entropies(logits, targets))
        if ranked is None:
            ranked = torch.topk(logits, self.k, dim=-1).indices
        ranked = np.asarray(ranked.cpu() if isinstance(ranked, torch.Tensor) else ranked)
        ranked = ranked[..., : self.k]
        targets_np = np.asarray(targets.cpu())
        right, characters = accuracy_counts(ranked[..., 0], targets_np, lengths)
        self.right += right
        self.characters += characters
        hits = top_k_hits(ranked, targets_np)
        for count_padding in (False, True):
            letters = letters_known(sources, lengths, count_padding)
            self.counts[count_padding].append(letters_known_counts(letters, hits))

    def summary(self) -> dict:
        """cross_entropy (mean of per-sequence means) and its standard error over the sequences
        (cross_entropy_se), accuracy, sequences, characters."""
        losses = np.concatenate(self.sequence_losses) if self.sequence_losses else np.zeros(0)
        scored = losses[~np.isnan(losses)]
        spread = scored.std(ddof=1) / np.sqrt(scored.size) if scored.size > 1 else float("nan")
        return {
            "cross_entropy": float(scored.mean()) if scored.size else float("nan"),
            "cross_entropy_se": float(spread),
            "accuracy": self.right / self.characters if self.characters else float("nan"),
            "sequences": int(losses.size),
            "sequences_scored": int(scored.size),
            "characters": int(self.characters),
        }

    def letters_table(self) -> pd.DataFrame:
        """The letters-known table for both count_padding settings."""
        frames = []
        for count_padding, parts in self.counts.items():
            if not parts:
                continue
            summed = pd.concat(parts).groupby(["letters", "k"], as_index=False).sum()
            frames.append(_with_accuracy(summed, count_padding))
        if not frames:
            return pd.DataFrame(columns=list(LETTERS_COLUMNS))
        return pd.concat(frames, ignore_index=True)
