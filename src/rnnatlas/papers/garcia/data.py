"""Documents of the Garcia paper as padded token ids: Keras' IMDB and Reuters (paper scale,
downloaded and checked) and, for the embedded default, gensim's labelled movie-review sentences.

Preprocessing as the authors' code does it (facts in `reference`): Keras' `load_data` (the seeded
shuffle, ids offset by 3 with 0 padding, 1 start and 2 out-of-vocabulary, and its quirk that the
single largest id becomes out-of-vocabulary), IMDB without the token "br", Reuters reduced to its 5
most frequent training topics (classes in increasing frequency), then `pad_sequences(maxlen=100)`:
the last 100 words, zeros in front. The embedding sees ids up to the largest training id; a test
id above it is read as out-of-vocabulary (Keras would fail on it) and counted in the card.

A dataset is written as `train.parquet` and `test.parquet` (document_id, label, tokens: the
padded ids), `vocabulary.parquet` (id, word) and `card.json`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rnnatlas.download import fetch, file_sha256
from rnnatlas.io import read_json, read_table, write_json, write_parquet
from rnnatlas.papers.garcia import reference as ref

PAD, START_WORD, OOV_WORD = "<PAD>", "<START>", "<UNK>"
EMBEDDED_FILE = ("test", "test_data", "pang_lee_polarity.cor")  # inside the gensim package


@dataclass
class Documents:
    """One dataset: padded token ids [N, max_length], labels, class names and the words."""

    name: str
    classes: list[str]
    train_tokens: np.ndarray
    train_labels: np.ndarray
    test_tokens: np.ndarray
    test_labels: np.ndarray
    words: list[str]  # words[id]
    card: dict = field(default_factory=dict)

    @property
    def vocabulary(self) -> int:
        """The embedding's input size: the largest training id + 1 (as the authors' model)."""
        return int(self.train_tokens.max()) + 1


# ---- Keras' datasets (paper scale) ------------------------------------------------------------


def download_keras(name: str, folder: str | Path, origin: str = ref.KERAS_ORIGIN) -> dict:
    """Fetch `name`'s npz and word index into folder (mirrors: `origin`), checked against the
    published digests; {"npz": path, "word_index": path}."""
    if name not in ref.KERAS_FILES:
        raise ValueError(f"no Keras dataset {name!r}; one of {sorted(ref.KERAS_FILES)}")
    paths = {}
    for key, (filename, algorithm, digest) in ref.KERAS_FILES[name].items():
        paths[key] = fetch([origin + filename], Path(folder) / filename, **{algorithm: digest})
    return paths


def read_keras_npz(path: str | Path, name: str) -> dict[str, np.ndarray]:
    """The arrays of Keras' imdb.npz (x_train, y_train, x_test, y_test) or reuters.npz (x, y).

    Their documents are object arrays, which numpy stores pickled: the file is read only after
    its sha256 matches the published one, so nothing but Keras' own file is unpickled."""
    path = Path(path)
    _, algorithm, digest = ref.KERAS_FILES[name]["npz"]
    if algorithm != "sha256" or file_sha256(path) != digest:
        raise ValueError(
            f"{path}: its sha256 is not the published one of Keras' {name}.npz; delete it and "
            "let the download rule fetch it again"
        )
    with np.load(path, allow_pickle=True) as archive:
        return {key: archive[key] for key in archive.files}


def keras_load(name: str, arrays: Mapping[str, np.ndarray], seed: int = ref.KERAS_SEED):
    """Keras' `load_data(num_words=None)` on the npz arrays: ((x_train, y_train), (x_test,
    y_test)), documents as lists of ids (start 1, words from 3, the largest id as 2)."""
    rng = np.random.RandomState(seed)
    if name == "imdb":
        parts = []
        for split in ("train", "test"):
            x, y = arrays[f"x_{split}"], np.asarray(arrays[f"y_{split}"])
            order = np.arange(len(x))
            rng.shuffle(order)
            parts.append((x[order], y[order]))
        documents = [*parts[0][0], *parts[1][0]]
        labels = np.concatenate([parts[0][1], parts[1][1]])
        cut = len(parts[0][0])
    else:
        order = np.arange(len(arrays["x"]))
        rng.shuffle(order)
        documents, labels = arrays["x"][order], np.asarray(arrays["y"])[order]
        cut = int(len(documents) * (1 - ref.KERAS_TEST_SPLIT))
    documents = [[ref.START] + [int(w) + ref.INDEX_FROM for w in doc] for doc in documents]
    largest = max(max(doc) for doc in documents)  # Keras keeps ids < num_words = the largest
    documents = [[w if w < largest else ref.OOV for w in doc] for doc in documents]
    return (documents[:cut], labels[:cut]), (documents[cut:], labels[cut:])


