"""A parametric learning-curve family whose final value comes from Hartmann3 (minimised).

For ``x = (x1, x2, x3, speed)`` in the unit cube and step ``t = 1..R``::

    q(x)     = (hartmann3(x1, x2, x3) + 3.86278) / 3.86278          # 0 at Hartmann3's optimum
    y_inf(x) = 0.05 + 0.6 * q + 0.25 * speed**2                     # fast schedules end worse
    rate(x)  = (0.2 + 1.3 * speed) * (1.3 - 0.6 * x3)               # the optimum (x3 = 0.85) learns slowly
    y(t)     = y_inf + (1 - y_inf) * (1 + t) ** -rate
    observed = y(t) + SIGMA * N(0, 1), independent per step, seeded by (seed, config)

The best final value (about 0.159 at R = 81) needs ``speed`` near 0.47, so configs that
look best in the first two or three steps (high ``speed``) are not the best at the end.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

SIGMA = 0.01
_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
_H3_MIN = -3.86278

RANGES = {name: {"type": "Continuous", "min": 0.0, "max": 1.0} for name in ("x1", "x2", "x3", "speed")}


def hartmann3(x: np.ndarray) -> float:
    """The Hartmann3 function (minimum -3.86278 at (0.1146, 0.5556, 0.8525))."""
    return float(-(_ALPHA * np.exp(-((_A * (x - _P) ** 2).sum(1)))).sum())


def true_curve(config: dict[str, Any], steps: int) -> np.ndarray:
    """The noiseless curve ``y(t)`` at ``t = 1..steps``."""
    x = np.array([config["x1"], config["x2"], config["x3"]], dtype=float)
    speed = float(config["speed"])
    q = (hartmann3(x) - _H3_MIN) / -_H3_MIN
    y_inf = 0.05 + 0.6 * q + 0.25 * speed**2
    rate = (0.2 + 1.3 * speed) * (1.3 - 0.6 * x[2])
    t = np.arange(1, steps + 1, dtype=float)
    return y_inf + (1.0 - y_inf) * (1.0 + t) ** -rate


def observed_curve(config: dict[str, Any], steps: int, seed: int) -> np.ndarray:
    """The noisy curve a training job would report, deterministic given (config, seed)."""
    digest = hashlib.sha256(repr(sorted((k, float(v)) for k, v in config.items())).encode()).digest()
    rng = np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])
    return true_curve(config, steps) + SIGMA * rng.standard_normal(steps)
