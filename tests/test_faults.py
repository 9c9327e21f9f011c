"""Fault injection: every bad input a user can hand us (a states file, a model, a config) is
refused in one line that names the file or the key, with no traceback on the console and no
output left behind.

The good states file is written with plain pyarrow, not our writer, as a user's would be.
"""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from rnnatlas.analysis.memory_signature import memory_signature_from_parquet
from rnnatlas.cli import main
from rnnatlas.models import load, save
from rnnatlas.models.rnn import SequenceRNN

ROOT = Path(__file__).resolve().parents[1]
UNITS = 4


def _table(sequence_ids, steps, states, columns=None) -> pa.Table:
    rows = len(sequence_ids)
    flat = pa.array(np.asarray(states, dtype=np.float32).reshape(-1))
    arrays = {
        "sequence_id": pa.array(sequence_ids, pa.int64()),
        "t": pa.array(steps, pa.int32()),
        "token": pa.array([f"w{i % 3}" for i in range(rows)]),
        "target": pa.array([0] * rows, pa.int64()),
        "prediction": pa.array([0] * rows, pa.int64()),
        "h0": pa.FixedSizeListArray.from_arrays(flat, UNITS),
    }
    names = columns or list(arrays)
    return pa.Table.from_arrays([arrays[n.rstrip("'")] for n in names], names=names)


def _good(rows_per_sequence=6, sequences=5):
    ids = np.repeat(np.arange(sequences), rows_per_sequence)
    steps = np.tile(np.arange(rows_per_sequence), sequences)
    states = np.random.default_rng(0).normal(size=(len(ids), UNITS))
    return ids, steps, states


def _with_state(states, row, value):
    states = states.copy()
    states[row, 1] = value
    return states


def _null_state_row(path: Path) -> None:
    ids, steps, states = _good()
    table = _table(ids, steps, states)
    column = table.column("h0").combine_chunks()
    mask = np.zeros(len(ids), dtype=bool)
    mask[7] = True
    nulled = pa.FixedSizeListArray.from_arrays(column.values, UNITS, mask=pa.array(mask))
    pq.write_table(table.set_column(5, "h0", nulled), path)


