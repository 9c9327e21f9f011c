"""The registered papers: the one list `rule all`, the report and the config check read.

Adding a paper: a package `rnnatlas.papers.<name>` (data, steps, reference, claims, checks,
figures, section), `workflow/rules/<name>_files.smk` (its file lists) and
`workflow/rules/<name>.smk` (its rules, among them `<name>_section`), its keys in config.yaml,
the schema and the presets, and one line below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path


@dataclass(frozen=True)
class Paper:
    name: str  # package rnnatlas.papers.<name>, rule files <name>.smk, rules <name>_<step>
    title: str  # the report's section heading

    @property
    def package(self) -> str:
        return f"rnnatlas.papers.{self.name}"

    def claims(self) -> list:
        """The paper's claims (rnnatlas.report.claims.Claim), in report order."""
        return import_module(f"{self.package}.claims").registry()

    def config_problems(self, config: Mapping) -> list[str]:
        """What the config schema cannot say about this paper's keys: sizes above the ceilings
        of `limits` (its checks' LIMITED_KEYS), then its cross-references."""
        from rnnatlas.config import limit_problems

        checks = import_module(f"{self.package}.checks")
        limited = getattr(checks, "LIMITED_KEYS", {})
        return limit_problems(config, limited) + checks.config_problems(config)


PAPERS = (
    Paper("csl", "Variengien & Hinaut 2020 — ESN vs LSTM on the cross-situational language task"),
    Paper("mnist", "Horoi et al. 2020 — low-dimensional dynamics on sequential MNIST"),
    Paper("text8", "Madsen 2019 — visualizing memorization in RNNs (text8 autocomplete)"),
    Paper("memory", "Koppula, Sim & Chin 2018 — memory signatures"),
    Paper("garcia", "Garcia, Munz & Weiskopf 2021 — visual analytics of LSTM hidden states"),
)


def config_checks() -> list[Callable[[Mapping], list[str]]]:
    """Every registered paper's cross-field config checks."""
    return [paper.config_problems for paper in PAPERS]


def validate_config(config: Mapping) -> Mapping:
    """The schema, then every paper's checks; raises rnnatlas.config.ConfigError."""
    from rnnatlas.config import validate

    return validate(config, config_checks())


def load_config(paths: Iterable[str | Path]) -> dict:
    """config.yaml and presets merged in order, validated like :func:`validate_config`."""
    from rnnatlas import config

    return config.load_config(paths, config_checks())


def names() -> list[str]:
    return [paper.name for paper in PAPERS]


def paper(name: str) -> Paper:
    for entry in PAPERS:
        if entry.name == name:
            return entry
    raise KeyError(f"no registered paper {name!r}; registered: {', '.join(names())}")
