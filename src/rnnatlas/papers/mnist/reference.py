"""What Horoi, Geadah, Lajoie & Wolf 2020 report (Canadian AI 2020; no public code): the numbers
and statements of the slides and abstract ([text]). Facts, not code."""

MNIST_PAPER = "Horoi, Geadah, Lajoie & Wolf 2020 (sequential MNIST)"
PAPER_ACCURACY = 93.0  # % on the MNIST test set, 200-unit vanilla RNN, 30 epochs [text, slides]
PAPER_UNITS = 200  # tanh units [text, slides]
PAPER_EPOCHS = 30  # [text, slides]
PAPER_CYCLES = 2  # "trajectories settle into two limit cycles" [text, slides]
