"""Claims of Horoi, Geadah, Lajoie & Wolf 2020 (sequential MNIST), checked on our tables.

Long because its nine claims share the same gates (trained networks, the 90 % competence) and
the criteria's constants; split, each half would import the other's private helpers.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rnnatlas.analysis.accuracy_curves import full_length_accuracy, length_versus_information
from rnnatlas.papers.mnist.reference import (
    MNIST_PAPER,
    PAPER_ACCURACY,
    PAPER_CYCLES,
    PAPER_EPOCHS,
    PAPER_UNITS,
)
from rnnatlas.report.claims import (
    NOT_CHECKED,
    NOT_REPRODUCED,
    REPRODUCED,
    Claim,
    Outcome,
    ordering_verdict,
)

ACCURACY_TOLERANCE = 2.0  # pp: the slides give no spread; ours is stated beside it
MIN_EPOCHS = 5  # below this the networks are not trained enough to test the paper's claims
# The competence a claim about the trained networks' dynamics needs: full-sequence test accuracy
# at least this, on average over the networks (the paper's networks reach 93 %).
COMPETENCE_ACCURACY = 0.90
GAP_THRESHOLD = 0.10  # "hidden >> cut": 10 pp on average, hidden never behind beyond noise
ZERO_LYAPUNOV = 0.01  # nats/step: |λ_max| below this counts as 0 (a cycle), ours
LOW_DIMENSION = 0.05  # "far below 200": TwoNN dimension at most 5 % of the units, ours
PHASE_SHARE = 0.9  # the phase alone keeps >= 90 % of the digit accuracy the full state has
PHASE_P_VALUE = 0.01  # and beats chance (one-sided binomial test)


def _trained(config: Mapping) -> str | None:
    epochs = config["mnist"]["model"]["epochs"]
    if epochs < MIN_EPOCHS:
        return f"mnist.model.epochs is {epochs}: networks under {MIN_EPOCHS} epochs are untrained"
    return None


def _competent(results, config) -> str | None:
    """Shortfall of the networks' mean full-sequence test accuracy below 90 %, or None."""
    variants = _mnist(results).get("variants")
    if variants is None:
        return None  # evaluate says what is missing
    mean, _, count = full_length_accuracy(variants)
    if mean >= COMPETENCE_ACCURACY:
        return None
    return (
        f"the {count} networks' mean test accuracy is {100 * mean:.1f} % < "
        f"{100 * COMPETENCE_ACCURACY:.0f} % (the paper's 93 %)"
    )


def _mnist(tables) -> Mapping:
    """The paper's tables (a mapping name -> table; None or empty when nothing was run)."""
    return tables or {}


def _accuracy() -> Claim:
    def requires(config):
        mnist = config["mnist"]
        if mnist["data"]["source"] != "idx":
            return "the paper trains on the full MNIST (mnist.data.source: idx)"
        if mnist["model"]["epochs"] != PAPER_EPOCHS or mnist["model"]["units"] != PAPER_UNITS:
            return f"the paper's networks have {PAPER_UNITS} units and train {PAPER_EPOCHS} epochs"
        return None

    def evaluate(results, config):
        variants = _mnist(results).get("variants")
        if variants is None:
            return Outcome(None, NOT_CHECKED, detail="no variants table in the results")
        mean, sd, count = full_length_accuracy(variants)
        ours = round(100 * mean, 2)
        ok = abs(ours - PAPER_ACCURACY) <= ACCURACY_TOLERANCE
        detail = f"mean of {count} networks, sd {100 * sd:.2f} pp, on the full 28-row test digits"
        return Outcome(ours, REPRODUCED if ok else NOT_REPRODUCED, ACCURACY_TOLERANCE, detail)

    return Claim(
        id="mnist.accuracy.full_sequence",
        paper=MNIST_PAPER,
        what="test accuracy of the 200-unit vanilla RNN on sequential MNIST",
        paper_value=PAPER_ACCURACY,
        unit="%",
        source="[text] slides",
        requires=requires,
        evaluate=evaluate,
    )


