"""Load, merge and validate the pipeline configuration.

The Snakefile calls :func:`validate` at parse time so a bad key stops the run before any job
starts, with a message naming the key and what it accepts.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_NAME = "config.schema.yaml"


class ConfigError(ValueError):
    """A configuration value that the pipeline cannot run with."""


def load_schema(name: str = SCHEMA_NAME) -> dict:
    text = resources.files("rnnatlas.schemas").joinpath(name).read_text()
    return yaml.safe_load(text)


def deep_merge(base: Mapping, override: Mapping) -> dict:
    """Merge like Snakemake's --configfile: nested mappings merge, everything else replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_config(paths: Iterable[str | Path]) -> dict:
    """Read and merge YAML files in order (config.yaml first, then presets), then validate."""
    config: dict = {}
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise ConfigError(f"config file {path} does not exist")
        with path.open() as handle:
            data = yaml.safe_load(handle) or {}
        if not isinstance(data, Mapping):
            raise ConfigError(f"{path}: the top level must be a mapping of keys, not {type(data)}")
        config = deep_merge(config, data)
    validate(config)
    return config


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) if not isinstance(p, int) else f"[{p}]" for p in error.absolute_path]
    return ".".join(parts).replace(".[", "[") or "<top level>"


def _allowed(schema: Mapping) -> str:
    """A short human description of what a schema node accepts."""
    if "const" in schema:
        return f"exactly {schema['const']!r}"
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    bits = []
    if "type" in schema:
        bits.append(f"a{'n' if str(schema['type'])[0] in 'aeiou' else ''} {schema['type']}")
    for word, key in (
        (">=", "minimum"),
        (">", "exclusiveMinimum"),
        ("<=", "maximum"),
        ("<", "exclusiveMaximum"),
    ):
        if key in schema:
            bits.append(f"{word} {schema[key]}")
    if "minItems" in schema:
        bits.append(f"at least {schema['minItems']} item(s)")
    if "maxItems" in schema:
        bits.append(f"at most {schema['maxItems']} item(s)")
    if "properties" in schema:
        bits.append("keys: " + ", ".join(schema["properties"]))
    return ", ".join(bits) or "see workflow/schemas/config.schema.yaml"


def _describe(error: jsonschema.ValidationError) -> str:
    key = _key_path(error)
    if error.validator == "additionalProperties":
        allowed = ", ".join(error.schema.get("properties", {})) or "(none)"
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        where = key if key != "<top level>" else "the top level"
        return (
            f"unknown key(s) {', '.join(map(repr, extra))} under {where}; allowed keys: {allowed}"
        )
    if error.validator == "required":
        return f"{key}: {error.message}; add it (see config.yaml for the default)"
    if error.validator == "oneOf" and isinstance(error.instance, Mapping):
        kind = error.instance.get("kind")
        branches = error.schema.get("oneOf", [])
        for branch in branches:
            target = branch.get("$ref", "").rsplit("/", 1)[-1]
            if target == kind:
                break
        else:
            return f"{key}.kind: {kind!r} is not a model kind; allowed: 'esn', 'lstm'"
        sub = sorted(error.context, key=lambda e: len(list(e.absolute_path)), reverse=True)
        for inner in sub:
            if inner.schema_path and str(inner.schema_path[0]) == str(branches.index(branch)):
                return _describe_leaf(_key_path(inner), inner)
        return f"{key}: not a valid {kind} model"
    return _describe_leaf(key, error)


