"""Numbers the papers report, with their source tags ([code], [text], [calc]). Facts, not code."""

from __future__ import annotations

# Juven & Hinaut 2020, ESN, mean of 5 networks, % error (valid, exact) [code data].
# Their script's protocol differs from Variengien's, which we follow: training sentences drawn
# 50/50 one-/two-object, test sentences outside the training set, and a decoding that accepts
# the top concept of a group when its output is >= 0.6 and its softmax (beta 2.2) probability
# >= 0.1, instead of a softmax of beta 1 with threshold 1.3 / group size [code].
JUVEN_PROTOCOL = (
    "checked with Juven's own protocol and reservoir (csl-n*-center-juven, csl.juven.model): his "
    "grammar with 'center', 1000 training sentences each drawn one- or two-object with p 1/2 "
    "and redrawn when repeated, 1000 test sentences outside the training set, a concept "
    "accepted when its output is >= 0.6 and its softmax (beta 2.2) probability >= 0.1; dense "
    "U(-1, 1) input weights without bias. The ESN vs LSTM comparison uses Variengien's 300/700 "
    "split, beta 1, threshold 1.3/group size and reservoir"
)
JUVEN_NETWORKS = 5
JUVEN_TEST_SENTENCES = 1000
JUVEN_MAIN = {  # 4 objects, 1000 units, 1000 training sentences
    "esn": (0.58, 6.50),  # online RLS
    "esn_offline": (0.56, 6.24),  # offline ridge
}
JUVEN_PROTOCOL_SIZES = {"train_sentences": 1000, "test_sentences": 1000}
JUVEN_DECODE = {"beta": 2.2, "threshold": 0.1, "rule": "absolute", "min_output": 0.6}
# The sweeps pass through the main configuration (1000 units, 1000 training sentences).
JUVEN_MAIN_CONFIGURATION = {"units": 1000, "sentences": 1000}
JUVEN_UNITS = {100: (33.19, 38.19), 300: (4.28, 9.16), 500: (1.51, 6.43), 1000: (0.53, 6.29)}
JUVEN_SENTENCES = {100: (53.6, 73.5), 300: (16.9, 28.6), 500: (5.07, 14.2), 1000: (0.585, 6.32)}
JUVEN_OBJECTS = {5: (0.76, 6.82), 10: (3.20, 9.57), 20: (9.74, 14.94), 50: (69.19, 72.06)}

# Juven's "center" variant (a synonym of "middle") [text]: (one-object, two-object) sentences.
JUVEN_CENTER_COUNTS = {4: (880, 774_400)}

# Corpus sizes [calc]: (one-object, two-object, concepts, output dim).
CSL_COUNTS = {
    3: (516, 266_256, 10, 20),
    4: (688, 473_344, 11, 22),
    50: (8_600, 73_960_000, 57, 114),
}

# The paper's ESN and LSTM hyperparameters (Variengien & Hinaut 2020) [code].
PAPER_ESN = {
    "units": 1000,
    "spectral_radius": 1.1,
    "density": 0.85,
    "leak": 0.05,
    "input_scaling": 1.0,
    "input_density": 0.1,
    "bias": True,
}
# Juven & Hinaut's own reservoir (echo_state_network.py of aJuvenn/JuvenHinaut2020_IJCNN): the
# same recurrent matrix, leak and spectral radius, but dense U(-1, 1) input weights and no bias.
JUVEN_ESN = {**PAPER_ESN, "input_density": 1.0, "input_distribution": "uniform", "bias": False}
PAPER_LSTM = {"units": 20, "epochs": 35, "batch_size": 2, "lr": 0.001}
PAPER_LSTM_PARAMETERS = 3742
PAPER_SPLIT = {"train": [300, 700], "test": [300, 700]}