def _length_over_information() -> Claim:
    def evaluate(results, config):
        variants = _mnist(results).get("variants")
        if variants is None:
            return Outcome(None, NOT_CHECKED, detail="no variants table in the results")
        gap = length_versus_information(variants)
        behind = gap["behind_beyond_noise"]
        ok = gap["mean_gap"] >= GAP_THRESHOLD and not behind
        seed, n = gap["min_network_gap_at"]
        value = (
            f"hidden - cut: mean {100 * gap['mean_gap']:+.1f} pp; smallest network mean "
            f"{100 * gap['min_gap']:+.1f} pp; smallest single network "
            f"{100 * gap['min_network_gap']:+.1f} pp (network {seed}, n = {n}); behind beyond "
            "noise at "
            + (
                ", ".join(f"network {s} n = {k} ({100 * g:+.1f} pp)" for s, k, g in behind)
                or "no n"
            )
        )
        detail = (
            f"n = {gap['n_range'][0]}..{gap['n_range'][1]} rows of information, "
            f"{gap['networks']} networks; criterion (ours): the mean gap >= "
            f"{100 * GAP_THRESHOLD:.0f} pp and no network behind cut by more than 1.96 binomial "
            f"SE of the difference (typically {100 * gap['typical_se']:.1f} pp on these test "
            "digits); the first rows of a digit are blank, so both sit at chance for small n. "
            "Variant definitions are our interpretation."
        )
        return Outcome(value, REPRODUCED if ok else NOT_REPRODUCED, detail=detail)

    return Claim(
        id="mnist.order.length_over_information",
        paper=MNIST_PAPER,
        what="at equal information (n rows) the full-length 'hidden' input is classified far "
        "better than the short 'cut' one: sequence length, not information, sets accuracy",
        paper_value="hidden >> cut",
        unit="ordering",
        source="[text] slides",
        requires=_trained,
        evaluate=evaluate,
        competence=_competent,
    )


def _clusters(which: str) -> Claim:
    """'form': digits separate better after row 28 than early; 'degrade': worse after zeros."""

    def requires(config):
        steps = config["mnist"]["tsne"]["steps"]
        if 27 not in steps:
            return "mnist.tsne.steps lacks 27 (row 28)"
        if which == "form" and min(steps) >= 27:
            return "mnist.tsne.steps has no step before row 28"
        if which == "degrade" and max(steps) <= 27:
            return "mnist.tsne.steps has no step after row 28"
        return _trained(config)

    def evaluate(results, config):
        table = _mnist(results).get("separability")
        if table is None:
            return Outcome(None, NOT_CHECKED, detail="no separability table in the results")
        by_step = table.set_index("step")
        other = by_step.index.min() if which == "form" else by_step.index.max()
        at_28, at_other = by_step.loc[27], by_step.loc[other]
        # row 28 is the peak either way; each accuracy is over the t-SNE's points (binomial SE)
        points = int(config["mnist"]["tsne"]["points"])
        p28, po = at_28["knn_accuracy"], at_other["knn_accuracy"]
        se = float(np.sqrt((p28 * (1 - p28) + po * (1 - po)) / points))
        verdict = ordering_verdict(p28 - po, se, expected_sign=1)
        value = (
            f"k-NN accuracy {100 * at_other['knn_accuracy']:.1f} % at step {other} vs "
            f"{100 * at_28['knn_accuracy']:.1f} % at step 27 (row 28)"
        )
        detail = (
            f"5-fold k-NN (k=5) accuracy of the digit in the full state space over {points:,} "
            f"test digits; silhouette {at_other['silhouette']:.3f} vs "
            f"{at_28['silhouette']:.3f}; chance {100 * at_28['chance']:.0f} %; difference "
            f"{100 * (p28 - po):+.1f} pp, binomial SE {100 * se:.1f} pp (inconclusive within "
            "1.96 SE)"
        )
        return Outcome(value, verdict, detail=detail)

    what = {
        "form": "digit clusters form while the rows are read: digits separate better after "
        "row 28 than after an early row",
        "degrade": "the clusters degrade during the extension: digits separate worse after "
        "the appended zero rows than after row 28",
    }[which]
    return Claim(
        id=f"mnist.tsne.clusters_{which}",
        paper=MNIST_PAPER,
        what=what,
        paper_value=f"clusters {which}",
        unit="separability",
        source="[text] t-SNE figure; measured in the full space (ours)",
        requires=requires,
        evaluate=evaluate,
        competence=_competent,
    )


def _dynamics(results) -> Mapping:
    return _mnist(results).get("dynamics") or {}


