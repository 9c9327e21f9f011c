"""Recorded runs (`reproductions/<name>/`): what one finished run of a preset found, kept in git so
the report can set the verdicts of long runs beside the live ones.

A record is three files: `claims.json` (the run's claims, as the report wrote them),
`manifest.json` (commit, command, machine, package versions, wall time, and the wall time per
rule summed from the Snakemake benchmarks of the jobs that run executed) and `README.md`.
:func:`write_record` makes one from a finished run; :func:`read_records` reads them back.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

from rnnatlas.io import atomic_path, read_json, write_json
from rnnatlas.report.claims import VERDICTS, headline

RECORDS_DIR = "reproductions"
# Snakemake's log: a job block starts with "rule NAME:" (or localrule) and names its benchmark;
# every event is stamped "[Wed Dec  2 18:12:03 2026]".
_RULE = re.compile(r"^(?:local)?rule (\w+):$")
_BENCHMARK = re.compile(r"^\s+benchmark: (\S+)$")
_STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
_STAMP_FORMAT = "%a %b %d %H:%M:%S %Y"


@dataclass(frozen=True)
class RecordedRun:
    name: str  # the folder under reproductions/, e.g. the preset
    commit: str
    finished: str
    wall_seconds: float
    verdicts: dict[str, str]  # claim id -> verdict

    @property
    def label(self) -> str:
        return f"{self.name} @{self.commit[:7]}"


def read_records(folders: Iterable[str | Path]) -> list[RecordedRun]:
    """Every record folder's run, in the order given."""
    runs = []
    for folder in folders:
        folder = Path(folder)
        how = f"a record is written by `rnnatlas record {folder.name} ...` after a run"
        manifest = read_json(folder / "manifest.json", how)
        claims = read_json(folder / "claims.json", how)
        runs.append(
            RecordedRun(
                name=folder.name,
                commit=manifest["commit"],
                finished=manifest["finished"],
                wall_seconds=manifest["wall_seconds"],
                verdicts={record["id"]: record["verdict"] for record in claims},
            )
        )
    return runs


def record_folders(root: str | Path) -> list[Path]:
    """The record folders under `root`/reproductions, sorted by name."""
    base = Path(root) / RECORDS_DIR
    return sorted(p for p in base.glob("*") if (p / "manifest.json").exists())


def parse_log(text: str) -> tuple[dict[str, str], list[datetime]]:
    """From a Snakemake log: benchmark path -> rule name for every job it started, and its time
    stamps in order."""
    rules, stamps, rule = {}, [], None
    for line in text.splitlines():
        if found := _RULE.match(line):
            rule = found.group(1)
        elif (found := _BENCHMARK.match(line)) and rule is not None:
            rules[found.group(1)] = rule
        elif found := _STAMP.match(line):
            stamps.append(datetime.strptime(found.group(1), _STAMP_FORMAT))
    return rules, stamps


def rule_wall_times(benchmarks: Mapping[str, str], root: str | Path) -> pd.DataFrame:
    """Per rule: jobs, total, mean and largest wall seconds, from the benchmark files (path ->
    rule) under `root`; jobs whose benchmark is missing (failed or not run) are left out."""
    rows = []
    for path, rule in benchmarks.items():
        file = Path(root) / path
        if file.exists():
            seconds = pd.read_csv(file, sep="\t")["s"].iloc[-1]
            rows.append({"rule": rule, "seconds": float(seconds)})
    frame = pd.DataFrame(rows, columns=["rule", "seconds"])
    table = frame.groupby("rule")["seconds"].agg(jobs="count", total="sum", mean="mean", max="max")
    return table.sort_values("total", ascending=False).round(2).reset_index()


