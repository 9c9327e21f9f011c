"""Hidden states as Parquet: the public contract of every state-based analysis.

One row per (sequence, time step) with `sequence_id`, `t`, `token`, `target`, `prediction` and one
``fixed_size_list<float32>`` column per recorded state. Files are streamed in row groups (never the
whole set in memory), compressed with zstd, written to a temporary path and renamed at the end so a
killed job never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rnnatlas.io import (
    METADATA_KEY,
    PARQUET_OPTIONS,
    iter_parquet,
    parquet_metadata,
    parquet_rows,
    read_parquet,
    read_table,
)

FIXED_COLUMNS = ("sequence_id", "t", "token", "target", "prediction")


class StatesError(ValueError):
    """A states file that does not follow the schema of workflow/schemas/states.schema.yaml."""


@dataclass
class SequenceStates:
    """Everything recorded for one sequence of length T."""

    sequence_id: int
    tokens: list[str] | np.ndarray  # [T]
    states: Mapping[str, np.ndarray]  # name -> [T, units]
    targets: np.ndarray | None = None  # [T, D] vectors or [T] classes
    predictions: np.ndarray | None = None  # [T, D] vectors or [T] classes
    extra: dict = field(default_factory=dict)


def _vector_type(width: int) -> pa.DataType:
    return pa.list_(pa.float32(), width)


def _vector_column(values: np.ndarray) -> pa.Array:
    values = np.ascontiguousarray(values, dtype=np.float32)
    flat = pa.array(values.reshape(-1), type=pa.float32())
    return pa.FixedSizeListArray.from_arrays(flat, values.shape[1])


def _label_column(values: np.ndarray | None, rows: int, vector_width: int | None) -> pa.Array:
    if values is None:
        kind = _vector_type(vector_width) if vector_width else pa.int64()
        return pa.nulls(rows, type=kind)
    values = np.asarray(values)
    if values.ndim == 2:
        return _vector_column(values)
    return pa.array(values.astype(np.int64), type=pa.int64())


class StateWriter:
    """Stream sequences into a Parquet states file (use as a context manager)."""

    def __init__(
        self,
        path: str | Path,
        metadata: Mapping | None = None,
        row_group_rows: int = 16_384,
    ):
        self.path = Path(path)
        self.tmp_path = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.metadata = dict(metadata or {})
        self.row_group_rows = row_group_rows
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._schema: pa.Schema | None = None
        self.rows = 0
        self.sequences = 0

    def __enter__(self) -> StateWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _batch(self, seq: SequenceStates) -> pa.RecordBatch:
        length = len(seq.tokens)
        if length == 0:
            raise StatesError(f"sequence {seq.sequence_id} has no time steps")
        columns = {
            "sequence_id": pa.array(np.full(length, seq.sequence_id, dtype=np.int64)),
            "t": pa.array(np.arange(length, dtype=np.int32)),
            "token": pa.array(list(seq.tokens)),
        }
        width = None
        for name in ("targets", "predictions"):
            values = getattr(seq, name)
            if values is not None and np.ndim(values) == 2:
                width = np.shape(values)[1]
        columns["target"] = _label_column(seq.targets, length, width)
        columns["prediction"] = _label_column(seq.predictions, length, width)
        for name, values in seq.states.items():
            if name in FIXED_COLUMNS:
                raise StatesError(f"state name {name!r} clashes with a fixed column")
            values = np.asarray(values)
            if values.ndim != 2 or values.shape[0] != length:
                raise StatesError(
                    f"state {name!r} of sequence {seq.sequence_id} has shape {values.shape}; "
                    f"expected ({length}, units)"
                )
            columns[name] = _vector_column(values)
        return pa.RecordBatch.from_pydict(columns)

    def write(self, seq: SequenceStates) -> None:
        batch = self._batch(seq)
        if self._schema is None:
            meta = {**self.metadata, "states": list(seq.states)}
            schema = batch.schema.with_metadata({METADATA_KEY: json.dumps(meta).encode()})
            self._schema = schema
            self._writer = pq.ParquetWriter(
                self.tmp_path, schema, use_dictionary=["token"], **PARQUET_OPTIONS
            )
        elif not batch.schema.equals(self._schema, check_metadata=False):
            raise StatesError(
                f"sequence {seq.sequence_id} changes the table layout: {batch.schema} "
                f"vs {self._schema}"
            )
        self._pending.append(batch.replace_schema_metadata(self._schema.metadata))
        self._pending_rows += batch.num_rows
        self.rows += batch.num_rows
        self.sequences += 1
        if self._pending_rows >= self.row_group_rows:
            self._flush()

    def _flush(self) -> None:
        if self._pending and self._writer is not None:
            table = pa.Table.from_batches(self._pending, schema=self._schema)
            self._writer.write_table(table, row_group_size=self.row_group_rows)
        self._pending, self._pending_rows = [], 0

    def close(self) -> None:
        if self._writer is None:
            raise StatesError(f"no sequence was written to {self.path}")
        self._flush()
        self._writer.close()
        os.replace(self.tmp_path, self.path)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self.tmp_path.unlink(missing_ok=True)


def write(
    path: str | Path, sequences: Iterable[SequenceStates], metadata: Mapping | None = None
) -> Path:
    """Write sequences (any iterable, consumed lazily) to a states Parquet file; return its path."""
    with StateWriter(path, metadata=metadata) as writer:
        for seq in sequences:
            writer.write(seq)
    return Path(path)


def metadata(path: str | Path) -> dict:
    """The file's `rnnatlas` metadata: at least `states` and `model`."""
    return parquet_metadata(path)


