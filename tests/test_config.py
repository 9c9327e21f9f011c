"""Config validation: the shipped files pass; every kind of mistake names the key and the fix."""

import copy
from pathlib import Path

import pytest

from rnnatlas.config import ConfigError, deep_merge
from rnnatlas.papers.registry import load_config
from rnnatlas.papers.registry import validate_config as validate

ROOT = Path(__file__).resolve().parents[1]
PRESETS = sorted((ROOT / "workflow" / "presets").glob("*.yaml"))


@pytest.fixture(scope="module")
def config():
    return load_config([ROOT / "config.yaml"])


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.stem)
def test_shipped_config_and_presets_are_valid(preset):
    merged = load_config([ROOT / "config.yaml", preset])
    assert merged["scale"] == preset.stem


def test_presets_override_without_dropping_keys(config):
    ci = load_config([ROOT / "config.yaml", ROOT / "workflow/presets/ci.yaml"])
    assert ci["csl"]["models"]["lstm"]["epochs"] < config["csl"]["models"]["lstm"]["epochs"]
    # a nested override keeps the sibling keys of the default
    assert ci["csl"]["models"]["esn"] == config["csl"]["models"]["esn"]
    assert ci["csl"]["corpus"] == config["csl"]["corpus"]


def test_deep_merge_replaces_lists_and_merges_mappings():
    merged = deep_merge({"a": {"b": 1, "c": [1, 2]}, "d": 0}, {"a": {"c": [3]}})
    assert merged == {"a": {"b": 1, "c": [3]}, "d": 0}


def _error(config, mutate) -> str:
    broken = copy.deepcopy(config)
    mutate(broken)
    with pytest.raises(ConfigError) as info:
        validate(broken)
    return str(info.value)


def test_wrong_type_names_key_and_type(config):
    message = _error(config, lambda c: c["csl"]["models"]["esn"].update(units="many"))
    assert "csl.models.esn.units" in message
    assert "'many'" in message and "integer" in message


def test_out_of_range_names_the_bounds(config):
    message = _error(config, lambda c: c["csl"]["models"]["esn"].update(leak=1.5))
    assert "csl.models.esn.leak" in message and "<= 1" in message
    message = _error(config, lambda c: c["csl"]["corpus"].update(n_objects=51))
    assert "csl.corpus.n_objects" in message and "<= 50" in message


def test_unknown_key_lists_the_allowed_keys(config):
    message = _error(config, lambda c: c["csl"]["models"]["lstm"].update(epochz=3))
    assert "'epochz'" in message and "csl.models.lstm" in message and "epochs" in message
    message = _error(config, lambda c: c.update(typo=1))
    assert "'typo'" in message and "top level" in message


def test_enum_lists_choices(config):
    message = _error(config, lambda c: c.update(scale="huge"))
    assert "scale" in message and "'ci', 'default', 'reproduction', 'paper'" in message
    message = _error(config, lambda c: c["csl"]["models"]["esn"].update(kind="gru"))
    assert "csl.models.esn.kind" in message and "'esn', 'lstm'" in message


def test_references_to_undefined_models(config):
    message = _error(config, lambda c: c["csl"]["compare"].update(models=["esn", "gru"]))
    assert "csl.compare.models" in message and "'gru'" in message
    message = _error(config, lambda c: c["csl"]["esn_units"].update(model="lstm"))
    assert "csl.esn_units.model" in message and "kind 'esn'" in message


def test_sweep_larger_than_training_split(config):
    message = _error(config, lambda c: c["csl"]["esn_sentences"].update(values=[5000]))
    assert "csl.esn_sentences.values" in message and "csl.juven.train_sentences" in message


def test_missing_key(config):
    message = _error(config, lambda c: c["csl"]["models"]["esn"].pop("leak"))
    assert "leak" in message and "required" in message


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config([tmp_path / "nope.yaml"])


