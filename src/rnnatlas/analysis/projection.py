"""2-D projections of hidden states (RSSviz: UMAP of recurrent states; t-SNE and PCA) and the
numbers behind them.

Everything here works on plain arrays or on a states table in the public Parquet contract, so it
applies to any model's states: unique-state selection, the UMAP fit, clause labels of the CSL
task, the per-slot error classes of the error map, trustworthiness of a layout, and the nesting of
states by shared prefix (the quantitative check of the "fractal" embedding).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

# The paper's UMAP: 2 components, random_state 42, otherwise umap-learn's defaults.
UMAP_DEFAULTS = {"n_neighbors": 15, "min_dist": 0.1, "metric": "euclidean"}
CLAUSES = ("initial state", "first clause", "and", "second clause", "final word")
SCORE_NAMES = ("invalid", "valid", "exact")


def unique_rows(X: np.ndarray, decimals: int = 6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of X: (unique rows, index of each in X, inverse map X -> unique).

    Sentences that share a prefix pass through identical states; the paper fits UMAP on the
    unique ones. Rows are compared after rounding to `decimals` so float noise from batching does
    not split one state in two. Unique rows keep the order of their first occurrence.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"expected a [rows, units] matrix, got shape {X.shape}")
    key = np.round(X.astype(np.float64), decimals)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # unique ids in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    first = first[order]
    return X[first], first, rank[inverse.reshape(-1)]


def sample_sequences(ids: Sequence[int], count: int, seed: int = 42) -> np.ndarray:
    """`count` distinct sequence ids drawn at random (seeded), kept in their original order.

    Test splits list one-object sentences before two-object ones, so their head is no sample.
    """
    ids = np.asarray(pd.unique(np.asarray(ids)))
    if count > len(ids):
        raise ValueError(
            f"{count} sentences asked for, the states file holds {len(ids)}: lower the count "
            "(csl.rssviz.sentences / csl.units.delta_sentences) or dump more states"
        )
    picked = np.random.default_rng(seed).choice(len(ids), size=count, replace=False)
    return ids[np.sort(picked)]


@dataclass
class Layout:
    """A fitted 2-D layout: the reducer and the embedding of the fitted rows."""

    reducer: object
    embedding: np.ndarray
    fit_seconds: float


def tsne(
    X: np.ndarray, perplexity: float = 30.0, seed: int = 0, early_exaggeration: float = 12.0
) -> np.ndarray:
    """2-D t-SNE (scikit-learn, PCA initialisation) of the rows of X."""
    from sklearn.manifold import TSNE

    X = np.asarray(X, dtype=np.float32)
    if len(X) <= 3 * perplexity:
        raise ValueError(
            f"t-SNE with perplexity {perplexity} needs more than {3 * perplexity:g} points, "
            f"got {len(X)}: lower the perplexity or project more states"
        )
    model = TSNE(n_components=2, perplexity=perplexity, early_exaggeration=early_exaggeration,
                 init="pca", random_state=seed)  # fmt: skip
    return model.fit_transform(X)


def pca(X: np.ndarray, seed: int = 0) -> np.ndarray:
    """The rows of X on their first two principal axes (scikit-learn)."""
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit_transform(np.asarray(X, dtype=np.float64))


def exact_neighbors(X: np.ndarray, k: int, metric: str = "euclidean"):
    """The k exact nearest neighbours of every row (itself first), as UMAP expects them."""
    from sklearn.neighbors import NearestNeighbors

    search = NearestNeighbors(n_neighbors=k, metric=metric, algorithm="brute").fit(X)
    distances, indices = search.kneighbors(X)
    return indices, distances.astype(np.float32)


def _cache_umap_kernels() -> None:
    """Let numba cache umap-learn's compiled kernels on disk (numba's own `enable_caching`).

    umap-learn compiles most of its kernels without `cache=True`, so every new process spends
    ~10 s compiling before the first fit; each pipeline step is a new process. With the cache
    only the first process pays. Caching is an optimisation: any failure leaves numba as it was.
    """
    try:
        from numba.core.registry import CPUDispatcher
        from umap import layouts, spectral, umap_, utils

        for module in (umap_, layouts, utils, spectral):
            for kernel in vars(module).values():
                if (
                    isinstance(kernel, CPUDispatcher)
                    and kernel._cache.__class__.__name__ == "NullCache"
                ):
                    kernel.enable_caching()
    except Exception:  # the layout does not depend on it
        pass


def fit_umap(X: np.ndarray, params: Mapping | None = None, random_state: int | None = 42) -> Layout:
    """UMAP to 2 components with the paper's parameters (umap-learn defaults + random_state).

    The k-nearest-neighbour graph is computed exactly (scikit-learn, brute force) and handed to
    umap-learn, which computes it exactly itself below 4,096 points and approximately (with
    pynndescent, whose numba kernels take a minute to compile) above. A fixed random_state makes
    the layout reproducible (umap-learn then optimises single-threaded).
    """
    import warnings

    import umap  # imported lazily: numba compilation costs seconds

    _cache_umap_kernels()
    options = {**UMAP_DEFAULTS, **dict(params or {})}
    X = np.asarray(X, dtype=np.float32)
    if len(X) <= options["n_neighbors"]:
        raise ValueError(
            f"UMAP needs more points ({len(X)}) than n_neighbors ({options['n_neighbors']}); "
            "use more sentences or a smaller csl.rssviz.umap.n_neighbors"
        )
    start = time.perf_counter()
    knn = exact_neighbors(X, options["n_neighbors"], options["metric"])
    reducer = umap.UMAP(
        n_components=2, random_state=random_state, precomputed_knn=(*knn, None), **options
    )
    with warnings.catch_warnings():  # the expected notes: no transform, single-threaded
        warnings.filterwarnings("ignore", message=".*(knn_search_index|n_jobs value).*")
        embedding = reducer.fit_transform(X)
    return Layout(reducer, np.asarray(embedding), time.perf_counter() - start)


def trustworthiness(X: np.ndarray, embedding: np.ndarray, n_neighbors: int = 10) -> float:
    """How far the k nearest neighbours in the layout are true neighbours (1 = perfect)."""
    from sklearn.manifold import trustworthiness as sk_trustworthiness

    return float(sk_trustworthiness(np.asarray(X), np.asarray(embedding), n_neighbors=n_neighbors))


# ------------------------------------------------------------------------- the CSL task


def clause_labels(tokens: Sequence[str]) -> list[str]:
    """Clause of each word of a CSL sentence (BEGIN ... [and ...] END).

    Words up to "and" belong to the first clause (BEGIN included), "and" is its own class, words
    after it to the second clause, and END is the final word.
    """
    labels, seen_and = [], False
    for token in tokens:
        if token == "END":
            labels.append("final word")
        elif token == "and":
            labels.append("and")
            seen_and = True
        else:
            labels.append("second clause" if seen_and else "first clause")
    return labels


def slot_scores(decoded: np.ndarray, stated: np.ndarray) -> np.ndarray:
    """int [N, 2]: per sentence and object slot, 0 invalid, 1 valid, 2 exact.

    decoded/stated are [N, 2, 3] concept indices (-1 = none), as in analysis.csl_metrics. A slot is
    valid when every attribute the sentence states for it is decoded, exact when all three decoded
    attributes equal the stated ones (unstated ones decoded as none).
    """
    decoded, stated = np.asarray(decoded), np.asarray(stated)
    if decoded.shape != stated.shape or decoded.shape[1:] != (2, 3):
        raise ValueError(f"expected two [N, 2, 3] arrays, got {decoded.shape} and {stated.shape}")
    matches = decoded == stated
    valid = np.where(stated >= 0, matches, True).all(axis=2)
    exact = matches.all(axis=2)
    return valid.astype(int) + exact.astype(int)


def error_classes(scores: np.ndarray) -> np.ndarray:
    """The error map's 9 classes: score of object 1 + 3 × score of object 2."""
    scores = np.asarray(scores)
    return scores[:, 0] + 3 * scores[:, 1]