def keras_words(word_index: Mapping[str, int]) -> list[str]:
    """words[id] for Keras' word index (ids offset by 3; 0 padding, 1 start, 2 unknown)."""
    size = max(word_index.values()) + ref.INDEX_FROM + 1
    words = [OOV_WORD] * size
    words[0], words[ref.START], words[ref.OOV] = PAD, START_WORD, OOV_WORD
    for word, index in word_index.items():
        words[index + ref.INDEX_FROM] = word
    return words


def pad_sequences(documents: Sequence[Sequence[int]], max_length: int) -> np.ndarray:
    """Keras' pad_sequences defaults: the last `max_length` ids, zeros in front."""
    padded = np.zeros((len(documents), max_length), dtype=np.int64)
    for row, document in enumerate(documents):
        kept = list(document)[-max_length:]
        if kept:
            padded[row, max_length - len(kept) :] = kept
    return padded


def _clip_to_training(docs: Documents) -> Documents:
    """Test ids above the largest training id -> out-of-vocabulary, counted in the card."""
    above = docs.test_tokens >= docs.vocabulary
    docs.card["test_ids_above_training"] = int(above.sum())
    docs.test_tokens = np.where(above, ref.OOV, docs.test_tokens)
    return docs


def imdb_documents(npz: Path, word_index: Path, max_length: int = ref.MAX_LENGTH) -> Documents:
    """IMDB as the authors prepare it: Keras' load_data, "br" removed, the last max_length words."""
    (x_train, y_train), (x_test, y_test) = keras_load("imdb", read_keras_npz(npz, "imdb"))
    words = keras_words(read_json(word_index, "the download rule fetches it"))
    dropped = words.index(ref.DROPPED_WORD["imdb"])
    x_train = [[w for w in doc if w != dropped] for doc in x_train]
    x_test = [[w for w in doc if w != dropped] for doc in x_test]
    docs = Documents(
        "imdb", list(ref.CLASSES["imdb"]), pad_sequences(x_train, max_length),
        np.asarray(y_train, dtype=np.int64), pad_sequences(x_test, max_length),
        np.asarray(y_test, dtype=np.int64), words,
        {"source": _keras_source("imdb", npz, word_index), "dropped_word": "br"},
    )  # fmt: skip
    return _clip_to_training(docs)


def top_topics(train_labels: np.ndarray, count: int = 5) -> np.ndarray:
    """The `count` most frequent training labels in increasing frequency, as the authors pick
    them (np.argsort of a 45-bin histogram of the 46 label ids)."""
    histogram, _ = np.histogram(train_labels, bins=45)
    return np.argsort(histogram)[-count:]


def reuters_documents(npz: Path, word_index: Path, max_length: int = ref.MAX_LENGTH) -> Documents:
    """Reuters as the authors prepare it: Keras' load_data, the last max_length words, the 5
    most frequent training topics relabelled 0..4 in increasing frequency."""
    (x_train, y_train), (x_test, y_test) = keras_load("reuters", read_keras_npz(npz, "reuters"))
    chosen = top_topics(np.asarray(y_train))
    names = [ref.REUTERS_TOPICS[topic] for topic in chosen]
    keep_train, keep_test = np.isin(y_train, chosen), np.isin(y_test, chosen)
    relabel = {int(topic): position for position, topic in enumerate(chosen)}
    docs = Documents(
        "reuters", list(ref.CLASSES["reuters"]),
        pad_sequences([d for d, k in zip(x_train, keep_train, strict=True) if k], max_length),
        np.array([relabel[int(y)] for y in np.asarray(y_train)[keep_train]], dtype=np.int64),
        pad_sequences([d for d, k in zip(x_test, keep_test, strict=True) if k], max_length),
        np.array([relabel[int(y)] for y in np.asarray(y_test)[keep_test]], dtype=np.int64),
        keras_words(read_json(word_index, "the download rule fetches it")),
        {"source": _keras_source("reuters", npz, word_index), "keras_topics": names},
    )  # fmt: skip
    return _clip_to_training(docs)


def _keras_source(name: str, npz: Path, word_index: Path) -> dict:
    files = ref.KERAS_FILES[name]
    return {
        "kind": "keras",
        "dataset": f"Keras {name} (keras.datasets.{name}.load_data, num_words=None)",
        "files": {key: {"name": f[0], f[1]: f[2]} for key, f in files.items()},
        "sha256": {Path(p).name: file_sha256(p) for p in (npz, word_index)},
    }


# ---- gensim's labelled movie-review sentences (embedded default) ------------------------------


def embedded_path() -> Path:
    """gensim's pang_lee_polarity.cor, found without importing gensim."""
    import importlib.util

    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("gensim is not installed: pip install gensim (a dependency)")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*EMBEDDED_FILE)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from the gensim package")
    return path


