"""What a tuning job has done so far, for progress bars and summaries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modeltune.spec import TuningJobSpec
from modeltune.store import TERMINAL_TRAINING_STATUSES, TrainingJob, TuningJob


def best_training_job(jobs: Sequence[TrainingJob], objective_type: str) -> TrainingJob | None:
    """The training job with the best final objective (ties: the earliest), or None.

    Completed training jobs come first: a stopped job's last value was measured
    earlier in training (e.g. before it would have overfitted), so it wins only
    when no training job completed.
    """
    with_value = [j for j in jobs if j.final_objective is not None]
    scored = [j for j in with_value if j.status == "Completed"] or [j for j in with_value if j.status == "Stopped"]
    if not scored:
        return None
    sign = -1.0 if objective_type == "Maximize" else 1.0
    return min(scored, key=lambda j: (sign * float(j.final_objective or 0.0), j.number))


@dataclass(frozen=True)
class Progress:
    """Counts of a tuning job's training jobs and its best value so far."""

    status: str
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
            done=sum(j.status in TERMINAL_TRAINING_STATUSES for j in jobs),
            running=sum(j.status not in TERMINAL_TRAINING_STATUSES for j in jobs),
            failed=sum(j.status == "Failed" for j in jobs),
            best_value=best.final_objective if best else None,
            best_name=best.name if best else None,
        )
