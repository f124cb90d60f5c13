"""Maximising the acquisition over the mixed space of feasible points.

Candidates come from a scrambled Sobol sweep plus perturbations of the best
points, all snapped to feasible values; the best few are then refined by
alternating L-BFGS-B on the continuous coordinates with exhaustive (or
neighbourhood) moves on the integer, discrete and categorical ones. Small finite
spaces are scored exhaustively instead.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize
from scipy.stats import qmc

from modeltune.strategies.bayesian.encoding import Encoding

# An acquisition over snapped points: values, and optionally the gradient over point coordinates.
Acquisition = Callable[[np.ndarray, bool], tuple[np.ndarray, ...]]

_N_SOBOL = 1024
_N_PERTURBED = 512
_PERTURB_SCALES = (0.01, 0.05, 0.2)
_N_LOCAL = 5
_LOCAL_ROUNDS = 4
_LBFGS_ITERATIONS = 40
# Non-continuous ranges with more values than this are moved by powers of two, not swept.
_MAX_SWEEP = 32


def maximize(
    acquisition: Acquisition, encoding: Encoding, anchors: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Feasible points ordered by decreasing acquisition value.

    Args:
        acquisition: maps snapped points (m, dim) to values; the caller picks the first usable point.
        encoding: the space's snapping rules.
        anchors: good points to perturb, shape ``(a, dim)`` (may be empty).
        rng: source of the Sobol scrambling and perturbations.

    Returns:
        ``(points, values)`` with the best point first.
    """
    every = encoding.enumerate()
    if every is not None:
        values = acquisition(every, False)[0]
        order = np.argsort(-values, kind="stable")
        return every[order], values[order]
    sobol = qmc.Sobol(encoding.dim, scramble=True, seed=rng).random(_N_SOBOL)
    pool = encoding.snap(np.vstack([sobol, _perturb(anchors, encoding, rng)]))
    values = acquisition(pool, False)[0]
    starts = np.argsort(-values, kind="stable")[:_N_LOCAL]
    refined, refined_values = _local_search(acquisition, encoding, pool[starts], values[starts])
    points = np.vstack([refined, pool])
    values = np.concatenate([refined_values, values])
    order = np.argsort(-values, kind="stable")
    return points[order], values[order]


def _perturb(anchors: np.ndarray, encoding: Encoding, rng: np.random.Generator) -> np.ndarray:
    """Copies of the anchors with a few coordinates moved (numeric) or redrawn (categorical)."""
    if len(anchors) == 0:
        return np.empty((0, encoding.dim))
    base = anchors[rng.integers(len(anchors), size=_N_PERTURBED)]
    # Changing a handful of coordinates at a time scales to many dimensions (as in TuRBO).
    mask = rng.random(base.shape) < min(1.0, 3.0 / encoding.dim)
    mask[np.arange(len(base)), rng.integers(encoding.dim, size=len(base))] = True
    scales = np.array(_PERTURB_SCALES)[rng.integers(len(_PERTURB_SCALES), size=len(base))]
    moved = base + rng.normal(size=base.shape) * scales[:, None]
    categorical = np.array([a.kind == "categorical" for a in encoding.axes])
    moved[:, categorical] = rng.random((len(base), int(categorical.sum())))
    return np.where(mask, moved, base)


def _local_search(
    acquisition: Acquisition, encoding: Encoding, points: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Alternate continuous gradient steps and discrete coordinate moves until nothing improves."""
    points, values = points.copy(), values.copy()
    for _ in range(_LOCAL_ROUNDS):
        before = values.copy()
        if encoding.continuous.any():
            points, values = _continuous_step(acquisition, encoding, points, values)
        if not encoding.continuous.all():
            points, values = _discrete_step(acquisition, encoding, points, values)
        if np.all(values <= before + 1e-9):
            break
    return points, values


def _continuous_step(
    acquisition: Acquisition, encoding: Encoding, points: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """L-BFGS-B on the continuous coordinates of all points at once (their sum separates)."""
    cols = np.flatnonzero(encoding.continuous)
    shape = (len(points), len(cols))

    def negative(flat: np.ndarray) -> tuple[float, np.ndarray]:
        trial = points.copy()
        trial[:, cols] = flat.reshape(shape)
        value, grad = acquisition(trial, True)
        return -float(value.sum()), -grad[:, cols].ravel()

    result = minimize(
        negative, points[:, cols].ravel(), jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * (shape[0] * shape[1]),
        options={"maxiter": _LBFGS_ITERATIONS},
    )  # fmt: skip
    trial = points.copy()
    trial[:, cols] = result.x.reshape(shape)
    trial = encoding.snap(trial)
    trial_values = acquisition(trial, False)[0]
    better = trial_values > values
    return np.where(better[:, None], trial, points), np.where(better, trial_values, values)


def _discrete_step(
    acquisition: Acquisition, encoding: Encoding, points: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each point takes its best single-coordinate move over the non-continuous ranges."""
    moves, owners = [], []
    for j in np.flatnonzero(~encoding.continuous):
        choices = encoding.choices(int(j))
        for i, point in enumerate(points):
            if len(choices) <= _MAX_SWEEP:
                options = choices
            else:
                here = int(np.argmin(np.abs(choices - point[j])))
                steps = 2 ** np.arange(int(np.log2(len(choices))) + 1)
                index = np.concatenate([here - steps, here + steps])
                options = choices[index[(index >= 0) & (index < len(choices))]]
            block = np.repeat(point[None, :], len(options), axis=0)
            block[:, j] = options
            moves.append(block)
            owners.append(np.full(len(options), i))
    moves_array, owner = np.vstack(moves), np.concatenate(owners)
    move_values = acquisition(moves_array, False)[0]
    points, values = points.copy(), values.copy()
    for i in range(len(points)):
        mine = np.flatnonzero(owner == i)
        best = mine[np.argmax(move_values[mine])]
        if move_values[best] > values[i]:
            points[i], values[i] = moves_array[best], move_values[best]
    return points, values
