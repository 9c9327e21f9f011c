"""Claims behind the CSL pictures (RSSviz, internal units): what the paper leaves qualitative,
made measurable. Thresholds are ours and stated in each claim."""

from __future__ import annotations

from collections.abc import Mapping

from rnnatlas.papers.csl.claims import CSL_PAPER, lstm_is_paper
from rnnatlas.report.claims import (
    INCONCLUSIVE,
    NOT_CHECKED,
    NOT_REPRODUCED,
    REPRODUCED,
    Claim,
    Outcome,
)

TRUST_THRESHOLD = 0.90  # trustworthiness at which a 2-D layout is read as faithful
EMPHASIS_PERCENTILE = 0.95  # emphasised units must beat this share of random unit sets
UNITS_COMPETENCE = 0.10  # valid error an analysed network must stay under for its units to count
SPEARMAN_THRESHOLD = -0.9  # nesting must shrink steadily with the shared prefix
R2_THRESHOLD = 0.9  # ... and geometrically (a straight line in log scale)


def _rssviz_requires(model: str):
    def requires(config: Mapping) -> str | None:
        csl = config["csl"]
        if model not in csl["rssviz"]["models"]:
            return f"{model} is not in csl.rssviz.models"
        if model not in csl["models"]:
            return f"no model named {model!r}"
        return None

    return requires


def _rssviz(results, model: str) -> Mapping | None:
    return (results.visual or {}).get("rssviz", {}).get(model)


def _trustworthiness(model: str) -> Claim:
    def evaluate(results, config):
        metrics = _rssviz(results, model)
        if metrics is None:
            return Outcome(None, NOT_CHECKED, detail="no RSSviz metrics in the results")
        value = round(metrics["trustworthiness"], 4)
        ok = value >= TRUST_THRESHOLD
        detail = (
            f"sklearn trustworthiness, k={metrics['trust_neighbors']}, on "
            f"{metrics['unique_states']:,} unique states of {metrics['sentences']} sentences "
            f"(state {metrics['state']}); threshold {TRUST_THRESHOLD}"
        )
        return Outcome(value, REPRODUCED if ok else NOT_REPRODUCED, TRUST_THRESHOLD, detail)

    return Claim(
        id=f"csl.rssviz.{model}.trustworthiness",
        paper=CSL_PAPER,
        what=f"the RSSviz layout of the {model} states is faithful to the state space "
        "(the paper reads its views as such; we require trustworthiness >= 0.90)",
        paper_value="faithful (qualitative)",
        unit="trustworthiness",
        source="[text] RSSviz figures; the threshold is ours",
        requires=_rssviz_requires(model),
        evaluate=evaluate,
    )


def _nesting_text(summary: Mapping) -> str:
    if summary.get("r2") is None:
        return "too few prefix lengths"
    return (
        f"ratio {summary['first_ratio']:.2f} -> {summary['last_ratio']:.2f} over prefix lengths "
        f"{summary['lengths'][0]}..{summary['lengths'][1]}, x{summary['factor']:.3f} per word, "
        f"R2 {summary['r2']:.2f}, Spearman {summary['spearman']:.2f}"
    )


def _nesting_claim(model: str, aspect: str, other: str = "esn") -> Claim:
    """Two measurable halves of "a fractal embedding of sequences" in the LSTM.

    "nested": final states of sentences sharing a longer prefix lie closer (the within-prefix
    distance ratio falls with the prefix length: Spearman <= -0.9); "self_similar": it falls by a
    steady factor per word (R2 >= 0.9 for a straight line through log ratio versus length).
    """

    def evaluate(results, config):
        metrics = _rssviz(results, model)
        if metrics is None:
            return Outcome(None, NOT_CHECKED, detail="no RSSviz metrics in the results")
        prefix, suffix = metrics["nesting"]["prefix"], metrics["nesting"]["suffix"]
        if prefix.get("r2") is None:
            return Outcome(None, NOT_CHECKED, detail="too few shared-prefix lengths to measure")
        if aspect == "nested":
            ok = prefix["spearman"] <= SPEARMAN_THRESHOLD
            rule = f"Spearman(L, ratio) <= {SPEARMAN_THRESHOLD}"
        else:
            ok = prefix["r2"] >= R2_THRESHOLD
            rule = f"R2 of log(ratio) versus L >= {R2_THRESHOLD}"
        detail = (
            "final states of all test sentences grouped by their first L words; ratio = mean "
            f"distance within a group / mean distance overall; criterion: {rule}. "
            f"Grouped by their last L words instead: {_nesting_text(suffix)}."
        )
        comparison = _rssviz(results, other)
        if comparison is not None:
            detail += f" {other}, by prefix: {_nesting_text(comparison['nesting']['prefix'])}."
        value = _nesting_text(prefix)
        return Outcome(value, REPRODUCED if ok else NOT_REPRODUCED, detail=detail)

    what = {
        "nested": f"the {model} nests sequences by prefix: final states of sentences sharing a "
        "longer prefix lie in smaller regions (half of the paper's 'fractal embedding')",
        "self_similar": f"the {model}'s nesting is self-similar: regions shrink by a steady "
        "factor per shared word (the other half of 'fractal')",
    }[aspect]
    return Claim(
        id=f"csl.rssviz.{model}.{'prefix' if aspect == 'nested' else aspect}_nesting",
        paper=CSL_PAPER,
        what=what,
        paper_value="fractal embedding",
        unit="nesting",
        source="[text] RSSviz of the LSTM; the measure and thresholds are ours",
        requires=lambda config: _rssviz_requires(model)(config) or lstm_is_paper(config, model),
        evaluate=evaluate,
    )


