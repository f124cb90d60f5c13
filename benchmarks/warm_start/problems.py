"""Warm-start problems: a child objective, a related parent objective and an unrelated one.

All are minimised and noise-free. The related parent is the same problem with its
optimum shifted (synthetic) or on another subset of the data (scikit-learn); the
unrelated parent is the child's objective negated, the worst case: its best
configurations are the child's worst.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from benchmarks.optimizers.problems import get_problem
from benchmarks.optimizers.problems.cache import round_log
from benchmarks.warm_start import digits_example

Objective = Callable[[Mapping[str, Any]], float]


@dataclass(frozen=True)
class WarmProblem:
    """A child problem and its two TransferLearning parents' problems."""

    name: str
    ranges: dict[str, dict[str, Any]]
    child: Objective
    related: Objective
    description: str

    def unrelated(self, config: Mapping[str, Any]) -> float:
        """The negated child objective (the worst case for transfer)."""
        return -self.child(config)


def _shifted(name: str, fraction: float) -> Objective:
    """The problem's objective with its optimum moved by ``fraction`` of every linear range's width."""
    problem = get_problem(name)

    def func(config: Mapping[str, Any]) -> float:
        moved = dict(config)
        for key, r in problem.ranges.items():
            lo, hi = r["min"], r["max"]
            moved[key] = min(hi, max(lo, float(config[key]) + fraction * (hi - lo)))
        return problem.func(moved)

    return func


@cache
def _breast_cancer_half() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    keep = np.random.default_rng(1).permutation(len(y))[: len(y) // 2]
    return x[keep], y[keep]


@cache
def _svm_half(c: float, gamma: float) -> float:
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    model = make_pipeline(StandardScaler(), SVC(C=c, gamma=gamma))
    cv = StratifiedKFold(3, shuffle=True, random_state=1)
    return 1.0 - float(cross_val_score(model, *_breast_cancer_half(), cv=cv).mean())


def svm_half_error(c: Mapping[str, Any]) -> float:
    """1 - 3-fold CV accuracy of the scaled RBF SVC on a random half of breast_cancer."""
    return _svm_half(round_log(float(c["C"])), round_log(float(c["gamma"])))


def _from_benchmark(name: str, shift: float, description: str) -> WarmProblem:
    problem = get_problem(name)
    return WarmProblem(name, problem.ranges, problem.func, _shifted(name, shift), description)


def problems() -> list[WarmProblem]:
    """Every warm-start problem, cheapest first."""
    svm = get_problem("svm_breast_cancer")
    return [
        _from_benchmark("branin", 0.05, "Branin, 2D; related parent: optimum shifted by 5% of each range"),
        _from_benchmark("hartmann3", 0.1, "Hartmann-3; related parent: optimum shifted by 0.1 per coordinate"),
        _from_benchmark("hartmann6", 0.05, "Hartmann-6; related parent: optimum shifted by 0.05 per coordinate"),
        WarmProblem(
            "svm_breast_cancer",
            svm.ranges,
            svm.func,
            svm_half_error,
            "RBF SVC on breast_cancer (3-fold CV error); related parent: a random half of the data, other folds",
        ),
        WarmProblem(
            "digits_example",
            digits_example.RANGES,
            digits_example.loss,
            lambda c: digits_example.loss(c, subset=1),
            "examples/digits: RandomForest on digits, 1 - weighted F1 on the example's split (tabulated); "
            "related parent: a random half of digits, another split",
        ),
    ]


def get(name: str) -> WarmProblem:
    """The warm-start problem called ``name``."""
    for problem in problems():
        if problem.name == name:
            return problem
    raise ValueError(f"unknown problem {name!r}; choose from {', '.join(p.name for p in problems())}")