def state_columns(schema: pa.Schema) -> list[str]:
    return [name for name in schema.names if name not in FIXED_COLUMNS]


def _arrow_name(kind: pa.DataType) -> str:
    if pa.types.is_fixed_size_list(kind):
        inner = "float32" if kind.value_type == pa.float32() else str(kind.value_type)
        return f"fixed_size_list<{inner}>"
    return str(kind)


def validate(path: str | Path) -> pa.Schema:
    """Check a (maybe user-made) states file against the schema; StatesError names the fix."""
    from rnnatlas.config import load_schema

    path = Path(path)
    if not path.exists():
        raise StatesError(f"{path}: no such states file")
    try:
        schema = pq.read_schema(path)
    except Exception as err:  # pyarrow raises several types for non-Parquet input
        raise StatesError(f"{path}: not a readable Parquet file ({err})") from err
    repeated = sorted({name for name in schema.names if schema.names.count(name) > 1})
    if repeated:
        raise StatesError(f"{path}: column(s) {repeated} appear more than once; rename them")
    spec = load_schema("states.schema.yaml")
    for column in spec["required"]:
        if column not in schema.names:
            raise StatesError(
                f"{path}: required column {column!r} is missing; the states schema needs "
                f"{', '.join(spec['required'])} plus one fixed_size_list<float32> column per state"
            )
    for column in FIXED_COLUMNS:
        allowed = spec["properties"][column]["x-arrow"]
        kind = schema.field(column).type
        name = _arrow_name(kind)
        if name not in allowed and not pa.types.is_null(kind):
            raise StatesError(
                f"{path}: column {column!r} has Arrow type {name}; allowed: {', '.join(allowed)}"
            )
    states = state_columns(schema)
    if not states:
        raise StatesError(f"{path}: no state column; add e.g. 'h0' as fixed_size_list<float32>")
    for column in states:
        kind = schema.field(column).type
        if not (pa.types.is_fixed_size_list(kind) and kind.value_type == pa.float32()):
            raise StatesError(
                f"{path}: state column {column!r} has Arrow type {kind}; states must be "
                f"fixed_size_list<float32> (cast with pa.list_(pa.float32(), units))"
            )
    _check_steps(path)
    return schema


