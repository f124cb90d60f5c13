"""Classic synthetic test functions (minimisation, known optima)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from benchmarks.optimizers.problems.base import Problem, box, vector

_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
_H6_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def branin(c: Mapping[str, Any]) -> float:
    """Branin-Hoo on x0 in [-5, 10], x1 in [0, 15]; minimum 0.397887."""
    x0, x1 = vector(c, 2)
    b, cc, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x1 - b * x0**2 + cc * x0 - 6) ** 2 + 10 * (1 - t) * math.cos(x0) + 10


def _hartmann(x: np.ndarray, a: np.ndarray, p: np.ndarray) -> float:
    return float(-np.sum(_H_ALPHA * np.exp(-np.sum(a * (x - p) ** 2, axis=1))))


def hartmann3(c: Mapping[str, Any]) -> float:
    """Hartmann-3 on [0, 1]^3; minimum -3.86278."""
    return _hartmann(vector(c, 3), _H3_A, _H3_P)


def hartmann6(c: Mapping[str, Any]) -> float:
    """Hartmann-6 on [0, 1]^6; minimum -3.32237."""
    return _hartmann(vector(c, 6), _H6_A, _H6_P)


def rosenbrock4(c: Mapping[str, Any]) -> float:
    """Rosenbrock in 4 dimensions; minimum 0 at all ones."""
    x = vector(c, 4)
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def ackley(c: Mapping[str, Any], n: int = 5) -> float:
    """Ackley; minimum 0 at the origin."""
    x = vector(c, n)
    s1 = -20 * math.exp(-0.2 * math.sqrt(float(np.mean(x**2))))
    return s1 - math.exp(float(np.mean(np.cos(2 * math.pi * x)))) + 20 + math.e


def levy(c: Mapping[str, Any], n: int = 10) -> float:
    """Levy; minimum 0 at all ones."""
    w = 1 + (vector(c, n) - 1) / 4
    head = math.sin(math.pi * w[0]) ** 2
    mid = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2))
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return float(head + mid + tail)


_ACT_SHIFT = {"relu": 1.0, "tanh": -1.0, "sigmoid": 2.0, "linear": 0.0}
_ACT_OFFSET = {"relu": 0.0, "tanh": 0.3, "sigmoid": 1.0, "linear": 2.0}


def mixed(c: Mapping[str, Any]) -> float:
    """A mixed space: the best continuous point moves with the categorical; minimum 0."""
    act = str(c["activation"])
    s = _ACT_SHIFT[act]
    cont = ((float(c["x0"]) - s) ** 2 + (float(c["x1"]) + 0.5 * s) ** 2) / 10
    units = ((math.log2(int(c["units"])) - 4) / 2) ** 2
    depth = ((int(c["depth"]) - 7) / 3) ** 2
    rate = (math.log10(float(c["rate"])) + 2) ** 2 / 4
    keep = (math.log10(1 - float(c["dropout"])) + 2) ** 2 / 4
    return cont + units + depth + rate + keep + _ACT_OFFSET[act]


_ROSENBROCK_RANGES = {
    "x0": {"type": "Continuous", "min": 0.01, "max": 10.0, "scaling": "Logarithmic"},
    "x1": {"type": "Continuous", "min": 0.01, "max": 10.0, "scaling": "Logarithmic"},
    "x2": {"type": "Continuous", "min": -2.0, "max": 2.0, "scaling": "Linear"},
    "x3": {"type": "Continuous", "min": -2.0, "max": 2.0, "scaling": "Linear"},
}
_MIXED_RANGES = {
    "x0": {"type": "Continuous", "min": -5.0, "max": 5.0},
    "x1": {"type": "Continuous", "min": -5.0, "max": 5.0},
    "units": {"type": "Integer", "min": 1, "max": 256, "scaling": "Logarithmic"},
    "depth": {"type": "Integer", "min": 1, "max": 10},
    "activation": {"type": "Categorical", "values": ["relu", "tanh", "sigmoid", "linear"]},
    "rate": {"type": "Discrete", "values": [0.0001, 0.001, 0.01, 0.1, 1.0], "scaling": "Logarithmic"},
    "dropout": {"type": "Continuous", "min": 0.5, "max": 0.999, "scaling": "ReverseLogarithmic"},
}


def _names(n: int) -> list[str]:
    return [f"x{i}" for i in range(n)]


SYNTHETIC = [
    Problem("branin", "synthetic", box(["x0"], -5, 10) | box(["x1"], 0, 15), branin, 0.397887, 0.0, "Branin-Hoo, 2D"),
    Problem("hartmann3", "synthetic", box(_names(3), 0, 1), hartmann3, -3.86278, 0.0, "Hartmann, 3D on [0,1]"),
    Problem("hartmann6", "synthetic", box(_names(6), 0, 1), hartmann6, -3.32237, 0.0, "Hartmann, 6D on [0,1]"),
    Problem(
        "rosenbrock4",
        "synthetic",
        _ROSENBROCK_RANGES,
        rosenbrock4,
        0.0,
        0.0,
        "Rosenbrock, 4D; x0,x1 Logarithmic on [0.01,10], x2,x3 Linear on [-2,2]",
    ),
    Problem(
        "ackley5",
        "synthetic",
        box(_names(5), -15, 30),
        ackley,
        0.0,
        0.0,
        "Ackley, 5D on [-15,30] (optimum off-centre on purpose)",
    ),
    Problem("levy10", "synthetic", box(_names(10), -10, 10), levy, 0.0, 0.0, "Levy, 10D on [-10,10]"),
    Problem(
        "mixed7",
        "synthetic",
        _MIXED_RANGES,
        mixed,
        0.0,
        0.0,
        "7D: 2 linear floats, log int, linear int, 4-way categorical, log Discrete, ReverseLogarithmic float",
    ),
    Problem(
        "noisy_hartmann6",
        "synthetic",
        box(_names(6), 0, 1),
        hartmann6,
        -3.32237,
        0.1,
        "Hartmann-6 plus Gaussian noise, sd 0.1",
    ),
]
