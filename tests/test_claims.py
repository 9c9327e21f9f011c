"""Claims registry: tolerances by closed form, verdicts on hand-made result tables."""

import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnatlas.papers.csl import reference
from rnnatlas.papers.csl.claims import Results, registry, tolerance_pp
from rnnatlas.papers.mnist import claims as mnist_claims
from rnnatlas.papers.registry import load_config
from rnnatlas.report.claims import (
    INCONCLUSIVE,
    NOT_CHECKED,
    NOT_REPRODUCED,
    REPRODUCED,
    VERDICTS,
    check_all,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def config():
    return load_config([ROOT / "config.yaml"])


def test_tolerance_closed_form():
    # sd 1 pp over 4 seeds, paper p = 5 %, 1000 test sentences
    expected = 100 * 1.96 * math.sqrt(0.01**2 * (1 / 4 + 1 / 5) + 2 * 0.05 * 0.95 / 1000)
    assert tolerance_pp(0.01, 4, 0.05, 1000) == pytest.approx(expected)
    # no spread and p = 0: nothing can differ
    assert tolerance_pp(0.0, 3, 0.0, 1000) == 0.0


def _runs(esn_valid, lstm_valid, esn_cpu=2.0, lstm_cpu=50.0, n_objects=(4, 50)):
    rows = []
    for n in n_objects:
        for seed, (ev, lv) in enumerate(zip(esn_valid, lstm_valid, strict=True)):
            common = {"n_objects": n, "seed": seed, "rmse": 0.1, "n": 1000}
            esn = {**common, "protocol": "variengien", "valid_error": ev, "cpu_time_s": esn_cpu,
                   "trainable_parameters": 22022}  # fmt: skip
            rows.append({**esn, "model": "esn", "exact_error": 0.065})
            rows.append({**esn, "model": "esn_offline", "exact_error": 0.062})
            # Juven's protocol runs his own reservoir (csl.juven.model)
            rows.append({**esn, "protocol": "juven", "model": "esn_juven", "exact_error": 0.065})
            rows.append({**common, "protocol": "variengien", "model": "lstm", "valid_error": lv,
                         "exact_error": 0.05, "cpu_time_s": lstm_cpu,
                         "trainable_parameters": 3742})  # fmt: skip
    return pd.DataFrame(rows)


def _results(runs):
    sweep = pd.DataFrame({"value": [100, 100], "valid_error": [0.33, 0.34],
                          "exact_error": [0.38, 0.39], "n": [1000, 1000]})  # fmt: skip
    cards = {n: {"one_object_sentences": c[0], "two_object_sentences": c[1], "concepts": c[2],
                 "output_dim": c[3]} for n, c in reference.CSL_COUNTS.items()}  # fmt: skip
    bow = pd.DataFrame({"model": "bag_of_words", "n_objects": 4, "seed": [0, 1, 2],
                        "valid_error": [0.0, 0.001, 0.0], "n": 1000})  # fmt: skip
    return Results(runs=runs, units=sweep, sentences=sweep, bow=bow, cards=cards)


def _check_csl(config, results, presets=()):
    return check_all(registry(), config, results, presets)


def _check_mnist(config, tables):
    return check_all(mnist_claims.registry(), config, tables)


def _by_id(records):
    return {r["id"]: r for r in records}


def test_verdicts_on_hand_made_tables(config):
    cfg = copy.deepcopy(config)
    cfg["csl"]["objects"]["values"] = [3, 4, 50]
    records = _by_id(_check_csl(cfg, _results(_runs([0.006, 0.0058], [0.001, 0.002]))))
    # 0.15 % vs 0.59 %: 4.4 of 1,000 test sentences, inside 1.96 SE (binomial alone ~2.7 pp/1000)
    assert records["csl.order.lstm_lowest_valid_error_4_objects"]["verdict"] == INCONCLUSIVE
    assert records["csl.order.esn_better_many_objects"]["verdict"] == INCONCLUSIVE
    assert records["csl.order.esn_trains_faster"]["verdict"] == REPRODUCED
    main = records["csl.juven.esn.valid_error"]
    assert main["value"] == pytest.approx(0.59)
    assert main["verdict"] == REPRODUCED and main["tolerance"] > 0
    assert records["csl.lstm.parameters"]["value"] == 3742
    assert records["csl.lstm.parameters"]["verdict"] == REPRODUCED
    assert records["csl.corpus.n50.two_object_sentences"]["verdict"] == REPRODUCED
    # the units sweep of the hand table gives 33.5 % at 100 units: Juven 33.19 %
    assert records["csl.juven.units100.valid_error"]["verdict"] == REPRODUCED
    # 300 units is in the configured grid but has no rows in the hand table
    assert records["csl.juven.units300.valid_error"]["verdict"] == NOT_CHECKED
    assert all(r["verdict"] in VERDICTS for r in records.values())
    # the sweeps' 1000-unit and 1000-sentence points are the main runs again: aliases
    assert records["csl.juven.units1000.valid_error"]["alias_of"] == "csl.juven.esn.valid_error"
    assert records["csl.corpus.n4.concepts"]["kind"] == "check"
    assert records["csl.juven.esn.valid_error"]["kind"] == "claim"
    assert records["csl.bow.baseline"]["verdict"] == REPRODUCED  # 0.03 % beats 0.15 %
    assert records["csl.corpus.n4_center.two_object_sentences"]["value"] == 774_400


def test_orderings_are_decided_only_beyond_their_uncertainty(config):
    cfg = copy.deepcopy(config)
    cfg["csl"]["objects"]["values"] = [3, 4, 50]
    # LSTM 2 % vs ESN 8 %: SE by hand from the seeds and the binomial test-set variance
    records = _by_id(_check_csl(cfg, _results(_runs([0.08, 0.08], [0.02, 0.02]))))
    lowest = records["csl.order.lstm_lowest_valid_error_4_objects"]
    se = math.sqrt(0.02 * 0.98 / 1000 + 0.08 * 0.92 / 1000)  # no seed spread in this table
    assert lowest["verdict"] == REPRODUCED
    assert lowest["tolerance"] == pytest.approx(100 * 1.96 * se, abs=1e-3)
    # at 50 objects the same table has the LSTM far better: the ESN claim is refuted
    assert records["csl.order.esn_better_many_objects"]["verdict"] == NOT_REPRODUCED


def test_far_value_is_not_reproduced(config):
    records = _by_id(_check_csl(config, _results(_runs([0.05, 0.051], [0.001, 0.002]))))
    assert records["csl.juven.esn.valid_error"]["verdict"] == NOT_REPRODUCED


def test_juven_claims_read_only_juven_protocol_runs(config):
    runs = _runs([0.006, 0.0058], [0.001, 0.002])
    runs.loc[(runs["protocol"] == "variengien") & (runs["model"] == "esn"), "valid_error"] = 0.3
    records = _by_id(_check_csl(config, _results(runs)))
    assert records["csl.juven.esn.valid_error"]["value"] == pytest.approx(0.59)
    # while the ESN-vs-LSTM ordering reads only the Variengien-protocol runs
    assert "esn_offline" in records["csl.order.lstm_lowest_valid_error_4_objects"]["value"]
    cfg = copy.deepcopy(config)
    cfg["csl"]["juven"]["decode"]["beta"] = 1.0
    records = _by_id(_check_csl(cfg, _results(runs)))
    assert records["csl.juven.esn.valid_error"]["verdict"] == NOT_CHECKED
    assert "csl.juven.decode" in records["csl.juven.esn.valid_error"]["detail"]


def test_unmet_requirements_are_not_checked(config):
    cfg = copy.deepcopy(config)
    cfg["csl"]["models"]["lstm"]["epochs"] = 3
    cfg["csl"]["compare"]["seeds"] = [0]
    records = _by_id(_check_csl(cfg, _results(_runs([0.006], [0.001]))))
    lowest = records["csl.order.lstm_lowest_exact_error_4_objects"]
    assert lowest["verdict"] == NOT_CHECKED and "epochs" in lowest["detail"]
    assert records["csl.juven.esn.valid_error"]["verdict"] == NOT_CHECKED
    assert records["csl.order.esn_better_many_objects"]["verdict"] == NOT_CHECKED


def test_every_claim_has_the_report_fields(config):
    presets = {"default": config}
    records = _check_csl(config, _results(_runs([0.006, 0.006], [0.001, 0.002])), presets)
    fields = {"id", "paper", "what", "paper_value", "value", "tolerance", "scale", "verdict"}
    assert len(records) == len(registry()) and len({r["id"] for r in records}) == len(records)
    for record in records:
        assert fields <= set(record) and isinstance(record["checkable_at"], list)


def _structure(percentile):
    return {"k": 5, "units": [1, 2, 3, 4, 5], "emphasised": 0.9, "random_mean": 0.6,
            "random_sd": 0.05, "random_q95": 0.7, "percentile": percentile, "draws": 100,
            "rows": 2000, "spearman": 0.3, "label": "clause"}  # fmt: skip


def _visual(trust=(0.95, 0.99), ratios=(0.9, 0.6, 0.4, 0.27, 0.18), polyvalent=3,
            structure=(0.99, 0.97)):  # fmt: skip
    from rnnatlas.analysis.projection import nesting_summary

    lengths = np.arange(1, len(ratios) + 1)
    summary = nesting_summary(pd.DataFrame({"length": lengths, "ratio": ratios}))
    metrics = {
        model: {"trustworthiness": t, "trust_neighbors": 10, "unique_states": 1800,
                "sentences": 200, "state": "x", "nesting": {"prefix": summary, "suffix": summary}}
        for model, t in zip(("esn", "lstm"), trust, strict=True)
    }  # fmt: skip
    units = {"esn": {"n_polyvalent": polyvalent, "polyvalent_min": 5, "outputs": 22, "top_k": 5,
                     "units": 1000, "polyvalent_units": list(range(polyvalent))},
             "lstm": {}}  # fmt: skip
    for model, share in zip(("esn", "lstm"), structure, strict=True):
        units[model]["structure"] = _structure(share) if share is not None else None
    return {"rssviz": metrics, "units": units}


def test_visual_claims_on_hand_made_measures(config):
    results = _results(_runs([0.006, 0.006], [0.001, 0.002]))
    results.visual = _visual()  # a geometric nesting curve (x0.67 per word), faithful layouts
    got = _by_id(_check_csl(config, results))
    assert got["csl.rssviz.esn.trustworthiness"]["verdict"] == REPRODUCED
    assert got["csl.rssviz.lstm.prefix_nesting"]["verdict"] == REPRODUCED
    assert got["csl.rssviz.lstm.self_similar_nesting"]["verdict"] == REPRODUCED
    assert got["csl.units.esn.polyvalent"]["value"] == 3
    # the most weighted units of both models beat >= 95 % of random unit sets
    assert got["csl.units.structure_emphasis"]["verdict"] == REPRODUCED
    assert got["csl.units.structure_emphasis"]["value"] == {"esn": 99.0, "lstm": 97.0}
    for shares, verdict in [((0.99, 0.8), INCONCLUSIVE), ((0.99, 0.5), NOT_REPRODUCED),
                            ((0.99, None), NOT_CHECKED)]:  # fmt: skip
        results.visual = _visual(structure=shares)
        got = _by_id(_check_csl(config, results))
        assert got["csl.units.structure_emphasis"]["verdict"] == verdict, shares
    # an LSTM that has not learnt the task (95 % valid error): its units say nothing yet
    untrained = _results(_runs([0.006, 0.006], [0.95, 0.95]))
    untrained.visual = _visual(structure=(0.99, 0.2))
    record = _by_id(_check_csl(config, untrained))["csl.units.structure_emphasis"]
    assert record["verdict"] == NOT_CHECKED and "lstm 95.0 %" in record["detail"]

    results.visual = _visual(trust=(0.95, 0.85), ratios=(0.9, 0.88, 0.3, 0.29, 0.28), polyvalent=0)
    got = _by_id(_check_csl(config, results))
    assert got["csl.rssviz.lstm.trustworthiness"]["verdict"] == NOT_REPRODUCED
    # falls at every step (nested) but in one jump, not by a steady factor (not self-similar)
    assert got["csl.rssviz.lstm.prefix_nesting"]["verdict"] == REPRODUCED
    assert got["csl.rssviz.lstm.self_similar_nesting"]["verdict"] == NOT_REPRODUCED
    assert got["csl.units.esn.polyvalent"]["verdict"] == NOT_REPRODUCED

    results.visual = {}
    got = _by_id(_check_csl(config, results))
    assert got["csl.rssviz.esn.trustworthiness"]["verdict"] == NOT_CHECKED


def _mnist_tables(gap=0.3, separability=(0.4, 0.9, 0.6)):
    rows = []
    for seed in (0, 1):
        for n in range(29):
            full = 0.9 + 0.01 * seed
            cut = full - gap if 0 < n < 28 else full
            rows += [
                {"seed": seed, "variant": "hidden", "n": n, "accuracy": full},
                {"seed": seed, "variant": "cut", "n": n, "accuracy": cut},
            ]
    table = pd.DataFrame(
        {"step": [6, 27, 55], "knn_accuracy": list(separability), "silhouette": [0.0, 0.2, 0.1],
         "chance": [0.1, 0.1, 0.1]}
    )  # fmt: skip
    return {"variants": pd.DataFrame(rows).assign(n_test=1000), "separability": table}


def test_mnist_claims_on_hand_made_tables(config):
    mnist = _mnist_tables()
    got = _by_id(_check_mnist(config, mnist))
    assert got["mnist.order.length_over_information"]["verdict"] == REPRODUCED
    assert got["mnist.tsne.clusters_form"]["verdict"] == REPRODUCED
    assert got["mnist.tsne.clusters_degrade"]["verdict"] == REPRODUCED
    # the default trains on the embedded digits: the paper's 93 % is for the full MNIST
    assert got["mnist.accuracy.full_sequence"]["verdict"] == NOT_CHECKED
    assert got["mnist.accuracy.full_sequence"]["value"] == 90.5  # ours is shown all the same

    mnist = _mnist_tables(gap=0.05, separability=(0.95, 0.9, 0.97))
    got = _by_id(_check_mnist(config, mnist))
    assert got["mnist.order.length_over_information"]["verdict"] == NOT_REPRODUCED
    assert got["mnist.tsne.clusters_form"]["verdict"] == NOT_REPRODUCED
    assert got["mnist.tsne.clusters_degrade"]["verdict"] == NOT_REPRODUCED

    # 2 pp apart on the configured t-SNE points is inside the noise: inconclusive
    got = _by_id(_check_mnist(config, _mnist_tables(separability=(0.88, 0.9, 0.92))))
    assert got["mnist.tsne.clusters_form"]["verdict"] == INCONCLUSIVE
    # networks at 70 % (below the 90 % competence): shown, not judged
    weak = _mnist_tables()
    weak["variants"]["accuracy"] = 0.7
    got = _by_id(_check_mnist(config, weak))["mnist.tsne.clusters_form"]
    assert got["verdict"] == NOT_CHECKED and "70.0 % < 90 %" in got["detail"]

    paper = copy.deepcopy(config)
    paper["mnist"]["data"]["source"] = "idx"
    paper["mnist"]["model"]["epochs"] = 30
    mnist = _mnist_tables()
    accuracy = _by_id(_check_mnist(paper, mnist))["mnist.accuracy.full_sequence"]
    assert (accuracy["value"], accuracy["verdict"]) == (90.5, NOT_REPRODUCED)  # 2.5 pp > 2 pp
    assert accuracy["tolerance"] == 2.0


def _dynamics_tables(lam_after=(0.001, -0.002), cycles=(2, 2), twonn=1.0, phase=(0.3, 0.31)):
    """Hand-made outputs of two networks' dynamics_step."""
    summaries, sets, phases, attractors = {}, [], [], []
    for seed, (lam, count) in enumerate(zip(lam_after, cycles, strict=True)):
        kinds = {"closed_curve": count} if count else {"higher_dimensional": 1}
        summaries[seed] = {
            "seed": seed, "lambda_max_untrained": -0.5, "lambda_max_trained": lam,
            "final_epoch": 10, "set_kinds": kinds, "attractor_twonn": twonn,
        }  # fmt: skip
        for label in range(max(count, 1)):
            sets.append({"seed": seed, "set": label, "kind": next(iter(kinds))})
        # phase = (phase on the attractor, full state at row 28); on the attractor the state
        # holds what the phase holds
        phases.append({"seed": seed, "t": 0, "phase_accuracy": 0.15,
                       "state_accuracy": phase[1], "chance": 0.1})  # fmt: skip
        phases.append({"seed": seed, "t": 2000, "phase_accuracy": phase[0],
                       "state_accuracy": phase[0], "chance": 0.1})  # fmt: skip
        attractors += [{"seed": seed, "trajectory": i} for i in range(1000)]
    return {
        "summaries": summaries,
        "sets": pd.DataFrame(sets),
        "phase": pd.DataFrame(phases),
        "attractors": pd.DataFrame(attractors),
    }


def _dimension(at_28=3.8):
    return pd.DataFrame({"t": [5, 27, 27], "method": ["twonn", "twonn", "participation_ratio"],
                         "dimension": [3.5, at_28, 4.4]})  # fmt: skip


def test_clusters_then_compression(config):
    # row 28: k-NN 0.9 (chance 0.1), TwoNN 3.8; attractors 1.0 and 1.0 -> compressed
    mnist = {**_mnist_tables(), "dynamics": _dynamics_tables(), "dimension": _dimension()}
    got = _by_id(_check_mnist(config, mnist))["mnist.dimension.clusters_then_compression"]
    assert got["verdict"] == REPRODUCED and "TwoNN 3.80" in got["value"]
    # the attractors (1.0) are not below row 28's dimension (0.9): no compression
    mnist["dimension"] = _dimension(at_28=0.9)
    got = _by_id(_check_mnist(config, mnist))["mnist.dimension.clusters_then_compression"]
    assert got["verdict"] == NOT_REPRODUCED and "(0 of 2)" in got["detail"]


def test_mnist_dynamics_claims_on_hand_made_tables(config):
    mnist = {**_mnist_tables(), "dynamics": _dynamics_tables()}
    got = _by_id(_check_mnist(config, mnist))
    for claim in (
        "mnist.lyapunov.zero_after_training",
        "mnist.attractors.two_limit_cycles",
        "mnist.dimension.low_dimensional_attractor",
        "mnist.attractors.digit_as_phase",
    ):
        assert got[claim]["verdict"] == REPRODUCED, claim
    assert got["mnist.attractors.two_limit_cycles"]["value"] == "limit cycles per network: [2, 2]"

    # one network chaotic (λ 0.05 > 0.01), one cycle each, an 11-dimensional attractor (> 5 %
    # of 200 units), the phase keeping 20 / 31 < 90 % of the state's accuracy
    mnist["dynamics"] = _dynamics_tables((0.05, 0.0), (1, 1), 11.0, (0.2, 0.31))
    got = _by_id(_check_mnist(config, mnist))
    for claim in (
        "mnist.lyapunov.zero_after_training",
        "mnist.attractors.two_limit_cycles",
        "mnist.dimension.low_dimensional_attractor",
        "mnist.attractors.digit_as_phase",
    ):
        assert got[claim]["verdict"] == NOT_REPRODUCED, claim
    # at chance (10 % of 1000 digits) the phase carries nothing even if the state has nothing
    mnist["dynamics"] = _dynamics_tables(phase=(0.1, 0.1))
    got = _by_id(_check_mnist(config, mnist))
    assert got["mnist.attractors.digit_as_phase"]["verdict"] == NOT_REPRODUCED
    # the reader's case: phase = state on the attractor (35 %), but the state held 80 % at row 28
    mnist["dynamics"] = _dynamics_tables(phase=(0.35, 0.8))
    got = _by_id(_check_mnist(config, mnist))
    assert got["mnist.attractors.digit_as_phase"]["verdict"] == NOT_REPRODUCED
    assert "row 28 80.0 %" in got["mnist.attractors.digit_as_phase"]["value"]
    mnist = _mnist_tables()
    got = _by_id(_check_mnist(config, mnist))
    assert got["mnist.attractors.two_limit_cycles"]["verdict"] == NOT_CHECKED


def test_ordering_joint_and_headline_by_hand():
    from rnnatlas.report.claims import CHECK, CLAIM, headline, joint_verdict, ordering_verdict

    # 1.96 SE is the boundary: 0.0196 with SE 0.01 is inside, 0.0197 outside
    assert ordering_verdict(0.0196, 0.01, +1) == INCONCLUSIVE
    assert ordering_verdict(0.0197, 0.01, +1) == REPRODUCED
    assert ordering_verdict(0.0197, 0.01, -1) == NOT_REPRODUCED
    assert joint_verdict([REPRODUCED, INCONCLUSIVE]) == INCONCLUSIVE
    assert joint_verdict([REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE]) == NOT_REPRODUCED
    assert joint_verdict([REPRODUCED, REPRODUCED]) == REPRODUCED
    records = [
        {"kind": CLAIM, "alias_of": None, "verdict": REPRODUCED},
        {"kind": CLAIM, "alias_of": "x", "verdict": REPRODUCED},  # the same measurement again
        {"kind": CLAIM, "alias_of": None, "verdict": INCONCLUSIVE},
        {"kind": CHECK, "alias_of": None, "verdict": REPRODUCED},
    ]
    counts = headline(records)
    assert counts["claims"] == {REPRODUCED: 1, NOT_REPRODUCED: 0, INCONCLUSIVE: 1, NOT_CHECKED: 0}
    assert counts["checks"][REPRODUCED] == 1 and sum(counts["checks"].values()) == 1