def _describe_leaf(key: str, error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(error.schema.get("properties", {}))
        return f"unknown key(s) {', '.join(map(repr, extra))} under {key}; allowed keys: {allowed}"
    if error.validator == "required":
        return f"{key}: {error.message}; add it (see config.yaml for the default)"
    return f"{key}: {error.instance!r} is not allowed; expected {_allowed(error.schema)}"


def schema_errors(config: Mapping) -> list[str]:
    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    return [_describe(error) for error in errors]


def reference_errors(config: Mapping) -> list[str]:
    """Checks a JSON schema cannot express: names that must refer to configured models."""
    csl = config["csl"]
    models = csl["models"]
    problems = []

    def check(key: str, names: Iterable[str], kind: str | None = None) -> None:
        for name in names:
            if name not in models:
                problems.append(
                    f"{key}: model {name!r} is not defined under csl.models "
                    f"(defined: {', '.join(models)})"
                )
            elif kind and models[name]["kind"] != kind:
                problems.append(f"{key}: model {name!r} must be of kind {kind!r}")

    check("csl.compare.models", csl["compare"]["models"])
    check("csl.objects.seeds", csl["objects"]["seeds"])
    check("csl.states.models", csl["states"]["models"])
    check("csl.esn_units.model", [csl["esn_units"]["model"]], kind="esn")
    check("csl.esn_sentences.model", [csl["esn_sentences"]["model"]], kind="esn")
    check("csl.rssviz.models", csl["rssviz"]["models"])
    check("csl.rssviz.hyperparameters.model", [csl["rssviz"]["hyperparameters"]["model"]], "esn")
    not_dumped = [m for m in csl["rssviz"]["models"] if m not in csl["states"]["models"]]
    if not_dumped:
        problems.append(
            f"csl.rssviz.models: {not_dumped[0]!r} has no dumped states; add it to "
            "csl.states.models (RSSviz reads the states files)"
        )
    corpus = csl["corpus"]
    for key in ("train", "test", "validation"):
        if sum(corpus[key]) == 0:
            problems.append(f"csl.corpus.{key}: needs at least one sentence, got {corpus[key]}")
    largest = max(csl["esn_sentences"]["values"])
    if largest > csl["juven"]["train_sentences"]:
        problems.append(
            f"csl.esn_sentences.values: {largest} training sentences asked for but "
            f"csl.juven.train_sentences is {csl['juven']['train_sentences']} (Juven's grids run "
            f"on Juven's protocol); lower the value or raise train_sentences"
        )
    problems += _mnist_problems(config["mnist"])
    problems += _text8_problems(config["text8"])
    problems += _memory_problems(config)
    return problems


def _mnist_problems(mnist: Mapping) -> list[str]:
    problems = []
    model = mnist["model"]
    late = [e for e in model["checkpoint_epochs"] if e > model["epochs"]]
    if late:
        problems.append(
            f"mnist.model.checkpoint_epochs: {late[0]} is past mnist.model.epochs "
            f"({model['epochs']}); keep epochs in 0..{model['epochs']}"
        )
    if mnist["states"]["seed"] not in mnist["seeds"]:
        problems.append(
            f"mnist.states.seed: {mnist['states']['seed']} is not in mnist.seeds {mnist['seeds']}"
        )
    last = 28 + mnist["states"]["extend"] - 1
    beyond = [s for s in mnist["tsne"]["steps"] if s > last]
    if beyond:
        problems.append(
            f"mnist.tsne.steps: step {beyond[0]} is past the last recorded step {last} "
            "(28 rows + mnist.states.extend zero rows, 0-based)"
        )
    return problems + _mnist_dynamics_problems(mnist)


def _memory_problems(config: Mapping) -> list[str]:
    memory, problems = config["memory"], []
    dumped = config["csl"]["states"]["models"]
    missing = [m for m in memory["csl_models"] if m not in dumped]
    if missing:
        problems.append(
            f"memory.csl_models: {missing[0]!r} has no dumped states; add it to "
            f"csl.states.models ({dumped}) or drop it"
        )
    if memory["lowrank_rank"] > config["mnist"]["model"]["units"]:
        problems.append(
            f"memory.lowrank_rank: {memory['lowrank_rank']} exceeds mnist.model.units "
            f"({config['mnist']['model']['units']})"
        )
    return problems


def _text8_problems(text8: Mapping) -> list[str]:
    model = text8["model"]
    late = [s for s in model["checkpoint_steps"] if s > model["steps"]]
    if late:
        return [
            f"text8.model.checkpoint_steps: {late[0]} is past text8.model.steps "
            f"({model['steps']}); keep steps in 0..{model['steps']}"
        ]
    return []


def _mnist_dynamics_problems(mnist: Mapping) -> list[str]:
    problems = []
    lyapunov, attractors = mnist["dynamics"]["lyapunov"], mnist["dynamics"]["attractors"]
    if lyapunov["exponents"] > mnist["model"]["units"]:
        problems.append(
            f"mnist.dynamics.lyapunov.exponents: {lyapunov['exponents']} is more than the "
            f"{mnist['model']['units']} units (mnist.model.units)"
        )
    if attractors["tail"] > attractors["steps"]:
        problems.append(
            f"mnist.dynamics.attractors.tail: {attractors['tail']} is longer than the run "
            f"(attractors.steps = {attractors['steps']})"
        )
    from rnnatlas.analysis.attractors import MAX_LINKAGE_POINTS

    points = attractors["digits"] * attractors["tail"]
    if points > MAX_LINKAGE_POINTS:
        problems.append(
            f"mnist.dynamics.attractors: digits x tail = {points:,} tail points; single linkage "
            f"holds all their distances: keep digits x tail <= {MAX_LINKAGE_POINTS:,}"
        )
    late = [t for t in attractors["phase_times"] if t > attractors["steps"]]
    if late:
        problems.append(
            f"mnist.dynamics.attractors.phase_times: {late[0]} is past the run's last step "
            f"(attractors.steps = {attractors['steps']})"
        )
    return problems


def validate(config: Mapping) -> Mapping:
    """Raise :class:`ConfigError` listing every problem; return the config unchanged if valid."""
    problems = schema_errors(config)
    if not problems:
        problems = reference_errors(config)
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"invalid configuration ({len(problems)} problem(s)):\n{listed}")
    return config


def csl_model(config: Mapping, name: str) -> dict[str, Any]:
    try:
        return dict(config["csl"]["models"][name])
    except KeyError:
        raise ConfigError(f"csl.models.{name} is not defined") from None
