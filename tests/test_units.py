"""Internal-units analyses (Variengien & Hinaut 2020) against hand-worked cases, and one run of
the units step on a tiny corpus and model."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from rnnatlas.analysis.units import (
    abs_delta,
    delta_per_word,
    emphasis_test,
    emphasised_units,
    most_connected,
    output_activations,
    polyvalent_units,
    readout_weights,
    top_units,
    unit_separability,
    winglet,
)
from rnnatlas.papers.csl.data import CSLGrammar

# 3 outputs x 8 units, with ties
W_SMALL = np.array(
    [
        [0.5, -1.0, 2.0, 0.0, -3.0, 2.0, 0.1, -0.2],
        [1.0, 1.0, 1.0, -0.5, -0.5, 0.3, 0.0, -2.0],
        [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0],
    ]
)


def _list(top, output, sign):
    rows = top[(top["output"] == output) & (top["sign"] == sign)].sort_values("rank")
    return rows["unit"].tolist(), rows["weight"].tolist()


def test_top_units_by_hand_with_ties():
    top = top_units(W_SMALL, k=2)
    assert list(top.columns) == ["output", "sign", "rank", "unit", "weight"]
    assert len(top) == 3 * 2 * 2
    # output 0: 2.0 at units 2 and 5 (tie: lower index first); most negative -3 (4) then -1 (1)
    assert _list(top, 0, "positive") == ([2, 5], [2.0, 2.0])
    assert _list(top, 0, "negative") == ([4, 1], [-3.0, -1.0])
    # output 1: three-way tie at 1.0 keeps units 0 and 1; -0.5 tie between 3 and 4 keeps 3
    assert _list(top, 1, "positive") == ([0, 1], [1.0, 1.0])
    assert _list(top, 1, "negative") == ([7, 3], [-2.0, -0.5])
    # output 2 has no positive weight: its "positive" list holds the largest (least negative)
    assert _list(top, 2, "positive") == ([0, 1], [-1.0, -2.0])
    assert _list(top, 2, "negative") == ([7, 6], [-8.0, -7.0])
    assert len(top_units(W_SMALL, k=50)) == 3 * 2 * 8  # k clipped to the number of units
    with pytest.raises(ValueError, match="k must be"):
        top_units(W_SMALL, k=0)


def _polyvalent_matrix():
    """6 outputs x 10 units, k=2: unit 7 is the most negative of every output (6 lists), unit 3
    the most positive of outputs 0-4 (5 lists), unit 2 the second of outputs 0-3 (4 lists).

    The background 0.01 * ((u + o) % 10) puts a different unit at each row's extremes, so no
    other unit reaches 3 lists.
    """
    outputs, units = 6, 10
    o, u = np.meshgrid(np.arange(outputs), np.arange(units), indexing="ij")
    W = 0.01 * ((u + o) % units)
    W[:, 7] = -5.0
    W[:5, 3] = 5.0
    W[:4, 2] = 4.0
    W[5, 2], W[5, 3] = 0.035, 0.045  # mid-row on output 5: in none of its lists
    return W


def test_polyvalent_units_of_a_hand_made_matrix():
    top = top_units(_polyvalent_matrix(), k=2)
    poly = polyvalent_units(top, min_lists=5)
    assert poly["unit"].tolist() == [7, 3]
    assert poly["lists"].tolist() == [6, 5]
    assert poly.loc[1, "outputs"] == "0+,1+,2+,3+,4+"
    assert poly.loc[0, "outputs"] == "0-,1-,2-,3-,4-,5-"
    four = polyvalent_units(top, min_lists=4)
    assert four["unit"].tolist() == [7, 3, 2]
    assert polyvalent_units(top, min_lists=3)["unit"].tolist() == [7, 3, 2]
    # sorted by count descending, then unit
    tied = polyvalent_units(top_units(W_SMALL, k=2), min_lists=2)
    assert tied["unit"].tolist() == [1, 0, 7]  # 1: 0-, 1+, 2+; then 0 and 7 with 2 lists
    assert tied["lists"].tolist() == [3, 2, 2]
    assert polyvalent_units(top, min_lists=99).empty


def test_winglet_is_abs_sorted_descending_per_output():
    table = winglet(W_SMALL)
    assert list(table.columns) == ["output", "rank", "abs_weight"]
    assert len(table) == 24
    row0 = table[table["output"] == 0].sort_values("rank")["abs_weight"].tolist()
    assert row0 == [3.0, 2.0, 2.0, 1.0, 0.5, 0.2, 0.1, 0.0]
    row2 = table[table["output"] == 2].sort_values("rank")["abs_weight"].tolist()
    assert row2 == [8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]


def test_most_connected():
    assert most_connected(W_SMALL, 0, k=3).tolist() == [4, 2, 5]  # |-3| first; 2.0 tie by index
    assert most_connected(W_SMALL, 1, k=4).tolist() == [7, 0, 1, 2]
    assert most_connected(W_SMALL, 2).tolist() == [7, 6, 5, 4, 3, 2, 1, 0]  # k > units
    with pytest.raises(ValueError, match="out of range"):
        most_connected(W_SMALL, 3)


def test_emphasised_units_sum_abs_weights_over_outputs():
    W = np.array([[0.0, 5.0, 0.0, 1.0, -2.0], [0.0, -5.0, 1.0, 0.0, 2.5]])
    # summed |W| per unit: 0, 10, 1, 1, 4.5 -> units 1, 4, then 2 before 3 (a stable tie)
    assert emphasised_units(W, 4).tolist() == [1, 4, 2, 3]


def test_unit_separability_by_hand():
    labels = np.array([0, 0, 1, 1])
    matrix = np.array(
        [[1.0, 0.0, 5.0, 7.0], [3.0, 0.0, 5.0, 7.0], [2.0, 1.0, 5.0, 1.0], [4.0, 1.0, 5.0, 1.0]]
    )
    # unit 0: class-1 values (2, 4) beat class-0 values (1, 3) in 3 of 4 pairs: AUC 0.75 -> 0.5;
    # unit 1 separates perfectly (AUC 1), unit 2 not at all (all ties: AUC 0.5), unit 3
    # perfectly the other way round (AUC 0 -> 1)
    assert unit_separability(matrix, labels).tolist() == [0.5, 1.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="two classes"):
        unit_separability(matrix, np.zeros(4))


def _labelled_states(carriers, signal, units=12, rows=2000, seed=0):
    """States whose `carriers` units hold a 0/1 label (+-signal plus unit normal noise) and the
    others noise only."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, rows)
    matrix = rng.normal(size=(rows, units))
    matrix[:, carriers] += signal * (2 * labels[:, None] - 1)
    return matrix, labels


