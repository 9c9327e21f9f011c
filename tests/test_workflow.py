"""The Snakemake workflow: plans with every preset and the SLURM profile, rejects bad config."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _snakemake(*args, cwd):
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
               "--directory", str(cwd), *args]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("preset", [None, "ci.yaml", "paper.yaml"])
def test_dry_run_plans_every_preset(tmp_path, preset):
    args = ["-n", "--cores", "2"]
    if preset:
        args += ["--configfile", str(ROOT / "workflow/presets" / preset)]
    done = _snakemake(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "csl_train_lstm" in done.stdout and "report" in done.stdout


def test_slurm_profile_plans(tmp_path):
    done = _snakemake("-n", "--profile", str(ROOT / "workflow/profiles/slurm"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "csl_train_lstm" in done.stdout


def test_bad_config_stops_before_any_job(tmp_path):
    done = _snakemake("-n", "--cores", "1", "--config", "threads=0", cwd=tmp_path)
    assert done.returncode != 0
    assert "threads: 0 is below the minimum; expected an integer, >= 1" in done.stdout + done.stderr
    assert not (tmp_path / "results").exists()


def test_report_captions_are_valid_restructuredtext():
    # snakemake --report renders every caption with docutils: a stray |word| is an undefined
    # substitution there ("Undefined substitution referenced")
    import io

    import docutils.core

    for caption in sorted((ROOT / "workflow" / "report").glob("*.rst")):
        warnings = io.StringIO()
        docutils.core.publish_doctree(
            caption.read_text(),
            settings_overrides={"warning_stream": warnings, "report_level": 2},
        )
        assert warnings.getvalue() == "", f"{caption.name}: {warnings.getvalue()}"
    bad = ROOT / "workflow" / "report" / "units.rst"
    warnings = io.StringIO()
    docutils.core.publish_doctree(
        "the summed |delta| of the units", settings_overrides={"warning_stream": warnings}
    )
    assert "Undefined substitution" in warnings.getvalue() and bad.exists()  # it does catch one
