"""Character n-gram language model: the hard-window memory baseline of Koppula, Sim & Chin 2018.

An n-gram model predicts the next character from the last n - 1 characters and nothing else, so
its "state" after reading position t is the window (x_t, x_{t-1}, ..., x_{t-n+2}): the input at
lags 0..n-2 (lag 0 = the character just read, as for a recurrent state recorded after its step).
`context_states` writes that window as a one-hot concatenation [T, (n - 1) V]; its memory
signature is perfect recall at lags 0..n-2 and chance beyond (tests/test_ngram.py).

Smoothing (`NGramModel(smoothing=...)`):

- "add_k": P(w | h) = (c(h w) + k) / (c(h) + k V) with h the last n - 1 characters (fewer at the
  start of a text); an unseen context gives the uniform distribution. No backing off.
- "kneser_ney" (default; "Kneser-Ney-lite"): interpolated Kneser-Ney with one absolute discount
  D for every order, down to the uniform distribution:
      P_m(w | h) = [max(c_m(h w) - D, 0) + D N1+(h .) P_{m-1}(w | h')] / c_m(h),
  h' = h without its oldest character, P_0 = 1 / V, and P_m = P_{m-1} for an unseen context h.
  c_n is the raw count; lower orders use continuation counts c_m(h w) = N1+(. h w), the number of
  distinct characters seen before h w (Chen & Goodman 1999). N1+(h .) = number of distinct w with
  c_m(h w) > 0. Lite: one D instead of three per order, no modified-KN count-of-counts estimate.
  With 0 < D <= 1 every distribution sums to one.

`predict_proba(ids)[t]` is the distribution of x_{t+1} given the window ending at t (the same
alignment as an RNN language model's output at t); `cross_entropy` averages -log of it over
t = 0..T-2, in nats per character.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SMOOTHINGS = ("add_k", "kneser_ney")


def encode(text: str, alphabet: str | Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Characters -> int64 ids; the alphabet is the text's sorted characters unless given."""
    symbols = sorted(set(text)) if alphabet is None else list(alphabet)
    index = {symbol: i for i, symbol in enumerate(symbols)}
    missing = sorted(set(text) - set(index))
    if missing:
        raise ValueError(f"text has characters outside the alphabet: {missing[:10]!r}")
    return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text)), symbols


def _ids(text_ids, vocab_size: int | None) -> tuple[np.ndarray, int]:
    ids = np.asarray(text_ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"text_ids must be a 1-D integer array, got {ids.dtype} {ids.shape}")
    if len(ids) and ids.min() < 0:
        raise ValueError("text_ids must be >= 0 (use encode(text) for characters)")
    size = int(ids.max()) + 1 if vocab_size is None and len(ids) else vocab_size or 1
    if len(ids) and ids.max() >= size:
        raise ValueError(f"text_ids has id {ids.max()} >= vocab_size={size}")
    return ids.astype(np.int64), size


def context_states(text_ids, n: int, vocab_size: int | None = None) -> np.ndarray:
    """The n-gram model's state at every position: float32 [T, (n - 1) V].

    Block j (columns j V .. (j + 1) V - 1) is the one-hot of x_{t-j}, j = 0..n-2, and zeros where
    t - j < 0 (the start of the text). vocab_size: V (default max id + 1).
    """
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    ids, size = _ids(text_ids, vocab_size)
    states = np.zeros((len(ids), (n - 1) * size), dtype=np.float32)
    for lag in range(n - 1):
        rows = np.arange(lag, len(ids))
        states[rows, lag * size + ids[rows - lag]] = 1.0
    return states


def _codes(windows: np.ndarray, size: int) -> np.ndarray:
    """Base-V integer of each row (oldest character most significant); [rows] int64."""
    codes = np.zeros(len(windows), dtype=np.int64)
    for column in range(windows.shape[1]):
        codes = codes * size + windows[:, column]
    return codes