def error_class_name(code: int) -> str:
    first, second = code % 3, code // 3
    return f"obj1 {SCORE_NAMES[first]} / obj2 {SCORE_NAMES[second]}"


# ------------------------------------------------------------------------- nesting


def prefix_nesting(
    final_states: np.ndarray,
    tokens: Sequence[Sequence[str]],
    max_length: int | None = None,
    kind: str = "prefix",
    min_pairs: int = 20,
) -> pd.DataFrame:
    """How states of sentences sharing a history of length L cluster, for L = 1, 2, ...

    For each L, sentences are grouped by their first L words after BEGIN (kind "prefix") or by
    their last L words before END (kind "suffix"). `within` is the mean Euclidean distance between
    the final states of two sentences of the same group (all such pairs pooled), `ratio` that
    mean over the mean distance between any two final states. A nested (fractal-like) embedding
    shrinks the ratio steadily as the shared history grows. Lengths with fewer than `min_pairs`
    pairs are dropped.
    """
    if kind not in ("prefix", "suffix"):
        raise ValueError(f"kind must be 'prefix' or 'suffix', got {kind!r}")
    X = np.asarray(final_states, dtype=np.float64)
    if len(X) != len(tokens):
        raise ValueError(f"{len(X)} final states for {len(tokens)} sentences")
    words = [_inner_words(t) for t in tokens]
    overall = _mean_pairwise(X)
    if not overall > 0:
        raise ValueError("all final states coincide: nesting is undefined")
    longest = max(len(w) for w in words)
    rows = []
    for length in range(1, (max_length or longest) + 1):
        groups: dict[tuple, list[int]] = {}
        for i, w in enumerate(words):
            if len(w) > length:  # a proper prefix/suffix: the sentences still differ somewhere
                key = tuple(w[:length]) if kind == "prefix" else tuple(w[-length:])
                groups.setdefault(key, []).append(i)
        total, pairs, n_groups = 0.0, 0, 0
        for members in groups.values():
            if len(members) < 2:
                continue
            n = len(members)
            total += _mean_pairwise(X[members]) * n * (n - 1) / 2
            pairs += n * (n - 1) // 2
            n_groups += 1
        if pairs < min_pairs:
            continue
        within = total / pairs
        rows.append(
            {
                "kind": kind,
                "length": length,
                "groups": n_groups,
                "pairs": pairs,
                "within": within,
                "ratio": within / overall,
            }
        )
    return pd.DataFrame(rows, columns=["kind", "length", "groups", "pairs", "within", "ratio"])


