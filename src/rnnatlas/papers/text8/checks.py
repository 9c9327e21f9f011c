"""Checks of the text8 config a JSON schema cannot express."""

from __future__ import annotations

from collections.abc import Mapping

# The keys each ceiling of `limits` bounds (rnnatlas.config.limit_problems)
LIMITED_KEYS = {"units": ("text8.model.units",), "steps": ("text8.model.steps",)}


def config_problems(config: Mapping) -> list[str]:
    text8 = config["text8"]
    model = text8["model"]
    late = [s for s in model["checkpoint_steps"] if s > model["steps"]]
    if late:
        return [
            f"text8.model.checkpoint_steps: {late[0]} is past text8.model.steps "
            f"({model['steps']}); keep steps in 0..{model['steps']}"
        ]
    if text8["seed"] not in text8["seeds"]:
        return [
            f"text8.seed: {text8['seed']} is not one of text8.seeds {text8['seeds']}; the "
            "analysed network must be one of those trained"
        ]
    return []
