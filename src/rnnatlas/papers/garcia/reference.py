"""What Garcia, Munz & Weiskopf 2021 (and Garcia & Weiskopf 2020) report and what their code
(MunzT/hiddenStatesVis, dataPreparation/) does. Facts, not code."""

GARCIA_PAPER = "Garcia, Munz & Weiskopf 2021 (visual analytics of LSTM hidden states)"

# Reported test accuracies [text]; Keras' "accuracy" metric under binary_crossentropy is the
# *binary* accuracy: per output for Reuters' 5-way softmax (a constant all-zero answer scores 80 %)
PAPER_ACCURACY = {"imdb": 85.0, "reuters": 93.0}

# The models [code]: Embedding(max training id + 1, 32) -> LSTM(units) -> Dropout(0.5) -> Dense
MODEL = {
    "imdb": {"units": 100, "outputs": 1, "activation": "sigmoid", "seed": 99},
    "reuters": {"units": 20, "outputs": 5, "activation": "softmax", "seed": 101},
}
EMBEDDING = 32
DROPOUT = 0.5
MAX_LENGTH = 100  # pad_sequences(maxlen=100): pre-padding, pre-truncation (the last 100 words)
TRAINING = {"optimizer": "rmsprop", "lr": 1e-3, "rho": 0.9, "eps": 1e-7, "batch_size": 64,
            "epochs": 5, "validation_split": 0.1, "loss": "binary_crossentropy"}  # fmt: skip
# The documents whose states are projected and shown [code]
SHOWN_DOCUMENTS = {"imdb": 100, "reuters": 500}
TSNE = {  # sklearn TSNE [code]
    "imdb": {"perplexity": 100, "early_exaggeration": 12.0, "random_state": 9999},
    "reuters": {"perplexity": 100, "early_exaggeration": 12.0, "random_state": 42},
}
PCA_RANDOM_STATE = {"reuters": 99}
CLASSES = {
    "imdb": ["negative", "positive"],
    # the 5 most frequent training topics, in increasing frequency [code]
    "reuters": ["grain", "crude-oil", "money-fx", "acquisition", "earns"],
}
DROPPED_WORD = {"imdb": "br"}  # IMDB's HTML line breaks, removed before padding [code]
# Filters of the views [text/code]
DISTANCE_JUMP = 0.40
CONFIDENCE_CHANGE = 0.30

# Keras' datasets [code: keras.datasets]: the published files and their digests
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
KERAS_FILES = {
    "imdb": {
        "npz": ("imdb.npz", "sha256",
                "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"),
        "word_index": ("imdb_word_index.json", "md5", "bfafd718b763782e994055a2d397834f"),
    },
    "reuters": {
        "npz": ("reuters.npz", "sha256",
                "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"),
        "word_index": ("reuters_word_index.json", "md5", "4d44cc38712099c9e383dc6e5f11a921"),
    },
}  # fmt: skip
KERAS_SEED = 113  # load_data's shuffle
KERAS_TEST_SPLIT = 0.2  # Reuters: the last 20 % of the shuffled wires
START, OOV, INDEX_FROM = 1, 2, 3  # ids: 0 padding, 1 start, 2 out-of-vocabulary
# Keras' Reuters topic names, by label id (keras.datasets.reuters.get_label_names)
REUTERS_TOPICS = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi",
    "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei",
    "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip
