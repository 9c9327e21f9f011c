"""Load, merge and validate the pipeline configuration.

The workflow validates at parse time (`rnnatlas.papers.registry.validate_config`: the schema,
then every paper's cross-field checks) so a bad key stops the run before any job starts, with a
message naming the key and what it accepts.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

SCHEMA_NAME = "config.schema.yaml"
Checker = Callable[[Mapping], list[str]]  # config -> problems the schema cannot express


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


def load_config(paths: Iterable[str | Path], checks: Iterable[Checker] = ()) -> dict:
    """Read and merge YAML files in order (config.yaml first, then presets), then validate."""
    config: dict = {}
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise ConfigError(f"config file {path} does not exist")
        try:
            with path.open() as handle:
                data = yaml.safe_load(handle)
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: {yaml_problem(err)}") from None
        if data is None:
            raise ConfigError(f"{path}: the file is empty; give the keys it changes, or drop it")
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{path}: the top level must be a mapping of keys, not {type(data).__name__}"
            )
        config = deep_merge(config, data)
    validate(config, checks)
    return config


def yaml_problem(err: yaml.YAMLError) -> str:
    """A YAML syntax error in one line: where, and what the parser expected."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    context = getattr(err, "context", None)
    return f"{where}not valid YAML: {problem}" + (f" ({context})" if context else "")


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
    if "pattern" in schema:
        bits.append(f"matching {schema['pattern']}")
    if "minItems" in schema:
        bits.append(f"at least {schema['minItems']} item(s)")
    if "maxItems" in schema:
        bits.append(f"at most {schema['maxItems']} item(s)")
    if schema.get("uniqueItems"):
        bits.append("no item twice")
    if "properties" in schema:
        bits.append("keys: " + ", ".join(schema["properties"]))
    if "description" in schema:
        bits.append(str(schema["description"]))
    return ", ".join(bits) or "what config.yaml shows for this key"


_JSON_TYPES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "list": "a list",
    "dict": "a mapping",
    "NoneType": "null",
}

# What failed, per JSON-schema keyword (the rest say what the key allows).
_FAILED = {
    "pattern": "does not match the pattern",
    "minimum": "is below the minimum",
    "exclusiveMinimum": "is not above the minimum",
    "maximum": "is above the maximum",
    "exclusiveMaximum": "is not below the maximum",
    "minItems": "has too few items",
    "maxItems": "has too many items",
    "uniqueItems": "repeats an item",
    "minLength": "is too short",
    "enum": "is not one of the choices",
    "const": "is not the one allowed value",
}


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
    if error.validator == "propertyNames":
        return f"{key}: the name {error.instance!r} is not allowed; {_allowed(error.schema)}"
    if error.validator == "type":
        found = _JSON_TYPES.get(type(error.instance).__name__, type(error.instance).__name__)
        return f"{key}: {error.instance!r} is {found}; expected {_allowed(error.schema)}"
    failed = _FAILED.get(str(error.validator), "is not allowed")
    return f"{key}: {error.instance!r} {failed}; expected {_allowed(error.schema)}"


def schema_errors(config: Mapping) -> list[str]:
    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    return [_describe(error) for error in errors]


def non_finite(value, key: str = "") -> list[str]:
    """Every NaN or infinite number in the config (YAML's .nan passes any minimum/maximum)."""
    if isinstance(value, Mapping):
        return [p for k, v in value.items() for p in non_finite(v, f"{key}.{k}" if key else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in non_finite(v, f"{key}[{i}]")]
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{key}: {value} is not a finite number"]
    return []


def _entries(value, parts: list[str], key: str):
    """(key path, value) of every entry `parts` reaches under `value`."""
    if not parts:
        yield key, value
        return
    head, rest = parts[0], parts[1:]
    if head == "*" and isinstance(value, Mapping):
        for name, inner in value.items():
            yield from _entries(inner, rest, f"{key}.{name}")
    elif head == "*" and isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _entries(inner, rest, f"{key}[{index}]")
    elif isinstance(value, Mapping) and head in value:
        yield from _entries(value[head], rest, f"{key}.{head}" if key else head)


def limit_problems(config: Mapping, limited: Mapping[str, Sequence[str]]) -> list[str]:
    """Every size or training length above its ceiling in `limits`. `limited`: ceiling name ->
    the key paths it bounds ("*": every entry of a mapping or list), each paper's `LIMITED_KEYS`.
    A typo such as steps: 1427800 stops here, not weeks into a run; raising the ceiling is the
    override."""
    problems = []
    for name, paths in limited.items():
        ceiling = config["limits"][name]
        for path in paths:
            for key, value in _entries(config, path.split("."), ""):
                if isinstance(value, int) and value > ceiling:
                    problems.append(
                        f"{key}: {value:,} is above limits.{name} ({ceiling:,}); lower it, or "
                        f"raise limits.{name} if you mean it and the machine holds it"
                    )
    return problems


def validate(config: Mapping, checks: Iterable[Checker] = ()) -> Mapping:
    """Raise :class:`ConfigError` listing every problem; return the config unchanged if valid.

    The schema first; then, if it holds, each of `checks` (the papers' ceilings of `limits` and
    cross-field checks, `rnnatlas.papers.registry.config_checks()`): a function of the config
    returning problems.
    """
    problems = schema_errors(config) + non_finite(config)
    if not problems:
        for check in checks:
            problems += check(config)
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"invalid configuration ({len(problems)} problem(s)):\n{listed}")
    return config
