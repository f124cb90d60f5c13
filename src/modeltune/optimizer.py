"""Ask/tell access to the strategies, for notebooks and benchmark harnesses."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from modeltune.errors import SpecError
from modeltune.space import SearchSpace
from modeltune.strategies import ObjectiveType, Observation, make_strategy


class Optimizer:
    """Suggests configurations and learns from their results, without a store or processes.

    Asked-but-not-told configurations count as running training jobs, exactly as
    in a tuning job, so ``ask(4)`` behaves like four parallel slots.

    Args:
        ranges: name -> range in the spec's shape, e.g. ``{"type": "Integer", "min": 1, "max": 10}``.
        objective_type: ``"Maximize"`` or ``"Minimize"``.
        strategy: ``"Bayesian"``, ``"Random"``, ``"Grid"``, ...
        random_seed: makes the suggestions reproducible; drawn at random when None.
    """

    def __init__(
        self,
        ranges: Mapping[str, Any],
        objective_type: ObjectiveType = "Maximize",
        strategy: str = "Bayesian",
        random_seed: int | None = None,
    ):
        if objective_type not in ("Maximize", "Minimize"):
            raise SpecError(f"objective_type must be 'Maximize' or 'Minimize', not {objective_type!r}")
        try:
            self.space = SearchSpace(ranges)
            seed = random.SystemRandom().randrange(2**31) if random_seed is None else random_seed
            self._strategy = make_strategy(strategy, self.space, objective_type, seed)
        except ValueError as exc:
            raise SpecError(str(exc).splitlines()[0]) from None
        self._history: list[Observation] = []

    def ask(self, count: int = 1) -> list[dict[str, Any]]:
        """Up to ``count`` new configurations; fewer when a finite space is used up."""
        batch = self._strategy.suggest(list(self._history), count)
        self._history.extend(Observation(dict(hp), "InProgress") for hp in batch)
        return batch

    def tell(self, hyperparameters: Mapping[str, Any], value: float | None) -> None:
        """Record the result of an asked configuration (None for a failed evaluation)."""
        key = self.space.key(hyperparameters)
        for i, obs in enumerate(self._history):
            if obs.running and self.space.key(obs.hyperparameters) == key:
                status = "Failed" if value is None else "Completed"
                self._history[i] = Observation(obs.hyperparameters, status, None if value is None else float(value))
                return
        raise ValueError("tell() got a configuration that was not asked, or was already told")

    @property
    def history(self) -> list[Observation]:
        """Every asked configuration with its status and value, oldest first."""
        return list(self._history)
