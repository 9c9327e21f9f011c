"""Analyses that turn model outputs and hidden states into numbers.

The public entry points (README, "Bring your own model or states") load lazily, so importing one
analysis does not import torch or scikit-dimension for the others.
"""

from __future__ import annotations

from importlib import import_module

_PUBLIC = {
    "lyapunov_spectrum": "rnnatlas.analysis.lyapunov",
    "intrinsic_dimension": "rnnatlas.analysis.dimension",
    # the module is callable too: `rnnatlas.analysis.connectivity(...)` works either way
    "connectivity": "rnnatlas.analysis.connectivity",
    "memory_signature": "rnnatlas.analysis.memory_signature",
    "fixed_points": "rnnatlas.analysis.fixed_point_finder",
    "expected_predictions": "rnnatlas.analysis.trajectories",
    "state_distances": "rnnatlas.analysis.trajectories",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'rnnatlas.analysis' has no attribute {name!r}")
