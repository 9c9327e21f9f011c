"""The data step of Madsen 2019's autocomplete task, and the readers its trainers use.

- `data_step`: cleaned Wikipedia text (embedded excerpt, or text8.zip) -> the train, valid and
  test split files + card.json, at the paths the rule names.
- `read_split`, `read_card`: what the training and analysis steps read back.

Split files hold one row per observation, in the order of the seeded permutation (the author's
order): `observation_id` (int64, the observation's position in the text, so sorting by it gives
the text back), `source` (list<int8>, input symbols 0..27: `<eos>`, space, a-z), `target`
(list<int32>, word ids, index into the card's `vocabulary`) and `length` (int32, characters;
at most max_chars). Observations are not padded: `<eos>` (0) never occurs in the files.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from tqdm.auto import tqdm

from rnnatlas.download import file_sha256
from rnnatlas.io import PARQUET_OPTIONS, atomic_path, read_json, read_table, write_json
from rnnatlas.papers.text8 import autocomplete as ac
from rnnatlas.papers.text8 import data as text8

log = logging.getLogger("rnnatlas")

SOURCES = ("embedded", "zip")
SPLITS = ac.SPLITS
WRITE_BATCH = 65_536  # observations per Parquet write: bounds memory at paper scale (456k train)
SPLIT_COLUMNS = ("observation_id", "source", "target", "length")
SCHEMA = pa.schema(
    [
        ("observation_id", pa.int64()),
        ("source", pa.list_(pa.int8())),
        ("target", pa.list_(pa.int32())),
        ("length", pa.int32()),
    ]
)


def data_step(
    files: Mapping[str, Path],
    source: str = "embedded",
    zip_path: Path | None = None,
    vocabulary_bits: int = 14,
    max_chars: int = ac.MAX_CHARS,
    seed: int = ac.SEED,
    max_characters: int | None = None,
    *,
    shuffle_vocabulary: bool = False,
    progress: bool = True,
) -> dict:
    """Write the train/valid/test split files and card.json of the autocomplete task.

    files: {"train", "valid", "test", "card"} -> the path of each file to write.

    source "embedded": gensim's English Wikipedia excerpt, cleaned by wikifil's rules.
    source "zip": the text8 member of `zip_path` (`rnnatlas.papers.text8.data.download_text8`).
    `max_characters` keeps the first characters of the cleaned text, without a cut word at the
    end; `vocabulary_bits`, `max_chars` and `seed` are the paper's 14, 200 and 450849059 by
    default; `shuffle_vocabulary` shuffles word ids with `seed` as the author did.
    """
    missing = [key for key in (*SPLITS, "card") if key not in files]
    if missing:
        raise ValueError(f"data_step needs the path of {missing} (keys {(*SPLITS, 'card')})")
    text, described = _load_text(source, zip_path)
    text = truncate_text(text, max_characters)
    words = text.split()
    if not words:
        raise ValueError(
            f"source {source!r} gives no words (max_characters={max_characters}): "
            f"raise max_characters or check the source file"
        )
    vocabulary = ac.build_vocabulary(
        words, vocabulary_bits, shuffle_seed=seed if shuffle_vocabulary else None
    )
    observations = ac.pack_observations(words, vocabulary, max_chars)
    splits = ac.split_indices(len(observations), seed)
    for name, indices in splits.items():
        _write_split(Path(files[name]), observations, indices, progress=progress)

    ids_per_word = observations.targets[observations.symbols == ac.SPACE]  # one space per word
    card = {
        "dataset": "text8-autocomplete",
        "paper": "Madsen 2019, Visualizing memorization in RNNs (Distill)",
        "source": described,
        "sha256": described["sha256"],
        "checksums": {Path(described["file"]).name: described["sha256"]},
        "characters": len(text),
        "words": len(words),
        "unique_words": len(set(words)),
        "vocabulary_bits": vocabulary_bits,
        "vocabulary_size": len(vocabulary),
        "vocabulary": vocabulary,
        "symbols": list(ac.SYMBOLS),
        "observations": {name: len(idx) for name, idx in splits.items()}
        | {"total": len(observations)},
        "split_characters": {
            name: int(observations.lengths[idx].sum()) for name, idx in splits.items()
        },
        "skipped_words": observations.skipped_words,
        "coverage": float(np.mean(ids_per_word >= 2)),
        "preprocessing": _preprocessing(
            source, max_chars, seed, max_characters, shuffle_vocabulary
        ),
        "config": {
            "source": source,
            "vocabulary_bits": vocabulary_bits,
            "max_chars": max_chars,
            "seed": seed,
            "max_characters": max_characters,
            "shuffle_vocabulary": shuffle_vocabulary,
        },
    }
    write_json(Path(files["card"]), card)
    log.info(
        "text8 autocomplete (%s): %d characters, %d words, observations %s, coverage %.3f",
        source,
        card["characters"],
        card["words"],
        card["observations"],
        card["coverage"],
    )
    return card


def truncate_text(text: str, max_characters: int | None) -> str:
    """The first `max_characters` of `text`, less a word the cut would split; None keeps all."""
    if max_characters is None:
        return text
    if (
        isinstance(max_characters, bool)
        or not isinstance(max_characters, int)
        or max_characters < 1
    ):
        raise ValueError(f"max_characters must be None or an integer >= 1, got {max_characters!r}")
    if len(text) <= max_characters:
        return text
    head = text[:max_characters]
    if text[max_characters] != " ":  # the cut falls inside a word: drop its start
        head = head[: head.rfind(" ") + 1]
    return head.rstrip(" ")


def _load_text(source: str, zip_path: Path | None) -> tuple[str, dict]:
    if source == "embedded":
        return text8.embedded_text(), text8.embedded_source()
    if source == "zip":
        if zip_path is None:
            raise ValueError(
                "source 'zip' needs zip_path, the text8.zip that download_text8 fetched"
            )
        zip_path = Path(zip_path)
        text = text8.load_text8_zip(zip_path)  # checks the file exists and holds text8
        digest = file_sha256(zip_path)
        if digest != text8.TEXT8_SHA256:
            log.warning(
                "%s is not the published text8.zip (sha256 %s, published %s): building from it "
                "anyway; the card records the difference",
                zip_path,
                digest,
                text8.TEXT8_SHA256,
            )
        return text, {
            "kind": "zip",
            "name": text8.TEXT8_URL,
            "dataset": "text8 (Mahoney): first 10^8 characters of wikifil's output on enwik9",
            "file": zip_path.name,
            "member": text8.TEXT8_MEMBER,
            "sha256": digest,
            "published_sha256": text8.TEXT8_SHA256,
            "matches_published": digest == text8.TEXT8_SHA256,
        }
    raise ValueError(f"unknown text8 source {source!r}; expected one of {SOURCES}")


def _preprocessing(
    source: str, max_chars: int, seed: int, max_characters: int | None, shuffled: bool
) -> dict:
    return {
        "cleaning": (
            "wikifil.pl rules (Mahoney 2006) applied here by "
            "rnnatlas.papers.text8.data.clean_wikipedia"
            if source == "embedded"
            else "none here: text8 is already wikifil output"
        ),
        "max_characters": max_characters,
        "truncation": "first max_characters characters, less a word the cut would split",
        "words": "text.split(): the runs of a-z between single spaces",
        "vocabulary": (
            "the 2**vocabulary_bits most frequent words over the whole text (ties alphabetical) "
            "after <eos> (0) and <unknown> (1); "
            + ("ids shuffled by RandomState(seed)" if shuffled else "ids by decreasing frequency")
        ),
        "symbols": "<eos> 0, space 1, a..z 2..27",
        "packing": (
            "words in text order packed greedily into observations of at most max_chars "
            "characters, no partial words; a word adds ' ' + letters to source and its id "
            "len + 1 times to target; words longer than max_chars - 1 are skipped"
        ),
        "max_chars": max_chars,
        "split": {
            "method": "RandomState(seed).permutation(n); train floor(n*0.9), valid floor(n*0.05), "
            "test the rest",
            "seed": seed,
            "fractions": list(ac.FRACTIONS),
        },
    }


def _write_split(
    path: Path, observations: ac.Observations, indices: np.ndarray, *, progress: bool
) -> None:
    with (
        atomic_path(path) as tmp,
        pq.ParquetWriter(tmp, SCHEMA, **PARQUET_OPTIONS) as writer,
    ):
        for begin in tqdm(
            range(0, len(indices), WRITE_BATCH),
            desc=path.name,
            unit="batch",
            disable=not progress,
            leave=False,
        ):
            chunk = indices[begin : begin + WRITE_BATCH]
            offsets, sources, targets = observations.gather(chunk)
            offsets = pa.array(offsets.astype(np.int32))  # < 2**31 characters per batch
            table = pa.Table.from_arrays(
                [
                    pa.array(chunk.astype(np.int64)),
                    pa.ListArray.from_arrays(offsets, pa.array(sources, type=pa.int8())),
                    pa.ListArray.from_arrays(offsets, pa.array(targets, type=pa.int32())),
                    pa.array(np.diff(offsets.to_numpy()).astype(np.int32)),
                ],
                schema=SCHEMA,
            )
            writer.write_table(table)


# ---- readers ------------------------------------------------------------------------------------


@dataclass
class Text8Split:
    """One split in memory: the observations' symbols and targets, concatenated."""

    observation_id: np.ndarray  # [N] int64
    lengths: np.ndarray  # [N] int64
    offsets: np.ndarray  # [N + 1] int64: observation i is source[offsets[i]:offsets[i + 1]]
    source: np.ndarray  # [characters] int8
    target: np.ndarray  # [characters] int32

    def __len__(self) -> int:
        return len(self.lengths)

    def batch(self, rows, device: str | torch.device = "cpu"):
        """(tokens [B, T] int64, targets [B, T] int64, lengths [B] int64) of `rows`, padded with
        symbol 0 / target `<eos>` to the batch's longest observation."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.lengths[rows]
        width = int(lengths.max()) if len(rows) else 0
        tokens = np.zeros((len(rows), width), dtype=np.int64)
        targets = np.zeros((len(rows), width), dtype=np.int64)
        for slot, row in enumerate(rows):
            start, stop = self.offsets[row], self.offsets[row + 1]
            tokens[slot, : stop - start] = self.source[start:stop]
            targets[slot, : stop - start] = self.target[start:stop]
        return (
            torch.from_numpy(tokens).to(device),
            torch.from_numpy(targets).to(device),
            torch.from_numpy(lengths.copy()).to(device),
        )

    def as_lists(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(sources, targets): one int8 and one int32 array per observation, in file order."""
        if not len(self):
            return [], []
        cuts = self.offsets[1:-1]
        return np.split(self.source, cuts), np.split(self.target, cuts)

    def sha256(self) -> str:
        """Digest of the symbols and targets (part of a training run's identity)."""
        digest = hashlib.sha256()
        for array in (self.lengths, self.source, self.target):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()


