"""The published numbers of Madsen 2019 (Distill, "Visualizing memorization in RNNs").

Sources: the article's text and tables ([text]) and the author's code
(github distillpub/post--memorization-in-rnns, [code]).
"""

from __future__ import annotations

PAPER = "Madsen 2019 (Distill, Visualizing memorization in RNNs)"
MODELS = ("gru", "lstm", "nlstm")
DISPLAY = {"gru": "GRU", "lstm": "LSTM", "nlstm": "Nested LSTM"}

# [text] the article's test table: cross-entropy (nats, mean over sequences of each sequence's
# masked mean) and accuracy (% of all characters, batch 1, no padding).
TEST = {
    "gru": {"cross_entropy": 2.1170, "accuracy": 52.01},
    "lstm": {"cross_entropy": 2.1713, "accuracy": 51.40},
    "nlstm": {"cross_entropy": 2.4950, "accuracy": 47.10},
}
TEST_SOURCE = "[text] the article's test table (one trained network per model, no spread given)"

# [text] top-1 accuracy (%) given 0..7 letters of the current word known (0 = only its space).
LETTERS = tuple(range(8))
LETTERS_TOP1 = {
    "gru": (16.5, 38.3, 55.6, 65.8, 67.8, 67.3, 66.0, 66.5),
    "lstm": (16.7, 37.6, 53.9, 64.1, 67.0, 67.0, 65.9, 66.9),
    "nlstm": (13.7, 32.6, 49.2, 59.1, 62.2, 62.6, 61.9, 63.5),
}
TOP3_AT_0 = {"gru": 26.5, "lstm": 26.7, "nlstm": 22.4}
LETTERS_SOURCE = (
    "[text] the article's accuracy-given-letters-known graph; the author's test batches of 16 "
    "count padded positions (always misses) at high letters-known values"
)

# [text] final training / validation loss (nats) after 2 epochs.
STEPS = 14_278  # 7,139 batches of 64 per epoch x 2 epochs
FINAL_LOSS = {
    "gru": {"train_loss": 1.949, "valid_loss": 1.998},
    "lstm": {"train_loss": 2.133, "valid_loss": 2.243},
    "nlstm": {"train_loss": 2.431, "valid_loss": 2.616},
}
TRAINING_SECONDS = (22_400, 23_000)  # [text] per model, on the author's hardware

# [code/text] the configuration.
CONFIG = {
    "units": 600,
    "layers": {"gru": 2, "lstm": 2, "nlstm": 1},
    "vocabulary_bits": 14,
    "classes": 2**14 + 2,  # 16,384 words + <eos> + <unknown>
    "symbols": 28,
    "max_chars": 200,
    "batch_size": 64,
    "steps": STEPS,
    "train_sequences": 456_896,
    "source": "zip",
    "text8_zip_bytes": 31_344_016,
    "characters": 10**8,
}
# [text] trainable parameters per part of the 600-unit models.
PARAMETERS = {
    "embedding": 16_200,
    "recurrent": {"gru": 4_323_600, "lstm": 5_764_800, "nlstm": 5_764_800},
    "dense": 9_847_986,
}
