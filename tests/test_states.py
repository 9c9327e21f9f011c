"""The states Parquet contract: round trip, readable by pandas, pyarrow and DuckDB, bad files."""

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rnnatlas import states
from rnnatlas.states import SequenceStates, StatesError


def _sequences(n=7, units=5, width=3, seed=0):
    rng = np.random.default_rng(seed)
    for sid in range(n):
        length = int(rng.integers(2, 6))
        yield SequenceStates(
            sequence_id=100 + sid,
            tokens=[f"w{i}" for i in range(length)],
            states={"h0": rng.normal(size=(length, units)), "c0": rng.normal(size=(length, units))},
            targets=np.tile(rng.random(width), (length, 1)),
            predictions=rng.normal(size=(length, width)),
        )


def test_round_trip_matches_what_was_written(tmp_path):
    path = tmp_path / "states.parquet"
    written = list(_sequences())
    # small row groups so the file really is streamed in several groups
    with states.StateWriter(path, metadata={"model": "toy"}, row_group_rows=8) as writer:
        for seq in written:
            writer.write(seq)
    assert pq.ParquetFile(path).metadata.num_row_groups > 1
    frame = states.read(path)
    assert len(frame) == sum(len(s.tokens) for s in written)
    first = frame[frame["sequence_id"] == 100].sort_values("t")
    np.testing.assert_allclose(np.stack(first["h0"]), written[0].states["h0"], rtol=1e-6)
    np.testing.assert_allclose(np.stack(first["prediction"]), written[0].predictions, rtol=1e-6)
    assert first["token"].tolist() == written[0].tokens
    assert first["t"].tolist() == list(range(len(written[0].tokens)))
    meta = states.metadata(path)
    assert meta["model"] == "toy" and meta["states"] == ["h0", "c0"]


def test_schema_types_and_compression(tmp_path):
    path = states.write(tmp_path / "s.parquet", _sequences())
    schema = states.validate(path)
    assert schema.field("h0").type == pa.list_(pa.float32(), 5)
    assert schema.field("sequence_id").type == pa.int64()
    assert schema.field("t").type == pa.int32()
    column = pq.ParquetFile(path).metadata.row_group(0).column(0)
    assert column.compression == "ZSTD"


def test_duckdb_reads_the_file(tmp_path):
    path = states.write(tmp_path / "s.parquet", _sequences(n=4))
    frame = states.read(path)
    expected = frame.groupby("sequence_id")["t"].max().sort_index()
    rows = duckdb.sql(
        f"SELECT sequence_id, max(t) AS last FROM '{path}' GROUP BY sequence_id ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in rows] == expected.index.tolist()
    assert [r[1] for r in rows] == expected.tolist()
    # fixed-size lists arrive as arrays: element 2 of h0 (1-based) at one step
    query = f"SELECT h0[2] FROM '{path}' WHERE sequence_id = 101 AND t = 1"
    ((value,),) = duckdb.sql(query).fetchall()
    row = frame[(frame["sequence_id"] == 101) & (frame["t"] == 1)].iloc[0]
    assert value == pytest.approx(float(row["h0"][1]), rel=1e-6)


def test_state_matrix_is_row_aligned(tmp_path):
    written = list(_sequences(n=3))
    path = states.write(tmp_path / "s.parquet", written)
    index, matrix = states.state_matrix(path, "c0")
    assert matrix.shape == (len(index), 5) and matrix.dtype == np.float32
    np.testing.assert_allclose(matrix[: len(written[0].tokens)], written[0].states["c0"], rtol=1e-6)


def test_failed_write_leaves_nothing(tmp_path):
    path = tmp_path / "s.parquet"

    def broken():
        yield from _sequences(n=2)
        raise RuntimeError("job killed")

    with pytest.raises(RuntimeError):
        states.write(path, broken())
    assert list(tmp_path.iterdir()) == []


def test_inconsistent_state_shape_is_rejected(tmp_path):
    bad = SequenceStates(0, ["a", "b"], {"h0": np.zeros((3, 4))})
    with pytest.raises(StatesError, match="expected \\(2, units\\)"):
        states.write(tmp_path / "s.parquet", [bad])
    assert not (tmp_path / "s.parquet").exists()


def test_user_file_with_wrong_types_is_named(tmp_path):
    path = tmp_path / "user.parquet"
    table = pa.table(
        {
            "sequence_id": pa.array([0, 0], pa.int64()),
            "t": pa.array([0, 1], pa.int32()),
            "token": ["a", "b"],
            "target": pa.array([1, 2], pa.int64()),
            "prediction": pa.array([1, 2], pa.int64()),
            "h0": pa.array([[0.0, 1.0], [1.0, 2.0]], pa.list_(pa.float64())),
        }
    )
    pq.write_table(table, path)
    with pytest.raises(StatesError, match="'h0'.*fixed_size_list<float32>"):
        states.validate(path)
    pq.write_table(table.drop_columns(["t"]), path)
    with pytest.raises(StatesError, match="required column 't'"):
        states.validate(path)
    path.write_text("not parquet")
    with pytest.raises(StatesError, match="not a readable Parquet"):
        states.validate(path)


def _table_file(path, sequence_ids, steps, values=None):
    """A hand-made states file: the given (sequence_id, t) rows, a 2-unit state h0."""
    rows = len(steps)
    if values is None:
        values = np.arange(2 * rows, dtype=np.float32).reshape(rows, 2)
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1), pa.float32()), 2)
    table = pa.table({
        "sequence_id": pa.array(sequence_ids, pa.int64()), "t": pa.array(steps, pa.int32()),
        "token": pa.array(["w"] * rows), "target": pa.nulls(rows, pa.int64()),
        "prediction": pa.nulls(rows, pa.int64()), "h0": vectors,
    })  # fmt: skip
    pq.write_table(table, path)
    return path


