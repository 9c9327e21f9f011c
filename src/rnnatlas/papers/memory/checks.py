"""Checks of the memory config a JSON schema cannot express: the states it reads exist."""

from __future__ import annotations

from collections.abc import Mapping


def config_problems(config: Mapping) -> list[str]:
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
