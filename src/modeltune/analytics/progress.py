"""What a tuning job has done so far, for progress bars and summaries."""

from __future__ import annotations

from dataclasses import dataclass

from modeltune.core import TrainingJobCounts, TrainingJobStatus, TuningJobStatus
from modeltune.spec import TuningJobSpec
from modeltune.store import TrainingJob, TuningJob


@dataclass(frozen=True)
class Progress:
    """Counts of a tuning job's training jobs and its best value so far."""

    status: TuningJobStatus
    total: int
    done: int
    running: int
    failed: int
    best_value: float | None
    best_name: str | None

    @classmethod
    def of(cls, job: TuningJob, spec: TuningJobSpec, counts: TrainingJobCounts, best: TrainingJob | None) -> Progress:
        """The progress of ``job`` from the counts of its training jobs and its best one."""
        return cls(
            status=job.status,
            total=spec.max_jobs,
            done=counts.ended,
            running=counts.running,
            failed=counts[TrainingJobStatus.FAILED],
            best_value=best.final_objective if best else None,
            best_name=best.name if best else None,
        )