def test_emphasis_test_tells_emphasised_carriers_from_emphasised_noise():
    from scipy.stats import norm

    # a carrier at +-1 sd: AUC = Phi(2 / sqrt 2) = 0.921, separability 2 (0.921 - 0.5) = 0.843
    expected = 2 * (norm.cdf(2 / np.sqrt(2)) - 0.5)
    matrix, labels = _labelled_states([0, 1], signal=1.0)
    W = np.ones((3, 12))
    W[:, [0, 1]] = 10.0  # the readout weighs the carriers most
    result = emphasis_test(W, matrix, labels, k=2, draws=2000)
    assert result["units"] == [0, 1] and abs(result["emphasised"] - expected) < 0.04
    # a random set's mean averages, over the draws, to the mean over all 12 units; a noise
    # unit's |2 (AUC - 0.5)| has mean 2 * 0.798 * SE(AUC), SE = sqrt(2001 / (12 * 1000^2))
    noise = 2 * 0.798 * np.sqrt(2001 / 12e6)
    assert abs(result["random_mean"] - (2 * expected + 10 * noise) / 12) < 0.01
    assert result["percentile"] > 0.98 and result["spearman"] > 0.3
    W = np.ones((3, 12))
    W[:, [6, 7]] = 10.0  # the readout weighs two noise units most
    result = emphasis_test(W, matrix, labels, k=2, draws=2000)
    assert result["emphasised"] < 0.1 and result["percentile"] < 0.7


def test_abs_delta_by_hand():
    states = np.array([[1.0, -2.0], [3.0, -2.0], [0.0, 1.0]])
    # zero initial state: the first row is |x_0|
    np.testing.assert_array_equal(abs_delta(states), [[1, 2], [2, 0], [3, 3]])
    np.testing.assert_array_equal(abs_delta(states, initial=[1.0, 1.0]), [[0, 3], [2, 0], [3, 3]])
    with pytest.raises(ValueError, match="initial"):
        abs_delta(states, initial=[0.0])


