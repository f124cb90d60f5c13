"""The strategy interface: what to try next, given everything tried so far."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from modeltune.core import ObjectiveType, Observation
from modeltune.space import SearchSpace
from modeltune.stopping import StoppingRule


class Strategy(ABC):
    """Suggests hyperparameters for new training jobs.

    A strategy is built once per tuning job (and again after a controller
    restart) and must be deterministic given its constructor arguments and the
    history it is shown, so that a restarted controller continues the same
    search. It holds no state that the history cannot rebuild. It is called from
    one thread at a time; it never launches or stops anything.

    Args:
        space: the tuned ranges.
        objective_type: ``"Maximize"`` or ``"Minimize"``.
        random_seed: the tuning job's seed.
        max_jobs: the tuning job's budget of training jobs (None: not known), so a strategy
            can size its start to it; strategies that do not plan ahead ignore it.
    """

    def __init__(
        self, space: SearchSpace, objective_type: ObjectiveType | str, random_seed: int, *, max_jobs: int | None = None
    ):
        self.space = space
        self.objective_type = ObjectiveType(objective_type)
        self.random_seed = random_seed
        self.max_jobs = max_jobs

    @abstractmethod
    def suggest(self, history: Sequence[Observation], count: int) -> list[dict[str, Any]]:
        """Up to ``count`` new configurations (dicts of tuned values).

        ``history`` holds every training job of the tuning job (and of its warm-start
        parents), completed, failed, stopped and running, oldest first. Returning
        fewer than ``count`` (possibly none) means the space is exhausted.
        """

    def stopping_rule(self) -> StoppingRule | None:
        """The rule this strategy uses to stop running training jobs (Hyperband has one), or None."""
        return None

    def loss(self, observation: Observation) -> float | None:
        """The objective as a value to minimise, or None when there is none."""
        if observation.objective is None:
            return None
        return self.objective_type.loss(observation.objective)
