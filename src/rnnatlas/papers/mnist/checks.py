"""Checks of the mnist config a JSON schema cannot express: epochs, steps, attractor sizes."""

from __future__ import annotations

from collections.abc import Mapping

from rnnatlas.analysis.attractors import MAX_LINKAGE_POINTS

# The keys each ceiling of `limits` bounds (rnnatlas.config.limit_problems)
LIMITED_KEYS = {"units": ("mnist.model.units",), "epochs": ("mnist.model.epochs",)}


def config_problems(config: Mapping) -> list[str]:
    mnist = config["mnist"]
    problems = []
    model = mnist["model"]
    late = [e for e in model["checkpoint_epochs"] if e > model["epochs"]]
    if late:
        problems.append(
            f"mnist.model.checkpoint_epochs: {late[0]} is past mnist.model.epochs "
            f"({model['epochs']}); keep epochs in 0..{model['epochs']}"
        )
    if mnist["states"]["seed"] not in mnist["seeds"]:
        problems.append(
            f"mnist.states.seed: {mnist['states']['seed']} is not in mnist.seeds {mnist['seeds']}"
        )
    last = 28 + mnist["states"]["extend"] - 1
    beyond = [s for s in mnist["tsne"]["steps"] if s > last]
    if beyond:
        problems.append(
            f"mnist.tsne.steps: step {beyond[0]} is past the last recorded step {last} "
            "(28 rows + mnist.states.extend zero rows, 0-based)"
        )
    return problems + _dynamics_problems(mnist)


def _dynamics_problems(mnist: Mapping) -> list[str]:
    problems = []
    lyapunov, attractors = mnist["dynamics"]["lyapunov"], mnist["dynamics"]["attractors"]
    if lyapunov["exponents"] > mnist["model"]["units"]:
        problems.append(
            f"mnist.dynamics.lyapunov.exponents: {lyapunov['exponents']} is more than the "
            f"{mnist['model']['units']} units (mnist.model.units)"
        )
    if attractors["tail"] > attractors["steps"]:
        problems.append(
            f"mnist.dynamics.attractors.tail: {attractors['tail']} is longer than the run "
            f"(attractors.steps = {attractors['steps']})"
        )
    points = attractors["digits"] * attractors["tail"]
    if points > MAX_LINKAGE_POINTS:
        problems.append(
            f"mnist.dynamics.attractors: digits x tail = {points:,} tail points; single linkage "
            f"holds all their distances: keep digits x tail <= {MAX_LINKAGE_POINTS:,}"
        )
    late = [t for t in attractors["phase_times"] if t > attractors["steps"]]
    if late:
        problems.append(
            f"mnist.dynamics.attractors.phase_times: {late[0]} is past the run's last step "
            f"(attractors.steps = {attractors['steps']})"
        )
    return problems
