"""The benchmark problems: config -> learning curve at steps 1..max_resource, deterministic given (config, seed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.early_stopping import learners, parametric
from benchmarks.early_stopping.recorded import CurveTable, log_grid


@dataclass(frozen=True)
class Curve:
    """What a training job of one config would report, and its true full-length value.

    Attributes:
        observed: the values it reports at steps 1..max_resource, shape ``(max_resource,)``.
        final: its true value at max_resource (noiseless where the problem has noise).
    """

    observed: np.ndarray
    final: float


@dataclass(frozen=True)
class Problem:
    """An epoch-based tuning problem.

    Attributes:
        name: short id used in results.
        ranges: modeltune ranges (spec shape).
        objective_type: ``"Maximize"`` or ``"Minimize"``.
        max_resource: steps of a full training job.
        tolerance: differences of best objectives up to this count as noise.
        evaluate: ``(config, seed) -> Curve``.
        description: one line for the summary.
    """

    name: str
    ranges: dict[str, dict[str, Any]]
    objective_type: str
    max_resource: int
    tolerance: float
    evaluate: Callable[[dict[str, Any], int], Curve]
    description: str
    table: CurveTable | None = None

    def better(self, a: float, b: float) -> bool:
        """Whether ``a`` is strictly better than ``b``."""
        return a > b if self.objective_type == "Maximize" else a < b


def _parametric(config: dict[str, Any], seed: int) -> Curve:
    steps = PARAMETRIC_STEPS
    return Curve(parametric.observed_curve(config, steps, seed), float(parametric.true_curve(config, steps)[-1]))


def _replay(table: CurveTable) -> Callable[[dict[str, Any], int], Curve]:
    def evaluate(config: dict[str, Any], seed: int) -> Curve:
        values = table.curve(config)
        return Curve(values, float(values[-1]))

    return evaluate


PARAMETRIC_STEPS = 81
DIGITS_STEPS = 27
HGB_STEPS = 27

DIGITS_TABLE = CurveTable(
    "digits_mlp",
    learners.digits_mlp,
    {
        "hidden-units": log_grid(4, 128, 6, integer=True),
        "alpha": log_grid(1e-6, 1.0, 3),
        "learning-rate-init": log_grid(1e-5, 1e-1, 9),
    },
    DIGITS_STEPS,
)
HGB_TABLE = CurveTable(
    "diabetes_hgb",
    learners.diabetes_hgb,
    {
        "learning_rate": log_grid(0.005, 0.5, 9),
        "max_leaf_nodes": log_grid(4, 64, 3, integer=True),
        "min_samples_leaf": log_grid(2, 64, 4, integer=True),
    },
    HGB_STEPS,
)


def _log(kind: str, low: float, high: float) -> dict[str, Any]:
    return {"type": kind, "min": low, "max": high, "scaling": "Logarithmic"}


PROBLEMS: dict[str, Problem] = {
    p.name: p
    for p in [
        Problem(
            "digits_mlp",
            {
                "hidden-units": _log("Integer", 4, 128),
                "alpha": _log("Continuous", 1e-6, 1.0),
                "learning-rate-init": _log("Continuous", 1e-5, 1e-1),
            },
            "Maximize",
            DIGITS_STEPS,
            1 / 450,
            _replay(DIGITS_TABLE),
            "examples/digits-epochs: MLP validation accuracy per partial_fit epoch "
            "(recorded on a 6x3x9 log grid, interpolated)",
            DIGITS_TABLE,
        ),
        Problem(
            "hartmann3_curves",
            parametric.RANGES,
            "Minimize",
            PARAMETRIC_STEPS,
            parametric.SIGMA / 2,
            _parametric,
            f"parametric curves, final value from Hartmann3, crossing curves, noise sigma {parametric.SIGMA}",
        ),
        Problem(
            "diabetes_hgb",
            {
                "learning_rate": _log("Continuous", 0.005, 0.5),
                "max_leaf_nodes": _log("Integer", 4, 64),
                "min_samples_leaf": _log("Integer", 2, 64),
            },
            "Minimize",
            HGB_STEPS,
            0.25,
            _replay(HGB_TABLE),
            f"HistGradientBoosting on diabetes, validation RMSE after each {learners.TREES_PER_STEP} trees "
            "(recorded on a 9x3x4 log grid, interpolated)",
            HGB_TABLE,
        ),
    ]
}
