"""The one way from a Snakemake rule to code: a job hands its files and params to a function.

Every rule runs `workflow/scripts/step.py` through Snakemake's `script:` directive. That script
calls :func:`run_snakemake_job`, which finds the step function by the rule's name and calls it
with a :class:`Job`: the rule's input and output files (as named in the rule, and nowhere else),
its params (plain Python values, never pasted into a shell), wildcards, threads and log.

Rule ``<owner>_<name>`` runs ``<package>.steps.<name>(job)``, where the package is
``rnnatlas.papers.<owner>`` for a registered paper, or one of :data:`OWNERS`; a paper's report
section, rule ``<paper>_section``, runs ``<package>.section.section(job)``. A rule named after
its owner alone (``report``) runs the function of that name.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

from rnnatlas.download import DownloadError

# Step packages that are not papers
OWNERS = {"report": "rnnatlas.report"}


class Files(list):
    """A rule's input or output files: a list of Paths, named ones also as attributes."""

    def __init__(self, files: Iterable = (), names: Mapping[str, object] | None = None):
        super().__init__(_as_path(f) for f in files)
        self._names = {name: _as_path(value) for name, value in (names or {}).items()}

    def __getattr__(self, name: str):
        try:
            return self.__dict__["_names"][name]
        except KeyError:
            raise AttributeError(f"no file named {name!r}; named: {sorted(self._names)}") from None

    def get(self, name: str, default=None):
        return self._names.get(name, default)

    def named(self) -> dict[str, Path]:
        """The named files as a plain {name in the rule: path} mapping."""
        return dict(self._names)


class Values(dict):
    """A rule's params or wildcards: a dict whose keys are also attributes."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no value named {name!r}; named: {sorted(self)}") from None


def _as_path(value):
    if isinstance(value, str):
        return Path(value)
    if isinstance(value, list | tuple):
        return [_as_path(v) for v in value]
    return value


@dataclass(frozen=True)
class Job:
    """What one step function receives."""

    rule: str
    input: Files = field(default_factory=Files)
    output: Files = field(default_factory=Files)
    params: Values = field(default_factory=Values)
    wildcards: Values = field(default_factory=Values)
    threads: int = 1
    log: Path | None = None


def make_job(
    rule: str,
    input: Mapping | Iterable = (),
    output: Mapping | Iterable = (),
    params: Mapping | None = None,
    wildcards: Mapping | None = None,
    threads: int = 1,
    log: str | Path | None = None,
) -> Job:
    """A Job from plain values (tests, notebooks): files as a list or a name -> path mapping."""

    def files(given) -> Files:
        if isinstance(given, Mapping):
            return Files(_flatten(given.values()), given)
        return Files(given)

    return Job(
        rule=rule,
        input=files(input),
        output=files(output),
        params=Values(params or {}),
        wildcards=Values(wildcards or {}),
        threads=threads,
        log=Path(log) if log else None,
    )


def _flatten(values: Iterable) -> list:
    flat = []
    for value in values:
        flat.extend(value if isinstance(value, list | tuple) else [value])
    return flat


def step_function(rule: str) -> Callable[[Job], None]:
    """The function a rule runs: ``<owner>_<name>`` -> ``<owner package>.steps.<name>``."""
    owner, _, name = rule.partition("_")
    name = name or owner
    package = OWNERS.get(owner, f"rnnatlas.papers.{owner}")
    module_name = f"{package}.{'section' if name == 'section' else 'steps'}"
    try:
        module = import_module(module_name)
    except ModuleNotFoundError as err:
        raise LookupError(f"rule {rule!r}: no step module {module_name} ({err})") from err
    function = getattr(module, name, None)
    if not callable(function):
        raise LookupError(f"rule {rule!r}: {module_name} has no step function {name!r}")
    return function


def run_job(job: Job) -> None:
    """Run a job's step function, its log (when the rule has one) receiving all output."""
    function = step_function(job.rule)
    if job.log is None:
        function(job)
        return
    job.log.parent.mkdir(parents=True, exist_ok=True)
    console = os.dup(2)
    with open(job.log, "w") as log:
        # Everything the step prints, C extensions and tqdm included, goes to the rule's log.
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
            force=True,
        )
        try:
            function(job)
        except (ValueError, FileNotFoundError, LookupError, DownloadError) as err:
            # Expected errors (bad input, bad config, no mirror delivered): the message on the
            # console, the traceback in the log.
            traceback.print_exc()
            os.write(console, f"rule {job.rule}: error: {err}\n".encode())
            raise SystemExit(1) from None
        finally:
            sys.stdout.flush()
            sys.stderr.flush()


def run_snakemake_job(smk) -> None:
    """Entry of `workflow/scripts/step.py`: turn Snakemake's job object into a Job and run it."""

    def files(namedlist) -> Files:
        return Files(list(namedlist), dict(namedlist.items()))

    run_job(
        Job(
            rule=smk.rule,
            input=files(smk.input),
            output=files(smk.output),
            params=Values(smk.params.items()),
            wildcards=Values(smk.wildcards.items()),
            threads=int(smk.threads),
            log=Path(smk.log[0]) if len(smk.log) else None,
        )
    )