def _lyapunov_after_training() -> Claim:
    def evaluate(results, config):
        dynamics = _dynamics(results)
        if not dynamics:
            return Outcome(None, NOT_CHECKED, detail="no dynamics tables in the results")
        summaries = dynamics["summaries"]
        before = [s["lambda_max_untrained"] for s in summaries.values()]
        after = [s["lambda_max_trained"] for s in summaries.values()]
        if any(v is None for v in before):
            return Outcome(None, NOT_CHECKED, detail="mnist.model.checkpoint_epochs lacks 0")
        ok = all(abs(v) <= ZERO_LYAPUNOV for v in after) and max(before) < -ZERO_LYAPUNOV
        value = (
            f"λ_max {np.mean(before):+.3f} untrained -> {np.mean(after):+.4f} after "
            f"{next(iter(summaries.values()))['final_epoch']} epochs (networks: "
            + ", ".join(f"{v:+.4f}" for v in after)
            + ")"
        )
        detail = (
            f"mean over {config['mnist']['dynamics']['lyapunov']['initial']} initial conditions "
            "(row-28 states of test digits) per network, QR method; criterion (ours): every "
            f"trained network within ±{ZERO_LYAPUNOV} nats/step of 0, the untrained ones below"
        )
        return Outcome(value, REPRODUCED if ok else NOT_REPRODUCED, ZERO_LYAPUNOV, detail)

    return Claim(
        id="mnist.lyapunov.zero_after_training",
        paper=MNIST_PAPER,
        what="the largest Lyapunov exponent of the autonomous dynamics moves from < 0 before "
        "training to about 0 after it (limit cycles form)",
        paper_value="λ_max ≈ 0 after training",
        unit="nats/step",
        source="[text] slides; the exact values are not given (our interpretation)",
        requires=_trained,
        evaluate=evaluate,
        competence=_competent,
    )


def _two_limit_cycles() -> Claim:
    def evaluate(results, config):
        dynamics = _dynamics(results)
        if not dynamics:
            return Outcome(None, NOT_CHECKED, detail="no dynamics tables in the results")
        from rnnatlas.papers.mnist.dynamics import CYCLE_KINDS

        sets = dynamics["sets"]
        seeds = sorted(dynamics["summaries"])
        counts = {
            seed: int(sets[(sets["seed"] == seed) & sets["kind"].isin(CYCLE_KINDS)].shape[0])
            for seed in seeds
        }
        matches = sum(count == PAPER_CYCLES for count in counts.values())
        ok = matches > len(counts) / 2
        kinds = {seed: dynamics["summaries"][seed]["set_kinds"] for seed in seeds}
        value = f"limit cycles per network: {list(counts.values())}"
        detail = (
            f"networks {seeds}; attractors found: {kinds}. An attractor is an invariant set of "
            "the digits' tails (single linkage); a limit cycle is a periodic orbit or an "
            "invariant closed curve (TwoNN dimension <= 1.5 and |λ_max| <= 0.01). Criterion: "
            f"most networks have exactly {PAPER_CYCLES}."
        )
        return Outcome(value, REPRODUCED if ok else NOT_REPRODUCED, detail=detail)

    return Claim(
        id="mnist.attractors.two_limit_cycles",
        paper=MNIST_PAPER,
        what="run without input from the row-28 states, trajectories settle into two limit cycles",
        paper_value=PAPER_CYCLES,
        unit="limit cycles",
        source="[text] slides",
        requires=_trained,
        evaluate=evaluate,
        competence=_competent,
    )


def _low_dimensional_attractor() -> Claim:
    def evaluate(results, config):
        dynamics = _dynamics(results)
        if not dynamics:
            return Outcome(None, NOT_CHECKED, detail="no dynamics tables in the results")
        units = config["mnist"]["model"]["units"]
        attractor = [s["attractor_twonn"] for s in dynamics["summaries"].values()]
        dimension = _mnist(results).get("dimension")
        at_28 = ""
        if dimension is not None:
            row = dimension[(dimension["t"] == 27) & (dimension["method"] == "twonn")]
            if len(row):
                at_28 = f"; the states at row 28: {row['dimension'].iloc[0]:.2f}"
        ok = max(attractor) <= LOW_DIMENSION * units
        value = "attractor TwoNN " + ", ".join(f"{v:.2f}" for v in attractor) + at_28
        detail = (
            f"TwoNN (scikit-dimension) on the attractor's points of each network, {units} "
            f"units; criterion (ours): at most {100 * LOW_DIMENSION:.0f} % of the units"
        )
        return Outcome(value, REPRODUCED if ok else NOT_REPRODUCED, detail=detail)

    return Claim(
        id="mnist.dimension.low_dimensional_attractor",
        paper=MNIST_PAPER,
        what="the digit information is compressed onto an attractor of intrinsic dimension far "
        "below the 200 units",
        paper_value="far below 200",
        unit="intrinsic dimension",
        source="[text] slides",
        requires=_trained,
        evaluate=evaluate,
        competence=_competent,
    )


