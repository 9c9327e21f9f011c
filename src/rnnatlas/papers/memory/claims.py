"""Claims of Koppula, Sim & Chin 2018 (memory signatures), checked on our signature tables.

Claims read the paper's tables, a dict with
- "signatures": the concatenated signature tables (memory_signature's columns plus family,
  model, state; see rnnatlas.papers.memory.figures),
- "capacity": memory_capacity_check's dict (ours, reservoirpy, max_lag, units, ...).
The configuration is `config["memory"]` (max_lag, decoder, ngram, ...), read with .get.

The paper's body and code are not available: its abstract names the applications (factorised
kernels, n-gram versus recurrent language models) but gives no number, so every criterion
below is ours and says so. Two claims are checks of the method itself: an n-gram model's state
is a hard window (perfect recall inside, nothing beyond), and the linear decoder's memory
capacity equals reservoirpy's on the same reservoir. Claims are not gated on scale: a missing
family or table makes a claim "not checked"; otherwise the verdict says what the tables show.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from rnnatlas.papers.memory import figures as figures_memory
from rnnatlas.papers.memory.reference import ABSTRACT, PAPER
from rnnatlas.report.claims import (
    CHECK,
    INCONCLUSIVE,
    NOT_CHECKED,
    NOT_REPRODUCED,
    REPRODUCED,
    Claim,
    Outcome,
)

NGRAM_ORDERS = (3, 5)  # the n-gram baselines that have a sanity claim (config.memory.ngram)
RECALL = 0.999  # accuracy inside an n-gram's window
CHANCE_BAND = 0.02  # accuracy - chance_majority beyond it: at most this, or 3 binomial s.e.
# One-sided: beyond the window a decoder that has nothing to read sits at chance or, fitted to
# noise, a little below it; only accuracy above chance would be memory.
CAPACITY_TOLERANCE = 1e-3  # relative |ours - reservoirpy| / reservoirpy
DIVERGENCE = (
    0.10  # accuracy: a U/V difference this large at a lag would be seen (else inconclusive)
)
# Orderings compare trained models only: the same competence the text8 and MNIST papers' own
# orderings ask for (their claims modules; a paper does not import another).
MIN_TEXT8_STEPS = 100
MIN_MNIST_EPOCHS = 5


def _section(config: Mapping) -> Mapping | None:
    return config.get("memory") if isinstance(config, Mapping) else None


def _text8_trained(config: Mapping) -> str | None:
    """The ordering compares trained text8 models: MIN_TEXT8_STEPS at least."""
    steps = (config.get("text8") or {}).get("model", {}).get("steps")
    if steps is not None and steps < MIN_TEXT8_STEPS:
        return f"text8.model.steps is {steps}: models under {MIN_TEXT8_STEPS} steps are untrained"
    return _configured(config)


def _mnist_trained(config: Mapping) -> str | None:
    """The low-rank network's bases are compared once it has trained: MIN_MNIST_EPOCHS."""
    epochs = (config.get("mnist") or {}).get("model", {}).get("epochs")
    if epochs is not None and epochs < MIN_MNIST_EPOCHS:
        return (
            f"mnist.model.epochs is {epochs}: networks under {MIN_MNIST_EPOCHS} epochs are "
            "untrained"
        )
    return _configured(config)


def _configured(config: Mapping) -> str | None:
    return None if _section(config) else "the configuration has no memory section"


def _memory(tables) -> Mapping:
    """The paper's tables (a mapping name -> table; None or empty when nothing was run)."""
    return tables or {}


def _preferred_decoder(config: Mapping) -> str | None:
    return (_section(config) or {}).get("decoder")


def family_rows(results, config: Mapping, family: str) -> pd.DataFrame:
    """The rows of one family (one decoder: config.memory.decoder when several), or empty."""
    table = _memory(results).get("signatures")
    if table is None or len(table) == 0 or "family" not in table:
        return pd.DataFrame()
    rows = table[table["family"] == family]
    return figures_memory.select_decoder(rows, _preferred_decoder(config)) if len(rows) else rows


