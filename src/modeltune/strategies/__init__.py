"""Search strategies behind one small interface (see ``Strategy``), and the stopping rule that goes with one.

Implementations load on first use, so that reading the store (``modeltune list``)
does not pay for scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

from modeltune.core import ObjectiveType
from modeltune.space import SearchSpace
from modeltune.stopping import MedianStoppingRule, StoppingRule
from modeltune.strategies.base import Strategy

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
    found: type[Strategy] = getattr(importlib.import_module(module), cls)
    return found


def make_strategy(
    name: str,
    space: SearchSpace,
    objective_type: ObjectiveType | str,
    random_seed: int,
    max_jobs: int | None = None,
    **options: Any,
) -> Strategy:
    """The strategy called ``name`` for this space, objective direction, seed and budget of training jobs
    (``max_jobs``, None when unlimited); ``options``: the strategy's own settings."""
    return strategy_class(name)(space, objective_type, random_seed, max_jobs=max_jobs, **options)


def stopping_rule_for(
    strategy: Strategy, early_stopping: str = "Off", min_steps: int = 3, min_peers: int = 3
) -> StoppingRule | None:
    """The strategy's own rule (Hyperband's), else the median rule when early stopping is ``Auto``, else None."""
    rule = strategy.stopping_rule()
    if rule is None and early_stopping == "Auto":
        rule = MedianStoppingRule(strategy.objective_type, min_steps, min_peers)
    return rule


__all__ = ["STRATEGIES", "Strategy", "make_strategy", "stopping_rule_for", "strategy_class"]
