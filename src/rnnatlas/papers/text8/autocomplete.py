"""The autocomplete task of Madsen 2019 ("Visualizing memorization in RNNs", Distill).

A character-level network reads text and, at every character, predicts the word being typed:

- input: 28 symbols, `<eos>` (0, padding), space (1), a-z (2..27);
- output: a word id: `<eos>` (0), `<unknown>` (1), then the 2**bits most frequent words (2..);
- observations: whole words packed greedily into sequences of at most `max_chars` characters.
  A word contributes its leading space and its letters to the source, and its id, repeated
  len(word) + 1 times, to the target: at the space the network already guesses the next word;
- splits: 90 / 5 / 5 % of the observations by `RandomState(450849059).permutation`.

These rules follow the author's preprocessing (python/download/preprocess/autocomplete.py in
distillpub/post--memorization-in-rnns); where we differ it is said at the function.
"""

from __future__ import annotations

import itertools
import math
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

EOS = 0  # padding symbol and padding word id
SPACE = 1  # symbol of the space
UNKNOWN = 1  # word id of every word outside the vocabulary
SYMBOLS: tuple[str, ...] = ("<eos>", " ", *string.ascii_lowercase)  # index = symbol
SPECIAL_WORDS: tuple[str, ...] = ("<eos>", "<unknown>")  # word ids 0 and 1
SEED = 450849059  # the author's split seed ("From random.org")
FRACTIONS = (0.9, 0.05, 0.05)  # train, valid, test
SPLITS = ("train", "valid", "test")
MAX_CHARS = 200

# byte -> symbol; -1 marks bytes that are neither a-z nor a space
_SYMBOL_OF_BYTE = np.full(256, -1, dtype=np.int8)
_SYMBOL_OF_BYTE[ord(" ")] = SPACE
_SYMBOL_OF_BYTE[np.frombuffer(string.ascii_lowercase.encode(), dtype=np.uint8)] = np.arange(
    2, 28, dtype=np.int8
)


# ---- symbols ------------------------------------------------------------------------------------


def encode_text(text: str) -> np.ndarray:
    """int8 symbols of a string of a-z and spaces (space -> 1, a -> 2, ..., z -> 27)."""
    try:
        raw = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError as error:
        raise ValueError(
            f"text holds {text[error.start]!r} at position {error.start}: only a-z and spaces "
            f"can be encoded; clean it with rnnatlas.papers.text8.data.clean_wikipedia first"
        ) from None
    symbols = _SYMBOL_OF_BYTE[raw]
    bad = np.flatnonzero(symbols < 0)
    if bad.size:
        position = int(bad[0])
        raise ValueError(
            f"text holds {text[position]!r} at position {position}: only a-z and spaces can be "
            f"encoded; clean it with rnnatlas.papers.text8.data.clean_wikipedia first"
        )
    return symbols


def encode_word(word: str) -> np.ndarray:
    """int8 symbols of one word's letters (a -> 2, ..., z -> 27); no leading space."""
    if not word or " " in word:
        raise ValueError(f"word {word!r} must be one or more letters a-z, without spaces")
    return encode_text(word)


def decode_symbols(symbols: Iterable[int]) -> str:
    """The string of a symbol sequence; `<eos>` padding (0) is dropped."""
    return "".join(SYMBOLS[s] for s in np.asarray(symbols, dtype=np.int64) if s != EOS)


# ---- vocabulary ---------------------------------------------------------------------------------


def build_vocabulary(
    words: Iterable[str], bits: int, *, shuffle_seed: int | None = None
) -> list[str]:
    """Word list whose index is the word id: `<eos>`, `<unknown>`, then the 2**bits most frequent.

    Counts are taken over all `words` (the author also counted the valid and test text). Ties
    are broken alphabetically, so the vocabulary depends on the words only. The author sorted by
    numpy's unstable argsort of the counts, reversed, so among words tied at the cut-off his
    choice may differ from ours (for text8 at 2**14 words, words near 60 occurrences). When fewer
    than 2**bits distinct words exist, all of them are kept.

    Ids follow decreasing frequency (the id of "the" is 2). The author shuffled the chosen words
    with `RandomState(450849059).shuffle`; pass `shuffle_seed` to do the same (ids only change
    which output row a word uses).
    """
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 0 <= bits <= 24:
        raise ValueError(f"vocabulary bits must be an integer in [0, 24], got {bits!r}")
    counts = Counter(words)
    specials = [w for w in SPECIAL_WORDS if w in counts]
    if specials:
        raise ValueError(f"the text holds the reserved word(s) {specials}: they name word ids 0, 1")
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    chosen = [word for word, _ in ranked[: 2**bits]]
    if shuffle_seed is not None:
        order = np.array(chosen, dtype=object)
        np.random.RandomState(shuffle_seed).shuffle(order)
        chosen = order.tolist()
    return [*SPECIAL_WORDS, *chosen]


def word_ids(words: Sequence[str], vocabulary: Sequence[str]) -> np.ndarray:
    """int32 id of each word in `vocabulary` (index = id); words outside it get `<unknown>`."""
    index = _word_index(vocabulary)
    ids = map(index.get, words, itertools.repeat(UNKNOWN))  # dict.get(word, UNKNOWN), in C
    return np.fromiter(ids, dtype=np.int32, count=len(words))


