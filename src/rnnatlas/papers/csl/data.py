"""Cross-Situational Learning (CSL) corpus of Juven & Hinaut 2020, generated from its grammar.

Sentences describe one or two objects ("BEGIN the glass is on the left and that is a red cup END").
The teacher is a "simulated vision" of the scene: per object slot, one-hot object, position and
color. Attributes a sentence does not state are filled with a random concept, which is what makes
the learning cross-situational. Sentences are addressed by an integer index computed
arithmetically, so the 74 million two-object sentences of the 50-object corpus never exist in
memory at once.

Long because the grammar, the corpus draws of both protocols (Variengien's, Juven's), the
teachers and the card are one dataset definition, tested as one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from math import prod

import numpy as np
import pandas as pd

OBJECTS: tuple[str, ...] = (
    "glass", "cup", "bowl", "orange", "spoon", "apple", "accordion", "acoustic", "bagpipes",
    "banjo", "bass", "bongo", "bugle", "cello", "clarinet", "cymbals", "drums", "electric",
    "guitar", "flute", "horn", "harmonica", "harp", "keyboard", "maracas", "organ", "pan", "piano",
    "recorder", "saxophone", "sitar", "tambourine", "triangle", "trombone", "trumpet", "tuba",
    "ukulele", "violin", "xylophone", "bassoon", "castanets", "didgeridoo", "double", "gong",
    "harpsichord", "lute", "mandolin", "oboe", "piccolo", "viola",
)  # fmt: skip
COLORS = ("red", "orange", "green", "blue")
POSITIONS = ("left", "right", "middle")
GROUPS = ("object", "position", "color")

DETERMINERS = ("a", "the")
CENTER_WORD = "center"  # Juven's synonym of "middle"
FUNCTION_WORDS = ("a", "the", "this", "that", "is", "there", "on", "and")
MIN_OBJECTS, MAX_OBJECTS = 3, len(OBJECTS)
SOURCE = "generated: grammar of Juven & Hinaut 2020"


@dataclass(frozen=True)
class Clause:
    """One-object sentence: its words (without BEGIN/END) and the meaning it states."""

    words: tuple[str, ...]
    object: str
    color: str | None
    position: str | None  # canonical: "middle" even when the word was "center"


class _Slot(Enum):
    """Open positions of a construction template."""

    DET = "det"
    COLOR = "color"
    OPTIONAL_COLOR = "optional color"
    OBJECT = "object"
    POSITION = "position"


@dataclass(frozen=True)
class _Alternatives:
    """A choice between fixed word sequences ("this is" | "that is")."""

    options: tuple[tuple[str, ...], ...]


# The six one-object constructions of Juven & Hinaut's grammar, in order. GN = DET [COLOR] OBJECT.
_CONSTRUCTIONS = (
    (
        _Alternatives((("this", "is"), ("that", "is"))),
        _Slot.DET, _Slot.OPTIONAL_COLOR, _Slot.OBJECT,
    ),
    (_Slot.DET, _Slot.OBJECT, "is", _Slot.COLOR),
    (_Slot.DET, _Slot.OBJECT, "on", "the", _Slot.POSITION, "is", _Slot.COLOR),
    (_Slot.DET, _Slot.OPTIONAL_COLOR, _Slot.OBJECT, "is", "on", "the", _Slot.POSITION),
    ("there", "is", _Slot.DET, _Slot.OPTIONAL_COLOR, _Slot.OBJECT, "on", "the", _Slot.POSITION),
    (
        "on", "the", _Slot.POSITION, _Alternatives((("is",), ("there", "is"))),
        _Slot.DET, _Slot.OPTIONAL_COLOR, _Slot.OBJECT,
    ),
)  # fmt: skip

# One choice of a template element: the words it emits and the (group, concept) it states.
_Option = tuple[tuple[str, ...], tuple[str, str] | None]


class CSLGrammar:
    """The CSL grammar for the first `n_objects` objects, with sentences addressed by index."""

    def __init__(self, n_objects: int, center: bool = False):
        if isinstance(n_objects, bool) or not isinstance(n_objects, (int, np.integer)):
            raise ValueError(f"n_objects must be an integer in [{MIN_OBJECTS}, {MAX_OBJECTS}]")
        if not MIN_OBJECTS <= n_objects <= MAX_OBJECTS:
            raise ValueError(
                f"n_objects={n_objects} is out of range: choose {MIN_OBJECTS} <= n_objects <= "
                f"{MAX_OBJECTS} (the CSL object list has {MAX_OBJECTS} names)"
            )
        self.n_objects = int(n_objects)
        self.center = bool(center)
        self.objects = OBJECTS[: self.n_objects]
        self.colors = COLORS
        self.positions = POSITIONS
        self._concepts = {"object": self.objects, "position": self.positions, "color": self.colors}
        self._concept_index = {
            group: {concept: i for i, concept in enumerate(concepts)}
            for group, concepts in self._concepts.items()
        }
        self._templates = [
            [self._options(element) for element in template] for template in _CONSTRUCTIONS
        ]
        self.construction_counts = tuple(
            prod(len(options) for options in template) for template in self._templates
        )
        self._construction_starts = np.cumsum((0, *self.construction_counts))
        self.one_object_count = int(self._construction_starts[-1])
        self.two_object_count = self.one_object_count**2
        self.vocabulary = _unique(
            ("BEGIN", "END", *FUNCTION_WORDS, *COLORS, *self._position_words(), *self.objects)
        )
        self._token_ids = {word: i for i, word in enumerate(self.vocabulary)}
        self.concepts = self.n_objects + len(POSITIONS) + len(COLORS)
        sizes = [len(self._concepts[group]) for group in GROUPS]
        offsets = np.cumsum([0, *sizes[:-1]]).tolist()
        self._group_offsets = dict(zip(GROUPS, offsets, strict=True))
        self.output_dim = 2 * self.concepts

    # ---- output layout ----------------------------------------------------------------------

    def group_size(self, group: str) -> int:
        return len(self._group_concepts(group))

    def group_slice(self, slot: int, group: str) -> slice:
        """Indices of `group` of object `slot` (0 or 1) in the output vector."""
        if slot not in (0, 1):
            raise ValueError(f"slot must be 0 or 1, got {slot!r}")
        start = slot * self.concepts + self._group_offsets[self._check_group(group)]
        return slice(start, start + self.group_size(group))

    def output_labels(self) -> list[tuple[int, str, str]]:
        """(slot, group, concept) of every output unit, in output order."""
        return [
            (slot, group, concept)
            for slot in (0, 1)
            for group in GROUPS
            for concept in self._group_concepts(group)
        ]

    def concept_indices(self, group: str, values: Iterable[object]) -> np.ndarray:
        """Index of each concept name within `group`; -1 for None/NaN (unstated)."""
        lookup = self._concept_index[self._check_group(group)]
        indices = []
        for value in values:
            if value is None or (isinstance(value, float) and np.isnan(value)):
                indices.append(-1)
            elif value in lookup:
                indices.append(lookup[value])
            else:
                raise ValueError(
                    f"{value!r} is not a {group} of the n={self.n_objects} CSL grammar "
                    f"(known: {', '.join(self._concepts[group])})"
                )
        return np.asarray(indices, dtype=np.int16)

    def stated_indices(self, frame: pd.DataFrame) -> np.ndarray:
        """int16 [N, 2, 3]: concept index of what each row states (columns object1..color2)."""
        stated = np.full((len(frame), 2, len(GROUPS)), -1, dtype=np.int16)
        for slot in (0, 1):
            for g, group in enumerate(GROUPS):
                column = f"{group}{slot + 1}"
                if column not in frame.columns:
                    raise ValueError(f"CSL frame lacks column {column!r}: build it with csl.py")
                stated[:, slot, g] = self.concept_indices(group, frame[column].to_numpy())
        return stated

    # ---- sentences ----------------------------------------------------------------------------

    def clause(self, i: int) -> Clause:
        """The i-th one-object sentence: constructions 1..6, then their choices, last fastest."""
        i = int(i)
        if not 0 <= i < self.one_object_count:
            raise ValueError(
                f"one-object index {i} out of range [0, {self.one_object_count}) "
                f"for n_objects={self.n_objects}"
            )
        construction = int(np.searchsorted(self._construction_starts, i, side="right")) - 1
        local = i - int(self._construction_starts[construction])
        return _assemble(_pick(self._templates[construction], local))

    def sentence(self, i: int) -> tuple[Clause, ...]:
        """Global index: one-object sentences first, then the ordered pairs (row-major)."""
        i = int(i)
        m = self.one_object_count
        if not 0 <= i < m + self.two_object_count:
            raise ValueError(
                f"sentence index {i} out of range [0, {m + self.two_object_count}) "
                f"for n_objects={self.n_objects}, center={self.center}"
            )
        if i < m:
            return (self.clause(i),)
        first, second = divmod(i - m, m)
        return (self.clause(first), self.clause(second))

    def words(self, i: int) -> tuple[str, ...]:
        clauses = self.sentence(i)
        middle = clauses[0].words
        if len(clauses) == 2:
            middle = (*middle, "and", *clauses[1].words)
        return ("BEGIN", *middle, "END")

    def encode(self, words: Sequence[str] | str) -> np.ndarray:
        """Token id (one-hot position) of each word; a string is split on whitespace."""
        if isinstance(words, str):
            words = words.split()
        unknown = [word for word in words if word not in self._token_ids]
        if unknown:
            raise ValueError(
                f"unknown word {unknown[0]!r} for the n={self.n_objects} CSL vocabulary "
                f"(center={self.center})"
            )
        return np.fromiter((self._token_ids[w] for w in words), dtype=np.int32, count=len(words))

    @property
    def max_length(self) -> int:
        """Longest sentence in tokens: BEGIN + longest clause + "and" + longest clause + END."""
        longest_clause = max(
            sum(max(len(words) for words, _ in options) for options in template)
            for template in self._templates
        )
        return 2 * longest_clause + 3

    @property
    def name(self) -> str:
        return f"csl-n{self.n_objects}" + ("-center" if self.center else "")

    # ---- helpers ------------------------------------------------------------------------------

    def _position_words(self) -> tuple[str, ...]:
        return (*POSITIONS, CENTER_WORD) if self.center else POSITIONS

    def _check_group(self, group: str) -> str:
        if group not in GROUPS:
            raise ValueError(f"unknown group {group!r}: choose one of {GROUPS}")
        return group

    def _group_concepts(self, group: str) -> tuple[str, ...]:
        return self._concepts[self._check_group(group)]

    def _options(self, element: object) -> list[_Option]:
        """All choices of one template element, in enumeration order."""
        if isinstance(element, str):
            return [((element,), None)]
        if isinstance(element, _Alternatives):
            return [(words, None) for words in element.options]
        colors = [((c,), ("color", c)) for c in COLORS]
        options: dict[_Slot, list[_Option]] = {
            _Slot.DET: [((d,), None) for d in DETERMINERS],
            _Slot.COLOR: colors,
            _Slot.OPTIONAL_COLOR: [((), None), *colors],
            _Slot.OBJECT: [((o,), ("object", o)) for o in self.objects],
            _Slot.POSITION: [
                ((word,), ("position", "middle" if word == CENTER_WORD else word))
                for word in self._position_words()
            ],
        }
        return options[element]


def _pick(template: list[list[_Option]], local: int) -> list[_Option]:
    """Mixed-radix decoding of `local`: the last element varies fastest."""
    chosen = []
    for options in reversed(template):
        local, digit = divmod(local, len(options))
        chosen.append(options[digit])
    return chosen[::-1]


def _assemble(chosen: list[_Option]) -> Clause:
    words = tuple(word for option_words, _ in chosen for word in option_words)
    stated = dict(meaning for _, meaning in chosen if meaning is not None)
    return Clause(words, stated["object"], stated.get("color"), stated.get("position"))


def _unique(words: Iterable[str]) -> tuple[str, ...]:
    """Drop repeats, keep first occurrence ("orange" is both a color and an object)."""
    return tuple(dict.fromkeys(words))


# ---- corpus -----------------------------------------------------------------------------------

STATEMENT_COLUMNS = tuple(
    f"{attribute}{slot}" for slot in (1, 2) for attribute in ("object", "color", "position")
)


def sentence_table(grammar: CSLGrammar, sentence_ids: Iterable[int]) -> pd.DataFrame:
    """One row per sentence with every corpus column except `teacher`."""
    rows = [_sentence_row(grammar, int(i)) for i in sentence_ids]
    dtypes = {"sentence_id": np.int64, "n_clauses": np.int8, "length": np.int32}
    columns = ["sentence_id", "n_clauses", "text", "tokens", "length", *STATEMENT_COLUMNS]
    # object dtype keeps None for unstated attributes (pandas' str dtype would turn it into NaN)
    return pd.DataFrame(
        {
            name: pd.Series([row[name] for row in rows], dtype=dtypes.get(name, object))
            for name in columns
        }
    )


def _sentence_row(grammar: CSLGrammar, i: int) -> dict:
    clauses = grammar.sentence(i)
    words = grammar.words(i)
    row = {
        "sentence_id": i,
        "n_clauses": len(clauses),
        "text": " ".join(words),
        "tokens": grammar.encode(words),
        "length": len(words),
    }
    for slot in (0, 1):
        clause = clauses[slot] if slot < len(clauses) else None
        for group in GROUPS:
            row[f"{group}{slot + 1}"] = getattr(clause, group) if clause else None
    return row


def draw_teachers(grammar: CSLGrammar, stated: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """float32 [N, output_dim] simulated vision for sentences whose statements are `stated`.

    Stated concepts are set; each unstated attribute of a described object gets a uniform random
    concept. The second slot of a one-object sentence (object unstated) holds a fully random
    object with probability 0.5, else stays empty.
    """
    stated = np.asarray(stated)
    n = len(stated)
    random_concepts = np.stack(
        [rng.integers(0, grammar.group_size(g), size=(n, 2)) for g in GROUPS], axis=-1
    )
    second_slot_filled = rng.random(n) < 0.5
    chosen = np.where(stated >= 0, stated, random_concepts)
    one_object = stated[:, 1, 0] < 0
    empty_second = one_object & ~second_slot_filled
    chosen[empty_second, 1, :] = -1
    return _one_hot(grammar, chosen)


def _one_hot(grammar: CSLGrammar, chosen: np.ndarray) -> np.ndarray:
    teacher = np.zeros((len(chosen), grammar.output_dim), dtype=np.float32)
    for slot in (0, 1):
        for g, group in enumerate(GROUPS):
            concept = chosen[:, slot, g]
            rows = np.flatnonzero(concept >= 0)
            teacher[rows, grammar.group_slice(slot, group).start + concept[rows]] = 1.0
    return teacher


def build_corpus(
    n_objects: int,
    *,
    center: bool = False,
    seed: int = 0,
    train: tuple[int, int] = (300, 700),
    test: tuple[int, int] = (300, 700),
    validation: tuple[int, int] = (80, 200),
) -> dict[str, pd.DataFrame]:
    """Train/validation/test frames; each size pair is (one-object, two-object) sentences."""
    grammar = CSLGrammar(n_objects, center)
    # separate streams: which sentences land in a split must not depend on the teacher draws
    split_rng, teacher_rng = np.random.default_rng(seed).spawn(2)
    ids = _split_ids(grammar, split_rng, train=train, test=test, validation=validation)
    # a sentence in two splits (n=3 train/test overlap) keeps one teacher: draw per unique id
    unique_ids = np.unique(np.concatenate(list(ids.values())))
    table = sentence_table(grammar, unique_ids)
    teachers = draw_teachers(grammar, grammar.stated_indices(table), teacher_rng)
    table["teacher"] = list(teachers)
    return {
        name: table.iloc[np.searchsorted(unique_ids, split_ids)].reset_index(drop=True)
        for name, split_ids in ids.items()
    }


def _split_ids(
    grammar: CSLGrammar,
    rng: np.random.Generator,
    *,
    train: tuple[int, int],
    test: tuple[int, int],
    validation: tuple[int, int],
) -> dict[str, np.ndarray]:
    """Global sentence ids of each split: one-object ids first, then two-object ids."""
    sizes = {"train": train, "validation": validation, "test": test}
    for name, pair in sizes.items():
        if len(pair) != 2 or any(int(k) != k or k < 0 for k in pair):
            raise ValueError(f"{name} must be a pair of non-negative integers, got {pair!r}")
    m = grammar.one_object_count
    one_needed = max(train[0] + validation[0], test[0])
    if one_needed > m:
        raise ValueError(
            f"splits ask for {one_needed} one-object sentences but {grammar.name} has only {m}: "
            f"lower train[0] + validation[0] or test[0]"
        )
    two_needed = train[1] + validation[1] + test[1]
    if two_needed > grammar.two_object_count:
        raise ValueError(
            f"splits ask for {two_needed} two-object sentences but {grammar.name} has only "
            f"{grammar.two_object_count}: lower train[1] + validation[1] + test[1]"
        )
    one = rng.permutation(m)
    # a uniform draw without replacement is the head of a random permutation of all m*m pairs
    two = m + rng.choice(grammar.two_object_count, size=two_needed, replace=False)
    heads = {
        "train": (one[: train[0]], two[: train[1]]),
        "validation": (
            one[train[0] : train[0] + validation[0]],
            two[train[1] : train[1] + validation[1]],
        ),
        "test": (one[m - test[0] :], two[two_needed - test[1] :]),
    }
    return {name: np.concatenate(parts).astype(np.int64) for name, parts in heads.items()}


def juven_split_sizes(
    grammar: CSLGrammar, train_sentences: int = 1000, test_sentences: int = 1000, seed: int = 0
) -> dict[str, tuple[int, int]]:
    """(one-object, two-object) split sizes drawn as Juven & Hinaut's own script draws them.

    Their script (sentence_grounding_test.py) draws each sentence as one-object or two-object
    with probability 1/2, then a sentence of that kind uniformly, and rejects and redraws it if
    it was drawn before (test sentences also avoid the training set). A repeated one-object
    sentence is common (688 or 880 of them at 4 objects), so the splits hold fewer one-object
    sentences than half: about 417 of 1,000 training sentences with "center" (880). The
    sentences themselves are then drawn uniformly by `build_corpus`, as the accepted ones are
    uniform over those not yet used; only the counts come from this simulation, seeded by `seed`.
    """
    rng = np.random.default_rng(seed)
    singles, pairs = grammar.one_object_count, grammar.two_object_count
    if train_sentences + test_sentences > singles + pairs:
        raise ValueError(
            f"{grammar.name} has {singles + pairs:,} sentences; {train_sentences} training and "
            f"{test_sentences} test sentences cannot all differ"
        )
    used_single = used_pair = 0
    sizes = {}
    for name, wanted in (("train", train_sentences), ("test", test_sentences)):
        single = pair = 0
        while single + pair < wanted:
            if rng.random() < 0.5:  # a one-object sentence, kept if it was not drawn before
                if rng.random() < (singles - used_single) / singles:
                    single, used_single = single + 1, used_single + 1
            elif rng.random() < (pairs - used_pair) / pairs:
                pair, used_pair = pair + 1, used_pair + 1
        sizes[name] = (single, pair)
    sizes["validation"] = (0, 0)
    return sizes


def corpus_card(
    grammar: CSLGrammar, splits: dict[str, pd.DataFrame], seed: int, config: dict
) -> dict:
    """JSON-able description of a built corpus, for the data card and the report."""
    return {
        "dataset": grammar.name,
        "n_objects": grammar.n_objects,
        "center": grammar.center,
        "one_object_sentences": grammar.one_object_count,
        "two_object_sentences": grammar.two_object_count,
        "concepts": grammar.concepts,
        "output_dim": grammar.output_dim,
        "input_vocabulary": list(grammar.vocabulary),
        "input_dim": len(grammar.vocabulary),
        "max_length": grammar.max_length,
        "seed": int(seed),
        "splits": {name: _split_counts(frame) for name, frame in splits.items()},
        "output_labels": [f"slot{s}:{g}:{c}" for s, g, c in grammar.output_labels()],
        "config": config,
        "source": SOURCE,
    }


def _split_counts(frame: pd.DataFrame) -> dict[str, int]:
    one = int((frame["n_clauses"] == 1).sum())
    two = int((frame["n_clauses"] == 2).sum())
    return {"one_object": one, "two_object": two, "total": len(frame)}
