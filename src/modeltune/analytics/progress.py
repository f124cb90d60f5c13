"""What a tuning job has done so far, for progress bars and summaries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modeltune.core import TrainingJobStatus, TuningJobStatus, best_training_job
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
    def of(cls, job: TuningJob, spec: TuningJobSpec, jobs: Sequence[TrainingJob]) -> Progress:
        """Summarise ``jobs`` of ``job``."""
        best = best_training_job(jobs, spec.objective.type)
        return cls(
            status=job.status,
            total=spec.max_jobs,
            done=sum(j.status.terminal for j in jobs),
            running=sum(j.status.running for j in jobs),
            failed=sum(j.status == TrainingJobStatus.FAILED for j in jobs),
            best_value=best.final_objective if best else None,
            best_name=best.name if best else None,
        )
