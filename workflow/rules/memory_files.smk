# memory: the files its rules read and write (constants and input functions).

MEMORY = config["memory"]


# Sequential MNIST: the input of a step is a class of the test digit's row read at that step.
MEMORY_MNIST_TEST = f"results/data/{MNIST_DATASET}/test.parquet"


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
