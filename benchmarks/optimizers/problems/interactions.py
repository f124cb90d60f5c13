"""Problems real spaces look like: categories that move the continuous optimum, irrelevant
dimensions, and many dimensions.

Each categorical-interaction problem has a decoy: a good region that does not depend on (or
exists in) the wrong categories and is easy to find, next to a better optimum whose
continuous location depends on the categorical choice. ``Problem.right`` names the
categories of the global optimum.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from benchmarks.optimizers.problems.base import Problem, box, categorical, log_range, vector
from benchmarks.optimizers.problems.synthetic import hartmann3, hartmann6

# optimizer -> (offset, best log10 learning rate, best momentum, best log10 weight decay, basin width):
# momentum SGD is a broad, easy basin 0.3 above the optimum; Adam's is narrower (good learning rates
# span about a decade) and far from it.
_OPTIMIZERS = {
    "sgd": (0.45, -0.7, 0.9, -4.0, 1.0),
    "momentum": (0.30, -1.5, 0.6, -3.5, 1.2),
    "adam": (0.0, -3.3, 0.15, -5.0, 0.6),
    "rmsprop": (0.20, -2.8, 0.3, -2.5, 0.6),
    "adagrad": (0.60, -1.0, 0.5, -3.0, 0.9),
}
# schedule -> (offset, shift of the best log10 learning rate)
_SCHEDULES = {"cosine": (0.0, 0.0), "step": (0.08, 0.3), "linear": (0.04, 0.1), "constant": (0.15, -0.5)}
_INITS = {"he": 0.0, "xavier": 0.03, "orthogonal": 0.06, "normal": 0.12, "uniform": 0.15, "zeros": 0.8}


def optimizer_lr(c: Mapping[str, Any]) -> float:
    """Training loss of an imagined network: each optimizer has its own best learning rate,
    momentum and weight decay (and basin width); schedule and initialisation mostly add. Minimum 0."""
    offset, lr0, mom0, wd0, width = _OPTIMIZERS[str(c["optimizer"])]
    sched_offset, shift = _SCHEDULES[str(c["schedule"])]
    d2 = ((math.log10(float(c["learning_rate"])) - lr0 - shift) / width) ** 2
    d2 += ((float(c["momentum"]) - mom0) / (0.5 * width)) ** 2
    d2 += ((math.log10(float(c["weight_decay"])) - wd0) / (3.0 * width)) ** 2
    return offset + sched_offset + _INITS[str(c["init"])] + 1.2 * (1.0 - math.exp(-0.5 * d2))


_C0 = ("a", "b", "c", "d")
_C1 = ("p0", "p1", "p2", "p3", "p4")
_C2 = ("q0", "q1", "q2", "q3", "q4", "q5")
# c0 places the category basin in (x0, x1), c1 places it in x2; its depth adds a per-level offset.
_C0_AT = {"a": (0.8, 0.2), "b": (0.15, 0.2), "c": (0.85, 0.15), "d": (0.6, 0.9)}
_C0_DEPTH = {"a": 0.25, "b": 0.4, "c": 0.0, "d": 0.15}
_C1_AT = {"p0": 0.1, "p1": 0.9, "p2": 0.5, "p3": 0.85, "p4": 0.3}
_C1_DEPTH = {"p0": 0.3, "p1": 0.2, "p2": 0.45, "p3": 0.0, "p4": 0.1}
_C2_OFFSET = {"q0": 0.1, "q1": 0.05, "q2": 0.0, "q3": 0.2, "q4": 0.1, "q5": 0.5}
_SHARED_AT = np.array([0.3, 0.7, 0.5])


def shared_decoy(c: Mapping[str, Any]) -> float:
    """Two regimes: a broad basin at the same place for every category (value 0.35), and a
    narrower one whose place and depth depend on c0 (x0, x1) and c1 (x2). Minimum 0."""
    x = vector(c, 3)
    c0, c1 = str(c["c0"]), str(c["c1"])
    at = np.array([*_C0_AT[c0], _C1_AT[c1]])
    shared = 0.35 + 1.6 * (1.0 - math.exp(-float(np.sum((x - _SHARED_AT) ** 2)) / (2 * 0.25**2)))
    own = _C0_DEPTH[c0] + _C1_DEPTH[c1] + 1.6 * (1.0 - math.exp(-float(np.sum((x - at) ** 2)) / (2 * 0.18**2)))
    return _C2_OFFSET[str(c["c2"])] + min(shared, own)


# Hartmann-3's coordinates hidden among six that do nothing.
_RELEVANT = (7, 2, 5)


def hartmann3_in9(c: Mapping[str, Any]) -> float:
    """Hartmann-3 of x7, x2, x5; the other six of x0..x8 do not matter. Minimum -3.86278."""
    x = vector(c, 9)
    return hartmann3({f"x{i}": x[j] for i, j in enumerate(_RELEVANT)})


def hartmann6x4(c: Mapping[str, Any]) -> float:
    """The sum of four Hartmann-6 on disjoint blocks of six of x0..x23. Minimum 4 x -3.32237."""
    x = vector(c, 24)
    return sum(hartmann6({f"x{i}": x[6 * b + i] for i in range(6)}) for b in range(4))


INTERACTIONS = [
    Problem(
        "optimizer_lr",
        "synthetic",
        {
            "optimizer": categorical(tuple(_OPTIMIZERS)),
            "schedule": categorical(tuple(_SCHEDULES)),
            "init": categorical(tuple(_INITS)),
            "learning_rate": log_range(1e-5, 1.0),
            "momentum": {"type": "Continuous", "min": 0.0, "max": 1.0},
            "weight_decay": log_range(1e-7, 1e-1),
        },
        optimizer_lr,
        0.0,
        0.0,
        "optimizer (5) x schedule (4) x init (6) x log learning rate, momentum, log weight decay: "
        "each optimizer has its own best continuous values; a broad decoy 0.3 above the optimum",
        {"optimizer": "adam"},
        0.3,
    ),
    Problem(
        "shared_decoy",
        "synthetic",
        {"c0": categorical(_C0), "c1": categorical(_C1), "c2": categorical(_C2)} | box(["x0", "x1", "x2"], 0, 1),
        shared_decoy,
        0.0,
        0.0,
        "3 categoricals (4, 5, 6 levels) x 3 floats: a broad basin shared by all categories (0.35) and "
        "narrower ones placed by c0 and c1",
        {"c0": "c", "c1": "p3"},
        0.35,
    ),
    Problem(
        "hartmann3_in9",
        "synthetic",
        box([f"x{i}" for i in range(9)], 0, 1),
        hartmann3_in9,
        -3.86278,
        0.0,
        "Hartmann-3 hidden in 9 dims (x7, x2, x5 matter; six do not)",
    ),
    Problem(
        "hartmann6x4",
        "synthetic",
        box([f"x{i}" for i in range(24)], 0, 1),
        hartmann6x4,
        4 * -3.32237,
        0.0,
        "24D: the sum of four Hartmann-6 on disjoint blocks",
    ),
]
