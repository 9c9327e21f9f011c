"""Atomic writes (a killed job never leaves a half-written output behind), JSON reads, and the
one way a Parquet file is written (zstd, a CRC per page) and read (the CRCs verified)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# Every Parquet writer's options: page CRCs let a reader tell flipped bytes from data.
PARQUET_OPTIONS = {"compression": "zstd", "write_page_checksum": True}
METADATA_KEY = b"rnnatlas"  # the key of our JSON in a Parquet file's key-value metadata


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp)
    try:
        yield tmp
        if tmp.exists():  # mkstemp makes 0600 files; outputs get the usual umask permissions
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: str | Path, data) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n")


def read_json(path: str | Path, how_to_make: str):
    """The JSON file at `path`; if it is missing, FileNotFoundError says `how_to_make` it."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: {how_to_make}")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}): {how_to_make} again") from None


def write_parquet(path: str | Path, frame: pd.DataFrame, metadata: dict | None = None) -> None:
    """Write `frame`; `metadata` (JSON-able) goes to the file's key-value metadata `rnnatlas`."""
    with atomic_path(path) as tmp:
        if metadata is None:
            frame.to_parquet(tmp, index=False, **PARQUET_OPTIONS)
            return
        table = pa.Table.from_pandas(frame, preserve_index=False)
        extra = {METADATA_KEY: json.dumps(metadata, default=_jsonable).encode()}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})
        pq.write_table(table, tmp, **PARQUET_OPTIONS)


def parquet_metadata(path: str | Path) -> dict:
    """The `rnnatlas` key-value metadata of a Parquet file ({} when it has none)."""
    with _parquet_errors(path):
        raw = (pq.read_schema(path).metadata or {}).get(METADATA_KEY)
    return json.loads(raw) if raw else {}


@contextmanager
def _parquet_errors(path: str | Path):
    """A missing file stays FileNotFoundError; anything else pyarrow raises names the file."""
    try:
        yield
    except FileNotFoundError:
        raise
    except (OSError, pa.ArrowException) as err:
        raise ValueError(f"{path}: not a readable Parquet file ({err}); write it again") from None


def read_table(path: str | Path, columns: list[str] | None = None) -> pa.Table:
    """The Parquet file at `path` (those `columns`), its page CRCs verified where written."""
    with _parquet_errors(path):
        return pq.read_table(path, columns=columns, page_checksum_verification=True)


def read_parquet(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    return read_table(path, columns).to_pandas()


def parquet_rows(path: str | Path) -> int:
    """Rows of a Parquet file, from its footer."""
    with _parquet_errors(path):
        return pq.ParquetFile(path).metadata.num_rows


def iter_parquet(
    path: str | Path, columns: list[str] | None = None, batch_rows: int = 65_536
) -> Iterator[pa.RecordBatch]:
    """Record batches of a Parquet file, read in row groups, their page CRCs verified."""
    with _parquet_errors(path), pq.ParquetFile(path, page_checksum_verification=True) as handle:
        yield from handle.iter_batches(batch_size=batch_rows, columns=columns)


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