def _clusters_then_compression() -> Claim:
    def evaluate(results, config):
        dynamics = _dynamics(results)
        dimension = _mnist(results).get("dimension")
        separability = _mnist(results).get("separability")
        if not dynamics or dimension is None or separability is None:
            return Outcome(None, NOT_CHECKED, detail="needs the dynamics, dimension and "
                           "separability tables")  # fmt: skip
        row = dimension[(dimension["t"] == 27) & (dimension["method"] == "twonn")]
        at_28 = separability[separability["step"] == 27]
        if row.empty or at_28.empty:
            return Outcome(None, NOT_CHECKED, detail="no TwoNN or k-NN at row 28 (t = 27)")
        before = float(row["dimension"].iloc[0])
        knn, chance = float(at_28["knn_accuracy"].iloc[0]), float(at_28["chance"].iloc[0])
        after = [s["attractor_twonn"] for s in dynamics["summaries"].values()]
        clusters = knn >= 2 * chance
        compressed = sum(a < before for a in after)
        ok = clusters and compressed > len(after) / 2
        value = (
            f"row 28: digits in clusters (k-NN {100 * knn:.1f} %, chance {100 * chance:.0f} %), "
            f"TwoNN {before:.2f}; on the attractor: TwoNN " + ", ".join(f"{a:.2f}" for a in after)
        )
        detail = (
            "TwoNN intrinsic dimension of the row-28 states (the dimension table's network) and "
            "of each network's attractor; criterion (ours): the digits form clusters at row 28 "
            "(k-NN accuracy at least twice chance) and most networks' attractors have a lower "
            f"dimension than the row-28 states ({compressed} of {len(after)})"
        )
        return Outcome(value, REPRODUCED if ok else NOT_REPRODUCED, detail=detail)

    return Claim(
        id="mnist.dimension.clusters_then_compression",
        paper=MNIST_PAPER,
        what="the digit information is first kept as multi-dimensional clusters (row 28), then "
        "compressed onto a lower-dimensional attractor",
        paper_value="clusters, then compression",
        unit="intrinsic dimension",
        source="[text] slides",
        requires=_trained,
        evaluate=evaluate,
        competence=_competent,
    )


def _digit_as_phase() -> Claim:
    def evaluate(results, config):
        from scipy.stats import binomtest

        dynamics = _dynamics(results)
        if not dynamics:
            return Outcome(None, NOT_CHECKED, detail="no dynamics tables in the results")
        phase = dynamics["phase"]
        first, last = int(phase["t"].min()), int(phase["t"].max())
        digits = int(config["mnist"]["dynamics"]["attractors"]["digits"])
        verdicts, parts = [], []
        for seed, rows in phase.groupby("seed"):
            start = rows[rows["t"] == first].iloc[0]  # when the input ends (row 28)
            end = rows[rows["t"] == last].iloc[0]  # on the attractor
            count = min(digits, len(dynamics["attractors"].query("seed == @seed")))
            hits = round(end["phase_accuracy"] * count)
            p = binomtest(hits, count, end["chance"], alternative="greater").pvalue
            keeps = end["phase_accuracy"] >= PHASE_SHARE * start["state_accuracy"]
            verdicts.append(bool(p < PHASE_P_VALUE and keeps))
            parts.append(
                f"network {int(seed)}: phase on the attractor {100 * end['phase_accuracy']:.1f} % "
                f"vs the full state at row 28 {100 * start['state_accuracy']:.1f} % (phase at "
                f"row 28 {100 * start['phase_accuracy']:.1f} %, chance {100 * end['chance']:.1f} %)"
            )
        ok = sum(verdicts) > len(verdicts) / 2
        detail = (
            f"k-NN accuracy of the digit from the angle on each network's attractor (its 2 "
            f"principal axes), {last} steps without input after row 28, against what the full "
            "state held when the input ended: once the states lie on the curve, phase and state "
            "carry the same information by construction, so the comparison is with row 28. "
            f"Criterion (ours): the phase beats chance (binomial p < {PHASE_P_VALUE}) and keeps "
            f">= {100 * PHASE_SHARE:.0f} % of the row-28 state's accuracy, in most networks. The "
            "paper states this as a hypothesis."
        )
        return Outcome("; ".join(parts), REPRODUCED if ok else NOT_REPRODUCED, detail=detail)

    return Claim(
        id="mnist.attractors.digit_as_phase",
        paper=MNIST_PAPER,
        what="on the cycles, the digit class is encoded as the phase (hypothesis): the phase "
        "keeps the digit information the state held when the input ended",
        paper_value="class = phase on the cycle",
        unit="k-NN accuracy",
        source="[text] slides (a hypothesis)",
        requires=_trained,
        evaluate=evaluate,
        competence=_competent,
    )


def registry() -> list[Claim]:
    return [
        _accuracy(),
        _length_over_information(),
        _clusters("form"),
        _clusters("degrade"),
        _lyapunov_after_training(),
        _two_limit_cycles(),
        _low_dimensional_attractor(),
        _clusters_then_compression(),
        _digit_as_phase(),
    ]
