"""Checks of the csl config a JSON schema cannot express: model names, split sizes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# The keys each ceiling of `limits` bounds (rnnatlas.config.limit_problems)
LIMITED_KEYS = {
    "units": ("csl.models.*.units", "csl.esn_units.values.*"),
    "epochs": ("csl.models.*.epochs",),
}


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
    check("csl.juven.model", [csl["juven"]["model"]], kind="esn")
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
    juven_model = csl["models"].get(csl["juven"]["model"], {})
    if juven_model.get("kind") == "esn" and juven_model.get("train_at") != "end":
        problems.append(
            f"csl.juven.model: {csl['juven']['model']!r} trains its readout at every word; "
            "Juven's protocol trains it at the end of each sentence (train_at: end)"
        )
    largest = max(csl["esn_sentences"]["values"])
    if largest > csl["juven"]["train_sentences"]:
        problems.append(
            f"csl.esn_sentences.values: {largest} training sentences asked for but "
            f"csl.juven.train_sentences is {csl['juven']['train_sentences']} (Juven's grids run "
            f"on Juven's protocol); lower the value or raise train_sentences"
        )
    return problems + _corpus_references(csl)


def _corpus_references(csl: Mapping) -> list[str]:
    """Sentences, outputs and output indices the analyses name must exist in the main corpus
    (else the job fails after its upstream jobs ran)."""
    from rnnatlas.papers.csl.data import CSLGrammar

    grammar = CSLGrammar(csl["corpus"]["n_objects"], center=csl["corpus"]["center"])
    known = set(grammar.vocabulary)
    problems = []
    sentences = {"csl.units.sentence": [csl["units"]["sentence"]]}
    sentences["csl.rssviz.trajectories"] = list(csl["rssviz"]["trajectories"])
    for key, texts in sentences.items():
        for text in texts:
            unknown = [word for word in str(text).split() if word not in known]
            if unknown:
                problems.append(
                    f"{key}: {text!r} uses {unknown}, not in the {grammar.n_objects}-object "
                    f"corpus's words ({', '.join(grammar.vocabulary)})"
                )
    labels = [f"slot{s}:{g}:{c}" for s, g, c in grammar.output_labels()]
    unknown = [label for label in csl["rssviz"]["outputs"] if label not in labels]
    if unknown:
        problems.append(
            f"csl.rssviz.outputs: {unknown} are not outputs of the corpus; its outputs are "
            f"{', '.join(labels)}"
        )
    connected = csl["units"]["connected_output"]
    if not 0 <= connected < grammar.output_dim:
        problems.append(
            f"csl.units.connected_output: {connected} is not an output index; the corpus has "
            f"outputs 0..{grammar.output_dim - 1}"
        )
    return problems
