"""Training jobs as a pandas DataFrame with SageMaker's analytics column names."""

from __future__ import annotations

import pandas as pd

from modeltune.spec import TuningJobSpec
from modeltune.store import Store
from modeltune.store import repository as repo

COLUMNS = [
    "TrainingJobName",
    "TrainingJobStatus",
    "FinalObjectiveValue",
    "TrainingStartTime",
    "TrainingEndTime",
    "TrainingElapsedTimeSeconds",
    "TuningJobName",
]


def trials_dataframe(store: Store, name: str) -> pd.DataFrame:
    """One row per training job: a column per tuned hyperparameter, then SageMaker's columns.

    Like SageMaker's ``HyperparameterTuningJobAnalytics.dataframe()``, plus
    ``TuningJobName`` (as amtviz adds) and ``FailureReason``.
    """
    job = repo.get_tuning_job(store, name)
    spec = TuningJobSpec.model_validate(job.spec)
    tuned = list(spec.ranges)
    rows = []
    for t in repo.list_training_jobs(store, job.id):
        row = {hp: t.hyperparameters.get(hp) for hp in tuned}
        row.update(
            {
                "TrainingJobName": t.name,
                "TrainingJobStatus": t.status,
                "FinalObjectiveValue": t.final_objective,
                "TrainingStartTime": pd.Timestamp(t.started_at, tz="UTC") if t.started_at else pd.NaT,
                "TrainingEndTime": pd.Timestamp(t.ended_at, tz="UTC") if t.ended_at else pd.NaT,
                "TrainingElapsedTimeSeconds": t.elapsed_seconds,
                "TuningJobName": job.name,
                "FailureReason": t.status_reason,
            }
        )
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*tuned, *COLUMNS, "FailureReason"])
    frame["FinalObjectiveValue"] = frame["FinalObjectiveValue"].astype(float)
    frame["TrainingElapsedTimeSeconds"] = frame["TrainingElapsedTimeSeconds"].astype(float)
    return frame
