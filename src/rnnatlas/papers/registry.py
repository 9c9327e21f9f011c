"""The registered papers: the one list `rule all`, the report and the atlas read.

Adding a paper: a package `rnnatlas.papers.<name>` (data, steps, reference, claims, figures,
section), `workflow/rules/<name>_files.smk` (its file lists) and `workflow/rules/<name>.smk` (its
rules, among them `<name>_section`), its keys in config.yaml, the schema and the presets, and
one line below.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module


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


PAPERS = (
    Paper("csl", "Variengien & Hinaut 2020 — ESN vs LSTM on the cross-situational language task"),
    Paper("mnist", "Horoi et al. 2020 — low-dimensional dynamics on sequential MNIST"),
    Paper("text8", "Madsen 2019 — visualizing memorization in RNNs (text8 autocomplete)"),
    Paper("memory", "Koppula, Sim & Chin 2018 — memory signatures"),
)


def names() -> list[str]:
    return [paper.name for paper in PAPERS]


def paper(name: str) -> Paper:
    for entry in PAPERS:
        if entry.name == name:
            return entry
    raise KeyError(f"no registered paper {name!r}; registered: {', '.join(names())}")