def memory_areas(rows: pd.DataFrame) -> dict[tuple[str, str], float]:
    areas = figures_memory.memory_area(rows)
    return {(r.model, r.state): float(r.area) for r in areas.itertuples()}


# ---- n-gram sanity -------------------------------------------------------------------------------


def _ngram_sanity(n: int) -> Claim:
    model = f"ngram{n}"
    inside = f"0–{n - 2}" if n > 2 else "0"

    def requires(config):
        reason = _configured(config)
        if reason:
            return reason
        orders = _section(config).get("ngram")
        if orders is not None and n not in list(orders):
            return f"memory.ngram lacks {n}"
        return None

    def evaluate(results, config):
        rows = family_rows(results, config, "text8")
        # the i.i.d. control (the test characters shuffled) when the tables have it: on real
        # text, letters inside the window predict those just outside it
        control = f"{model}_shuffled"
        if len(rows) and (rows["model"] == control).any():
            rows, text = rows[rows["model"] == control], "shuffled (i.i.d.) test characters"
        else:
            rows, text = (rows[rows["model"] == model] if len(rows) else rows), "the test text"
        if rows.empty:
            return Outcome(None, NOT_CHECKED, detail=f"no text8 {n}-gram memory tables ({model})")
        rows = rows[rows["state"] == figures_memory.ngram_state(rows["state"])].sort_values("lag")
        if rows["accuracy"].isna().all():
            return Outcome(None, NOT_CHECKED, detail="the decoder gives no accuracy (linear)")
        lags = set(rows["lag"].astype(int))
        if not set(range(n - 1)) <= lags or max(lags) < n - 1:
            return Outcome(
                None,
                NOT_CHECKED,
                detail=f"the {n}-gram table needs lags 0..{n - 1} at least; it has "
                f"{min(lags)}..{max(lags)}",
            )
        window = rows[rows["lag"] <= n - 2]
        beyond = rows[rows["lag"] >= n - 1]
        low = float(window["accuracy"].min())
        gap = (beyond["accuracy"] - beyond["chance_majority"]).to_numpy()
        chance = beyond["chance_majority"].to_numpy()
        tests = beyond["n_test"].to_numpy(dtype=float) if "n_test" in beyond else np.inf
        band = np.maximum(CHANCE_BAND, 3 * np.sqrt(chance * (1 - chance) / tests))
        worst_at = int(np.argmax(gap - band))
        worst, worst_lag = float(gap[worst_at]), int(beyond["lag"].iloc[worst_at])
        ok = low >= RECALL and bool((gap <= band).all())
        value = (
            f"lowest accuracy at lags {inside}: {low:.4f}; largest accuracy − chance at lags "
            f"{n - 1}–{max(lags)}: {worst:+.4f} (lag {worst_lag}, band {band[worst_at]:.4f})"
        )
        detail = (
            f"criterion (ours): accuracy >= {RECALL} at every lag inside the window "
            f"({inside}) and no more above the majority chance than max({CHANCE_BAND}, 3 binomial "
            f"standard errors of the test accuracy) at every lag >= "
            f"{n - 1}; {rows['decoder'].iloc[0]} decoder on the one-hot window state, read on "
            f"{text}. A check of the method: the window holds exactly the last n − 1 characters."
        )
        if low >= RECALL and not ok:
            detail += (
                " Beyond the window the decoder beats chance: on real text the characters in the "
                "window predict their neighbours through the language's own statistics, which a "
                "memory signature cannot tell apart from memory."
            )
        return Outcome(value, REPRODUCED if ok else NOT_REPRODUCED, CHANCE_BAND, detail)

    return Claim(
        id=f"memory.ngram.sanity.n{n}",
        paper=PAPER,
        what=f"the {n}-gram model's memory signature is perfect recall at lags {inside} and "
        f"chance from lag {n - 1} on (its history is a hard window of {n - 1} characters)",
        paper_value="perfect recall to n−1, chance beyond",
        unit="accuracy",
        source="[text] an n-gram model's history is a hard window (abstract, arXiv 1802.03816); "
        "thresholds ours",
        requires=requires,
        evaluate=evaluate,
        kind=CHECK,  # a check of the method on a state whose memory is known
    )


# ---- memory capacity ----------------------------------------------------------------------------


