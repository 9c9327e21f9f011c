"""The sequential-MNIST figures draw from their tables (smoke test with hand-made tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnnatlas.papers.mnist import figures as mnist


def test_every_mnist_figure_is_written(tmp_path):
    rows = [
        {"seed": s, "variant": v, "n": n, "accuracy": 0.5 + 0.01 * n}
        for s in (0, 1)
        for v in ("cut", "hidden", "extended")
        for n in range(29)
    ]
    rng = np.random.default_rng(0)
    embeddings = pd.DataFrame(
        {"step": np.repeat([3, 27, 40], 50), "x": rng.normal(size=150), "y": rng.normal(size=150),
         "label": np.tile(np.arange(10), 15)}
    )  # fmt: skip
    separability = pd.DataFrame(
        {"step": [3, 27, 40], "knn_accuracy": [0.3, 0.9, 0.5], "silhouette": [0.0, 0.3, 0.1]}
    )
    lyapunov = pd.DataFrame({"seed": [0, 0, 1, 1], "epoch": [0, 5, 0, 5],
                             "lambda_max": [0.2, 0.0, 0.25, -0.01]})  # fmt: skip
    projected = pd.DataFrame(
        {"part": np.repeat(["transient", "attractor"], 20),
         "trajectory": np.tile(np.repeat([0, 1], 10), 2), "step": np.tile(np.arange(10), 4),
         "pc1": rng.normal(size=40), "pc2": rng.normal(size=40),
         "label": np.tile(np.repeat([3, 7], 10), 2)}
    )  # fmt: skip
    dimension = pd.DataFrame({"t": np.tile(np.arange(5), 2),
                              "method": np.repeat(["twonn", "pr"], 5),
                              "dimension": rng.uniform(1, 5, 10)})  # fmt: skip
    phase = pd.DataFrame({"seed": [0, 0], "t": [0, 100], "phase_accuracy": [0.3, 0.2],
                          "state_accuracy": [0.8, 0.2], "chance": [0.11, 0.11]})  # fmt: skip
    paths = mnist.accuracy_vs_n(pd.DataFrame(rows), tmp_path)
    paths += mnist.tsne_panels(embeddings, separability, tmp_path)
    paths += mnist.lyapunov_before_after(lyapunov, tmp_path)
    summary = {"pca_explained": [0.5, 0.4], "set_kinds": {"closed_curve": 1}, "steps": 10}
    paths += mnist.attractor_trajectories(projected, summary, tmp_path)
    paths += mnist.attractors_per_network(
        {0: projected, 3: projected}, {0: summary, 3: {"set_kinds": {"fixed_point": 2}}}, tmp_path
    )
    paths += mnist.dimension_by_step(dimension, 1.1, tmp_path, all_twonn=[1.1, 0.9, None])
    paths += mnist.phase_decoding(phase, tmp_path)
    assert len(paths) == 14
    assert all(p.stat().st_size > 5000 for p in paths)
