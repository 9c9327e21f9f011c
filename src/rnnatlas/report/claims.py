"""The claim framework: a number or ordering a paper reports, checked against ours.

Each claim knows (a) what the configuration must contain for it to be checkable (`requires`,
returning the reason when it is not) and (b) how to compute our value and a verdict from its
paper's tables (`evaluate(tables, config)`; each paper decides what its tables are). Verdicts:
"reproduced", "not reproduced", "not checked at this scale". The claims themselves live in
each paper's package (`rnnatlas.papers.<name>.claims.registry()`); this module knows no paper.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_CHECKED = "not checked at this scale"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, NOT_CHECKED)


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

    def check(self, config: Mapping, tables: object | None) -> dict:
        """The claim's record (claims.json fields) on its paper's tables, or why not checked."""
        reason = self.requires(config)
        record = {
            "id": self.id,
            "paper": self.paper,
            "what": self.what,
            "paper_value": self.paper_value,
            "unit": self.unit,
            "source": self.source,
            "scale": config["scale"],
        }
        if reason is not None or tables is None:
            return {
                **record,
                "value": None,
                "tolerance": None,
                "verdict": NOT_CHECKED,
                "detail": reason or "no results",
            }
        outcome = self.evaluate(tables, config)
        return {
            **record,
            "value": outcome.value,
            "tolerance": outcome.tolerance,
            "verdict": outcome.verdict,
            "detail": outcome.detail,
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
