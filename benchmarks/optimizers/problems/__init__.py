"""The benchmark problems: synthetic functions and scikit-learn tuning tasks."""

from __future__ import annotations

from benchmarks.optimizers.problems.base import Problem
from benchmarks.optimizers.problems.interactions import INTERACTIONS
from benchmarks.optimizers.problems.learners import SKLEARN
from benchmarks.optimizers.problems.synthetic import SYNTHETIC

PROBLEMS: dict[str, Problem] = {p.name: p for p in SYNTHETIC + INTERACTIONS + SKLEARN}


def get_problem(name: str) -> Problem:
    """The problem called ``name``."""
    if name not in PROBLEMS:
        raise ValueError(f"unknown problem {name!r}; choose from {', '.join(PROBLEMS)}")
    return PROBLEMS[name]


__all__ = ["PROBLEMS", "Problem", "get_problem"]