def read_polarity(path: Path) -> tuple[list[list[str]], np.ndarray]:
    """Sentences (already lower-cased and tokenised) and labels (0 negative, 1 positive) of a
    fastText-style file: `__label__neg words ...` per line, in Windows-1252 as Pang & Lee's
    sentence polarity data is."""
    sentences, labels = [], []
    for number, line in enumerate(Path(path).read_text(encoding="cp1252").splitlines(), 1):
        if not line.strip():
            continue
        tag, _, text = line.partition(" ")
        if tag not in ("__label__neg", "__label__pos"):
            raise ValueError(f"{path}:{number}: expected __label__neg or __label__pos, got {tag!r}")
        sentences.append(text.split())
        labels.append(int(tag == "__label__pos"))
    return sentences, np.asarray(labels, dtype=np.int64)


def embedded_documents(
    max_length: int = ref.MAX_LENGTH, test_fraction: float = 0.2, seed: int = ref.KERAS_SEED
) -> Documents:
    """gensim's 200 labelled movie-review sentences (Pang & Lee's sentence polarity data: the
    IMDB use case in small): a seeded stratified split, ids by training frequency from 3 (as
    Keras numbers words), test words unseen in training as out-of-vocabulary."""
    from sklearn.model_selection import train_test_split

    path = embedded_path()
    sentences, labels = read_polarity(path)
    rows = np.arange(len(labels))
    train_rows, test_rows = train_test_split(
        rows, test_size=test_fraction, random_state=seed, stratify=labels
    )
    counts = Counter(word for row in train_rows for word in sentences[row])
    ranked = sorted(counts, key=lambda word: (-counts[word], word))
    words = [PAD, START_WORD, OOV_WORD, *ranked]
    ids = {word: index for index, word in enumerate(words)}

    def encode(selected) -> np.ndarray:
        return pad_sequences(
            [[ref.START] + [ids.get(w, ref.OOV) for w in sentences[r]] for r in selected],
            max_length,
        )

    import gensim

    return Documents(
        "polarity", list(ref.CLASSES["imdb"]), encode(train_rows), labels[train_rows],
        encode(test_rows), labels[test_rows], words,
        {"source": {"kind": "embedded", "dataset": "labelled movie-review sentences (Pang & "
                    "Lee's sentence polarity data) shipped in gensim's test data",
                    "package": "gensim", "version": gensim.__version__,
                    "file": "gensim/" + "/".join(EMBEDDED_FILE), "sha256": file_sha256(path)},
         "test_fraction": test_fraction, "seed": seed},
    )  # fmt: skip


# ---- the dataset files --------------------------------------------------------------------------


def _split_table(tokens: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "document_id": np.arange(len(labels), dtype=np.int64),
            "label": labels.astype(np.int64),
            "tokens": list(tokens.astype(np.int64)),
        }
    )


def write_documents(docs: Documents, out: Mapping[str, Path]) -> dict:
    """Write out["train"], out["test"], out["vocabulary"] and out["card"]; return the card."""
    write_parquet(out["train"], _split_table(docs.train_tokens, docs.train_labels))
    write_parquet(out["test"], _split_table(docs.test_tokens, docs.test_labels))
    write_parquet(
        out["vocabulary"], pd.DataFrame({"id": np.arange(len(docs.words)), "word": docs.words})
    )
    card = {
        "dataset": docs.name,
        "paper": ref.GARCIA_PAPER,
        **docs.card,
        "classes": docs.classes,
        "max_length": int(docs.train_tokens.shape[1]),
        "vocabulary": docs.vocabulary,
        "words": len(docs.words),
        "train_documents": int(len(docs.train_labels)),
        "test_documents": int(len(docs.test_labels)),
        "train_class_counts": np.bincount(docs.train_labels, minlength=len(docs.classes)).tolist(),
        "test_class_counts": np.bincount(docs.test_labels, minlength=len(docs.classes)).tolist(),
    }
    write_json(out["card"], card)
    return card


def read_documents(paths: Mapping[str, Path]) -> Documents:
    """A dataset written by `write_documents` (paths: train, test, vocabulary, card)."""
    how = "rule garcia_data writes it"
    card = read_json(paths["card"], how)

    def split(name: str) -> tuple[np.ndarray, np.ndarray]:
        table = read_table(paths[name], ["label", "tokens"])
        flat = table.column("tokens").combine_chunks().flatten().to_numpy()
        tokens = flat.reshape(-1, card["max_length"]).astype(np.int64)  # a writable copy
        return tokens, table.column("label").to_numpy().astype(np.int64)

    train_tokens, train_labels = split("train")
    test_tokens, test_labels = split("test")
    words = read_table(paths["vocabulary"], ["word"]).column("word").to_pylist()
    return Documents(
        card["dataset"], list(card["classes"]), train_tokens, train_labels, test_tokens,
        test_labels, words, card,
    )  # fmt: skip
