"""Checks of the csl config a JSON schema cannot express: model names, split sizes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def config_problems(config: Mapping) -> list[str]:
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
    return problems
