"""What the config schema cannot say about the garcia section."""

from __future__ import annotations

from collections.abc import Mapping

# The keys each ceiling of `limits` bounds (rnnatlas.config.limit_problems)
LIMITED_KEYS = {"units": ("garcia.datasets.*.units",), "epochs": ("garcia.training.epochs",)}


def config_problems(config: Mapping) -> list[str]:
    garcia = config["garcia"]
    defined = ", ".join(garcia["datasets"])
    problems = [
        f"garcia.use_cases: {name!r} is not one of garcia.datasets ({defined})"
        for name in garcia["use_cases"]
        if name not in garcia["datasets"]
    ]
    for name in garcia["use_cases"]:
        spec = garcia["datasets"].get(name)
        if spec and spec["loss"] == "binary_cross_entropy" and spec["source"] == "reuters":
            problems.append(
                f"garcia.datasets.{name}.loss: binary_cross_entropy reads one sigmoid output, "
                "but reuters has 5 classes: use cross_entropy or binary_cross_entropy_on_softmax"
            )
    return problems