def _flipped_page(path: Path) -> None:
    ids, steps, states = _good(rows_per_sequence=50, sequences=20)
    pq.write_table(
        _table(ids, steps, states),
        path,
        write_page_checksum=True,
        compression="none",
        use_dictionary=False,
    )
    meta = pq.ParquetFile(path).metadata.row_group(0).column(5)
    data = bytearray(path.read_bytes())
    data[meta.data_page_offset + meta.total_compressed_size // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _write(table_of):
    def write(path: Path) -> None:
        pq.write_table(table_of(), path)

    return write


def _ids(ids):
    return _write(lambda: _table(ids, np.tile(np.arange(6), 5)[: len(ids)], _good()[2]))


_IDS, _STEPS, _STATES = _good()
BAD_STATES = {
    # name: (writer, what the one line must say)
    "every row twice": (
        _write(lambda: _table(np.tile(_IDS, 2), np.tile(_STEPS, 2), np.concatenate([_STATES] * 2))),
        "30 row(s) repeat a (sequence_id, t) pair",
    ),
    "steps from 1": (_write(lambda: _table(_IDS, _STEPS + 1, _STATES)), "numbered 1..6"),
    "a gap in the steps": (
        _write(lambda: _table(_IDS, np.where(_STEPS == 5, 9, _STEPS), _STATES)),
        "numbered 0..9",
    ),
    "a negative id": (
        _write(lambda: _table(np.where(_IDS == 2, -2, _IDS), _STEPS, _STATES)),
        "negative sequence_id or t",
    ),
    "no rows": (_write(lambda: _table(_IDS[:0], _STEPS[:0], _STATES[:0])), "no rows"),
    "a NaN state": (
        _write(lambda: _table(_IDS, _STEPS, _with_state(_STATES, 8, math.nan))),
        "state 'h0' holds NaN or infinite values at sequence 1, step 2",
    ),
    "an infinite state": (
        _write(lambda: _table(_IDS, _STEPS, _with_state(_STATES, 13, math.inf))),
        "state 'h0' holds NaN or infinite values at sequence 2, step 1",
    ),
    "a null state row": (_null_state_row, "state 'h0' is null at sequence 1, step 1"),
    "a repeated column": (
        _write(
            lambda: _table(
                _IDS,
                _STEPS,
                _STATES,
                ["sequence_id", "t", "token", "target", "prediction", "h0", "h0'"],  # fmt: skip
            ).rename_columns(["sequence_id", "t", "token", "target", "prediction", "h0", "h0"])
        ),
        "column(s) ['h0'] appear more than once",
    ),
    "flipped bytes in a page": (_flipped_page, "CRC checksum verification failed"),
    "not Parquet": (lambda path: path.write_text("sequence_id,t\n0,0\n"), "not a readable Parquet"),
}


@pytest.fixture(params=sorted(BAD_STATES), ids=lambda name: name.replace(" ", "-"))
def bad_states(request, tmp_path):
    writer, expected = BAD_STATES[request.param]
    path = tmp_path / "user-states.parquet"
    writer(path)
    return path, expected


def test_the_good_file_passes_so_each_fault_is_the_only_difference(tmp_path, capsys):
    path = tmp_path / "user-states.parquet"
    pq.write_table(_table(_IDS, _STEPS, _STATES), path)
    assert main(["check-states", str(path)]) == 0
    assert "valid states file; 30 rows" in capsys.readouterr().out
    table = memory_signature_from_parquet(path, None, max_lag=2)
    assert set(table["lag"]) == {0, 1, 2}


def test_check_states_refuses_in_one_line(bad_states, capsys):
    path, expected = bad_states
    assert main(["check-states", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"rnnatlas check-states: error: {path}")
    assert expected in err and "Traceback" not in err


def test_the_analysis_entry_refuses_before_it_computes(bad_states):
    path, expected = bad_states
    with pytest.raises(ValueError) as error:  # StatesError and unreadable files alike
        memory_signature_from_parquet(path, None, max_lag=2)
    assert str(error.value).startswith(str(path)) and expected in str(error.value)


@pytest.mark.parametrize("fault", ["every row twice", "a NaN state", "flipped bytes in a page"])
def test_a_rule_given_bad_states_says_one_line_and_writes_nothing(fault, tmp_path):
    writer, expected = BAD_STATES[fault]
    states_path = tmp_path / "user-states.parquet"
    writer(states_path)
    out = tmp_path / "signature.parquet"
    script = textwrap.dedent(
        f"""
        from rnnatlas.papers.registry import load_config
        from rnnatlas.step import make_job, run_job

        memory = load_config([{str(ROOT / "config.yaml")!r}])["memory"]
        run_job(make_job(
            "memory_signature", input={{"states": {str(states_path)!r}}}, output=[{str(out)!r}],
            params={{"memory": memory}}, wildcards={{"family": "csl", "name": "esn"}},
            log={str(tmp_path / "job.log")!r},
        ))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"rule memory_signature: error: {states_path}")
    assert expected in done.stderr
    assert not out.exists() and not list(tmp_path.glob(".signature*"))


@pytest.fixture
def model_dir(tmp_path):
    torch.manual_seed(0)
    model = SequenceRNN(input_dim=3, units=5, classes=2)
    folder = tmp_path / "model"
    save(model, folder / "model.pt", folder / "model.json", {"kind": "rnn",
         "hyperparameters": model.hyperparameters()})  # fmt: skip
    return folder


def _flip_payload(weights: Path) -> None:
    with zipfile.ZipFile(weights) as archive:
        member = max(archive.infolist(), key=lambda info: info.file_size)
    data = bytearray(weights.read_bytes())
    name_length, extra_length = struct.unpack_from("<HH", data, member.header_offset + 26)
    data[member.header_offset + 30 + name_length + extra_length + 3] ^= 0x01
    weights.write_bytes(bytes(data))


def _drop_digest(folder: Path) -> None:
    card = json.loads((folder / "model.json").read_text())
    del card["weights_sha256"]
    (folder / "model.json").write_text(json.dumps(card))


MODEL_FAULTS = {
    # name: (damage, file named, what the line says)
    "truncated weights": (
        lambda f: (
            _drop_digest(f),
            (f / "model.pt").write_bytes((f / "model.pt").read_bytes()[:300]),
        ),
        "model.pt",
        "not a torch file or damaged",
    ),
    "empty weights": (
        lambda f: (_drop_digest(f), (f / "model.pt").write_bytes(b"")),
        "model.pt",
        "not a torch file or damaged",
    ),
    "flipped weight bytes, digest recorded": (
        lambda f: _flip_payload(f / "model.pt"),
        "model.pt",
        "sha256 differs",
    ),
    "flipped weight bytes, no digest": (
        lambda f: (_drop_digest(f), _flip_payload(f / "model.pt")),
        "model.pt",
        "fails its CRC check",
    ),
    "card is a list": (
        lambda f: (f / "model.json").write_text("[1, 2]"),
        "model.json",
        "a model card is a JSON object",
    ),  # fmt: skip
    "card is empty": (
        lambda f: (f / "model.json").write_text("{}"),
        "model.json",
        "a model card is a JSON object",
    ),  # fmt: skip
    "card truncated": (
        lambda f: (f / "model.json").write_text((f / "model.json").read_text()[:40]),
        "model.json",
        "is not valid JSON",
    ),
    "card missing": (lambda f: (f / "model.json").unlink(), "model.json", "is missing"),
}


@pytest.mark.parametrize("fault", sorted(MODEL_FAULTS), ids=lambda n: n.replace(" ", "-"))
def test_a_damaged_model_is_refused_in_one_line_naming_its_file(fault, model_dir):
    damage, named, expected = MODEL_FAULTS[fault]
    assert load(model_dir) is not None  # the intact model loads
    damage(model_dir)
    with pytest.raises(ValueError) as error:
        load(model_dir)
    message = str(error.value)
    assert message.startswith(str(model_dir / named)) and expected in message
    assert "\n" not in message


CONFIG_FAULTS = {
    # name: (preset text, the line that must be printed)
    "NaN learning rate": (
        "csl:\n  models:\n    lstm:\n      lr: .nan\n",
        "csl.models.lstm.lr: nan is not a finite number",
    ),
    "a word outside the vocabulary": (
        "csl:\n  units:\n    sentence: a purple glass is on the left\n",
        "csl.units.sentence: 'a purple glass is on the left' uses ['purple']",
    ),
    "an output index out of range": (
        "csl:\n  units:\n    connected_output: 22\n",
        "csl.units.connected_output: 22 is not an output index",
    ),
    "an unknown concept": (
        "csl:\n  rssviz:\n    outputs: [slot0:object:violin]\n",
        "csl.rssviz.outputs: ['slot0:object:violin'] are not outputs",
    ),
    "steps past the ceiling": (
        "text8:\n  model:\n    steps: 1427800\n",
        "text8.model.steps: 1,427,800 is above limits.steps (200,000)",
    ),
    "a failed pattern": (
        "csl:\n  rssviz:\n    outputs: [slot2:object:cup]\n",
        "csl.rssviz.outputs[0]: 'slot2:object:cup' does not match the pattern",
    ),
    "a YAML syntax error": ("csl:\n  corpus: [1, 2\n", "line 3, column 1: not valid YAML"),
    "an empty file": ("# nothing yet\n", "the file is empty"),
    "a list at the top": ("- 1\n- 2\n", "the top level must be a mapping"),
}


@pytest.mark.parametrize("fault", sorted(CONFIG_FAULTS), ids=lambda n: n.replace(" ", "-"))
def test_check_config_names_the_key_or_line(fault, tmp_path, capsys):
    text, expected = CONFIG_FAULTS[fault]
    preset = tmp_path / "my.yaml"
    preset.write_text(text)
    assert main(["check-config", str(ROOT / "config.yaml"), str(preset)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert all(
        line.startswith(("rnnatlas check-config: error:", "  - ")) for line in err.splitlines()
    )


@pytest.mark.parametrize("fault", ["NaN learning rate", "steps past the ceiling"])
def test_the_workflow_refuses_what_check_config_refuses_before_any_job(fault, tmp_path):
    text, expected = CONFIG_FAULTS[fault]
    preset = tmp_path / "my.yaml"
    preset.write_text(text)
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
               "--directory", str(tmp_path / "run"), "--configfile", str(preset),
               "--cores", "1"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert expected in done.stderr + done.stdout
    assert not (tmp_path / "run" / "results").exists()
