"""Garcia et al.'s data preparation on small Keras-format files the tests write: Keras'
load_data conventions, "br" removal, the last 100 words, the top-5 topics, the checked download;
and the embedded movie-review sentences."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from rnnatlas.papers.garcia import data
from rnnatlas.papers.garcia import reference as ref


def test_pad_sequences_keeps_the_last_words_and_pads_in_front():
    padded = data.pad_sequences([[1, 2, 3, 4, 5], [7], []], max_length=3)
    assert padded.tolist() == [[3, 4, 5], [0, 0, 7], [0, 0, 0]]


def test_keras_words_offset_the_index_by_three():
    words = data.keras_words({"the": 1, "br": 2, "film": 3})
    assert words == ["<PAD>", "<START>", "<UNK>", "<UNK>", "the", "br", "film"]


def test_keras_load_conventions_on_a_hand_made_reuters():
    arrays = {"x": np.array([[1], [2, 3], [4], [5], [1, 5]], dtype=object),
              "y": np.array([0, 1, 2, 3, 4])}  # fmt: skip
    (x_train, y_train), (x_test, y_test) = data.keras_load("reuters", arrays, seed=113)
    order = np.arange(5)
    np.random.RandomState(113).shuffle(order)  # Keras' shuffle, the documented convention
    expected = [[1] + [w + 3 for w in arrays["x"][i]] for i in order]
    # the single largest id (5 + 3 = 8) is out-of-vocabulary under num_words=None
    expected = [[w if w < 8 else 2 for w in doc] for doc in expected]
    assert x_train + x_test == expected and len(x_train) == 4  # int(5 * 0.8)
    assert [*y_train, *y_test] == [arrays["y"][i] for i in order]


def test_top_topics_in_increasing_frequency():
    labels = np.array([3] * 50 + [4] * 30 + [19] * 9 + [16] * 8 + [1] * 7 + [0] * 2 + [45])
    # the authors' classes: grain (1), crude (16), money-fx (19), acq (4), earn (3)
    assert data.top_topics(labels).tolist() == [1, 16, 19, 4, 3]


def _write_keras_files(folder, name, arrays, word_index):
    npz, index = folder / f"{name}.npz", folder / f"{name}_word_index.json"
    np.savez(npz, **arrays)
    index.write_text(json.dumps(word_index))
    return npz, index


def test_imdb_preparation_drops_br_and_keeps_the_last_words(tmp_path, monkeypatch):
    word_index = {"the": 1, "br": 2, "good": 3, "bad": 4, "film": 5, "rare": 6}
    arrays = {
        "x_train": np.array([[1, 2, 3, 5], [1, 4, 2, 2, 5], [6, 1]], dtype=object),
        "y_train": np.array([1, 0, 1]),
        "x_test": np.array([[2, 4], [3, 3, 3, 3, 3, 5]], dtype=object),
        "y_test": np.array([0, 1]),
    }
    npz, index = _write_keras_files(tmp_path, "imdb", arrays, word_index)
    digest = hashlib.sha256(npz.read_bytes()).hexdigest()
    files = {**ref.KERAS_FILES["imdb"], "npz": ("imdb.npz", "sha256", digest)}
    monkeypatch.setitem(ref.KERAS_FILES, "imdb", files)
    docs = data.imdb_documents(npz, index, max_length=4)
    words = docs.words
    train = [[words[i] for i in row if i] for row in docs.train_tokens]
    test = [[words[i] for i in row if i] for row in docs.test_tokens]
    assert not any("br" in doc for doc in train + test)
    # "rare" (id 6 + 3 = 9) is the largest id: out-of-vocabulary, as Keras makes it
    assert sorted(map(tuple, train)) == sorted(
        [("<START>", "the", "good", "film"), ("<START>", "the", "bad", "film"),
         ("<START>", "<UNK>", "the")]
    )  # fmt: skip
    # the last 4 of START + 5 x good + film: good good good film
    assert sorted(map(tuple, test)) == [("<START>", "bad"), ("good", "good", "good", "film")]
    assert docs.vocabulary == docs.train_tokens.max() + 1


def test_a_file_with_another_digest_is_not_unpickled(tmp_path):
    npz, _ = _write_keras_files(tmp_path, "imdb", {"x_train": np.zeros(2)}, {})
    with pytest.raises(ValueError, match="not the published one"):
        data.read_keras_npz(npz, "imdb")


def test_download_fetches_and_checks_both_files(tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    (served / "reuters.npz").write_bytes(b"npz bytes")
    (served / "reuters_word_index.json").write_text("{}")
    files = {
        "npz": ("reuters.npz", "sha256", hashlib.sha256(b"npz bytes").hexdigest()),
        "word_index": ("reuters_word_index.json", "md5", hashlib.md5(b"{}").hexdigest()),
    }
    monkeypatch.setitem(ref.KERAS_FILES, "reuters", files)
    paths = data.download_keras("reuters", tmp_path / "out", origin=served.as_uri() + "/")
    assert paths["npz"].read_bytes() == b"npz bytes"
    wrong = {**files, "npz": ("reuters.npz", "sha256", "0" * 64)}
    monkeypatch.setitem(ref.KERAS_FILES, "reuters", wrong)
    (tmp_path / "out" / "reuters.npz").unlink()
    with pytest.raises(Exception, match="sha256"):
        data.download_keras("reuters", tmp_path / "out", origin=served.as_uri() + "/")
    assert not (tmp_path / "out" / "reuters.npz").exists()


def test_the_embedded_sentences_and_their_files(tmp_path):
    docs = data.embedded_documents(max_length=60)
    # gensim's file: 100 negative then 100 positive sentences; a stratified 80/20 split
    assert docs.train_tokens.shape == (160, 60) and docs.test_tokens.shape == (40, 60)
    assert docs.train_labels.sum() == 80 and docs.test_labels.sum() == 20
    assert docs.words[:3] == ["<PAD>", "<START>", "<UNK>"]
    # ids by training frequency: the most frequent training word gets id 3
    first = docs.words[3]
    counts = {w: sum(row.tolist().count(docs.words.index(w)) for row in docs.train_tokens)
              for w in docs.words[3:10]}  # fmt: skip
    assert counts[first] == max(counts.values())
    out = {name: tmp_path / f"{name}.parquet" for name in ("train", "test", "vocabulary")}
    card = data.write_documents(docs, {**out, "card": tmp_path / "card.json"})
    assert card["train_documents"] == 160 and card["classes"] == ["negative", "positive"]
    back = data.read_documents({**out, "card": tmp_path / "card.json"})
    np.testing.assert_array_equal(back.test_tokens, docs.test_tokens)
    assert back.words == docs.words and back.vocabulary == docs.vocabulary