def _polyvalent(model: str = "esn") -> Claim:
    def requires(config):
        reason = _rssviz_requires(model)(config)
        if reason is None and config["csl"]["models"][model]["kind"] != "esn":
            return f"{model} is not an ESN"
        return reason

    def evaluate(results, config):
        summary = (results.visual or {}).get("units", {}).get(model)
        if summary is None:
            return Outcome(None, NOT_CHECKED, detail="no unit analysis in the results")
        count = int(summary["n_polyvalent"])
        detail = (
            f"units in >= {summary['polyvalent_min']} of the {2 * summary['outputs']} lists of the "
            f"{summary['top_k']} most positive / negative readout weights per output "
            f"({summary['units']} units): {summary['polyvalent_units']}"
        )
        return Outcome(count, REPRODUCED if count > 0 else NOT_REPRODUCED, detail=detail)

    return Claim(
        id=f"csl.units.{model}.polyvalent",
        paper=CSL_PAPER,
        what="the ESN readout has polyvalent units (among the strongest weights of >= 5 lists)",
        paper_value="> 0",
        unit="units",
        source="[code] internal-units analysis",
        requires=requires,
        evaluate=evaluate,
    )


def _units_competence(models):
    """The analysed networks (csl.states.seed on the 4-object corpus) must have learnt the task:
    valid error <= UNITS_COMPETENCE; (tables, config) -> the shortfall or None."""

    def shortfall(results, config) -> str | None:
        runs = results.runs
        seed = config["csl"]["states"]["seed"]
        rows = runs[(runs["protocol"] == "variengien") & (runs["n_objects"] == 4)
                    & (runs["seed"] == seed) & runs["model"].isin(models)]  # fmt: skip
        errors = rows.set_index("model")["valid_error"]
        below = [f"{m} {100 * errors[m]:.1f} %" for m in models
                 if m in errors and errors[m] > UNITS_COMPETENCE]  # fmt: skip
        if not below:
            return None
        return (
            f"valid error of the analysed network(s) {', '.join(below)} > "
            f"{100 * UNITS_COMPETENCE:.0f} %: their readouts have not learnt the task"
        )

    return shortfall


def _structure_emphasis(models=("esn", "lstm")) -> Claim:
    def requires(config):
        for model in models:
            reason = _rssviz_requires(model)(config)
            if reason is not None:
                return reason
        return None

    def evaluate(results, config):
        units = (results.visual or {}).get("units", {})
        found = {m: units.get(m, {}).get("structure") for m in models}
        missing = [m for m, r in found.items() if not r]
        if missing:
            return Outcome(None, NOT_CHECKED, detail=f"no structure test for {missing}")
        skipped = {m: r["skipped"] for m, r in found.items() if "skipped" in r}
        if skipped:
            return Outcome(None, NOT_CHECKED, detail=f"structure test not run: {skipped}")
        shares = {m: r["percentile"] for m, r in found.items()}
        if all(share >= EMPHASIS_PERCENTILE for share in shares.values()):
            verdict = REPRODUCED
        elif any(share <= 0.5 for share in shares.values()):
            verdict = NOT_REPRODUCED  # no better than a typical random set of units
        else:
            verdict = INCONCLUSIVE
        detail = "; ".join(
            f"{m}: the {r['k']} most weighted units {r['units']} separate the clauses at "
            f"{r['emphasised']:.3f}, {r['draws']:,} random sets of {r['k']} at "
            f"{r['random_mean']:.3f} ± {r['random_sd']:.3f} (95th percentile "
            f"{r['random_q95']:.3f}): beaten {100 * r['percentile']:.0f} %; readout weight vs "
            f"separability over all units: Spearman {r['spearman']:+.2f}"
            for m, r in found.items()
        )
        rule = (
            f"reproduced when both beat >= {100 * EMPHASIS_PERCENTILE:.0f} % of the random sets, "
            "not reproduced when one beats <= 50 %"
        )
        value = {m: round(100 * share, 1) for m, share in shares.items()}
        first = found[models[0]]
        method = (
            f"{first['label']}; {first['rows']} words; a unit's separability is 2|AUC - 0.5| of "
            "its value alone; weight: its summed |readout weight| over the outputs"
        )
        return Outcome(value, verdict, detail=f"{detail}. {rule}; {method}")

    return Claim(
        id="csl.units.structure_emphasis",
        paper=CSL_PAPER,
        what="both the ESN and the LSTM put emphasis on units encoding aspects of the sentence "
        "structure: the units their readout weighs most tell the first clause from the second "
        "better than as many random units",
        paper_value=f">= {100 * EMPHASIS_PERCENTILE:.0f} % of random unit sets",
        unit="% of random sets beaten",
        source="[text] abstract (2); our test: clause decoding from the most weighted units",
        requires=requires,
        evaluate=evaluate,
        competence=_units_competence(models),
    )


def registry() -> list[Claim]:
    return [
        _trustworthiness("esn"),
        _trustworthiness("lstm"),
        _nesting_claim("lstm", "nested"),
        _nesting_claim("lstm", "self_similar"),
        _polyvalent("esn"),
        _structure_emphasis(),
    ]