def _word_index(vocabulary: Sequence[str]) -> Mapping[str, int]:
    if tuple(vocabulary[:2]) != SPECIAL_WORDS:
        raise ValueError(
            f"vocabulary must start with {list(SPECIAL_WORDS)}, got {list(vocabulary[:2])}: "
            f"build it with build_vocabulary"
        )
    index = {word: i for i, word in enumerate(vocabulary)}
    if len(index) != len(vocabulary):
        raise ValueError("vocabulary lists a word twice: each word needs one id")
    return index


# ---- observations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observations:
    """Packed observations as slices of two arrays aligned with the text " w1 w2 ... wn".

    `symbols[p]` and `targets[p]` are the input symbol and the target word id at character p of
    the text; observation i is the slice `starts[i]:ends[i]` of both. Slices never overlap and
    follow the text's order; the characters of skipped words belong to no slice.
    """

    symbols: np.ndarray  # int8 [characters]
    targets: np.ndarray  # int32 [characters]
    starts: np.ndarray  # int64 [observations]
    ends: np.ndarray  # int64 [observations]
    skipped_words: int  # words longer than max_chars - 1 (see pack_observations)

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def lengths(self) -> np.ndarray:
        """int64 characters of each observation."""
        return self.ends - self.starts

    def source(self, i: int) -> np.ndarray:
        return self.symbols[self.starts[i] : self.ends[i]]

    def target(self, i: int) -> np.ndarray:
        return self.targets[self.starts[i] : self.ends[i]]

    def gather(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(offsets int64 [k + 1], sources int8, targets int32) of observations `indices`, in
        that order, flat: observation j is values[offsets[j]:offsets[j + 1]] (Arrow's layout)."""
        indices = np.asarray(indices, dtype=np.int64)
        lengths = self.lengths[indices]
        offsets = np.zeros(len(indices) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        # position p of the gathered values comes from starts[obs] + (p - offsets[obs])
        positions = np.repeat(self.starts[indices] - offsets[:-1], lengths)
        positions += np.arange(offsets[-1], dtype=np.int64)
        return offsets, self.symbols[positions], self.targets[positions]


def pack_observations(
    words: Sequence[str], vocabulary: Sequence[str], max_chars: int = MAX_CHARS
) -> Observations:
    """Words packed greedily, in order, into observations of at most `max_chars` characters.

    Each word adds " " + its letters (len + 1 characters); a word that does not fit closes the
    observation and opens the next, so no word is ever split. The last observation keeps what
    is left. A word longer than `max_chars - 1` letters fits nowhere: it is skipped and counted
    in `skipped_words`, and it closes the observation before it (observations stay contiguous
    text). The author's code would emit it as an over-long observation, or fail on it when it
    opens one; the data card reports how many were skipped, so a difference shows.
    """
    if isinstance(max_chars, bool) or not isinstance(max_chars, (int, np.integer)) or max_chars < 2:
        raise ValueError(
            f"max_chars must be an integer >= 2 (a space and a letter), got {max_chars!r}"
        )
    words = list(words)
    if not words:
        raise ValueError("no words to pack: the text is empty")
    empty = next((i for i, w in enumerate(words) if not w), None)
    if empty is not None:
        raise ValueError(
            f"word {empty} is empty (two spaces in a row?): split the text with str.split()"
        )
    symbols = encode_text(" " + " ".join(words))  # word k is " word" at cum[k]:cum[k + 1]
    costs = np.fromiter(map(len, words), dtype=np.int64, count=len(words)) + 1
    if len(symbols) != int(costs.sum()):
        raise ValueError("a word contains a space: pass words, not phrases")
    targets = np.repeat(word_ids(words, vocabulary), costs)
    cum = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(costs, out=cum[1:])

    starts: list[int] = []
    ends: list[int] = []
    skipped = 0
    first = 0  # first word of the observation being built
    while first < len(words):
        # one past the last word that still fits: the largest k with cum[k] <= cum[first] + max
        stop = int(np.searchsorted(cum, cum[first] + max_chars, side="right")) - 1
        if stop == first:  # the word alone is longer than max_chars
            skipped += 1
            first += 1
            continue
        starts.append(int(cum[first]))
        ends.append(int(cum[stop]))
        first = stop
    return Observations(
        symbols=symbols,
        targets=targets,
        starts=np.asarray(starts, dtype=np.int64),
        ends=np.asarray(ends, dtype=np.int64),
        skipped_words=skipped,
    )


# ---- splits -------------------------------------------------------------------------------------


def split_indices(
    n: int, seed: int = SEED, fractions: Sequence[float] = FRACTIONS
) -> dict[str, np.ndarray]:
    """Observation indices of train, valid and test, as the author cut them.

    perm = RandomState(seed).permutation(n); train = perm[:floor(n * f_train)], valid = the next
    floor(n * f_valid), test = the rest (so the test fraction is implied, and gets the rounding).
    Paper scale: n = 507,663 observations gives the paper's 456,896 training sequences.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or not math.isclose(sum(fractions), 1.0):
        raise ValueError(
            f"fractions must be three numbers >= 0 (train, valid, test) summing to 1, got "
            f"{list(fractions)}"
        )
    permutation = np.random.RandomState(seed).permutation(int(n))
    n_train = math.floor(n * fractions[0])
    n_valid = math.floor(n * fractions[1])
    return {
        "train": permutation[:n_train],
        "valid": permutation[n_train : n_train + n_valid],
        "test": permutation[n_train + n_valid :],
    }