class NGramModel:
    """Character n-gram language model over ids 0..vocab_size-1 (see the module docstring)."""

    def __init__(
        self,
        n: int,
        vocab_size: int,
        smoothing: str = "kneser_ney",
        k: float = 1.0,
        discount: float = 0.75,
    ) -> None:
        for name, value in {"n": n, "vocab_size": vocab_size}.items():
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"NGramModel: {name} must be a positive integer, got {value!r}")
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {', '.join(SMOOTHINGS)}; got {smoothing!r}")
        if smoothing == "add_k" and not k > 0:
            raise ValueError(f"k must be > 0 for add-k smoothing, got {k!r}")
        if smoothing == "kneser_ney" and not 0 < discount <= 1:
            raise ValueError(f"discount must be in (0, 1] (so probabilities sum to 1): {discount}")
        if float(vocab_size) ** n >= 2**62:
            raise ValueError(f"vocab_size ** n = {vocab_size}**{n} overflows the context codes")
        self.n, self.vocab_size = int(n), int(vocab_size)
        self.smoothing, self.k, self.discount = smoothing, float(k), float(discount)
        # per order m = 1..n: sorted context codes [contexts] and counts [contexts, V]
        self._contexts: dict[int, np.ndarray] = {}
        self._counts: dict[int, np.ndarray] = {}

    def fit(self, text_ids) -> NGramModel:
        """Count every order's (context, next character) pairs in one text of ids.

        Works on base-V integer codes of the m-grams (1-D uniques and bincounts), so a text8-size
        text of 10^8 characters costs seconds per order, not minutes of row-wise uniques."""
        ids, _ = _ids(text_ids, self.vocab_size)
        if len(ids) < 2:
            raise ValueError("fit needs a text of at least 2 characters")
        V = self.vocab_size
        for order in range(1, self.n + 1):
            if self.smoothing == "kneser_ney" and order < self.n:
                codes = self._continuation_codes(ids, order)
            else:
                codes = _codes(sliding_window_view(ids, order), V) if len(ids) >= order else None
            if codes is None or len(codes) == 0:
                self._contexts[order] = np.zeros(0, dtype=np.int64)
                self._counts[order] = np.zeros((0, V))
                continue
            contexts, row = np.unique(codes // V, return_inverse=True)
            flat = row.reshape(-1) * V + codes % V  # (context slot, next character)
            counts = np.bincount(flat, minlength=len(contexts) * V).astype(np.float64)
            self._contexts[order], self._counts[order] = contexts, counts.reshape(-1, V)
        return self

    def _continuation_codes(self, ids: np.ndarray, order: int) -> np.ndarray | None:
        """One m-gram (h w) code per distinct character before it: counting these gives
        N1+(. h w)."""
        if len(ids) < order + 1:
            return None
        longer = np.unique(_codes(sliding_window_view(ids, order + 1), self.vocab_size))
        return longer % self.vocab_size**order  # drop the oldest (most significant) character

    def predict_proba(self, text_ids) -> np.ndarray:
        """[T, V]: row t is P(x_{t+1} | x_{t-n+2..t}) (a shorter context near the start)."""
        if not self._counts:
            raise ValueError("NGramModel.predict_proba: call fit(text_ids) first")
        ids, _ = _ids(text_ids, self.vocab_size)
        rows = len(ids)
        probabilities = np.full((rows, self.vocab_size), 1.0 / self.vocab_size)
        for order in range(1, self.n + 1):
            width = order - 1  # context length
            eligible = np.arange(max(width - 1, 0), rows)  # rows t with t + 1 >= width
            if width:
                windows = sliding_window_view(ids, width)[eligible - width + 1]
                codes = _codes(windows, self.vocab_size)
            else:
                codes = np.zeros(len(eligible), dtype=np.int64)
            contexts = self._contexts[order]
            slot = np.minimum(np.searchsorted(contexts, codes), max(len(contexts) - 1, 0))
            found = contexts[slot] == codes if len(contexts) else np.zeros(len(codes), bool)
            counts = self._counts[order][slot[found]]
            total = counts.sum(axis=1, keepdims=True)
            at = eligible[found]
            if self.smoothing == "add_k":
                probabilities[eligible[~found]] = 1.0 / self.vocab_size
                probabilities[at] = (counts + self.k) / (total + self.k * self.vocab_size)
            else:
                types = (counts > 0).sum(axis=1, keepdims=True)
                discounted = np.maximum(counts - self.discount, 0.0)
                lower = probabilities[at]
                probabilities[at] = (discounted + self.discount * types * lower) / total
        return probabilities

    def cross_entropy(self, text_ids) -> float:
        """Mean -log P(x_{t+1} | window at t) over t = 0..T-2, in nats per character."""
        ids, _ = _ids(text_ids, self.vocab_size)
        if len(ids) < 2:
            raise ValueError("cross_entropy needs a text of at least 2 characters")
        probabilities = self.predict_proba(ids)[:-1]
        picked = probabilities[np.arange(len(ids) - 1), ids[1:]]
        return float(-np.log(picked).mean())

    def states(self, text_ids) -> dict[str, np.ndarray]:
        """{"window": context_states(text_ids, n)}: the model's state after every position."""
        return {"window": context_states(text_ids, self.n, self.vocab_size)}

    def hyperparameters(self) -> dict:
        return {
            "class": type(self).__name__,
            "n": self.n,
            "vocab_size": self.vocab_size,
            "smoothing": self.smoothing,
            "k": self.k,
            "discount": self.discount,
        }
