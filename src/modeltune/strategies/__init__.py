"""Search strategies behind one small interface (see ``Strategy``).

Implementations load on first use, so that reading the store (``modeltune list``)
does not pay for scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

from modeltune.space import SearchSpace
from modeltune.strategies.base import ObjectiveType, Observation, Strategy

# Strategy name -> "module:class"; "Bayesian" is the default of tuning jobs.
STRATEGIES: dict[str, str] = {
    "Random": "modeltune.strategies.random_search:RandomStrategy",
    "Grid": "modeltune.strategies.grid_search:GridStrategy",
    "Bayesian": "modeltune.strategies.bayesian:BayesianStrategy",
    "Hyperband": "modeltune.strategies.hyperband:HyperbandStrategy",
}


def strategy_class(name: str) -> type[Strategy]:
    """The class implementing the strategy called ``name``."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    module, _, cls = STRATEGIES[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def make_strategy(
    name: str, space: SearchSpace, objective_type: ObjectiveType, random_seed: int, **options: Any
) -> Strategy:
    """The strategy called ``name`` for this space, objective direction and seed (``options``: its settings)."""
    return strategy_class(name)(space, objective_type, random_seed, **options)


__all__ = ["Observation", "ObjectiveType", "STRATEGIES", "Strategy", "make_strategy", "strategy_class"]