def _capacity() -> Claim:
    def evaluate(results, config):
        capacity = _memory(results).get("capacity")
        if not capacity:
            return Outcome(None, NOT_CHECKED, detail="no memory capacity table (capacity.json)")
        try:
            ours, theirs = float(capacity["ours"]), float(capacity["reservoirpy"])
        except (KeyError, TypeError, ValueError):
            return Outcome(None, NOT_CHECKED, detail="capacity.json lacks 'ours' or 'reservoirpy'")
        if not (np.isfinite(ours) and np.isfinite(theirs)):
            return Outcome(None, NOT_CHECKED, detail="a memory capacity is not finite")
        difference = abs(ours - theirs)
        relative = difference / abs(theirs) if theirs != 0 else difference
        ok = relative <= CAPACITY_TOLERANCE
        value = f"ours {ours:.4f}, reservoirpy {theirs:.4f} (relative difference {relative:.2e})"
        setup = ", ".join(
            f"{key} {capacity[key]}" for key in ("units", "max_lag") if key in capacity
        )
        detail = (
            f"Jaeger's memory capacity (sum of squared correlations over lags 1..max_lag) of a "
            f"linear reservoir ({setup}), from memory_signature(decoder='linear') and from "
            f"reservoirpy.observables.memory_capacity on the same reservoir, input and rows; "
            f"tolerance (ours): relative difference <= {CAPACITY_TOLERANCE:g}"
            + ("" if theirs != 0 else " (absolute: reservoirpy's is 0)")
            + "."
        )
        return Outcome(value, REPRODUCED if ok else NOT_REPRODUCED, CAPACITY_TOLERANCE, detail)

    return Claim(
        id="memory.capacity.reservoirpy_agreement",
        paper=PAPER,
        what="our linear memory signature gives the memory capacity of reservoir computing "
        "theory (reservoirpy's) on the same reservoir: a cross-check of the method",
        paper_value="= reservoirpy memory_capacity",
        unit="relative difference",
        source="[ours] method check; Jaeger 2001 memory capacity, reservoirpy.observables",
        requires=_configured,
        evaluate=evaluate,
        kind=CHECK,  # our software against reservoirpy's
    )


# ---- factorised kernels -------------------------------------------------------------------------


def _profile_difference(rows: pd.DataFrame) -> pd.DataFrame:
    """Per lag: U- and V-basis accuracy, their difference and its binomial standard error
    sqrt(a_u (1 - a_u) / n_u + a_v (1 - a_v) / n_v) on the held-out sequences."""
    wide = rows.pivot_table(index="lag", columns="state", values=["accuracy", "n_test"])
    u, v = wide["accuracy"]["u_coords"], wide["accuracy"]["v_coords"]
    se = np.sqrt(
        u * (1 - u) / wide["n_test"]["u_coords"] + v * (1 - v) / wide["n_test"]["v_coords"]
    )
    return pd.DataFrame({"u": u, "v": v, "difference": u - v, "se": se})


