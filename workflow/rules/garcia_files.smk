# garcia: the files its rules read and write (constants and input functions).

GARCIA = config["garcia"]
GARCIA_USE_CASES = GARCIA["use_cases"]
GARCIA_DATA_FILES = ["train.parquet", "test.parquet", "vocabulary.parquet", "card.json"]
GARCIA_FIGURES = ["projection", "heatmaps", "distances", "text", "confusion"]


def garcia_data(use_case):
    """The dataset files of a use case, by name (train, test, vocabulary, card)."""
    folder = f"results/data/garcia-{use_case}"
    return {name.split(".")[0]: f"{folder}/{name}" for name in GARCIA_DATA_FILES}


def garcia_model_dir(use_case):
    seed = GARCIA["datasets"][use_case]["seed"]
    return f"results/models/garcia-{use_case}/lstm/seed{seed}"


def garcia_keras_files(wildcards):
    """Keras' npz and word index of a use case whose source is imdb or reuters."""
    source = GARCIA["datasets"][wildcards.use_case]["source"]
    if source == "embedded":
        return {}
    return {
        "npz": f"resources/garcia/{source}.npz",
        "word_index": f"resources/garcia/{source}_word_index.json",
    }


def garcia_views_inputs(wildcards):
    """The states a use case's views read (and, for mnist, the model whose readout gives the
    expected predictions)."""
    if wildcards.use_case == "mnist":
        return {
            "states": MNIST_STATES,
            "model": f"{mnist_model_dir(MNIST['states']['seed'])}/model.pt",
        }
    seed = GARCIA["datasets"][wildcards.use_case]["seed"]
    return {
        "states": f"results/states/garcia-{wildcards.use_case}/lstm/seed{seed}/test.parquet"
    }


def garcia_views_of(use_case):
    folder = f"results/analysis/garcia/{use_case}"
    return [f"{folder}/views.parquet", f"{folder}/projection.parquet"]


def garcia_outputs():
    """What the report reads from the Garcia paper: every use case's views and figures."""
    cases = [*GARCIA_USE_CASES, "mnist"]
    return (
        [path for case in cases for path in garcia_views_of(case)]
        + [f"{garcia_model_dir(case)}/metrics.json" for case in GARCIA_USE_CASES]
        + [
            f"results/analysis/garcia/{case}/hiddenStatesVis.json"
            for case in GARCIA_USE_CASES
        ]
        + [f"results/data/garcia-{case}/card.json" for case in GARCIA_USE_CASES]
        + [
            f"results/figures/garcia/{case}/{name}.png"
            for case in cases
            for name in GARCIA_FIGURES
        ]
        + [f"results/figures/garcia/{case}/explorer.html" for case in cases]
    )
