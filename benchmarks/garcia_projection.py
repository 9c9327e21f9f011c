"""Garcia et al.'s projection at their Reuters size, and the linked-views page that shows it.

    python benchmarks/garcia_projection.py [--documents 500 --words 100 --units 20
                                            --perplexity 30 --threads 1 --skip-browser]

States: --documents sequences of --words steps of a --units-dimensional leaky random walk whose
drift depends on the document's class (5 classes), i.e. clusters and trajectories as an LSTM's
states are. Both t-SNEs get the same float32 matrix, 2 components, the same perplexity, PCA
initialisation, --threads threads, and run in their own subprocess so each one's peak memory
(max RSS) is its own:

- ours: openTSNE (FFT-accelerated gradients, the default for large n);
- baseline: scikit-learn's TSNE (Barnes-Hut), what the authors' code uses.

Then the linked-views page of the same rows is written and loaded in headless Chromium (Debian's
chromium; --skip-browser without it): the time from navigation to the first drawn state, and the
page's size. The ratio printed is baseline time / ours.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_states(documents: int, words: int, units: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, documents)
    drift = rng.normal(size=(5, units)) * 0.3
    states = np.empty((documents, words, units), dtype=np.float32)
    h = np.zeros((documents, units))
    for t in range(words):
        h = 0.9 * h + drift[labels] + 0.5 * rng.normal(size=(documents, units))
        states[:, t] = np.tanh(h)
    return states.reshape(-1, units), labels


_CHILD = """
import json, resource, sys, time
import numpy as np
method, path, perplexity, threads = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
X = np.load(path)
start = time.perf_counter()
if method == "opentsne":
    from openTSNE import TSNE
    Y = np.asarray(TSNE(n_components=2, perplexity=perplexity, initialization="pca",
                        n_jobs=threads, random_state=0).fit(X))
else:
    from sklearn.manifold import TSNE
    Y = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=0,
             n_jobs=threads).fit_transform(X)
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "max_rss_mb": rss, "finite": bool(np.isfinite(Y).all())}))
"""


def run_tsne(method: str, matrix_path: Path, perplexity: float, threads: int) -> dict:
    env = {"OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "PATH": "/usr/bin:/bin"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, method, str(matrix_path), str(perplexity), str(threads)],
        check=True, capture_output=True, text=True, env=env,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def page_load(states: np.ndarray, labels: np.ndarray, words: int, folder: Path) -> dict:
    import pandas as pd

    from rnnatlas.analysis.trajectories import views_table
    from rnnatlas.figures.linked_views import linked_views_html

    documents = len(labels)
    index = pd.DataFrame(
        {
            "sequence_id": np.repeat(np.arange(documents), words),
            "t": np.tile(np.arange(words), documents),
            "token": np.tile([f"w{k}" for k in range(words)], documents),
        }
    )
    rng = np.random.default_rng(1)
    ep = rng.dirichlet(np.ones(5), size=len(index))
    views = views_table(index, states, ep, [f"c{k}" for k in range(5)],
                        targets=np.repeat(labels, words))  # fmt: skip
    projection = index[["sequence_id", "t"]].assign(x=states[:, 0], y=states[:, 1])
    page = linked_views_html(views, projection, folder / "explorer.html", "benchmark")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from headless import browser

    driver = browser()
    try:
        start = time.perf_counter()
        driver.get(page.resolve().as_uri())
        # get() returns after the load event; the page draws while loading
        if driver.execute_script("return document.body.dataset.sequence") is None:
            raise RuntimeError("the linked-views page did not draw")
        seconds = time.perf_counter() - start
    finally:
        driver.quit()
    return {"seconds": seconds, "page_mb": page.stat().st_size / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--words", type=int, default=100)
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--perplexity", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()
    states, labels = make_states(args.documents, args.words, args.units)
    print(
        f"{len(states):,} states of {args.units} units ({args.documents} documents x "
        f"{args.words} words), perplexity {args.perplexity:g}, {args.threads} thread(s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        matrix = Path(tmp) / "states.npy"
        np.save(matrix, states)
        ours = run_tsne("opentsne", matrix, args.perplexity, args.threads)
        print(f"openTSNE:     {ours['seconds']:8.1f} s, max RSS {ours['max_rss_mb']:7.0f} MB")
        base = run_tsne("sklearn", matrix, args.perplexity, args.threads)
        print(f"scikit-learn: {base['seconds']:8.1f} s, max RSS {base['max_rss_mb']:7.0f} MB")
        print(f"ratio (scikit-learn / openTSNE): {base['seconds'] / ours['seconds']:.2f}x time, "
              f"{base['max_rss_mb'] / ours['max_rss_mb']:.2f}x memory")  # fmt: skip
        if not args.skip_browser:
            load = page_load(states, labels, args.words, Path(tmp))
            print(f"linked views: {load['page_mb']:.1f} MB page, loaded and drawn in Chromium in "
                  f"{load['seconds']:.2f} s")  # fmt: skip
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this process: max RSS {rss:.0f} MB)")


if __name__ == "__main__":
    main()