def nesting_summary(table: pd.DataFrame) -> dict:
    """Monotonicity and geometric shrinkage of a prefix_nesting curve.

    `monotone` is true when the ratio decreases at every step, `spearman` is the rank correlation
    of the ratio with L (-1: always falling); `log_slope`/`r2` come from a
    least-squares line through log(ratio) versus L (a constant contraction per word gives a
    straight line, the signature of self-similar nesting); `factor` = exp(log_slope).
    """
    if len(table) < 3:
        return {"points": len(table), "monotone": None, "log_slope": None, "r2": None}
    from scipy.stats import spearmanr

    L = table["length"].to_numpy(dtype=float)
    y = np.log(table["ratio"].to_numpy(dtype=float))
    slope, intercept = np.polyfit(L, y, 1)
    residual = y - (slope * L + intercept)
    total = ((y - y.mean()) ** 2).sum()
    r2 = float(1 - (residual**2).sum() / total) if total > 0 else 1.0
    return {
        "points": len(table),
        "monotone": bool(np.all(np.diff(table["ratio"].to_numpy()) < 0)),
        "spearman": float(spearmanr(L, table["ratio"].to_numpy()).statistic),
        "log_slope": float(slope),
        "factor": float(np.exp(slope)),
        "r2": r2,
        "first_ratio": float(table["ratio"].iloc[0]),
        "last_ratio": float(table["ratio"].iloc[-1]),
        "lengths": [int(table["length"].iloc[0]), int(table["length"].iloc[-1])],
    }


def _inner_words(tokens: Sequence[str]) -> list[str]:
    words = list(tokens)
    if words and words[0] == "BEGIN":
        words = words[1:]
    if words and words[-1] == "END":
        words = words[:-1]
    return words


def _mean_pairwise(X: np.ndarray) -> float:
    """Mean Euclidean distance over all unordered pairs of rows (Gram-matrix form)."""
    n = len(X)
    if n < 2:
        return float("nan")
    sq = (X**2).sum(axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0.0)
    iu = np.triu_indices(n, k=1)
    return float(np.sqrt(d2[iu]).mean())
