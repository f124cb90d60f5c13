"""The strategy interface: what to try next, given everything tried so far."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from modeltune.space import SearchSpace

if TYPE_CHECKING:
    from modeltune.stopping.base import StoppingRule

ObjectiveType = Literal["Maximize", "Minimize"]
RUNNING_STATUSES = frozenset({"Pending", "InProgress", "Stopping"})


@dataclass(frozen=True)
class Observation:
    """One training job as a strategy sees it.

    Attributes:
        hyperparameters: the tuned values it ran (or runs) with.
        status: a training-job status; ``Pending``/``InProgress``/``Stopping`` mean running.
        objective: its final objective value as reported (not sign-flipped), or None.
        source: ``""`` for this tuning job's own training jobs, else the warm-start parent's name.
        transfer: True for a TransferLearning parent's training job (a related but different
            function: trust it only as far as the data supports); False for own training jobs
            and IdenticalDataAndAlgorithm parents (the same function).
        curve: intermediate objective values as ``(step, value)`` pairs, oldest first.
        number: the training job's number within its tuning job (1, 2, ...).
    """

    hyperparameters: dict[str, Any]
    status: str
    objective: float | None = None
    source: str = ""
    transfer: bool = False
    curve: tuple[tuple[float, float], ...] = field(default=())
    number: int = 0

    @property
    def running(self) -> bool:
        """True while the training job has not finished."""
        return self.status in RUNNING_STATUSES


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
    """

    def __init__(self, space: SearchSpace, objective_type: ObjectiveType, random_seed: int):
        self.space = space
        self.objective_type = objective_type
        self.random_seed = random_seed

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
        return observation.objective if self.objective_type == "Minimize" else -observation.objective
