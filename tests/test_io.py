"""Atomic writes: nothing is left behind when the writer fails; outputs are world-readable."""

import json
import stat

import pytest

from rnnatlas.io import atomic_path, write_json


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert json.loads(target.read_text()) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_written_files_are_readable_by_others(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    assert target.stat().st_mode & stat.S_IROTH


def test_read_json_names_the_file_of_a_truncated_json(tmp_path):
    from rnnatlas.io import read_json

    path = tmp_path / "card.json"
    path.write_text('{"dataset": "csl-n4", "counts": [1, 2')
    with pytest.raises(ValueError, match=r"card\.json is not valid JSON .*: run csl_corpus again"):
        read_json(path, "run csl_corpus")
    with pytest.raises(FileNotFoundError, match=r"missing\.json is missing: run csl_corpus"):
        read_json(tmp_path / "missing.json", "run csl_corpus")