def machine() -> dict:
    """The machine the run used: CPU, cores, memory, OS, Python, GPU."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = models[0] if models else cpu
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "memory_gib": round(memory, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "gpu": gpu,
    }


def package_versions() -> dict[str, str]:
    """rnnatlas and the version of each package it requires."""
    versions = {"rnnatlas": metadata.version("rnnatlas")}
    for requirement in metadata.requires("rnnatlas") or []:
        if "extra ==" in requirement:
            continue
        name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit(root: str | Path) -> tuple[str, bool]:
    """HEAD of the checkout at `root`, and whether tracked files differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, check=True, capture_output=True, text=True
        ).stdout.strip()

    return git("rev-parse", "HEAD"), bool(git("status", "--porcelain", "--untracked-files=no"))


def write_record(
    out: str | Path,
    run_root: str | Path,
    claims_path: str | Path,
    logs: Sequence[str | Path],
    command: str,
    preset: str,
    note: str = "",
) -> dict:
    """Write `out`/{claims.json, manifest.json, README.md} for the finished run in `run_root`,
    whose Snakemake output went to `logs` (one per invocation, e.g. a resumed run); `note` says
    what a reader should know about the conditions (e.g. other work sharing the machine);
    returns the manifest."""
    run_root = Path(run_root)
    claims = read_json(claims_path, "the run must finish its report first")
    benchmarks, wall, first, last = {}, 0.0, None, None
    for log in logs:
        rules, stamps = parse_log(Path(log).read_text())
        if not stamps:
            raise ValueError(f"{log}: no Snakemake time stamps; pass the log of the run")
        benchmarks.update(rules)
        wall += (stamps[-1] - stamps[0]).total_seconds()
        first = min(first or stamps[0], stamps[0])
        last = max(last or stamps[-1], stamps[-1])
    commit, dirty = git_commit(run_root)
    if dirty:
        raise ValueError(f"{run_root}: tracked files differ from {commit[:7]}; record a clean run")
    per_rule = rule_wall_times(benchmarks, run_root)
    manifest = {
        "name": Path(out).name,
        "preset": preset,
        "command": command,
        "commit": commit,
        "started": first.isoformat(),
        "finished": last.isoformat(),
        "wall_seconds": wall,
        "jobs": int(per_rule["jobs"].sum()),
        "headline": headline(claims),
        "machine": machine(),
        "packages": package_versions(),
        "rules": per_rule.to_dict(orient="records"),
        "note": note,
    }
    out = Path(out)
    write_json(out / "claims.json", claims)
    write_json(out / "manifest.json", manifest)
    with atomic_path(out / "README.md") as tmp:
        tmp.write_text(readme(manifest))
    return manifest


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def readme(manifest: Mapping) -> str:
    """The record's README: what ran, where, how long, and what it found."""
    counts = manifest["headline"]
    claims = ", ".join(f"{counts['claims'][v]} {v}" for v in VERDICTS)
    checks = ", ".join(f"{n} {v}" for v, n in counts["checks"].items() if n)
    m = manifest["machine"]
    slowest = "\n".join(
        f"| {r['rule']} | {r['jobs']} | {_duration(r['total'])} | {_duration(r['max'])} |"
        for r in manifest["rules"][:8]
    )
    return f"""# Recorded run: {manifest["name"]}

One run of the committed code at `{manifest["commit"]}` with the `{manifest["preset"]}` preset,
from an empty `results/`:

```bash
{manifest["command"]}
```

- Finished {manifest["finished"]} after {_duration(manifest["wall_seconds"])} of wall time,
  {manifest["jobs"]} jobs.
- Machine: {m["cpu"]}, {m["cores"]} cores, {m["memory_gib"]} GiB, {m["gpu"] or "no GPU"};
  {m["os"]}, Python {m["python"]}. Package versions are in `manifest.json`.
- Claims (each measurement once): {claims}.
- Conditions: {manifest.get("note") or "the machine ran this alone"}.
- Checks: {checks or "none"}.

`claims.json` holds every record as the report wrote it; the report built from any later commit
shows these verdicts beside its own, labelled `{manifest["name"]} @{manifest["commit"][:7]}`.

Rules by total wall time (all `manifest.json` has every rule):

| rule | jobs | total | longest job |
|---|---:|---:|---:|
{slowest}
"""