def _check_steps(path: Path) -> None:
    """One row per (sequence, step), each sequence's steps 0..T-1: checked out of core by DuckDB
    on the two key columns (a file larger than memory included)."""
    import duckdb

    if parquet_rows(path) == 0:
        raise StatesError(f"{path}: no rows; a states file holds one row per (sequence, step)")
    source = f"read_parquet('{_sql_string(path)}')"
    with duckdb.connect() as db:
        nulls, negative, rows, pairs = db.execute(
            "SELECT count(*) FILTER (sequence_id IS NULL OR t IS NULL), "
            "count(*) FILTER (sequence_id < 0 OR t < 0), count(*), "
            f"count(DISTINCT (sequence_id, t)) FROM {source}"
        ).fetchone()
        if nulls:
            raise StatesError(f"{path}: {nulls} row(s) lack sequence_id or t")
        if negative:
            raise StatesError(f"{path}: {negative} row(s) have a negative sequence_id or t")
        if pairs != rows:
            raise StatesError(
                f"{path}: {rows - pairs} row(s) repeat a (sequence_id, t) pair; each step of a "
                "sequence is one row (drop the duplicates)"
            )
        gap = db.execute(
            f"SELECT sequence_id, min(t), max(t), count(*) FROM {source} GROUP BY sequence_id "
            "HAVING min(t) <> 0 OR max(t) <> count(*) - 1 ORDER BY sequence_id LIMIT 1"
        ).fetchone()
    if gap is not None:
        sequence, first, last, steps = gap
        raise StatesError(
            f"{path}: sequence {sequence} has {steps} step(s) numbered {first}..{last}; t must "
            "count each sequence's steps 0, 1, ..., T-1 with no gap"
        )


def _sql_string(path: Path) -> str:
    return str(path).replace("'", "''")


def check_values(path: str | Path, batch_rows: int = 65_536) -> dict[str, int]:
    """Every state value finite and no state row null, streamed in row groups; returns the
    rows checked per state column. StatesError names the column and the first bad step."""
    path = Path(path)
    schema = validate(path)
    columns = state_columns(schema)
    checked = dict.fromkeys(columns, 0)
    for batch in iter_parquet(path, ["sequence_id", "t", *columns], batch_rows):
        for column in columns:
            _check_finite(path, column, batch)
            checked[column] += batch.num_rows
    return checked


def _check_finite(path: Path, column: str, batch) -> None:
    values = batch.column(column)
    bad = None
    if values.null_count:
        bad = int(np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))[0])
        what = "is null"
    else:
        width = values.type.list_size
        matrix = values.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
        finite = np.isfinite(matrix).all(axis=1)
        if not finite.all():
            bad, what = int(np.flatnonzero(~finite)[0]), "holds NaN or infinite values"
    if bad is not None:
        sequence, step = batch.column("sequence_id")[bad].as_py(), batch.column("t")[bad].as_py()
        raise StatesError(
            f"{path}: state {column!r} {what} at sequence {sequence}, step {step}; every state "
            "must be a finite vector"
        )


def read(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a states file (validated) into pandas; state columns hold numpy arrays per row."""
    validate(path)
    return read_parquet(path, columns)


def iter_batches(
    path: str | Path, columns: list[str] | None = None, batch_rows: int = 65_536
) -> Iterator[pa.RecordBatch]:
    validate(path)
    yield from iter_parquet(path, columns, batch_rows)


def state_matrix(path: str | Path, state: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Index columns and one state as a float32 matrix [rows, units], read without pandas lists."""
    schema = validate(path)
    if state not in state_columns(schema):
        raise StatesError(
            f"{path}: no state {state!r}; available: {', '.join(state_columns(schema))}"
        )
    table = read_table(path, ["sequence_id", "t", "token", state])
    for batch in table.to_batches():
        _check_finite(path, state, batch)
    column = table.column(state).combine_chunks()
    width = column.type.list_size
    values = column.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
    index = table.drop_columns([state]).to_pandas()
    return index, values
