"""Several tuning jobs side by side: one summary row per job."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from modeltune.analytics.describe import status_counters
from modeltune.core import best_training_job, utcnow
from modeltune.spec import TuningJobSpec
from modeltune.store import Store, TrainingJob
from modeltune.store import repository as repo

COMPARE_COLUMNS = [
    "TuningJobName",
    "Status",
    "Strategy",
    "ObjectiveMetric",
    "ObjectiveType",
    "BestObjectiveValue",
    "BestTrainingJobName",
    "TrainingJobsToBest",
    "ElapsedSeconds",
    "TrainingJobs",
    "Completed",
    "Failed",
    "Stopped",
    "InProgress",
]


def _jobs_to_best(jobs: Sequence[TrainingJob], best: TrainingJob | None) -> int | None:
    """How many training jobs had started when the best one started (1 = the first one was best)."""
    if best is None:
        return None
    started = sorted((j for j in jobs if j.started_at), key=lambda j: (j.started_at, j.number))
    return next(i for i, j in enumerate(started, 1) if j.id == best.id)


def compare(store: Store, jobs: Sequence[str]) -> pd.DataFrame:
    """One row per tuning job: best value, training jobs needed to reach it, elapsed time, counts by status.

    ``ElapsedSeconds`` runs from the tuning job's creation to its end (or to now while it runs).

    Raises:
        NotFoundError: one of ``jobs`` is not in the store.
    """
    rows = []
    for name in jobs:
        job = repo.get_tuning_job(store, name)
        spec = TuningJobSpec.model_validate(job.spec)
        training_jobs = repo.list_training_jobs(store, job.id)
        best = best_training_job(training_jobs, spec.objective.type)
        rows.append(
            {
                "TuningJobName": job.name,
                "Status": job.status.value,
                "Strategy": spec.strategy,
                "ObjectiveMetric": spec.objective.metric,
                "ObjectiveType": spec.objective.type,
                "BestObjectiveValue": best.final_objective if best else None,
                "BestTrainingJobName": best.name if best else None,
                "TrainingJobsToBest": _jobs_to_best(training_jobs, best),
                "ElapsedSeconds": ((job.ended_at or utcnow()) - job.created_at).total_seconds(),
                "TrainingJobs": len(training_jobs),
                **status_counters(training_jobs),
            }
        )
    frame = pd.DataFrame(rows, columns=COMPARE_COLUMNS)
    frame["BestObjectiveValue"] = frame["BestObjectiveValue"].astype(float)
    frame["TrainingJobsToBest"] = frame["TrainingJobsToBest"].astype("Int64")
    return frame