def read_card(path: Path) -> dict:
    """The text8 data's card.json, checked for what the models need."""
    path = Path(path)
    card = read_json(path, "build the data with the text8 data step")
    for key in ("vocabulary", "symbols"):
        if not isinstance(card.get(key), list) or not card[key]:
            raise ValueError(
                f"{path}: field {key!r} must be a non-empty list (vocabulary: word by id, "
                f"0 '<eos>' and 1 '<unknown>'; symbols: the 28 input characters)"
            )
    if len(card["vocabulary"]) < 3:
        raise ValueError(f"{path}: vocabulary holds {len(card['vocabulary'])} entries; need >= 3")
    return card


def read_split(path: Path, card: Mapping) -> Text8Split:
    """Read one split file and check it against the sizes of its card (`read_card`'s dict)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: build the data with the text8 data step")
    table = read_table(path)
    missing = [c for c in SPLIT_COLUMNS if c not in table.column_names]
    if missing:
        raise ValueError(
            f"{path}: column(s) {missing} missing; a text8 split holds "
            f"{', '.join(SPLIT_COLUMNS)} (source and target as lists of equal length)"
        )
    source_offsets, source_values = _list_column(table, "source", path)
    target_offsets, target_values = _list_column(table, "target", path)
    lengths = table.column("length").to_numpy().astype(np.int64)
    if not np.array_equal(np.diff(source_offsets), lengths):
        raise ValueError(f"{path}: column 'length' differs from the lengths of 'source'")
    if not np.array_equal(source_offsets, target_offsets):
        raise ValueError(f"{path}: 'source' and 'target' differ in length for some observation")
    if len(lengths) and lengths.min() < 1:
        raise ValueError(f"{path}: observation {int(np.argmin(lengths))} is empty")
    _check_range(path, "source", source_values, len(card["symbols"]), "symbols in card.json")
    _check_range(path, "target", target_values, len(card["vocabulary"]), "words in card.json")
    return Text8Split(
        observation_id=table.column("observation_id").to_numpy().astype(np.int64),
        lengths=lengths,
        offsets=source_offsets,
        source=source_values.astype(np.int8),
        target=target_values.astype(np.int32),
    )


def _list_column(table: pa.Table, name: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(offsets [N + 1] from 0, values) of a list column."""
    column = table.column(name).combine_chunks()
    if not (pa.types.is_list(column.type) or pa.types.is_large_list(column.type)):
        raise ValueError(f"{path}: column {name!r} has type {column.type}; expected list<int>")
    if column.null_count:
        raise ValueError(f"{path}: column {name!r} holds nulls")
    offsets = column.offsets.to_numpy().astype(np.int64)
    # flatten() starts at offsets[0] (a sliced array's offsets need not start at 0)
    return offsets - offsets[0], column.flatten().to_numpy(zero_copy_only=False)


def _check_range(path: Path, name: str, values: np.ndarray, size: int, what: str) -> None:
    if values.size and (values.min() < 0 or values.max() >= size):
        raise ValueError(
            f"{path}: column {name!r} ranges over {values.min()}..{values.max()}, but there are "
            f"{size} {what}: rebuild the data or use its own card.json"
        )
