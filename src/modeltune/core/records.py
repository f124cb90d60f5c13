"""Frozen records that several layers pass around: a metric value, and a training job as a strategy sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from modeltune.core.status import RUNNING_TRAINING


def utcnow() -> datetime:
    """Now in UTC, without tzinfo (as the store keeps times)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class MetricValue:
    """One value of a metric emitted by a training job."""

    name: str
    value: float
    step: float
    timestamp: datetime


@dataclass(frozen=True)
class Observation:
    """One training job as strategies and stopping rules see it.

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
        return self.status in RUNNING_TRAINING
