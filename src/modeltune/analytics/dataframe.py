"""Training jobs as pandas DataFrames: SageMaker's analytics table and the metric values over steps."""

from __future__ import annotations

from typing import Any

import pandas as pd

from modeltune.spec import TuningJobSpec
from modeltune.store import Store, aggregates
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
# Prefix of the columns holding the last value of every metric other than the objective.
METRIC_PREFIX = "metric:"
CURVE_COLUMNS = ["TuningJobName", "TrainingJobName", "TrainingJobStatus", "metric", "step", "value", "timestamp"]


def _utc(moment: Any) -> Any:
    """``moment`` as a UTC ``pd.Timestamp``, or ``NaT`` when there is none."""
    return pd.Timestamp(moment, tz="UTC") if moment else pd.NaT


def trials_dataframe(store: Store, name: str) -> pd.DataFrame:
    """One row per training job: a column per tuned hyperparameter, then SageMaker's columns.

    Like SageMaker's ``HyperparameterTuningJobAnalytics.dataframe()``, plus ``TuningJobName``
    (as amtviz adds), ``FailureReason``, ``ModelArtifacts`` (the URI of its model.tar.gz),
    ``ObjectiveSteps`` (how many objective values the training job emitted), ``metric:<name>``, the
    last value of every other metric, and
    ``WarmStartType`` / ``WarmStartParents`` (comma-separated) for a warm-started job.

    Raises:
        NotFoundError: no tuning job is called ``name``.
    """
    job = repo.get_tuning_job(store, name)
    spec = TuningJobSpec.model_validate(job.spec)
    tuned = list(spec.ranges)
    objective = spec.objective.metric
    others = [m.name for m in spec.training.metric_definitions if m.name != objective]
    training_jobs = repo.list_training_jobs(store, job.id)
    steps, last = aggregates.metric_summary(store, job.id, objective, others)
    warm = spec.warm_start
    warm_columns = {
        "WarmStartType": warm.type if warm else None,
        "WarmStartParents": ",".join(warm.parents) if warm else None,
    }
    rows = []
    for t in training_jobs:
        row: dict[str, Any] = {hp: t.hyperparameters.get(hp) for hp in tuned}
        row.update(
            {
                "TrainingJobName": t.name,
                "TrainingJobStatus": t.status.value,
                "FinalObjectiveValue": t.final_objective,
                "TrainingStartTime": t.started_at,
                "TrainingEndTime": t.ended_at,
                "TrainingElapsedTimeSeconds": t.elapsed_seconds,
                "TuningJobName": job.name,
                "FailureReason": t.status_reason,
                "ModelArtifacts": t.artifact_uri,
                "ObjectiveSteps": steps.get(t.id, 0),
                **warm_columns,
            }
        )
        row.update({f"{METRIC_PREFIX}{m}": last.get((t.id, m)) for m in others})
        rows.append(row)
    extra = ["FailureReason", "ModelArtifacts", "ObjectiveSteps", *[f"{METRIC_PREFIX}{m}" for m in others]]
    frame = pd.DataFrame(rows, columns=[*tuned, *COLUMNS, *extra, *warm_columns])
    for column in ["FinalObjectiveValue", "TrainingElapsedTimeSeconds", *extra[3:]]:
        frame[column] = frame[column].astype(float)
    frame["ObjectiveSteps"] = frame["ObjectiveSteps"].astype(int)
    for column in ["TrainingStartTime", "TrainingEndTime"]:  # stored as naive UTC; converted in one call
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def curves_dataframe(store: Store, name: str) -> pd.DataFrame:
    """Every metric value every training job emitted: one row per value, in emission order.

    Columns: ``TuningJobName``, ``TrainingJobName``, ``TrainingJobStatus``, ``metric``, ``step``,
    ``value``, ``timestamp`` (UTC) and ``IsObjective``.

    Raises:
        NotFoundError: no tuning job is called ``name``.
    """
    job = repo.get_tuning_job(store, name)
    spec = TuningJobSpec.model_validate(job.spec)
    training_jobs = repo.list_training_jobs(store, job.id)
    values = repo.metric_values(store, [t.id for t in training_jobs])
    rows = [
        (job.name, t.name, t.status.value, v.name, v.step, v.value, _utc(v.timestamp))
        for t in training_jobs
        for v in values[t.id]
    ]
    frame = pd.DataFrame(rows, columns=CURVE_COLUMNS)
    frame["step"] = frame["step"].astype(float)
    frame["value"] = frame["value"].astype(float)
    frame["IsObjective"] = frame["metric"] == spec.objective.metric
    return frame
