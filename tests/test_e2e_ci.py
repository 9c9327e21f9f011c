"""End to end: the ci preset through Snakemake, then the reproduction check.

Runs the whole DAG in a temporary working directory (about 2-3 minutes on 2 cores) and fails if
any claim that is checkable at the ci scale is not reproduced.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnatlas import states
from rnnatlas.models import load
from rnnatlas.models.lstm import one_hot_batch

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    work = tmp_path_factory.mktemp("ci_run")
    command = [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(ROOT / "Snakefile"),
        "--directory", str(work),
        "--configfile", str(ROOT / "workflow" / "presets" / "ci.yaml"),
        "--cores", str(min(2, os.cpu_count() or 1)),
        "--quiet",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        logs = "\n".join(p.read_text()[-2000:] for p in sorted((work / "logs").rglob("*.log")))
        pytest.fail(f"snakemake failed:\n{done.stderr[-4000:]}\n--- job logs ---\n{logs}")
    return work


def test_every_claim_checkable_at_ci_scale_is_reproduced(workdir):
    claims = json.loads((workdir / "results/report/claims.json").read_text())
    checked = [c for c in claims if c["verdict"] != "not checked at this scale"]
    assert len(checked) >= 10, "the ci preset must check a real set of claims"
    failures = [f"{c['id']}: paper {c['paper_value']}, ours {c['value']}" for c in checked
                if c["verdict"] != "reproduced"]  # fmt: skip
    assert not failures, "claims not reproduced at ci scale:\n" + "\n".join(failures)
    for claim in claims:
        assert claim["scale"] == "ci"
        if claim["verdict"] != "not checked at this scale":
            assert "ci" in claim["checkable_at"]


def test_report_and_figures_exist(workdir):
    page_file = workdir / "results/report/index.html"
    page = page_file.read_text()
    assert "csl.juven.esn.valid_error" in page and "data:image" not in page
    assert page_file.stat().st_size < 2_000_000  # the figures live beside it
    shown = re.findall(r"<img src='([^']+)'", page)
    assert len(shown) >= 30
    for source in shown:  # every figure the page shows is inside the report folder
        assert (page_file.parent / source).is_file(), source
    claims = json.loads((workdir / "results/report/claims.json").read_text())
    assert {c["kind"] for c in claims} == {"claim", "check"}
    assert {c["verdict"] for c in claims} <= {
        "reproduced",
        "not reproduced",
        "inconclusive",
        "not checked at this scale",
    }
    for name in ("errors_vs_objects", "esn_vs_units", "esn_vs_sentences", "learning_curves"):
        for ext in ("png", "svg"):
            assert (workdir / f"results/figures/csl/{name}.{ext}").stat().st_size > 1000


def test_card_counts_match_the_paper(workdir):
    card = json.loads((workdir / "results/data/csl-n4/card.json").read_text())
    assert (card["one_object_sentences"], card["two_object_sentences"]) == (688, 473_344)
    assert (card["concepts"], card["output_dim"], card["input_dim"]) == (11, 22, 20)
    assert card["splits"]["train"]["total"] == 1000


def test_dumped_states_follow_the_contract_and_reload(workdir):
    test_split = pd.read_parquet(workdir / "results/data/csl-n4/test.parquet")
    for model, names in (("esn", ["x"]), ("lstm", ["h0", "c0"])):
        path = workdir / f"results/states/csl-n4/{model}/seed0/test.parquet"
        meta = states.metadata(path)
        assert meta["states"] == names
        index, matrix = states.state_matrix(path, names[0])
        assert len(index) == int(test_split["length"].sum())
        # the dumped final-word prediction equals the saved model's output on that sentence
        module = load(workdir / f"results/models/csl-n4/{model}/seed0")
        frame = states.read(path, columns=["sequence_id", "t", "prediction"])
        first = frame[frame["sequence_id"] == test_split["sentence_id"].iloc[0]]
        inputs, _ = one_hot_batch([test_split["tokens"].iloc[0]], 20)
        if model == "esn":
            inputs = inputs.double()
        expected = module(inputs)[0].detach().numpy()
        got = pd.DataFrame(first["prediction"].tolist()).to_numpy()
        assert abs(got - expected).max() < 1e-5


def test_rssviz_tables_hold_the_numbers_behind_the_views(workdir):
    from rnnatlas.analysis.projection import clause_labels
    from rnnatlas.papers.csl.data import CSLGrammar
    from rnnatlas.papers.csl.metrics import csl_errors

    test_split = pd.read_parquet(workdir / "results/data/csl-n4/test.parquet")
    test_split = test_split.set_index("sentence_id")
    for model in ("esn", "lstm"):
        base = workdir / f"results/analysis/csl/rssviz/{model}"
        emb = pd.read_parquet(base / "embedding.parquet")
        metrics = json.loads((base / "metrics.json").read_text())
        fit = emb[emb["role"] == "fit"]
        sentences = fit[fit["sequence_id"] >= 0]
        assert sentences["sequence_id"].nunique() == 100  # csl.rssviz.sentences in ci.yaml
        assert int(sentences["final"].sum()) == 100
        assert metrics["unique_states"] == emb["unique_id"].nunique() < len(emb)
        assert (fit["t"] == -1).sum() == (1 if model == "lstm" else 0)  # LSTM initial state
        for _, words in list(sentences.groupby("sequence_id"))[:20]:
            assert words["clause"].tolist() == clause_labels(words["token"].tolist())
        # error classes against the exact/valid errors of the metric module (another code path)
        finals = sentences[sentences["final"]].set_index("sequence_id")
        labels = states.metadata(workdir / f"results/states/csl-n4/{model}/seed0/test.parquet")[
            "output_labels"
        ]
        errors = csl_errors(
            finals[labels].to_numpy(), test_split.loc[finals.index].reset_index(), CSLGrammar(4)
        )
        exact = (finals["error_class"] == 8).mean()
        valid = finals["error_class"].isin([4, 5, 7, 8]).mean()
        assert exact == pytest.approx(1 - errors["exact_error"])
        assert valid == pytest.approx(1 - errors["valid_error"])
        assert 0.5 < metrics["trustworthiness"] <= 1
        trajectory = emb[emb["role"] == "trajectory"]
        assert trajectory["token"].tolist()[1:-1] == (
            [
                "a",
                "green",
                "glass",
                "is",
                "on",
                "the",
                "left",
                "and",
                "that",
                "is",
                "a",
                "orange",
                "cup",
            ]
        )
        html = (workdir / f"results/figures/csl/rssviz/{model}.html").read_text()
        assert "<script src=" not in html and "vg-tooltip" in html


def test_training_animation_and_units(workdir):
    from PIL import Image

    esn = json.loads(
        (workdir / "results/analysis/csl/rssviz_training/esn/training.json").read_text()
    )
    # the online readout re-run frame by frame ends on the trained model's readout
    assert esn["final_readout_max_abs_diff"] < 1e-6
    assert esn["stages"] == [0, 100, 1000]
    lstm = json.loads(
        (workdir / "results/analysis/csl/rssviz_training/lstm/training.json").read_text()
    )
    assert lstm["stages"] == [0, 1, 3]  # epochs 0..3 saved in ci
    for model in ("esn", "lstm"):
        with Image.open(workdir / f"results/figures/csl/rssviz/{model}_training.gif") as gif:
            assert gif.n_frames == 3
        summary = json.loads(
            (workdir / f"results/analysis/csl/units/{model}/summary.json").read_text()
        )
        poly = pd.read_parquet(workdir / f"results/analysis/csl/units/{model}/polyvalent.parquet")
        assert summary["n_polyvalent"] == len(poly)
        assert (poly["lists"] >= 5).all()
    panels = pd.read_parquet(workdir / "results/analysis/csl/rssviz_hyper/panels.parquet")
    assert sorted(panels["spectral_radius"]) == [0.5, 1.1]
    page = (workdir / "results/report/index.html").read_text()
    assert "csl.rssviz.lstm.trustworthiness" in page and "(animated GIF)" in page
    assert (workdir / "results/report/csl/figures/csl/rssviz/esn_training.gif").is_file()


def test_sequential_mnist_tables(workdir):
    variants = pd.read_parquet(workdir / "results/experiments/mnist/variants.parquet")
    assert len(variants) == 2 * 3 * 29  # 2 networks in ci.yaml, 3 variants, n = 0..28
    full = variants.set_index(["seed", "variant", "n"])["accuracy"]
    for seed in (0, 1):
        # the same 28 rows read out at 28, whichever variant names them
        assert full[(seed, "hidden", 28)] == full[(seed, "cut", 28)] == full[(seed, "extended", 0)]
        assert full[(seed, "hidden", 28)] > 0.5  # two epochs already learn most digits
    separability = pd.read_parquet(workdir / "results/analysis/mnist/tsne/separability.parquet")
    assert separability["step"].tolist() == [6, 27, 55]
    path = workdir / "results/states/mnist-5k/rnn/seed0/test.parquet"
    index, matrix = states.state_matrix(path, "h0")
    assert matrix.shape[1] == 200 and index.groupby("sequence_id").size().unique().tolist() == [56]
    claims = {c["id"]: c for c in json.loads((workdir / "results/report/claims.json").read_text())}
    assert claims["mnist.order.length_over_information"]["verdict"] == "not checked at this scale"
    page = (workdir / "results/report/index.html").read_text()
    assert "sequential MNIST" in page


def test_sequential_mnist_dynamics(workdir):
    """ci.yaml: 2 networks x checkpoints [0, 1, 2], 4 initial conditions, 2 exponents; 300
    digits run 600 steps; dimension every 4th step."""
    from rnnatlas.analysis.lyapunov import lyapunov_spectrum, rnn_autonomous_map
    from rnnatlas.models import load as load_model
    from rnnatlas.papers.mnist.dynamics import read_dynamics, row28_states
    from rnnatlas.papers.mnist.steps import read_split

    folders = [workdir / f"results/analysis/mnist/dynamics/seed{seed}" for seed in (0, 1)]
    tables = read_dynamics(folders)
    lyapunov = tables["lyapunov"]
    assert sorted(lyapunov["epoch"].unique()) == [0, 1, 2] and len(lyapunov) == 2 * 3 * 4
    assert (lyapunov["lambda_max"] >= lyapunov["lambda_2"]).all()
    # recompute one row: the untrained network 1 from its first test digit's row-28 state
    model_dir = workdir / "results/models/mnist-5k/rnn/seed1"
    model = load_model(model_dir / "checkpoints/epoch000.pt")
    _, labels, images = read_split(workdir / "results/data/mnist-5k", "test")
    again = lyapunov_spectrum(
        rnn_autonomous_map(*model.recurrent_weights()),
        row28_states(model, images[:4]),
        200,
        transient=50,
        k=2,
    )
    row = lyapunov.query("seed == 1 and epoch == 0").sort_values("initial")
    np.testing.assert_allclose(row["lambda_max"], again.exponents[:, 0], atol=1e-9)
    assert (row["digit"].to_numpy() == labels[:4]).all()
    # an untrained torch RNN (weights within ±1/sqrt(200)) contracts
    assert (row["lambda_max"] < 0).all()
    attractors = tables["attractors"]
    assert len(attractors) == 2 * 300 and set(attractors["set"]) >= {0}
    sets = tables["sets"]
    assert sets.groupby("seed")["trajectories"].sum().tolist() == [300, 300]
    phase = tables["phase"]
    assert sorted(phase["t"].unique()) == [0, 28, 600]
    assert ((phase["phase_accuracy"] >= 0) & (phase["phase_accuracy"] <= 1)).all()
    dimension = pd.read_parquet(workdir / "results/analysis/mnist/dimension.parquet")
    assert sorted(dimension["t"].unique()) == [*range(0, 56, 4), 55]
    assert set(dimension["method"]) == {"participation_ratio", "twonn"}
    claims = {c["id"]: c for c in json.loads((workdir / "results/report/claims.json").read_text())}
    for claim in ("mnist.lyapunov.zero_after_training", "mnist.attractors.two_limit_cycles"):
        assert claims[claim]["verdict"] == "not checked at this scale"  # 2 epochs
    page = (workdir / "results/report/index.html").read_text()
    assert "Autonomous dynamics" in page and "digit from phase" in page
    for name in ("lyapunov", "attractors", "attractors_all", "dimension", "phase"):
        assert (workdir / f"results/figures/mnist/{name}.png").stat().st_size > 10_000


def test_text8_autocomplete(workdir):
    """ci.yaml: the excerpt's first 300k characters, 3 models of 16 units, 6 steps."""
    import torch

    from rnnatlas.papers.text8.connectivity import PAPER_TEXT, text_inputs
    from rnnatlas.papers.text8.dataset import read_card

    data = next((workdir / "results/data").glob("enwiki-excerpt-v*"))
    card = read_card(data / "card.json")
    assert card["characters"] <= 300_000 and len(card["vocabulary"]) == 2**10 + 2
    tests = pd.concat(
        pd.read_parquet(workdir / f"results/experiments/text8/{cell}/seed0/test_metrics.parquet")
        for cell in ("gru", "lstm", "nlstm")
    )
    assert tests["sequences"].tolist() == [40, 40, 40]
    # 6 steps from a uniform start: the loss is still near log(classes)
    assert (tests["cross_entropy"] < np.log(2**10 + 2) + 0.5).all()
    # connectivity: recompute the gradient of the target logit at one output step by autograd
    table = pd.read_parquet(workdir / "results/analysis/text8/connectivity.parquet")
    model = load(data.parent.parent / f"models/{data.name}/gru/seed0")
    symbols, targets, fed = text_inputs(PAPER_TEXT, card["vocabulary"])
    out = 30
    one_hot = torch.nn.functional.one_hot(torch.as_tensor(symbols), 28).float().requires_grad_()
    embedded = one_hot @ model.embedding.weight
    logit = model.logits_from_embeddings(embedded[None])[0, out, targets[out]]
    (gradient,) = torch.autograd.grad(logit, one_hot)
    expected = gradient.square().sum(-1)[: out + 1].numpy()  # squared norm, the default
    row = table.query("model == 'gru' and t_out == @out").sort_values("t_in")["value"]
    np.testing.assert_allclose(row.to_numpy(), expected, rtol=1e-4, atol=1e-12)
    assert table.groupby("model").size().tolist() == [len(fed) * (len(fed) + 1) // 2] * 3
    page = (workdir / "results/figures/text8/connectivity_explorer.html").read_text()
    assert "<script src" not in page and "http://" not in page
    demo = pd.read_parquet(workdir / "results/analysis/text8/demo.parquet")
    assert set(demo["model"]) == {"gru", "lstm", "nlstm"}
    claims = {c["id"]: c for c in json.loads((workdir / "results/report/claims.json").read_text())}
    assert claims["text8.test.ordering"]["verdict"] == "not checked at this scale"
    assert "text8" in (workdir / "results/report/index.html").read_text()


def test_memory_signatures(workdir):
    """ci.yaml: lags 0..4, 1,500 samples; every model family; the n-gram control; capacity."""
    memory = workdir / "results/analysis/memory"
    tables = {p.relative_to(memory).with_suffix("").as_posix(): pd.read_parquet(p)
              for p in memory.glob("*/*.parquet")}  # fmt: skip
    assert sorted(tables) == [
        "csl/esn", "csl/lstm", "mnist/lowrank", "mnist/rnn", "text8/gru", "text8/lstm",
        "text8/ngram3", "text8/ngram5", "text8/nlstm",
    ]  # fmt: skip
    for name, table in tables.items():
        assert sorted(table["lag"].unique()) == [0, 1, 2, 3, 4], name
    assert set(tables["text8/nlstm"]["state"]) == {"h0", "c0", "c0_inner"}
    assert set(tables["mnist/lowrank"]["state"]) == {"h0", "u_coords", "v_coords"}
    # the 3-gram's window holds the inputs at t and t - 1: read perfectly, wherever it is
    control = tables["text8/ngram3"].query("model == 'ngram3_shuffled'").set_index("lag")
    assert control.loc[0, "accuracy"] == control.loc[1, "accuracy"] == 1.0
    assert (control["n_train"] + control["n_test"] <= 1500).all()  # memory.max_samples
    capacity = json.loads((memory / "capacity.json").read_text())
    assert abs(capacity["ours"] - capacity["reservoirpy"]) <= 1e-3 * capacity["reservoirpy"]
    claims = {c["id"]: c for c in json.loads((workdir / "results/report/claims.json").read_text())}
    assert claims["memory.capacity.reservoirpy_agreement"]["verdict"] == "reproduced"
    # n-gram versus recurrent is an observation of the section, not a claim
    assert "memory.order.ngram_vs_recurrent" not in claims
    for name in ("memory_csl", "memory_mnist", "memory_text8", "memory_ngram", "memory_lowrank"):
        assert (workdir / f"results/figures/memory/{name}.png").stat().st_size > 10_000


def test_a_changed_corpus_seed_trains_afresh_and_changing_it_back_resumes(workdir, tmp_path):
    """Runs last: it retrains one LSTM of the finished run on another corpus, then goes back.

    The resumable state is keyed by model, settings, seed and training data: after a finished
    run, a new csl.corpus.seed must train afresh (it used to refuse: "holds a different run"),
    and the old seed must find its run again."""
    import torch

    target = "results/models/csl-n4/lstm/seed0/model.pt"
    before = torch.load(workdir / target, weights_only=True)
    other_seed = tmp_path / "seed.yaml"
    other_seed.write_text("csl:\n  corpus:\n    seed: 7\n")

    def rerun(*configfiles):
        command = [
            sys.executable, "-m", "snakemake", target, "--snakefile", str(ROOT / "Snakefile"),
            "--directory", str(workdir), "--cores", "1", "--quiet",
            "--configfile", str(ROOT / "workflow" / "presets" / "ci.yaml"), *map(str, configfiles),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        log = (workdir / "logs/train/csl-n4/lstm/seed0.log").read_text()
        assert done.returncode == 0, done.stderr[-3000:] + log[-2000:]
        return torch.load(workdir / target, weights_only=True), log

    other, log = rerun(other_seed)
    runs = sorted((workdir / "results/resume/csl-n4/lstm/seed0").glob("run-*"))
    assert len(runs) == 2 and "resuming" not in log
    assert any(not torch.equal(other[k], before[k]) for k in before)
    again, log = rerun()
    assert "resuming training" in log
    assert all(torch.equal(again[k], before[k]) for k in before)
