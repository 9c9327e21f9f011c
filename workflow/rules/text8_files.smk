# text8: the files its rules read and write (constants and input functions).

TEXT8 = config["text8"]


TEXT8_DATASET = (
    f"text8-v{TEXT8['data']['vocabulary_bits']}"
    if TEXT8["data"]["source"] == "zip"
    else f"enwiki-excerpt-v{TEXT8['data']['vocabulary_bits']}"
)


# The data rule's files by name: the three splits and the card.
TEXT8_DATA = {
    "train": f"results/data/{TEXT8_DATASET}/train.parquet",
    "valid": f"results/data/{TEXT8_DATASET}/valid.parquet",
    "test": f"results/data/{TEXT8_DATASET}/test.parquet",
    "card": f"results/data/{TEXT8_DATASET}/card.json",
}


# zip: the published text8.zip that text8_download fetches; embedded: nothing to read
TEXT8_ZIP = (
    {"zip": "resources/text8/text8.zip"} if TEXT8["data"]["source"] == "zip" else {}
)


TEXT8_FIGURES = ["test_table", "letters_known", "training_curves"]


def text8_model_dir(cell):
    return f"results/models/{TEXT8_DATASET}/{cell}/seed{TEXT8['seed']}"


def text8_experiments(table):
    """test_metrics or letters_known of every network: each cell, each of text8.seeds."""
    return [
        f"results/experiments/text8/{cell}/seed{seed}/{table}.parquet"
        for cell in TEXT8["models"]
        for seed in TEXT8["seeds"]
    ]


def text8_outputs():
    """What the report reads from the text8 paper."""
    return (
        [f"results/data/{TEXT8_DATASET}/card.json"]
        + [f"{text8_model_dir(cell)}/history.parquet" for cell in TEXT8["models"]]
        + text8_experiments("test_metrics")
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
