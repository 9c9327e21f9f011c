"""The claims of Variengien & Hinaut 2020 and of Juven & Hinaut 2020's ESN numbers.

Claims read a :class:`Results` (the CSL tables). The visual analyses' claims are in
`claims_visual`; :func:`registry` returns both.

Long because Juven's three grids, the orderings and the corpus counts share their
requirements (which config is the paper's) and the tolerance; the visual claims are apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnnatlas.papers.csl import reference
from rnnatlas.report.claims import (
    CHECK,
    NOT_CHECKED,
    NOT_REPRODUCED,
    REPRODUCED,
    Claim,
    Outcome,
    exact,
    ordering_verdict,
)

CSL_PAPER = "Variengien & Hinaut 2020 (CSL); Juven & Hinaut 2020"


@dataclass
class Results:
    """The tables a CSL claim may read."""

    runs: pd.DataFrame  # one row per trained model (csl_collect)
    units: pd.DataFrame  # ESN units sweep
    sentences: pd.DataFrame  # ESN training-sentences sweep
    bow: pd.DataFrame
    cards: Mapping[int, dict]  # n_objects -> corpus card
    visual: Mapping | None = None  # {"rssviz": {model: metrics}, "units": {model: summary}, ...}


# ---------------------------------------------------------------- statistics


def tolerance_pp(seed_sd: float, k_ours: int, paper_fraction: float, n_test: int) -> float:
    """Two-sided ~95 % band (percentage points) for |our mean - paper mean|.

    Both means are averages over random networks (k_ours and Juven's 5) evaluated on a random test
    set of n_test sentences each. Seed-to-seed variance is estimated from our runs (assumed the
    same for the paper's networks) and the test-set sampling variance of an error rate p is
    p(1-p)/n for each of the two independent test sets: z * sqrt(sd²(1/k + 1/5) + 2 p(1-p)/n).
    """
    p = min(max(paper_fraction, 0.0), 1.0)
    var = seed_sd**2 * (1 / k_ours + 1 / reference.JUVEN_NETWORKS) + 2 * p * (1 - p) / n_test
    return 100 * 1.96 * math.sqrt(var)


def _compare_number(frame: pd.DataFrame, column: str, paper_pct: float) -> Outcome:
    if frame.empty:
        return Outcome(None, NOT_CHECKED, detail="no run of this condition in the results")
    values, n_test = frame[column].dropna(), int(frame["n"].iloc[0])
    if len(values) < 2:
        return Outcome(None, NOT_CHECKED, detail="needs at least 2 seeds to estimate the spread")
    mean, sd = float(values.mean()), float(values.std(ddof=1))
    tol = tolerance_pp(sd, len(values), paper_pct / 100, n_test)
    ours = 100 * mean
    verdict = REPRODUCED if abs(ours - paper_pct) <= tol else NOT_REPRODUCED
    detail = (
        f"mean of {len(values)} seeds, sd {100 * sd:.2f} pp; |diff| {abs(ours - paper_pct):.2f} pp"
    )
    return Outcome(round(ours, 3), verdict, round(tol, 3), detail)


# ---------------------------------------------------------------- requirements


def _same(spec: Mapping, paper: Mapping) -> list[str]:
    """The keys of `paper` where `spec` differs (numbers compared with np.isclose)."""
    differs = []
    for key, value in paper.items():
        ours = spec.get(key, "bernoulli" if key == "input_distribution" else None)
        if isinstance(value, str) or ours is None or isinstance(ours, str):
            same = ours == value
        else:
            same = bool(np.isclose(float(ours), float(value)))
        if not same:
            differs.append(key)
    return differs


def _esn_is_paper(config: Mapping, model: str) -> str | None:
    spec = config["csl"]["models"].get(model)
    if spec is None or spec["kind"] != "esn":
        return f"no ESN named {model!r}"
    differs = _same(spec, reference.PAPER_ESN)
    if differs:
        return f"{model} differs from the paper's ESN in {', '.join(differs)}"
    return None


def lstm_is_paper(config: Mapping, model: str = "lstm") -> str | None:
    spec = config["csl"]["models"].get(model)
    if spec is None or spec["kind"] != "lstm":
        return f"no LSTM named {model!r}"
    differs = _same(spec, reference.PAPER_LSTM)
    if differs:
        return f"{model} differs from the paper's LSTM in {', '.join(differs)} (scale)"
    return None


def _corpus_is_paper(config: Mapping) -> str | None:
    corpus = config["csl"]["corpus"]
    if corpus["center"]:
        return "corpus uses Juven's 'center' variant"
    for key, value in reference.PAPER_SPLIT.items():
        if list(corpus[key]) != value:
            return f"csl.corpus.{key} is {corpus[key]}, the paper uses {value}"
    return None


def _juven_esn(config: Mapping, model: str | None = None, units: bool = True) -> str | None:
    """None when `model` (default csl.juven.model) is Juven's own reservoir (JUVEN_ESN)."""
    model = model or config["csl"]["juven"]["model"]
    spec = config["csl"]["models"].get(model)
    if spec is None or spec["kind"] != "esn":
        return f"no ESN named {model!r}"
    paper = dict(reference.JUVEN_ESN)
    if not units:
        paper.pop("units")
    differs = _same(spec, paper)
    if differs:
        return f"{model} differs from Juven's reservoir in {', '.join(differs)}"
    return None


def _juven_protocol_is_paper(config: Mapping) -> str | None:
    juven = config["csl"]["juven"]
    if not juven["center"]:
        return "csl.juven.center is false: Juven's grammar has 'center' (880 one-object sentences)"
    for key in ("train_sentences", "test_sentences"):
        if juven[key] != reference.JUVEN_PROTOCOL_SIZES[key]:
            return (
                f"csl.juven.{key} is {juven[key]}, Juven used {reference.JUVEN_PROTOCOL_SIZES[key]}"
            )
    if dict(juven["decode"]) != reference.JUVEN_DECODE:
        return f"csl.juven.decode differs from Juven's {reference.JUVEN_DECODE}"
    return None


def _all(*checks: Callable[[], str | None]) -> str | None:
    for check in checks:
        reason = check()
        if reason:
            return reason
    return None


def _in_compare(config: Mapping, model: str, min_seeds: int = 1) -> str | None:
    compare = config["csl"]["compare"]
    if model not in compare["models"]:
        return f"{model} is not in csl.compare.models"
    if len(compare["seeds"]) < min_seeds:
        return f"csl.compare.seeds has {len(compare['seeds'])} seed(s), needs {min_seeds}"
    if config["csl"]["corpus"]["n_objects"] != 4:
        return "the comparison corpus does not have 4 objects"
    return None


# ---------------------------------------------------------------- claims


def _juven_claim(
    key: str, what: str, value: float, requires, evaluate, alias_of: str | None = None
) -> Claim:
    """One of Juven & Hinaut's ESN numbers (% error, mean of 5 networks, their protocol)."""
    return Claim(
        id=f"csl.juven.{key}",
        paper=CSL_PAPER,
        what=what,
        paper_value=value,
        unit="%",
        source=f"[code data] Juven & Hinaut 2020, mean of 5 networks. {reference.JUVEN_PROTOCOL}",
        requires=requires,
        evaluate=evaluate,
        alias_of=alias_of,
    )


def _juven_main(model: str, which: int) -> Claim:
    column = ("valid_error", "exact_error")[which]
    value = reference.JUVEN_MAIN[model][which]
    readout = "online RLS" if model == "esn" else "offline ridge"

    def requires(config):
        if len(config["csl"]["compare"]["seeds"]) < 2:
            return "csl.compare.seeds needs at least 2 seeds"
        if config["csl"]["corpus"]["n_objects"] != 4:
            return "the comparison corpus does not have 4 objects"
        return _all(lambda: _juven_esn(config), lambda: _juven_protocol_is_paper(config))

    def evaluate(results, config):
        runs = _protocol(results.runs, "juven")
        juven_model = config["csl"]["juven"]["model"]
        frame = runs[(runs["model"] == juven_model) & (runs["n_objects"] == 4)]
        outcome = _compare_number(frame, column, value)
        if model == "esn_offline":
            outcome.detail += (
                "; the offline ridge readout equals the online RLS one on the same states "
                "(algebra), so this is the online runs' measurement"
            )
        return outcome

    what = (
        f"ESN ({readout}), 4 objects, 1000 units, 1000 training sentences: "
        f"{column.replace('_', ' ')}"
    )
    # RLS with P0 = I/alpha and no forgetting is the ridge solution on the same states: the
    # offline readout repeats the online measurement (Juven's two numbers are separate runs)
    alias = f"csl.juven.esn.{column}" if model == "esn_offline" else None
    return _juven_claim(f"{model}.{column}", what, value, requires, evaluate, alias)


def _juven_sweep(sweep: str, grid_value: int, which: int) -> Claim:
    column = ("valid_error", "exact_error")[which]
    points = reference.JUVEN_UNITS if sweep == "units" else reference.JUVEN_SENTENCES
    value = points[grid_value][which]
    label = "reservoir units" if sweep == "units" else "training sentences"

    def requires(config):
        section = config["csl"][f"esn_{sweep}"]
        if grid_value not in section["values"]:
            return f"{grid_value} is not in csl.esn_{sweep}.values"
        if len(section["seeds"]) < 2:
            return f"csl.esn_{sweep}.seeds needs at least 2 seeds"
        if config["csl"]["corpus"]["n_objects"] != 4:
            return "the sweep corpus does not have 4 objects"
        spec = config["csl"]["models"][section["model"]]
        if spec["readout"] != "rls":
            return "Juven's grids use the online readout"
        return _all(
            lambda: _juven_esn(config, section["model"], units=sweep != "units"),
            lambda: _juven_protocol_is_paper(config),
        )

    def evaluate(results, config):
        table = results.units if sweep == "units" else results.sentences
        frame = table[table["value"] == grid_value]
        return _compare_number(frame, column, value)

    what = f"ESN online, 4 objects, {grid_value} {label}: {column.replace('_', ' ')}"
    # 1000 units and 1000 sentences is the main configuration: Juven reports a number from
    # another run of it, ours is the same measurement as csl.juven.esn.*, counted there once
    main = reference.JUVEN_MAIN_CONFIGURATION[sweep]
    alias = f"csl.juven.esn.{column}" if grid_value == main else None
    return _juven_claim(f"{sweep}{grid_value}.{column}", what, value, requires, evaluate, alias)


def _juven_objects(n_objects: int, which: int) -> Claim:
    column = ("valid_error", "exact_error")[which]
    value = reference.JUVEN_OBJECTS[n_objects][which]

    def requires(config):
        objects = config["csl"]["objects"]
        if n_objects not in objects["values"]:
            return f"{n_objects} is not in csl.objects.values"
        if len(objects["seeds"].get("esn", [])) < 2:
            return "csl.objects.seeds.esn needs at least 2 seeds"
        return _all(lambda: _juven_esn(config), lambda: _juven_protocol_is_paper(config))

    def evaluate(results, config):
        runs = _protocol(results.runs, "juven")
        juven_model = config["csl"]["juven"]["model"]
        frame = runs[(runs["model"] == juven_model) & (runs["n_objects"] == n_objects)]
        return _compare_number(frame, column, value)

    what = f"ESN online, {n_objects} objects, 1000 units: {column.replace('_', ' ')}"
    return _juven_claim(f"objects{n_objects}.{column}", what, value, requires, evaluate)


def _protocol(runs: pd.DataFrame, protocol: str) -> pd.DataFrame:
    """Runs on corpora of one protocol: "variengien" (the comparison) or "juven" (his numbers)."""
    return runs[runs["protocol"] == protocol]


def _model_means(runs: pd.DataFrame, n_objects: int, column: str) -> pd.Series:
    runs = _protocol(runs, "variengien")
    return runs[runs["n_objects"] == n_objects].groupby("model")[column].mean()


def _difference(
    runs: pd.DataFrame, n_objects: int, column: str, first: str, second: str, rate: bool = True
) -> tuple[float, float, str]:
    """(mean of `first` - mean of `second`, its standard error, how it was computed) over the
    seeds of each model on the Variengien corpus with `n_objects`. For an error rate (`rate`) the
    SE adds each mean's binomial test-set variance p(1-p)/n to the seed variance; with one seed
    the seed variance is unknown and left out (said in the text)."""
    runs = _protocol(runs, "variengien")
    runs = runs[runs["n_objects"] == n_objects]
    variance, notes, means = 0.0, [], []
    for model in (first, second):
        values = runs.loc[runs["model"] == model, column].dropna().to_numpy(dtype=float)
        mean = float(values.mean())
        means.append(mean)
        if len(values) > 1:
            variance += values.var(ddof=1) / len(values)
            notes.append(f"{model}: {len(values)} seeds, sd {values.std(ddof=1):.4g}")
        else:
            notes.append(f"{model}: 1 seed (seed spread unknown)")
        if rate:
            n_test = int(runs.loc[runs["model"] == model, "n"].iloc[0])
            variance += mean * (1 - mean) / n_test
    if rate:
        notes.append("plus the binomial SE of each error over the test sentences")
    return means[0] - means[1], math.sqrt(variance), "; ".join(notes)


def _ordering_lstm_lowest(column: str) -> Claim:
    label = column.replace("_", " ")

    def requires(config):
        esns = [m for m in config["csl"]["compare"]["models"]
                if config["csl"]["models"][m]["kind"] == "esn"]  # fmt: skip
        return _all(
            lambda: _in_compare(config, "lstm"),
            lambda: None if esns else "no ESN in csl.compare.models",
            lambda: lstm_is_paper(config),
            lambda: _corpus_is_paper(config),
        )

    def evaluate(results, config):
        means = _model_means(results.runs, 4, column) * 100
        esns = [m for m in means.index if config["csl"]["models"][m]["kind"] == "esn"]
        best_esn = means[esns].idxmin()
        difference, se, how = _difference(results.runs, 4, column, "lstm", best_esn)
        verdict = ordering_verdict(difference, se, expected_sign=-1)
        value = f"LSTM {means['lstm']:.2f} % vs best ESN ({best_esn}) {means[best_esn]:.2f} %"
        detail = (
            f"{label}, means; difference {100 * difference:+.2f} pp, SE {100 * se:.2f} pp "
            f"({how}); inconclusive within 1.96 SE"
        )
        return Outcome(value, verdict, round(100 * 1.96 * se, 3), detail)

    return Claim(
        id=f"csl.order.lstm_lowest_{column}_4_objects",
        paper=CSL_PAPER,
        what=f"the LSTM reaches a lower {label} than every ESN on the 4-object corpus "
        "(the abstract does not say which error: both are checked)",
        paper_value="LSTM < ESN",
        unit="ordering",
        source="[text] abstract",
        requires=requires,
        evaluate=evaluate,
    )


def _ordering_esn_faster() -> Claim:
    def requires(config):
        return _all(
            lambda: _in_compare(config, "lstm"),
            lambda: _in_compare(config, "esn"),
            lambda: lstm_is_paper(config),
            lambda: _esn_is_paper(config, "esn"),
        )

    def evaluate(results, config):
        means = _model_means(results.runs, 4, "cpu_time_s")
        difference, se, how = _difference(results.runs, 4, "cpu_time_s", "esn", "lstm", False)
        ratio = means["lstm"] / means["esn"]
        value = f"ESN {means['esn']:.2f} s vs LSTM {means['lstm']:.2f} s ({ratio:.1f}x)"
        detail = f"CPU process time; difference {difference:+.2f} s, SE {se:.2f} s ({how})"
        return Outcome(value, ordering_verdict(difference, se, expected_sign=-1), detail=detail)

    return Claim(
        id="csl.order.esn_trains_faster",
        paper=CSL_PAPER,
        what="the ESN (online readout) trains faster than the LSTM (CPU process time)",
        paper_value="ESN < LSTM",
        unit="ordering",
        source="[text] abstract",
        requires=requires,
        evaluate=evaluate,
    )


def _ordering_esn_many_objects() -> Claim:
    def requires(config):
        objects = config["csl"]["objects"]
        if max(objects["values"]) < 20:
            return "csl.objects.values stops below 20 objects"
        if not {"esn", "lstm"} <= set(objects["seeds"]):
            return "csl.objects.seeds needs esn and lstm"
        return _all(lambda: lstm_is_paper(config), lambda: _esn_is_paper(config, "esn"))

    def evaluate(results, config):
        n_max = int(max(config["csl"]["objects"]["values"]))
        means = _model_means(results.runs, n_max, "valid_error") * 100
        difference, se, how = _difference(results.runs, n_max, "valid_error", "esn", "lstm")
        value = f"{n_max} objects: ESN {means['esn']:.2f} % vs LSTM {means['lstm']:.2f} %"
        detail = (
            f"valid error, means; difference {100 * difference:+.2f} pp, SE {100 * se:.2f} pp "
            f"({how}); inconclusive within 1.96 SE"
        )
        verdict = ordering_verdict(difference, se, expected_sign=-1)
        return Outcome(value, verdict, round(100 * 1.96 * se, 3), detail)

    return Claim(
        id="csl.order.esn_better_many_objects",
        paper=CSL_PAPER,
        what="on the corpus with the most objects the ESN beats the LSTM (valid error), "
        "without re-tuning",
        paper_value="ESN < LSTM",
        unit="ordering",
        source="[text] abstract",
        requires=requires,
        evaluate=evaluate,
    )


def _lstm_parameters() -> Claim:
    def requires(config):
        spec = config["csl"]["models"].get("lstm")
        if spec is None or spec["units"] != 20:
            return "no 20-unit LSTM configured"
        return _all(
            lambda: _in_compare(config, "lstm"),
            lambda: None if not config["csl"]["corpus"]["center"] else "center variant",
        )

    def evaluate(results, config):
        runs = _protocol(results.runs, "variengien")
        frame = runs[(runs["model"] == "lstm") & (runs["n_objects"] == 4)]
        count = int(frame["trainable_parameters"].iloc[0])
        return exact(count, reference.PAPER_LSTM_PARAMETERS)

    return Claim(
        id="csl.lstm.parameters",
        paper=CSL_PAPER,
        what="trainable parameters of the LSTM(20) → Dense(22) model on the 4-object corpus",
        paper_value=reference.PAPER_LSTM_PARAMETERS,
        unit="parameters",
        source="[code]",
        requires=requires,
        evaluate=evaluate,
        kind=CHECK,  # holds by construction of the model
    )


def _corpus_count(n_objects: int, index: int, field: str, label: str) -> Claim:
    value = reference.CSL_COUNTS[n_objects][index]

    def requires(config):
        built = set(config["csl"]["objects"]["values"]) | {config["csl"]["corpus"]["n_objects"]}
        if n_objects not in built:
            return f"no {n_objects}-object corpus is built"
        if config["csl"]["corpus"]["center"]:
            return "corpus uses Juven's 'center' variant"
        return None

    def evaluate(results, config):
        ours = results.cards[n_objects][field]
        return exact(ours, value)

    return Claim(
        id=f"csl.corpus.n{n_objects}.{field}",
        paper=CSL_PAPER,
        what=f"{label} of the {n_objects}-object corpus",
        paper_value=value,
        unit="count",
        source="[calc] from the authors' grammar",
        requires=requires,
        evaluate=evaluate,
        kind=CHECK,  # holds by construction of the grammar
    )


def _center_count(n_objects: int, index: int, field: str, label: str) -> Claim:
    """Juven's "center" variant, counted from the grammar itself (no corpus is built)."""
    value = reference.JUVEN_CENTER_COUNTS[n_objects][index]

    def evaluate(results, config):
        from rnnatlas.papers.csl.data import CSLGrammar

        grammar = CSLGrammar(n_objects, center=True)
        ours = (grammar.one_object_count, grammar.two_object_count)[index]
        return exact(ours, value)

    return Claim(
        id=f"csl.corpus.n{n_objects}_center.{field}",
        paper=CSL_PAPER,
        what=f"{label} of Juven's {n_objects}-object corpus with 'center' as a synonym of middle",
        paper_value=value,
        unit="count",
        source="[text] Juven & Hinaut 2020",
        requires=lambda config: None,
        evaluate=evaluate,
        kind=CHECK,  # holds by construction of the grammar
    )


def _bag_of_words() -> Claim:
    def requires(config):
        if config["csl"]["corpus"]["n_objects"] != 4:
            return "the comparison corpus does not have 4 objects"
        return _corpus_is_paper(config)

    def evaluate(results, config):
        bow = results.bow[results.bow["n_objects"] == 4]
        runs = _protocol(results.runs, "variengien")
        runs = pd.concat([runs[runs["n_objects"] == 4], bow.assign(protocol="variengien")])
        means = runs.groupby("model")["valid_error"].mean() * 100
        models = [m for m in means.index if m != "bag_of_words"]
        best = means[models].idxmin()
        difference, se, how = _difference(runs, 4, "valid_error", "bag_of_words", best)
        others = ", ".join(f"{m} {means[m]:.2f} %" for m in models)
        value = f"bag of words {means['bag_of_words']:.2f} % ({len(bow)} runs) vs {others}"
        # "at least as good": refuted only when the baseline is worse by more than 1.96 SE
        verdict = REPRODUCED if difference <= 1.96 * se else NOT_REPRODUCED
        beats = [m for m in models if means["bag_of_words"] < means[m]]
        detail = (
            f"valid error; the baseline beats {', '.join(beats) or 'no model'}: on this corpus "
            f"the content words alone decide the meaning; difference to {best} "
            f"{100 * difference:+.2f} pp, SE {100 * se:.2f} pp ({how})"
        )
        return Outcome(value, verdict, round(100 * 1.96 * se, 3), detail)

    return Claim(
        id="csl.bow.baseline",
        paper=CSL_PAPER,
        what="the bag-of-words memorisation baseline (content words of each clause -> its "
        "teacher) is at least as good as the best model on the 4-object corpus (our check: "
        "Juven reports the baseline, 10 runs, without a number)",
        paper_value="baseline, no number",
        unit="ordering",
        source="[code] Juven & Hinaut 2020",
        requires=requires,
        evaluate=evaluate,
        kind=CHECK,
    )


def registry() -> list[Claim]:
    claims = [_ordering_lstm_lowest(c) for c in ("valid_error", "exact_error")]
    claims += [_ordering_esn_faster(), _ordering_esn_many_objects()]
    claims += [_juven_main(model, which) for model in ("esn", "esn_offline") for which in (0, 1)]
    claims += [_juven_sweep("units", u, w) for u in reference.JUVEN_UNITS for w in (0, 1)]
    claims += [_juven_sweep("sentences", s, w) for s in reference.JUVEN_SENTENCES for w in (0, 1)]
    claims += [_juven_objects(n, w) for n in reference.JUVEN_OBJECTS for w in (0, 1)]
    claims += [_lstm_parameters(), _bag_of_words()]
    fields = (
        (0, "one_object_sentences", "one-object sentences"),
        (1, "two_object_sentences", "two-object sentences"),
        (2, "concepts", "concepts"),
        (3, "output_dim", "output dimension"),
    )
    for n_objects in reference.CSL_COUNTS:
        claims += [_corpus_count(n_objects, i, f, label) for i, f, label in fields]
    for n_objects in reference.JUVEN_CENTER_COUNTS:
        claims += [_center_count(n_objects, i, f, label) for i, f, label in fields[:2]]
    from rnnatlas.papers.csl import claims_visual  # it builds on this module

    return claims + claims_visual.registry()
