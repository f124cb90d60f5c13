"""Ask/tell access to the strategies, for notebooks and benchmark harnesses."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from modeltune.core import ObjectiveType, Observation, StrategyName, TrainingJobStatus
from modeltune.errors import SpecError
from modeltune.space import SearchSpace
from modeltune.spec.loader import describe_validation_error
from modeltune.spec.models import SearchSettings
from modeltune.stopping import StopDecision
from modeltune.strategies import make_strategy, stopping_rule_for


class Optimizer:
    """Suggests configurations and learns from their results, without a store or processes.

    Asked-but-not-told configurations count as running training jobs, exactly as
    in a tuning job, so ``ask(4)`` behaves like four parallel slots.

    Args:
        ranges: name -> range in the spec's shape, e.g. ``{"type": "Integer", "min": 1, "max": 10}``.
        objective_type: ``"Maximize"`` or ``"Minimize"``.
        strategy: ``"Bayesian"``, ``"Random"``, ``"Grid"``, ``"Hyperband"``.
        random_seed: makes the suggestions reproducible; drawn at random when None.
        early_stopping: ``"Off"``, ``"Auto"`` or ``{"type": "Auto", "min_steps": 3, "min_peers": 3}``.
        hyperband: Hyperband's settings, e.g. ``{"min_resource": 1, "max_resource": 27}``.

    With early stopping or Hyperband, ``report`` intermediate values while a
    configuration runs and stop it when a decision comes back.
    """

    def __init__(
        self,
        ranges: Mapping[str, Any],
        objective_type: ObjectiveType | str = ObjectiveType.MAXIMIZE,
        strategy: StrategyName | str = StrategyName.BAYESIAN,
        random_seed: int | None = None,
        early_stopping: str | Mapping[str, Any] = "Off",
        hyperband: Mapping[str, Any] | None = None,
    ):
        settings = _settings(
            ranges=ranges,
            objective_type=objective_type,
            strategy=strategy,
            random_seed=random_seed,
            early_stopping=early_stopping,
            hyperband=hyperband,
        )
        self.space = SearchSpace(settings.ranges)
        seed = random.SystemRandom().randrange(2**31) if settings.random_seed is None else settings.random_seed
        options = settings.hyperband.model_dump() if settings.hyperband else {}
        self._strategy = make_strategy(settings.strategy, self.space, settings.objective_type, seed, **options)
        stopping = settings.early_stopping
        self._rule = stopping_rule_for(self._strategy, stopping.type, stopping.min_steps, stopping.min_peers)
        self._history: list[Observation] = []

    def add_parent(self, hyperparameters: Mapping[str, Any], value: float | None, transfer: bool = False) -> None:
        """Add a warm-start parent's evaluation (``transfer``: from a related, not identical, problem)."""
        self._history.insert(
            sum(1 for o in self._history if o.source),
            Observation(dict(hyperparameters), *_outcome(value), source="parent", transfer=transfer),
        )

    def ask(self, count: int = 1) -> list[dict[str, Any]]:
        """Up to ``count`` new configurations; fewer when a finite space is used up."""
        batch = self._strategy.suggest(list(self._history), count)
        start = self._next_number()
        self._history.extend(
            Observation(dict(hp), TrainingJobStatus.IN_PROGRESS, number=start + i) for i, hp in enumerate(batch)
        )
        return batch

    def report(self, hyperparameters: Mapping[str, Any], value: float, step: float) -> StopDecision | None:
        """Record an intermediate value of a running configuration; a decision means: stop it now.

        After stopping it, ``tell`` its last value (it counts like a stopped training job).
        """
        i = self._running_index(hyperparameters)
        obs = self._history[i]
        self._history[i] = replace(obs, curve=(*obs.curve, (float(step), float(value))))
        if self._rule is None:
            return None
        return self._rule.should_stop(self._history[i], list(self._history))

    def tell(self, hyperparameters: Mapping[str, Any], value: float | None, stopped: bool = False) -> None:
        """Record the result of an asked configuration (None for a failed evaluation; ``stopped`` if ended early)."""
        i = self._running_index(hyperparameters)
        status, objective = _outcome(value, stopped)
        self._history[i] = replace(self._history[i], status=status, objective=objective)

    def observe(self, hyperparameters: Mapping[str, Any], value: float | None) -> None:
        """Record an evaluation that was not asked (a configuration tried by hand, say); None if it failed."""
        missing = [name for name in self.space.names if name not in hyperparameters]
        if missing:
            raise ValueError(f"observe() needs a value for every tuned hyperparameter; missing: {', '.join(missing)}")
        self._history.append(Observation(dict(hyperparameters), *_outcome(value), number=self._next_number()))

    def _next_number(self) -> int:
        """The number of the next own evaluation (parents' are not counted), from 1."""
        return sum(1 for o in self._history if not o.source) + 1

    def _running_index(self, hyperparameters: Mapping[str, Any]) -> int:
        key = self.space.key(hyperparameters)
        for i, obs in enumerate(self._history):
            if obs.running and self.space.key(obs.hyperparameters) == key:
                return i
        raise ValueError("got a configuration that was not asked, or was already told")

    @property
    def history(self) -> list[Observation]:
        """Every asked configuration with its status and value, oldest first."""
        return list(self._history)


def _settings(**arguments: Any) -> SearchSettings:
    """The Optimizer's arguments validated, or SpecError with the spec's one-line message."""
    try:
        return SearchSettings.model_validate(arguments)
    except ValidationError as exc:
        raise SpecError(describe_validation_error(exc, "Optimizer")) from None


def _outcome(value: float | None, stopped: bool = False) -> tuple[TrainingJobStatus, float | None]:
    """The status and objective of an evaluation that returned ``value`` (None: it failed)."""
    if value is None:
        return TrainingJobStatus.FAILED, None
    return (TrainingJobStatus.STOPPED if stopped else TrainingJobStatus.COMPLETED), float(value)
