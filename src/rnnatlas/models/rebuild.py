"""One way back from a model's `hyperparameters()` to the model, shared by the torch models."""

from __future__ import annotations


class Rebuildable:
    """Mixin: `from_hyperparameters(model.hyperparameters())` rebuilds an equal architecture."""

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict):
        """Rebuild a model from `hyperparameters()` (the 'class' entry is checked, then dropped)."""
        arguments = dict(hyperparameters)
        class_name = arguments.pop("class", cls.__name__)
        if class_name != cls.__name__:
            raise ValueError(f"hyperparameters describe a {class_name}, not a {cls.__name__}")
        return cls(**arguments)