def test_mnist_dynamics_cross_checks(config):
    message = _error(config, lambda c: c["mnist"]["dynamics"]["attractors"].update(tail=5000))
    assert "mnist.dynamics.attractors.tail" in message and "attractors.steps" in message
    message = _error(
        config, lambda c: c["mnist"]["dynamics"]["attractors"].update(phase_times=[0, 9999])
    )
    assert "phase_times: 9999" in message
    message = _error(
        config, lambda c: c["mnist"]["dynamics"]["attractors"].update(digits=5000, tail=5)
    )
    assert "digits x tail = 25,000" in message
    message = _error(config, lambda c: c["mnist"]["dynamics"]["lyapunov"].update(exponents=500))
    assert "mnist.dynamics.lyapunov.exponents" in message and "mnist.model.units" in message


def test_the_analysed_text8_network_must_be_trained(config):
    message = _error(config, lambda c: c["text8"].update(seeds=[0, 1], seed=2))
    assert "text8.seed: 2 is not one of text8.seeds [0, 1]" in message


def test_values_the_schema_cannot_see_are_refused(config):
    bad = copy.deepcopy(config)
    bad["csl"]["models"]["lstm"]["lr"] = float("nan")
    bad["csl"]["units"]["sentence"] = "a purple glass is on the left"
    bad["csl"]["units"]["connected_output"] = 22  # 4 objects: outputs 0..21
    bad["csl"]["rssviz"]["outputs"] = ["slot0:object:glass", "slot0:object:violin"]
    with pytest.raises(ConfigError) as error:
        validate(bad)
    message = str(error.value)
    assert "csl.models.lstm.lr: nan is not a finite number" in message
    bad["csl"]["models"]["lstm"]["lr"] = 0.001  # the schema first, then the papers' checks
    with pytest.raises(ConfigError) as error:
        validate(bad)
    message = str(error.value)
    assert "csl.units.sentence: 'a purple glass is on the left' uses ['purple']" in message
    assert "csl.units.connected_output: 22 is not an output index" in message
    assert "outputs 0..21" in message
    assert "csl.rssviz.outputs: ['slot0:object:violin'] are not outputs" in message


def test_broken_and_empty_config_files_are_named(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("csl:\n  corpus: [1, 2\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: line 3, column 1: not valid YAML: "):
        load_config([ROOT / "config.yaml", broken])
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    with pytest.raises(ConfigError, match=r"empty\.yaml: the file is empty"):
        load_config([ROOT / "config.yaml", empty])


def test_messages_say_what_failed_and_what_is_allowed(config):
    message = _error(config, lambda c: c["csl"]["models"]["esn"].update(units="many"))
    assert "csl.models.esn.units: 'many' is a string; expected an integer" in message
    message = _error(config, lambda c: c["csl"]["rssviz"].update(outputs=["slot2:object:cup"]))
    assert "csl.rssviz.outputs[0]: 'slot2:object:cup' does not match the pattern" in message
    assert "^slot[01]:(object|position|color):[a-z]+$" in message
    message = _error(config, lambda c: c["csl"]["compare"].update(seeds=[0, 0]))
    assert "csl.compare.seeds: [0, 0] repeats an item" in message
    assert "see workflow/schemas" not in message


def test_sizes_above_their_ceiling_are_refused_until_the_ceiling_is_raised(config):
    def oversized(c):
        c["text8"]["model"]["steps"] = 1_427_800  # a typo for 14,278
        c["csl"]["esn_units"]["values"] = [100, 5000]
        c["mnist"]["model"]["epochs"] = 3000

    message = _error(config, oversized)
    assert "text8.model.steps: 1,427,800 is above limits.steps (200,000)" in message
    assert "csl.esn_units.values[1]: 5,000 is above limits.units (4,096)" in message
    assert "mnist.model.epochs: 3,000 is above limits.epochs (1,000)" in message
    assert "raise limits.steps if you mean it" in message
    raised = copy.deepcopy(config)
    oversized(raised)
    raised["limits"] = {"units": 5000, "epochs": 3000, "steps": 1_427_800}
    assert validate(raised) is raised