def test_delta_per_word_by_hand():
    # sequence 10 (3 words), then sequence 5 with its rows out of order, then sequence 99
    frame = pd.DataFrame(
        {
            "sequence_id": [10, 10, 10, 5, 5, 99],
            "t": [0, 1, 2, 1, 0, 0],
            "token": ["BEGIN", "a", "END", "END", "BEGIN", "BEGIN"],
        }
    )
    states = np.array(
        [
            [1.0, 100.0, 2.0],  # 10/t0: |1| + |2| = 3 (unit 1 is not chosen)
            [0.0, 100.0, 4.0],  # 10/t1: 1 + 2 = 3
            [2.0, 0.0, 4.0],  # 10/t2: 2 + 0 = 2
            [-1.0, 7.0, 3.0],  # 5/t1: 0 + 3 = 3
            [-1.0, 7.0, 0.0],  # 5/t0: 1 + 0 = 1
            [50.0, 0.0, 50.0],  # 99/t0: 100, beyond sentences=2
        ]
    )
    stats = delta_per_word(frame, states, [0, 2], sentences=2).set_index("token")
    assert list(stats.index) == ["BEGIN", "a", "END"]
    assert stats.loc["BEGIN", "mean"] == pytest.approx(2.0)  # (3 + 1) / 2
    assert stats.loc["BEGIN", "sd"] == pytest.approx(1.0)  # population sd
    assert stats.loc["a", ["mean", "sd", "count"]].tolist() == [3.0, 0.0, 1]
    assert stats.loc["END", "mean"] == pytest.approx(2.5)
    assert stats.loc["END", "sd"] == pytest.approx(0.5)
    everything = delta_per_word(frame, states, [0, 2], sentences=None).set_index("token")
    assert everything.loc["BEGIN", "count"] == 3
    assert everything.loc["BEGIN", "mean"] == pytest.approx((3 + 1 + 100) / 3)


def test_output_activations_long_table():
    grammar = CSLGrammar(4)
    outputs = np.arange(3 * 22, dtype=float).reshape(3, 22)
    table = output_activations(outputs, grammar.output_labels(), tokens=["BEGIN", "a", "END"])
    assert list(table.columns) == ["t", "token", "slot", "group", "concept", "activation"]
    assert len(table) == 3 * 22
    assert set(table["group"]) == {"object", "position", "color"}
    assert table.groupby(["slot", "group"]).size().to_dict() == {
        (s, g): n for s in (0, 1) for g, n in (("object", 12), ("position", 9), ("color", 12))
    }
    blue = table[(table["t"] == 1) & (table["slot"] == 1) & (table["group"] == "color")]
    blue = blue[blue["concept"] == "blue"]
    assert blue["activation"].item() == outputs[1, grammar.group_slice(1, "color").start + 3]
    assert blue["token"].item() == "a"
    strings = [f"slot{s}:{g}:{c}" for s, g, c in grammar.output_labels()]
    same = output_activations(outputs, strings)
    pd.testing.assert_frame_equal(same, table.drop(columns="token"))
    with pytest.raises(ValueError, match="labels"):
        output_activations(outputs[:, :5], strings)


def test_readout_weights_exclude_the_bias():
    from rnnatlas.models.esn import ESN, ESNConfig, ReservoirWeights, build_reservoir
    from rnnatlas.models.lstm import SequenceLSTM

    weights = ReservoirWeights.from_reservoir(build_reservoir(ESNConfig(units=10, seed=0), 5))
    esn = ESN(weights, output_dim=3)
    Wout = np.random.default_rng(0).normal(size=(11, 3))
    Wout[0] = 99.0  # the bias row
    esn.set_readout(Wout)
    W = readout_weights(esn)
    assert W.shape == (3, 10)
    np.testing.assert_array_equal(W, Wout[1:].T)
    assert not np.any(W == 99.0)

    lstm = SequenceLSTM(5, 3, units=4)
    with torch.no_grad():
        lstm.readout.bias.fill_(99.0)
    W = readout_weights(lstm)
    assert W.shape == (3, 4)
    np.testing.assert_allclose(W, lstm.readout.weight.detach().numpy())
    assert not np.any(W == 99.0)
    with pytest.raises(TypeError):
        readout_weights(torch.nn.Linear(2, 2))


