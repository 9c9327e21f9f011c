"""Argument types shared by the `rnnatlas` subcommands (cli.py, cli_text8.py, cli_memory.py)."""

from __future__ import annotations

import argparse
import json


def parse_json(text: str, kind: type, name: str):
    """A JSON value of the given Python type from the command line (config sections)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON ({err}): {text[:80]}") from err
    if not isinstance(value, kind):
        raise argparse.ArgumentTypeError(f"expected a JSON {name}")
    return value


def json_object(text: str) -> dict:
    return parse_json(text, dict, "object")


def optional_int(text: str) -> int | None:
    """An integer, or None for a config's null ("None", "null" or empty)."""
    return None if text in ("", "None", "null") else int(text)
