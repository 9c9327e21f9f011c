"""Intrinsic dimension of a cloud of hidden states (Horoi et al. 2020: class information is
compressed onto an attractor of dimension far below the 200 units).

- ``participation_ratio``: (Σλ)² / Σλ² of the covariance eigenvalues λ (PCA; a linear measure:
  d for an isotropic Gaussian in a d-dimensional subspace, less when variances are unequal).
  Computed here as tr(C)² / ‖C‖_F², which equals it without an eigendecomposition.
- ``twonn``: TwoNN (Facco, d'Errico, Rodriguez & Laio 2017), from the ratio of each point's
  second to first nearest-neighbour distance; ``skdim.id.TwoNN``.
- ``mle``: Levina & Bickel (2005) maximum likelihood on k nearest neighbours, pointwise
  estimates combined as MacKay & Ghahramani's harmonic mean; ``skdim.id.MLE``.
- every other estimator of scikit-dimension by its lower-case class name ("danco", "lpca", ...).

The nearest-neighbour estimators see each distinct point once: exact duplicate rows (common in
hidden states: a trajectory resting on a fixed point) give zero distances, on which TwoNN and the
MLE are undefined (skdim's MLE then silently returns 0), so they are dropped with a warning.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np

# lower-case name -> scikit-dimension class (skdim.id)
_SKDIM = {
    "twonn": "TwoNN",
    "mle": "MLE",
    "corrint": "CorrInt",
    "danco": "DANCo",
    "ess": "ESS",
    "fishers": "FisherS",
    "gride": "GRIDE",
    "knn": "KNN",
    "lpca": "lPCA",
    "mada": "MADA",
    "mind_ml": "MiND_ML",
    "mom": "MOM",
    "ph": "PH",
    "tle": "TLE",
}
METHODS = ("participation_ratio", *_SKDIM)
_ALIASES = {"pr": "participation_ratio"}


def _as_points(X) -> np.ndarray:
    if hasattr(X, "detach"):  # a torch tensor
        X = X.detach().cpu().numpy()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array [points, features], got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinite values")
    return X


def participation_ratio(X) -> float:
    """(Σλ)² / Σλ² of the eigenvalues λ of the covariance of X [points, features]."""
    X = _as_points(X)
    if len(X) < 2:
        raise ValueError(f"participation_ratio needs at least 2 points, got {len(X)}")
    centered = X - X.mean(axis=0)
    # the nonzero eigenvalues of X^T X and X X^T coincide: use the smaller Gram matrix
    gram = centered.T @ centered if X.shape[0] >= X.shape[1] else centered @ centered.T
    total = np.trace(gram)
    if total <= 0:
        raise ValueError("participation_ratio of points with zero variance is undefined")
    return float(total**2 / np.sum(gram * gram))


def _split_kwargs(estimator: type, kwargs: dict) -> tuple[dict, dict]:
    """Keyword arguments for the estimator's constructor and for its fit()."""
    init = set(inspect.signature(estimator.__init__).parameters) - {"self", "args", "kwargs"}
    fit = set(inspect.signature(estimator.fit).parameters) - {"self", "X", "y"}
    unknown = set(kwargs) - init - fit
    if unknown:
        raise TypeError(
            f"skdim.id.{estimator.__name__} takes no argument {sorted(unknown)}; it accepts "
            f"{sorted(init)} (constructor) and {sorted(fit)} (fit)"
        )
    return (
        {key: value for key, value in kwargs.items() if key in init},
        {key: value for key, value in kwargs.items() if key not in init},
    )


def intrinsic_dimension(X, method: str = "participation_ratio", **kwargs) -> float:
    """Intrinsic dimension of the points X [points, features] (numpy, torch or lists).

    method: "participation_ratio" (alias "pr"), "twonn", "mle", or any other name in METHODS
    (scikit-dimension's estimators). kwargs go to the skdim estimator's constructor or fit():
    e.g. ``discard_fraction`` for TwoNN, ``n_neighbors`` (default 20) for the MLE.
    """
    name = _ALIASES.get(str(method).lower(), str(method).lower())
    if name not in METHODS:
        raise ValueError(f"unknown intrinsic-dimension method {method!r}; choose from {METHODS}")
    X = _as_points(X)
    if name == "participation_ratio":
        if kwargs:
            raise TypeError(f"participation_ratio takes no options, got {sorted(kwargs)}")
        return participation_ratio(X)

    import skdim  # imported here: it takes seconds (numba, scikit-learn)

    estimator = getattr(skdim.id, _SKDIM[name])
    init_kwargs, fit_kwargs = _split_kwargs(estimator, kwargs)
    unique = np.unique(X, axis=0)
    if len(unique) < len(X):
        warnings.warn(
            f"intrinsic_dimension({name!r}): dropped {len(X) - len(unique)} duplicate points "
            f"of {len(X)} (zero nearest-neighbour distances)",
            stacklevel=2,
        )
    needed = (fit_kwargs.get("n_neighbors") or 20) if name == "mle" else 2
    if len(unique) < needed + 1:
        raise ValueError(
            f"intrinsic_dimension({name!r}) needs at least {needed + 1} distinct points, got "
            f"{len(unique)}" + (" (or pass a smaller n_neighbors)" if name == "mle" else "")
        )
    if unique.shape[1] == 1:  # skdim wants 2 features; a zero column changes no distance
        unique = np.hstack([unique, np.zeros_like(unique)])
    dimension = float(estimator(**init_kwargs).fit(unique, **fit_kwargs).dimension_)
    if not np.isfinite(dimension):
        raise ValueError(f"intrinsic_dimension({name!r}) gave {dimension} on these points")
    return dimension
