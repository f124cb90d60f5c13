"""The stopping-rule interface: should a running training job end now?"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from modeltune.core import ObjectiveType, Observation, TrainingJobStatus


@dataclass(frozen=True)
class StopDecision:
    """Why a training job should end, and the status it ends with.

    ``Completed`` is for a job that has used its full resource (Hyperband's
    ``max_resource``); ``Stopped`` is for one stopped early.
    """

    reason: str
    status: TrainingJobStatus = TrainingJobStatus.STOPPED


class StoppingRule(ABC):
    """Decides, each time a running training job reports new intermediate objective values,
    whether it should stop.

    Called by the controller (one thread) with the job as an ``Observation`` whose
    ``curve`` holds its objective values so far, and the tuning job's history (every
    training job with its curve). Rules are stateless: the same job and history give
    the same decision, so a restarted controller decides as the first one would.

    Args:
        objective_type: ``"Maximize"`` or ``"Minimize"``.
    """

    def __init__(self, objective_type: ObjectiveType | str):
        self.objective_type = ObjectiveType(objective_type)

    @abstractmethod
    def should_stop(self, job: Observation, history: Sequence[Observation]) -> StopDecision | None:
        """A decision to stop ``job`` now, or None to let it run."""

    def loss(self, value: float) -> float:
        """``value`` as something to minimise."""
        return self.objective_type.loss(value)


def value_at(curve: Sequence[tuple[float, float]], step: float) -> float | None:
    """The latest value reported at or before ``step`` (None if there is none)."""
    found = None
    for s, v in curve:
        if s > step:
            break
        found = v
    return found


def reached(curve: Sequence[tuple[float, float]], step: float) -> bool:
    """Whether the curve has a value at ``step`` or later."""
    return bool(curve) and curve[-1][0] >= step
