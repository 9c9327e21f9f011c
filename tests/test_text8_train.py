"""text8 autocomplete steps on a tiny hand-built data set: training resumes bit-identically,
outputs load, evaluation equals a batch-1 reference, states and the demo are right."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
import torch.nn.functional as F

from rnnatlas import states
from rnnatlas.models import load
from rnnatlas.models.autocomplete import AutocompleteModel
from rnnatlas.papers.text8 import train as text8_train
from rnnatlas.papers.text8.dataset import read_card, read_split
from rnnatlas.papers.text8.train import (
    TrainingStopped,
    autocomplete_demo,
    check_spec,
    evaluate_step,
    states_step,
    train_step,
)

pytestmark = pytest.mark.usefixtures("restore_torch_globals")

SYMBOLS = ["<eos>", " ", *map(chr, range(ord("a"), ord("z") + 1))]
WORDS = ["the", "of", "and", "cat", "sat", "on", "mat", "a", "dog", "ran", "to", "big", "red"]
VOCABULARY = ["<eos>", "<unknown>", *WORDS[:8]]  # the rest become <unknown>
MAX_CHARS = 24
SPEC = {
    "kind": "gru",
    "units": 6,
    "steps": 6,
    "batch": 8,
    "eval_every": 2,
    "eval_batches": 1,
    "checkpoint_steps": [3],
}


def encode(words: list[str]) -> tuple[list[int], list[int]]:
    """Each word: source " " + letters, target its id repeated (the text8 data format)."""
    source, target = [], []
    for word in words:
        word_id = VOCABULARY.index(word) if word in VOCABULARY else 1
        source += [1] + [SYMBOLS.index(letter) for letter in word]
        target += [word_id] * (len(word) + 1)
    return source, target


def observations(count: int, rng: np.random.Generator) -> list[tuple[list[int], list[int]]]:
    """Words drawn at random and packed greedily into sequences of at most MAX_CHARS."""
    result, current = [], []
    while len(result) < count:
        word = WORDS[rng.integers(len(WORDS))]
        if current and len(" ".join(current)) + 2 + len(word) > MAX_CHARS:
            result.append(encode(current))
            current = []
        current.append(word)
    return result


def write_split(path, rows, first_id):
    source, target = zip(*rows, strict=True)
    table = pa.table(
        {
            "observation_id": pa.array(np.arange(first_id, first_id + len(rows)), pa.int64()),
            "source": pa.array(source, type=pa.list_(pa.int8())),
            "target": pa.array(target, type=pa.list_(pa.int32())),
            "length": pa.array([len(s) for s in source], type=pa.int32()),
        }
    )
    pq.write_table(table, path)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("text8")
    rng = np.random.default_rng(7)
    for index, (split, count) in enumerate([("train", 40), ("valid", 8), ("test", 8)]):
        write_split(directory / f"{split}.parquet", observations(count, rng), 1000 * index)
    card = {
        "dataset": "text8-fixture",
        "vocabulary": VOCABULARY,
        "symbols": SYMBOLS,
        "vocabulary_bits": 3,
    }
    (directory / "card.json").write_text(json.dumps(card))
    return directory


def data_files(data_dir):
    """The data files train_step reads, as the text8_train rule names them."""
    return {
        "train": data_dir / "train.parquet",
        "valid": data_dir / "valid.parquet",
        "card": data_dir / "card.json",
    }


def model_files(out_dir):
    """The files train_step writes, as the text8_train rule names them."""
    return {
        "model": out_dir / "model.pt",
        "card": out_dir / "model.json",
        "history": out_dir / "history.parquet",
        "metrics": out_dir / "metrics.json",
        "checkpoints": out_dir / "checkpoints",
    }


def split(data_dir, name):
    return read_split(data_dir / f"{name}.parquet", read_card(data_dir / "card.json"))


def train(data_dir, out_dir, resume_dir, spec=SPEC, **options):
    return train_step(
        data_files(data_dir), model_files(out_dir), spec, seed=3, resume_dir=resume_dir,
        progress=False, **options,
    )  # fmt: skip


@pytest.fixture(scope="module")
def trained(data_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("trained")
    # restore_torch_globals is per test: undo this module-wide training's global settings here
    deterministic, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    try:
        with torch.random.fork_rng():
            metrics = train(data_dir, root / "out", root / "resume")
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(threads)
    return {"out": root / "out", "resume": root / "resume", "metrics": metrics}


def weights(out_dir):
    return torch.load(out_dir / "model.pt", weights_only=True)


def assert_same_state(state, reference):
    assert state.keys() == reference.keys()
    for name, tensor in state.items():
        assert torch.equal(tensor, reference[name]), name


# ---- training -------------------------------------------------------------------------------


def test_outputs(trained):
    out = trained["out"]
    history = pd.read_parquet(out / "history.parquet")
    assert list(history.columns) == ["step", "train_loss", "valid_loss", "seconds"]
    assert history["step"].tolist() == [2, 4, 6]
    assert history["seconds"].is_monotonic_increasing
    assert np.isfinite(history[["train_loss", "valid_loss"]].to_numpy()).all()
    card = json.loads((out / "model.json").read_text())
    assert (card["kind"], card["cell"], card["hyperparameters"]["classes"]) == (
        "autocomplete",
        "gru",
        len(VOCABULARY),
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["valid_loss"] == pytest.approx(history["valid_loss"].iloc[-1])
    assert metrics["epochs"] == pytest.approx(6 * 8 / 40)
    # GRU, TF convention: 2 layers x (3 * 6 * 12 + 18), embedding 27 x 6, dense 6 x 10 + 10
    assert metrics["parameters"] == {
        "embedding": 162,
        "recurrent": 2 * 234,
        "dense": 70,
        "total": 700,
    }
    saved = sorted(path.name for path in (out / "checkpoints").glob("*.pt"))
    assert saved == ["step0000000.pt", "step0000003.pt", "step0000006.pt"]
    assert_same_state(
        torch.load(out / "checkpoints/step0000006.pt", weights_only=True), weights(out)
    )
    model = load(out)
    assert isinstance(model, AutocompleteModel)
    assert metrics["characters_per_second"] > 0
    step3 = load(out / "checkpoints/step0000003.pt")  # beside checkpoints/model.json
    assert_same_state(
        step3.state_dict(), torch.load(out / "checkpoints/step0000003.pt", weights_only=True)
    )


def test_checkpoint_zero_is_the_untrained_model(trained, data_dir):
    torch.manual_seed(3)  # train_step seeds with its seed before building the model
    fresh = AutocompleteModel("gru", units=6, classes=len(VOCABULARY))
    step0 = torch.load(trained["out"] / "checkpoints/step0000000.pt", weights_only=True)
    assert_same_state(step0, fresh.state_dict())


def test_stopped_run_resumes_bit_identically(trained, data_dir, tmp_path):
    # step 3 is saved (a checkpoint step); stopping after step 5 loses step 5, as a kill would
    with pytest.raises(TrainingStopped):
        train(data_dir, tmp_path / "out", tmp_path / "resume", stop_after_step=5)
    (run,) = (tmp_path / "resume").glob("run-*")  # the run's own folder, keyed by the run
    assert json.loads((run / "latest.json").read_text())["step"] == 4
    assert [p.name for p in run.glob("state_step*.pt")] == ["state_step0000004.pt"]
    assert not (tmp_path / "out/model.pt").exists()
    train(data_dir, tmp_path / "out", tmp_path / "resume")
    assert_same_state(weights(tmp_path / "out"), weights(trained["out"]))
    history = pd.read_parquet(tmp_path / "out/history.parquet")
    reference = pd.read_parquet(trained["out"] / "history.parquet")
    for column in ("step", "train_loss", "valid_loss"):
        assert history[column].tolist() == reference[column].tolist()


@pytest.mark.parametrize("kind", ["lstm", "nlstm"])
def test_other_cells_resume_bit_identically(data_dir, tmp_path, kind):
    spec = {**SPEC, "kind": kind, "steps": 4, "checkpoint_steps": []}
    train(data_dir, tmp_path / "a", tmp_path / "ra", spec)
    with pytest.raises(TrainingStopped):
        train(data_dir, tmp_path / "b", tmp_path / "rb", spec, stop_after_step=3)
    train(data_dir, tmp_path / "b", tmp_path / "rb", spec)
    assert_same_state(weights(tmp_path / "b"), weights(tmp_path / "a"))
    assert json.loads((tmp_path / "b/model.json").read_text())["cell"] == kind


def test_finished_run_returns_the_same_model_and_extends(trained, data_dir, tmp_path):
    again = train(data_dir, tmp_path / "out", trained["resume"])
    assert_same_state(weights(tmp_path / "out"), weights(trained["out"]))
    assert again["valid_loss"] == trained["metrics"]["valid_loss"]
    with pytest.raises(ValueError, match="past the 4 steps asked for, and did not keep step 4"):
        train(data_dir, tmp_path / "out", trained["resume"], {**SPEC, "steps": 4})


def test_another_run_trains_afresh_beside_the_first(trained, data_dir, tmp_path):
    resume = tmp_path / "resume"
    shutil.copytree(trained["resume"], resume)  # a finished run, then other settings
    train(data_dir, tmp_path / "lr", resume, {**SPEC, "lr": 0.01})
    train(data_dir, tmp_path / "units", resume, {**SPEC, "units": 5})
    assert len(list(resume.glob("run-*"))) == 3
    alone = tmp_path / "alone"  # the same lr run in a resume folder of its own
    train(data_dir, alone, tmp_path / "resume_alone", {**SPEC, "lr": 0.01})
    assert_same_state(weights(tmp_path / "lr"), weights(alone))


def test_batches_cycle_through_seeded_epoch_permutations():
    orders: dict = {}
    rows = [text8_train._batch_rows(step, 10, 4, 0, orders) for step in range(1, 7)]
    assert [len(r) for r in rows] == [4, 4, 2, 4, 4, 2]  # ceil(10 / 4) = 3 batches an epoch
    first, second = np.concatenate(rows[:3]), np.concatenate(rows[3:])
    assert sorted(first) == sorted(second) == list(range(10))
    assert not np.array_equal(first, second)  # each epoch its own order
    other_seed = np.concatenate([text8_train._batch_rows(s, 10, 4, 1, {}) for s in (1, 2, 3)])
    assert not np.array_equal(first, other_seed)


def test_validation_loss_is_the_masked_mean_over_scored_characters(data_dir):
    torch.manual_seed(0)
    model = AutocompleteModel("gru", units=4, classes=len(VOCABULARY))
    valid = split(data_dir, "valid")
    tokens, targets, _ = valid.batch(np.arange(len(valid)))
    with torch.no_grad():
        losses = F.cross_entropy(model(tokens).transpose(1, 2), targets, reduction="none")
    scored = (targets > 1).float()
    expected = float((losses * scored).sum() / scored.sum())
    got = text8_train.validation_loss(model, valid, batches=None, batch=3)
    assert got == pytest.approx(expected, rel=1e-6)


def test_spec_errors_name_the_field():
    with pytest.raises(ValueError, match=r"lacks \['steps'\]"):
        check_spec({key: value for key, value in SPEC.items() if key != "steps"})
    with pytest.raises(ValueError, match="spec.kind must be one of"):
        check_spec({**SPEC, "kind": "rnn"})
    with pytest.raises(ValueError, match=r"checkpoint_steps holds 7"):
        check_spec({**SPEC, "checkpoint_steps": [7]})
    with pytest.raises(ValueError, match="unknown key"):
        check_spec({**SPEC, "epochs": 2})
    assert check_spec({**SPEC, "batch": 64})["lr"] == 0.001


def test_bad_split_names_the_column(data_dir, tmp_path):
    for name in ("valid.parquet", "test.parquet", "card.json"):
        (tmp_path / name).write_bytes((data_dir / name).read_bytes())
    table = pq.read_table(data_dir / "train.parquet")
    lengths = pa.array(np.asarray(table.column("length")) + 1, pa.int32())
    pq.write_table(table.set_column(3, "length", lengths), tmp_path / "train.parquet")
    with pytest.raises(ValueError, match="column 'length' differs"):
        split(tmp_path, "train")
    with pytest.raises(FileNotFoundError, match="missing"):
        split(tmp_path, "other")


# ---- evaluation, states, demo ---------------------------------------------------------------


def test_evaluation_equals_a_batch_one_reference(trained, data_dir, tmp_path):
    out = trained["out"]
    test_row, letters = evaluate_step(
        out / "model.pt", out / "model.json", data_dir / "test.parquet", data_dir / "card.json",
        tmp_path / "test_metrics.parquet", tmp_path / "letters_known.parquet", progress=False,
    )  # fmt: skip
    model = load(out / "model.pt")
    data = split(data_dir, "test")
    losses, right, characters = [], 0, 0
    with torch.no_grad():
        for row in range(len(data)):  # the author's evaluation: batch 1, no padding
            tokens, targets, _ = data.batch([row])
            logits = model(tokens)[0]
            scored = targets[0] > 1
            losses.append(float(F.cross_entropy(logits[scored], targets[0][scored])))
            right += int((logits.argmax(-1) == targets[0]).sum())
            characters += len(targets[0])
    assert test_row["cross_entropy"].iloc[0] == pytest.approx(np.mean(losses), rel=1e-6)
    assert test_row["accuracy"].iloc[0] == pytest.approx(right / characters)
    assert (test_row["sequences"].iloc[0], test_row["characters"].iloc[0]) == (8, characters)
    assert pd.read_parquet(tmp_path / "test_metrics.parquet").equals(test_row)
    plain = letters[~letters.count_padding]
    assert plain[plain.k == 1]["total"].sum() == characters
    wide = plain.pivot(index="letters", columns="k", values="accuracy")
    assert (wide[1] <= wide[2]).all() and (wide[2] <= wide[3]).all()
    padded = letters[letters.count_padding]
    assert padded[padded.k == 1]["total"].sum() > characters  # the batch of 8 is padded
    assert set(letters.columns) >= {"model", "cell", "letters", "k", "accuracy"}


def test_states_step_writes_every_character(trained, data_dir, tmp_path):
    out = trained["out"]
    path = states_step(
        out / "model.pt", out / "model.json", data_dir / "test.parquet", data_dir / "card.json",
        tmp_path / "states.parquet", max_sequences=3,
    )  # fmt: skip
    states.validate(path)
    frame = states.read(path)
    data = split(data_dir, "test")
    assert len(frame) == int(data.lengths[:3].sum())
    first = frame[frame.sequence_id == data.observation_id[0]]
    expected_text = "".join(SYMBOLS[s] for s in data.source[: data.lengths[0]])
    assert "".join(first["token"]) == expected_text
    assert first["target"].tolist() == data.target[: data.lengths[0]].tolist()
    model = load(out / "model.pt")
    tokens, _, _ = data.batch([0])
    with torch.no_grad():
        assert first["prediction"].tolist() == model(tokens)[0].argmax(-1).tolist()
        h1 = model.states(tokens)["h1"][0].numpy()
    np.testing.assert_allclose(np.stack(first["h1"].to_numpy()), h1, rtol=0, atol=1e-6)
    assert states.metadata(path)["cell"] == "gru"


def test_demo_gives_top_words_and_probabilities():
    model = AutocompleteModel("lstm", units=3, classes=len(VOCABULARY))
    with torch.no_grad():  # constant output: softmax of the bias alone
        model.readout.weight.zero_()
        bias = torch.full((len(VOCABULARY),), -math.inf)
        # "the", "of", "and", "cat" in proportions 4 : 2 : 1 : 1, all other words 0
        bias[[2, 3, 4, 5]] = torch.log(torch.tensor([4.0, 2.0, 1.0, 1.0]))
        model.readout.bias.copy_(bias)
    demo = autocomplete_demo(model, "of a", VOCABULARY, k=2)
    assert len(demo) == 5 * 2  # a leading space plus 4 characters, 2 words each
    assert "".join(demo[demo["rank"] == 1]["character"]) == " of a"
    best = demo[demo["rank"] == 1]
    assert set(best["word"]) == {"the"}
    assert best["probability"].tolist() == pytest.approx([4 / 8] * 5)
    second = demo[demo["rank"] == 2]
    assert set(second["word"]) == {"of"} and second["probability"].iloc[0] == pytest.approx(2 / 8)
    with pytest.raises(ValueError, match="outside the model's symbols"):
        autocomplete_demo(model, "Of", VOCABULARY)
