"""Several tuning jobs side by side: one summary row per job."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from modeltune.core import utcnow
from modeltune.spec import TuningJobSpec
from modeltune.store import Store, aggregates
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
        counts = aggregates.training_job_counts(store, [job.id])[job.id]
        best = aggregates.best_training_job(store, job.id, spec.objective.type)
        rows.append(
            {
                "TuningJobName": job.name,
                "Status": job.status.value,
                "Strategy": spec.strategy,
                "ObjectiveMetric": spec.objective.metric,
                "ObjectiveType": spec.objective.type,
                "BestObjectiveValue": best.final_objective if best else None,
                "BestTrainingJobName": best.name if best else None,
                # How many training jobs had started when the best one started (1: the first was best).
                "TrainingJobsToBest": aggregates.started_before(store, best) if best else None,
                "ElapsedSeconds": ((job.ended_at or utcnow()) - job.created_at).total_seconds(),
                "TrainingJobs": counts.total,
                **counts.counters(),
            }
        )
    frame = pd.DataFrame(rows, columns=COMPARE_COLUMNS)
    frame["BestObjectiveValue"] = frame["BestObjectiveValue"].astype(float)
    frame["TrainingJobsToBest"] = frame["TrainingJobsToBest"].astype("Int64")
    return frame