# --- the step on a tiny corpus and model ----------------------------------------------------


def corpus_files(folder):
    """The files of a corpus in `folder`, named as the rules name them."""
    return {
        "train": folder / "train.parquet",
        "validation": folder / "validation.parquet",
        "test": folder / "test.parquet",
        "card": folder / "card.json",
    }


def model_files(folder):
    return {"model": folder / "model.pt", "model_card": folder / "model.json"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 3-object corpus (10 + 10 test sentences), a 30-unit ESN with a random readout and a
    6-unit LSTM, with their test states (corpus and states made by the rules' step functions)."""
    from rnnatlas.models import save
    from rnnatlas.models.esn import ESN, ESNConfig, ReservoirWeights, build_reservoir
    from rnnatlas.models.lstm import SequenceLSTM
    from rnnatlas.step import make_job, run_job

    root = tmp_path_factory.mktemp("units")
    corpus = corpus_files(root / "data")
    spec = {"n_objects": 3, "center": False, "seed": 0, "train": [10, 10], "test": [10, 10],
            "validation": [2, 2], "protocol": "variengien", "totals": [1000, 1000]}  # fmt: skip
    run_job(make_job("csl_corpus", output=corpus, params={"corpus": spec}))
    card = json.loads(corpus["card"].read_text())
    input_dim, output_dim = card["input_dim"], card["output_dim"]
    reservoir = build_reservoir(ESNConfig(units=30, seed=1), input_dim)
    esn = ESN(ReservoirWeights.from_reservoir(reservoir), output_dim, ESNConfig(units=30, seed=1))
    esn.set_readout(np.random.default_rng(2).normal(size=(31, output_dim)))
    torch.manual_seed(0)
    models = {"esn": esn, "lstm": SequenceLSTM(input_dim, output_dim, units=6)}
    for kind, module in models.items():
        model = model_files(root / "models" / kind)
        hyper = module.hyperparameters()
        save(module, model["model"], model["model_card"],
                     {"kind": kind, "name": kind, "seed": 0, "hyperparameters": hyper})  # fmt: skip
        states = root / "states" / kind / "test.parquet"
        run_job(make_job("csl_states", input={**corpus, **model}, output=[states]))
    return root


@pytest.mark.parametrize("kind", ["esn", "lstm"])
def test_states_step_writes_the_models_own_states(tiny, kind):
    from rnnatlas.models import load
    from rnnatlas.models.lstm import one_hot_batch
    from rnnatlas.states import metadata, state_matrix

    path = tiny / "states" / kind / "test.parquet"
    test = pd.read_parquet(tiny / "data" / "test.parquet")
    state = "x" if kind == "esn" else "c0"
    index, matrix = state_matrix(path, state)
    assert index["sequence_id"].nunique() == len(test) == 20
    assert metadata(path)["kind"] == kind and metadata(path)["split"] == "test"
    model = load(tiny / "models" / kind / "model.pt")
    row = test.iloc[13]
    tokens = np.asarray(row["tokens"], dtype=np.int64)
    inputs, _ = one_hot_batch([tokens], len(CSLGrammar(3).vocabulary))
    if kind == "esn":
        inputs = inputs.double()
    with torch.no_grad():
        expected = model.states(inputs)[state][0].numpy()
    mine = matrix[(index["sequence_id"] == row["sentence_id"]).to_numpy()]
    assert mine.shape == (len(tokens), expected.shape[1])
    np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)


UNITS_SENTENCE = "a green glass is on the left and that is a orange cup"  # BEGIN/END added


@pytest.mark.parametrize("kind", ["esn", "lstm"])
def test_units_step_on_a_tiny_model(tiny, kind):
    from rnnatlas.analysis.projection import sample_sequences
    from rnnatlas.models import load
    from rnnatlas.papers.csl.units import FIGURES, TABLES, run_sentence, units_step
    from rnnatlas.states import state_matrix
    from rnnatlas.step import make_job, run_job

    model_dir, states_path = tiny / "models" / kind, tiny / "states" / kind / "test.parquet"
    tables = tiny / "out" / kind / "tables"
    figures = tiny / "out" / kind / "figures" if kind == "esn" else None  # drawing costs ~4 s
    out = {name: tables / f"{name}.parquet" for name in TABLES}
    if kind == "esn":  # through the rule's step function, as Snakemake runs it
        units = {"sentence": UNITS_SENTENCE, "top_k": 5, "polyvalent_min": 5,
                 "connected_output": 0, "connected_k": 4, "delta_sentences": 5}  # fmt: skip
        job = make_job(
            "csl_units",
            input={**corpus_files(tiny / "data"), **model_files(model_dir), "states": states_path},
            output={
                "summary": tables / "summary.json",
                "tables": list(out.values()),
                "png": [figures / f"{name}.png" for name in FIGURES],
                "svg": [figures / f"{name}.svg" for name in FIGURES],
            },
            params={"rss": {"random_state": 42}, "state": "x", "units": units},
        )
        run_job(job)
        summary = json.loads((tables / "summary.json").read_text())
    else:
        summary = units_step(
            model_dir / "model.pt",
            model_dir / "model.json",
            corpus_files(tiny / "data"),
            states_path,
            {**out, "summary": tables / "summary.json"},
            figures,
            UNITS_SENTENCE,
            connected_k=4,
            delta_sentences=5,
        )
    assert summary["model_dir"] == str(model_dir)
    for name in TABLES:
        assert (tables / f"{name}.parquet").exists()
    if figures is not None:
        for name in FIGURES:
            for ext in ("png", "svg"):
                assert (figures / f"{name}.{ext}").stat().st_size > 1000
    else:
        assert not (tiny / "out" / kind / "figures").exists()
    assert json.loads((tables / "summary.json").read_text()) == summary
    assert summary["sentence"].split()[0] == "BEGIN" and summary["sentence"].endswith("END")

    model = load(model_dir)
    W = readout_weights(model)
    expected = polyvalent_units(top_units(W, 5), 5)
    written = pd.read_parquet(tables / "polyvalent.parquet")
    pd.testing.assert_frame_equal(written, expected)
    assert summary["n_polyvalent"] == len(expected) > 0

    state = "x" if kind == "esn" else "c0"
    connected = most_connected(W, 0, 4)
    assert summary["connected_units"] == connected.tolist()
    index, matrix = state_matrix(states_path, state)
    sampled = sample_sequences(index["sequence_id"], 5, seed=42)  # units_step's default seed
    assert summary["delta_sentences"] == 5
    # the structure test ran on this model's states, or says why not
    structure = summary["structure"]
    assert "skipped" in structure or structure["k"] == 5 and 0 <= structure["percentile"] <= 1
    keep = index["sequence_id"].isin(set(sampled)).to_numpy()
    index, matrix = index[keep].reset_index(drop=True), matrix[keep]
    stats = delta_per_word(index, matrix, connected, None).set_index("token")
    written = pd.read_parquet(tables / "connected_deltas.parquet").set_index("token")
    pd.testing.assert_frame_equal(written.loc[stats.index], stats)

    # sentence deltas: |Δ| of the model's own states over the sentence, from the zero state
    grammar = CSLGrammar(3)
    tokens = grammar.encode(summary["sentence"])
    recorded, outputs = run_sentence(model, kind, tokens, len(grammar.vocabulary))
    deltas = pd.read_parquet(tables / "sentence_deltas.parquet")
    shown = expected["unit"].tolist() if kind == "esn" else list(range(6))
    assert sorted(deltas["unit"].unique()) == sorted(shown)
    unit = shown[0]
    mine = deltas[deltas["unit"] == unit].sort_values("t")
    np.testing.assert_allclose(mine["abs_delta"], abs_delta(recorded[state][:, [unit]])[:, 0])
    assert mine["token"].tolist() == summary["sentence"].split()
    activations = pd.read_parquet(tables / "output_activations.parquet")
    last = activations[activations["t"] == len(tokens) - 1]["activation"].to_numpy()
    np.testing.assert_allclose(last, outputs[-1])


def test_units_step_names_an_unknown_word(tiny):
    from rnnatlas.papers.csl.units import TABLES, units_step

    model = model_files(tiny / "models" / "esn")
    with pytest.raises(ValueError, match="'spoon'"):
        units_step(
            model["model"],
            model["model_card"],
            corpus_files(tiny / "data"),
            tiny / "states" / "esn" / "test.parquet",
            {name: tiny / "bad" / f"{name}.parquet" for name in (*TABLES, "summary")},
            tiny / "bad",
            "BEGIN a green spoon is on the left END",
        )