def _bases() -> Claim:
    def evaluate(results, config):
        from scipy.stats import norm

        rows = family_rows(results, config, "mnist")
        rows = rows[rows["model"] == "lowrank"] if len(rows) else rows
        if rows.empty:
            return Outcome(None, NOT_CHECKED, detail="no mnist low-rank memory tables")
        missing = [s for s in ("u_coords", "v_coords") if s not in set(rows["state"])]
        if missing:
            return Outcome(
                None, NOT_CHECKED, detail=f"the low-rank tables lack state(s) {', '.join(missing)}"
            )
        if rows["accuracy"].isna().all():
            return Outcome(None, NOT_CHECKED, detail="the decoder gives no accuracy (linear)")
        profile = _profile_difference(rows)
        # every lag is a test: Bonferroni over the lags, two-sided 95 % in all
        z = float(norm.ppf(1 - 0.025 / len(profile)))
        beyond = profile[profile["difference"].abs() > z * profile["se"]]
        visible = float(z * profile["se"].max())  # the smallest divergence every lag could see
        peak_u, peak_v = int(profile["u"].idxmax()), int(profile["v"].idxmax())
        areas = memory_areas(rows)
        value = (
            "accuracy U vs V by lag: "
            + ", ".join(f"{lag}: {r.u:.2f} vs {r.v:.2f}" for lag, r in profile.iterrows())
            + f"; peaks at lag {peak_u} (U) and {peak_v} (V); areas "
            f"{areas[('lowrank', 'u_coords')]:.3f} vs {areas[('lowrank', 'v_coords')]:.3f}"
        )
        if len(beyond):
            verdict = REPRODUCED
            found = ", ".join(f"lag {lag} ({100 * r.difference:+.1f} pp)" for lag, r in
                              beyond.iterrows())  # fmt: skip
        elif visible <= DIVERGENCE:
            verdict, found = NOT_REPRODUCED, "no lag"
        else:
            verdict, found = INCONCLUSIVE, "no lag"
        detail = (
            "held-out decoder accuracy of the low-rank RNN's state read in U's basis (u_coords = "
            "U⁺h) and in V's (v_coords = V h, all the recurrence passes on), compared lag by lag "
            f"(total areas can agree while the profiles diverge). Differing beyond {z:.2f} "
            f"binomial SE (Bonferroni over {len(profile)} lags): {found}. Criterion (ours, a "
            "reading of 'information divergence'): some lag differs beyond that; not reproduced "
            f"when no lag does although a {100 * DIVERGENCE:.0f} pp difference would have been "
            f"seen at every lag (largest {z:.2f} SE: {100 * visible:.1f} pp), else inconclusive."
        )
        return Outcome(value, verdict, round(visible, 4), detail)

    return Claim(
        id="memory.lowrank.bases_diverge",
        paper=PAPER,
        what="information diverges in the bases of a factorised recurrent kernel W = U V: the "
        "memory signatures read in U's and in V's basis differ (sequential MNIST low-rank RNN)",
        paper_value="information divergence in the bases of factorized kernels",
        unit="accuracy by lag",
        source=ABSTRACT + "; the criterion is ours",
        requires=_mnist_trained,
        evaluate=evaluate,
    )


def _layers() -> Claim:
    def evaluate(results, config):
        from rnnatlas.analysis.memory_signature import signature_area

        rows = family_rows(results, config, "text8")
        rows = rows[rows["state"].astype(str).str.fullmatch(r"h\d+")] if len(rows) else rows
        models = [m for m in figures_memory.ordered_models(rows["model"]) if
                  figures_memory.ngram_order(m) is None] if len(rows) else []  # fmt: skip
        if not models:
            return Outcome(None, NOT_CHECKED, detail="no recurrent text8 memory tables")
        lengths = {}
        for (model, state), part in rows[rows["model"].isin(models)].groupby(["model", "state"]):
            lengths[(model, state)] = signature_area(part)["memory_length"]
        empty = [k for k, v in lengths.items() if pd.isna(v) or v < 1]
        value = "; ".join(
            f"{figures_memory.label(m, s)}: {'none' if pd.isna(n) else n}"
            for (m, s), n in sorted(lengths.items())
        )
        detail = (
            "memory length (the last lag whose accuracy is more than "
            f"{figures_memory.ABOVE_CHANCE} above the majority chance) of every layer's h of "
            "each recurrent text8 model; criterion (ours, a reading of 'history encoded in the "
            "layers'): every layer keeps at least one past character beyond the one just read"
            + (
                f". Without history: {', '.join(figures_memory.label(*k) for k in empty)}"
                if empty
                else ""
            )  # fmt: skip
        )
        return Outcome(value, NOT_REPRODUCED if empty else REPRODUCED, detail=detail)

    return Claim(
        id="memory.layers.history_in_every_layer",
        paper=PAPER,
        what="the input history of a character-level (grapheme) model is encoded in its layers: "
        "every layer's state keeps past characters",
        paper_value="history encoded in the layers",
        unit="memory length (lags)",
        source=ABSTRACT + "; the criterion is ours",
        requires=_text8_trained,
        evaluate=evaluate,
    )


def registry() -> list[Claim]:
    return [*(_ngram_sanity(n) for n in NGRAM_ORDERS), _capacity(), _bases(), _layers()]
