"""Checks of the text8 config a JSON schema cannot express."""

from __future__ import annotations

from collections.abc import Mapping


def config_problems(config: Mapping) -> list[str]:
    text8 = config["text8"]
    model = text8["model"]
    late = [s for s in model["checkpoint_steps"] if s > model["steps"]]
    if late:
        return [
            f"text8.model.checkpoint_steps: {late[0]} is past text8.model.steps "
            f"({model['steps']}); keep steps in 0..{model['steps']}"
        ]
    return []
