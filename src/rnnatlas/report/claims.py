"""The claim framework: a number or ordering a paper reports, checked against ours.

Each claim knows (a) what the configuration must contain for it to be checkable (`requires`,
returning the reason when it is not) and (b) how to compute our value and a verdict from its
paper's tables (`evaluate(tables, config)`; each paper decides what its tables are). Verdicts:
"reproduced", "not reproduced", "inconclusive" (the compared quantities differ by less than
their uncertainty) and "not checked at this scale" (the config cannot check it, or the trained
models lack the `competence` the claim needs). Each record is of a `kind`: "claim" (a statement
or number a paper makes) or "check" (our own cross-check, or a count that holds by
construction); a record that reports a measurement another record already counts names it in
`alias_of`. The headline counts claims only, each measurement once (:func:`headline`). The
claims themselves live in each paper's package (`rnnatlas.papers.<name>.claims.registry()`);
this module knows no paper.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
NOT_CHECKED = "not checked at this scale"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_CHECKED)
CLAIM = "claim"  # a statement or number the paper makes
CHECK = "check"  # our own cross-check, or a count that holds by construction
KINDS = (CLAIM, CHECK)
Z95 = 1.96  # two-sided 95 %


@dataclass
class Outcome:
    value: object
    verdict: str
    tolerance: object = None
    detail: str = ""


@dataclass
class Claim:
    id: str
    paper: str
    what: str
    paper_value: object
    unit: str
    source: str
    requires: Callable[[Mapping], str | None]
    evaluate: Callable[[object, Mapping], Outcome]
    kind: str = CLAIM
    alias_of: str | None = None  # the record that already counts this measurement
    # what the trained models must reach before the claim is judged: (tables, config) -> the
    # shortfall, or None when they reach it
    competence: Callable[[object, Mapping], str | None] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind must be one of {KINDS}, not {self.kind!r}")

    def check(self, config: Mapping, tables: object | None) -> dict:
        """The claim's record (claims.json fields) on its paper's tables, or why not checked."""
        reason = self.requires(config)
        record = {
            "id": self.id,
            "paper": self.paper,
            "kind": self.kind,
            "alias_of": self.alias_of,
            "what": self.what,
            "paper_value": self.paper_value,
            "unit": self.unit,
            "source": self.source,
            "scale": config["scale"],
        }
        if tables is None:
            return {**record, "value": None, "tolerance": None, "verdict": NOT_CHECKED,
                    "detail": reason or "no results"}  # fmt: skip
        if reason is not None:
            # Our number at this scale is still shown (e.g. an accuracy on the embedded data),
            # without a verdict; tables that lack what the claim reads give none.
            try:
                value = self.evaluate(tables, config).value
            except (KeyError, ValueError, IndexError, TypeError, ZeroDivisionError):
                value = None
            return {**record, "value": value, "tolerance": None, "verdict": NOT_CHECKED,
                    "detail": reason}  # fmt: skip
        outcome = self.evaluate(tables, config)
        verdict, detail = outcome.verdict, outcome.detail
        shortfall = self.competence(tables, config) if self.competence else None
        if shortfall is not None and verdict != NOT_CHECKED:
            # the value is still shown; a verdict on it would judge untrained behaviour
            verdict = NOT_CHECKED
            detail = f"below the competence this claim needs: {shortfall}. {detail}".strip()
        return {
            **record,
            "value": outcome.value,
            "tolerance": outcome.tolerance,
            "verdict": verdict,
            "detail": detail,
        }


def exact(ours, paper, detail: str = "") -> Outcome:
    """The outcome of a count that must equal the paper's (tolerance 0)."""
    return Outcome(ours, REPRODUCED if ours == paper else NOT_REPRODUCED, 0, detail)


def ordering_verdict(difference: float, standard_error: float, expected_sign: int) -> str:
    """The verdict on "A > B" (expected_sign +1) or "A < B" (-1) from difference = A - B and its
    standard error: inconclusive while |difference| <= 1.96 SE, else whether the sign holds."""
    if abs(difference) <= Z95 * standard_error:
        return INCONCLUSIVE
    return REPRODUCED if difference * expected_sign > 0 else NOT_REPRODUCED


def joint_verdict(verdicts: Sequence[str]) -> str:
    """Several orderings that must all hold: refuted if one is, reproduced if all are, else
    inconclusive."""
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED
    return REPRODUCED if all(v == REPRODUCED for v in verdicts) else INCONCLUSIVE


def headline(records: Sequence[Mapping]) -> dict[str, dict[str, int]]:
    """Verdict counts: "claims" (kind claim, each measurement once: aliases left out) and
    "checks" (kind check)."""
    counted = {
        "claims": [r for r in records if r["kind"] == CLAIM and not r.get("alias_of")],
        "checks": [r for r in records if r["kind"] == CHECK],
    }
    return {
        group: {verdict: sum(r["verdict"] == verdict for r in rows) for verdict in VERDICTS}
        for group, rows in counted.items()
    }


def check_all(
    claims: Sequence[Claim],
    config: Mapping,
    tables: object,
    presets: Mapping[str, Mapping] = (),
) -> list[dict]:
    """Every claim with its verdict; `checkable_at` lists the presets where it can be checked."""
    records = []
    for claim in claims:
        record = claim.check(config, tables)
        record["checkable_at"] = [
            name for name, preset in dict(presets).items() if claim.requires(preset) is None
        ]
        records.append(record)
    return records


def load_presets(root: Path) -> dict[str, dict]:
    """config.yaml merged with each preset, keyed by scale name (for `checkable_at`)."""
    import yaml

    from rnnatlas.config import deep_merge

    base_path = Path(root) / "config.yaml"
    if not base_path.exists():
        return {}
    base = yaml.safe_load(base_path.read_text())
    presets = {"default": base}
    for path in sorted((Path(root) / "workflow" / "presets").glob("*.yaml")):
        merged = deep_merge(base, yaml.safe_load(path.read_text()) or {})
        presets[merged.get("scale", path.stem)] = merged
    return presets
