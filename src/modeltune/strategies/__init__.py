"""Search strategies behind one small interface (see ``Strategy``)."""

from __future__ import annotations

from modeltune.space import SearchSpace
from modeltune.strategies.base import Observation, ObjectiveType, Strategy
from modeltune.strategies.bayesian import BayesianStrategy
from modeltune.strategies.grid_search import GridStrategy
from modeltune.strategies.random_search import RandomStrategy

STRATEGIES: dict[str, type[Strategy]] = {"Random": RandomStrategy, "Grid": GridStrategy, "Bayesian": BayesianStrategy}


def make_strategy(name: str, space: SearchSpace, objective_type: ObjectiveType, random_seed: int) -> Strategy:
    """The strategy called ``name`` for this space, objective direction and seed."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    return STRATEGIES[name](space, objective_type, random_seed)


__all__ = ["Observation", "ObjectiveType", "STRATEGIES", "Strategy", "make_strategy"]