@pytest.mark.parametrize(
    ("sequence_ids", "steps", "message"),
    [
        ([0, 0, 1, 0, 0, 1], [0, 1, 0, 0, 1, 0], r"3 row\(s\) repeat a \(sequence_id, t\) pair"),
        ([0, 0, 1], [1, 2, 0], r"sequence 0 has 2 step\(s\) numbered 1\.\.2"),
        ([0, 0, 0], [0, 1, 3], r"sequence 0 has 3 step\(s\) numbered 0\.\.3; t must count"),
        ([-1, -1], [0, 1], r"2 row\(s\) have a negative sequence_id or t"),
        ([], [], "no rows"),
    ],
)
def test_keys_must_number_each_sequences_steps_once(tmp_path, sequence_ids, steps, message):
    path = _table_file(tmp_path / "bad.parquet", sequence_ids, steps)
    with pytest.raises(StatesError, match=message):
        states.validate(path)


def test_unsorted_keys_are_fine(tmp_path):
    path = _table_file(tmp_path / "ok.parquet", [1, 0, 1, 0], [1, 1, 0, 0])
    assert states.check_values(path) == {"h0": 4}


def test_nan_infinite_and_null_states_are_named_with_their_step(tmp_path):
    values = np.zeros((4, 2), dtype=np.float32)
    values[2, 1] = np.nan
    path = _table_file(tmp_path / "nan.parquet", [5, 5, 5, 5], [0, 1, 2, 3], values)
    with pytest.raises(
        StatesError, match=r"'h0' holds NaN or infinite values at sequence 5, step 2"
    ):
        states.check_values(path)
    with pytest.raises(StatesError, match="step 2"):
        states.state_matrix(path, "h0")  # what the analyses read
    values[2, 1], values[3, 0] = 0, np.inf
    _table_file(tmp_path / "nan.parquet", [5, 5, 5, 5], [0, 1, 2, 3], values)
    with pytest.raises(StatesError, match="sequence 5, step 3"):
        states.check_values(path)
    table = pq.read_table(path)
    nulls = pa.array([[0.0, 0.0], None, [1.0, 1.0], [2.0, 2.0]], pa.list_(pa.float32(), 2))
    pq.write_table(table.set_column(5, "h0", nulls), path)
    with pytest.raises(StatesError, match="'h0' is null at sequence 5, step 1"):
        states.check_values(path)


def test_repeated_column_names_are_refused(tmp_path):
    path = _table_file(tmp_path / "twice.parquet", [0, 0], [0, 1])
    table = pq.read_table(path)
    pq.write_table(table.append_column("h0", table.column("h0")), path)
    with pytest.raises(StatesError, match=r"\['h0'\] appear more than once"):
        states.validate(path)


def test_check_states_command(tmp_path, capsys):
    from rnnatlas.cli import main

    good = _table_file(tmp_path / "good.parquet", [0, 0, 1], [0, 1, 0])
    assert main(["check-states", str(good)]) == 0
    assert "valid states file; 3 rows; states h0" in capsys.readouterr().out
    bad = _table_file(tmp_path / "bad.parquet", [0, 0], [0, 0])
    assert main(["check-states", str(bad)]) == 2
    assert "repeat a (sequence_id, t) pair" in capsys.readouterr().err


def test_flipped_bytes_inside_a_state_page_are_refused_by_their_crc(tmp_path):
    path = states.write(tmp_path / "s.parquet", _sequences(n=40, units=64))
    meta = pq.ParquetFile(path).metadata.row_group(0)
    h0 = next(
        meta.column(i)
        for i in range(meta.num_columns)
        if meta.column(i).path_in_schema.startswith("h0")
    )
    data = bytearray(path.read_bytes())
    # a byte well inside the h0 column chunk, past its page header
    data[h0.data_page_offset + h0.total_compressed_size // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert pq.read_table(path).num_rows > 0  # without verification pyarrow reads other numbers
    with pytest.raises(ValueError, match=r"s\.parquet: not a readable Parquet file .*CRC"):
        states.check_values(path)
    with pytest.raises(ValueError, match=r"s\.parquet: not a readable Parquet file .*CRC"):
        states.state_matrix(path, "h0")
