# csl: the files its rules read and write (constants and input functions).

CSL = config["csl"]


SUFFIX = "-center" if CSL["corpus"]["center"] else ""


# Juven's protocol: his grammar (with "center" when csl.juven.center) and his reservoir
JUVEN_SUFFIX = "-center" if CSL["juven"]["center"] else ""


JUVEN_MODEL = CSL["juven"]["model"]


ESN_MODELS = [n for n, m in CSL["models"].items() if m["kind"] == "esn"]


LSTM_MODELS = [n for n, m in CSL["models"].items() if m["kind"] == "lstm"]


def dataset_name(n_objects, juven=False):
    """csl-n{N}[-center][-juven]: -juven follows Juven & Hinaut's protocol (their numbers)."""
    if juven:
        return f"csl-n{n_objects}{JUVEN_SUFFIX}-juven"
    return f"csl-n{n_objects}{SUFFIX}"


MAIN_DATASET = dataset_name(CSL["corpus"]["n_objects"])


JUVEN_DATASET = dataset_name(CSL["corpus"]["n_objects"], juven=True)


def corpus_spec(wildcards):
    """What builds corpus {dataset}: its name gives the objects, 'center' and the protocol."""
    corpus = CSL["corpus"]
    juven = CSL["juven"]
    return {
        "n_objects": int(wildcards.dataset.split("-")[1][1:]),
        "center": "-center" in wildcards.dataset,
        "seed": corpus["seed"],
        "train": corpus["train"],
        "test": corpus["test"],
        "validation": corpus["validation"],
        "protocol": "juven" if wildcards.dataset.endswith("-juven") else "variengien",
        "totals": [juven["train_sentences"], juven["test_sentences"]],
    }


def decode_spec(wildcards):
    """Juven-protocol corpora are scored with Juven's decoding, the others with Variengien's."""
    juven = wildcards.dataset.endswith("-juven")
    return CSL["juven"]["decode"] if juven else CSL["decode"]


def model_spec(wildcards):
    return CSL["models"][wildcards.model]


def corpus_files(dataset):
    """A corpus's files, named as the step functions read them: train, validation, test, card."""
    return multiext(
        f"results/data/{dataset}/",
        train="train.parquet",
        validation="validation.parquet",
        test="test.parquet",
        card="card.json",
    )


def model_dir(dataset, model, seed):
    return f"results/models/{dataset}/{model}/seed{seed}"


def csl_metric_files():
    """metrics.json of every trained run the comparison and the objects grid need."""
    runs = {
        (MAIN_DATASET, model, seed)
        for model in CSL["compare"]["models"]
        for seed in CSL["compare"]["seeds"]
    }
    runs |= {
        (dataset_name(n), model, seed)
        for n in CSL["objects"]["values"]
        for model, seeds in CSL["objects"]["seeds"].items()
        for seed in seeds
    }
    # Juven & Hinaut's reference numbers: their protocol and their reservoir (csl.juven.model)
    runs |= {(JUVEN_DATASET, JUVEN_MODEL, seed) for seed in CSL["compare"]["seeds"]}
    runs |= {
        (dataset_name(n, juven=True), JUVEN_MODEL, seed)
        for n in CSL["objects"]["values"]
        for seed in CSL["objects"]["seeds"].get("esn", [])
    }
    return [f"{model_dir(*run)}/metrics.json" for run in sorted(runs)]


def csl_histories():
    return [
        f"{model_dir(MAIN_DATASET, model, seed)}/history.parquet"
        for model in CSL["compare"]["models"]
        for seed in CSL["compare"]["seeds"]
    ]


def csl_state_files():
    seed = CSL["states"]["seed"]
    return [
        f"results/states/{MAIN_DATASET}/{model}/seed{seed}/test.parquet"
        for model in CSL["states"]["models"]
    ]


def csl_cards():
    datasets = {dataset_name(n) for n in CSL["objects"]["values"]} | {MAIN_DATASET}
    datasets |= {JUVEN_DATASET}
    return [f"results/data/{dataset}/card.json" for dataset in sorted(datasets)]


RSSVIZ = CSL["rssviz"]


STATES_SEED = CSL["states"]["seed"]


RSSVIZ_VIEWS = ["trajectories", "final_states", "clauses", "outputs", "error_map"]


UNIT_FIGURES = [
    "winglet",
    "polyvalent_deltas",
    "connected_deltas",
    "cell_units",
    "output_activations",
]


def states_file(model):
    return f"results/states/{MAIN_DATASET}/{model}/seed{STATES_SEED}/test.parquet"


def main_model_dir(model):
    return model_dir(MAIN_DATASET, model, STATES_SEED)


def rssviz_state(wildcards):
    return RSSVIZ["state"][CSL["models"][wildcards.model]["kind"]]


def training_stages(wildcards):
    kind = CSL["models"][wildcards.model]["kind"]
    return RSSVIZ["training"]["esn_sentences" if kind == "esn" else "lstm_epochs"]


def model_inputs(wildcards):
    """What a visual analysis of a trained model reads: model, states, corpus, checkpoints."""
    files = {
        "model": f"{main_model_dir(wildcards.model)}/model.pt",
        "model_card": f"{main_model_dir(wildcards.model)}/model.json",
        "states": states_file(wildcards.model),
        **{
            name: f"results/data/{MAIN_DATASET}/{name}.{ext}"
            for name, ext in [
                ("train", "parquet"),
                ("validation", "parquet"),
                ("test", "parquet"),
                ("card", "json"),
            ]
        },
    }
    if CSL["models"][wildcards.model]["kind"] == "lstm":
        files["checkpoints"] = f"{main_model_dir(wildcards.model)}/checkpoints"
    return files


def visual_outputs():
    """Every table and figure of the visual analyses (RSSviz, animations, grid, units)."""
    files = []
    for model in RSSVIZ["models"]:
        files += [
            f"results/analysis/csl/rssviz/{model}/metrics.json",
            f"results/analysis/csl/rssviz/{model}/nesting.parquet",
            f"results/analysis/csl/rssviz_training/{model}/training.json",
            f"results/figures/csl/rssviz/{model}.html",
            f"results/figures/csl/rssviz/{model}_training.gif",
            f"results/figures/csl/rssviz/{model}_training.png",
            f"results/analysis/csl/units/{model}/summary.json",
        ]
        files += [f"results/figures/csl/rssviz/{model}_{v}.png" for v in RSSVIZ_VIEWS]
        files += [f"results/figures/csl/units/{model}/{f}.png" for f in UNIT_FIGURES]
    files += [
        "results/analysis/csl/rssviz_hyper/panels.parquet",
        "results/figures/csl/rssviz/hyperparameters.png",
    ]
    return files


CSL_FIGURES = [
    "errors_vs_objects",
    "esn_vs_units",
    "esn_vs_sentences",
    "learning_curves",
]
