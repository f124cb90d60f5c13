"""How many training jobs of a tuning job are in each status: counted in memory or by the store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from modeltune.core.status import TrainingJobStatus


class _Counted(Protocol):
    @property
    def status(self) -> TrainingJobStatus: ...

    @property
    def final_objective(self) -> float | None: ...

    @property
    def retryable(self) -> bool: ...

    @property
    def ended_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class TrainingJobCounts:
    """Training jobs by status, with what describe and progress bars add to that.

    Attributes:
        by_status: how many training jobs have each status (absent: none).
        retryable_failures: Failed training jobs whose failure was not the code's fault.
        with_objective: Completed or Stopped training jobs that have a final objective value.
        last_ended_at: when the last training job ended (None while none has).
    """

    by_status: Mapping[TrainingJobStatus, int] = field(default_factory=dict)
    retryable_failures: int = 0
    with_objective: int = 0
    last_ended_at: datetime | None = None

    @classmethod
    def of(cls, jobs: Iterable[_Counted]) -> TrainingJobCounts:
        """Count ``jobs`` (training job records) in memory."""
        by_status: dict[TrainingJobStatus, int] = {}
        retryable = scored = 0
        last: datetime | None = None
        for job in jobs:
            by_status[job.status] = by_status.get(job.status, 0) + 1
            retryable += job.status == TrainingJobStatus.FAILED and job.retryable
            scored += job.status.scored and job.final_objective is not None
            if job.ended_at is not None and (last is None or job.ended_at > last):
                last = job.ended_at
        return cls(by_status, retryable, scored, last)

    def __getitem__(self, status: TrainingJobStatus) -> int:
        return self.by_status.get(status, 0)

    @property
    def total(self) -> int:
        """Every training job, retries included."""
        return sum(self.by_status.values())

    @property
    def running(self) -> int:
        """Pending, InProgress and Stopping training jobs."""
        return sum(n for status, n in self.by_status.items() if status.running)

    @property
    def ended(self) -> int:
        """Completed, Failed and Stopped training jobs."""
        return sum(n for status, n in self.by_status.items() if status.terminal)

    def counters(self) -> dict[str, int]:
        """Completed, Failed, Stopped, and still running as ``InProgress`` (SageMaker's counter names)."""
        return {
            "Completed": self[TrainingJobStatus.COMPLETED],
            "Failed": self[TrainingJobStatus.FAILED],
            "Stopped": self[TrainingJobStatus.STOPPED],
            "InProgress": self.running,
        }
