"""The objective's direction, and which training job is best under it."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol, TypeVar

from modeltune.core.status import TrainingJobStatus


class ObjectiveType(StrEnum):
    """Whether the objective metric is maximised or minimised (SageMaker's ``Type``)."""

    MAXIMIZE = "Maximize"
    MINIMIZE = "Minimize"

    def loss(self, value: float) -> float:
        """``value`` as something to minimise: itself for Minimize, its negation for Maximize."""
        return value if self is ObjectiveType.MINIMIZE else -value


class _Scored(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def final_objective(self) -> float | None: ...

    @property
    def number(self) -> int: ...


Job = TypeVar("Job", bound=_Scored)


def jobs_not_improving(losses: Sequence[float]) -> int:
    """How many of ``losses`` (in the order their training jobs ended) came after the last new best."""
    if not losses:
        return 0
    best_at = min(range(len(losses)), key=lambda i: (losses[i], i))
    return len(losses) - 1 - best_at


def best_training_job(jobs: Sequence[Job], objective_type: str) -> Job | None:
    """The training job with the best final objective (ties: the lowest number), or None.

    Completed training jobs come first: a stopped job's last value was measured
    earlier in training (e.g. before it would have overfitted), so it wins only
    when no training job completed.
    """
    direction = ObjectiveType(objective_type)
    with_value = [j for j in jobs if j.final_objective is not None]
    scored = [j for j in with_value if j.status == TrainingJobStatus.COMPLETED] or [
        j for j in with_value if j.status == TrainingJobStatus.STOPPED
    ]
    if not scored:
        return None
    return min(scored, key=lambda j: (direction.loss(float(j.final_objective or 0.0)), j.number))
