"""The ci preset on a real single-node SLURM cluster through workflow/profiles/slurm.

tests/slurm/cluster.sh brings the cluster up (munge, slurmctld, slurmd; no accounting database,
so job status comes from squeue, as the profile documents). Every sbatch call goes through a
recording wrapper first in PATH, so the test sees what each job asked for. `.ci/run` installs
slurm-wlm and munge and sets RNNATLAS_REQUIRE_SLURM=1, which turns a missing cluster into a
failure; elsewhere the tests skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "tests" / "slurm" / "cluster.sh"
pytestmark = [pytest.mark.slurm, pytest.mark.e2e]

# A cluster without accounting: job status from squeue, no account looked up through sacct.
NO_ACCOUNTING = ["--slurm-status-command", "squeue", "--slurm-no-account"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    missing = [name for name in ("slurmctld", "slurmd", "munged", "sbatch") if not _which(name)]
    if missing or os.geteuid() != 0:
        why = f"needs root and Debian slurm-wlm + munge (missing: {missing or 'root'})"
        if os.environ.get("RNNATLAS_REQUIRE_SLURM") == "1":
            pytest.fail(why)
        pytest.skip(why)
    state = tmp_path_factory.mktemp("slurm")
    subprocess.run([str(CLUSTER), "start", str(state)], check=True, timeout=120)
    recorder = state / "bin" / "sbatch"
    recorder.parent.mkdir()
    recorder.write_text(
        "#!/usr/bin/env bash\n"
        "# Record each submission (its NUL-separated arguments, one file per call: concurrent\n"
        "# calls never interleave), then submit it.\n"
        'printf "%s\\0" "$@" >"$(mktemp "$SBATCH_RECORD/call.XXXXXX")"\n'
        f'exec {_which("sbatch")} "$@"\n'
    )
    recorder.chmod(0o755)
    yield state
    subprocess.run([str(CLUSTER), "stop", str(state)], check=False, timeout=60)


def _which(name: str) -> str | None:
    return shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def _snakemake(cluster: Path, workdir: Path, *extra: str, record: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PATH": f"{cluster / 'bin'}:{os.environ['PATH']}",
        "SBATCH_RECORD": str(record),
    }
    command = [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(ROOT / "Snakefile"),
        "--directory", str(workdir),
        "--profile", str(ROOT / "workflow" / "profiles" / "slurm"),
        *NO_ACCOUNTING,
        "--slurm-init-seconds-before-status-checks", "5",
        "--seconds-between-status-checks", "5",
        "--jobs", "4",
        *extra,
    ]  # fmt: skip
    log = open(workdir.parent / f"{workdir.name}.snakemake.log", "a")  # noqa: SIM115
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)


def _finish(process: subprocess.Popen, timeout: int) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def _submissions(record: Path) -> list[list[str]]:
    """The arguments of every sbatch call recorded in the folder `record`."""
    return [call.read_text().rstrip("\0").split("\0") for call in sorted(record.glob("call.*"))]


def _tail(workdir: Path) -> str:
    log = workdir.parent / f"{workdir.name}.snakemake.log"
    return log.read_text()[-6000:] if log.exists() else "(no log)"


@pytest.fixture(scope="module")
def ci_run(cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("ci") / "work"
    workdir.mkdir()
    record = workdir.parent / "sbatch"
    record.mkdir()
    started = time.monotonic()
    process = _snakemake(
        cluster,
        workdir,
        "--configfile", str(ROOT / "workflow" / "presets" / "ci.yaml"),
        record=record,
    )  # fmt: skip
    code = _finish(process, timeout=2400)
    if code != 0:
        pytest.fail(f"snakemake through SLURM failed ({code}):\n{_tail(workdir)}")
    return workdir, record, time.monotonic() - started


def test_the_ci_preset_runs_through_the_profile_and_reports(ci_run):
    workdir, _, seconds = ci_run
    claims = json.loads((workdir / "results/report/claims.json").read_text())
    checked = [c for c in claims if c["verdict"] != "not checked at this scale"]
    assert len(checked) >= 10
    failures = [c["id"] for c in checked if c["verdict"] != "reproduced"]
    assert not failures, f"claims not reproduced through SLURM: {failures}"
    assert (workdir / "results/report/index.html").stat().st_size > 10_000
    print(f"ci preset through SLURM: {seconds:.0f} s")


def test_every_job_went_through_sbatch(ci_run):
    workdir, record, _ = ci_run
    submissions = _submissions(record)
    log = (workdir.parent / f"{workdir.name}.snakemake.log").read_text()
    submitted = log.count("has been submitted with SLURM jobid")
    finished = log.count("Finished job")
    assert submitted == len(submissions) >= 40
    # every job of the DAG but the local target `all` was a SLURM job
    assert "localrule" not in log.replace("localrule all:", "")
    assert finished >= submitted
    rules = {next(a for a in s if a.startswith("rule_")).split("_wildcards")[0] for s in
             (args[args.index("--comment") + 1:] for args in submissions)}  # fmt: skip
    for expected in ("rule_csl_train_lstm", "rule_mnist_train", "rule_text8_train", "rule_report"):
        assert expected in rules


def test_cpu_jobs_ask_for_no_gpu(ci_run):
    _, record, _ = ci_run
    for arguments in _submissions(record):
        asked = [a for a in arguments if "gpu" in a.lower() or a.startswith("--gres")]
        assert not asked, f"a CPU job asked for a GPU: {asked}"


def test_the_paper_preset_asks_a_gpu_for_text8_training_only(tmp_path):
    # A dry run prints each job's resources; no cluster needed.
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
        "--directory", str(tmp_path), "--profile", str(ROOT / "workflow/profiles/slurm"),
        "--configfile", str(ROOT / "workflow/presets/paper.yaml"), "--dry-run",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    jobs = done.stdout.split("\nrule ")[1:]
    with_gpu = {job.split(":", 1)[0] for job in jobs if "gpu=1" in job}
    assert with_gpu == {"text8_train"}


def test_a_cancelled_training_job_resumes_from_its_checkpoint(cluster, tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    record = tmp_path / "sbatch"
    record.mkdir()
    preset = tmp_path / "long.yaml"
    preset.write_text("csl:\n  models:\n    lstm:\n      epochs: 60\n")
    target = "results/models/csl-n4/lstm/seed0/model.pt"
    arguments = [
        "--configfile", str(ROOT / "workflow/presets/ci.yaml"), str(preset),
        "--retries", "0", target,
    ]  # fmt: skip
    process = _snakemake(cluster, workdir, *arguments, record=record)
    resume = workdir / "results/resume/csl-n4/lstm/seed0"
    saved_step = _wait_for_a_saved_epoch(resume, process, timeout=600)
    job = _slurm_job("rule_csl_train_lstm")
    subprocess.run(["scancel", job], check=True)
    assert _finish(process, timeout=300) != 0, "the cancelled job must fail the first run"
    assert not (workdir / target).exists()
    state = _squeue_state(job)
    assert state in {"CANCELLED", "CA", ""}, state

    process = _snakemake(cluster, workdir, *arguments, record=record)
    code = _finish(process, timeout=900)
    assert code == 0, _tail(workdir)
    log = (workdir / "logs/train/csl-n4/lstm/seed0.log").read_text()
    assert "resuming training from" in log, log[-2000:]
    resumed_at = int(log.split("resuming training from", 1)[1].split("(step ", 1)[1].split(")")[0])
    assert resumed_at >= saved_step > 0
    history = pd.read_parquet(workdir / "results/models/csl-n4/lstm/seed0/history.parquet")
    assert history["epoch"].tolist() == list(range(1, 61))  # each epoch once, none repeated
    trained = [s for s in _submissions(record) if "rule_csl_train_lstm" in " ".join(s)]
    assert len(trained) == 2


def _wait_for_a_saved_epoch(resume: Path, process: subprocess.Popen, timeout: float) -> int:
    """The step of the first save past epoch 1 (the job is then mid-run)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for latest in resume.glob("run-*/latest.json"):
            try:
                step = int(json.loads(latest.read_text())["step"])
            except (ValueError, KeyError, json.JSONDecodeError):
                continue
            if step > 0:
                return step
        if process.poll() is not None:
            pytest.fail("snakemake ended before the training job saved an epoch")
        time.sleep(0.5)
    process.kill()
    pytest.fail(f"no saved epoch under {resume} within {timeout} s")


def _slurm_job(comment_prefix: str) -> str:
    listing = subprocess.run(
        ["squeue", "--noheader", "--format=%i %k %T"], capture_output=True, text=True, check=True
    ).stdout
    for line in listing.splitlines():
        job, comment, state = (line.split() + ["", ""])[:3]
        if comment.startswith(comment_prefix) and state == "RUNNING":
            return job
    pytest.fail(f"no running SLURM job for {comment_prefix}:\n{listing}")


def _squeue_state(job: str) -> str:
    return subprocess.run(
        ["squeue", "--noheader", "--jobs", job, "--states=all", "--format=%T"],
        capture_output=True,
        text=True,
    ).stdout.strip()
