"""The conda environment of the rules (envs/rnnatlas.yaml) asks for what pyproject.toml asks for:
the same packages with the same floors, so a `--sdm conda` run and a pip install agree."""

import sys
from pathlib import Path

import yaml
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself depends on tomli before 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name -> conda-forge name where they differ
HOST_ONLY = {"snakemake"}  # runs the workflow; Snakemake puts itself on the rules' path
ENV_ONLY = {"python", "pip"}


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    floors = {}
    for line in project["dependencies"]:
        requirement = Requirement(line)
        name = CONDA_NAMES.get(requirement.name.lower(), requirement.name.lower())
        floors[name] = str(requirement.specifier)
    return floors


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "envs" / "rnnatlas.yaml").read_text())
    floors = {}
    for entry in env["dependencies"]:
        lines = entry["pip"] if isinstance(entry, dict) else [entry]
        for line in lines:
            if line.startswith("-e "):
                continue
            if "=" in line and not any(op in line for op in (">=", "<=", "==", "!=", "~=")):
                line = line.replace("=", "==", 1)  # conda's python=3.11
            requirement = Requirement(line)
            floors[requirement.name.lower()] = str(requirement.specifier)
    return floors


def test_the_conda_environment_has_the_same_packages_and_floors_as_pyproject():
    wanted = {k: v for k, v in _pyproject().items() if k not in HOST_ONLY}
    present = {k: v for k, v in _environment().items() if k not in ENV_ONLY}
    assert sorted(set(wanted) - set(present)) == [], "missing from envs/rnnatlas.yaml"
    assert sorted(set(present) - set(wanted)) == [], "missing from pyproject.toml"
    differing = {k: (wanted[k], present[k]) for k in wanted if wanted[k] != present[k]}
    assert differing == {}, "floors differ (pyproject, conda)"


def test_the_floors_exclude_the_versions_with_known_advisories():
    floors = _pyproject()
    fixed = {  # package: first version without the advisory that touches our use
        "pytorch": "2.6",  # CVE-2025-32434: torch.load(weights_only=True) could run code
        "pyarrow": "14.0.1",  # CVE-2023-47248: arbitrary code from crafted Parquet/IPC files
        "pillow": "10.3.0",  # CVE-2024-28219: buffer overflow in _imagingcms
        "tqdm": "4.66.3",  # CVE-2024-34062: eval of CLI arguments
        "scikit-learn": "1.5.0",  # CVE-2024-5206: stop_words_ kept sensitive tokens
    }
    for name, version in fixed.items():
        assert floors[name] == f">={version}", name
