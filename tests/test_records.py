"""Recorded runs (reproductions/<name>/): the record writer against a hand-made Snakemake log,
benchmark files and git checkout, and the records in the repository against the claims the code
registers today."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from rnnatlas.cli import main
from rnnatlas.papers.registry import PAPERS
from rnnatlas.report.records import parse_log, read_records, record_folders, rule_wall_times

ROOT = Path(__file__).resolve().parents[1]

# Snakemake 9's own wording, cut to what the record reads: two jobs of one rule, one of another.
LOG = """\
Building DAG of jobs...
[Wed Dec  2 18:12:03 2026]
rule train:
    input: a
    output: b
    jobid: 2
    benchmark: results/benchmarks/train/seed0.tsv
    reason: Missing output files: b
[Wed Dec  2 18:12:03 2026]
rule train:
    jobid: 3
    benchmark: results/benchmarks/train/seed1.tsv
[Wed Dec  2 18:12:40 2026]
Finished jobid: 2 (Rule: train)
[Wed Dec  2 18:13:00 2026]
localrule report:
    jobid: 0
    benchmark: results/benchmarks/report.tsv
[Wed Dec  2 19:42:03 2026]
Finished jobid: 0 (Rule: report)
"""
BENCHMARK_HEADER = "\t".join(
    ["s", "h:m:s", "max_rss", "max_vms", "max_uss", "max_pss", "io_in", "io_out", "mean_load",
     "cpu_time"]
) + "\n"  # fmt: skip


def _benchmark(root: Path, path: str, seconds: float) -> None:
    file = root / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(BENCHMARK_HEADER + f"{seconds}\t0:00:01\t1\t1\t1\t1\t0\t0\t50\t1\n")


def test_the_log_names_each_jobs_rule_and_the_run_spans_its_stamps():
    rules, stamps = parse_log(LOG)
    assert rules == {
        "results/benchmarks/train/seed0.tsv": "train",
        "results/benchmarks/train/seed1.tsv": "train",
        "results/benchmarks/report.tsv": "report",
    }
    # 18:12:03 to 19:42:03: an hour and a half
    assert (stamps[-1] - stamps[0]).total_seconds() == 5400


def test_wall_time_per_rule_sums_the_jobs_benchmarks(tmp_path):
    _benchmark(tmp_path, "results/benchmarks/train/seed0.tsv", 1.5)
    _benchmark(tmp_path, "results/benchmarks/train/seed1.tsv", 2.5)
    _benchmark(tmp_path, "results/benchmarks/report.tsv", 7.0)
    table = rule_wall_times(parse_log(LOG)[0], tmp_path)
    assert table.to_dict(orient="records") == [
        {"rule": "report", "jobs": 1, "total": 7.0, "mean": 7.0, "max": 7.0},
        {"rule": "train", "jobs": 2, "total": 4.0, "mean": 2.0, "max": 2.5},
    ]


@pytest.fixture
def finished_run(tmp_path):
    """A git checkout whose run wrote its report and benchmarks, and the run's log."""
    run = tmp_path / "run"
    run.mkdir()
    (run / ".gitignore").write_text("results/\nrun.log\n")

    def git(*args):
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=run, check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip

    git("init", "-q")
    git("add", ".gitignore")
    git("commit", "-qm", "start")
    claims = [
        {"id": "p.a", "kind": "claim", "alias_of": None, "verdict": "reproduced"},
        {"id": "p.b", "kind": "claim", "alias_of": "p.a", "verdict": "reproduced"},
        {"id": "p.c", "kind": "claim", "alias_of": None, "verdict": "inconclusive"},
        {"id": "p.n", "kind": "check", "alias_of": None, "verdict": "reproduced"},
    ]
    (run / "results" / "report").mkdir(parents=True)
    (run / "results" / "report" / "claims.json").write_text(json.dumps(claims))
    for path, seconds in [("train/seed0", 1.5), ("train/seed1", 2.5), ("report", 7.0)]:
        _benchmark(run, f"results/benchmarks/{path}.tsv", seconds)
    (run / "run.log").write_text(LOG)
    return run, git("rev-parse", "HEAD")


def test_a_record_keeps_claims_commit_machine_and_rule_times(finished_run, tmp_path, capsys):
    run, commit = finished_run
    out = tmp_path / "reproductions" / "long"
    argv = ["record", "long", "--preset", "workflow/presets/x.yaml", "--command", "snakemake x",
            "--log", str(run / "run.log"), "--run", str(run), "--out", str(out),
            "--note", "tests ran beside it"]  # fmt: skip
    assert main(argv) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["commit"] == commit and manifest["command"] == "snakemake x"
    assert manifest["wall_seconds"] == 5400 and manifest["jobs"] == 3
    assert manifest["started"] == "2026-12-02T18:12:03"
    assert [r["rule"] for r in manifest["rules"]] == ["report", "train"]
    assert manifest["headline"]["claims"]["reproduced"] == 1  # p.b repeats p.a
    assert manifest["packages"]["torch"] and manifest["machine"]["cores"] >= 1
    assert json.loads((out / "claims.json").read_text()) == json.loads(
        (run / "results" / "report" / "claims.json").read_text()
    )
    readme = (out / "README.md").read_text()
    assert "1 h 30 min of wall time" in readme and "| train | 2 | 0 min 04 s |" in readme
    assert "1 reproduced, 0 not reproduced, 1 inconclusive" in readme
    assert "Conditions: tests ran beside it." in readme
    [recorded] = read_records([out])
    assert recorded.label == f"long @{commit[:7]}"
    assert recorded.verdicts["p.c"] == "inconclusive"


def test_a_run_of_uncommitted_code_is_not_recorded(finished_run, tmp_path, capsys):
    run, _ = finished_run
    (run / ".gitignore").write_text("changed\n")
    out = tmp_path / "reproductions" / "long"
    argv = ["record", "long", "--preset", "p", "--command", "c", "--log", str(run / "run.log"),
            "--run", str(run), "--out", str(out)]  # fmt: skip
    assert main(argv) == 2
    assert "tracked files differ" in capsys.readouterr().err
    assert not out.exists()


def test_every_recorded_claim_is_still_registered():
    registered = {claim.id for paper in PAPERS for claim in paper.claims()}
    folders = record_folders(ROOT)
    assert folders, "reproductions/ holds no record"
    for run in read_records(folders):
        gone = sorted(set(run.verdicts) - registered)
        assert not gone, f"reproductions/{run.name} names claims no paper registers: {gone}"
